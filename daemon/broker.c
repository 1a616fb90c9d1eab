/*
 * broker.c — the daemon's core: owns the event loop, the configuration in
 * force and the channels; handles signals, reload and stop.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker.h"
#include "listener.h"
#include "log.h"
#include "notify.h"
#include "safepath.h"

int broker_load_config(const char *path, const struct config_defaults *defaults, const struct kernel_limits *limits,
                       struct config **ret, struct config_errors *errors) {
        struct config *c = NULL;
        int r;

        r = config_load(path, defaults, &c, errors);
        if (r < 0)
                return r;
        size_t before = errors->n;
        limits_check(c, limits, errors);
        if (errors->n > before) {
                config_free(c);
                return -EINVAL;
        }
        *ret = c;
        return 0;
}

static void broker_on_signal(struct ev_loop *loop, ev_signal *w, int revents) {
        struct broker *b = w->data;

        if (w->signum == SIGHUP) {
                _cleanup_free_ char *msg = NULL;
                broker_reload(b, &msg);
                return;
        }
        log_info("received %s, stopping", strsignal(w->signum));
        b->exit_code = 0;
        ev_break(loop, EVBREAK_ALL);
}

static void broker_on_status_timer(struct ev_loop *loop, ev_timer *w, int revents);

static void broker_on_orphan_timer(struct ev_loop *loop, ev_timer *w, int revents) {
        struct broker *b = container_of(w, struct broker, orphan_timer);

        for (size_t i = 0; i < b->n_channels; i++)
                if (b->channels[i]->n_orphans)
                        channel_drain_orphans(b->channels[i]);
}

static void broker_on_watchdog(struct ev_loop *loop, ev_timer *w, int revents) {
        notify_watchdog();
}

int broker_new(const char *config_path, const struct config_defaults *defaults, struct config *config,
               struct broker **ret) {
        struct broker *b = calloc(1, sizeof(*b));

        if (!b)
                return -ENOMEM;
        b->config_path = strdup(config_path);
        b->defaults = *defaults;
        b->config = config;
        b->listen_fd = -1;
        b->lock_fd = -1;
        b->loop = ev_default_loop(EVFLAG_AUTO | EVFLAG_NOSIGMASK);
        if (!b->config_path || !b->loop) {
                free(b->config_path);
                free(b);
                return -ENOMEM;
        }
        kernel_limits_read(&b->limits);
        b->started = time(NULL);
        b->notify = getenv("NOTIFY_SOCKET") != NULL;
        ev_init(&b->status_timer, broker_on_status_timer);
        ev_timer_init(&b->orphan_timer, broker_on_orphan_timer, 1.0, 1.0);

        ev_signal_init(&b->sigterm, broker_on_signal, SIGTERM);
        ev_signal_init(&b->sigint, broker_on_signal, SIGINT);
        ev_signal_init(&b->sighup, broker_on_signal, SIGHUP);
        b->sigterm.data = b->sigint.data = b->sighup.data = b;
        ev_signal_start(b->loop, &b->sigterm);
        ev_signal_start(b->loop, &b->sigint);
        ev_signal_start(b->loop, &b->sighup);
        /* the daemon is never killed by a client closing its end */
        signal(SIGPIPE, SIG_IGN);
        *ret = b;
        return 0;
}

struct channel *broker_find_channel(struct broker *b, const char *name) {
        size_t lo = 0, hi = b->n_channels;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int r = strcmp(name, b->channels[mid]->config->name);
                if (r == 0)
                        return b->channels[mid];
                if (r < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        return NULL;
}

static bool config_needs_fifo_dir(const struct config *c) {
        for (size_t i = 0; i < c->n_channels; i++)
                if (c->channels[i]->type == CHANNEL_FIFO && !c->channels[i]->explicit_name)
                        return true;
        return false;
}

/* Create DIR if missing, remembering that we did, so that stop removes only what we made. */
static int broker_open_own_dir(struct broker *b, int slot, const char *dir, int *ret_fd, char **bad) {
        struct stat st;
        bool existed = lstat(dir, &st) == 0;
        int r = safepath_open_dir(dir, 0755, ret_fd, bad);

        if (r >= 0 && !existed && b) {
                free(b->created_dirs[slot]);
                b->created_dirs[slot] = strdup(dir);
        }
        return r;
}

/*
 * The runtime directory holds the socket, the lock and the default FIFOs:
 * ours, and closed to others. With RET_FD, its descriptor is handed back.
 */
static int broker_setup_runtime_dir(struct broker *b, const struct config *c, int *ret_fd) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *bad = NULL;
        const char *reason = NULL;
        int r;

