/*
 * protocol.h — the one definition of the wire protocol between
 * libipcbroker (and so the CLI) and ipcbrokerd.
 *
 * Transport: a SOCK_SEQPACKET Unix socket; one packet is one message, at most
 * WIRE_PACKET_MAX bytes. Every client request gets exactly one reply packet
 * with the same serial; a reply to OPEN carries the channel's descriptor as
 * SCM_RIGHTS ancillary data.
 *
 * A connection may carry any number of requests, one at a time. A request
 * with the LAST flag is the connection's final one: the daemon hangs up right
 * after the reply, which spares both sides a round of end-of-file handling
 * for one-shot calls such as an open.
 *
 * Packet = header + attributes. The header carries WIRE_MAGIC and
 * WIRE_VERSION on every message: that is the version handshake. A daemon
 * that does not speak the client's version answers with -EPROTONOSUPPORT and
 * its own version in the header, and the library reports both.
 *
 * Attributes are TLVs: u16 type, u16 length of the data, the data, then zero
 * padding to a multiple of 4. Integers are host byte order (the socket never
 * leaves the host). Strings carry their terminating NUL, which the decoder
 * checks, and no other NUL. A NESTED attribute holds attributes. Every
 * message type has a policy table (wire_policy) that says which attributes
 * it may hold, of which kind, and which are required: the decoder rejects
 * anything else before a handler sees it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WIRE_MAGIC 0x42435049u /* "IPCB" */
#define WIRE_VERSION 1
#define WIRE_PACKET_MAX 32768
#define WIRE_STRING_MAX 4096
#define WIRE_NAME_MAX 128 /* a channel name */
#define WIRE_ATTRS_MAX 64 /* attributes in one (nested) level */
#define WIRE_NEST_DEPTH_MAX 2
#define WIRE_PURGE_NAMES_MAX 16 /* names in one PURGE request (one result each in the reply) */

struct wire_header {
        uint32_t magic;
        uint16_t version;
        uint16_t type;   /* enum wire_type */
        uint32_t serial; /* chosen by the client, echoed in the reply */
        uint32_t length; /* bytes of attributes after the header */
};

enum wire_type {
        WIRE_REQ_OPEN = 1,
        WIRE_REQ_INFO = 2,
        WIRE_REQ_LIST = 3,
        WIRE_REQ_PURGE = 4,
        WIRE_REQ_RELOAD = 5,
        WIRE_REQ_STATUS = 6,
        WIRE_REQ_METRICS = 7, /* paged: daemon-wide counters, and CHANNEL entries with each one's statistics */
        WIRE_REQ_HOLDERS = 8, /* paged: HOLDER entries, every grant still held (admins) or the caller's own */
        WIRE_REQ_WAIT = 9,    /* answered once every NAME is ready, or with ETIMEDOUT after TIMEOUT_MS */
        WIRE_REQ_ACCESS = 10, /* what the caller (or UID, admins only) may do on NAME, and the rule that decides */
        _WIRE_REQ_MAX,
        WIRE_REPLY = 100,
};

enum wire_kind {
        WIRE_KIND_NONE = 0,
        WIRE_KIND_U32,
        WIRE_KIND_U64,
        WIRE_KIND_I64,
        WIRE_KIND_STRING,
        WIRE_KIND_NESTED,
        WIRE_KIND_FLAG, /* no data */
};

