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

#include "client.h"
#include "counters.h"
#include "log.h"
#include "ratelimit.h"
#include "request.h"

/*
 * What one step with a connection (checking, answering, handling a packet)
 * comes to. A negative errno is a failure: the daemon hangs up.
 */
enum client_step {
        STEP_ANSWERED, /* a request was answered (or refused with an error reply): go on */
        STEP_DISPATCH, /* the request is sound: dispatch it */
        STEP_NOTHING,  /* nothing to read yet */
        STEP_UNREAD,   /* the previous reply is unread */
        STEP_LAST,     /* the client's last request was answered */
        STEP_DEFERRED, /* the request waits for channels (WAIT) */
        STEP_HUNG_UP,  /* the client hung up */
};

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
        /* best effort, and not logged: a client that left or does not read must not fill the log */
        if (n > 0)
                (void)client_send(fd, w.buf, (size_t)n, -1);
}

/*
 * Nothing is installed in our table: with no room for SCM_RIGHTS the kernel
 * only flags MSG_CTRUNC and drops its own extra references, which are never
 * the last (the packet keeps one). With CREDS there is room for
 * SCM_CREDENTIALS alone, which every packet carries, even an empty one: that
 * tells an empty packet from the end of the data. Without it an empty packet
 * reads as 1.
 */
int client_socket_peek(int fd, bool creds) {
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(struct ucred))];
        } control;
        char byte;
        struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        ssize_t n;

        if (creds) {
                mh.msg_control = control.buf;
                mh.msg_controllen = sizeof(control.buf);
        }
        do
                n = recvmsg(fd, &mh, MSG_PEEK | MSG_DONTWAIT);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return errno == EAGAIN ? CLIENT_PEEK_NOTHING : -errno;
        if (mh.msg_flags & MSG_CTRUNC)
                return CLIENT_PEEK_FDS;
        if (creds && n == 0 && mh.msg_controllen == 0)
                return CLIENT_PEEK_NOTHING;
        return CLIENT_PEEK_PACKET;
}

bool client_reply_unread(const struct client *c) {
        int queued = 0;

        /* bytes we sent that the peer has not read; 0 too once the peer's socket is gone */
        return ioctl(c->fd, SIOCOUTQ, &queued) == 0 && queued > 0;
}

/*
 * Check one packet before it is dispatched: STEP_DISPATCH, STEP_ANSWERED when
 * it was answered with an error and the client may go on, or a negative errno
 * to hang up (after an error reply).
 */
static int client_check_request(struct client *c, const uint8_t *buf, size_t n, bool truncated, struct wire_header *hdr,
                                struct wire_attrs *attrs) {
        const char *why = NULL;
        char msg[160];
        int r;

        if (truncated) {
                client_log(c, LOG_WARNING, "request larger than %d bytes; disconnecting", WIRE_PACKET_MAX);
                client_send_error(c->fd, 0, EMSGSIZE, "request larger than the protocol allows");
                return -EMSGSIZE;
        }
        r = wire_decode(buf, n, hdr, attrs, &why);
        if (r == -EBADMSG) {
                client_log(c, LOG_WARNING, "malformed request (%s); disconnecting", why);
                client_send_error(c->fd, n >= sizeof(*hdr) ? hdr->serial : 0, EBADMSG, why);
                return -EBADMSG;
        }
        if (r < 0) {
                if (r == -EPROTONOSUPPORT)
                        snprintf(msg, sizeof(msg), "protocol version %u is not supported; the daemon speaks %u",
                                 hdr->version, WIRE_VERSION);
                else
                        snprintf(msg, sizeof(msg), "%s", why);
                client_log(c, LOG_DEBUG, "rejected request: %s", msg);
                client_send_error(c->fd, hdr->serial, -r, msg);
                return STEP_ANSWERED;
        }
        if (hdr->type == WIRE_REPLY) {
                client_send_error(c->fd, hdr->serial, EINVAL, "clients send requests, not replies");
                return STEP_ANSWERED;
        }
        return STEP_DISPATCH;
}

static int client_defer(struct client *c, const uint8_t *buf, size_t n, unsigned wait_ms);

