/*
 * cli-send.c — ipcbroker send NAME [MESSAGE]: one message, or one per line
 * of standard input.
 */
#include "build-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct option options[] = {
        { "priority", required_argument, NULL, 'p' },
        { "timeout", required_argument, NULL, 't' },
        { "nonblock", no_argument, NULL, 'N' },
        {},
};

static int run(const struct cli_context *ctx, int argc, char **argv) {
        ipcb_channel *ch = NULL;
        const char *name = argv[0];
        unsigned prio = ctx->prio;
        int timeout = ctx->timeout_ms;
        int r, rc = CLI_OK;

        r = ipcb_open(name, IPCB_SEND | ctx->flags, &ch);
        if (r < 0)
                return cli_call_error(name, r);

        if (argc == 2) {
                const char *msg = argv[1];
                r = ipcb_timedsend(ch, msg, strlen(msg), prio, timeout);
                if (r < 0)
                        rc = cli_error(name, r);
        } else {
                char *line = NULL;
                size_t cap = 0;
                ssize_t len;
                unsigned long lineno = 0;

                while ((len = getline(&line, &cap, stdin)) >= 0) {
                        lineno++;
                        if (len > 0 && line[len - 1] == '\n')
                                line[--len] = '\0';
                        r = ipcb_timedsend(ch, line, (size_t)len, prio, timeout);
                        if (r < 0) {
                                fprintf(stderr, "ipcbroker: channel '%s': line %lu not sent: %s\n", name, lineno,
                                        ipcb_strerror(r));
                                rc = CLI_FAILURE;
                                break;
                        }
                }
                free(line);
                if (rc == CLI_OK && ferror(stdin)) {
                        fprintf(stderr, "ipcbroker: channel '%s': reading standard input: %s\n", name, strerror(errno));
                        rc = CLI_FAILURE;
                }
        }
        ipcb_close(ch);
        return rc;
}

const struct cli_verb cli_verb_send = {
        .name = "send",
        .synopsis = "send NAME [-p PRIO] [-t TIMEOUT] [--nonblock] [MESSAGE]",
        .help = "send MESSAGE, or each line of standard input as one message",
        .options = options,
        .shortopts = "p:t:",
        .min_args = 1,
        .max_args = 2,
        .too_many = "too many arguments: quote the message, or send lines on standard input",
        .run = run,
};
