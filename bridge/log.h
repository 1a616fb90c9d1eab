/*
 * log.h — ipcbroker-bridge's log: one line per event on stderr, from any
 * thread (each line is one write), with an sd-daemon "<N>" priority prefix
 * when stderr is the journal.
 */
#pragma once

#include <stdbool.h>
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
