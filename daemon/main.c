/*
 * main.c — ipcbrokerd's entry point: options, exit codes, and the hand-over
 * to the broker. Everything else lives in the daemon library so that tests
 * link exactly what ships.
 */
#include "build-config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <systemd/sd-daemon.h>

#include "broker.h"
#include "log.h"

static void usage(FILE *f) {
        fprintf(f,
                "Usage: ipcbrokerd [OPTIONS]\n"
                "Own the POSIX message queues and FIFOs declared in the configuration and\n"
                "hand them out by name to processes allowed to use them.\n"
                "\n"
                "  -c, --config=FILE     configuration file (default: %s)\n"
                "  -t, --check-config    check the configuration, print a summary and exit\n"
                "  -v, --verbose         log debug messages\n"
                "  -V, --version         print the version and exit\n"
                "  -h, --help            print this help and exit\n"
                "\n"
                "Exit status: 0 clean stop, 64 usage error, 78 configuration error, 71 system error.\n"
                "Signals: SIGTERM/SIGINT stop, SIGHUP reloads the configuration.\n",
                SYSCONFDIR "/ipcbroker.conf");
}

struct options {
        const char *config_path;
        bool check;
        bool verbose;
};

/* Parse the command line. Returns -1 to go on, or the exit code to exit with. */
static int parse_options(int argc, char **argv, struct options *o) {
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' }, { "check-config", no_argument, NULL, 't' },
                { "verbose", no_argument, NULL, 'v' },      { "version", no_argument, NULL, 'V' },
                { "help", no_argument, NULL, 'h' },         {},
        };
        int c;

        *o = (struct options){ .config_path = SYSCONFDIR "/ipcbroker.conf" };
        while ((c = getopt_long(argc, argv, "c:tvVh", options, NULL)) >= 0) {
                switch (c) {
                case 'c':
                        o->config_path = optarg;
                        break;
                case 't':
                        o->check = true;
                        break;
                case 'v':
                        o->verbose = true;
                        break;
                case 'V':
                        printf("ipcbrokerd %s\n", PACKAGE_VERSION);
                        return 0;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        fprintf(stderr, "Try 'ipcbrokerd --help' for more information.\n");
                        return EX_USAGE;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "ipcbrokerd: unexpected argument '%s'\nTry 'ipcbrokerd --help' for more information.\n",
                        argv[optind]);
                return EX_USAGE;
        }
        return -1;
}

/* Say why the configuration cannot be used: -t talks to a person, the daemon logs (with priorities under the journal).
 */
static void report_config_errors(const struct options *o, const struct config_errors *errors, int r) {
        for (size_t i = 0; i < errors->n; i++)
                if (o->check)
                        fprintf(stderr, "%s\n", errors->lines[i]);
                else
                        log_error("%s", errors->lines[i]);
        if (errors->n == 0) {
                if (o->check)
                        fprintf(stderr, "%s: %s\n", o->config_path, strerror(-r));
                else
                        log_error("%s: %s", o->config_path, strerror(-r));
        }
        if (o->check)
                fprintf(stderr, "ipcbrokerd: %s: configuration is invalid (%zu %s)\n", o->config_path, errors->n,
                        errors->n == 1 ? "error" : "errors");
        else
                log_error("%s: configuration is invalid (%zu %s)", o->config_path, errors->n,
                          errors->n == 1 ? "error" : "errors");
}

static int run(const struct options *o, const struct config_defaults *defaults, struct config *config,
               const struct config_errors *problem, int err);

/* The configuration is invalid under socket activation: run on the defaults, with no channel, until a reload. */
static int run_invalid(const struct options *o, const struct config_defaults *defaults,
                       const struct config_errors *errors, int err) {
        struct config *config = config_new_default(o->config_path, defaults);

        if (!config) {
                log_error("cannot start: out of memory");
                return EX_OSERR;
        }
        log_warning("socket-activated with an invalid configuration: staying up, serving no channel and answering "
                    "every request with the reasons until a reload finds %s valid",
                    o->config_path);
        return run(o, defaults, config, errors, err);
}

/*
 * Start the daemon on CONFIG (taken over) and run it until it stops; returns
 * the exit code. PROBLEM: the configuration file was invalid (see run_invalid).
 */
static int run(const struct options *o, const struct config_defaults *defaults, struct config *config,
               const struct config_errors *problem, int err) {
        struct broker *b = NULL;
        int r;

        if (!o->verbose)
                log_set_level(config->log_level);
        r = broker_new(o->config_path, defaults, config, &b);
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
        struct options o;
        int r;

        r = parse_options(argc, argv, &o);
        if (r >= 0)
                return r;
        log_open();
        if (o.verbose)
                log_set_level(LOG_DEBUG);
        config_defaults_init(&defaults);
        kernel_limits_read(&limits);

        r = broker_load_config(o.config_path, &defaults, &limits, &config, &errors);
        if (r < 0) {
                report_config_errors(&o, &errors, r);
                /*
                 * Socket-activated, exiting would leave every client retrying
                 * until the socket unit fails: stay up, say why to each, and
                 * serve once a reload finds the file valid.
                 */
                if (!o.check && sd_listen_fds(0) > 0) {
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
