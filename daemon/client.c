/*
 * client.c — one connection on the control socket.
 *
 * The caller's identity comes from the kernel (SO_PEERCRED, SO_PEERGROUPS)
 * at connect time, never from the request. Each readable event takes one
 * packet, validates it with the shared decoder, dispatches it and sends one
 * reply without blocking; a client that does not read its replies, sends
 * malformed framing or stays idle is disconnected. Descriptors a client tries
 * to pass to us are closed unread.
 */
#include "build-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker.h"
#include "client.h"
#include "listener.h"
#include "log.h"
#include "request.h"

/* one request per wakeup: the loop is level-triggered, so a busy client is
 * served again on the next iteration, after the others */
#define CLIENT_REQUESTS_PER_WAKEUP 1

#define CLIENT_DONE 1

static int client_read_cred(struct client *c) {
        struct ucred uc;
        socklen_t len = sizeof(uc);
        gid_t *groups;

        if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
                return -errno;
        c->cred.pid = uc.pid;
        c->cred.uid = uc.uid;
        c->cred.gid = uc.gid;
        c->cred.n_groups = 0;
        if (uc.uid == 0)
                return 0; /* root may do anything: its groups never matter */

        len = sizeof(c->cred.groups);
        if (getsockopt(c->fd, SOL_SOCKET, SO_PEERGROUPS, c->cred.groups, &len) == 0) {
                c->cred.n_groups = len / sizeof(gid_t);
                return 0;
        }
        if (errno == ENOPROTOOPT)
                return 0; /* kernel before 4.13: primary group only */
        if (errno != ERANGE)
                return -errno;
        /*
         * More groups than we keep inline. Dropping them would move a group
         * member into the "other" class, which may grant what the group
         * class denies: read them all, or refuse the client.
         */
        groups = malloc(len);
        if (!groups)
                return -ENOMEM;
        if (getsockopt(c->fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0) {
                int r = -errno;
                free(groups);
                log_warning("client pid %d uid %u: cannot read its groups: %s; refusing it", uc.pid, uc.uid,
                            strerror(-r));
                return r;
        }
        c->cred.extra_groups = groups;
        c->cred.n_extra_groups = len / sizeof(gid_t);
        return 0;
}

/* Send one reply packet, with an optional descriptor; never blocks. */
static int client_send(int fd, const void *buf, size_t len, int pass_fd) {
        struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int))];
        } control;
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

        if (pass_fd >= 0) {
                struct cmsghdr *cm;
                memset(&control, 0, sizeof(control));
                mh.msg_control = control.buf;
                mh.msg_controllen = sizeof(control.buf);
                cm = CMSG_FIRSTHDR(&mh);
                cm->cmsg_level = SOL_SOCKET;
                cm->cmsg_type = SCM_RIGHTS;
                cm->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
        }
        if (sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
                return -errno;
        return 0;
}

void client_send_error(int fd, uint32_t serial, int err, const char *message) {
        struct wire_writer w;
        int n;

        wire_writer_init(&w, WIRE_REPLY, serial);
        wire_put_u32(&w, WIRE_ATTR_ERROR, (uint32_t)err);
        wire_put_string(&w, WIRE_ATTR_MESSAGE, message);
        n = wire_writer_finish(&w);
        if (n > 0)
                (void)client_send(fd, w.buf, (size_t)n, -1);
}

/*
 * Handle one packet. Returns 0 to go on, -EAGAIN when nothing is left,
 * CLIENT_DONE after the reply to the client's last request, other negative
 * to hang up.
 */
