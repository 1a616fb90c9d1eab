/*
 * log.h — the daemon's logging: one line per event on stderr, with an
 * sd-daemon "<N>" priority prefix when stderr is connected to the journal.
 */
#pragma once

#include <syslog.h>

#include "util.h"

/* Levels are syslog priorities: LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG. */
void log_set_level(int level);
int log_get_level(void);
/* Decide once whether stderr is the journal (JOURNAL_STREAM matches it). */
void log_open(void);
/* Parse "error", "warning", "notice", "info", "debug". Returns the level or -EINVAL. */
int log_level_from_string(const char *s);
const char *log_level_to_string(int level);

void log_msg(int level, const char *fmt, ...) _printf_(2, 3);

#define log_error(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
/*
 * A line with structured fields ("NAME=value"): under the journal they are
 * sent with it (sd_journal_sendv), elsewhere only the message is written.
 */
void log_fields(int level, const char *const *fields, size_t n_fields, const char *fmt, ...) _printf_(4, 5);
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
