/*
 * log.c — stderr logging for a program with threads: a line is formatted
 * whole and written with one write(2), so lines from the bridges' workers
 * and from the NATS client's callbacks never interleave.
 */
#include "build-config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

static bool journal, verbose;

bool log_repeat_due(struct log_repeat *r, const char *text, int64_t now, uint64_t *held) {
        bool same = strncmp(text, r->last, sizeof(r->last) - 1) == 0 && r->last[0];

        if (same && now >= r->ms && now - r->ms < LOG_REPEAT_MS) {
                r->held++;
                return false;
        }
        if (held)
                *held = same ? r->held : 0;
        snprintf(r->last, sizeof(r->last), "%s", text);
        r->ms = now;
        r->held = 0;
        return true;
}

void log_open(bool v) {
        const char *stream = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        verbose = v;
        journal = stream && sscanf(stream, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) == 0 &&
                  (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

bool log_verbose(void) {
        return verbose;
}

static const char *level_word(int level) {
        switch (level) {
        case LOG_ERR:
                return "error";
        case LOG_WARNING:
                return "warning";
        case LOG_NOTICE:
                return "notice";
        case LOG_INFO:
                return "info";
        default:
                return "debug";
        }
}

void log_msg(int level, const char *fmt, ...) {
        char line[2048];
        int saved = errno, n;
        va_list ap;

        if (level == LOG_DEBUG && !verbose)
                return;
        n = journal ? snprintf(line, sizeof(line), "<%d>", level)
                    : snprintf(line, sizeof(line), "ipcbroker-bridge: %s: ", level_word(level));
        va_start(ap, fmt);
        vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
        va_end(ap);
        n = (int)strlen(line);
        line[n++] = '\n';
        if (write(STDERR_FILENO, line, (size_t)n) < 0) {
                /* nowhere left to say it */
        }
        errno = saved;
}
