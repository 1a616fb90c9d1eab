/*
 * cli-purge.c — ipcbroker purge NAME... | --all: drop queued messages.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static const struct option options[] = {
        { "all", no_argument, NULL, 'a' },
        {},
};

static int run(const struct cli_context *ctx, int argc, char **argv) {
        ipcb_purge_result *res = NULL;
        size_t n = 0;
        bool all = ctx->all;
        int r, rc = CLI_OK;

        if (all && argc > 0)
                return cli_usage(ctx->verb->name, "give channel names or --all, not both");
        if (!all && argc == 0)
                return cli_usage(ctx->verb->name, "missing channel name (or --all)");

        r = ipcb_purge(all ? NULL : (const char *const *)argv, all ? 0 : (size_t)argc, &res, &n);
        if (r < 0) {
                /* the whole request failed: say which channels it was for */
                if (!all && argc == 1)
                        return cli_call_error(argv[0], r);
                fprintf(stderr, "ipcbroker: %s", all ? "all channels" : "channels");
                for (int i = 0; !all && i < argc; i++)
                        fprintf(stderr, "%s '%s'", i > 0 ? "," : "", argv[i]);
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

const struct cli_verb cli_verb_purge = {
        .name = "purge",
        .synopsis = "purge NAME... | purge --all",
        .help = "drop queued messages (admins only)",
        .options = options,
        .shortopts = "a",
        .max_args = -1,
        .run = run,
};
