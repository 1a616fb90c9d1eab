/*
 * broker.c — the daemon's core: owns the event loop, the configuration in
 * force, the channels and the control socket; handles signals, start and
 * stop. Reload is in reload.c.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker.h"
#include "connections.h"
#include "fdstore.h"
#include "listener.h"
#include "log.h"
#include "notify.h"
#include "ratelimit.h"
#include "sampler.h"

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
                /* the reload logs its outcome */
                int r = broker_reload(b, NULL);
                log_debug("SIGHUP handled: %s", r < 0 ? "the running configuration stays" : "the new one is in force");
                return;
        }
        log_info("received %s, stopping", strsignal(w->signum));
        b->exit_code = 0;
        ev_break(loop, EVBREAK_ALL);
}

static void broker_on_status_timer(struct ev_loop *loop, ev_timer *w, int revents) {
        broker_update_status(container_of(w, struct broker, status_timer));
}

static void broker_on_holdover_timer(struct ev_loop *loop, ev_timer *w, int revents) {
        channel_holdovers_run();
}

/* Forget the holders of processes that exited a while ago, whether the daemon samples or not. */
static void broker_on_holders_sweep(struct ev_loop *loop, ev_timer *w, int revents) {
        struct broker *b = container_of(w, struct broker, holders_timer);
        time_t now = time(NULL);

        for (size_t i = 0; i < b->registry.n; i++) {
                struct channel *ch = b->registry.channels[i];
                holders_sweep(&ch->holders, ch->config->name, now);
        }
}

static void broker_on_sample(struct ev_loop *loop, ev_timer *w, int revents) {
        struct broker *b = container_of(w, struct broker, sample_timer);

        sampler_run(&b->registry, ev_now(loop));
}

void broker_schedule_sampling(struct broker *b) {
        double interval = (double)b->config->sample_interval_ms / 1000.0;

        if (interval == b->sample_timer.repeat && ev_is_active(&b->sample_timer))
                return;
        ev_timer_stop(b->loop, &b->sample_timer);
        b->sample_timer.repeat = interval;
        if (interval > 0)
                ev_timer_again(b->loop, &b->sample_timer);
}

static void broker_on_retry_waits(struct ev_loop *loop, ev_idle *w, int revents) {
        struct broker *b = container_of(w, struct broker, retry_waits);

        ev_idle_stop(loop, w);
        if (b->connections)
                connections_retry_waiters(b->connections);
}

void broker_channels_changed(struct broker *b) {
        /* from the loop, after whatever changed them has returned */
        ev_idle_start(b->loop, &b->retry_waits);
}

static void broker_on_channel_ready(void *userdata) {
        broker_channels_changed(userdata);
}

/* A pipe's contents live only while a descriptor is open: the service manager keeps one across restarts. */
static void broker_on_new_object(struct channel *ch, void *userdata) {
        if (ch->ops->data_needs_holder && ch->fd >= 0)
                fdstore_put(ch->config->name, ch->fd);
}

static void broker_on_watchdog(struct ev_loop *loop, ev_timer *w, int revents) {
        notify_watchdog();
}

static int broker_reload_hook(void *userdata, char **message) {
        return broker_reload(userdata, message);
}

static void broker_clients_changed(void *userdata) {
        broker_status_changed(userdata);
}

