/*
 * lib-internal.h — what the parts of libipcbroker share (none of it is
 * exported): the channel handle; talking to the daemon (lib-transport.c:
 * one connection per call, one request, one reply); the per-thread detail
 * behind ipcb_strerror() (lib-error.c); the FIFO packet I/O and the checks
 * of the data path (lib-data.c); batch framing (lib-batch.c).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "ipcbroker.h"
#include "protocol.h"

/*
 * The public constants are the wire's values, passed through unconverted:
 * the protocol (common/protocol.h) is their one definition.
 */
#define LIB_SAME(a, b) ((int)(a) == (int)(b))
_Static_assert(LIB_SAME(IPCB_NAME_MAX, WIRE_NAME_MAX), "channel name limit");
_Static_assert(LIB_SAME(IPCB_SEND, WIRE_ACCESS_SEND) && LIB_SAME(IPCB_RECV, WIRE_ACCESS_RECV), "access bits");
_Static_assert(LIB_SAME(IPCB_MQUEUE, WIRE_CHANNEL_MQUEUE) && LIB_SAME(IPCB_FIFO, WIRE_CHANNEL_FIFO), "channel types");
_Static_assert(LIB_SAME(IPCB_FRAMING_PACKET, WIRE_FRAMING_PACKET) && LIB_SAME(IPCB_FRAMING_BATCH, WIRE_FRAMING_BATCH),
               "framing");
_Static_assert(LIB_SAME(IPCB_STATE_READY, WIRE_STATE_READY) && LIB_SAME(IPCB_STATE_REFUSED, WIRE_STATE_REFUSED) &&
                       LIB_SAME(IPCB_STATE_FAILED, WIRE_STATE_FAILED),
               "channel states");

/* A batch-framed FIFO packet holds records: a length of WIRE_RECORD_HEADER bytes, then the bytes. */
#define LIB_PACKET_MAX 4096 /* PIPE_BUF: the largest atomic write */

struct ipcb_channel {
        int fd;
        int type;             /* IPCB_MQUEUE or IPCB_FIFO */
        int flags;            /* IPCB_SEND/RECV/NONBLOCK */
        int framing;          /* IPCB_FRAMING_* (FIFO) */
        long message_size;    /* largest message */
        bool fd_nonblock;     /* FIFO: O_NONBLOCK is set on the description now */
        bool no_rwf_nosignal; /* FIFO: the kernel lacks pwritev2(RWF_NOSIGNAL) */
        char name[IPCB_NAME_MAX + 1];
        /* batch framing: the packet being handed out, record by record */
        uint8_t *rbuf; /* LIB_PACKET_MAX bytes, allocated on first receive */
        size_t rlen;
        size_t roff;
};

/* A reply, decoded; owns the packet it points into and the passed descriptor. */
struct lib_reply {
        uint8_t buf[WIRE_PACKET_MAX];
        size_t size;
        struct wire_header hdr;
        struct wire_attrs attrs;
        int fd; /* passed with SCM_RIGHTS, or -1 */
};

/* A connection to the daemon: connect to the socket. Returns the fd or a negative errno. */
int lib_connect(void);
/*
 * Send the request in W over FD and wait for its reply (at most
 * LIB_REPLY_TIMEOUT_MS). A reply with an error becomes the return value and
 * its message the thread's error detail.
 */
int lib_transact(int fd, struct wire_writer *w, struct lib_reply *reply);
/* One connection, one request, one reply; REPLY->fd is -1 unless the reply passed one. */
int lib_call(struct wire_writer *w, struct lib_reply *reply);

/* Remember why ERR happened, for ipcb_strerror() in this thread. */
void lib_set_detail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void lib_clear_detail(void);

/* Copy a string attribute into a fixed buffer (truncating safely). */
void lib_copy(char *dst, size_t size, const struct wire_value *v);

#define LIB_REPLY_TIMEOUT_MS 30000

/* A request and its reply, too big for the stack. */
struct lib_call {
        struct wire_writer w;
        struct lib_reply reply;
};

/* ---- lib-paged.c ---- */