/* Dispatch a checked request and send its reply: STEP_ANSWERED, STEP_DEFERRED, or a negative errno to hang up. */
static int client_answer(struct client *c, const uint8_t *buf, size_t n, const struct wire_header *hdr,
                         const struct wire_attrs *attrs, bool final) {
        static struct wire_writer reply; /* the loop is single-threaded; too big for the stack */
        struct request req = {
                .env = c->env,
                .cred = &c->cred,
                .charged_uid = c->user->uid,
                .hdr = hdr,
                .attrs = attrs,
                .packet = buf,
                .size = n,
                .reply = &reply,
                .pass_fd = -1,
                .now = ev_now(c->loop),
                .final = final,
        };
        int r;

        wire_writer_init(&reply, WIRE_REPLY, hdr->serial);
        request_dispatch(&req);
        if (req.deferred)
                return client_defer(c, buf, n, req.wait_ms);
        r = wire_writer_finish(&reply);
        if (r < 0) {
                log_error("reply to %s request too large", wire_type_to_string(hdr->type));
                client_send_error(c->fd, hdr->serial, EMSGSIZE, "reply too large");
                r = 0;
        } else
                r = client_send(c->fd, reply.buf, (size_t)r, req.pass_fd);
        c->passed_fd = r >= 0 && req.pass_fd >= 0;
        if (req.pass_fd >= 0)
                close(req.pass_fd);
        if (r < 0) {
                /* the client left, or its socket buffer is full although it read its last reply */
                client_log(c, LOG_DEBUG, "cannot send reply: %s; disconnecting", strerror(-r));
                return r;
        }
        return STEP_ANSWERED;
}

/*
 * The request in BUF waits (WAIT): keep a copy to dispatch again, and answer
 * it at the latest after WAIT_MS. The connection is not read meanwhile.
 */
static int client_defer(struct client *c, const uint8_t *buf, size_t n, unsigned wait_ms) {
        if (!c->pending) {
                c->pending = malloc(n);
                if (!c->pending) {
                        client_send_error(c->fd, 0, ENOMEM, "out of memory");
                        return -ENOMEM;
                }
                memcpy(c->pending, buf, n);
                c->pending_len = n;
                ev_timer_stop(c->loop, &c->idle);
                ev_timer_set(&c->deadline, wait_ms / 1000.0, 0.);
                ev_timer_start(c->loop, &c->deadline);
        }
        return STEP_DEFERRED;
}

/*
 * Handle one packet: STEP_ANSWERED to go on, STEP_NOTHING when nothing is
 * left, STEP_UNREAD when the previous reply is unread, STEP_LAST after the
 * reply to the client's last request, STEP_DEFERRED when it waits,
 * STEP_HUNG_UP, or a negative errno to hang up.
 */
