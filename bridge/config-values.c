/*
 * config-values.c — one value of ipcbroker-bridge.conf at a time. Each
 * parser reports a bad value at the line being read as "KEY: why" and
 * leaves what it would set alone.
 */
#include "build-config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config-internal.h"
#include "util.h"

static bool replace(char **ret, const char *v) {
        char *s = strdup(v);

        if (!s)
                return false;
        free(*ret);
        *ret = s;
        return true;
}

bool value_path(struct reader *r, const char *key, const char *v, size_t max, char **ret) {
        size_t n = strlen(v);

        if (v[0] != '/') {
                rerr(r, "%s must be an absolute path, not '%s'", key, v);
                return false;
        }
        if (n >= max) {
                rerr(r, "%s is too long (at most %zu bytes)", key, max - 1);
                return false;
        }
        if (strstr(v, "//") || strstr(v, "/./") || strstr(v, "/../") || (n >= 2 && streq(v + n - 2, "/.")) ||
            (n >= 3 && streq(v + n - 3, "/..")) || (n > 1 && v[n - 1] == '/')) {
                rerr(r, "%s: '%s' is not a canonical path (no '//', '.', '..' or trailing '/')", key, v);
                return false;
        }
        if (n == 1) {
                rerr(r, "%s must not be the root directory", key);
                return false;
        }
        return replace(ret, v);
}

bool value_count(struct reader *r, const char *key, const char *v, unsigned min, unsigned max, unsigned *ret) {
        uint64_t n;
        int e = parse_u64(v, 10, min, max, &n);

        if (e == -EINVAL)
                rerr(r, "%s: '%s' is not a number", key, v);
        else if (e < 0)
                rerr(r, "%s: %s is out of range (%u to %u)", key, v, min, max);
        else
                *ret = (unsigned)n;
        return e == 0;
}

bool value_duration(struct reader *r, const char *key, const char *v, unsigned long min_ms, unsigned long max_ms,
                    unsigned long *ret_ms) {
        static const struct {
                const char *unit;
                unsigned long ms;
        } units[] = { { "", 1000 }, { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "min", 60000 }, { "h", 3600000 } };
        char number[24];
        size_t digits = strspn(v, "0123456789");
        uint64_t n;

        if (digits == 0 || digits >= sizeof(number))
                goto bad;
        memcpy(number, v, digits);
        number[digits] = '\0';
        if (parse_u64(number, 10, 0, UINT32_MAX, &n) < 0)
                goto bad;
        for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
                if (!streq(v + digits, units[i].unit))
                        continue;
                if (n * units[i].ms < min_ms || n * units[i].ms > max_ms) {
                        rerr(r, "%s: %s is out of range (%lu ms to %lu s)", key, v, min_ms, max_ms / 1000);
                        return false;
                }
                *ret_ms = (unsigned long)(n * units[i].ms);
                return true;
        }
bad:
        rerr(r, "%s: '%s' is not a duration (a number with ms, s, m or h; seconds without a unit)", key, v);
        return false;
}

bool value_bool(struct reader *r, const char *key, const char *v, bool *ret) {
        static const char *const yes[] = { "yes", "true", "on", "1" }, *const no[] = { "no", "false", "off", "0" };

        for (size_t i = 0; i < ARRAY_SIZE(yes); i++)
                if (streq(v, yes[i]) || streq(v, no[i])) {
                        *ret = streq(v, yes[i]);
                        return true;
                }
        rerr(r, "%s: '%s' is not yes or no", key, v);
        return false;
}

bool value_text(struct reader *r, const char *key, const char *v, size_t max, char **ret) {
        if (strlen(v) > max) {
                rerr(r, "%s is too long (at most %zu bytes)", key, max);
                return false;
        }
        for (const char *p = v; *p; p++)
                if ((unsigned char)*p < ' ' || *p == 0x7f) {
                        rerr(r, "%s: control characters are not allowed", key);
                        return false;
                }
        return replace(ret, v);
}

/* Why U is not a NATS server URL, or NULL. */
static const char *url_problem(const char *u) {
        const char *host, *end, *at;
        size_t n;

        if (strncmp(u, "nats://", 7) == 0)
                host = u + 7;
        else if (strncmp(u, "tls://", 6) == 0)
                host = u + 6;
        else
                return "it does not start with nats:// or tls://";
        at = strrchr(host, '@');
        if (at)
                host = at + 1;
        if (host[0] == '[') {
                end = strchr(host, ']');
                if (!end || end == host + 1)
                        return "an IPv6 address needs its closing ']'";
                end++;
        } else {
                n = strcspn(host, ":/");
                if (n == 0)
                        return "it names no host";
                for (size_t i = 0; i < n; i++)
                        if (!isalnum((unsigned char)host[i]) && !strchr(".-_", host[i]))
                                return "the host name has characters a host name cannot have";
                end = host + n;
        }
        if (*end == ':') {
                char digits[8] = "";
                size_t n_digits = strcspn(end + 1, "/");
                uint64_t port;
                if (n_digits < sizeof(digits))
                        memcpy(digits, end + 1, n_digits);
                if (n_digits >= sizeof(digits) || parse_u64(digits, 10, 1, 65535, &port) < 0)
                        return "the port is not a number from 1 to 65535";
                end += 1 + n_digits;
        }
        return *end ? "only a scheme, a host and a port are allowed (no path)" : NULL;
}

bool value_urls(struct reader *r, const char *key, const char *v, char ***urls, size_t *n) {
        _cleanup_free_ char *copy = strdup(v);
        char **list = NULL, *save = NULL;
        size_t count = 0;
        bool good = copy != NULL;

        for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL; tok; tok = strtok_r(NULL, ",", &save)) {
                const char *why;
                char **grown;
                while (isspace((unsigned char)*tok))
                        tok++;
                for (char *e = tok + strlen(tok); e > tok && isspace((unsigned char)e[-1]);)
                        *--e = '\0';
                if ((why = url_problem(tok))) {
                        rerr(r, "%s: '%s' is not a NATS server URL: %s", key, tok, why);
                        good = false;
                        continue;
                }
                grown = realloc(list, (count + 1) * sizeof(*list));
                if (!grown || !(grown[count] = strdup(tok))) {
                        list = grown ? grown : list;
                        good = false;
                        break;
                }
                list = grown;
                count++;
        }
        if (good && count == 0) {
                rerr(r, "%s: no URL given", key);
                good = false;
        }
        if (!good) {
                for (size_t i = 0; i < count; i++)
                        free(list[i]);
                free(list);
                return false;
        }
        for (size_t i = 0; i < *n; i++)
                free((*urls)[i]);
        free(*urls);
        *urls = list;
        *n = count;
        return true;
}
