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
#include <stdbool.h>
#include <sys/types.h>

#include "log.h"

#define RATELIMIT_INTERVAL 5.0 /* seconds */
#define RATELIMIT_BURST 10     /* lines per user and interval */

/* Start the summaries' timer on LOOP. */
void ratelimit_setup(struct ev_loop *loop);
/* Write the pending summaries and forget everything. */
void ratelimit_done(void);

/*
 * May a line at LEVEL that UID caused be written now? Counts it either way:
 * a line beyond the budget is suppressed and goes into the next summary.
 */
bool ratelimit_allow(uid_t uid, int level);

/* Log a line a client caused, charged to UID. */
#define log_client(uid, level, ...)                                                                                    \
        do {                                                                                                           \
                if (ratelimit_allow((uid), (level)))                                                                   \
                        log_msg((level), __VA_ARGS__);                                                                 \
        } while (0)
