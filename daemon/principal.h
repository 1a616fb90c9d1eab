/*
 * principal.h — who a send, recv or admins list names: users, groups and
 * everyone, as uids and gids, and the user and group names behind them.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

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

/* A uid or gid: a number, or a name looked up in the user or group database. -ENOENT when unknown. */
int user_from_string(const char *s, uid_t *ret);
int group_from_string(const char *s, gid_t *ret);

/* Parse one principal list ("alice 1000 @wheel @100 *"). Used for admins, send, recv. */
int principal_list_parse(const char *value, struct principal_list *list, char **error);
void principal_list_free(struct principal_list *list);
/* Format for humans ("alice @wheel *"); returns a malloc'd string. */
char *principal_list_format(const struct principal_list *list);
bool principal_list_equal(const struct principal_list *a, const struct principal_list *b);
