/*
 * log.h — ipcbroker-bridge's log: one line per event on stderr, from any
 * thread (each line is one write), with an sd-daemon "<N>" priority prefix
 * when stderr is the journal.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

/* Decide once whether stderr is the journal; VERBOSE: debug lines too. */
void log_open(bool verbose);
bool log_verbose(void);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/*
 * A line that would come again and again (a problem met at every retry, an
 * error the server sends at every request): logged when new, then at most
 * once per LOG_REPEAT_MS while it stays the same, its repeats counted.
 */
#define LOG_REPEAT_MS 60000
struct log_repeat {
        char last[512]; /* the last line logged ("": none) */
        int64_t ms;     /* when, in the caller's milliseconds */
        uint64_t held;  /* the repeats held back since */
};

/* Whether TEXT is to be logged at NOW (ms; a clock that stepped back ends the quiet time). When it is, *HELD
 * (unless NULL) is how many times it came since it was last logged, 0 for a new one. */
bool log_repeat_due(struct log_repeat *r, const char *text, int64_t now, uint64_t *held);