/* How a paged conversation goes on after a page's request. */
enum lib_page_end {
        LIB_PAGE_BY_CURSOR, /* while the daemon's reply carries a cursor */
        LIB_PAGE_MORE,      /* another request follows whatever the reply says */
        LIB_PAGE_LAST,      /* this was the last request */
};

/*
 * A request answered in pages of entries (ENTRY: WIRE_ATTR_CHANNEL when 0),
 * on one connection: FILL adds a page's attributes (CURSOR is the last
 * page's, or NULL), REPLY (if set) sees each reply, TAKE takes each entry.
 */
struct lib_paged {
        uint16_t type;
        uint16_t entry;
        enum lib_page_end (*fill)(struct lib_paged *p, struct wire_writer *w, const char *cursor);
        int (*reply)(struct lib_paged *p, const struct lib_reply *reply);
        int (*take)(struct lib_paged *p, const struct wire_value *entry);
};

/* A FILL for requests that take nothing but the cursor (list, metrics). */
enum lib_page_end lib_page_by_cursor(struct lib_paged *p, struct wire_writer *w, const char *cursor);
/* Returns 0, or a negative errno; what earlier pages brought has been taken. */
int lib_paged_call(struct lib_paged *p);
/*
 * Run P, whose TAKE fills the array *ARR of *COUNT elements: on success the
 * caller's *OUT and *N get it and the count is returned; on failure it is
 * freed and the negative errno returned.
 */
int lib_paged_hand_out(struct lib_paged *p, void **arr, const size_t *count, void **out, size_t *n);
/* Room for one more of N elements of SIZE bytes in *ARR (capacity *CAP, growing from FIRST): 0 or -ENOMEM. */
int lib_grow(void **arr, size_t *cap, size_t n, size_t size, size_t first);

/* ---- lib-error.c ---- */

/* Data-path errors come from the kernel: no explanation of an earlier call may stick to them. */
static inline long long lib_data_error(long long r) {
        if (r < 0)
                lib_clear_detail();
        return r;
}

/* ---- lib-data.c ---- */

/* An absolute CLOCK_REALTIME deadline for mq_timed*, or a CLOCK_MONOTONIC one for poll. */
void lib_deadline(clockid_t clock, int timeout_ms, struct timespec *ts);
/* Milliseconds left until the CLOCK_MONOTONIC deadline END (0 when past). */
int lib_remaining_ms(const struct timespec *end);
/* The handle's receive buffer (LIB_PACKET_MAX bytes), allocated on first use: 0 or -ENOMEM. */
int lib_hold_rbuf(ipcb_channel *ch);
/* One packet onto the FIFO, waiting for room as the handle and timeout allow. */
int lib_fifo_write_packet(ipcb_channel *ch, const void *buf, size_t len, int timeout_ms, const struct timespec *end);
/* One packet from the FIFO; WAIT false: -EAGAIN at once when there is none. */
ssize_t lib_fifo_read_packet(ipcb_channel *ch, void *buf, size_t size, bool wait, int timeout_ms,
                             const struct timespec *end);
/* One message of a packet-framed FIFO, refusing (-EMSGSIZE) a packet larger than SIZE. */
ssize_t lib_fifo_read_message(ipcb_channel *ch, void *buf, size_t size, bool wait, int timeout_ms,
                              const struct timespec *end);
/* May a message of LEN bytes be sent on CH? 0 or a negative errno. */
int lib_check_send(const ipcb_channel *ch, size_t len);
/* The general send and receive, on every channel type; TIMEOUT_MS < 0 waits as the handle says. */
int lib_do_send(ipcb_channel *ch, const void *msg, size_t len, unsigned prio, int timeout_ms);
ssize_t lib_do_recv(ipcb_channel *ch, void *buf, size_t size, unsigned *prio, int timeout_ms);

/* ---- lib-batch.c ---- */

/* One message as a one-record batch packet. */
int lib_batch_send_one(ipcb_channel *ch, const void *msg, size_t len, int timeout_ms, const struct timespec *end);
/* The next message of a batch-framed FIFO: from the held packet, or else from the next one. */
ssize_t lib_batch_recv_one(ipcb_channel *ch, void *buf, size_t size, int timeout_ms, const struct timespec *end);
