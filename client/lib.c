/*
 * lib.c — libipcbroker: opening channels by name, and the data path.
 *
 * Opening asks the daemon over its socket and receives the channel's kernel
 * descriptor. After that only libc and the kernel are involved: queues use
 * mq_send/mq_receive on the descriptor; FIFOs use write/read on a packet-mode
 * pipe description (one write, one message). A FIFO descriptor is used
 * blocking for untimed calls (one system call per message) and gets
 * O_NONBLOCK for timed and non-blocking ones, which wait in poll() so that
 * timeouts hold with several readers or writers. That flag belongs to the
 * open file description: a handle must not be used by two processes (after
 * fork) or two threads at once; open one per user instead.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lib-internal.h"
#include "util.h"

#ifndef RUNSTATEDIR
#define RUNSTATEDIR "/run"
#endif

/* ---- errors ----------------------------------------------------------------- */

/* Per thread: the daemon's explanation of the last error, and a buffer for messages. */
static __thread struct {
        int err;
        char msg[IPCB_TEXT_MAX];
} detail;
static __thread char strerror_buf[IPCB_TEXT_MAX + 128];

void lib_set_detail(int err, const char *fmt, ...) {
        va_list ap;

        detail.err = err < 0 ? -err : err;
        va_start(ap, fmt);
        vsnprintf(detail.msg, sizeof(detail.msg), fmt, ap);
        va_end(ap);
}

void lib_clear_detail(void) {
        detail.err = 0;
        detail.msg[0] = '\0';
}

_public_ const char *ipcb_socket_path(void) {
        /* not from the environment of a setuid caller */
        const char *e = secure_getenv("IPCBROKER_SOCKET");

        return e && *e ? e : RUNSTATEDIR "/ipcbroker/ipcbroker.sock";
}

_public_ const char *ipcb_version(void) {
        return PACKAGE_VERSION;
}

_public_ const char *ipcb_strerror(int err) {
        const char *s;

        if (err < 0)
                err = -err;
        if (err == 0)
                return "success";
        if (detail.err == err && detail.msg[0])
                return detail.msg;
        switch (err) {
        case ECONNREFUSED:
                snprintf(strerror_buf, sizeof(strerror_buf),
                         "cannot reach ipcbrokerd at %s: the daemon is not running (start it with "
                         "'systemctl start ipcbroker' or 'ipcbrokerd'), or IPCBROKER_SOCKET points elsewhere",
                         ipcb_socket_path());
                return strerror_buf;
        case EACCES:
                return "permission denied";
        case ENOENT:
                return "no such channel";
        case EMSGSIZE:
                return "message too large for the channel, or buffer smaller than the channel's message size";
        case EAGAIN:
                return "channel full (send) or empty (receive) and the handle is non-blocking";
        case ETIMEDOUT:
                return "timed out";
        case EPIPE:
                return "the FIFO has no reader or writer left (is the daemon running?)";
        case EPROTONOSUPPORT:
                return "the daemon speaks another protocol version";
        case EPERM:
                return "operation not permitted: administrators only";
        case EBADF:
                return "the handle is not open for this direction";
        case EREMCHG:
                snprintf(strerror_buf, sizeof(strerror_buf),
                         "the server at %s runs as neither root, you, nor IPCBROKER_DAEMON_UID: not ipcbrokerd? "
                         "(nothing was sent to it)",
                         ipcb_socket_path());
                return strerror_buf;
        default:
                s = strerror_r(err, strerror_buf, sizeof(strerror_buf));
                return s;
        }
}

void lib_copy(char *dst, size_t size, const struct wire_value *v) {
        if (!v->present || !v->s) {
                dst[0] = '\0';
                return;
        }
        snprintf(dst, size, "%s", v->s);
}

/* ---- talking to the daemon ------------------------------------------------------- */

/*
 * Who answers at the socket path? Anyone who can create a socket there (a
 * directory others may write to, a path they chose) could pose as the
 * daemon and read what the caller sends. Trusted: root, the caller's own
 * effective uid, and the uid in IPCBROKER_DAEMON_UID (for a daemon run as a
 * dedicated user; never from the environment of a setuid caller). The
 * credentials are those of the process that made the socket listen.
 */