        r = broker_open_own_dir(b, 0, c->runtime_dir, &fd, &bad);
        if (r < 0) {
                log_error("runtime directory %s: %s%s%s", c->runtime_dir,
                          r == -ELOOP ? "a symlink is in the way at " : "cannot create or open it at ",
                          bad ? bad : c->runtime_dir, r == -ELOOP ? "; refusing to follow it" : "");
                if (r != -ELOOP)
                        log_error("  (%s)", strerror(-r));
                return r;
        }
        r = safepath_check_dir(fd, false, geteuid(), &reason);
        if (r < 0) {
                log_error("runtime directory %s %s; refusing to use it", c->runtime_dir, reason);
                return r;
        }
        if (config_needs_fifo_dir(c)) {
                _cleanup_close_ int ffd = -1;
                _cleanup_free_ char *path = NULL;
                if (asprintf(&path, "%s/fifo", c->runtime_dir) < 0)
                        return -ENOMEM;
                r = broker_open_own_dir(b, 1, path, &ffd, NULL);
                if (r < 0) {
                        log_error("FIFO directory %s: %s", path,
                                  r == -ELOOP ? "is a symlink; refusing to follow it" : strerror(-r));
                        return r;
                }
                r = safepath_check_dir(ffd, false, geteuid(), &reason);
                if (r < 0) {
                        log_error("FIFO directory %s %s; refusing to use it", path, reason);
                        return r;
                }
        }
        if (ret_fd)
                *ret_fd = TAKE_FD(fd);
        return 0;
}

#define BROKER_LOCK_NAME "ipcbrokerd.lock"

/*
 * One daemon per runtime directory: an flock() on runtime_dir/ipcbrokerd.lock,
 * taken before any kernel object is touched and held until the daemon
 * exits (the kernel lets go of it when the process dies, however it dies).
 * The file holds the pid of its holder, for the message a second start gets.
 * Returns 0, or a negative errno after logging why.
 */
static int broker_lock(struct broker *b, int dirfd, const char *runtime_dir) {
        _cleanup_free_ char *path = NULL;

        if (asprintf(&path, "%s/%s", runtime_dir, BROKER_LOCK_NAME) < 0)
                return -ENOMEM;
        /* the holder may unlink the file as it stops: lock the file that is there, or try again */
        for (int attempt = 0; attempt < 10; attempt++) {
                _cleanup_close_ int fd = -1;
                struct stat st, now;
                char pid[32];
                ssize_t n;

                fd = openat(dirfd, BROKER_LOCK_NAME, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
                if (fd < 0) {
                        int r = -errno;
                        log_error("cannot open the lock file %s: %s", path,
                                  r == -ELOOP ? "it is a symlink; refusing to follow it" : strerror(-r));
                        return r;
                }
                if (fstat(fd, &st) < 0)
                        return -errno;
                if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
                        log_error("lock file %s is not a regular file owned by uid %u; refusing to use it", path,
                                  (unsigned)geteuid());
                        return -EPERM;
                }
                if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                        int r = -errno;
                        if (r != -EWOULDBLOCK) {
                                log_error("cannot lock %s: %s", path, strerror(-r));
                                return r;
                        }
                        n = pread(fd, pid, sizeof(pid) - 1, 0);
                        pid[n > 0 ? n : 0] = '\0';
                        pid[strcspn(pid, "\n")] = '\0';
                        log_error("another ipcbrokerd (pid %s) holds %s: not starting, nothing was touched",
                                  pid[0] ? pid : "unknown", path);
                        return -EBUSY;
                }
                if (fstatat(dirfd, BROKER_LOCK_NAME, &now, AT_SYMLINK_NOFOLLOW) < 0 || now.st_dev != st.st_dev ||
                    now.st_ino != st.st_ino)
                        continue; /* we locked a file its holder removed as it stopped */
                n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
                if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n)
                        log_warning("cannot write the pid into %s: %s", path, strerror(errno));
                b->lock_fd = TAKE_FD(fd);
                b->lock_path = TAKE_PTR(path);
                b->lock_dev = st.st_dev;
                b->lock_ino = st.st_ino;
                return 0;
        }
        log_error("cannot lock %s: it keeps being replaced", path);
        return -EBUSY;
}

