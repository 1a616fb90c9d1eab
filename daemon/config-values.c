/*
 * config-values.c — the values of configuration keys: numbers in a range,
 * octal modes, canonical absolute paths, one of a few words, principal
 * lists, queue names. Each reports a bad value at the line being read as
 * "KEY: why" and leaves what it would set alone.
 */
#include "build-config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config-internal.h"
#include "util.h"

/*
 * Why V is not the one canonical spelling of its path (NULL when it is): the
 * daemon compares paths as strings to keep two channels from sharing a kernel
 * object, so "/run/x//f", "/run/x/./f" and "/run/x/f" must not all be accepted.
 */
static const char *path_noncanonical(const char *v) {
        for (const char *s = v; *s; s++) {
                if (*s != '/')
                        continue;
                if (s[1] == '/')
                        return "it contains '//'";
                if (s[1] == '.' && (s[2] == '/' || !s[2]))
                        return "it contains a '.' component";
                if (s[1] == '.' && s[2] == '.' && (s[3] == '/' || !s[3]))
                        return "it contains a '..' component";
                if (!s[1] && s != v)
                        return "it ends in '/' (name the file or directory without it)";
        }
        return NULL;
}

bool path_value(struct parser *p, const char *key, const char *v, bool allow_root, char **ret) {
        const char *why;
        char *s;

        if (v[0] != '/') {
                perr(p, "%s must be an absolute path, not '%s'", key, v);
                return false;
        }
        if (strlen(v) >= PATH_MAX) {
                perr(p, "%s is too long", key);
                return false;
        }
        if ((why = path_noncanonical(v))) {
                perr(p, "%s: '%s' is not a canonical path: %s", key, v, why);
                return false;
        }
        if (!v[1] && !allow_root) {
                perr(p, "%s must not be the root directory '/'", key);
                return false;
        }
        s = strdup(v);
        if (!s)
                return false;
        free(*ret);
        *ret = s;
        return true;
}

bool number_value(struct parser *p, const char *key, const char *v, long min, long max, long *ret) {
        uint64_t n;
        int r = parse_u64(v, 10, (uint64_t)min, (uint64_t)max, &n);

        if (r == -EINVAL) {
                perr(p, "%s: '%s' is not a number", key, v);
                return false;
        }
        if (r == -ERANGE) {
                perr(p, "%s: %s is out of range (%ld to %ld)", key, v, min, max);
                return false;
        }
        *ret = (long)n;
        return true;
}

bool count_value(struct parser *p, const char *key, const char *v, long max, unsigned *ret) {
        long n;

        if (!number_value(p, key, v, 1, max, &n))
                return false;
        *ret = (unsigned)n;
        return true;
}

bool duration_value(struct parser *p, const char *key, const char *v, unsigned long max_ms, unsigned long *ret_ms) {
        static const struct {
                const char *suffix;
                unsigned long ms;
        } units[] = { { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "min", 60000 }, { "h", 3600000 }, { "", 1000 } };
        char *end;
        unsigned long long n;

        errno = 0;
        n = strtoull(v, &end, 10);
        if (!isdigit((unsigned char)v[0]) || errno == ERANGE) {
                perr(p, "%s: '%s' is not a duration (a number with ms, s, m or h; seconds without a unit)", key, v);
                return false;
        }
        for (size_t i = 0; i < ARRAY_SIZE(units); i++)
                if (streq(end, units[i].suffix)) {
                        if (n > max_ms / units[i].ms) {
                                perr(p, "%s: %s is too long (at most %lu s)", key, v, max_ms / 1000);
                                return false;
                        }
                        *ret_ms = (unsigned long)n * units[i].ms;
                        return true;
                }
        perr(p, "%s: '%s' is not a duration (a number with ms, s, m or h; seconds without a unit)", key, v);
        return false;
}

static int parse_mode(const char *s, mode_t *ret) {
        uint64_t v;
        int r;

        for (const char *p = s; *p; p++)
                if (*p < '0' || *p > '7')
                        return -EINVAL;
        r = parse_u64(s, 8, 0, 0777, &v);
        if (r < 0)
                return r;
        *ret = (mode_t)v;
        return 0;
}

bool mode_value(struct parser *p, const char *key, const char *v, mode_t *ret) {
        if (parse_mode(v, ret) < 0) {
                perr(p, "%s: '%s' is not an octal mode between 0000 and 0777", key, v);
                return false;
        }
        return true;
}

int choice_value(struct parser *p, const char *key, const char *v, const char *const *values, size_t n) {
        char list[128] = "";
        size_t len = 0;

        /* VALUES is indexed by the enum it names: a gap (NULL) is no value */
        for (size_t i = 0; i < n; i++)
                if (values[i] && streq(v, values[i]))
                        return (int)i;
        for (size_t i = 0; i < n && len < sizeof(list); i++)
                if (values[i])
                        len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", len > 0 ? ", " : "", values[i]);
        perr(p, "%s: '%s' is not one of %s", key, v, list);
        return -1;
}

void list_value(struct parser *p, const char *key, const char *v, struct principal_list *list) {
        _cleanup_free_ char *error = NULL;

        if (!p->continuation)
                principal_list_free(list);
        if (principal_list_parse_cached(v, list, &p->names, &error) < 0)
                perr(p, "%s: %s", key, error ? error : "out of memory");
}

bool mq_name_valid(const char *s) {
        size_t n = strlen(s);
        return n >= 2 && n <= CONFIG_MQ_NAME_MAX + 1 && s[0] == '/' && !strchr(s + 1, '/');
}