static int client_handle_one(struct client *c) {
        static uint8_t buf[WIRE_PACKET_MAX];
        struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
        /* no room for descriptors: none is ever taken into the daemon's table */
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        struct wire_header hdr;
        struct wire_attrs attrs;
        ssize_t n;
        int r;

        /* every request read so far was answered: the last answer must have been read */
        if (c->requests > 0 && client_reply_unread(c))
                return STEP_UNREAD;
        if (c->may_hold_fds && client_socket_peek(c->fd, false) == CLIENT_PEEK_FDS) {
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
        if (n < 0)
                return errno == EAGAIN || errno == EINTR ? STEP_NOTHING : -errno;
        if (n == 0)
                return STEP_HUNG_UP;

        c->requests++;
        c->env->counters->requests++;
        r = client_check_request(c, buf, (size_t)n, mh.msg_flags & MSG_TRUNC, &hdr, &attrs);
        if (r != STEP_DISPATCH)
                return r;
        r = client_answer(c, buf, (size_t)n, &hdr, &attrs, false);
        if (r != STEP_ANSWERED)
                return r;
        return attrs.v[WIRE_ATTR_LAST].present ? STEP_LAST : STEP_ANSWERED;
}

/* What became of a request: went on, done with, or still waiting. */
static enum client_outcome client_outcome_of(struct client *c, int r) {
        if (r == STEP_DEFERRED) {
                ev_io_stop(c->loop, &c->io);
                return CLIENT_WAITING;
        }
        if (r == STEP_UNREAD) {
                client_log(c, LOG_DEBUG, "sent a request before reading the last reply; paused until it does");
                ev_io_stop(c->loop, &c->io);
                return CLIENT_UNREAD;
        }
        if (r != STEP_ANSWERED && r != STEP_NOTHING) {
                /* its last request answered, hung up, or failed */
                client_stop(c);
                return CLIENT_FINISHED;
        }
        /* The timers run only for a client that stays: a one-shot client served at once never needs them. */
        if (r == STEP_ANSWERED || !ev_is_active(&c->idle))
                ev_timer_again(c->loop, &c->idle);
        if (!ev_is_active(&c->age))
                ev_timer_start(c->loop, &c->age);
        ev_io_start(c->loop, &c->io);
        return CLIENT_SERVED;
}

enum client_outcome client_retry(struct client *c, bool final) {
        struct wire_header hdr;
        struct wire_attrs attrs;
        int r;

        /* the copy was checked when it came: it decodes the same way again */
        if (wire_decode(c->pending, c->pending_len, &hdr, &attrs, NULL) < 0)
                r = -EBADMSG;
        else
                r = client_answer(c, c->pending, c->pending_len, &hdr, &attrs, final);
        if (r == STEP_DEFERRED)
                return CLIENT_WAITING;
        ev_timer_stop(c->loop, &c->deadline);
        if (r == STEP_ANSWERED && attrs.v[WIRE_ATTR_LAST].present)
                r = STEP_LAST;
        free(c->pending);
        c->pending = NULL;
        c->pending_len = 0;
        return client_outcome_of(c, r);
}

enum client_outcome client_serve(struct client *c) {
        return client_outcome_of(c, client_handle_one(c));
}

void client_resume(struct client *c) {
        ev_io_start(c->loop, &c->io);
}

static void client_on_readable(struct ev_loop *loop, ev_io *w, int revents) {
        struct client *c = container_of(w, struct client, io);

        /* wait for the user's turn; the watcher stays off until then */
        ev_io_stop(loop, &c->io);
        c->on_event(c, CLIENT_READABLE, c->userdata);
}

static void client_on_idle(struct ev_loop *loop, ev_timer *w, int revents) {
        struct client *c = container_of(w, struct client, idle);

        client_log(c, LOG_DEBUG, "idle for %.0f s; disconnecting", w->repeat);
        client_stop(c);
        c->on_event(c, CLIENT_EXPIRED, c->userdata);
}

static void client_on_deadline(struct ev_loop *loop, ev_timer *w, int revents) {
        struct client *c = container_of(w, struct client, deadline);

        c->on_event(c, CLIENT_DEADLINE, c->userdata);
}

static void client_on_age(struct ev_loop *loop, ev_timer *w, int revents) {
        struct client *c = container_of(w, struct client, age);

        client_log(c, LOG_DEBUG, "connected for %u s (max_connection_age); disconnecting", c->max_age);
        client_stop(c);
        c->on_event(c, CLIENT_EXPIRED, c->userdata);
}

int client_new(const struct client_params *p, int fd, const struct peer_cred *cred, struct user *user,
               struct client **ret) {
        struct client *c = calloc(1, sizeof(*c));

        if (!c)
                return -ENOMEM;
        c->loop = p->loop;
        c->env = p->env;
        c->on_event = p->on_event;
        c->userdata = p->userdata;
        c->fd = fd;
        c->cred = *cred;
        c->user = user;
        ev_io_init(&c->io, client_on_readable, fd, EV_READ);
        ev_init(&c->idle, client_on_idle);
        c->idle.repeat = p->idle_timeout;
        /* counts from the connection, started once the client stays (client_serve) */
        c->max_age = p->max_connection_age;
        ev_init(&c->deadline, client_on_deadline);
        ev_timer_init(&c->age, client_on_age, p->max_connection_age, 0.);
        *ret = c;
        return 0;
}

void client_stop(struct client *c) {
        ev_io_stop(c->loop, &c->io);
        ev_timer_stop(c->loop, &c->idle);
        ev_timer_stop(c->loop, &c->age);
        ev_timer_stop(c->loop, &c->deadline);
}

void client_free(struct client *c) {
        if (!c)
                return;
        client_stop(c);
        free(c->pending);
        free(c->cred.extra_groups);
        free(c);
}