/* Remove the lock file if it is still ours, then let go of the lock. */
static void broker_unlock(struct broker *b) {
        _cleanup_close_ int dirfd = -1;
        const char *base;
        struct stat st;

        if (b->lock_fd < 0)
                return;
        if (safepath_open_parent(b->lock_path, 0, &dirfd, &base, NULL) == 0 &&
            fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_dev == b->lock_dev &&
            st.st_ino == b->lock_ino && unlinkat(dirfd, base, 0) < 0)
                log_warning("cannot remove %s: %s", b->lock_path, strerror(errno));
        close(b->lock_fd);
        b->lock_fd = -1;
}

static void broker_on_status_timer(struct ev_loop *loop, ev_timer *w, int revents) {
        broker_update_status(container_of(w, struct broker, status_timer));
}

void broker_status_changed(struct broker *b) {
        /* one STATUS= a second at most, and only for a service manager that listens */
        if (!b->notify || ev_is_active(&b->status_timer))
                return;
        ev_timer_set(&b->status_timer, 1.0, 0.);
        ev_timer_start(b->loop, &b->status_timer);
}

void broker_update_status(struct broker *b) {
        size_t ready = 0;

        for (size_t i = 0; i < b->n_channels; i++)
                if (b->channels[i]->state == CHANNEL_READY)
                        ready++;
        notify_status("%zu channels (%zu ready, %zu unavailable), %zu clients", b->n_channels, ready,
                      b->n_channels - ready, b->listener ? listener_n_clients(b->listener) : (size_t)0);
}

static int broker_check_packet_mode(void) {
        int p[2];

        /* FIFO channels need packet mode (O_DIRECT pipes, Linux 3.4) */
        if (pipe2(p, O_DIRECT | O_CLOEXEC) < 0) {
                log_error("this kernel does not support packet-mode pipes (O_DIRECT): %s; FIFO channels cannot keep "
                          "message boundaries",
                          strerror(errno));
                return -errno;
        }
        close(p[0]);
        close(p[1]);
        return 0;
}

/* Every FIFO channel holds a descriptor: use all the descriptors we may. */
static void broker_raise_nofile(const struct config *c) {
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == rl.rlim_max)
                return;
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
                log_warning("cannot raise RLIMIT_NOFILE to %llu: %s", (unsigned long long)rl.rlim_max, strerror(errno));
        if (rl.rlim_max != RLIM_INFINITY && c->n_channels + c->max_clients + 64 > rl.rlim_max)
                log_warning("RLIMIT_NOFILE (%llu) is low for %zu channels and %u clients; raise LimitNOFILE=",
                            (unsigned long long)rl.rlim_max, c->n_channels, c->max_clients);
}

int broker_start(struct broker *b) {
        struct config *c = b->config;
        size_t failed = 0;
        int r;

        broker_raise_nofile(c);
        r = broker_check_packet_mode();
        if (r < 0)
                return r;
        limits_raise_msgqueue(c, &b->limits);
        {
                /* claim the single instance before any kernel object is touched */
                _cleanup_close_ int dirfd = -1;
                r = broker_setup_runtime_dir(b, c, &dirfd);
                if (r < 0)
                        return r;
                r = broker_lock(b, dirfd, c->runtime_dir);
                if (r < 0)
                        return r;
        }

        b->channels = calloc(c->n_channels ? c->n_channels : 1, sizeof(*b->channels));
        if (!b->channels)
                return -ENOMEM;
        for (size_t i = 0; i < c->n_channels; i++) {
                struct channel *ch;
                r = channel_new(c->channels[i], &ch);
                if (r < 0)
                        return r;
                b->channels[b->n_channels++] = ch;
                if (channel_setup(ch) < 0)
                        failed++;
        }
        if (failed)
                log_error("%zu of %zu channels are unavailable (see above); the others are served", failed,
                          c->n_channels);

        r = listener_new(b, &b->listener);
        if (r < 0)
                return r;

        ev_timer_start(b->loop, &b->orphan_timer);
        uint64_t wd = notify_watchdog_usec();
        if (wd > 0) {
                ev_timer_init(&b->watchdog, broker_on_watchdog, 0., (double)wd / 2e6);
                ev_timer_again(b->loop, &b->watchdog);
        }
        b->running = true;
        log_info("ready: %zu channels, control socket %s", c->n_channels, listener_path(b->listener));
        broker_update_status(b);
        notify_ready();
        return 0;
}

int broker_run(struct broker *b) {
        b->exit_code = 0;
        ev_run(b->loop, 0);
        return b->exit_code;
}

