/*
 * listener.c — the control socket and the set of connected clients.
 *
 * The socket is a SOCK_SEQPACKET Unix socket: one packet per message, so the
 * protocol needs no framing. It is inherited from systemd when the daemon is
 * socket-activated, else created at the configured path. A stale socket left
 * by a crashed daemon is replaced; a live one (another daemon answers) or
 * anything that is not a socket is refused.
 *
 * Connections beyond max_clients are accepted and closed at once, so the
 * backlog cannot fill. When accept() runs out of descriptors, the listener
 * pauses briefly instead of spinning on a socket that stays readable.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "broker.h"
#include "client.h"
#include "closer.h"
#include "listener.h"
#include "log.h"
#include "peer.h"
#include "ratelimit.h"
#include "safepath.h"
#include "users.h"

#define LISTENER_BACKOFF 0.1  /* seconds to pause accepting after EMFILE/ENFILE */
#define LISTENER_SWEEP 0.1    /* seconds between checks of connections with an unread reply */
#define LISTENER_SWEEP_STEP 4 /* kept connections checked each time another is kept */
#define LISTENER_DRAIN_MAX 64 /* packets read out of a socket before it is closed */

#ifndef SO_PASSRIGHTS
#define SO_PASSRIGHTS 83
#endif

struct listener {
        struct broker *broker;
        int fd;
        bool activated; /* inherited from systemd: not ours to unlink */
        char *path;
        dev_t dev;
        ino_t ino;
        ev_io io;
        ev_timer backoff;
        /* the kernel refuses descriptors sent to our connections (SO_PASSRIGHTS = 0) */
        bool refuses_fds;
        /* connections queued before SO_PASSRIGHTS was set on an inherited socket */
        bool old_backlog;
        struct list clients; /* live connections */
        struct list waiting; /* paused and kept connections, oldest first */
        ev_timer sweep;
        struct users users;
        struct sched sched;
        ev_prepare turns;      /* serves one request of each waiting user per loop iteration */
        ev_idle busy;          /* keeps the loop from sleeping while users wait */
        struct closer *closer; /* closes what clients passed, off the loop */
};

const char *listener_path(const struct listener *l) {
        return l->path;
}

size_t listener_n_clients(const struct listener *l) {
        return l->clients.n;
}

static void listener_on_closed(void *owner, void *userdata) {
        struct listener *l = userdata;
        struct user *user = owner;

        if (!user)
                return;
        user->pinned--;
        users_put(&l->users, user);
}

/* Close FD on a helper thread, charged to USER until it is closed. */
static void listener_close_later(struct listener *l, int fd, struct user *user) {
        if (!l->closer && closer_new(l->broker->loop, listener_on_closed, l, &l->closer) < 0) {
                log_error("cannot set up the closing threads: out of memory; closing a client socket on the loop");
                close(fd);
                return;
        }
        if (user)
                user->pinned++;
        if (closer_close(l->closer, fd, user) < 0 && user)
                user->pinned--; /* closed on the loop after all (closer_close said why) */
}

/*
 * What is queued first on FD, without taking it: 0 nothing (or only the end
 * of a shut-down socket), 1 a packet without descriptors, 2 a packet with
 * descriptors, negative on error. Nothing is installed in our table: with no
 * room for SCM_RIGHTS the kernel only flags MSG_CTRUNC and drops its own
 * extra references, which are never the last (the packet keeps one). With
 * CREDS (SO_PASSCRED is set on FD) there is room for SCM_CREDENTIALS alone,
 * which every packet carries, even an empty one: that tells an empty packet
 * from the end of the data. Without it an empty packet reads as 1.
 */
static int listener_peek(int fd, bool creds) {
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
                return errno == EAGAIN ? 0 : -errno;
        if (mh.msg_flags & MSG_CTRUNC)
                return 2;
        if (creds && n == 0 && mh.msg_controllen == 0)
                return 0;
        return 1;
}

/*
 * Close a connection's socket. Where descriptors may sit unread in it
 * (before Linux 6.16), its last close would release them here: it is shut
 * down (no one can add more), the packets without descriptors are read and
 * dropped, and a socket that still holds descriptors goes whole to a helper
 * thread, charged to USER. Otherwise what the client sent is read out too,
 * when the client should see our last packet (a socket closed with unread
 * data resets its peer).
 */