int broker_new(const char *config_path, const struct config_defaults *defaults, struct config *config,
               struct broker **ret) {
        struct broker *b = calloc(1, sizeof(*b));

        if (!b)
                return -ENOMEM;
        b->config_path = strdup(config_path);
        b->defaults = *defaults;
        b->config = config;
        rundir_init(&b->rundir);
        b->loop = ev_default_loop(EVFLAG_AUTO | EVFLAG_NOSIGMASK);
        if (!b->config_path || !b->loop) {
                free(b->config_path);
                free(b);
                return -ENOMEM;
        }
        kernel_limits_read(&b->limits);
        b->notify = getenv("NOTIFY_SOCKET") != NULL;
        b->env = (struct request_env){
                .registry = &b->registry,
                .config = config,
                .counters = &b->counters,
                .config_path = b->config_path,
                .started = time(NULL),
                .reload = broker_reload_hook,
                .userdata = b,
        };
        ev_init(&b->status_timer, broker_on_status_timer);
        ev_timer_init(&b->holdover_timer, broker_on_holdover_timer, 1.0, 1.0);
        ev_init(&b->sample_timer, broker_on_sample);
        ev_timer_init(&b->holders_timer, broker_on_holders_sweep, HOLDERS_SWEEP_EVERY, HOLDERS_SWEEP_EVERY);
        ev_idle_init(&b->retry_waits, broker_on_retry_waits);
        channel_on_ready(broker_on_channel_ready, b);
        channel_on_new_object(broker_on_new_object, b);

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

void broker_status_changed(struct broker *b) {
        /* one STATUS= a second at most, and only for a service manager that listens */
        if (!b->notify || ev_is_active(&b->status_timer))
                return;
        ev_timer_set(&b->status_timer, 1.0, 0.);
        ev_timer_start(b->loop, &b->status_timer);
}

int broker_set_config_problem(struct broker *b, const struct config_errors *errors, int err) {
        char text[1024] = "";
        size_t len = 0;

        for (size_t i = 0; i < errors->n && len < sizeof(text); i++)
                len += (size_t)snprintf(text + len, sizeof(text) - len, "%s%s", i ? "; " : "", errors->lines[i]);
        if (!errors->n)
                snprintf(text, sizeof(text), "%s: %s", b->config_path, strerror(-err));
        free(b->config_problem);
        b->config_problem = strdup(text);
        b->env.config_problem = b->config_problem;
        return b->config_problem ? 0 : -ENOMEM;
}

void broker_update_status(struct broker *b) {
        size_t n = b->registry.n, ready = registry_count(&b->registry, CHANNEL_READY);

        if (b->config_problem) {
                notify_status("configuration invalid, serving nothing until a reload: %s", b->config_problem);
                return;
        }

        notify_status("%zu channels (%zu ready, %zu unavailable), %zu clients", n, ready, n - ready,
                      b->counters.clients);
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

/*
 * STORED is what the service manager kept of CH's object across a restart:
 * the very same pipe (whose contents it kept alive) is simply let go of now
 * that CH holds it again; another one (the path was recreated meanwhile) is
 * held over, its contents moved into CH's.
 */
static void broker_take_stored(struct channel *ch, int stored) {
        struct stat st;
        int queued = 0;

        if (fstat(stored, &st) < 0 || !S_ISFIFO(st.st_mode)) {
                log_warning("channel '%s': the descriptor the service manager kept is not a FIFO; ignoring it",
                            ch->config->name);
                close(stored);
                return;
        }
        (void)ioctl(stored, FIONREAD, &queued); /* for the message only */
        if (ch->fd >= 0 && st.st_dev == ch->dev && st.st_ino == ch->ino) {
                log_info("channel '%s': FIFO %s kept by the service manager, with %d bytes in it", ch->config->name,
                         ch->config->path, queued);
                close(stored);
                return;
        }
        log_notice("channel '%s': the FIFO the service manager kept (%d bytes) is not the one at %s now; moving its "
                   "contents over",
                   ch->config->name, queued, ch->config->path);
        /* out of the channel's entry, into one of its own (a channel that set up replaced the entry already) */
        if (ch->fd < 0)
                fdstore_remove(ch->config->name);
        channel_holdover_add(ch, stored);
}

/* A stored FIFO no declared channel claims: held, and stored under a name of its own, while it holds data. */
static void broker_stored_leftover(const char *name, int fd, void *userdata) {
        int queued = 0;

        fdstore_remove(name);
        if (ioctl(fd, FIONREAD, &queued) == 0 && queued > 0) {
                log_warning("the service manager kept a FIFO of channel '%s', which is no longer declared, with %d "
                            "bytes in it; it is kept open (and stored) until it is empty",
                            name, queued);
                channel_holdover_adopt(NULL, name, fd, NULL);
                return;
        }
        close(fd);
}

/*
 * A FIFO that was held over (channel-holdover.c) and stored as FDNAME: held
 * again while it holds data, forwarded into channel NAME if that is a FIFO
 * channel now, else kept until empty; an empty one, or the one the channel
 * holds itself now, is let go of.
 */
static void broker_stored_held(const char *name, const char *fdname, int fd, void *userdata) {
        struct broker *b = userdata;
        struct channel *ch = registry_find(&b->registry, name);
        struct stat st;
        int queued = 0;

        if (ch && !ch->ops->data_needs_holder)
                ch = NULL;
        if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode)) {
                log_warning("the descriptor '%s' the service manager kept is not a FIFO; taking it out of the store",
                            fdname);
                st.st_mode = 0;
        }
        if (!S_ISFIFO(st.st_mode) || ioctl(fd, FIONREAD, &queued) < 0 || queued <= 0 ||
            (ch && ch->fd >= 0 && st.st_dev == ch->dev && st.st_ino == ch->ino)) {
                fdstore_remove_held(fdname);
                close(fd);
                return;
        }
        if (ch)
                log_notice("channel '%s': the service manager kept a FIFO it held over, with %d bytes in it; moving "
                           "its contents into %s",
                           name, queued, ch->config->path);
        else
                log_warning("the service manager kept a FIFO of channel '%s', which is no longer a declared FIFO, "
                            "with %d bytes in it; it is kept open (and stored) until it is empty",
                            name, queued);
        channel_holdover_adopt(ch, name, fd, fdname);
}

