/*
 * names.c — what a valid name is, for each kind of name the bridge meets,
 * and subject coverage with NATS wildcards ('*' one token, '>' the rest).
 */
#include "build-config.h"

#include <string.h>

#include "config.h"
#include "names.h"

static bool in_set(char c, const char *extra) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (c && strchr(extra, c));
}

static bool all_in_set(const char *s, size_t max, const char *extra) {
        size_t n = strlen(s);

        if (n == 0 || n > max)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!in_set(s[i], extra))
                        return false;
        return true;
}

bool names_channel_valid(const char *s) {
        return s[0] != '.' && all_in_set(s, BRIDGE_NAME_MAX, "._-");
}

bool names_origin_valid(const char *s) {
        return all_in_set(s, ORIGIN_MAX, "._-");
}

bool names_jetstream_valid(const char *s) {
        return all_in_set(s, 64, "_-");
}

/* The length of the token at S (up to the next '.' or the end). */
static size_t token_len(const char *s) {
        return strcspn(s, ".");
}

bool names_subject_valid(const char *s, bool wildcards) {
        if (!*s || strlen(s) > 255)
                return false;
        for (const char *t = s;; t += token_len(t) + 1) {
                size_t n = token_len(t);
                if (n == 0)
                        return false;
                for (size_t i = 0; i < n; i++)
                        if ((unsigned char)t[i] <= ' ' || t[i] == 0x7f)
                                return false;
                bool star = n == 1 && t[0] == '*', rest = n == 1 && t[0] == '>';
                if ((star || rest) && !wildcards)
                        return false;
                if (rest && t[n])
                        return false; /* '>' only as the last token */
                if (!star && !rest && memchr(t, '*', n))
                        return false;
                if (!star && !rest && memchr(t, '>', n))
                        return false;
                if (!t[n])
                        return true;
        }
}

static bool token_is(const char *t, size_t n, const char *what) {
        return n == strlen(what) && memcmp(t, what, n) == 0;
}

bool names_subject_covers(const char *pattern, const char *subject) {
        const char *p = pattern, *s = subject;

        for (;;) {
                size_t pn = token_len(p), sn = token_len(s);
                if (token_is(p, pn, ">"))
                        return true; /* one or more tokens: S has at least this one */
                if (token_is(s, sn, ">"))
                        return false; /* S takes more than one token here; P does not */
                if (!token_is(p, pn, "*") && (token_is(s, sn, "*") || pn != sn || memcmp(p, s, pn) != 0))
                        return false;
                if (!p[pn] || !s[sn])
                        return !p[pn] && !s[sn];
                p += pn + 1;
                s += sn + 1;
        }
}

bool names_msgid_from(const char *id, const char *origin) {
        size_t n = strlen(origin), i;
        const char *p;

        if (!id || strncmp(id, origin, n) != 0 || id[n] != ':')
                return false;
        p = id + n + 1;
        i = strcspn(p, ":"); /* the channel */
        if (i == 0 || p[i] != ':')
                return false;
        p += i + 1;
        for (i = 0; i < 2 * MSGID_BOOT_BYTES; i++)
                if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
                        return false;
        p += 2 * MSGID_BOOT_BYTES;
        if (*p++ != ':' || !*p)
                return false;
        for (; *p; p++)
                if (*p < '0' || *p > '9')
                        return false;
        return true;
}
