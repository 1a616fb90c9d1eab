/*
 * cli.c — ipcbroker: global options and the verb table.
 */
#include "build-config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct cli_verb verbs[] = {
        { "list", cli_list, "list [--json]", "one row per channel: type, owner, mode, depth and sizes" },
        { "stat", cli_stat, "stat NAME [--json]", "everything known about one channel, kernel attributes included" },
        { "purge", cli_purge, "purge NAME... | purge --all", "drop queued messages (admins only)" },
        { "send", cli_send, "send NAME [-p PRIO] [-t TIMEOUT] [--nonblock] [MESSAGE]",
          "send MESSAGE, or each line of standard input as one message" },
        { "recv", cli_recv, "recv NAME [-n COUNT] [-t TIMEOUT] [--nonblock] [-v]",
          "print received messages, one a line; -v adds the priority" },
        { "reload", cli_reload, "reload", "ask the daemon to reload its configuration (admins only)" },
        { "status", cli_status, "status [--json]", "version, pid, uptime, config file, counters" },
};

static void usage(FILE *f) {
        fprintf(f, "Usage: ipcbroker [-s SOCKET] VERB [ARGS...]\n"
                   "Open, inspect and administer the channels of ipcbrokerd.\n\n");
        for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
                fprintf(f, "  %-58s %s\n", verbs[i].synopsis, verbs[i].summary);
        fprintf(f, "\nGlobal options:\n"
                   "  -s, --socket=PATH   the daemon's socket (default: $IPCBROKER_SOCKET or %s)\n"
                   "  -h, --help          print this help\n"
                   "  -V, --version       print the version\n"
                   "The server at the socket must run as root, as you, or as $IPCBROKER_DAEMON_UID.\n"
                   "\nTIMEOUT is in seconds (\"1.5\"), or with a unit: \"250ms\", \"2s\".\n"
                   "Exit status: 0 ok, 1 failure, 2 usage error, 69 daemon unreachable.\n",
                ipcb_socket_path());
}

void cli_verb_help(const char *verb) {
        for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
                if (strcmp(verbs[i].name, verb) == 0)
                        printf("Usage: ipcbroker %s\n%s\n", verbs[i].synopsis, verbs[i].summary);
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

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "socket", required_argument, NULL, 's' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {},
        };
        int c;

        /* '+': stop at the verb; the verb parses its own options */
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
        for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
                if (strcmp(verbs[i].name, argv[optind]) == 0) {
                        int vargc = argc - optind;
                        char **vargv = argv + optind;
                        optind = 0; /* reset getopt for the verb (0 also re-reads GNU extensions) */
                        return verbs[i].run(vargc, vargv);
                }
        return cli_usage(NULL, "unknown verb '%s'", argv[optind]);
}
