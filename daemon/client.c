/*
 * client.c — one connection on the control socket.
 *
 * The caller's identity comes from the kernel (SO_PEERCRED, SO_PEERGROUPS)
 * at connect time, never from the request. Each turn takes one packet,
 * validates it with the shared decoder, dispatches it and sends one reply
 * without blocking. Before the next packet is read, the previous reply must
 * have been read (SIOCOUTQ is 0): a client that pipelines requests without
 * reading is paused, not served faster. A client that sends malformed
 * framing, passes descriptors or stays idle is disconnected, and its lines
 * in the log count against its user's budget.
 */
#include "build-config.h"

#include <errno.h>
#include <linux/sockios.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker.h"
#include "client.h"
#include "listener.h"
#include "log.h"
#include "ratelimit.h"
#include "request.h"
#include "users.h"

#define CLIENT_DONE 1
#define CLIENT_WAIT 2 /* the previous reply is unread */

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

bool client_reply_unread(const struct client *c) {
        int queued = 0;

        /* bytes we sent that the peer has not read; 0 too once the peer's socket is gone */
        return ioctl(c->fd, SIOCOUTQ, &queued) == 0 && queued > 0;
}

/*
 * Handle one packet. Returns 0 to go on, -EAGAIN when nothing is left,
 * CLIENT_WAIT when the previous reply is unread, CLIENT_DONE after the reply
 * to the client's last request, other negative to hang up.
 */
static int client_handle_one(struct client *c) {
        static struct wire_writer reply; /* the loop is single-threaded; too big for the stack */
        static uint8_t buf[WIRE_PACKET_MAX];
        struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
        /* no room for descriptors: none is ever taken into the daemon's table */
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        struct wire_header hdr;
        struct wire_attrs attrs;
        struct request req = {};
        const char *why = NULL;
        ssize_t n;
        int r;

        /* every request read so far was answered: the last answer must have been read */
        if (c->requests > 0 && client_reply_unread(c))
                return CLIENT_WAIT;
        if (listener_packet_has_fds(c->listener, c)) {
                /*
                 * Only before Linux 6.16: taking the packet would release its
                 * descriptors here, and a file's release may take as long as
                 * its owner likes. It stays where it is; the socket goes to a
                 * closing thread whole.
                 */
                client_log(c, LOG_WARNING, "passed descriptors to the daemon; disconnecting");
                client_send_error(c->fd, 0, EPERM, "descriptors may not be passed to ipcbrokerd");
                return -EPERM;
        }
        n = recvmsg(c->fd, &mh, MSG_DONTWAIT);
        if (n < 0) {
                if (errno == EAGAIN || errno == EINTR)
                        return -EAGAIN;
                return -errno;
        }
        if (n == 0)
                return -ECONNRESET; /* the client hung up */

        c->requests++;
        c->broker->counters.requests++;

        if (mh.msg_flags & MSG_TRUNC) {
                client_log(c, LOG_WARNING, "request larger than %d bytes; disconnecting", WIRE_PACKET_MAX);
                client_send_error(c->fd, 0, EMSGSIZE, "request larger than the protocol allows");
                return -EMSGSIZE;
        }
        r = wire_decode(buf, (size_t)n, &hdr, &attrs, &why);
        if (r == -EBADMSG) {
                client_log(c, LOG_WARNING, "malformed request (%s); disconnecting", why);
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
                client_log(c, LOG_DEBUG, "rejected request: %s", msg);
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
        c->passed_fd = r >= 0 && req.pass_fd >= 0;
        if (req.pass_fd >= 0)
                close(req.pass_fd);
        if (r < 0) {
                /* the client left, or its socket buffer is full although it read its last reply */
                client_log(c, LOG_DEBUG, "cannot send reply: %s; disconnecting", strerror(-r));
                return r == -EAGAIN ? -ENOBUFS : r;
        }
        return attrs.v[WIRE_ATTR_LAST].present ? CLIENT_DONE : 0;
}

/*
 * The daemon is done with the client: let go, or keep it while the
 * descriptor its last reply carried may be unread. Right after a reply it
 * almost always is, so the check is left to the sweeps (listener.c), which
 * usually find it read at the next one.
 */
static void client_finish(struct client *c) {
        if (c->passed_fd) {
                listener_keep(c->listener, c, CLIENT_KEPT);
                return;
        }
        client_free(c);
}

void client_serve(struct client *c) {
        int r = client_handle_one(c);

        if (r == -EAGAIN || r == 0) {
                if (c->state == CLIENT_ACTIVE) {
                        struct ev_loop *loop = c->broker->loop;
                        /*
                         * The timers run only for a client that stays: a
                         * one-shot client served at once never needs them.
                         */
                        if (r == 0 || !ev_is_active(&c->idle))
                                ev_timer_again(loop, &c->idle);
                        if (!ev_is_active(&c->age))
                                ev_timer_start(loop, &c->age);
                        ev_io_start(loop, &c->io);
                }
                return;
        }
        if (r == CLIENT_WAIT) {
                client_log(c, LOG_DEBUG, "sent a request before reading the last reply; paused until it does");
                listener_keep(c->listener, c, CLIENT_PAUSED);
                return;
        }
        client_finish(c);
}

void client_reply_read(struct client *c) {
        if (c->state == CLIENT_KEPT) {
                client_free(c);
                return;
        }
        listener_resume(c->listener, c);
        ev_io_start(c->broker->loop, &c->io);
}

static void client_on_readable(struct ev_loop *loop, ev_io *w, int revents) {
        struct client *c = container_of(w, struct client, io);

        /* wait for the user's turn; the watcher stays off until then */
        ev_io_stop(loop, &c->io);
        listener_wait_turn(c->listener, c);
}

static void client_on_idle(struct ev_loop *loop, ev_timer *w, int revents) {
        struct client *c = container_of(w, struct client, idle);

        client_log(c, LOG_DEBUG, "idle for %.0f s; disconnecting", w->repeat);
        client_finish(c);
}

static void client_on_age(struct ev_loop *loop, ev_timer *w, int revents) {
        struct client *c = container_of(w, struct client, age);

        client_log(c, LOG_DEBUG, "connected for %u s (max_connection_age); disconnecting",
                   c->broker->config->max_connection_age);
        client_finish(c);
}

int client_new(struct broker *b, struct listener *l, int fd, const struct peer_cred *cred, struct user *user,
               struct client **ret) {
        struct client *c = calloc(1, sizeof(*c));

        if (!c)
                return -ENOMEM;
        c->broker = b;
        c->listener = l;
        c->fd = fd;
        c->cred = *cred;
        c->user = user;
        ev_io_init(&c->io, client_on_readable, fd, EV_READ);
        ev_init(&c->idle, client_on_idle);
        c->idle.repeat = b->config->idle_timeout;
        /* counts from the connection, started once the client stays (client_serve) */
        ev_timer_init(&c->age, client_on_age, b->config->max_connection_age, 0.);
        *ret = c;
        return 0;
}

void client_free(struct client *c) {
        if (!c)
                return;
        ev_io_stop(c->broker->loop, &c->io);
        ev_timer_stop(c->broker->loop, &c->idle);
        ev_timer_stop(c->broker->loop, &c->age);
        listener_client_gone(c->listener, c); /* closes the socket */
        free(c->cred.extra_groups);
        free(c);
}