static int lib_check_server(int fd, const char *path) {
        struct ucred cred;
        socklen_t len = sizeof(cred);
        const char *e;
        uint64_t v;

        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || len != sizeof(cred)) {
                int r = len != sizeof(cred) ? EPROTO : errno;
                lib_set_detail(r, "cannot tell who runs the server at %s: %s", path, strerror(r));
                return -r;
        }
        if (cred.uid == 0 || cred.uid == geteuid())
                return 0;
        e = secure_getenv("IPCBROKER_DAEMON_UID");
        if (e && *e) {
                if (parse_u64(e, 10, 0, (uid_t)-2, &v) < 0) {
                        lib_set_detail(EREMCHG,
                                       "the server at %s runs as uid %u, not root or you, and IPCBROKER_DAEMON_UID "
                                       "(\"%.32s\") is not a uid number: refusing to talk to it",
                                       path, (unsigned)cred.uid, e);
                        return -EREMCHG;
                }
                if (v == cred.uid)
                        return 0;
                lib_set_detail(EREMCHG,
                               "the server at %s runs as uid %u, not root, you or IPCBROKER_DAEMON_UID (%u): not "
                               "ipcbrokerd? Nothing was sent to it",
                               path, (unsigned)cred.uid, (unsigned)v);
                return -EREMCHG;
        }
        lib_set_detail(EREMCHG,
                       "the server at %s runs as uid %u, not root or you: not ipcbrokerd? Nothing was sent to it "
                       "(if ipcbrokerd runs as a dedicated user, name its uid in IPCBROKER_DAEMON_UID)",
                       path, (unsigned)cred.uid);
        return -EREMCHG;
}

int lib_connect(void) {
        const char *path = ipcb_socket_path();
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd, r;

        if (strlen(path) >= sizeof(sa.sun_path)) {
                lib_set_detail(ENAMETOOLONG, "socket path %s is too long", path);
                return -ENAMETOOLONG;
        }
        memcpy(sa.sun_path, path, strlen(path) + 1);
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        /* never wait forever for a daemon that does not accept (stopped, or its backlog full) */
        for (int waited = 0;; waited += 10) {
                /* a Unix socket connects at once, or says EAGAIN while the backlog is full */
                r = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? errno : 0;
                if (r != EAGAIN && r != EINTR)
                        break;
                if (waited >= LIB_REPLY_TIMEOUT_MS) {
                        r = ETIMEDOUT;
                        break;
                }
                poll(NULL, 0, 10);
        }
        /* the socket stays non-blocking: lib_transact waits in poll(), never longer than its timeout */
        if (r != 0) {
                close(fd);
                if (r == EACCES || r == EPERM) {
                        lib_set_detail(EACCES, "permission denied on the ipcbrokerd socket %s", path);
                        return -EACCES;
                }
                if (r == ENOENT || r == ECONNREFUSED || r == ENOTDIR || r == EPROTOTYPE) {
                        lib_clear_detail();
                        return -ECONNREFUSED;
                }
                if (r == ETIMEDOUT) {
                        lib_set_detail(ETIMEDOUT, "ipcbrokerd at %s did not accept the connection within %d s",
                                       path, LIB_REPLY_TIMEOUT_MS / 1000);
                        return -ETIMEDOUT;
                }
                return -r;
        }
        /* before a single byte of a request is written */
        r = lib_check_server(fd, path);
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}

