/*
 * cli-recv.c — ipcbroker recv NAME: print received messages, one a line.
 * Payloads are written unchanged (binary included), each followed by '\n'.
 */
#include "build-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static const struct option options[] = {
        { "count", required_argument, NULL, 'n' },
        { "timeout", required_argument, NULL, 't' },
        { "nonblock", no_argument, NULL, 'N' },
        { "verbose", no_argument, NULL, 'v' },
        {},
};

static int run(const struct cli_context *ctx, int argc, char **argv) {
        ipcb_channel *ch = NULL;
        ipcb_attr attr;
        const char *name = argv[0];
        uint64_t count = ctx->count, got = 0;
        char *buf;
        int r, rc = CLI_OK;

        (void)argc;
        r = ipcb_open(name, IPCB_RECV | ctx->flags, &ch);
        if (r < 0)
                return cli_call_error(name, r);
        r = ipcb_getattr(ch, &attr);
        if (r < 0) {
                ipcb_close(ch);
                return cli_error(name, r);
        }
        buf = malloc((size_t)attr.message_size + 1);
        if (!buf) {
                ipcb_close(ch);
                return cli_error(name, -ENOMEM);
        }
        while (count == 0 || got < count) {
                unsigned prio = 0;
                ssize_t n = ipcb_timedrecv(ch, buf, (size_t)attr.message_size, &prio, ctx->timeout_ms);
                if (n < 0) {
                        /* "until interrupted or timed out": with -n 0 the end of the wait is the end */
                        if (count == 0 && (n == -ETIMEDOUT || n == -EAGAIN))
                                break;
                        rc = cli_error(name, (int)n);
                        break;
                }
                if (ctx->verbose)
                        printf("%u\t", prio);
                fwrite(buf, 1, (size_t)n, stdout);
                putchar('\n');
                fflush(stdout);
                got++;
        }
        free(buf);
        ipcb_close(ch);
        return rc;
}

const struct cli_verb cli_verb_recv = {
        .name = "recv",
        .synopsis = "recv NAME [-n COUNT] [-t TIMEOUT] [--nonblock] [-v]",
        .help = "print received messages, one a line; -v adds the priority",
        .options = options,
        .shortopts = "n:t:v",
        .min_args = 1,
        .max_args = 1,
        .run = run,
};