enum wire_attr {
        WIRE_ATTR_UNSPEC = 0,
        WIRE_ATTR_ERROR,           /* u32: errno of the outcome, 0 = success (replies) */
        WIRE_ATTR_MESSAGE,         /* string: human explanation (replies) */
        WIRE_ATTR_NAME,            /* string: channel name */
        WIRE_ATTR_ACCESS,          /* u32: WIRE_ACCESS_* */
        WIRE_ATTR_TYPE,            /* u32: WIRE_CHANNEL_* */
        WIRE_ATTR_OWNER,           /* u32 uid */
        WIRE_ATTR_GROUP,           /* u32 gid */
        WIRE_ATTR_MODE,            /* u32 */
        WIRE_ATTR_MAX_MESSAGES,    /* i64 */
        WIRE_ATTR_MESSAGE_SIZE,    /* i64 */
        WIRE_ATTR_MESSAGES,        /* i64: queued now, -1 unknown */
        WIRE_ATTR_BYTES,           /* i64: bytes queued now, -1 unknown */
        WIRE_ATTR_CAPACITY,        /* i64: fifo pipe size, -1 n/a */
        WIRE_ATTR_MQ_FLAGS,        /* i64 */
        WIRE_ATTR_KERNEL_NAME,     /* string: queue name or FIFO path */
        WIRE_ATTR_STATE,           /* u32: WIRE_STATE_* */
        WIRE_ATTR_PROBLEM,         /* string: why a channel is unavailable */
        WIRE_ATTR_ON_STOP,         /* string */
        WIRE_ATTR_SEND_LIST,       /* string: principals */
        WIRE_ATTR_RECV_LIST,       /* string: principals */
        WIRE_ATTR_OPENS,           /* u64: opens granted */
        WIRE_ATTR_DENIALS,         /* u64 */
        WIRE_ATTR_CHANNEL,         /* nested: one channel (LIST, PURGE replies) */
        WIRE_ATTR_CURSOR,          /* string: LIST continues after this name */
        WIRE_ATTR_ALL,             /* flag: PURGE every channel */
        WIRE_ATTR_PURGED_MESSAGES, /* u64 */
        WIRE_ATTR_PURGED_BYTES,    /* u64 */
        WIRE_ATTR_VERSION,         /* string: daemon version */
        WIRE_ATTR_PID,             /* u32 */
        WIRE_ATTR_UPTIME,          /* u64 seconds */
        WIRE_ATTR_CONFIG_FILE,     /* string */
        WIRE_ATTR_CHANNELS,        /* u64 */
        WIRE_ATTR_CHANNELS_READY,  /* u64 */
        WIRE_ATTR_CLIENTS,         /* u64 */
        WIRE_ATTR_CONNECTIONS,     /* u64 */
        WIRE_ATTR_REQUESTS,        /* u64 */
        WIRE_ATTR_OPENS_TOTAL,     /* u64 */
        WIRE_ATTR_DENIED,          /* u64 */
        WIRE_ATTR_RELOADS,         /* u64 */
        WIRE_ATTR_SOCKET,          /* string */
        WIRE_ATTR_FRAMING,         /* u32: WIRE_FRAMING_* (FIFO channels) */
        WIRE_ATTR_LAST,            /* flag, any request: the client sends nothing after it; the
                                      daemon closes the connection once it has replied */
        WIRE_ATTR_START_TIME,      /* u64: the daemon's start, Unix seconds */
        WIRE_ATTR_RELOAD_FAILURES, /* u64 */
        WIRE_ATTR_SAMPLE_INTERVAL, /* u64 milliseconds between depth samples, 0 = off */
        WIRE_ATTR_HIGH_WATER,      /* i64: most queued since start (messages; FIFOs: bytes) */
        WIRE_ATTR_FULL,            /* u32: 1 when full at the last sample */
        WIRE_ATTR_FULL_MS,         /* u64: milliseconds spent full since start */
        WIRE_ATTR_FULL_EVENTS,     /* u64: times it became full */
        WIRE_ATTR_FULL_ALERTS,     /* u64: alert_full_after warnings */
        WIRE_ATTR_OPENS_SEND,      /* u64: opens granted that include send */
        WIRE_ATTR_OPENS_RECV,      /* u64: opens granted that include receive */
        WIRE_ATTR_DENIED_SEND,     /* u64: opens denied that asked for send */
        WIRE_ATTR_DENIED_RECV,     /* u64: opens denied that asked for receive */
        WIRE_ATTR_HOLDERS,         /* u64: live grants */
        WIRE_ATTR_HOLDER,          /* nested: one grant (HOLDERS replies) */
        WIRE_ATTR_UID,             /* u32 */
        WIRE_ATTR_GID,             /* u32 */
        WIRE_ATTR_GROUPS,          /* u32, repeated: supplementary groups */
        WIRE_ATTR_COMMAND,         /* string: a process's command name */
        WIRE_ATTR_UNIT,            /* string: a process's systemd unit */
        WIRE_ATTR_SINCE,           /* u64: when, Unix seconds */
        WIRE_ATTR_TIMEOUT_MS,      /* u64 */
        WIRE_ATTR_SEND_RULE,       /* string: what decided send access */
        WIRE_ATTR_RECV_RULE,       /* string: what decided receive access */
        WIRE_ATTR_ALIVE,           /* u32: 1 while the holder's process lives */
        _WIRE_ATTR_MAX,
};

