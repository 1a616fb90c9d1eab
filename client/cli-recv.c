/*
 * cli-recv.c — ipcbroker recv NAME: print received messages, one a line.
 * Payloads are written unchanged (binary included), each followed by '\n'.
 */
#include "build-config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "util.h"

int cli_recv(int argc, char **argv) {
        static const struct option options[] = {
                { "count", required_argument, NULL, 'n' },
                { "timeout", required_argument, NULL, 't' },
                { "nonblock", no_argument, NULL, 'N' },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        ipcb_channel *ch = NULL;
        ipcb_attr attr;
        const char *name;
        uint64_t count = 1, got = 0;
        int timeout = -1, flags = IPCB_RECV;
        bool verbose = false;
        char *buf;
        int c, r, rc = CLI_OK;

        while ((c = getopt_long(argc, argv, "n:t:vh", options, NULL)) >= 0) {
                switch (c) {
                case 'n':
                        if (parse_u64(optarg, 10, 0, UINT64_MAX, &count) < 0)
                                return cli_usage("recv", "invalid count '%s'", optarg);
                        break;
                case 't':
                        timeout = cli_parse_timeout(optarg);
                        if (timeout < 0)
                                return cli_usage("recv", "invalid timeout '%s'", optarg);
                        break;
                case 'N':
                        flags |= IPCB_NONBLOCK;
                        break;
                case 'v':
                        verbose = true;
                        break;
                case 'h':
                        cli_verb_help("recv");
                        return CLI_OK;
                default:
                        return CLI_USAGE;
                }
        }
        if (optind >= argc)
                return cli_usage("recv", "missing channel name");
        if (argc - optind > 1)
                return cli_usage("recv", "unexpected argument '%s'", argv[optind + 1]);
        name = argv[optind];

        r = ipcb_open(name, flags, &ch);
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
                ssize_t n = ipcb_timedrecv(ch, buf, (size_t)attr.message_size, &prio, timeout);
                if (n < 0) {
                        /* "until interrupted or timed out": with -n 0 the end of the wait is the end */
                        if (count == 0 && (n == -ETIMEDOUT || n == -EAGAIN))
                                break;
                        rc = cli_error(name, (int)n);
                        break;
                }
                if (verbose)
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
