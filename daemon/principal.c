/*
 * principal.c — principal lists: parsing "alice 1000 @wheel @100 *" into uids
 * and gids, formatting them back for humans, and the user and group lookups
 * behind both.
 */
#include "build-config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "principal.h"
#include "util.h"

/* A uid or gid: a name looked up in the user/group database, or a number. */
int user_from_string(const char *s, uid_t *ret) {
        uint64_t v;
        struct passwd *pw;

        if (parse_u64(s, 10, 0, UINT32_MAX - 1, &v) == 0) {
                *ret = (uid_t)v;
                return 0;
        }
        errno = 0;
        pw = getpwnam(s);
        if (!pw)
                return -ENOENT;
        *ret = pw->pw_uid;
        return 0;
}

int group_from_string(const char *s, gid_t *ret) {
        uint64_t v;
        struct group *gr;

        if (parse_u64(s, 10, 0, UINT32_MAX - 1, &v) == 0) {
                *ret = (gid_t)v;
                return 0;
        }
        errno = 0;
        gr = getgrnam(s);
        if (!gr)
                return -ENOENT;
        *ret = gr->gr_gid;
        return 0;
}

void principal_list_free(struct principal_list *list) {
        free(list->items);
        list->items = NULL;
        list->n = 0;
}

int principal_list_parse(const char *value, struct principal_list *list, char **error) {
        _cleanup_free_ char *copy = strdup(value);
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *tok = strtok_r(copy, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
                struct principal p = {};
                struct principal *n;

                if (streq(tok, "*"))
                        p.kind = PRINCIPAL_ANY;
                else if (tok[0] == '@') {
                        gid_t g;
                        p.kind = PRINCIPAL_GROUP;
                        if (!tok[1]) {
                                if (asprintf(error, "'@' must be followed by a group name or gid") < 0)
                                        *error = NULL;
                                return -EINVAL;
                        }
                        if (group_from_string(tok + 1, &g) < 0) {
                                if (asprintf(error, "unknown group '%s'", tok + 1) < 0)
                                        *error = NULL;
                                return -EINVAL;
                        }
                        p.id = g;
                } else {
                        uid_t u;
                        p.kind = PRINCIPAL_USER;
                        if (user_from_string(tok, &u) < 0) {
                                if (asprintf(error, "unknown user '%s'", tok) < 0)
                                        *error = NULL;
                                return -EINVAL;
                        }
                        p.id = u;
                }
                n = realloc(list->items, (list->n + 1) * sizeof(*n));
                if (!n)
                        return -ENOMEM;
                list->items = n;
                list->items[list->n++] = p;
        }
        return 0;
}

char *principal_list_format(const struct principal_list *list) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        if (!f)
                return NULL;
        for (size_t i = 0; i < list->n; i++) {
                const struct principal *p = &list->items[i];
                if (i > 0)
                        fputc(' ', f);
                if (p->kind == PRINCIPAL_ANY)
                        fputc('*', f);
                else if (p->kind == PRINCIPAL_GROUP) {
                        struct group *gr = getgrgid(p->id);
                        if (gr)
                                fprintf(f, "@%s", gr->gr_name);
                        else
                                fprintf(f, "@%u", p->id);
                } else {
                        struct passwd *pw = getpwuid(p->id);
                        if (pw)
                                fprintf(f, "%s", pw->pw_name);
                        else
                                fprintf(f, "%u", p->id);
                }
        }
        fclose(f);
        return buf;
}

bool principal_list_equal(const struct principal_list *a, const struct principal_list *b) {
        if (a->n != b->n)
                return false;
        return a->n == 0 || memcmp(a->items, b->items, a->n * sizeof(*a->items)) == 0;
}