static void listener_close_socket(struct listener *l, int fd, bool may_hold_fds, bool read_out, struct user *user) {
        int one = 1;

        if (!may_hold_fds && !read_out) {
                close(fd);
                return;
        }
        (void)shutdown(fd, SHUT_RDWR);
        if (may_hold_fds && setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0) {
                listener_close_later(l, fd, user);
                return;
        }
        for (int i = 0; i < LISTENER_DRAIN_MAX; i++) {
                int what = may_hold_fds ? listener_peek(fd, true) : 1;
                char byte;

                if (what <= 0) {
                        close(fd); /* empty */
                        return;
                }
                if (what == 2)
                        break; /* holds descriptors */
                /* no descriptor in this one: nothing the kernel could release here */
                if (recv(fd, &byte, 1, MSG_DONTWAIT) <= 0 && !may_hold_fds) {
                        close(fd); /* empty, or an empty packet: nothing to release either way */
                        return;
                }
        }
        if (may_hold_fds)
                listener_close_later(l, fd, user); /* holds descriptors, or does not empty */
        else
                close(fd);
}

bool listener_packet_has_fds(const struct listener *l, const struct client *c) {
        return c->may_hold_fds && listener_peek(c->fd, false) == 2;
}

static void listener_reject(struct listener *l, int fd, bool may_hold_fds, const char *why, struct user *user) {
        /* one short error packet, then hang up: the client sees why */
        client_send_error(fd, 0, EUSERS, why);
        listener_close_socket(l, fd, may_hold_fds, true, user);
}

static bool listener_privileged(const struct listener *l, const struct peer_cred *cred) {
        return cred->uid == 0 || policy_is_admin(l->broker->config, cred);
}

/* May descriptors sit in this new connection? Only where the kernel does not refuse them. */
static bool listener_may_hold_fds(struct listener *l, int fd) {
        int v = 1;
        socklen_t len = sizeof(v);

        if (!l->refuses_fds)
                return true;
        if (!l->old_backlog)
                return false;
        /* inherited socket: was this one made before we set SO_PASSRIGHTS? */
        if (getsockopt(fd, SOL_SOCKET, SO_PASSRIGHTS, &v, &len) < 0 || v != 0)
                return true;
        l->old_backlog = false; /* accepted in order: every later one is newer still */
        return false;
}

/* Admit a new connection, or say why not. */
static void listener_admit(struct listener *l, int fd) {
        const struct config *cfg = l->broker->config;
        bool may_hold_fds = listener_may_hold_fds(l, fd);
        struct peer_cred cred = {};
        struct user *user = NULL;
        struct client *c;
        const char *why;
        uid_t charged;
        int r;

        r = peer_read_cred(fd, &cred);
        if (r < 0) {
                log_warning("cannot read the credentials of a new client: %s", strerror(-r));
                why = "cannot read your credentials";
                goto refuse;
        }
        /* root and admins get in beyond max_clients, so no user can lock them out */
        if (l->clients.n >= cfg->max_clients + (listener_privileged(l, &cred) ? LISTENER_ADMIN_RESERVE : 0)) {
                log_client(cred.uid, LOG_WARNING,
                           "refusing a connection from uid %u (pid %d): %zu clients connected (max_clients)", cred.uid,
                           cred.pid, l->clients.n);
                why = "too many clients connected to ipcbrokerd (max_clients)";
                goto refuse;
        }
        charged = peer_charge_uid(fd, &cred);
        user = users_get(&l->users, charged);
        if (!user) {
                log_error("cannot accept a connection: out of memory");
                why = "out of memory";
                goto refuse;
        }
        /* one user must not starve the others (root is exempt) */
        if (cred.uid != 0 && user_charge(user) >= cfg->max_clients_per_user) {
                if (charged != cred.uid)
                        log_client(charged, LOG_WARNING,
                                   "refusing a connection from uid %u (pid %d), charged to uid %u (the owner of its "
                                   "user namespace or subordinate uids): it holds %u connections and descriptors "
                                   "(max_clients_per_user)",
                                   cred.uid, cred.pid, charged, user_charge(user));
                else
                        log_client(charged, LOG_WARNING,
                                   "refusing a connection from uid %u (pid %d): it holds %u connections and "
                                   "descriptors (max_clients_per_user)",
                                   cred.uid, cred.pid, user_charge(user));
                why = "too many connections from this user (max_clients_per_user)";
                goto refuse;
        }
        if (client_new(l->broker, l, fd, &cred, user, &c) < 0) {
                why = "out of memory";
                goto refuse;
        }
        c->may_hold_fds = may_hold_fds;
        user->connections++;
        list_append(&l->clients, &c->live);
        l->broker->counters.connections++;
        broker_status_changed(l->broker);
        /*
         * A one-shot client has usually sent its request by now: serving it
         * at once spares a trip through the loop, and when that was its last
         * request, the watcher never reaches epoll. While users wait for
         * their turn, it waits for its own like everyone.
         */
        if (sched_waiting_users(&l->sched))
                listener_wait_turn(l, c);
        else
                client_serve(c);
        return;

refuse:
        listener_reject(l, fd, may_hold_fds, why, user);
        if (user)
                users_put(&l->users, user);
        free(cred.extra_groups);
}

