/*
 * ratelimit.c — per-user budgets for client-caused log lines.
 *
 * A fixed table of users (open addressing by uid) holds each one's current
 * interval: when it began, the lines written, the lines suppressed. A user
 * whose interval ended with nothing suppressed frees its slot; when every
 * slot is busy, the rest share one "other users" budget, so the table's
 * size bounds the memory and the lines whatever the number of uids.
 */
#include "build-config.h"

#include <stdbool.h>
#include <stdio.h>

#include "log.h"
#include "ratelimit.h"

#define RATELIMIT_SLOTS 256
#define RATELIMIT_OTHERS ((uid_t)-1)

struct rl_slot {
        bool used;
        uid_t uid;
        ev_tstamp begin;
        unsigned lines;
        unsigned long suppressed;
        int worst; /* the most severe level suppressed */
};

static struct {
        struct ev_loop *loop;
        ev_timer timer;
        struct rl_slot slots[RATELIMIT_SLOTS];
        struct rl_slot others;
} rl;

static void rl_summary(struct rl_slot *s) {
        if (s->suppressed == 0)
                return;
        if (s->uid == RATELIMIT_OTHERS)
                log_msg(s->worst, "%lu similar messages from other users suppressed", s->suppressed);
        else
                log_msg(s->worst, "%lu similar messages from uid %u suppressed", s->suppressed, s->uid);
        s->suppressed = 0;
}

static bool rl_ended(const struct rl_slot *s, ev_tstamp now) {
        return now - s->begin >= RATELIMIT_INTERVAL;
}

/* End the intervals that are over: their summaries, and free quiet slots. */
static void rl_sweep(ev_tstamp now) {
        bool pending = false;

        for (size_t i = 0; i < RATELIMIT_SLOTS + 1; i++) {
                struct rl_slot *s = i < RATELIMIT_SLOTS ? &rl.slots[i] : &rl.others;
                if (!s->used)
                        continue;
                if (!rl_ended(s, now)) {
                        pending = pending || s->suppressed;
                        continue;
                }
                rl_summary(s);
                /* a slot stays taken while it may still suppress (tombstones keep probing simple) */
                s->lines = 0;
                s->begin = now;
        }
        if (rl.loop) {
                if (pending && !ev_is_active(&rl.timer)) {
                        ev_timer_set(&rl.timer, 1.0, 1.0);
                        ev_timer_start(rl.loop, &rl.timer);
                } else if (!pending)
                        ev_timer_stop(rl.loop, &rl.timer);
        }
}

static void rl_on_timer(struct ev_loop *loop, ev_timer *w, int revents) {
        rl_sweep(ev_now(loop));
}

void ratelimit_setup(struct ev_loop *loop) {
        rl.loop = loop;
        ev_init(&rl.timer, rl_on_timer);
}

void ratelimit_done(void) {
        for (size_t i = 0; i < RATELIMIT_SLOTS; i++)
                rl_summary(&rl.slots[i]);
        rl_summary(&rl.others);
        if (rl.loop)
                ev_timer_stop(rl.loop, &rl.timer);
        rl.loop = NULL;
        for (size_t i = 0; i < RATELIMIT_SLOTS; i++)
                rl.slots[i].used = false;
        rl.others.used = false;
}

static struct rl_slot *rl_find(uid_t uid, ev_tstamp now) {
        size_t h = ((uint32_t)uid * 2654435761u) % RATELIMIT_SLOTS;
        struct rl_slot *reuse = NULL;

        for (size_t k = 0; k < RATELIMIT_SLOTS; k++) {
                struct rl_slot *s = &rl.slots[(h + k) % RATELIMIT_SLOTS];
                if (s->used && s->uid == uid)
                        return s;
                if (!s->used) {
                        if (!reuse)
                                reuse = s;
                        break;
                }
                /* a slot whose interval ended quietly can be taken over */
                if (!reuse && rl_ended(s, now) && s->suppressed == 0)
                        reuse = s;
        }
        if (!reuse) {
                rl.others.used = true;
                rl.others.uid = RATELIMIT_OTHERS;
                return &rl.others;
        }
        *reuse = (struct rl_slot){ .used = true, .uid = uid, .begin = now, .worst = LOG_DEBUG };
        return reuse;
}

bool ratelimit_allow(uid_t uid, int level) {
        ev_tstamp now = rl.loop ? ev_now(rl.loop) : 0;
        struct rl_slot *s;

        if (level > log_get_level())
                return false; /* not shown anyway: spends no budget */
        s = rl_find(uid, now);
        if (rl_ended(s, now)) {
                rl_summary(s);
                s->begin = now;
                s->lines = 0;
        }
        if (s->lines >= RATELIMIT_BURST) {
                if (s->suppressed == 0)
                        s->worst = level;
                else if (level < s->worst)
                        s->worst = level;
                s->suppressed++;
                if (rl.loop && !ev_is_active(&rl.timer)) {
                        ev_timer_set(&rl.timer, 1.0, 1.0);
                        ev_timer_start(rl.loop, &rl.timer);
                }
                return false;
        }
        s->lines++;
        return true;
}
