/*
 * cli-send.c — ipcbroker send NAME [MESSAGE]: one message, or one per line
 * of standard input.
 */
#include "build-config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util.h"

int cli_send(int argc, char **argv) {
        static const struct option options[] = {
                { "priority", required_argument, NULL, 'p' },
                { "timeout", required_argument, NULL, 't' },
                { "nonblock", no_argument, NULL, 'N' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        ipcb_channel *ch = NULL;
        const char *name;
        unsigned prio = 0;
        int timeout = -1, flags = IPCB_SEND;
        int c, r, rc = CLI_OK;

        while ((c = getopt_long(argc, argv, "p:t:h", options, NULL)) >= 0) {
                switch (c) {
                case 'p': {
                        uint64_t v;
                        if (parse_u64(optarg, 10, 0, 32767, &v) < 0)
                                return cli_usage("send", "invalid priority '%s' (0 to 32767)", optarg);
                        prio = (unsigned)v;
                        break;
                }
                case 't':
                        timeout = cli_parse_timeout(optarg);
                        if (timeout < 0)
                                return cli_usage("send", "invalid timeout '%s'", optarg);
                        break;
                case 'N':
                        flags |= IPCB_NONBLOCK;
                        break;
                case 'h':
                        cli_verb_help("send");
                        return CLI_OK;
                default:
                        return CLI_USAGE;
                }
        }
        if (optind >= argc)
                return cli_usage("send", "missing channel name");
        if (argc - optind > 2)
                return cli_usage("send", "too many arguments: quote the message, or send lines on standard input");
        name = argv[optind];

        r = ipcb_open(name, flags, &ch);
        if (r < 0)
                return cli_call_error(name, r);

        if (argc - optind == 2) {
                const char *msg = argv[optind + 1];
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
                        fprintf(stderr, "ipcbroker: channel '%s': reading standard input: %s\n", name,
                                strerror(errno));
                        rc = CLI_FAILURE;
                }
        }
        ipcb_close(ch);
        return rc;
}