static void listener_on_readable(struct ev_loop *loop, ev_io *w, int revents) {
        struct listener *l = container_of(w, struct listener, io);
        int fd;

        /*
         * One connection per wakeup: the loop is level-triggered, so the next
         * one is accepted on the next iteration, after the requests of the
         * clients already connected. That is fair to them, and spares the
         * accept that would only say EAGAIN after each connection.
         */
        fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
                if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
                        return;
                if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                        log_warning("cannot accept connections: %s; pausing for %.0f ms", strerror(errno),
                                    LISTENER_BACKOFF * 1000);
                        ev_io_stop(loop, &l->io);
                        ev_timer_set(&l->backoff, LISTENER_BACKOFF, 0.);
                        ev_timer_start(loop, &l->backoff);
                        return;
                }
                log_error("accept on the control socket failed: %s", strerror(errno));
                return;
        }
        listener_admit(l, fd);
}

static void listener_on_backoff(struct ev_loop *loop, ev_timer *w, int revents) {
        struct listener *l = container_of(w, struct listener, backoff);

        ev_io_start(loop, &l->io);
}

/* ---- turns ---- */

void listener_wait_turn(struct listener *l, struct client *c) {
        sched_push(&l->sched, &c->user->turn, &c->turn);
}

static void listener_on_turns(struct ev_loop *loop, ev_prepare *w, int revents) {
        struct listener *l = container_of(w, struct listener, turns);
        size_t n = sched_waiting_users(&l->sched);

        /* one round: one request of each user that waits */
        for (size_t i = 0; i < n; i++) {
                struct client *c = list_entry(sched_pop(&l->sched), struct client, turn);
                if (!c)
                        break;
                client_serve(c);
        }
        if (sched_waiting_users(&l->sched))
                ev_idle_start(loop, &l->busy);
        else
                ev_idle_stop(loop, &l->busy);
}

static void listener_on_busy(struct ev_loop *loop, ev_idle *w, int revents) {
        /* nothing: being active keeps the next poll from sleeping */
}

/* ---- connections with an unread reply ---- */

/*
 * Check up to MAX of the oldest waiting connections, stopping at STOP: go on
 * with those whose reply was read; the others go to the back.
 */
static void listener_sweep(struct listener *l, size_t max, const struct list_node *stop) {
        for (size_t i = 0; i < max && l->waiting.first && l->waiting.first != stop; i++) {
                struct client *c = list_entry(l->waiting.first, struct client, wait);
                if (!client_reply_unread(c)) {
                        client_reply_read(c); /* leaves the list */
                        continue;
                }
                list_unlink(&l->waiting, &c->wait);
                list_append(&l->waiting, &c->wait);
        }
}

static void listener_on_sweep(struct ev_loop *loop, ev_timer *w, int revents) {
        struct listener *l = container_of(w, struct listener, sweep);

        listener_sweep(l, l->waiting.n, NULL); /* each one once */
        if (!l->waiting.first)
                ev_timer_stop(loop, &l->sweep);
}

void listener_keep(struct listener *l, struct client *c, enum client_state state) {
        struct ev_loop *loop = l->broker->loop;
        bool listed = c->state != CLIENT_ACTIVE;

        ev_io_stop(loop, &c->io);
        sched_remove(&l->sched, &c->user->turn, &c->turn);
        if (state == CLIENT_KEPT && c->state != CLIENT_KEPT) {
                /* no longer a connection we serve, but what it pins stays charged */
                ev_timer_stop(loop, &c->idle);
                ev_timer_stop(loop, &c->age);
                list_unlink(&l->clients, &c->live);
                c->user->connections--;
                c->user->pinned++;
                broker_status_changed(l->broker);
        }
        c->state = state;
        if (!listed)
                list_append(&l->waiting, &c->wait);
        listener_sweep(l, LISTENER_SWEEP_STEP, &c->wait);
        if (l->waiting.first && !ev_is_active(&l->sweep)) {
                ev_timer_set(&l->sweep, LISTENER_SWEEP, LISTENER_SWEEP);
                ev_timer_start(loop, &l->sweep);
        }
}