int lib_transact(int fd, struct wire_writer *w, struct lib_reply *reply) {
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int) * 4)];
        } control;
        struct iovec iov;
        struct msghdr mh;
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        const char *why = NULL;
        uint32_t serial;
        ssize_t n;
        int len, r;

        reply->fd = -1;
        len = wire_writer_finish(w);
        if (len < 0) {
                lib_set_detail(EMSGSIZE, "request too large for the protocol");
                return -EMSGSIZE;
        }
        memcpy(&serial, w->buf + offsetof(struct wire_header, serial), sizeof(serial));
        for (;;) {
                n = send(fd, w->buf, (size_t)len, MSG_NOSIGNAL);
                if (n >= 0 || (errno != EINTR && errno != EAGAIN))
                        break;
                if (errno == EAGAIN) {
                        /* the daemon has not read what we sent before: wait, but not forever */
                        struct pollfd out = { .fd = fd, .events = POLLOUT };
                        r = poll(&out, 1, LIB_REPLY_TIMEOUT_MS);
                        if (r < 0 && errno != EINTR)
                                return -errno;
                        if (r == 0) {
                                lib_set_detail(ETIMEDOUT, "ipcbrokerd at %s did not read a request within %d s",
                                               ipcb_socket_path(), LIB_REPLY_TIMEOUT_MS / 1000);
                                return -ETIMEDOUT;
                        }
                }
        }
        /*
         * A daemon that refuses the connection (too many clients) answers
         * and hangs up before reading the request: the send then fails,
         * but its explanation is already waiting to be read.
         */
        bool refused = false;
        if (n < 0) {
                r = errno;
                if (r != EPIPE && r != ECONNRESET) {
                        lib_set_detail(r, "cannot send a request to ipcbrokerd at %s: %s", ipcb_socket_path(),
                                       strerror(r));
                        return -r;
                }
                refused = true;
        }

        for (int resets = 0;;) {
                r = refused ? 1 : poll(&pfd, 1, LIB_REPLY_TIMEOUT_MS);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return -errno;
                if (r == 0) {
                        lib_set_detail(ETIMEDOUT, "ipcbrokerd at %s did not answer within %d s", ipcb_socket_path(),
                                       LIB_REPLY_TIMEOUT_MS / 1000);
                        return -ETIMEDOUT;
                }
                iov.iov_base = reply->buf;
                iov.iov_len = sizeof(reply->buf);
                memset(&mh, 0, sizeof(mh));
                mh.msg_iov = &iov;
                mh.msg_iovlen = 1;
                mh.msg_control = control.buf;
                mh.msg_controllen = sizeof(control.buf);
                n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | (refused ? MSG_DONTWAIT : 0));
                if (n < 0 && (errno == EINTR || (errno == EAGAIN && !refused)))
                        continue;
                /* the reset is reported before the packets queued ahead of it: read on once */
                if (n < 0 && errno == ECONNRESET && resets++ == 0) {
                        refused = true;
                        continue;
                }
                break;
        }
        if (n < 0 && refused && (errno == EAGAIN || errno == ECONNRESET)) {
                lib_set_detail(ECONNRESET, "ipcbrokerd at %s closed the connection without answering",
                               ipcb_socket_path());
                return -ECONNRESET;
        }
        if (n < 0) {
                r = errno;
                lib_set_detail(r, "cannot read the reply of ipcbrokerd: %s", strerror(r));
                return -r;
        }
        if (n == 0) {
                lib_set_detail(ECONNRESET, "ipcbrokerd closed the connection without answering");
                return -ECONNRESET;
        }
        /* take the one descriptor a reply may carry; close anything else */
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
                if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
                    cm->cmsg_len >= CMSG_LEN(sizeof(int)) && reply->fd < 0)
                        memcpy(&reply->fd, CMSG_DATA(cm), sizeof(int));
        cmsg_close_fds(&mh, reply->fd);
        if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
                if (reply->fd >= 0)
                        close(reply->fd);
                reply->fd = -1;
                lib_set_detail(EPROTO, "the reply of ipcbrokerd was truncated");
                return -EPROTO;
        }
        reply->size = (size_t)n;
        r = wire_decode(reply->buf, reply->size, &reply->hdr, &reply->attrs, &why);
        if (r == 0 && reply->hdr.type != WIRE_REPLY)
                r = -EBADMSG, why = "not a reply";
        if (r == 0 && reply->hdr.serial != serial && reply->hdr.serial != 0)
                r = -EBADMSG, why = "reply to another request";
        if (r < 0) {
                if (reply->fd >= 0)
                        close(reply->fd);
                reply->fd = -1;
                if (r == -EPROTONOSUPPORT) {
                        lib_set_detail(EPROTONOSUPPORT,
                                       "ipcbrokerd speaks protocol version %u, this library version %u: upgrade so "
                                       "that both match",
                                       reply->hdr.version, WIRE_VERSION);
                        return r;
                }
                lib_set_detail(EPROTO, "malformed reply from ipcbrokerd: %s", why);
                return -EPROTO;
        }
        r = (int)reply->attrs.v[WIRE_ATTR_ERROR].u;
        if (r != 0) {
                if (reply->fd >= 0)
                        close(reply->fd);
                reply->fd = -1;
                if (reply->attrs.v[WIRE_ATTR_MESSAGE].present)
                        lib_set_detail(r, "%s", reply->attrs.v[WIRE_ATTR_MESSAGE].s);
                else
                        lib_clear_detail();
                return -r;
        }
        return 0;
}

