/*
 * cli-reload.c — ipcbroker reload: ask the daemon to reload its configuration.
 */
#include "build-config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

int cli_reload(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                {},
        };
        char *message = NULL;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                if (c == 'h') {
                        cli_verb_help("reload");
                        return CLI_OK;
                }
                return CLI_USAGE;
        }
        if (optind < argc)
                return cli_usage("reload", "unexpected argument '%s'", argv[optind]);
        r = ipcb_reload(&message);
        if (r < 0)
                return cli_call_error(NULL, r);
        printf("%s\n", message ? message : "reloaded");
        free(message);
        return CLI_OK;
}