void listener_resume(struct listener *l, struct client *c) {
        list_unlink(&l->waiting, &c->wait);
        c->state = CLIENT_ACTIVE;
}

void listener_client_gone(struct listener *l, struct client *c) {
        struct user *user = c->user;

        sched_remove(&l->sched, &user->turn, &c->turn);
        list_unlink(&l->waiting, &c->wait);
        if (c->state == CLIENT_KEPT)
                user->pinned--;
        else {
                list_unlink(&l->clients, &c->live);
                user->connections--;
                broker_status_changed(l->broker);
        }
        listener_close_socket(l, c->fd, c->may_hold_fds, false, user);
        c->fd = -1;
        users_put(&l->users, user);
}

void listener_channel_gone(struct listener *l, struct channel *ch) {
        /* clients hold no channel references between requests */
        (void)l;
        (void)ch;
}

void listener_config_changed(struct listener *l) {
        const struct config *c = l->broker->config;
        _cleanup_close_ int dirfd = -1;
        const char *base;
        struct stat st;

        if (l->activated)
                return;
        if (!streq(c->socket, l->path))
                log_notice("the socket path changed to %s; it takes effect when the daemon restarts (still %s)",
                           c->socket, l->path);
        /* only our own socket, reached without following links, and only when the mode changed */
        if (safepath_open_parent(l->path, 0, &dirfd, &base, NULL) < 0 ||
            fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISSOCK(st.st_mode) || st.st_dev != l->dev ||
            st.st_ino != l->ino) {
                log_warning("control socket %s is no longer the daemon's; not changing its mode", l->path);
                return;
        }
        if ((st.st_mode & 07777) != c->socket_mode && fchmodat(dirfd, base, c->socket_mode, 0) < 0)
                log_warning("cannot set mode %04o on %s: %s", c->socket_mode, l->path, strerror(errno));
}

/*
 * Ask the kernel to refuse descriptors sent to our connections (Linux 6.16).
 * IPCBROKERD_NO_PASSRIGHTS=1 takes the older kernels' path, for tests.
 */
static bool listener_refuse_fds(int fd) {
        const char *e = getenv("IPCBROKERD_NO_PASSRIGHTS");
        int zero = 0;

        if (e && streq(e, "1")) {
                log_notice("IPCBROKERD_NO_PASSRIGHTS=1: descriptors clients pass are accepted and closed on a "
                           "helper thread, as on kernels before 6.16");
                return false;
        }
        if (setsockopt(fd, SOL_SOCKET, SO_PASSRIGHTS, &zero, sizeof(zero)) == 0)
                return true;
        log_info("this kernel cannot refuse descriptors at the socket (SO_PASSRIGHTS, Linux 6.16: %s); descriptors "
                 "clients pass are closed on a helper thread",
                 strerror(errno));
        return false;
}

/* An inherited socket: exactly one, a listening SOCK_SEQPACKET Unix socket. */
static int listener_inherit(struct listener *l) {
        int n = sd_listen_fds(1);
        struct sockaddr_un sa = {};
        socklen_t len = sizeof(sa);

        if (n < 0) {
                log_error("socket activation: %s", strerror(-n));
                return n;
        }
        if (n == 0)
                return 0;
        if (n > 1) {
                log_error("socket activation: %d sockets passed, expected exactly one SOCK_SEQPACKET Unix socket", n);
                return -EINVAL;
        }
        if (sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_SEQPACKET, 1, NULL, 0) <= 0) {
                log_error("socket activation: the passed socket is not a listening SOCK_SEQPACKET Unix socket "
                          "(use ListenSequentialPacket=)");
                return -EINVAL;
        }
        l->fd = SD_LISTEN_FDS_START;
        l->activated = true;
        if (fcntl(l->fd, F_SETFD, FD_CLOEXEC) < 0 || fcntl(l->fd, F_SETFL, O_NONBLOCK) < 0)
                return -errno;
        l->refuses_fds = listener_refuse_fds(l->fd);
        /* connections that waited for us were made before: they may carry descriptors */
        l->old_backlog = true;
        if (getsockname(l->fd, (struct sockaddr *)&sa, &len) == 0 && len > offsetof(struct sockaddr_un, sun_path) &&
            sa.sun_path[0])
                l->path = strndup(sa.sun_path, sizeof(sa.sun_path));
        else
                l->path = strdup("(inherited socket)");
        return l->path ? 1 : -ENOMEM;
}

