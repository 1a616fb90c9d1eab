/*
 * ratelimit.h — what a client can make the daemon log, limited per user.
 *
 * Denials, refused connections and protocol errors are logged one line
 * each, so a hostile user could otherwise write a hundred thousand lines a
 * second and push the real errors out of journald's own rate limit. Each
 * user (the uid a connection is charged to) may cause RATELIMIT_BURST lines
 * per RATELIMIT_INTERVAL; what goes beyond is counted and, when the interval
 * ends, summed up in one line: "N similar messages from uid U suppressed".
 * Counters are not affected: they count everything.
 */
#pragma once

#include <ev.h>
#include <sys/types.h>

#include "util.h"

#define RATELIMIT_INTERVAL 5.0 /* seconds */
#define RATELIMIT_BURST 10     /* lines per user and interval */

/* Start the summaries' timer on LOOP. */
void ratelimit_setup(struct ev_loop *loop);
/* Write the pending summaries and forget everything. */
void ratelimit_done(void);

/* Log a line a client caused, charged to UID. */
void log_client(uid_t uid, int level, const char *fmt, ...) _printf_(3, 4);