int lib_call(struct wire_writer *w, struct lib_reply *reply) {
        int fd = lib_connect();
        int r;

        if (fd < 0)
                return fd;
        wire_put_flag(w, WIRE_ATTR_LAST); /* the daemon hangs up after the reply */
        r = lib_transact(fd, w, reply);
        close(fd);
        return r;
}

/* ---- opening ---------------------------------------------------------------------- */

static bool name_ok(const char *name) {
        size_t n;

        if (!name)
                return false;
        n = strnlen(name, IPCB_NAME_MAX + 1);
        return n >= 1 && n <= IPCB_NAME_MAX;
}

_public_ int ipcb_open(const char *name, int flags, ipcb_channel **out) {
        struct wire_writer *w = NULL;
        struct lib_reply *reply = NULL;
        ipcb_channel *ch = NULL;
        uint32_t access = 0;
        int r;

        if (!out)
                return -EINVAL;
        *out = NULL;
        if (!name_ok(name)) {
                lib_set_detail(EINVAL, "invalid channel name");
                return -EINVAL;
        }
        if (!(flags & (IPCB_SEND | IPCB_RECV)) || (flags & ~(IPCB_SEND | IPCB_RECV | IPCB_NONBLOCK))) {
                lib_set_detail(EINVAL, "channel '%s': open flags must include IPCB_SEND and/or IPCB_RECV", name);
                return -EINVAL;
        }
        if (flags & IPCB_SEND)
                access |= WIRE_ACCESS_SEND;
        if (flags & IPCB_RECV)
                access |= WIRE_ACCESS_RECV;

        w = malloc(sizeof(*w));
        reply = malloc(sizeof(*reply));
        ch = calloc(1, sizeof(*ch));
        if (!w || !reply || !ch) {
                r = -ENOMEM;
                goto out;
        }
        ch->fd = -1;
        wire_writer_init(w, WIRE_REQ_OPEN, 1);
        wire_put_string(w, WIRE_ATTR_NAME, name);
        wire_put_u32(w, WIRE_ATTR_ACCESS, access);
        r = lib_call(w, reply);
        if (r < 0)
                goto out;
        if (reply->fd < 0) {
                lib_set_detail(EPROTO, "channel '%s': the daemon granted access but passed no descriptor", name);
                r = -EPROTO;
                goto out;
        }
        ch->fd = reply->fd;
        reply->fd = -1;
        ch->type = reply->attrs.v[WIRE_ATTR_TYPE].u == WIRE_CHANNEL_FIFO ? IPCB_FIFO : IPCB_MQUEUE;
        ch->flags = flags;
        ch->message_size = reply->attrs.v[WIRE_ATTR_MESSAGE_SIZE].present
                                   ? (long)reply->attrs.v[WIRE_ATTR_MESSAGE_SIZE].i
                                   : 0;
        snprintf(ch->name, sizeof(ch->name), "%s", name);

        if (ch->type == IPCB_MQUEUE) {
                /* the reply carries the queue's kernel attributes; ask the kernel only if it did not */
                if (ch->message_size <= 0) {
                        struct mq_attr a;
                        if (mq_getattr((mqd_t)ch->fd, &a) < 0) {
                                lib_set_detail(EPROTO, "channel '%s': the passed descriptor is not a message queue",
                                               name);
                                r = -EPROTO;
                                goto out;
                        }
                        ch->message_size = a.mq_msgsize;
                }
                if (flags & IPCB_NONBLOCK) {
                        struct mq_attr a = { .mq_flags = O_NONBLOCK };
                        if (mq_setattr((mqd_t)ch->fd, &a, NULL) < 0) {
                                r = -errno;
                                goto out;
                        }
                }
        } else {
                struct stat st;
                int fl;
                ch->framing = reply->attrs.v[WIRE_ATTR_FRAMING].u == WIRE_FRAMING_BATCH ? IPCB_FRAMING_BATCH
                                                                                        : IPCB_FRAMING_PACKET;
                if (fstat(ch->fd, &st) < 0 || !S_ISFIFO(st.st_mode) || ch->message_size < 0 ||
                    ch->message_size > PIPE_BUF - (ch->framing == IPCB_FRAMING_BATCH ? LIB_RECORD_HEADER : 0)) {
                        lib_set_detail(EPROTO, "channel '%s': the passed descriptor is not a FIFO", name);
                        r = -EPROTO;
                        goto out;
                }
                /* blocking unless asked: an untimed receive is then one read(2) */
                if (flags & IPCB_NONBLOCK) {
                        fl = fcntl(ch->fd, F_GETFL);
                        if (fl < 0 || fcntl(ch->fd, F_SETFL, fl | O_NONBLOCK) < 0) {
                                r = -errno;
                                goto out;
                        }
                        ch->fd_nonblock = true;
                }
        }
        lib_clear_detail();
        *out = TAKE_PTR(ch);
        r = 0;
out:
        if (ch) {
                if (ch->fd >= 0)
                        close(ch->fd);
                free(ch);
        }
        if (reply && reply->fd >= 0)
                close(reply->fd);
        free(reply);
        free(w);
        return r;
}

