/*
 * lib-internal.h — what the parts of libipcbroker share: talking to the
 * daemon (one connection per call, one request, one reply) and the
 * per-thread detail behind ipcb_strerror().
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "ipcbroker.h"
#include "protocol.h"

/* A batch-framed FIFO packet: records of a u16 length (host order) and the bytes. */
#define LIB_RECORD_HEADER 2
#define LIB_PACKET_MAX 4096 /* PIPE_BUF: the largest atomic write */

struct ipcb_channel {
        int fd;
        int type;           /* IPCB_MQUEUE or IPCB_FIFO */
        int flags;          /* IPCB_SEND/RECV/NONBLOCK */
        int framing;        /* IPCB_FRAMING_* (FIFO) */
        long message_size;  /* largest message */
        bool fd_nonblock;   /* FIFO: O_NONBLOCK is set on the description now */
        bool no_rwf_nosignal; /* FIFO: the kernel lacks pwritev2(RWF_NOSIGNAL) */
        char name[IPCB_NAME_MAX + 1];
        /* batch framing: the packet being handed out, record by record */
        uint8_t *rbuf;      /* LIB_PACKET_MAX bytes, allocated on first receive */
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
/* One connection, one request, one reply. */
int lib_call(struct wire_writer *w, struct lib_reply *reply);

/* Remember why ERR happened, for ipcb_strerror() in this thread. */
void lib_set_detail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void lib_clear_detail(void);

/* Copy a string attribute into a fixed buffer (truncating safely). */
void lib_copy(char *dst, size_t size, const struct wire_value *v);

#define LIB_REPLY_TIMEOUT_MS 30000
