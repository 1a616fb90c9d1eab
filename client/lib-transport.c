/*
 * lib-transport.c — libipcbroker talking to the daemon: connecting to its
 * socket (and checking with SO_PEERCRED who answers there before sending
 * anything), sending one request, receiving its reply, taking the
 * descriptor the reply may pass (SCM_RIGHTS) and decoding it. Every call
 * is one connection, one request, one reply (list and purge reuse one
 * connection for their pages). Also where the socket is (ipcb_socket_path,
 * ipcb_set_thread_socket), the library's version, and copying string
 * attributes out of a reply.
 */
#include "build-config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib-internal.h"
#include "util.h"

#ifndef RUNSTATEDIR
#define RUNSTATEDIR "/run"
#endif

/* The socket this thread chose with ipcb_set_thread_socket(), or empty. */
static __thread char thread_socket[sizeof(((struct sockaddr_un *)0)->sun_path)];

_public_ int ipcb_set_thread_socket(const char *path) {
        size_t n;

        if (!path) {
                thread_socket[0] = '\0';
                return 0;
        }
        n = strlen(path);
        if (n == 0)
                return -EINVAL;
        if (n >= sizeof(thread_socket))
                return -ENAMETOOLONG;
        memcpy(thread_socket, path, n + 1);
        return 0;
}

_public_ const char *ipcb_socket_path(void) {
        const char *e;

        if (thread_socket[0])
                return thread_socket;
        /* not from the environment of a setuid caller */
        e = secure_getenv("IPCBROKER_SOCKET");
        return e && *e ? e : RUNSTATEDIR "/ipcbroker/ipcbroker.sock";
}

_public_ const char *ipcb_version(void) {
        return PACKAGE_VERSION;
}

void lib_copy(char *dst, size_t size, const struct wire_value *v) {
        if (!v->present || !v->s) {
                dst[0] = '\0';
                return;
        }
        snprintf(dst, size, "%s", v->s);
}

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

/* What connect(2)'s error R means to the caller. */
static int connect_error(int r, const char *path) {
        if (r == EACCES || r == EPERM) {
                lib_set_detail(EACCES, "permission denied on the ipcbrokerd socket %s", path);
                return -EACCES;
        }
        if (r == ENOENT || r == ECONNREFUSED || r == ENOTDIR || r == EPROTOTYPE) {
                lib_clear_detail();
                return -ECONNREFUSED;
        }
        if (r == ETIMEDOUT) {
                lib_set_detail(ETIMEDOUT, "ipcbrokerd at %s did not accept the connection within %d s", path,
                               LIB_REPLY_TIMEOUT_MS / 1000);
                return -ETIMEDOUT;
        }
        return -r;
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
                return connect_error(r, path);
        }
        /* before a single byte of a request is written */
        r = lib_check_server(fd, path);
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}

/* Drop the descriptor a reply passed, when the reply is not used. */
static void reply_drop_fd(struct lib_reply *reply) {
        if (reply->fd >= 0)
                close(reply->fd);
        reply->fd = -1;
}

/*
 * Send the finished request (LEN bytes of W). A daemon that refuses the
 * connection (too many clients) answers and hangs up before reading the
 * request: the send then fails, but its explanation is already waiting to be
 * read, so *REFUSED is set and the reply is read all the same.
 */
static int send_request(int fd, const struct wire_writer *w, size_t len, bool *refused) {
        ssize_t n;
        int r;

        for (;;) {
                n = send(fd, w->buf, len, MSG_NOSIGNAL);
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
        *refused = false;
        if (n < 0) {
                r = errno;
                if (r != EPIPE && r != ECONNRESET) {
                        lib_set_detail(r, "cannot send a request to ipcbrokerd at %s: %s", ipcb_socket_path(),
                                       strerror(r));
                        return -r;
                }
                *refused = true;
        }
        return 0;
}

/* A reply packet as recvmsg(2) fills it: the bytes go to the lib_reply, the control data here. */
struct reply_msg {
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int) * 4)];
        } control;
        struct iovec iov;
        struct msghdr mh;
};

