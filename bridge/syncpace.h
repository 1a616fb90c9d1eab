/*
 * syncpace.h — how often the spool (out) and the delivery record (in) are
 * made durable with fdatasync(2): every time something was written
 * (sync_interval = 0), or at most once per sync_interval while there is
 * something unsynced (the default, 1 s).
 *
 * What is written reaches the page cache at once, so a crash or kill -9 of
 * the bridge loses nothing either way; the interval only bounds what an
 * operating-system crash or power loss can take, as nats-server's own
 * sync_interval does for its store, and the local queue the messages came
 * from lives in memory anyway. The worker that writes also syncs: no thread.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct syncpace {
        int64_t interval_ms;
        int64_t due_ms; /* dirty: sync by then */
        bool dirty;
};

static inline void syncpace_init(struct syncpace *p, int64_t interval_ms) {
        *p = (struct syncpace){ .interval_ms = interval_ms };
}

/* Something was written at NOW: true when it must be synced now. */
static inline bool syncpace_wrote(struct syncpace *p, int64_t now) {
        if (p->interval_ms == 0)
                return true;
        if (!p->dirty) {
                p->dirty = true;
                p->due_ms = now + p->interval_ms;
        }
        return now >= p->due_ms;
}

/* Unsynced writes whose time has come (or, with ANY, unsynced writes at all: at a stop). */
static inline bool syncpace_due(const struct syncpace *p, int64_t now, bool any) {
        return p->dirty && (any || now >= p->due_ms);
}

static inline void syncpace_synced(struct syncpace *p) {
        p->dirty = false;
}

/* TIMEOUT_MS (-1: none), shortened to when the next sync is due. */
static inline int syncpace_timeout(const struct syncpace *p, int64_t now, int timeout_ms) {
        int64_t left;

        if (!p->dirty)
                return timeout_ms;
        left = p->due_ms > now ? p->due_ms - now : 0;
        return timeout_ms < 0 || left < timeout_ms ? (int)left : timeout_ms;
}
