/*
 * config-internal.h — what the configuration reader's files share: the
 * reader's state and the value parsers that report into it.
 *
 *   config.c         the file, its lines and sections (with inih), the key
 *                    table
 *   config-check.c   what the file leaves out (defaults, the origin) and the
 *                    checks across keys and across bridges
 *   config-values.c  one value: paths, counts, durations, yes/no, words,
 *                    free text, the URL list
 */
#pragma once

#include <stdio.h>

#include "config.h"

enum section {
        SECTION_NONE, /* before the first header */
        SECTION_NATS,
        SECTION_LOCAL,
        SECTION_BRIDGE,
        SECTION_BAD, /* a header that was refused: its keys are ignored */
};

struct reader {
        struct config *c;
        struct config_errors *errors;
        const char *file;
        FILE *f;
        unsigned line;
        enum section section;
        char *section_name;                 /* as written, for messages */
        size_t bridge;                      /* SECTION_BRIDGE: the index in c->bridges */
        char *key;                          /* the full key of the current line (inih cuts long ones) */
        bool line_rejected;                 /* the reader reported this line and hid it from inih */
        bool inih_has_key;                  /* inih would read an indented line as the previous key's continuation */
        unsigned section_line[SECTION_BAD]; /* where [nats] and [local] began */
};

/* An error at the line being read. */
#define rerr(r, ...) config_errors_add((r)->errors, (r)->file, (r)->line, __VA_ARGS__)

/* Fill in the defaults and check what no single key can: 0, or errors in ERRORS. */
int config_resolve(struct config *c, struct config_errors *errors);

/* An absolute, canonical path (no "//", ".", ".." or trailing '/') shorter than MAX; a copy replaces *RET. */
bool value_path(struct reader *r, const char *key, const char *v, size_t max, char **ret);
/* A whole number in [MIN, MAX]. */
bool value_count(struct reader *r, const char *key, const char *v, unsigned min, unsigned max, unsigned *ret);
/* A duration: a number with ms, s, m or h (seconds without), in [MIN_MS, MAX_MS]. */
bool value_duration(struct reader *r, const char *key, const char *v, unsigned long min_ms, unsigned long max_ms,
                    unsigned long *ret_ms);
/* yes/no, true/false, on/off, 1/0. */
bool value_bool(struct reader *r, const char *key, const char *v, bool *ret);
/* Printable text without control characters, at most MAX bytes; a copy replaces *RET. */
bool value_text(struct reader *r, const char *key, const char *v, size_t max, char **ret);
/* A comma-separated list of nats://HOST[:PORT] or tls://HOST[:PORT] (user:password@ allowed). */
bool value_urls(struct reader *r, const char *key, const char *v, char ***urls, size_t *n);
