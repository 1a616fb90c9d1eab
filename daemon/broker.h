/*
 * broker.h — the daemon as a whole: the event loop, the configuration in
 * force, the channels, signals, reload and stop.
 */
#pragma once

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "channel.h"
#include "config.h"
#include "limits.h"

struct listener;

struct broker_counters {
        uint64_t connections;
        uint64_t requests;
        uint64_t opens;
        uint64_t denials;
        uint64_t reloads;
        uint64_t reload_failures;
};

struct broker {
        struct ev_loop *loop;
        ev_signal sigterm;
        ev_signal sigint;
        ev_signal sighup;
        ev_timer watchdog;

        char *config_path;
        struct config_defaults defaults;
        struct config *config;
        struct kernel_limits limits;

        struct channel **channels; /* sorted by name, parallel to config->channels */
        size_t n_channels;

        struct listener *listener; /* the control socket; NULL before it is set up */
        int listen_fd;             /* inherited (socket activation) or -1 */

        /* directories this daemon created, removed again at stop when empty */
        char *created_dirs[2];
        /* the single-instance lock, runtime_dir/ipcbrokerd.lock, held (flock) for the daemon's lifetime */
        int lock_fd;
        char *lock_path;
        dev_t lock_dev;
        ino_t lock_ino;
        bool running; /* broker_start completed: stop applies on_stop; an aborted start never does */
        /* FIFOs withdrawn while they held data: kept open so the data lives on */
        int *retired_fds;
        size_t n_retired;
        ev_timer status_timer; /* coalesces STATUS= updates */
        ev_timer orphan_timer; /* forwards from replaced objects programs still hold */
        bool verbose;          /* -v: debug logging whatever log_level says */
        bool notify;           /* a service manager listens on NOTIFY_SOCKET */

        struct broker_counters counters;
        time_t started;
        int exit_code;
};

/* Takes ownership of CONFIG. */
int broker_new(const char *config_path, const struct config_defaults *defaults, struct config *config,
               struct broker **ret);
void broker_free(struct broker *b);

/* Create the runtime directory and every channel; then listen. Returns 0 or -errno. */
int broker_start(struct broker *b);
/* Run the loop until stopped; returns the exit code. */
int broker_run(struct broker *b);
/* Re-read the configuration and apply it; the running one stays on error. */
int broker_reload(struct broker *b, char **message);
/*
 * Stop: withdraw channels per on_stop, clean up the runtime files. After a
 * start that failed, only let go of the descriptors: the objects stay (they
 * may be another daemon's, or hold messages) and on_stop is not applied.
 */
void broker_stop(struct broker *b);

struct channel *broker_find_channel(struct broker *b, const char *name);

/* Load and check a configuration the way the daemon does (also for -t). */
int broker_load_config(const char *path, const struct config_defaults *defaults, const struct kernel_limits *limits,
                       struct config **ret, struct config_errors *errors);

void broker_update_status(struct broker *b);
/* Something STATUS= shows changed: send an update soon (at most once a second). */
void broker_status_changed(struct broker *b);
