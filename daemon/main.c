/*
 * main.c — ipcbrokerd's entry point: options, exit codes, and the hand-over
 * to the broker. Everything else lives in the daemon library so that tests
 * link exactly what ships.
 */
#include "build-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "broker.h"
#include "fdstore.h"
#include "service-options.h"
#include "log.h"

#define DEFAULT_CONFIG SYSCONFDIR "/ipcbroker.conf"

static void usage(FILE *f) {
        fputs("Usage: ipcbrokerd [OPTIONS]\n"
              "Own the POSIX message queues and FIFOs declared in the configuration and\n"
              "hand them out by name to processes allowed to use them.\n"
              "\n",
              f);
        service_options_help(f, DEFAULT_CONFIG);
        fputs("Signals: SIGTERM/SIGINT stop, SIGHUP reloads the configuration.\n", f);
}

static void version(void) {
        printf("ipcbrokerd %s\n", PACKAGE_VERSION);
}

static const struct service_info service = {
        .name = "ipcbrokerd",
        .default_config = DEFAULT_CONFIG,
        .usage = usage,
        .version = version,
};

/* Say why the configuration cannot be used: -t talks to a person, the daemon logs (with priorities under the journal).
 */
static void report_config_errors(const struct service_options *o, const struct config_errors *errors, int r) {
        for (size_t i = 0; i < errors->n; i++)
                if (o->check)
                        fprintf(stderr, "%s\n", errors->lines[i]);
                else
                        log_error("%s", errors->lines[i]);
        if (errors->n == 0) {
                if (o->check)
                        fprintf(stderr, "%s: %s\n", o->config, strerror(-r));
                else
                        log_error("%s: %s", o->config, strerror(-r));
        }
        if (o->check)
                fprintf(stderr, "ipcbrokerd: %s: configuration is invalid (%zu %s)\n", o->config, errors->n,
                        errors->n == 1 ? "error" : "errors");
        else
                log_error("%s: configuration is invalid (%zu %s)", o->config, errors->n,
                          errors->n == 1 ? "error" : "errors");
}

static int run(const struct service_options *o, const struct config_defaults *defaults, struct config *config,
               const struct config_errors *problem, int err);

/* The configuration is invalid under socket activation: run on the defaults, with no channel, until a reload. */
static int run_invalid(const struct service_options *o, const struct config_defaults *defaults,
                       const struct config_errors *errors, int err) {
        struct config *config = config_new_default(o->config, defaults);

        if (!config) {
                log_error("cannot start: out of memory");
                return EX_OSERR;
        }
        log_warning("socket-activated with an invalid configuration: staying up, serving no channel and answering "
                    "every request with the reasons until a reload finds %s valid",
                    o->config);
        return run(o, defaults, config, errors, err);
}

/*
 * Start the daemon on CONFIG (taken over) and run it until it stops; returns
 * the exit code. PROBLEM: the configuration file was invalid (see run_invalid).
 */
static int run(const struct service_options *o, const struct config_defaults *defaults, struct config *config,
               const struct config_errors *problem, int err) {
        struct broker *b = NULL;
        int r;

        if (!o->verbose)
                log_set_level(config->log_level);
        r = broker_new(o->config, defaults, config, &b);
        if (r < 0) {
                config_free(config);
                log_error("cannot start: %s", strerror(-r));
                return EX_OSERR;
        }
        b->verbose = o->verbose;
        if (problem && broker_set_config_problem(b, problem, err) < 0) {
                broker_free(b);
                log_error("cannot start: out of memory");
                return EX_OSERR;
        }
        r = broker_start(b);
        if (r < 0) {
                log_error("cannot start: %s", strerror(-r));
                broker_stop(b);
                broker_free(b);
                return EX_OSERR;
        }
        r = broker_run(b);
        broker_stop(b);
        broker_free(b);
        return r;
}

int main(int argc, char **argv) {
        struct config_defaults defaults;
        struct config_errors errors = {};
        struct kernel_limits limits;
        struct config *config = NULL;
        struct service_options o;
        int r;

        r = service_options_parse(argc, argv, &service, &o);
        if (r >= 0)
                return r;
        log_open();
        if (o.verbose)
                log_set_level(LOG_DEBUG);
        config_defaults_init(&defaults);
        kernel_limits_read(&limits);

        r = broker_load_config(o.config, &defaults, &limits, &config, &errors);
        if (r < 0) {
                report_config_errors(&o, &errors, r);
                /*
                 * Socket-activated, exiting would leave every client retrying
                 * until the socket unit fails: stay up, say why to each, and
                 * serve once a reload finds the file valid. Only a passed
                 * socket says so: the FIFOs of the descriptor store are passed
                 * the same way (LISTEN_FDS) after a crash without one.
                 */
                if (!o.check && fdstore_socket_passed()) {
                        r = run_invalid(&o, &defaults, &errors, r);
                        config_errors_clear(&errors);
                        return r;
                }
                config_errors_clear(&errors);
                return EX_CONFIG;
        }
        if (o.check) {
                config_print_summary(config, stdout);
                config_free(config);
                return 0;
        }
        return run(&o, &defaults, config, NULL, 0);
}
