/*
 * lib-data.c — libipcbroker's data path: ipcb_send/ipcb_recv and their timed
 * variants on queues (mq_send/mq_receive on the descriptor) and FIFOs (one
 * write, one message, on a packet-mode pipe description), and the FIFO
 * packet I/O that batch framing (lib-batch.c) builds on.
 *
 * A FIFO descriptor is used blocking for untimed calls (one system call per
 * message) and gets O_NONBLOCK for timed and non-blocking ones, which wait in
 * poll() so that timeouts hold with several readers or writers. That flag
 * belongs to the open file description: a handle must not be used by two
 * processes (after fork) or two threads at once; open one per user instead.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "lib-internal.h"
#include "util.h"

/* An absolute CLOCK_REALTIME deadline for mq_timed*, or a CLOCK_MONOTONIC one for poll. */
void lib_deadline(clockid_t clock, int timeout_ms, struct timespec *ts) {
        clock_gettime(clock, ts);
        ts->tv_sec += timeout_ms / 1000;
        ts->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (ts->tv_nsec >= 1000000000L) {
                ts->tv_sec++;
                ts->tv_nsec -= 1000000000L;
        }
}

int lib_remaining_ms(const struct timespec *end) {
        struct timespec now;
        long long ms;

        clock_gettime(CLOCK_MONOTONIC, &now);
        ms = (long long)(end->tv_sec - now.tv_sec) * 1000 + (end->tv_nsec - now.tv_nsec) / 1000000;
        return ms < 0 ? 0 : ms > INT_MAX ? INT_MAX : (int)ms;
}

#ifndef RWF_NOSIGNAL
#define RWF_NOSIGNAL 0x00000100 /* Linux 6.18: EPIPE without SIGPIPE */
#endif

