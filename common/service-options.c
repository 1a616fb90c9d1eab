/*
 * service-options.c — the services' shared command line (service-options.h).
 */
#include "build-config.h"

#include <getopt.h>
#include <sysexits.h>

#include "service-options.h"

void service_options_help(FILE *f, const char *default_config) {
        fprintf(f,
                "  -c, --config=FILE     configuration file (default: %s)\n"
                "  -t, --check-config    check the configuration, print a summary and exit\n"
                "  -v, --verbose         log debug messages\n"
                "  -V, --version         print the version and exit\n"
                "  -h, --help            print this help and exit\n"
                "\n"
                "Exit status: 0 clean stop, 64 usage error, 78 configuration error, 71 system error.\n",
                default_config);
}

int service_options_parse(int argc, char **argv, const struct service_info *info, struct service_options *o) {
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' }, { "check-config", no_argument, NULL, 't' },
                { "verbose", no_argument, NULL, 'v' },      { "version", no_argument, NULL, 'V' },
                { "help", no_argument, NULL, 'h' },         {},
        };
        int c;

        *o = (struct service_options){ .config = info->default_config };
        while ((c = getopt_long(argc, argv, "c:tvVh", options, NULL)) >= 0) {
                switch (c) {
                case 'c':
                        o->config = optarg;
                        break;
                case 't':
                        o->check = true;
                        break;
                case 'v':
                        o->verbose = true;
                        break;
                case 'V':
                        info->version();
                        return 0;
                case 'h':
                        info->usage(stdout);
                        return 0;
                default:
                        fprintf(stderr, "Try '%s --help' for more information.\n", info->name);
                        return EX_USAGE;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "%s: unexpected argument '%s'\nTry '%s --help' for more information.\n", info->name,
                        argv[optind], info->name);
                return EX_USAGE;
        }
        return -1;
}