static int listener_create(struct listener *l) {
        const struct config *c = l->broker->config;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int dirfd = -1;
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *bad = NULL;
        const char *base, *reason;
        struct stat st;
        mode_t old_umask;
        int r;

        if (strlen(c->socket) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        r = safepath_open_parent(c->socket, 0755, &dirfd, &base, &bad);
        if (r < 0) {
                log_error("control socket %s: cannot open its directory (at %s): %s", c->socket, bad ? bad : "?",
                          r == -ELOOP ? "a symlink is in the way" : strerror(-r));
                return r;
        }
        /* not even sticky: another user could bind the path first and pose as the daemon */
        r = safepath_check_dir(dirfd, false, geteuid(), &reason);
        if (r < 0) {
                log_error("control socket %s: its directory %.*s %s; refusing to use it: another user could "
                          "bind the socket path first and pose as the daemon",
                          c->socket, base - c->socket > 1 ? (int)(base - c->socket - 1) : 1, c->socket, reason);
                return r;
        }

        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        /* before anyone can connect: every connection inherits it */
        l->refuses_fds = listener_refuse_fds(fd);
        memcpy(sa.sun_path, c->socket, strlen(c->socket) + 1);

        if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                if (!S_ISSOCK(st.st_mode)) {
                        log_error("control socket %s exists and is not a socket; refusing to replace it", c->socket);
                        return -EEXIST;
                }
                /* Is another daemon answering there? */
                _cleanup_close_ int probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
                if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
                        log_error("control socket %s is in use: is another ipcbrokerd running?", c->socket);
                        return -EADDRINUSE;
                }
                log_notice("removing stale control socket %s", c->socket);
                if (unlinkat(dirfd, base, 0) < 0 && errno != ENOENT)
                        return -errno;
        }

        old_umask = umask(0777 & ~c->socket_mode);
        r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
        umask(old_umask);
        if (r < 0) {
                r = -errno;
                log_error("cannot bind control socket %s: %s", c->socket, strerror(-r));
                return r;
        }
        if (fchmodat(dirfd, base, c->socket_mode, 0) < 0)
                log_warning("cannot set mode %04o on %s: %s", c->socket_mode, c->socket, strerror(errno));
        if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                l->dev = st.st_dev;
                l->ino = st.st_ino;
        }
        if (listen(fd, SOMAXCONN) < 0) {
                r = -errno;
                unlinkat(dirfd, base, 0);
                return r;
        }
        l->path = strdup(c->socket);
        if (!l->path)
                return -ENOMEM;
        l->fd = TAKE_FD(fd);
        return 0;
}

int listener_new(struct broker *b, struct listener **ret) {
        struct listener *l = calloc(1, sizeof(*l));
        int r;

        if (!l)
                return -ENOMEM;
        l->broker = b;
        l->fd = -1;
        r = listener_inherit(l);
        if (r == 0)
                r = listener_create(l);
        if (r < 0) {
                free(l->path);
                if (l->fd >= 0)
                        close(l->fd);
                free(l);
                return r;
        }
        users_init(&l->users);
        ev_io_init(&l->io, listener_on_readable, l->fd, EV_READ);
        ev_timer_init(&l->backoff, listener_on_backoff, LISTENER_BACKOFF, 0.);
        ev_init(&l->sweep, listener_on_sweep);
        ev_prepare_init(&l->turns, listener_on_turns);
        ev_idle_init(&l->busy, listener_on_busy);
        ev_io_start(b->loop, &l->io);
        ev_prepare_start(b->loop, &l->turns);
        ratelimit_setup(b->loop);
        *ret = l;
        return 0;
}

void listener_free(struct listener *l) {
        if (!l)
                return;
        while (l->clients.first)
                client_free(list_entry(l->clients.first, struct client, live)); /* unlinks itself */
        while (l->waiting.first)
                client_free(list_entry(l->waiting.first, struct client, wait)); /* kept ones */
        ev_io_stop(l->broker->loop, &l->io);
        ev_timer_stop(l->broker->loop, &l->backoff);
        ev_timer_stop(l->broker->loop, &l->sweep);
        ev_prepare_stop(l->broker->loop, &l->turns);
        ev_idle_stop(l->broker->loop, &l->busy);
        closer_free(l->closer);
        users_done(&l->users);
        ratelimit_done();
        peer_done();
        if (l->fd >= 0) {
                if (!l->activated && l->path) {
                        struct stat st;
                        /* remove the socket only if it is still the one we bound */
                        if (lstat(l->path, &st) == 0 && st.st_dev == l->dev && st.st_ino == l->ino)
                                unlink(l->path);
                }
                close(l->fd);
        }
        free(l->path);
        free(l);
}