_public_ int ipcb_close(ipcb_channel *ch) {
        int r = 0;

        if (!ch)
                return -EINVAL;
        if (close(ch->fd) < 0)
                r = -errno;
        free(ch->rbuf);
        free(ch);
        return r == -EINTR ? 0 : r;
}

_public_ int ipcb_fd(const ipcb_channel *ch) {
        return ch ? ch->fd : -EINVAL;
}

_public_ const char *ipcb_name(const ipcb_channel *ch) {
        return ch ? ch->name : NULL;
}

_public_ int ipcb_set_nonblock(ipcb_channel *ch, int nonblock) {
        if (!ch)
                return -EINVAL;
        if (ch->type == IPCB_MQUEUE) {
                struct mq_attr a = { .mq_flags = nonblock ? O_NONBLOCK : 0 };
                if (mq_setattr((mqd_t)ch->fd, &a, NULL) < 0)
                        return -errno;
        }
        /* a FIFO descriptor's O_NONBLOCK follows each call's needs (fifo_mode) */
        if (nonblock)
                ch->flags |= IPCB_NONBLOCK;
        else
                ch->flags &= ~IPCB_NONBLOCK;
        return 0;
}

_public_ int ipcb_getattr(const ipcb_channel *ch, ipcb_attr *attr) {
        if (!ch || !attr)
                return -EINVAL;
        memset(attr, 0, sizeof(*attr));
        attr->type = ch->type;
        attr->flags = ch->flags;
        if (ch->type == IPCB_MQUEUE) {
                struct mq_attr a;
                if (mq_getattr((mqd_t)ch->fd, &a) < 0)
                        return -errno;
                attr->max_messages = a.mq_maxmsg;
                attr->message_size = a.mq_msgsize;
                attr->messages = a.mq_curmsgs;
                attr->bytes = -1;
                attr->capacity = -1;
        } else {
                int cap = fcntl(ch->fd, F_GETPIPE_SZ), queued = 0;
                long page = sysconf(_SC_PAGESIZE);
                if (cap < 0)
                        return -errno;
                if (ioctl(ch->fd, FIONREAD, &queued) < 0)
                        queued = -1;
                attr->capacity = cap;
                attr->framing = ch->framing;
                /* each packet takes a page of the pipe; a batch packet holds a varying number of messages */
                attr->max_messages = ch->framing == IPCB_FRAMING_BATCH ? -1 : cap / (page > 0 ? page : 4096);
                attr->message_size = ch->message_size;
                attr->messages = -1;
                attr->bytes = queued;
        }
        return 0;
}

/* ---- the data path -------------------------------------------------------------------- */

/* An absolute CLOCK_REALTIME deadline for mq_timed*, or a CLOCK_MONOTONIC one for poll. */
static void deadline(clockid_t clock, int timeout_ms, struct timespec *ts) {
        clock_gettime(clock, ts);
        ts->tv_sec += timeout_ms / 1000;
        ts->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (ts->tv_nsec >= 1000000000L) {
                ts->tv_sec++;
                ts->tv_nsec -= 1000000000L;
        }
}

