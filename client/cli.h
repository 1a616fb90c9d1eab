/*
 * cli.h — the ipcbroker command line tool: one file per verb (cli-VERB.c),
 * each exporting a run function listed in the verb table of cli.c, plus the
 * output helpers they share (cli-output.c). Built on the public library only.
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "ipcbroker.h"

/* Exit codes */
#define CLI_OK 0
#define CLI_FAILURE 1
#define CLI_USAGE 2
#define CLI_UNREACHABLE 69

struct cli_verb {
        const char *name;
        int (*run)(int argc, char **argv); /* argv[0] is the verb */
        const char *synopsis;
        const char *summary;
};

int cli_list(int argc, char **argv);
int cli_stat(int argc, char **argv);
int cli_purge(int argc, char **argv);
int cli_send(int argc, char **argv);
int cli_recv(int argc, char **argv);
int cli_reload(int argc, char **argv);
int cli_status(int argc, char **argv);

/* Print "ipcbroker: channel 'NAME': reason" (or without the channel) and return the exit code for ERR. */
int cli_error(const char *channel, int err);
/* The same for the failure of a call to the daemon: exit 69 also when it did not accept or answer. */
int cli_call_error(const char *channel, int err);
/* The exit code for ERR, from a call to the daemon (FROM_CALL) or not. */
int cli_exit_code(int err, bool from_call);
/* Print a usage error for VERB and return CLI_USAGE. */
int cli_usage(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The verb's synopsis line, for --help. */
void cli_verb_help(const char *verb);


/* "500ms", "2s", "1.5" (seconds), "0" → milliseconds; -1 on error. */
int cli_parse_timeout(const char *s);

const char *cli_user(uid_t uid, char *buf, size_t size);
const char *cli_group(gid_t gid, char *buf, size_t size);
const char *cli_type(int type);
const char *cli_state(int state);

/* JSON output */
void json_string(FILE *f, const char *s);
/* A number, or null when negative (unknown). */
void json_number_or_null(FILE *f, long long v);
