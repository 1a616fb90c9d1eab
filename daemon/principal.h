/*
 * principal.h — who a send, recv or admins list names: users, groups and
 * everyone, as uids and gids, and the user and group names behind them.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "str-index.h"

enum principal_kind {
        PRINCIPAL_USER,
        PRINCIPAL_GROUP,
        PRINCIPAL_ANY,
};

struct principal {
        enum principal_kind kind;
        uint32_t id;
};

struct principal_list {
        struct principal *items;
        size_t n;
};

/*
 * What the user and group databases answered, so that each name and each id
 * is asked at most once while the cache lives: a configuration load keeps
 * one, so that 10,000 channels owned by one user cost one lookup, and frees
 * it at the end, so that a reload sees the databases as they are then.
 * Zero-initialised is empty.
 */
struct name_entry {
        char *key;   /* what was asked: a kind letter, then the name or the id */
        bool found;  /* the database knows it */
        uint32_t id; /* the uid or gid found */
        char *name;  /* the user or group name found (NULL out of memory) */
};
struct name_cache {
        struct name_entry *entries;
        size_t n;
        struct str_index index;    /* entries by key */
        struct name_entry scratch; /* an answer that could not be stored */
};
void name_cache_free(struct name_cache *c);

/* A uid or gid: a number, or a name looked up through NAMES. -ENOENT when unknown. */
int user_from_string(struct name_cache *names, const char *s, uid_t *ret);
int group_from_string(struct name_cache *names, const char *s, gid_t *ret);

/*
 * Parse one principal list ("alice 1000 @wheel @100 *"). Used for admins,
 * send, recv. The _cached forms look names up through NAMES; the others ask
 * the databases at most once per name within the call.
 */
int principal_list_parse(const char *value, struct principal_list *list, char **error);
int principal_list_parse_cached(const char *value, struct principal_list *list, struct name_cache *names, char **error);
void principal_list_free(struct principal_list *list);
/* Format for humans ("alice @wheel *"); returns a malloc'd string. */
char *principal_list_format(const struct principal_list *list);
char *principal_list_format_cached(const struct principal_list *list, struct name_cache *names);
bool principal_list_equal(const struct principal_list *a, const struct principal_list *b);
