/*
 * config-errors.h — the problems found in a configuration file, each one
 * line "FILE:LINE: message" (or "FILE: message"), collected so that one run
 * reports them all: ipcbrokerd's and ipcbroker-bridge's loaders alike.
 */
#pragma once

#include <stddef.h>

struct config_errors {
        char **lines;
        size_t n;
};

/* Add "FILE:LINE: message" (or "FILE: message" for line 0); dropped only when memory runs out. */
void config_errors_add(struct config_errors *e, const char *file, unsigned line, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
void config_errors_clear(struct config_errors *e);
