/*
 * listener.c — the control socket: created or inherited, accepting connections.
 *
 * The socket is a SOCK_SEQPACKET Unix socket: one packet per message, so the
 * protocol needs no framing. It is inherited from systemd when the daemon is
 * socket-activated, else created at the configured path. A stale socket left
 * by a crashed daemon is replaced; a live one (another daemon answers) or
 * anything that is not a socket is refused.
 *
 * Each accepted connection goes to the accept callback (connections.c
 * admits or refuses it); the listener knows nothing of clients. When
 * accept() runs out of descriptors, the listener pauses briefly instead of
 * spinning on a socket that stays readable.
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

#include "config.h"
#include "fdstore.h"
#include "listener.h"
#include "log.h"
#include "safepath.h"

#define LISTENER_BACKOFF 0.1 /* seconds to pause accepting after EMFILE/ENFILE */

#ifndef SO_PASSRIGHTS
#define SO_PASSRIGHTS 83
#endif

struct listener {
        struct ev_loop *loop;
        listener_accept_fn accept;
        void *userdata;
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
};

const char *listener_path(const struct listener *l) {
        return l->path;
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
        l->accept(fd, listener_may_hold_fds(l, fd), l->userdata);
}

static void listener_on_backoff(struct ev_loop *loop, ev_timer *w, int revents) {
        struct listener *l = container_of(w, struct listener, backoff);

        ev_io_start(loop, &l->io);
}

void listener_config_changed(struct listener *l, const struct config *c) {
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

/* An inherited socket (fdstore.c took what was passed): exactly one, a listening SOCK_SEQPACKET Unix socket. */
static int listener_inherit(struct listener *l) {
        int fd = fdstore_socket();
        struct sockaddr_un sa = {};
        socklen_t len = sizeof(sa);

        if (fd == -EINVAL) {
                log_error("socket activation: more than one socket passed, expected exactly one SOCK_SEQPACKET Unix "
                          "socket");
                return -EINVAL;
        }
        if (fd < 0)
                return 0;
        if (sd_is_socket_unix(fd, SOCK_SEQPACKET, 1, NULL, 0) <= 0) {
                log_error("socket activation: the passed socket is not a listening SOCK_SEQPACKET Unix socket "
                          "(use ListenSequentialPacket=)");
                return -EINVAL;
        }
        l->fd = fd;
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

/*
 * What is at the socket's path (BASE in DIRFD) before we bind: nothing, or a
 * stale socket left by a crashed daemon, which is removed. A live one (another
 * daemon answers) or anything that is not a socket is refused.
 */
static int listener_clear_path(const struct config *c, int dirfd, const char *base, const struct sockaddr_un *sa) {
        _cleanup_close_ int probe = -1;
        struct stat st;

        if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return 0;
        if (!S_ISSOCK(st.st_mode)) {
                log_error("control socket %s exists and is not a socket; refusing to replace it", c->socket);
                return -EEXIST;
        }
        probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (probe >= 0 && connect(probe, (const struct sockaddr *)sa, sizeof(*sa)) == 0) {
                log_error("control socket %s is in use: is another ipcbrokerd running?", c->socket);
                return -EADDRINUSE;
        }
        log_notice("removing stale control socket %s", c->socket);
        if (unlinkat(dirfd, base, 0) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

static int listener_create(struct listener *l, const struct config *c) {
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

        r = listener_clear_path(c, dirfd, base, &sa);
        if (r < 0)
                return r;

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

int listener_new(struct ev_loop *loop, const struct config *c, listener_accept_fn accept, void *userdata,
                 struct listener **ret) {
        struct listener *l = calloc(1, sizeof(*l));
        int r;

        if (!l)
                return -ENOMEM;
        l->loop = loop;
        l->accept = accept;
        l->userdata = userdata;
        l->fd = -1;
        r = listener_inherit(l);
        if (r == 0)
                r = listener_create(l, c);
        if (r < 0) {
                free(l->path);
                if (l->fd >= 0)
                        close(l->fd);
                free(l);
                return r;
        }
        ev_io_init(&l->io, listener_on_readable, l->fd, EV_READ);
        ev_timer_init(&l->backoff, listener_on_backoff, LISTENER_BACKOFF, 0.);
        ev_io_start(loop, &l->io);
        *ret = l;
        return 0;
}

void listener_free(struct listener *l) {
        if (!l)
                return;
        ev_io_stop(l->loop, &l->io);
        ev_timer_stop(l->loop, &l->backoff);
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
