/*
 * principal.c — principal lists: parsing "alice 1000 @wheel @100 *" into uids
 * and gids, formatting them back for humans, and the user and group lookups
 * behind both, each asked at most once while a name cache lives.
 */
#include "build-config.h"

#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "principal.h"
#include "util.h"

/* ---- the user and group databases, through a cache --------------------------- */

/* What is asked; also the first character of a cache key. */
enum name_query {
        BY_USER_NAME = 'u',
        BY_GROUP_NAME = 'g',
        BY_UID = 'U',
        BY_GID = 'G',
};

/* Ask the database once: by NAME for BY_*_NAME, else by ID. */
static void name_query(struct name_entry *e, enum name_query q, const char *name, uint32_t id) {
        struct passwd *pw = NULL;
        struct group *gr = NULL;

        errno = 0;
        switch (q) {
        case BY_USER_NAME:
                pw = getpwnam(name);
                break;
        case BY_GROUP_NAME:
                gr = getgrnam(name);
                break;
        case BY_UID:
                pw = getpwuid(id);
                break;
        case BY_GID:
                gr = getgrgid(id);
                break;
        }
        if (pw) {
                e->found = true;
                e->id = pw->pw_uid;
                e->name = strdup(pw->pw_name);
        } else if (gr) {
                e->found = true;
                e->id = gr->gr_gid;
                e->name = strdup(gr->gr_name);
        }
}

/*
 * The answer to Q, from the cache or, the first time, from the database. The
 * entry is valid until the next lookup in C. Out of memory, the answer is
 * still right, only not remembered.
 */
static const struct name_entry *name_lookup(struct name_cache *c, enum name_query q, const char *name, uint32_t id) {
        _cleanup_free_ char *key = NULL;
        struct name_entry e = {};
        struct name_entry *n;
        size_t i;
        int r;

        if (name)
                r = asprintf(&key, "%c%s", (char)q, name);
        else
                r = asprintf(&key, "%c%" PRIu32, (char)q, id);
        if (r < 0)
                key = NULL;
        else if (str_index_get(&c->index, key, &i))
                return &c->entries[i];

        name_query(&e, q, name, id);
        n = key ? realloc(c->entries, (c->n + 1) * sizeof(*n)) : NULL;
        if (!n) {
                free(c->scratch.name);
                c->scratch = e;
                return &c->scratch;
        }
        c->entries = n;
        e.key = TAKE_PTR(key);
        c->entries[c->n] = e;
        /* not indexed when out of memory: then asked again next time */
        (void)str_index_put(&c->index, c->entries[c->n].key, c->n);
        return &c->entries[c->n++];
}

void name_cache_free(struct name_cache *c) {
        for (size_t i = 0; i < c->n; i++) {
                free(c->entries[i].key);
                free(c->entries[i].name);
        }
        free(c->entries);
        free(c->scratch.name);
        str_index_free(&c->index);
        *c = (struct name_cache){};
}

/* A uid or gid: a number, or a name looked up by Q. */
static int id_from_string(struct name_cache *names, enum name_query q, const char *s, uint32_t *ret) {
        const struct name_entry *e;
        uint64_t v;

        if (parse_u64(s, 10, 0, UINT32_MAX - 1, &v) == 0) {
                *ret = (uint32_t)v;
                return 0;
        }
        e = name_lookup(names, q, s, 0);
        if (!e->found)
                return -ENOENT;
        *ret = e->id;
        return 0;
}

int user_from_string(struct name_cache *names, const char *s, uid_t *ret) {
        uint32_t id;
        int r = id_from_string(names, BY_USER_NAME, s, &id);

        if (r == 0)
                *ret = (uid_t)id;
        return r;
}

int group_from_string(struct name_cache *names, const char *s, gid_t *ret) {
        uint32_t id;
        int r = id_from_string(names, BY_GROUP_NAME, s, &id);

        if (r == 0)
                *ret = (gid_t)id;
        return r;
}

/* ---- principal lists ----------------------------------------------------------- */

void principal_list_free(struct principal_list *list) {
        free(list->items);
        list->items = NULL;
        list->n = 0;
}

int principal_list_parse_cached(const char *value, struct principal_list *list, struct name_cache *names,
                                char **error) {
        _cleanup_free_ char *copy = strdup(value);
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *tok = strtok_r(copy, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
                struct principal p = {};
                struct principal *n;

                if (streq(tok, "*"))
                        p.kind = PRINCIPAL_ANY;
                else if (streq(tok, "@")) {
                        if (asprintf(error, "'@' must be followed by a group name or gid") < 0)
                                *error = NULL;
                        return -EINVAL;
                } else {
                        bool group = tok[0] == '@';
                        const char *name = group ? tok + 1 : tok;

                        p.kind = group ? PRINCIPAL_GROUP : PRINCIPAL_USER;
                        if (id_from_string(names, group ? BY_GROUP_NAME : BY_USER_NAME, name, &p.id) < 0) {
                                if (asprintf(error, "unknown %s '%s'", group ? "group" : "user", name) < 0)
                                        *error = NULL;
                                return -EINVAL;
                        }
                }
                n = realloc(list->items, (list->n + 1) * sizeof(*n));
                if (!n)
                        return -ENOMEM;
                list->items = n;
                list->items[list->n++] = p;
        }
        return 0;
}

int principal_list_parse(const char *value, struct principal_list *list, char **error) {
        struct name_cache names = {};
        int r = principal_list_parse_cached(value, list, &names, error);

        name_cache_free(&names);
        return r;
}

char *principal_list_format_cached(const struct principal_list *list, struct name_cache *names) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        if (!f)
                return NULL;
        for (size_t i = 0; i < list->n; i++) {
                const struct principal *p = &list->items[i];
                const struct name_entry *e;

                if (i > 0)
                        fputc(' ', f);
                if (p->kind == PRINCIPAL_ANY) {
                        fputc('*', f);
                        continue;
                }
                if (p->kind == PRINCIPAL_GROUP)
                        fputc('@', f);
                e = name_lookup(names, p->kind == PRINCIPAL_GROUP ? BY_GID : BY_UID, NULL, p->id);
                if (e->found && e->name)
                        fputs(e->name, f);
                else
                        fprintf(f, "%" PRIu32, p->id);
        }
        fclose(f);
        return buf;
}

char *principal_list_format(const struct principal_list *list) {
        struct name_cache names = {};
        char *s = principal_list_format_cached(list, &names);

        name_cache_free(&names);
        return s;
}

bool principal_list_equal(const struct principal_list *a, const struct principal_list *b) {
        if (a->n != b->n)
                return false;
        return a->n == 0 || memcmp(a->items, b->items, a->n * sizeof(*a->items)) == 0;
}
