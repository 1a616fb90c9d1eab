/*
 * service-options.h — the command line the two services share, ipcbrokerd
 * and ipcbroker-bridge: -c FILE, -t, -v, -V, -h (and their long forms),
 * no other arguments; usage errors say so and how to get help (exit 64).
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>

struct service_options {
        const char *config; /* -c, else the default */
        bool check;         /* -t: check the configuration, print a summary, exit */
        bool verbose;       /* -v */
};

struct service_info {
        const char *name;           /* in messages */
        const char *default_config; /* without -c */
        void (*usage)(FILE *f);     /* -h */
        void (*version)(void);      /* -V: one line on stdout */
};

/* The options' lines of --help (DEFAULT_CONFIG is -c's default) and the exit statuses, as the parser takes them. */
void service_options_help(FILE *f, const char *default_config);

/* Parse ARGV into O. Returns -1 to go on, or the exit code (0 after -h or -V, EX_USAGE). */
int service_options_parse(int argc, char **argv, const struct service_info *info, struct service_options *o);