/* Create or adopt every channel of the configuration; the registry takes them. */
static int broker_setup_channels(struct broker *b) {
        const struct config *c = b->config;
        struct channel **channels = calloc(c->n_channels ? c->n_channels : 1, sizeof(*channels));
        size_t failed = 0;

        if (!channels)
                return -ENOMEM;
        registry_set(&b->registry, channels, 0);
        for (size_t i = 0; i < c->n_channels; i++) {
                int stored, r = channel_new(c->channels[i], &channels[i]);
                if (r < 0)
                        return r;
                b->registry.n++;
                stored = channels[i]->ops->data_needs_holder ? fdstore_claim(c->channels[i]->name) : -1;
                if (channel_setup(channels[i]) != 0)
                        failed++;
                if (stored >= 0)
                        broker_take_stored(channels[i], stored);
        }
        fdstore_leftovers(broker_stored_leftover, b);
        fdstore_held(broker_stored_held, b);
        /* what was held over before comes into its channel now */
        channel_holdovers_run();
        if (failed)
                log_error("%zu of %zu channels are unavailable (see above); the others are served", failed,
                          c->n_channels);
        return 0;
}

/* The control socket and its clients. */
static int broker_listen(struct broker *b) {
        int r = connections_new(b->loop, &b->env, broker_clients_changed, b, &b->connections);

        if (r < 0)
                return r;
        r = listener_new(b->loop, b->config, connections_accept, b->connections, &b->listener);
        if (r < 0)
                return r;
        b->env.socket_path = listener_path(b->listener);
        return 0;
}

int broker_claim_instance(struct broker *b, const struct config *c) {
        /* claim the single instance before any kernel object is touched */
        _cleanup_close_ int dirfd = -1;
        int r = rundir_setup(&b->rundir, c, &dirfd);

        if (r < 0)
                return r;
        return rundir_lock(&b->rundir, dirfd, c->runtime_dir);
}

int broker_start(struct broker *b) {
        struct config *c = b->config;
        int r;

        broker_raise_nofile(c);
        r = broker_check_packet_mode();
        if (r < 0)
                return r;
        limits_raise_msgqueue(c, &b->limits);
        /* the control socket and the FIFOs the service manager kept for us */
        r = fdstore_take();
        if (r < 0) {
                log_error("socket activation: %s", strerror(-r));
                return r;
        }
        /* with an invalid configuration nothing is touched: the lock is taken by the reload that fixes it */
        if (!b->config_problem) {
                r = broker_claim_instance(b, c);
                if (r < 0)
                        return r;
        }
        r = broker_setup_channels(b);
        if (r < 0)
                return r;
        ratelimit_setup(b->loop);
        r = broker_listen(b);
        fdstore_release();
        if (r < 0)
                return r;

        ev_timer_start(b->loop, &b->holdover_timer);
        ev_timer_start(b->loop, &b->holders_timer);
        broker_schedule_sampling(b);
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

void broker_stop(struct broker *b) {
        notify_stopping();
        listener_free(b->listener);
        b->listener = NULL;
        b->env.socket_path = NULL;
        connections_free(b->connections);
        b->connections = NULL;
        ratelimit_done();
        if (!b->running && b->registry.n)
                log_notice("start aborted: leaving every channel's kernel object in place (on_stop is not applied)");
        for (size_t i = 0; i < b->registry.n; i++) {
                struct channel *ch = b->registry.channels[i];
                channel_stop(ch, b->running && ch->config->on_stop == ON_STOP_REMOVE);
        }
        channel_holdovers_close_all();
        fdstore_release(); /* after a start that failed early */
        /* the lock file goes before the directory that holds it */
        rundir_unlock(&b->rundir);
        rundir_remove(&b->rundir);
        log_info("stopped");
}

void broker_free(struct broker *b) {
        if (!b)
                return;
        listener_free(b->listener);
        connections_free(b->connections);
        for (size_t i = 0; i < b->registry.n; i++)
                channel_free(b->registry.channels[i]);
        registry_clear(&b->registry);
        channel_holdovers_close_all();
        config_free(b->config);
        ev_signal_stop(b->loop, &b->sigterm);
        ev_signal_stop(b->loop, &b->sigint);
        ev_signal_stop(b->loop, &b->sighup);
        ev_timer_stop(b->loop, &b->watchdog);
        ev_timer_stop(b->loop, &b->status_timer);
        ev_timer_stop(b->loop, &b->holdover_timer);
        ev_timer_stop(b->loop, &b->sample_timer);
        ev_timer_stop(b->loop, &b->holders_timer);
        ev_idle_stop(b->loop, &b->retry_waits);
        channel_on_ready(NULL, NULL);
        channel_on_new_object(NULL, NULL);
        rundir_done(&b->rundir);
        free(b->config_problem);
        free(b->config_path);
        free(b);
}
