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

const char *cli_user(uid_t uid, char *buf, size_t size) {
        struct passwd *pw = getpwuid(uid);

        if (pw)
                return pw->pw_name;
        snprintf(buf, size, "%u", (unsigned)uid);
        return buf;
}

const char *cli_group(gid_t gid, char *buf, size_t size) {
        struct group *gr = getgrgid(gid);

        if (gr)
                return gr->gr_name;
        snprintf(buf, size, "%u", (unsigned)gid);
        return buf;
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