static bool channel_identity_equal(const struct channel_config *a, const struct channel_config *b) {
        if (a->type != b->type)
                return false;
        return a->type == CHANNEL_MQUEUE ? streq(a->mq_name, b->mq_name) : streq(a->path, b->path);
}

static bool config_uses_object(const struct config *c, const struct channel_config *old) {
        for (size_t i = 0; i < c->n_channels; i++)
                if (channel_identity_equal(c->channels[i], old))
                        return true;
        return false;
}

static bool channel_is_empty(struct channel *ch) {
        struct channel_info info;

        if (channel_info(ch, &info) < 0)
                return true;
        return info.messages <= 0 && info.bytes <= 0;
}

/* A channel leaves the configuration: withdraw it per on_stop, but never lose a message on reload. */
static void broker_withdraw(struct broker *b, struct channel *ch, const struct config *next) {
        bool remove = ch->config->on_stop == ON_STOP_REMOVE;

        if (remove && next && config_uses_object(next, ch->config))
                remove = false; /* another declared channel takes the object over */
        else if (remove && next && !channel_is_empty(ch)) {
                log_warning("channel '%s' was removed from the configuration but still holds messages; keeping its "
                            "kernel object",
                            ch->config->name);
                remove = false;
        }
        if (!remove && next && config_find_channel(next, ch->config->name) && !config_uses_object(next, ch->config) &&
            !channel_is_empty(ch))
                log_warning("channel '%s' now uses another kernel object; the old one, %s, still holds messages and "
                            "is left in place: move them by hand or purge it",
                            ch->config->name,
                            ch->config->type == CHANNEL_MQUEUE ? ch->config->mq_name : ch->config->path);
        if (!remove && ch->config->type == CHANNEL_FIFO && ch->fd >= 0 && !channel_is_empty(ch)) {
                /* a pipe's data lives only while someone holds it open: keep holding it */
                int *n = realloc(b->retired_fds, (b->n_retired + 1) * sizeof(*n));
                if (n) {
                        b->retired_fds = n;
                        b->retired_fds[b->n_retired++] = ch->fd;
                        ch->fd = -1;
                        log_info("channel '%s': keeping FIFO %s open so the data in it is not lost", ch->config->name,
                                 ch->config->path);
                }
        }
        log_info("channel '%s': withdrawn%s", ch->config->name, remove ? " and removed" : "");
        channel_stop(ch, remove);
        if (b->listener)
                listener_channel_gone(b->listener, ch);
        channel_free(ch);
}

/* Let go of withdrawn FIFOs that are empty now (or are held by a channel again). */
static void broker_sweep_retired(struct broker *b) {
        size_t k = 0;

        for (size_t i = 0; i < b->n_retired; i++) {
                int queued = 0;
                if (ioctl(b->retired_fds[i], FIONREAD, &queued) == 0 && queued == 0)
                        close(b->retired_fds[i]);
                else
                        b->retired_fds[k++] = b->retired_fds[i];
        }
        b->n_retired = k;
}

