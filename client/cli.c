/*
 * cli.c — ipcbroker: the verb table, global options, --help, the verbs'
 * option parsing and operand counts, usage errors and exit codes.
 */
#include "build-config.h"

#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util.h"

static const struct cli_verb *const verbs[] = {
        &cli_verb_list,
        &cli_verb_stat,
        &cli_verb_purge,
        &cli_verb_send,
        &cli_verb_recv,
        &cli_verb_reload,
        &cli_verb_status,
        /* the operators' view */
        &cli_verb_metrics,
        &cli_verb_holders,
        &cli_verb_top,
        &cli_verb_wait,
        &cli_verb_access,
};
#define N_VERBS (sizeof(verbs) / sizeof(verbs[0]))

const struct option cli_json_options[] = {
        { "json", no_argument, NULL, 'j' },
        {},
};

static void usage(FILE *f) {
        fprintf(f, "Usage: ipcbroker [-s SOCKET] VERB [ARGS...]\n"
                   "Open, inspect and administer the channels of ipcbrokerd.\n\n");
        for (size_t i = 0; i < N_VERBS; i++)
                fprintf(f, "  %-58s %s\n", verbs[i]->synopsis, verbs[i]->help);
        fprintf(f,
                "\nGlobal options:\n"
                "  -s, --socket=PATH   the daemon's socket (default: $IPCBROKER_SOCKET or %s)\n"
                "  -h, --help          print this help\n"
                "  -V, --version       print the version\n"
                "The server at the socket must run as root, as you, or as $IPCBROKER_DAEMON_UID.\n"
                "\nTIMEOUT is in seconds (\"1.5\"), or with a unit: \"250ms\", \"2s\".\n"
                "Exit status: 0 ok, 1 failure, 2 usage error, 69 daemon unreachable.\n",
                ipcb_socket_path());
}

int cli_usage(const char *verb, const char *fmt, ...) {
        va_list ap;

        fprintf(stderr, "ipcbroker%s%s: ", verb ? " " : "", verb ? verb : "");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, "\nTry 'ipcbroker %s%s--help' for more information.\n", verb ? verb : "", verb ? " " : "");
        return CLI_USAGE;
}

int cli_exit_code(int err, bool from_call) {
        /*
         * From a call to the daemon, a timeout or a reset also means it could
         * not be reached: not accepting or not answering in time, or gone
         * before it answered. From the data path, -ETIMEDOUT is a timeout.
         * A server that is not ipcbrokerd (-EREMCHG: it runs as another
         * user) means the daemon is not what answers there: unreachable too.
         */
        if (err == -ECONNREFUSED || err == -EREMCHG || (from_call && (err == -ETIMEDOUT || err == -ECONNRESET)))
                return CLI_UNREACHABLE;
        return CLI_FAILURE;
}

int cli_error(const char *channel, int err) {
        if (channel)
                fprintf(stderr, "ipcbroker: channel '%s': %s\n", channel, ipcb_strerror(err));
        else
                fprintf(stderr, "ipcbroker: %s\n", ipcb_strerror(err));
        return cli_exit_code(err, false);
}

int cli_call_error(const char *channel, int err) {
        cli_error(channel, err);
        return cli_exit_code(err, true);
}

