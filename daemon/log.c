/*
 * log.c — stderr logging with journal priority prefixes.
 *
 * Under systemd, stderr is usually a stream to the journal and JOURNAL_STREAM
 * holds "DEV:INODE" of that stream; then each line starts with "<N>" so the
 * journal records the right priority. Anywhere else the line carries the level
 * as a word, readable in a terminal or a test log.
 */
#include "build-config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include "log.h"

static int log_max_level = LOG_INFO;
static bool log_journal;

static const char *const level_names[] = {
        [LOG_ERR] = "error", [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
        [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

void log_set_level(int level) {
        log_max_level = level;
}

int log_get_level(void) {
        return log_max_level;
}

int log_level_from_string(const char *s) {
        for (size_t i = 0; i < ARRAY_SIZE(level_names); i++)
                if (level_names[i] && streq(level_names[i], s))
                        return (int)i;
        return -EINVAL;
}

const char *log_level_to_string(int level) {
        if (level >= 0 && (size_t)level < ARRAY_SIZE(level_names) && level_names[level])
                return level_names[level];
        return "unknown";
}

void log_open(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        log_journal = false;
        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return;
        if (fstat(STDERR_FILENO, &st) < 0)
                return;
        log_journal = (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

/* Format a line at LEVEL into BUF; false when the level is filtered out. */
static bool log_format(int level, char *buf, size_t size, const char *fmt, va_list ap) {
        if (level > log_max_level)
                return false;
        vsnprintf(buf, size, fmt, ap);
        return true;
}

static void log_write(int level, const char *buf) {
        if (log_journal)
                fprintf(stderr, "<%d>%s\n", level, buf);
        else
                fprintf(stderr, "ipcbrokerd: %s: %s\n", log_level_to_string(level), buf);
}

/* Send BUF with FIELDS to the journal itself; false when that is not possible. */
static bool log_journal_send(int level, const char *buf, const char *const *fields, size_t n_fields) {
        char prio[32], message[2100];
        struct iovec iov[16];
        size_t n = 0;

        if (!log_journal || n_fields > 12)
                return false;
        snprintf(message, sizeof(message), "MESSAGE=%s", buf);
        snprintf(prio, sizeof(prio), "PRIORITY=%d", level);
        iov[n++] = (struct iovec){ .iov_base = message, .iov_len = strlen(message) };
        iov[n++] = (struct iovec){ .iov_base = prio, .iov_len = strlen(prio) };
        iov[n++] = (struct iovec){ .iov_base = (char *)"SYSLOG_IDENTIFIER=ipcbrokerd",
                                   .iov_len = strlen("SYSLOG_IDENTIFIER=ipcbrokerd") };
        for (size_t i = 0; i < n_fields; i++)
                iov[n++] = (struct iovec){ .iov_base = (char *)fields[i], .iov_len = strlen(fields[i]) };
        return sd_journal_sendv(iov, (int)n) >= 0;
}

/* Log a line at LEVEL; with FIELDS, to the journal itself where it can. errno is left as it was. */
static void log_emit(int level, const char *const *fields, size_t n_fields, const char *fmt, va_list ap) {
        char buf[2048];
        int saved = errno;

        if (log_format(level, buf, sizeof(buf), fmt, ap) && !(fields && log_journal_send(level, buf, fields, n_fields)))
                log_write(level, buf);
        errno = saved;
}

void log_fields(int level, const char *const *fields, size_t n_fields, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        log_emit(level, fields, n_fields, fmt, ap);
        va_end(ap);
}

void log_msg(int level, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        log_emit(level, NULL, 0, fmt, ap);
        va_end(ap);
}