int broker_reload(struct broker *b, char **message) {
        struct config_errors errors = {};
        struct config *next = NULL;
        struct channel **channels;
        size_t n = 0, added = 0, changed = 0, removed = 0, failed = 0;
        int r;

        notify_reloading();
        log_info("reloading configuration from %s", b->config_path);
        kernel_limits_read(&b->limits);
        r = broker_load_config(b->config_path, &b->defaults, &b->limits, &next, &errors);
        if (r < 0) {
                for (size_t i = 0; i < errors.n; i++)
                        log_error("%s", errors.lines[i]);
                log_error("reload failed: the configuration is invalid (%zu errors); the running configuration "
                          "stays in force",
                          errors.n);
                if (message && asprintf(message, "reload failed: %s%s", errors.n ? errors.lines[0] : strerror(-r),
                                        errors.n > 1 ? " (and more, see the daemon's log)" : "") < 0)
                        *message = NULL;
                config_errors_clear(&errors);
                b->counters.reload_failures++;
                notify_ready();
                broker_update_status(b);
                return r;
        }
        limits_raise_msgqueue(next, &b->limits);

        channels = calloc(next->n_channels ? next->n_channels : 1, sizeof(*channels));
        if (!channels) {
                config_free(next);
                notify_ready();
                return -ENOMEM;
        }

        /* First withdraw what goes away, so that a renamed channel can take its object over. */
        for (size_t i = 0; i < b->n_channels; i++) {
                struct channel *ch = b->channels[i];
                const struct channel_config *nc = config_find_channel(next, ch->config->name);
                if (!nc || !channel_identity_equal(nc, ch->config)) {
                        broker_withdraw(b, ch, next);
                        b->channels[i] = NULL;
                        removed++;
                }
        }
        /* keep the survivors sorted and contiguous for lookups */
        {
                size_t k = 0;
                for (size_t i = 0; i < b->n_channels; i++)
                        if (b->channels[i])
                                b->channels[k++] = b->channels[i];
                b->n_channels = k;
        }
        /* the runtime directory may have changed */
        if (broker_setup_runtime_dir(b, next, NULL) < 0)
                log_error("the runtime directory is unusable; FIFO channels in it will fail");
        if (b->lock_path) {
                _cleanup_free_ char *lock = NULL;
                if (asprintf(&lock, "%s/%s", next->runtime_dir, BROKER_LOCK_NAME) >= 0 && !streq(lock, b->lock_path))
                        log_notice("the runtime directory changed to %s; the lock moves there when the daemon "
                                   "restarts (still %s)",
                                   next->runtime_dir, b->lock_path);
        }
        for (size_t i = 0; i < next->n_channels; i++) {
                const struct channel_config *nc = next->channels[i];
                struct channel *ch = broker_find_channel(b, nc->name);

                if (ch) {
                        if (channel_reconfigure(ch, nc) < 0)
                                failed++;
                        changed++;
                } else {
                        r = channel_new(nc, &ch);
                        if (r < 0) {
                                failed++;
                                continue;
                        }
                        if (channel_setup(ch) < 0)
                                failed++;
                        added++;
                }
                channels[n++] = ch;
        }
        free(b->channels);
        b->channels = channels;
        b->n_channels = n;
        broker_sweep_retired(b);
        config_free(b->config);
        b->config = next;
        if (!b->verbose)
                log_set_level(next->log_level);
        if (b->listener)
                listener_config_changed(b->listener);
        b->counters.reloads++;
        log_info("reloaded: %zu channels (%zu new, %zu kept, %zu withdrawn, %zu unavailable)", n, added, changed,
                 removed, failed);
        if (message && asprintf(message, "reloaded: %zu channels (%zu new, %zu kept, %zu withdrawn, %zu unavailable)",
                                n, added, changed, removed, failed) < 0)
                *message = NULL;
        broker_update_status(b);
        notify_ready();
        return 0;
}

void broker_stop(struct broker *b) {
        notify_stopping();
        if (b->listener) {
                listener_free(b->listener);
                b->listener = NULL;
        }
        if (!b->running && b->n_channels)
                log_notice("start aborted: leaving every channel's kernel object in place (on_stop is not applied)");
        for (size_t i = 0; i < b->n_channels; i++) {
                struct channel *ch = b->channels[i];
                channel_stop(ch, b->running && ch->config->on_stop == ON_STOP_REMOVE);
        }
        for (size_t i = 0; i < b->n_retired; i++)
                close(b->retired_fds[i]);
        b->n_retired = 0;
        /* the lock file goes before the directory that holds it */
        broker_unlock(b);
        /* the directories we created, if we leave them empty (FIFO directory first) */
        for (int i = 1; i >= 0; i--)
                if (b->created_dirs[i]) {
                        (void)safepath_rmdir(b->created_dirs[i]);
                        free(b->created_dirs[i]);
                        b->created_dirs[i] = NULL;
                }
        log_info("stopped");
}

void broker_free(struct broker *b) {
        if (!b)
                return;
        if (b->listener)
                listener_free(b->listener);
        for (size_t i = 0; i < b->n_channels; i++)
                channel_free(b->channels[i]);
        free(b->channels);
        config_free(b->config);
        if (b->loop) {
                ev_signal_stop(b->loop, &b->sigterm);
                ev_signal_stop(b->loop, &b->sigint);
                ev_signal_stop(b->loop, &b->sighup);
                ev_timer_stop(b->loop, &b->watchdog);
        }
        ev_timer_stop(b->loop, &b->status_timer);
        ev_timer_stop(b->loop, &b->orphan_timer);
        for (size_t i = 0; i < b->n_retired; i++)
                close(b->retired_fds[i]);
        free(b->retired_fds);
        free(b->created_dirs[0]);
        free(b->created_dirs[1]);
        if (b->lock_fd >= 0)
                close(b->lock_fd);
        free(b->lock_path);
        free(b->config_path);
        free(b);
}
