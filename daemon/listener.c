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
#include "listener.h"
#include "log.h"
#include "safepath.h"

#define LISTENER_BACKOFF 0.1 /* seconds to pause accepting after EMFILE/ENFILE */

struct listener {
        struct broker *broker;
        int fd;
        bool activated; /* inherited from systemd: not ours to unlink */
        char *path;
        dev_t dev;
        ino_t ino;
        ev_io io;
        ev_timer backoff;
        struct client *clients;
        size_t n_clients;
};

const char *listener_path(const struct listener *l) {
        return l->path;
}

size_t listener_n_clients(const struct listener *l) {
        return l->n_clients;
}

static void listener_reject(int fd, const char *why) {
        /* one short error packet, then hang up: the client sees why */
        client_send_error(fd, 0, EUSERS, why);
        close(fd);
}

/* Connections the uid holds now; the list is bounded by max_clients. */
static unsigned listener_count_uid(const struct listener *l, uid_t uid) {
        unsigned n = 0;

        for (const struct client *c = l->clients; c; c = c->next)
                if (c->cred.uid == uid)
                        n++;
        return n;
}

#define LISTENER_ACCEPTS_PER_WAKEUP 1

static void listener_on_readable(struct ev_loop *loop, ev_io *w, int revents) {
        struct listener *l = container_of(w, struct listener, io);
        struct broker *b = l->broker;

        /*
         * One connection per wakeup: the loop is level-triggered, so the next
         * one is accepted on the next iteration, after the requests of the
         * clients already connected. That is fair to them, and spares the
         * accept that would only say EAGAIN after each connection.
         */
        for (int i = 0; i < LISTENER_ACCEPTS_PER_WAKEUP; i++) {
                struct client *c;
                int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

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
                if (l->n_clients >= b->config->max_clients) {
                        log_warning("refusing a connection: %zu clients connected (max_clients)", l->n_clients);
                        listener_reject(fd, "too many clients connected to ipcbrokerd (max_clients)");
                        continue;
                }
                if (client_new(b, l, fd, &c) < 0) {
                        close(fd);
                        continue;
                }
                /* one user must not starve the others (root is exempt) */
                if (c->cred.uid != 0 && listener_count_uid(l, c->cred.uid) >= b->config->max_clients_per_user) {
                        log_warning("refusing a connection from uid %u (pid %d): it holds %u connections "
                                    "(max_clients_per_user)",
                                    c->cred.uid, c->cred.pid, b->config->max_clients_per_user);
                        client_send_error(fd, 0, EUSERS, "too many connections from this user (max_clients_per_user)");
                        c->listener = NULL; /* not in the list yet */
                        client_free(c);
                        continue;
                }
                c->next = l->clients;
                if (l->clients)
                        l->clients->prev = c;
                l->clients = c;
                l->n_clients++;
                b->counters.connections++;
                broker_status_changed(b);
                /*
                 * A one-shot client has usually sent its request by now:
                 * serving it at once spares a trip through the loop, and when
                 * that was its last request, the watcher never reaches epoll.
                 */
                client_serve(c);
        }
}

static void listener_on_backoff(struct ev_loop *loop, ev_timer *w, int revents) {
        struct listener *l = container_of(w, struct listener, backoff);

        ev_io_start(loop, &l->io);
}

void listener_client_gone(struct listener *l, struct client *c) {
        if (c->prev)
                c->prev->next = c->next;
        else
                l->clients = c->next;
        if (c->next)
                c->next->prev = c->prev;
        c->next = c->prev = NULL;
        l->n_clients--;
        broker_status_changed(l->broker);
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
        ev_io_init(&l->io, listener_on_readable, l->fd, EV_READ);
        ev_timer_init(&l->backoff, listener_on_backoff, LISTENER_BACKOFF, 0.);
        ev_io_start(b->loop, &l->io);
        *ret = l;
        return 0;
}

void listener_free(struct listener *l) {
        if (!l)
                return;
        while (l->clients)
                client_free(l->clients); /* unlinks itself */
        ev_io_stop(l->broker->loop, &l->io);
        ev_timer_stop(l->broker->loop, &l->backoff);
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
