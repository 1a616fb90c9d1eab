/*
 * cli.h — the ipcbroker command line tool, built on the public library only.
 *
 * Each verb lives in its own cli-VERB.c and exports exactly one entry,
 * `const struct cli_verb cli_verb_VERB`: its name, synopsis and one-line
 * help (both shown by --help), the options it takes (getopt_long tables,
 * without --help, which every verb gets), how many operands it takes, and
 * a run function that gets the parsed options and the operands. cli.c
 * keeps the table of verbs and does, in one place, the global options,
 * --help, option parsing, operand counts, unknown verbs and usage errors;
 * cli-output.c holds the output helpers the verbs share.
 *
 * To add a verb:
 *   1. client/cli-VERB.c with its `const struct cli_verb cli_verb_VERB`
 *      (an option that is new to the CLI: a field in struct cli_context
 *      and its case in parse_option() in cli.c);
 *   2. its declaration below and one line in the table in cli.c;
 *   3. the file in ipcbroker_SOURCES in Makefile.am;
 *   4. the verb in man/ipcbroker.1;
 *   5. the verb and its options in shell-completion/ipcbroker.
 */
#pragma once

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "ipcbroker.h"

/* Exit codes */
#define CLI_OK 0
#define CLI_FAILURE 1
#define CLI_USAGE 2
#define CLI_UNREACHABLE 69

struct cli_verb;

/* The verb's options, as parsed by cli.c. */
struct cli_context {
        const struct cli_verb *verb;
        bool json;      /* -j, --json */
        bool all;       /* -a, --all */
        bool verbose;   /* -v, --verbose */
        int flags;      /* IPCB_NONBLOCK with --nonblock */
        int timeout_ms; /* -t, --timeout; -1: wait for ever */
        unsigned prio;  /* -p, --priority */
        uint64_t count; /* -n, --count; 1 unless given, 0: until the end */

        /* the operators' verbs */
        bool count_set;   /* -n was given */
        const char *user; /* -u, --user: a user name or uid */
        int delay_ms;     /* -d, --delay: between refreshes; 1000 unless given */
        bool sort_name;   /* -s name (top); else by fill */
        bool http;        /* --http (metrics) */
};

struct cli_verb {
        const char *name;
        const char *synopsis;         /* "send NAME [-p PRIO] ...", for --help */
        const char *help;             /* one line, for --help */
        const struct option *options; /* NULL: none but --help */
        const char *shortopts;        /* getopt's, without 'h' */
        int min_args;                 /* fewer operands: "missing channel name" */
        int max_args;                 /* -1: any number */
        const char *too_many;         /* more operands; NULL: "unexpected argument 'X'" */
        int (*run)(const struct cli_context *ctx, int argc, char **argv); /* argv: the operands */
};

extern const struct cli_verb cli_verb_list;
extern const struct cli_verb cli_verb_stat;
extern const struct cli_verb cli_verb_purge;
extern const struct cli_verb cli_verb_send;
extern const struct cli_verb cli_verb_recv;
extern const struct cli_verb cli_verb_reload;
extern const struct cli_verb cli_verb_status;
extern const struct cli_verb cli_verb_metrics;
extern const struct cli_verb cli_verb_holders;
extern const struct cli_verb cli_verb_top;
extern const struct cli_verb cli_verb_wait;
extern const struct cli_verb cli_verb_access;

/* --json alone, for the verbs that take only that */
extern const struct option cli_json_options[];

/* Print "ipcbroker: channel 'NAME': reason" (or without the channel) and return the exit code for ERR. */
int cli_error(const char *channel, int err);
/* The same for the failure of a call to the daemon: exit 69 also when it did not accept or answer. */
int cli_call_error(const char *channel, int err);
/* The exit code for ERR, from a call to the daemon (FROM_CALL) or not. */
int cli_exit_code(int err, bool from_call);
/* Print a usage error for VERB (NULL: none) and return CLI_USAGE. */
int cli_usage(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "500ms", "2s", "1.5" (seconds), "0" → milliseconds; -1 on error. */
int cli_parse_timeout(const char *s);

const char *cli_user(uid_t uid, char *buf, size_t size);
const char *cli_group(gid_t gid, char *buf, size_t size);
const char *cli_type(int type);
const char *cli_state(int state);
/* "send", "recv" or "send,recv" for IPCB_SEND | IPCB_RECV bits */
const char *cli_access(int access);
/* S with every byte that is not printable ASCII replaced by '?', into BUF: for text a process chose */
const char *cli_printable(const char *s, char *buf, size_t size);

/* JSON output */
void json_string(FILE *f, const char *s);
/* A number, or null when negative (unknown). */
void json_number_or_null(FILE *f, long long v);

/*
 * cli-http.c: one HTTP/1.x exchange, inetd style (metrics --http). The
 * request's header may be HTTP_HEADER_MAX bytes long at most.
 */
#define HTTP_HEADER_MAX 8192

struct http_request {
        int status;      /* 0: a request to serve; else the status to answer (400, 408, ...); -1: none came */
        int minor;       /* HTTP/1.MINOR */
        char method[16]; /* "GET", "HEAD", ... */
        char path[1024]; /* the target's path, without query */
        bool has_host;
        bool has_accept;
        char accept[HTTP_HEADER_MAX]; /* every Accept header, joined by commas */
};

/* Read one request's header from FD, for at most TIMEOUT_MS, into R; returns R->status. */
int http_read_request(int fd, int timeout_ms, struct http_request *r);
/*
 * The weight (0 to 1000) that R's Accept headers give the media TYPE (e.g.
 * "text/plain") of the format VERSION (NULL: none): that of the most
 * specific range that matches; 1000 without an Accept header. *EXPLICIT
 * tells whether a range named TYPE itself, not a wildcard.
 */
int http_accept(const struct http_request *r, const char *type, const char *version, bool *explicit);
/* "Not Found" for 404, and so on. */
const char *http_reason(int status);
/*
 * Write the response to R on OUT (no body for HEAD), close OUT for writing
 * and drain what is left on IN for a moment; 0 or a negative errno.
 */
int http_respond(int in, int out, const struct http_request *r, int status, const char *content_type, const char *body,
                 size_t len);
