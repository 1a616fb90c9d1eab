/*
 * puback.c — JetStream's answer to a publish (see puback.h). The server
 * writes these objects itself, flat and small; this reads the few members
 * the bridge needs and takes anything else for a failure, so an answer it
 * does not understand has the message published again, never dropped.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "puback.h"

#define PUBACK_MAX 1024 /* longer answers are read this far */

static const char *skip_space(const char *p) {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
                p++;
        return p;
}

/* The value of member KEY ("\"name\""), after its colon, or NULL. */
static const char *member(const char *json, const char *key) {
        const char *p = json;

        while ((p = strstr(p, key)) != NULL) {
                const char *v = skip_space(p + strlen(key));
                if (*v == ':')
                        return skip_space(v + 1);
                p += strlen(key);
        }
        return NULL;
}

/* A JSON string at P into OUT (escapes kept as two characters, but \" and \\ taken as one). */
static void string_value(const char *p, char *out, size_t size) {
        size_t n = 0;

        if (*p++ != '"') {
                snprintf(out, size, "(no description)");
                return;
        }
        while (*p && *p != '"' && n + 1 < size) {
                if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
                        p++;
                out[n++] = *p++;
        }
        out[n] = '\0';
}

void puback_parse(const char *data, size_t len, struct puback *a) {
        char buf[PUBACK_MAX + 1];
        const char *v;

        memset(a, 0, sizeof(*a));
        if (len > PUBACK_MAX)
                len = PUBACK_MAX;
        memcpy(buf, data, len);
        buf[len] = '\0';
        if (member(buf, "\"error\"")) {
                if ((v = member(buf, "\"err_code\"")) != NULL)
                        a->err_code = (int)strtol(v, NULL, 10);
                if ((v = member(buf, "\"description\"")) != NULL)
                        string_value(v, a->why, sizeof(a->why));
                else
                        snprintf(a->why, sizeof(a->why), "an error without a description");
                return;
        }
        if (!member(buf, "\"stream\"") || !(v = member(buf, "\"seq\"")) || *v < '0' || *v > '9') {
                snprintf(a->why, sizeof(a->why), "an answer that is not an acknowledgement (%zu bytes)", len);
                return;
        }
        a->stored = true;
        v = member(buf, "\"duplicate\"");
        a->duplicate = v && strncmp(v, "true", 4) == 0;
}
