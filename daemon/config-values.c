/*
 * config-values.c — the values of configuration keys: numbers in a range,
 * octal modes, canonical absolute paths, queue names.
 */
#include "build-config.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config-internal.h"
#include "util.h"

int parse_mode(const char *s, mode_t *ret) {
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

char *path_value(struct parser *p, const char *key, const char *v, bool allow_root) {
        const char *why;

        if (v[0] != '/') {
                perr(p, "%s must be an absolute path, not '%s'", key, v);
                return NULL;
        }
        if (strlen(v) >= PATH_MAX) {
                perr(p, "%s is too long", key);
                return NULL;
        }
        if ((why = path_noncanonical(v))) {
                perr(p, "%s: '%s' is not a canonical path: %s", key, v, why);
                return NULL;
        }
        if (!v[1] && !allow_root) {
                perr(p, "%s must not be the root directory '/'", key);
                return NULL;
        }
        return strdup(v);
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

bool mq_name_valid(const char *s) {
        size_t n = strlen(s);
        return n >= 2 && n <= CONFIG_MQ_NAME_MAX + 1 && s[0] == '/' && !strchr(s + 1, '/');
}