/* One option of a verb, C as getopt_long returned it, into CTX: 0, or the exit code. */
static int parse_option(struct cli_context *ctx, int c, const char *arg) {
        const char *verb = ctx->verb->name;
        uint64_t v;

        switch (c) {
        case 'j':
                ctx->json = true;
                return 0;
        case 'a':
                ctx->all = true;
                return 0;
        case 'v':
                ctx->verbose = true;
                return 0;
        case 'N':
                ctx->flags |= IPCB_NONBLOCK;
                return 0;
        case 'H':
                ctx->http = true;
                return 0;
        case 'n':
                if (parse_u64(arg, 10, 0, UINT64_MAX, &ctx->count) < 0)
                        return cli_usage(verb, "invalid count '%s'", arg);
                ctx->count_set = true;
                return 0;
        case 't':
                ctx->timeout_ms = cli_parse_timeout(arg);
                if (ctx->timeout_ms < 0)
                        return cli_usage(verb, "invalid timeout '%s'", arg);
                return 0;
        case 'p':
                if (parse_u64(arg, 10, 0, 32767, &v) < 0)
                        return cli_usage(verb, "invalid priority '%s' (0 to 32767)", arg);
                ctx->prio = (unsigned)v;
                return 0;
        case 'u':
                if (!*arg)
                        return cli_usage(verb, "empty user name");
                ctx->user = arg;
                return 0;
        case 'd':
                ctx->delay_ms = cli_parse_timeout(arg);
                if (ctx->delay_ms <= 0)
                        return cli_usage(verb, "invalid delay '%s' (seconds, more than 0)", arg);
                return 0;
        case 's':
                if (strcmp(arg, "name") != 0 && strcmp(arg, "fill") != 0)
                        return cli_usage(verb, "invalid sort '%s' (fill or name)", arg);
                ctx->sort_name = strcmp(arg, "name") == 0;
                return 0;
        default:
                /* getopt_long has said what is wrong */
                return CLI_USAGE;
        }
}

/* Parse the verb's options and count its operands, then run it. ARGV[0] is the verb. */
static int run_verb(const struct cli_verb *verb, int argc, char **argv) {
        struct cli_context ctx = { .verb = verb, .timeout_ms = -1, .count = 1, .delay_ms = 1000 };
        struct option options[16];
        char shortopts[32];
        size_t n = 0;
        int c, r, nargs;

        for (const struct option *o = verb->options; o && o->name; o++) {
                assert(n < sizeof(options) / sizeof(options[0]) - 2);
                options[n++] = *o;
        }
        options[n++] = (struct option){ "help", no_argument, NULL, 'h' };
        options[n] = (struct option){};
        snprintf(shortopts, sizeof(shortopts), "%sh", verb->shortopts ? verb->shortopts : "");

        optind = 0; /* reset getopt for the verb (0 also re-reads GNU extensions) */
        while ((c = getopt_long(argc, argv, shortopts, options, NULL)) >= 0) {
                if (c == 'h') {
                        printf("Usage: ipcbroker %s\n%s\n", verb->synopsis, verb->help);
                        return CLI_OK;
                }
                r = parse_option(&ctx, c, optarg);
                if (r != 0)
                        return r;
        }
        nargs = argc - optind;
        if (nargs < verb->min_args)
                return cli_usage(verb->name, "missing channel name");
        if (verb->max_args >= 0 && nargs > verb->max_args) {
                if (verb->too_many)
                        return cli_usage(verb->name, "%s", verb->too_many);
                return cli_usage(verb->name, "unexpected argument '%s'", argv[optind + verb->max_args]);
        }
        return verb->run(&ctx, nargs, argv + optind);
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "socket", required_argument, NULL, 's' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {},
        };
        int c;

        /* '+': stop at the verb; the verb's options are parsed by run_verb() */
        while ((c = getopt_long(argc, argv, "+s:hV", options, NULL)) >= 0) {
                switch (c) {
                case 's':
                        if (!*optarg)
                                return cli_usage(NULL, "empty socket path");
                        /* the library reads IPCBROKER_SOCKET: that is its public way to choose a daemon */
                        if (setenv("IPCBROKER_SOCKET", optarg, 1) < 0)
                                return cli_error(NULL, -errno);
                        break;
                case 'h':
                        usage(stdout);
                        return CLI_OK;
                case 'V':
                        printf("ipcbroker %s (libipcbroker %s)\n", PACKAGE_VERSION, ipcb_version());
                        return CLI_OK;
                default:
                        fprintf(stderr, "Try 'ipcbroker --help' for more information.\n");
                        return CLI_USAGE;
                }
        }
        if (optind >= argc) {
                usage(stderr);
                return CLI_USAGE;
        }
        for (size_t i = 0; i < N_VERBS; i++)
                if (strcmp(verbs[i]->name, argv[optind]) == 0)
                        return run_verb(verbs[i], argc - optind, argv + optind);
        return cli_usage(NULL, "unknown verb '%s'", argv[optind]);
}
