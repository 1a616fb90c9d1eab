/*
 * cli-purge.c — ipcbroker purge NAME... | --all: drop queued messages.
 */
#include "build-config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

int cli_purge(int argc, char **argv) {
        static const struct option options[] = {
                { "all", no_argument, NULL, 'a' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        ipcb_purge_result *res = NULL;
        size_t n = 0;
        bool all = false;
        int c, r, rc = CLI_OK;

        while ((c = getopt_long(argc, argv, "ah", options, NULL)) >= 0) {
                switch (c) {
                case 'a':
                        all = true;
                        break;
                case 'h':
                        cli_verb_help("purge");
                        return CLI_OK;
                default:
                        return CLI_USAGE;
                }
        }
        if (all && optind < argc)
                return cli_usage("purge", "give channel names or --all, not both");
        if (!all && optind >= argc)
                return cli_usage("purge", "missing channel name (or --all)");

        r = ipcb_purge(all ? NULL : (const char *const *)argv + optind, all ? 0 : (size_t)(argc - optind), &res, &n);
        if (r < 0) {
                /* the whole request failed: say which channels it was for */
                if (!all && argc - optind == 1)
                        return cli_call_error(argv[optind], r);
                fprintf(stderr, "ipcbroker: %s", all ? "all channels" : "channels");
                for (int i = optind; !all && i < argc; i++)
                        fprintf(stderr, "%s '%s'", i > optind ? "," : "", argv[i]);
                fprintf(stderr, ": %s\n", ipcb_strerror(r));
                return cli_exit_code(r, true);
        }
        for (size_t i = 0; i < n; i++) {
                if (res[i].error < 0) {
                        fprintf(stderr, "ipcbroker: channel '%s': %s\n", res[i].name,
                                res[i].message[0] ? res[i].message : ipcb_strerror(res[i].error));
                        rc = CLI_FAILURE;
                        continue;
                }
                printf("%s: purged %llu message%s, %llu byte%s\n", res[i].name, res[i].messages,
                       res[i].messages == 1 ? "" : "s", res[i].bytes, res[i].bytes == 1 ? "" : "s");
        }
        free(res);
        return rc;
}
