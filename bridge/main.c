/*
 * main.c — ipcbroker-bridge: options, the configuration, the bridges'
 * threads, signals, and what systemd hears (READY=1 once connected and
 * every bridge runs, STATUS= with counts, WATCHDOG=1, STOPPING=1).
 *
 * Signals are blocked in every thread (the NATS client's included, which
 * inherit the mask) and taken by the main thread with sigtimedwait().
 */
#include "build-config.h"

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <systemd/sd-daemon.h>

#include "bridge.h"
#include "config.h"
#include "link.h"
#include "log.h"
#include "report.h"
#include "service-options.h"
#include "util.h"

#define DEFAULT_CONFIG SYSCONFDIR "/ipcbroker-bridge.conf"
#define STUCK_MS 30000 /* a worker that has not come round its loop for this long stops the watchdog pings */

static void usage(FILE *f) {
        fputs("Usage: ipcbroker-bridge [OPTIONS]\n"
              "Forward messages between ipcbroker channels and NATS JetStream subjects.\n"
              "\n",
              f);
        service_options_help(f, DEFAULT_CONFIG);
        fputs("Signals: SIGTERM/SIGINT stop, SIGUSR1 logs each bridge's counts.\n", f);
}

static void version(void) {
        printf("ipcbroker-bridge %s (NATS C client %s)\n", PACKAGE_VERSION, nats_GetVersion());
}

static const struct service_info service = {
        .name = "ipcbroker-bridge",
        .default_config = DEFAULT_CONFIG,
        .usage = usage,
        .version = version,
};

static int report_config_errors(const struct service_options *o, struct config_errors *e) {
        for (size_t i = 0; i < e->n; i++)
                if (o->check)
                        fprintf(stderr, "%s\n", e->lines[i]);
                else
                        log_error("%s", e->lines[i]);
        if (o->check)
                fprintf(stderr, "ipcbroker-bridge: %s: configuration is invalid (%zu %s)\n", o->config, e->n,
                        e->n == 1 ? "error" : "errors");
        else
                log_error("%s: configuration is invalid (%zu %s)", o->config, e->n, e->n == 1 ? "error" : "errors");
        config_errors_clear(e);
        return EX_CONFIG;
}

/* ---- running ------------------------------------------------------------------------------------------- */

struct run {
        const struct config *c;
        struct link *link;
        struct bridge **bridges;
        size_t n;
        bool ready;
        char status[1024];
        uint64_t watchdog_usec;
};

static bool all_running(const struct run *r) {
        for (size_t i = 0; i < r->n; i++)
                if (!atomic_load(&r->bridges[i]->ever_ready))
                        return false;
        return link_connected(r->link);
}

static bool any_failed(const struct run *r) {
        for (size_t i = 0; i < r->n; i++)
                if (atomic_load(&r->bridges[i]->phase) == PHASE_FAILED)
                        return true;
        return false;
}

static bool any_stuck(const struct run *r) {
        int64_t now = now_ms();

        for (size_t i = 0; i < r->n; i++)
                if (now - atomic_load(&r->bridges[i]->heartbeat_ms) > STUCK_MS)
                        return true;
        return false;
}

/* Once a second (and at each signal): READY=1 the first time everything runs, STATUS= when it changed. */
static void run_notify(struct run *r) {
        char status[sizeof(r->status)];

        report_status(r->bridges, r->n, r->link, status, sizeof(status));
        if (!r->ready && all_running(r)) {
                r->ready = true;
                log_info("ready: %s", status);
                sd_notifyf(false, "READY=1\nSTATUS=%s", status);
        } else if (!streq(status, r->status))
                sd_notifyf(false, "STATUS=%s", status);
        memcpy(r->status, status, sizeof(status));
        if (r->watchdog_usec && !any_stuck(r))
                sd_notify(false, "WATCHDOG=1");
}

