/*
 * broker.h — the daemon as a whole: it owns the event loop, the
 * configuration in force, the channels (registry), the control socket
 * (listener) and its clients (connections), and wires them together;
 * handles signals, status, the watchdog, reload (reload.c) and stop.
 */
#pragma once

#include <ev.h>
#include <stdbool.h>
#include <time.h>

#include "config.h"
#include "counters.h"
#include "limits.h"
#include "registry.h"
#include "request.h"
#include "rundir.h"

struct connections;
struct listener;

struct broker {
        struct ev_loop *loop;
        ev_signal sigterm;
        ev_signal sigint;
        ev_signal sighup;
        ev_timer watchdog;
        ev_timer status_timer;   /* coalesces STATUS= updates */
        ev_timer holdover_timer; /* forwards from objects programs still hold (channel-holdover.c) */
        ev_timer sample_timer;   /* samples every channel's depth (sampler.c), every sample_interval */
        ev_timer holders_timer;  /* forgets exited holders (holders.c), every HOLDERS_SWEEP_EVERY s */
        ev_idle retry_waits;     /* channels changed: answer the waiting requests that can be */

        char *config_path;
        struct config_defaults defaults;
        struct config *config;
        struct kernel_limits limits;
        struct registry registry;
        struct rundir rundir;

        struct listener *listener;       /* the control socket; NULL before it is set up */
        struct connections *connections; /* its clients */
        struct request_env env;          /* what requests see of the daemon */
        struct counters counters;

        bool running;         /* broker_start completed: stop applies on_stop; an aborted start never does */
        char *config_problem; /* started on an invalid configuration (socket activation): why */
        bool verbose;         /* -v: debug logging whatever log_level says */
        bool notify;          /* a service manager listens on NOTIFY_SOCKET */
        int exit_code;
};

/*
 * Remember that the configuration file is invalid (ERRORS): the daemon runs
 * with CONFIG's defaults and no channel, answers every request with the
 * reasons, and serves again after a reload that succeeds.
 */
int broker_set_config_problem(struct broker *b, const struct config_errors *errors, int err);

/* Takes ownership of CONFIG. */
int broker_new(const char *config_path, const struct config_defaults *defaults, struct config *config,
               struct broker **ret);
void broker_free(struct broker *b);

/* Create the runtime directory and every channel; then listen. Returns 0 or -errno. */
int broker_start(struct broker *b);
/* The runtime directory and the single-instance lock (logs why not). */
int broker_claim_instance(struct broker *b, const struct config *c);
/* Run the loop until stopped; returns the exit code. */
int broker_run(struct broker *b);
/*
 * Stop: withdraw channels per on_stop, clean up the runtime files. After a
 * start that failed, only let go of the descriptors: the objects stay (they
 * may be another daemon's, or hold messages) and on_stop is not applied.
 */
void broker_stop(struct broker *b);

/* Load and check a configuration the way the daemon does (also for -t). */
int broker_load_config(const char *path, const struct config_defaults *defaults, const struct kernel_limits *limits,
                       struct config **ret, struct config_errors *errors);

/* Re-read the configuration and apply it (reload.c); the running one stays on error. */
int broker_reload(struct broker *b, char **message);

/* The configuration's sample_interval took effect (start, reload). */
void broker_schedule_sampling(struct broker *b);
/* Channels changed: dispatch the waiting requests again, soon. */
void broker_channels_changed(struct broker *b);

void broker_update_status(struct broker *b);
/* Something STATUS= shows changed: send an update soon (at most once a second). */
void broker_status_changed(struct broker *b);
