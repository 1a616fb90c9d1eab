/*
 * cli-reload.c — ipcbroker reload: ask the daemon to reload its configuration.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static int run(const struct cli_context *ctx, int argc, char **argv) {
        char *message = NULL;
        int r;

        (void)ctx;
        (void)argc;
        (void)argv;
        r = ipcb_reload(&message);
        if (r < 0)
                return cli_call_error(NULL, r);
        printf("%s\n", message ? message : "reloaded");
        free(message);
        return CLI_OK;
}

const struct cli_verb cli_verb_reload = {
        .name = "reload",
        .synopsis = "reload",
        .help = "ask the daemon to reload its configuration (admins only)",
        .max_args = 0,
        .run = run,
};
