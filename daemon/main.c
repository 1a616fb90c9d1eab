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

static void print_summary(const struct config *c) {
        size_t queues = 0, fifos = 0;

        for (size_t i = 0; i < c->n_channels; i++)
                if (c->channels[i]->type == CHANNEL_MQUEUE)
                        queues++;
                else
                        fifos++;
        printf("%s: configuration OK: %zu channels (%zu queues, %zu FIFOs)\n", c->file, c->n_channels, queues, fifos);
        printf("  socket %s (mode %04o), runtime directory %s, queue prefix %s\n", c->socket, c->socket_mode,
               c->runtime_dir, c->mq_prefix);
        for (size_t i = 0; i < c->n_channels; i++) {
                const struct channel_config *ch = c->channels[i];
                if (ch->type == CHANNEL_MQUEUE)
                        printf("  mqueue %-24s %s  %ld x %ld bytes  %u:%u %04o  on_stop=%s\n", ch->name, ch->mq_name,
                               ch->max_messages, ch->message_size, ch->owner, ch->group, ch->mode,
                               on_stop_to_string(ch->on_stop));
                else
                        printf("  fifo   %-24s %s  capacity %ld, messages up to %ld bytes, %s framing  %u:%u %04o  "
                               "on_stop=%s\n",
                               ch->name, ch->path, ch->capacity, ch->message_size, framing_to_string(ch->framing),
                               ch->owner, ch->group, ch->mode, on_stop_to_string(ch->on_stop));
        }
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' }, { "check-config", no_argument, NULL, 't' },
                { "verbose", no_argument, NULL, 'v' },      { "version", no_argument, NULL, 'V' },
                { "help", no_argument, NULL, 'h' },         {},
        };
        const char *config_path = SYSCONFDIR "/ipcbroker.conf";
        struct config_defaults defaults;
        struct config_errors errors = {};
        struct kernel_limits limits;
        struct config *config = NULL;
        struct broker *b = NULL;
        bool check = false, verbose = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "c:tvVh", options, NULL)) >= 0) {
                switch (c) {
                case 'c':
                        config_path = optarg;
                        break;
                case 't':
                        check = true;
                        break;
                case 'v':
                        verbose = true;
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

        log_open();
        if (verbose)
                log_set_level(LOG_DEBUG);
        config_defaults_init(&defaults);
        kernel_limits_read(&limits);

        r = broker_load_config(config_path, &defaults, &limits, &config, &errors);
        if (r < 0) {
                /* -t talks to a person; the daemon logs (with priorities under the journal) */
                for (size_t i = 0; i < errors.n; i++)
                        if (check)
                                fprintf(stderr, "%s\n", errors.lines[i]);
                        else
                                log_error("%s", errors.lines[i]);
                if (errors.n == 0) {
                        if (check)
                                fprintf(stderr, "%s: %s\n", config_path, strerror(-r));
                        else
                                log_error("%s: %s", config_path, strerror(-r));
                }
                if (check)
                        fprintf(stderr, "ipcbrokerd: %s: configuration is invalid (%zu %s)\n", config_path, errors.n,
                                errors.n == 1 ? "error" : "errors");
                else
                        log_error("%s: configuration is invalid (%zu %s)", config_path, errors.n,
                                  errors.n == 1 ? "error" : "errors");
                config_errors_clear(&errors);
                return EX_CONFIG;
        }
        if (check) {
                print_summary(config);
                config_free(config);
                return 0;
        }
        if (!verbose)
                log_set_level(config->log_level);

        r = broker_new(config_path, &defaults, config, &b);
        if (r < 0) {
                config_free(config);
                log_error("cannot start: %s", strerror(-r));
                return EX_OSERR;
        }
        b->verbose = verbose;
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