static int client_handle_one(struct client *c) {
        static struct wire_writer reply; /* the loop is single-threaded; too big for the stack */
        uint8_t buf[WIRE_PACKET_MAX];
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int) * 8)];
        } control;
        struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                             .msg_controllen = sizeof(control.buf) };
        struct wire_header hdr;
        struct wire_attrs attrs;
        struct request req = {};
        const char *why = NULL;
        ssize_t n;
        int r;

        n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n < 0) {
                if (errno == EAGAIN || errno == EINTR)
                        return -EAGAIN;
                return -errno;
        }
        cmsg_close_fds(&mh, -1); /* a client has no business passing us descriptors */
        if (n == 0)
                return -ECONNRESET; /* the client hung up */

        c->requests++;
        c->broker->counters.requests++;
        ev_timer_again(c->broker->loop, &c->idle);

        if (mh.msg_flags & MSG_TRUNC) {
                log_warning("client pid %d uid %u: request larger than %d bytes; disconnecting", c->cred.pid,
                            c->cred.uid, WIRE_PACKET_MAX);
                client_send_error(c->fd, 0, EMSGSIZE, "request larger than the protocol allows");
                return -EMSGSIZE;
        }
        r = wire_decode(buf, (size_t)n, &hdr, &attrs, &why);
        if (r == -EBADMSG) {
                log_warning("client pid %d uid %u: malformed request (%s); disconnecting", c->cred.pid, c->cred.uid,
                            why);
                client_send_error(c->fd, (size_t)n >= sizeof(hdr) ? hdr.serial : 0, EBADMSG, why);
                return -EBADMSG;
        }
        if (r < 0) {
                char msg[160];
                if (r == -EPROTONOSUPPORT)
                        snprintf(msg, sizeof(msg), "protocol version %u is not supported; the daemon speaks %u",
                                 hdr.version, WIRE_VERSION);
                else
                        snprintf(msg, sizeof(msg), "%s", why);
                log_debug("client pid %d uid %u: rejected request: %s", c->cred.pid, c->cred.uid, msg);
                client_send_error(c->fd, hdr.serial, -r, msg);
                return 0;
        }
        if (hdr.type == WIRE_REPLY) {
                client_send_error(c->fd, hdr.serial, EINVAL, "clients send requests, not replies");
                return 0;
        }

        wire_writer_init(&reply, WIRE_REPLY, hdr.serial);
        req.client = c;
        req.hdr = &hdr;
        req.attrs = &attrs;
        req.packet = buf;
        req.size = (size_t)n;
        req.reply = &reply;
        req.pass_fd = -1;
        request_dispatch(&req);

        r = wire_writer_finish(&reply);
        if (r < 0) {
                log_error("reply to %s request too large", wire_type_to_string(hdr.type));
                client_send_error(c->fd, hdr.serial, EMSGSIZE, "reply too large");
                r = 0;
        } else
                r = client_send(c->fd, reply.buf, (size_t)r, req.pass_fd);
        if (req.pass_fd >= 0)
                close(req.pass_fd);
        if (r < 0) {
                /* the socket buffer is full (the client does not read) or the client left */
                log_debug("client pid %d uid %u: cannot send reply: %s; disconnecting", c->cred.pid, c->cred.uid,
                          strerror(-r));
                /* -EAGAIN here means a full socket buffer, not "nothing to read": hang up */
                return r == -EAGAIN ? -ENOBUFS : r;
        }
        return attrs.v[WIRE_ATTR_LAST].present ? CLIENT_DONE : 0;
}

void client_serve(struct client *c) {
        /* a few requests per wakeup, so one busy client cannot starve the others */
        for (int i = 0; i < CLIENT_REQUESTS_PER_WAKEUP; i++) {
                int r = client_handle_one(c);
                if (r == -EAGAIN)
                        return;
                if (r < 0 || r == CLIENT_DONE) {
                        client_free(c);
                        return;
                }
        }
}

static void client_on_readable(struct ev_loop *loop, ev_io *w, int revents) {
        client_serve(container_of(w, struct client, io));
}

static void client_on_idle(struct ev_loop *loop, ev_timer *w, int revents) {
        struct client *c = container_of(w, struct client, idle);

        log_debug("client pid %d uid %u: idle for %.0f s; disconnecting", c->cred.pid, c->cred.uid, w->repeat);
        client_free(c);
}

int client_new(struct broker *b, struct listener *l, int fd, struct client **ret) {
        struct client *c = calloc(1, sizeof(*c));
        int r;

        if (!c)
                return -ENOMEM;
        c->broker = b;
        c->listener = l;
        c->fd = fd;
        r = client_read_cred(c);
        if (r < 0) {
                log_warning("cannot read the credentials of a new client: %s", strerror(-r));
                free(c);
                return r;
        }
        ev_io_init(&c->io, client_on_readable, fd, EV_READ);
        ev_init(&c->idle, client_on_idle);
        c->idle.repeat = b->config->idle_timeout;
        ev_io_start(b->loop, &c->io);
        ev_timer_again(b->loop, &c->idle);
        *ret = c;
        return 0;
}

void client_free(struct client *c) {
        if (!c)
                return;
        ev_io_stop(c->broker->loop, &c->io);
        ev_timer_stop(c->broker->loop, &c->idle);
        if (c->listener)
                listener_client_gone(c->listener, c);
        free(c->cred.extra_groups);
        close(c->fd);
        free(c);
}