enum {
        WIRE_ACCESS_SEND = 1,
        WIRE_ACCESS_RECV = 2,
};

enum {
        WIRE_CHANNEL_MQUEUE = 1,
        WIRE_CHANNEL_FIFO = 2,
};

enum {
        WIRE_FRAMING_PACKET = 0, /* one pipe packet per message */
        WIRE_FRAMING_BATCH = 1,  /* packets of u16-length-prefixed records */
};

/* A record header in a batch-framed FIFO packet: the record's length, u16 in host order. */
#define WIRE_RECORD_HEADER 2

enum {
        WIRE_STATE_READY = 0,
        WIRE_STATE_REFUSED = 1,
        WIRE_STATE_FAILED = 2,
};

/* ---- encoding ------------------------------------------------------------------ */

struct wire_writer {
        uint8_t buf[WIRE_PACKET_MAX];
        size_t len;
        size_t nest_start[WIRE_NEST_DEPTH_MAX];
        int depth;
        bool overflow; /* something did not fit: the packet is unusable */
};

void wire_writer_init(struct wire_writer *w, uint16_t type, uint32_t serial);
void wire_put_u32(struct wire_writer *w, uint16_t attr, uint32_t v);
void wire_put_u64(struct wire_writer *w, uint16_t attr, uint64_t v);
void wire_put_i64(struct wire_writer *w, uint16_t attr, int64_t v);
void wire_put_string(struct wire_writer *w, uint16_t attr, const char *s);
void wire_put_flag(struct wire_writer *w, uint16_t attr);
void wire_nest_begin(struct wire_writer *w, uint16_t attr);
void wire_nest_end(struct wire_writer *w);
/* Room left for attributes, for callers that fill a packet as far as it goes. */
size_t wire_writer_room(const struct wire_writer *w);
/* Patch the header's length; returns the packet size, or -EMSGSIZE on overflow. */
int wire_writer_finish(struct wire_writer *w);

/* ---- decoding ------------------------------------------------------------------ */

struct wire_value {
        bool present;
        enum wire_kind kind;
        uint64_t u;          /* U32, U64 (and I64 bits) */
        int64_t i;           /* I64 */
        const char *s;       /* STRING: points into the packet, NUL-terminated */
        const uint8_t *data; /* NESTED: its attributes */
        size_t len;
};

/* A decoded attribute set: one value per attribute type. A non-repeated attribute that appears twice is an error. */
struct wire_attrs {
        struct wire_value v[_WIRE_ATTR_MAX];
};

struct wire_policy_entry {
        enum wire_kind kind;
        bool required;
        bool repeated; /* may appear more than once (iterate with wire_iter) */
};

/* The policy for each message type's top level, and for nested CHANNEL entries. */
const struct wire_policy_entry *wire_policy_for(uint16_t type);
extern const struct wire_policy_entry wire_policy_channel[_WIRE_ATTR_MAX];
extern const struct wire_policy_entry wire_policy_holder[_WIRE_ATTR_MAX];

/*
 * Validate a whole packet: header (magic, version, type known, length equals
 * the packet size) and every attribute against the policy of its type,
 * including nested ones. On success fills *hdr and *attrs (repeated
 * attributes are present with their first occurrence). Returns 0 or:
 * -EBADMSG malformed, -EPROTONOSUPPORT other version (hdr still filled),
 * -EOPNOTSUPP unknown type, -EINVAL attribute not allowed or of the wrong
 * size, missing required attribute.
 * On error *why (if not NULL) points to a static explanation.
 */
int wire_decode(const void *packet, size_t size, struct wire_header *hdr, struct wire_attrs *attrs, const char **why);
/* Decode a nested attribute's payload against a policy. */
int wire_decode_nested(const struct wire_value *nested, const struct wire_policy_entry *policy,
                       struct wire_attrs *attrs, const char **why);

/* Iterate over every occurrence of ATTR in an attribute area (for repeated ones). */
struct wire_iter {
        const uint8_t *p;
        const uint8_t *end;
};
void wire_iter_init(struct wire_iter *it, const void *packet, size_t size); /* top level of a packet */
void wire_iter_init_nested(struct wire_iter *it, const struct wire_value *nested);
/* Next occurrence of ATTR; returns false at the end. Only call on decoded (validated) data. */
bool wire_iter_next(struct wire_iter *it, uint16_t attr, struct wire_value *v);

const char *wire_type_to_string(uint16_t type);
