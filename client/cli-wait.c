/*
 * cli-wait.c — ipcbroker wait NAME...: until every named channel exists and
 * is ready. The daemon answers when a channel's state changes (start,
 * reload, recovery); nothing here polls.
 */
#include "build-config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct option options[] = {
        { "timeout", required_argument, NULL, 't' },
        {},
};

static int run(const struct cli_context *ctx, int argc, char **argv) {
        const char *why;
        bool named = false;
        int r;

        r = ipcb_wait_many((const char *const *)argv, (size_t)argc, ctx->timeout_ms);
        if (r == 0)
                return CLI_OK;
        if (r != -ETIMEDOUT)
                return cli_call_error(argc == 1 ? argv[0] : NULL, r);
        /* the daemon's explanation names what is missing; else say what was waited for */
        why = ipcb_strerror(r);
        for (int i = 0; i < argc && !named; i++)
                named = strstr(why, argv[i]) != NULL;
        if (ctx->timeout_ms % 1000 == 0)
                fprintf(stderr, "ipcbroker: wait: not ready after %d s: %s", ctx->timeout_ms / 1000, why);
        else
                fprintf(stderr, "ipcbroker: wait: not ready after %d ms: %s", ctx->timeout_ms, why);
        if (!named) {
                fprintf(stderr, " (waiting for");
                for (int i = 0; i < argc; i++)
                        fprintf(stderr, "%s '%s'", i ? "," : "", argv[i]);
                fprintf(stderr, ")");
        }
        fputc('\n', stderr);
        return CLI_FAILURE;
}

const struct cli_verb cli_verb_wait = {
        .name = "wait",
        .synopsis = "wait NAME... [-t TIMEOUT]",
        .help = "wait until every named channel exists and is ready",
        .options = options,
        .shortopts = "t:",
        .min_args = 1,
        .max_args = -1,
        .run = run,
};