/* Wait for signals; returns the exit code. */
static int run_loop(struct run *r, const sigset_t *signals) {
        int64_t tick = r->watchdog_usec ? (int64_t)(r->watchdog_usec / 2000) : 1000;
        struct timespec ts = { .tv_sec = tick / 1000, .tv_nsec = (tick % 1000) * 1000000 };

        if (tick > 1000)
                ts = (struct timespec){ .tv_sec = 1 };
        for (;;) {
                int sig = sigtimedwait(signals, NULL, &ts);
                if (sig == SIGTERM || sig == SIGINT) {
                        log_info("received %s, stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
                        return 0;
                }
                if (sig == SIGHUP)
                        log_notice("SIGHUP: ipcbroker-bridge does not reload its configuration; restart it instead");
                if (sig == SIGUSR1)
                        for (size_t i = 0; i < r->n; i++)
                                report_log_counts(r->bridges[i]);
                if (any_failed(r)) {
                        log_error("a bridge failed; stopping");
                        return EX_OSERR;
                }
                run_notify(r);
        }
}

static void run_stop(struct run *r) {
        sd_notify(false, "STOPPING=1");
        for (size_t i = 0; i < r->n; i++)
                bridge_stop(r->bridges[i]);
        for (size_t i = 0; i < r->n; i++)
                bridge_join(r->bridges[i]);
        for (size_t i = 0; i < r->n; i++)
                report_log_counts(r->bridges[i]);
        link_close(r->link);
        /* the client's threads are gone after this: no callback can reach a bridge being freed */
        nats_CloseAndWait(2000);
        for (size_t i = 0; i < r->n; i++)
                bridge_free(r->bridges[i]);
        free(r->bridges);
}

static int run(const struct config *c, struct link *l, const sigset_t *signals) {
        struct run r = { .c = c, .link = l };
        int code = EX_OSERR, e = 0;
        uint64_t usec;

        if (sd_watchdog_enabled(false, &usec) > 0)
                r.watchdog_usec = usec;
        r.bridges = calloc(c->n_bridges, sizeof(*r.bridges));
        if (!r.bridges)
                return EX_OSERR;
        for (; r.n < c->n_bridges && e == 0; r.n++)
                e = bridge_new(c, &c->bridges[r.n], l, &r.bridges[r.n]);
        if (e == 0)
                e = link_connect(l);
        for (size_t i = 0; e == 0 && i < r.n; i++)
                e = bridge_start(r.bridges[i]);
        if (e < 0)
                log_error("cannot start: %s", strerror(-e));
        else
                code = run_loop(&r, signals);
        if (e < 0 && r.n > 0 && !r.bridges[r.n - 1])
                r.n--;
        run_stop(&r);
        return code;
}

int main(int argc, char **argv) {
        struct config_errors errors = {};
        struct config *c = NULL;
        struct link *l = NULL;
        struct service_options o;
        sigset_t signals;
        int r;

        r = service_options_parse(argc, argv, &service, &o);
        if (r >= 0)
                return r;
        /*
         * No fastbins: the NATS client allocates every message, and a message of 1 KiB or more is a large
         * request, before which glibc consolidates all fastbin chunks of the arena, on every publish.
         * Small chunks still come from the per-thread cache.
         */
        mallopt(M_MXFAST, 0);
        /* before any thread exists: every thread inherits the mask */
        sigemptyset(&signals);
        sigaddset(&signals, SIGTERM);
        sigaddset(&signals, SIGINT);
        sigaddset(&signals, SIGHUP);
        sigaddset(&signals, SIGUSR1);
        pthread_sigmask(SIG_BLOCK, &signals, NULL);
        signal(SIGPIPE, SIG_IGN);
        log_open(o.verbose);

        if (config_load(o.config, &c, &errors) < 0)
                return report_config_errors(&o, &errors);
        /* the library reads it at each open: set before the bridges' threads exist */
        if (c->socket && setenv("IPCBROKER_SOCKET", c->socket, 1) < 0) {
                log_error("setenv: %s", strerror(errno));
                config_free(c);
                return EX_OSERR;
        }
        r = link_new(c, &errors, &l);
        if (r < 0 && errors.n == 0) {
                log_error("cannot set up the NATS client: %s", strerror(-r));
                config_free(c);
                return EX_OSERR;
        }
        if (r < 0) {
                config_free(c);
                return report_config_errors(&o, &errors);
        }
        if (o.check) {
                printf("%s: configuration is valid\n", o.config);
                report_summary(c, stdout);
                link_free(l);
                config_free(c);
                nats_Close();
                return 0;
        }
        r = run(c, l, &signals);
        link_free(l);
        config_free(c);
        return r;
}
