/*
 * cli-output.c — helpers the verbs share: names for ids, timeouts, JSON.
 */
#include "build-config.h"

#include <grp.h>
#include <math.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_parse_timeout(const char *s) {
        char *end;
        double v, scale = 1000.0;

        if (!s || !*s || *s == '-' || *s == '+')
                return -1;
        v = strtod(s, &end);
        if (end == s)
                return -1;
        if (strcmp(end, "ms") == 0)
                scale = 1.0;
        else if (strcmp(end, "s") == 0 || *end == '\0')
                scale = 1000.0;
        else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
                scale = 60000.0;
        else
                return -1;
        v *= scale;
        if (!isfinite(v) || v < 0 || v > 2147483647.0)
                return -1;
        return (int)(v + 0.5);
}

/*
 * Names of users and groups, remembered: a list of 10,000 channels mostly
 * repeats a few owners, and each lookup reads /etc/passwd or /etc/group.
 */
struct name_cache {
        unsigned id;
        char name[64];
};

static const char *cached_name(struct name_cache *cache, size_t size, unsigned id, bool user, char *buf,
                               size_t bufsize) {
        size_t slot = id % size;
        const char *name = NULL;

        if (cache[slot].name[0] && cache[slot].id == id)
                return cache[slot].name;
        if (user) {
                struct passwd *pw = getpwuid(id);
                name = pw ? pw->pw_name : NULL;
        } else {
                struct group *gr = getgrgid(id);
                name = gr ? gr->gr_name : NULL;
        }
        if (name && strlen(name) < sizeof(cache[slot].name)) {
                cache[slot].id = id;
                snprintf(cache[slot].name, sizeof(cache[slot].name), "%s", name);
                return cache[slot].name;
        }
        if (name)
                return name;
        snprintf(buf, bufsize, "%u", id);
        return buf;
}

const char *cli_user(uid_t uid, char *buf, size_t size) {
        static struct name_cache users[64];
        return cached_name(users, 64, (unsigned)uid, true, buf, size);
}

const char *cli_group(gid_t gid, char *buf, size_t size) {
        static struct name_cache groups[64];
        return cached_name(groups, 64, (unsigned)gid, false, buf, size);
}

const char *cli_type(int type) {
        return type == IPCB_FIFO ? "fifo" : "mqueue";
}

const char *cli_state(int state) {
        switch (state) {
        case IPCB_STATE_READY:
                return "ready";
        case IPCB_STATE_REFUSED:
                return "refused";
        default:
                return "failed";
        }
}

void json_string(FILE *f, const char *s) {
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                switch (*p) {
                case '"':
                        fputs("\\\"", f);
                        break;
                case '\\':
                        fputs("\\\\", f);
                        break;
                case '\n':
                        fputs("\\n", f);
                        break;
                case '\t':
                        fputs("\\t", f);
                        break;
                case '\r':
                        fputs("\\r", f);
                        break;
                default:
                        if (*p < 0x20)
                                fprintf(f, "\\u%04x", *p);
                        else
                                fputc(*p, f);
                }
        }
        fputc('"', f);
}

void json_number_or_null(FILE *f, long long v) {
        if (v < 0)
                fputs("null", f);
        else
                fprintf(f, "%lld", v);
}

const char *cli_printable(const char *s, char *buf, size_t size) {
        size_t i = 0;

        /* what a process chose (its command name) must not reach the terminal as control sequences */
        for (; s[i] && i + 1 < size; i++)
                buf[i] = (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f ? s[i] : '?';
        buf[i] = '\0';
        return buf;
}

const char *cli_access(int access) {
        switch (access & (IPCB_SEND | IPCB_RECV)) {
        case IPCB_SEND | IPCB_RECV:
                return "send,recv";
        case IPCB_SEND:
                return "send";
        case IPCB_RECV:
                return "recv";
        default:
                return "-";
        }
}