/* Wait until the reply can be read, at most LIB_REPLY_TIMEOUT_MS. */
static int wait_reply(int fd) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };

        for (;;) {
                int r = poll(&pfd, 1, LIB_REPLY_TIMEOUT_MS);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return -errno;
                if (r == 0) {
                        lib_set_detail(ETIMEDOUT, "ipcbrokerd at %s did not answer within %d s", ipcb_socket_path(),
                                       LIB_REPLY_TIMEOUT_MS / 1000);
                        return -ETIMEDOUT;
                }
                return 0;
        }
}

/* Read the reply packet into REPLY->buf and M's control buffer: its length, or a negative errno. */
static ssize_t receive_reply(int fd, struct reply_msg *m, struct lib_reply *reply, bool refused) {
        ssize_t n;
        int r;

        for (int resets = 0;;) {
                if (!refused) {
                        r = wait_reply(fd);
                        if (r < 0)
                                return r;
                }
                m->iov.iov_base = reply->buf;
                m->iov.iov_len = sizeof(reply->buf);
                memset(&m->mh, 0, sizeof(m->mh));
                m->mh.msg_iov = &m->iov;
                m->mh.msg_iovlen = 1;
                m->mh.msg_control = m->control.buf;
                m->mh.msg_controllen = sizeof(m->control.buf);
                n = recvmsg(fd, &m->mh, MSG_CMSG_CLOEXEC | (refused ? MSG_DONTWAIT : 0));
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
        return n;
}

/* Take the one descriptor a reply may carry (into REPLY->fd); close anything else. */
static int take_fd(struct reply_msg *m, struct lib_reply *reply) {
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m->mh); cm; cm = CMSG_NXTHDR(&m->mh, cm))
                if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
                    cm->cmsg_len >= CMSG_LEN(sizeof(int)) && reply->fd < 0)
                        memcpy(&reply->fd, CMSG_DATA(cm), sizeof(int));
        cmsg_close_fds(&m->mh, reply->fd);
        if ((m->mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
                reply_drop_fd(reply);
                lib_set_detail(EPROTO, "the reply of ipcbrokerd was truncated");
                return -EPROTO;
        }
        return 0;
}

/*
 * Decode the reply to the request numbered SERIAL. A reply with an error
 * becomes the return value and its message the thread's error detail.
 */
static int decode_reply(struct lib_reply *reply, uint32_t serial) {
        const char *why = NULL;
        int r;

        r = wire_decode(reply->buf, reply->size, &reply->hdr, &reply->attrs, &why);
        if (r == 0 && reply->hdr.type != WIRE_REPLY)
                r = -EBADMSG, why = "not a reply";
        if (r == 0 && reply->hdr.serial != serial && reply->hdr.serial != 0)
                r = -EBADMSG, why = "reply to another request";
        if (r < 0) {
                reply_drop_fd(reply);
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
                reply_drop_fd(reply);
                if (reply->attrs.v[WIRE_ATTR_MESSAGE].present)
                        lib_set_detail(r, "%s", reply->attrs.v[WIRE_ATTR_MESSAGE].s);
                else
                        lib_clear_detail();
                return -r;
        }
        return 0;
}

int lib_transact(int fd, struct wire_writer *w, struct lib_reply *reply) {
        struct reply_msg m;
        uint32_t serial;
        bool refused;
        ssize_t n;
        int len, r;

        reply->fd = -1;
        len = wire_writer_finish(w);
        if (len < 0) {
                lib_set_detail(EMSGSIZE, "request too large for the protocol");
                return -EMSGSIZE;
        }
        memcpy(&serial, w->buf + offsetof(struct wire_header, serial), sizeof(serial));
        r = send_request(fd, w, (size_t)len, &refused);
        if (r < 0)
                return r;
        n = receive_reply(fd, &m, reply, refused);
        if (n < 0)
                return (int)n;
        r = take_fd(&m, reply);
        if (r < 0)
                return r;
        reply->size = (size_t)n;
        return decode_reply(reply, serial);
}

int lib_call(struct wire_writer *w, struct lib_reply *reply) {
        int fd, r;

        reply->fd = -1; /* no descriptor, also when there is no connection */
        fd = lib_connect();
        if (fd < 0)
                return fd;
        wire_put_flag(w, WIRE_ATTR_LAST); /* the daemon hangs up after the reply */
        r = lib_transact(fd, w, reply);
        close(fd);
        return r;
}
