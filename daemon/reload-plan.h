/*
 * reload-plan.h — what a reload does, decided from the two configurations
 * alone: no kernel object is looked at, so the plan is unit-tested as it is.
 * The broker applies it (reload.c), where what depends on the objects (is
 * a queue empty enough to resize, a withdrawn object empty enough to
 * remove) is decided.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

enum reload_action {
        RELOAD_KEEP,     /* declared as before */
        RELOAD_CHANGE,   /* same name and kernel object, other settings (see enum reload_change) */
        RELOAD_CREATE,   /* a new channel, or a name that now names another object */
        RELOAD_WITHDRAW, /* leaves the configuration, or its name now names another object */
        RELOAD_NOTHING,  /* would be withdrawn, but it has no channel (see reload_plan_lost) */
};

/* What a CHANGE changes. */
enum reload_change {
        RELOAD_OWNER = 1u << 0,        /* owner or group */
        RELOAD_MODE = 1u << 1,         /* permission bits */
        RELOAD_ACCESS = 1u << 2,       /* the send or recv lists */
        RELOAD_MAX_MESSAGES = 1u << 3, /* queues: a new queue, once the old one is empty */
        RELOAD_MESSAGE_SIZE = 1u << 4, /* queues: likewise; FIFOs: a smaller one waits until it is empty */
        RELOAD_CAPACITY = 1u << 5,     /* FIFO pipe buffer */
        RELOAD_FRAMING = 1u << 6,      /* FIFOs: waits until the FIFO is empty */
        RELOAD_ON_STOP = 1u << 7,
        RELOAD_ALERT = 1u << 8, /* alert_full_after */
};

struct reload_step {
        enum reload_action action;
        const struct channel_config *old;  /* KEEP, CHANGE, WITHDRAW, NOTHING */
        const struct channel_config *next; /* KEEP, CHANGE, CREATE */
        unsigned changes;                  /* CHANGE: enum reload_change bits */
        /* WITHDRAW: on_stop=remove applies (the object is removed if it holds nothing when applied) */
        bool remove;
        /* WITHDRAW: another channel of the new configuration names the object: it stays, never removed */
        bool taken_over;
        /* WITHDRAW: the channel stays, under the same name, with another object */
        bool name_kept;
};

struct reload_plan {
        /* every withdrawal first (so a renamed channel can take its object over), then the new channels in order */
        struct reload_step *steps;
        size_t n;
        size_t n_keep, n_change, n_create, n_withdraw;
};

/* Compare OLD and NEXT. Returns 0, or -ENOMEM. */
int reload_plan_make(const struct config *old, const struct config *next, struct reload_plan *plan);
/*
 * Step I's old declaration has no channel: its creation failed at an earlier
 * reload (out of memory), so the configuration in force declares it but the
 * registry does not hold it. A keep or change creates it instead, and a
 * withdrawal has nothing to withdraw; the counts follow.
 */
void reload_plan_lost(struct reload_plan *plan, size_t i);
void reload_plan_free(struct reload_plan *plan);
const char *reload_action_to_string(enum reload_action a);
