/*
 * config-errors.c — the list of configuration problems (config-errors.h).
 */
#include "build-config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "config-errors.h"

void config_errors_add(struct config_errors *e, const char *file, unsigned line, const char *fmt, ...) {
        char msg[1024], *s = NULL;
        char **grown;
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if ((line ? asprintf(&s, "%s:%u: %s", file, line, msg) : asprintf(&s, "%s: %s", file, msg)) < 0)
                return;
        grown = realloc(e->lines, (e->n + 1) * sizeof(*grown));
        if (!grown) {
                free(s);
                return;
        }
        e->lines = grown;
        e->lines[e->n++] = s;
}

void config_errors_clear(struct config_errors *e) {
        for (size_t i = 0; i < e->n; i++)
                free(e->lines[i]);
        free(e->lines);
        *e = (struct config_errors){ 0 };
}
