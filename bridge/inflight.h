/*
 * inflight.h — the out direction's index of published messages: which
 * spool slot a message handed to the NATS client belongs to, so that its
 * acknowledgement (which comes back with the message) frees the right slot.
 * Open addressing keyed by the message's address; no allocation after init.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct inflight {
        const void **keys;
        uint32_t *values;
        size_t mask; /* capacity - 1 (a power of two) */
        size_t n;
};

/* Room for MAX entries at once. 0 or -ENOMEM. */
int inflight_init(struct inflight *t, size_t max);
void inflight_done(struct inflight *t);
/* KEY is not in the index; it holds fewer than MAX entries. */
void inflight_put(struct inflight *t, const void *key, uint32_t value);
/* Find KEY and remove it: true with *VALUE, or false when it is not there. */
bool inflight_take(struct inflight *t, const void *key, uint32_t *value);
