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