/* Write one packet without ever raising SIGPIPE in the caller. */
static ssize_t write_nosignal(ipcb_channel *ch, const void *buf, size_t len) {
        sigset_t pipe_set, old, pending;
        ssize_t n;
        int saved;

        if (!ch->no_rwf_nosignal) {
                /* one system call, like write(2), but EPIPE instead of a signal */
                struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
                n = pwritev2(ch->fd, &iov, 1, -1, RWF_NOSIGNAL);
                if (n >= 0 || errno != EOPNOTSUPP)
                        return n;
                ch->no_rwf_nosignal = true; /* an older kernel: block the signal around write() */
        }
        sigemptyset(&pipe_set);
        sigaddset(&pipe_set, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
        n = write(ch->fd, buf, len);
        saved = errno;
        if (n < 0 && saved == EPIPE && !sigismember(&old, SIGPIPE)) {
                /* discard the SIGPIPE we just caused before unblocking */
                struct timespec zero = { 0, 0 };
                sigpending(&pending);
                if (sigismember(&pending, SIGPIPE))
                        while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
                                ;
        }
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        errno = saved;
        return n;
}

/*
 * Blocking calls without a timeout use the descriptor in blocking mode (one
 * system call per message); timed and non-blocking ones need O_NONBLOCK so a
 * wait in poll() never turns into a read or write that blocks past it.
 */
static int fifo_mode(ipcb_channel *ch, bool nonblock) {
        int fl;

        if (ch->fd_nonblock == nonblock)
                return 0;
        fl = fcntl(ch->fd, F_GETFL);
        if (fl < 0 || fcntl(ch->fd, F_SETFL, nonblock ? fl | O_NONBLOCK : fl & ~O_NONBLOCK) < 0)
                return -errno;
        ch->fd_nonblock = nonblock;
        return 0;
}

static bool fifo_waits_forever(const ipcb_channel *ch, bool wait, int timeout_ms) {
        return wait && timeout_ms < 0 && !(ch->flags & IPCB_NONBLOCK);
}

/* Wait for the FIFO to become ready; 0 when it is, -EAGAIN/-ETIMEDOUT otherwise. */
static int fifo_wait(const ipcb_channel *ch, short events, int timeout_ms, const struct timespec *end) {
        struct pollfd pfd = { .fd = ch->fd, .events = events };
        int r;

        if (ch->flags & IPCB_NONBLOCK)
                return -EAGAIN;
        for (;;) {
                int t = timeout_ms < 0 ? -1 : lib_remaining_ms(end);
                if (timeout_ms >= 0 && t == 0)
                        return -ETIMEDOUT;
                r = poll(&pfd, 1, t);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return -errno;
                if (r == 0)
                        return -ETIMEDOUT;
                return 0;
        }
}

/* One packet onto the FIFO, waiting for room as the handle and timeout allow. */
int lib_fifo_write_packet(ipcb_channel *ch, const void *buf, size_t len, int timeout_ms, const struct timespec *end) {
        int r = fifo_mode(ch, !fifo_waits_forever(ch, true, timeout_ms));

        if (r < 0)
                return r;
        for (;;) {
                ssize_t n = write_nosignal(ch, buf, len);
                if (n >= 0 && (size_t)n == len)
                        return 0;
                if (n >= 0)
                        return -EIO; /* cannot happen for len <= PIPE_BUF */
                if (errno == EINTR)
                        continue;
                if (errno != EAGAIN)
                        return -errno;
                r = fifo_wait(ch, POLLOUT, timeout_ms, end);
                if (r < 0)
                        return r;
        }
}

/* One packet from the FIFO; WAIT false: -EAGAIN at once when there is none. */
ssize_t lib_fifo_read_packet(ipcb_channel *ch, void *buf, size_t size, bool wait, int timeout_ms,
                             const struct timespec *end) {
        int m = fifo_mode(ch, !fifo_waits_forever(ch, wait, timeout_ms));

        if (m < 0)
                return m;
        for (;;) {
                /* one read returns exactly one packet; size >= the packet keeps it whole */
                ssize_t n = read(ch->fd, buf, size);
                int r;
                if (n > 0)
                        return n;
                if (n == 0)
                        return -EPIPE; /* no writer at all: the daemon is gone */
                if (errno == EINTR)
                        continue;
                if (errno != EAGAIN)
                        return -errno;
                if (!wait)
                        return -EAGAIN;
                r = fifo_wait(ch, POLLIN, timeout_ms, end);
                if (r < 0)
                        return r;
        }
}

int lib_hold_rbuf(ipcb_channel *ch) {
        if (!ch->rbuf) {
                ch->rbuf = malloc(LIB_PACKET_MAX);
                if (!ch->rbuf)
                        return -ENOMEM;
        }
        return 0;
}

/*
 * One message of a packet-framed FIFO. A packet longer than the caller's
 * buffer (a plain writer, or a handle opened before message_size shrank)
 * would be cut short silently by read(2): read it whole and refuse it.
 */
ssize_t lib_fifo_read_message(ipcb_channel *ch, void *buf, size_t size, bool wait, int timeout_ms,
                              const struct timespec *end) {
        ssize_t n;

        if (size >= LIB_PACKET_MAX)
                return lib_fifo_read_packet(ch, buf, size, wait, timeout_ms, end);
        if (lib_hold_rbuf(ch) < 0)
                return -ENOMEM;
        n = lib_fifo_read_packet(ch, ch->rbuf, LIB_PACKET_MAX, wait, timeout_ms, end);
        if (n < 0)
                return n;
        if ((size_t)n > size)
                return -EMSGSIZE; /* dropped: it was larger than the channel's messages */
        memcpy(buf, ch->rbuf, (size_t)n);
        return n;
}

int lib_check_send(const ipcb_channel *ch, size_t len) {
        if (!(ch->flags & IPCB_SEND))
                return -EBADF;
        if (ch->message_size < 0 || len > (size_t)ch->message_size)
                return -EMSGSIZE;
        if (len == 0 && ch->type == IPCB_FIFO && ch->framing == IPCB_FRAMING_PACKET)
                return -EINVAL; /* a pipe cannot carry an empty packet */
        return 0;
}

int lib_do_send(ipcb_channel *ch, const void *msg, size_t len, unsigned prio, int timeout_ms) {
        struct timespec end;
        int r;

        if (!ch || (!msg && len))
                return -EINVAL;
        r = lib_check_send(ch, len);
        if (r < 0)
                return r;

        if (ch->type == IPCB_MQUEUE) {
                if (timeout_ms >= 0)
                        lib_deadline(CLOCK_REALTIME, timeout_ms, &end);
                for (;;) {
                        r = timeout_ms >= 0 ? mq_timedsend((mqd_t)ch->fd, msg, len, prio, &end)
                                            : mq_send((mqd_t)ch->fd, msg, len, prio);
                        if (r == 0)
                                return 0;
                        if (errno != EINTR)
                                return -errno;
                }
        }

        if (timeout_ms >= 0)
                lib_deadline(CLOCK_MONOTONIC, timeout_ms, &end);
        if (ch->framing == IPCB_FRAMING_BATCH)
                return lib_batch_send_one(ch, msg, len, timeout_ms, &end);
        return lib_fifo_write_packet(ch, msg, len, timeout_ms, &end);
}

ssize_t lib_do_recv(ipcb_channel *ch, void *buf, size_t size, unsigned *prio, int timeout_ms) {
        struct timespec end;

        if (!ch || !buf)
                return -EINVAL;
        if (!(ch->flags & IPCB_RECV))
                return -EBADF;
        if (ch->message_size < 0 || size < (size_t)ch->message_size)
                return -EMSGSIZE;

        if (ch->type == IPCB_MQUEUE) {
                if (timeout_ms >= 0)
                        lib_deadline(CLOCK_REALTIME, timeout_ms, &end);
                for (;;) {
                        ssize_t n = timeout_ms >= 0 ? mq_timedreceive((mqd_t)ch->fd, buf, size, prio, &end)
                                                    : mq_receive((mqd_t)ch->fd, buf, size, prio);
                        if (n >= 0)
                                return n;
                        if (errno != EINTR)
                                return -errno;
                }
        }

        if (prio)
                *prio = 0;
        if (timeout_ms >= 0)
                lib_deadline(CLOCK_MONOTONIC, timeout_ms, &end);
        if (ch->framing == IPCB_FRAMING_BATCH)
                return lib_batch_recv_one(ch, buf, size, timeout_ms, &end);
        return lib_fifo_read_message(ch, buf, size, true, timeout_ms, &end);
}

_public_ int ipcb_send(ipcb_channel *ch, const void *msg, size_t len, unsigned prio) {
        /* the common case, kept as short as raw mq_send */
        if (ch && ch->type == IPCB_MQUEUE && (ch->flags & IPCB_SEND) && ch->message_size >= 0 &&
            len <= (size_t)ch->message_size && (msg || !len)) {
                for (;;) {
                        if (mq_send((mqd_t)ch->fd, msg, len, prio) == 0)
                                return 0;
                        if (errno != EINTR)
                                return (int)lib_data_error(-errno);
                }
        }
        /* a blocking packet-mode FIFO: one write, without the general path's set-up */
        if (ch && ch->type == IPCB_FIFO && ch->framing == IPCB_FRAMING_PACKET && !ch->fd_nonblock &&
            (ch->flags & (IPCB_SEND | IPCB_NONBLOCK)) == IPCB_SEND && msg && len > 0 && ch->message_size >= 0 &&
            len <= (size_t)ch->message_size) {
                ssize_t n = write_nosignal(ch, msg, len);
                if (n == (ssize_t)len)
                        return 0;
                if (n < 0 && errno != EINTR && errno != EAGAIN)
                        return (int)lib_data_error(-errno);
                /* interrupted, or O_NONBLOCK set behind our back: the general path */
        }
        return (int)lib_data_error(lib_do_send(ch, msg, len, prio, -1));
}

_public_ int ipcb_timedsend(ipcb_channel *ch, const void *msg, size_t len, unsigned prio, int timeout_ms) {
        return (int)lib_data_error(lib_do_send(ch, msg, len, prio, timeout_ms < 0 ? -1 : timeout_ms));
}

_public_ ssize_t ipcb_recv(ipcb_channel *ch, void *buf, size_t size, unsigned *prio) {
        if (ch && ch->type == IPCB_MQUEUE && (ch->flags & IPCB_RECV) && buf && ch->message_size >= 0 &&
            size >= (size_t)ch->message_size) {
                for (;;) {
                        ssize_t n = mq_receive((mqd_t)ch->fd, buf, size, prio);
                        if (n >= 0)
                                return n;
                        if (errno != EINTR)
                                return (ssize_t)lib_data_error(-errno);
                }
        }
        /* a blocking packet-mode FIFO: one read, without the general path's set-up */
        if (ch && ch->type == IPCB_FIFO && ch->framing == IPCB_FRAMING_PACKET && !ch->fd_nonblock &&
            (ch->flags & (IPCB_RECV | IPCB_NONBLOCK)) == IPCB_RECV && buf && ch->message_size >= 0 &&
            size >= (size_t)ch->message_size) {
                if (prio)
                        *prio = 0;
                return (ssize_t)lib_data_error(lib_fifo_read_message(ch, buf, size, true, -1, NULL));
        }
        return (ssize_t)lib_data_error(lib_do_recv(ch, buf, size, prio, -1));
}

_public_ ssize_t ipcb_timedrecv(ipcb_channel *ch, void *buf, size_t size, unsigned *prio, int timeout_ms) {
        return (ssize_t)lib_data_error(lib_do_recv(ch, buf, size, prio, timeout_ms < 0 ? -1 : timeout_ms));
}
