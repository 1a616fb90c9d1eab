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

/* The daemon's reason for one channel's timeout, without the "timed out waiting: " it begins with. */
static const char *reason(int err) {
        static const char prefix[] = "timed out waiting: ";
        const char *why = ipcb_strerror(err);

        return strncmp(why, prefix, sizeof(prefix) - 1) == 0 ? why + sizeof(prefix) - 1 : why;
}

/*
 * After a timeout: ask again for each channel, without waiting, so that the
 * message names every one that is not ready (the daemon names the first it
 * finds), each with the daemon's reason.
 */
static void report_timeout(const struct cli_context *ctx, int argc, char **argv, int err) {
        char first[IPCB_TEXT_MAX];
        int named = 0;

        snprintf(first, sizeof(first), "%s", reason(err));
        if (ctx->timeout_ms < 0)
                fprintf(stderr, "ipcbroker: wait: timed out:");
        else if (ctx->timeout_ms % 1000 == 0)
                fprintf(stderr, "ipcbroker: wait: timed out after %d s:", ctx->timeout_ms / 1000);
        else
                fprintf(stderr, "ipcbroker: wait: timed out after %d ms:", ctx->timeout_ms);
        for (int i = 0; i < argc && argc > 1; i++) {
                int r = ipcb_wait(argv[i], 0);
                if (r == -ETIMEDOUT)
                        fprintf(stderr, "%s %s", named++ ? ";" : "", reason(r));
        }
        /* one channel, or all ready by now: what the daemon said the first time */
        if (named == 0)
                fprintf(stderr, " %s", first);
        fputc('\n', stderr);
}

static int run(const struct cli_context *ctx, int argc, char **argv) {
        int r;

        r = ipcb_wait_many((const char *const *)argv, (size_t)argc, ctx->timeout_ms);
        if (r == 0)
                return CLI_OK;
        /* a timeout of the wait, not of the daemon: a failure, not "unreachable" */
        if (r != -ETIMEDOUT)
                return cli_call_error(argc == 1 ? argv[0] : NULL, r);
        report_timeout(ctx, argc, argv, r);
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