static int remaining_ms(const struct timespec *end) {
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
                int t = timeout_ms < 0 ? -1 : remaining_ms(end);
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
static int fifo_write_packet(ipcb_channel *ch, const void *buf, size_t len, int timeout_ms,
                             const struct timespec *end) {
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
static ssize_t fifo_read_packet(ipcb_channel *ch, void *buf, size_t size, bool wait, int timeout_ms,
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

/*
 * One message of a packet-framed FIFO. A packet longer than the caller's
 * buffer (a plain writer, or a handle opened before message_size shrank)
 * would be cut short silently by read(2): read it whole and refuse it.
 */
static ssize_t fifo_read_message(ipcb_channel *ch, void *buf, size_t size, bool wait, int timeout_ms,
                                 const struct timespec *end) {
        ssize_t n;

        if (size >= LIB_PACKET_MAX)
                return fifo_read_packet(ch, buf, size, wait, timeout_ms, end);
        if (!ch->rbuf) {
                ch->rbuf = malloc(LIB_PACKET_MAX);
                if (!ch->rbuf)
                        return -ENOMEM;
        }
        n = fifo_read_packet(ch, ch->rbuf, LIB_PACKET_MAX, wait, timeout_ms, end);
        if (n < 0)
                return n;
        if ((size_t)n > size)
                return -EMSGSIZE; /* dropped: it was larger than the channel's messages */
        memcpy(buf, ch->rbuf, (size_t)n);
        return n;
}

/* The next record of the held batch packet, or -EAGAIN when none is left. */
static ssize_t batch_next(ipcb_channel *ch, void *buf, size_t size) {
        uint16_t len;

        if (ch->roff >= ch->rlen)
                return -EAGAIN;
        if (ch->rlen - ch->roff < LIB_RECORD_HEADER) {
                ch->roff = ch->rlen = 0;
                return -EBADMSG;
        }
        memcpy(&len, ch->rbuf + ch->roff, sizeof(len));
        if ((size_t)len > ch->rlen - ch->roff - LIB_RECORD_HEADER || (long)len > ch->message_size) {
                /* not a packet of ours (a plain writer on a batch channel): drop it whole */
                ch->roff = ch->rlen = 0;
                return -EBADMSG;
        }
        if ((size_t)len > size)
                return -EMSGSIZE;
        memcpy(buf, ch->rbuf + ch->roff + LIB_RECORD_HEADER, len);
        ch->roff += LIB_RECORD_HEADER + len;
        return len;
}

/* Read the next batch packet into the handle. */
static int batch_fill(ipcb_channel *ch, bool wait, int timeout_ms, const struct timespec *end) {
        ssize_t n;

        if (!ch->rbuf) {
                ch->rbuf = malloc(LIB_PACKET_MAX);
                if (!ch->rbuf)
                        return -ENOMEM;
        }
        ch->roff = ch->rlen = 0;
        n = fifo_read_packet(ch, ch->rbuf, LIB_PACKET_MAX, wait, timeout_ms, end);
        if (n < 0)
                return (int)n;
        ch->rlen = (size_t)n;
        return 0;
}

/* One message as a one-record batch packet (its buffer kept out of the common path's frame). */
static __attribute__((noinline)) int batch_send_one(ipcb_channel *ch, const void *msg, size_t len, int timeout_ms,
                                                    const struct timespec *end) {
        uint8_t packet[LIB_PACKET_MAX];
        uint16_t l = (uint16_t)len;

        memcpy(packet, &l, sizeof(l));
        if (len)
                memcpy(packet + LIB_RECORD_HEADER, msg, len);
        return fifo_write_packet(ch, packet, LIB_RECORD_HEADER + len, timeout_ms, end);
}

static int check_send(const ipcb_channel *ch, size_t len) {
        if (!(ch->flags & IPCB_SEND))
                return -EBADF;
        if (ch->message_size < 0 || len > (size_t)ch->message_size)
                return -EMSGSIZE;
        if (len == 0 && ch->type == IPCB_FIFO && ch->framing == IPCB_FRAMING_PACKET)
                return -EINVAL; /* a pipe cannot carry an empty packet */
        return 0;
}

static int do_send(ipcb_channel *ch, const void *msg, size_t len, unsigned prio, int timeout_ms) {
        struct timespec end;
        int r;

        if (!ch || (!msg && len))
                return -EINVAL;
        r = check_send(ch, len);
        if (r < 0)
                return r;

        if (ch->type == IPCB_MQUEUE) {
                if (timeout_ms >= 0)
                        deadline(CLOCK_REALTIME, timeout_ms, &end);
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
                deadline(CLOCK_MONOTONIC, timeout_ms, &end);
        if (ch->framing == IPCB_FRAMING_BATCH)
                return batch_send_one(ch, msg, len, timeout_ms, &end);
        return fifo_write_packet(ch, msg, len, timeout_ms, &end);
}

static ssize_t do_recv(ipcb_channel *ch, void *buf, size_t size, unsigned *prio, int timeout_ms) {
        struct timespec end;

        if (!ch || !buf)
                return -EINVAL;
        if (!(ch->flags & IPCB_RECV))
                return -EBADF;
        if (ch->message_size < 0 || size < (size_t)ch->message_size)
                return -EMSGSIZE;

        if (ch->type == IPCB_MQUEUE) {
                if (timeout_ms >= 0)
                        deadline(CLOCK_REALTIME, timeout_ms, &end);
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
                deadline(CLOCK_MONOTONIC, timeout_ms, &end);
        if (ch->framing == IPCB_FRAMING_BATCH) {
                for (;;) {
                        ssize_t n = batch_next(ch, buf, size);
                        int r;
                        if (n != -EAGAIN)
                                return n;
                        r = batch_fill(ch, true, timeout_ms, &end);
                        if (r < 0)
                                return r;
                }
        }
        return fifo_read_message(ch, buf, size, true, timeout_ms, &end);
}

/* Data-path errors come from the kernel: no explanation of an earlier call may stick to them. */
static inline long long data_error(long long r) {
        if (r < 0)
                lib_clear_detail();
        return r;
}

_public_ int ipcb_send(ipcb_channel *ch, const void *msg, size_t len, unsigned prio) {
        /* the common case, kept as short as raw mq_send */
        if (ch && ch->type == IPCB_MQUEUE && (ch->flags & IPCB_SEND) && ch->message_size >= 0 && len <= (size_t)ch->message_size &&
            (msg || !len)) {
                for (;;) {
                        if (mq_send((mqd_t)ch->fd, msg, len, prio) == 0)
                                return 0;
                        if (errno != EINTR)
                                return (int)data_error(-errno);
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
                        return (int)data_error(-errno);
                /* interrupted, or O_NONBLOCK set behind our back: the general path */
        }
        return (int)data_error(do_send(ch, msg, len, prio, -1));
}

_public_ int ipcb_timedsend(ipcb_channel *ch, const void *msg, size_t len, unsigned prio, int timeout_ms) {
        return (int)data_error(do_send(ch, msg, len, prio, timeout_ms < 0 ? -1 : timeout_ms));
}

_public_ ssize_t ipcb_recv(ipcb_channel *ch, void *buf, size_t size, unsigned *prio) {
        if (ch && ch->type == IPCB_MQUEUE && (ch->flags & IPCB_RECV) && buf && ch->message_size >= 0 && size >= (size_t)ch->message_size) {
                for (;;) {
                        ssize_t n = mq_receive((mqd_t)ch->fd, buf, size, prio);
                        if (n >= 0)
                                return n;
                        if (errno != EINTR)
                                return (ssize_t)data_error(-errno);
                }
        }
        /* a blocking packet-mode FIFO: one read, without the general path's set-up */
        if (ch && ch->type == IPCB_FIFO && ch->framing == IPCB_FRAMING_PACKET && !ch->fd_nonblock &&
            (ch->flags & (IPCB_RECV | IPCB_NONBLOCK)) == IPCB_RECV && buf && ch->message_size >= 0 &&
            size >= (size_t)ch->message_size) {
                if (prio)
                        *prio = 0;
                return (ssize_t)data_error(fifo_read_message(ch, buf, size, true, -1, NULL));
        }
        return (ssize_t)data_error(do_recv(ch, buf, size, prio, -1));
}

_public_ ssize_t ipcb_timedrecv(ipcb_channel *ch, void *buf, size_t size, unsigned *prio, int timeout_ms) {
        return (ssize_t)data_error(do_recv(ch, buf, size, prio, timeout_ms < 0 ? -1 : timeout_ms));
}

/* ---- batches ------------------------------------------------------------------------------ */

_public_ int ipcb_pending(const ipcb_channel *ch) {
        size_t off;
        int n = 0;

        if (!ch)
                return -EINVAL;
        if (ch->type != IPCB_FIFO || ch->framing != IPCB_FRAMING_BATCH)
                return 0;
        for (off = ch->roff; off + LIB_RECORD_HEADER <= ch->rlen; n++) {
                uint16_t len;
                memcpy(&len, ch->rbuf + off, sizeof(len));
                off += LIB_RECORD_HEADER + len;
                if (off > ch->rlen)
                        break;
        }
        return n;
}

static int do_sendv(ipcb_channel *ch, const ipcb_msg *msgs, size_t n, int timeout_ms) {
        struct timespec end;
        size_t sent = 0;
        int r;

        if (!ch || (!msgs && n) || n > INT_MAX)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                if (!msgs[i].data && msgs[i].len)
                        return -EINVAL;
                r = check_send(ch, msgs[i].len);
                if (r < 0)
                        return r;
        }
        if (n == 0)
                return 0;
        if (timeout_ms < 0)
                timeout_ms = -1;

        if (ch->type == IPCB_FIFO && ch->framing == IPCB_FRAMING_BATCH) {
                uint8_t packet[LIB_PACKET_MAX];

                if (timeout_ms >= 0)
                        deadline(CLOCK_MONOTONIC, timeout_ms, &end);
                while (sent < n) {
                        size_t len = 0, first = sent;
                        /* as many whole records as fit: each write is one atomic packet */
                        while (sent < n && len + LIB_RECORD_HEADER + msgs[sent].len <= sizeof(packet)) {
                                uint16_t l = (uint16_t)msgs[sent].len;
                                memcpy(packet + len, &l, sizeof(l));
                                if (l)
                                        memcpy(packet + len + LIB_RECORD_HEADER, msgs[sent].data, l);
                                len += LIB_RECORD_HEADER + l;
                                sent++;
                        }
                        r = fifo_write_packet(ch, packet, len, timeout_ms, &end);
                        if (r < 0) {
                                sent = first;
                                return sent > 0 ? (int)sent : r;
                        }
                }
                return (int)sent;
        }

        /* queues and packet-framed FIFOs: one message per call, all within one deadline */
        if (timeout_ms >= 0)
                deadline(CLOCK_MONOTONIC, timeout_ms, &end);
        for (; sent < n; sent++) {
                r = do_send(ch, msgs[sent].data, msgs[sent].len, msgs[sent].prio,
                            timeout_ms < 0 ? -1 : remaining_ms(&end));
                if (r < 0)
                        return sent > 0 ? (int)sent : r;
        }
        return (int)sent;
}

static int do_recvv(ipcb_channel *ch, ipcb_msg *msgs, size_t n, int timeout_ms) {
        size_t got = 0;

        if (!ch || (!msgs && n) || n > INT_MAX)
                return -EINVAL;
        if (!(ch->flags & IPCB_RECV))
                return -EBADF;
        for (size_t i = 0; i < n; i++)
                if (!msgs[i].data || ch->message_size < 0 || msgs[i].len < (size_t)ch->message_size)
                        return msgs[i].data ? -EMSGSIZE : -EINVAL;
        if (n == 0)
                return 0;

        for (; got < n; got++) {
                ssize_t m;
                if (got == 0) {
                        /* the first message as a plain receive: waits as asked */
                        m = do_recv(ch, msgs[0].data, msgs[0].len, &msgs[0].prio, timeout_ms < 0 ? -1 : timeout_ms);
                        if (m < 0)
                                return (int)m;
                } else if (ch->type == IPCB_MQUEUE) {
                        /* an absolute deadline in the past: take what is there, never wait */
                        static const struct timespec past = { 0, 0 };
                        do
                                m = mq_timedreceive((mqd_t)ch->fd, msgs[got].data, msgs[got].len, &msgs[got].prio,
                                                    &past);
                        while (m < 0 && errno == EINTR);
                        if (m < 0)
                                break;
                } else if (ch->framing == IPCB_FRAMING_BATCH) {
                        msgs[got].prio = 0;
                        m = batch_next(ch, msgs[got].data, msgs[got].len);
                        if (m == -EAGAIN) {
                                if (batch_fill(ch, false, 0, NULL) < 0)
                                        break;
                                m = batch_next(ch, msgs[got].data, msgs[got].len);
                        }
                        if (m < 0)
                                break;
                } else {
                        msgs[got].prio = 0;
                        m = fifo_read_message(ch, msgs[got].data, msgs[got].len, false, 0, NULL);
                        if (m < 0)
                                break;
                }
                msgs[got].len = (size_t)m;
        }
        return (int)got;
}

_public_ int ipcb_sendv(ipcb_channel *ch, const ipcb_msg *msgs, size_t n, int timeout_ms) {
        return (int)data_error(do_sendv(ch, msgs, n, timeout_ms));
}

_public_ int ipcb_recvv(ipcb_channel *ch, ipcb_msg *msgs, size_t n, int timeout_ms) {
        return (int)data_error(do_recvv(ch, msgs, n, timeout_ms));
}
