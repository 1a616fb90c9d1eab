/*
 * config-internal.h — what the configuration loader's files share, and
 * nothing outside them needs: the keys, the parser's state, and the value
 * parsers that report into it.
 *
 *   config-load.c    config_load(): defaults, reading, resolving each channel
 *                    once every file is read, sorting
 *   config-files.c   the files: opening, trust, the drop-ins in name order
 *   config-parser.c  the INI reader: lines, sections, key lines
 *   config-keys.c    the key table and what each key sets
 *   config-values.c  the values of keys: numbers, modes, paths, one of a few
 *                    words, principal lists, queue names
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "config.h"
#include "str-index.h"

enum key_scope {
        SCOPE_BROKER,
        SCOPE_CHANNEL,
};

enum key_id {
        /* [broker] */
        KEY_SOCKET,
        KEY_SOCKET_MODE,
        KEY_RUNTIME_DIR,
        KEY_MQ_PREFIX,
        KEY_ADMINS,
        KEY_MAX_CLIENTS,
        KEY_MAX_CLIENTS_PER_USER,
        KEY_IDLE_TIMEOUT,
        KEY_MAX_CONNECTION_AGE,
        KEY_INCLUDE,
        KEY_LOG_LEVEL,
        KEY_SAMPLE_INTERVAL,
        /* [channel NAME] */
        KEY_TYPE,
        KEY_OWNER,
        KEY_GROUP,
        KEY_MODE,
        KEY_SEND,
        KEY_RECV,
        KEY_MAX_MESSAGES,
        KEY_MESSAGE_SIZE,
        KEY_CAPACITY,
        KEY_MQ_NAME,
        KEY_PATH,
        KEY_ON_STOP,
        KEY_FRAMING,
        KEY_ALERT_FULL_AFTER,
        _KEY_MAX,
};

/* Which channel types a channel key applies to. */
#define FOR_MQ (1u << CHANNEL_MQUEUE)
#define FOR_FIFO (1u << CHANNEL_FIFO)
#define FOR_ALL (FOR_MQ | FOR_FIFO)

struct parser;

struct key_info {
        const char *name;
        enum key_scope scope;
        unsigned types;
        bool list; /* value may continue on indented lines */
        /* check VALUE and set it (a channel key: in P->current), or report why not */
        void (*set)(struct parser *p, const char *value);
};

/* Every key, by id (config-keys.c). */
extern const struct key_info config_keys[_KEY_MAX];

/* A channel while its sections are being read: the values plus where each key was set. */
struct channel_draft {
        struct channel_config c;
        bool has_type;
        bool bad; /* an error was reported: skip further checks */
        const char *key_file[_KEY_MAX];
        unsigned key_line[_KEY_MAX];
        char *explicit_mq_name;
        char *explicit_path;
};

struct parser {
        struct config *config;
        struct config_errors *errors;
        const struct config_defaults *defaults;

        /* all drafts, in declaration order: the result, taken by config_load() */
        struct channel_draft **drafts;
        size_t n_drafts;

        /* every user and group name and id asked during this load */
        struct name_cache names;

        /* [broker] keys: where each was last set */
        const char *broker_key_file[_KEY_MAX];
        unsigned broker_key_line[_KEY_MAX];

        /* the drop-ins' paths, sorted: messages point into them */
        char **dropins;
        size_t n_dropins;

        /* the file being read */
        FILE *f;
        const char *file; /* owned by the config (stable for messages) */
        bool is_dropin;
        unsigned line;
        int max_line;                  /* inih's buffer size */
        bool line_handled_error;       /* the reader already reported this line */
        bool continuation;             /* this line continues the previous key's value */
        char *section;                 /* full section name of the current line, NULL before the first */
        char *key;                     /* full key of the current line */
        bool section_bad;              /* the current section is invalid: ignore its keys */
        bool key_seen;                 /* a key line since the section header (continuations need one) */
        struct channel_draft *current; /* the channel section being read */
        struct str_index by_name;      /* draft index by channel name */
};

/* An error at the line being read. */
#define perr(p, ...) config_errors_add((p)->errors, (p)->file, (p)->line, __VA_ARGS__)

/* ---- config-files.c ---- */

/*
 * Read PATH (opened relative to DIRFD as NAME, when DIRFD >= 0) into P.
 * Returns a negative errno when the file cannot be read or is not trusted
 * (described in P's errors); problems inside the file only add errors.
 */
int parser_read_file(struct parser *p, int dirfd, const char *name, const char *path, bool dropin);
/* Read the *.conf files of the include directory, if any, in name order. */
void parser_read_dropins(struct parser *p);

/* ---- config-parser.c ---- */

/* Parse P->f, the open file PATH (a drop-in when DROPIN), into P, and close it; problems only add errors. */
void parser_parse(struct parser *p, const char *path, bool dropin);
/* Free what the reader keeps besides the drafts (the name cache too: after the channels are resolved). */
void parser_done(struct parser *p);

/* ---- config-values.c: each reports a bad value at the current line ---- */

/* A number in [MIN, MAX]; *RET is left alone when V is not one. */
bool number_value(struct parser *p, const char *key, const char *v, long min, long max, long *ret);
/* A number in [1, MAX], for counts and seconds. */
bool count_value(struct parser *p, const char *key, const char *v, long max, unsigned *ret);
/* A duration: a number with an optional unit (ms, s, m, h; seconds without), 0 allowed, at most MAX_MS. */
bool duration_value(struct parser *p, const char *key, const char *v, unsigned long max_ms, unsigned long *ret_ms);
/* An octal mode between 0000 and 0777. */
bool mode_value(struct parser *p, const char *key, const char *v, mode_t *ret);
/* An absolute, canonical path, "/" itself only where ALLOW_ROOT: a copy replaces *RET. */
bool path_value(struct parser *p, const char *key, const char *v, bool allow_root, char **ret);
/* Which of the N VALUES V is (its index), or -1. */
int choice_value(struct parser *p, const char *key, const char *v, const char *const *values, size_t n);
/* A principal list into LIST: replacing it, or adding to it on a continuation line. */
void list_value(struct parser *p, const char *key, const char *v, struct principal_list *list);
/* "/" and 1 to CONFIG_MQ_NAME_MAX characters without '/' (reports nothing). */
bool mq_name_valid(const char *s);
