/*
 * inflight.c — a small hash index from pointers to slot numbers, linear
 * probing with backward-shift deletion (no tombstones, so it never needs
 * rebuilding). Sized at twice its most entries, rounded up to a power of two.
 */
#include "build-config.h"

#include <errno.h>
#include <stdlib.h>

#include "inflight.h"

static size_t slot_of(const struct inflight *t, const void *key) {
        uint64_t x = (uint64_t)(uintptr_t)key;

        x ^= x >> 33;
        x *= 0xff51afd7ed558ccdULL;
        x ^= x >> 33;
        return (size_t)x & t->mask;
}

int inflight_init(struct inflight *t, size_t max) {
        size_t cap = 16;

        while (cap < 2 * max)
                cap *= 2;
        t->keys = calloc(cap, sizeof(*t->keys));
        t->values = calloc(cap, sizeof(*t->values));
        t->mask = cap - 1;
        t->n = 0;
        if (!t->keys || !t->values) {
                inflight_done(t);
                return -ENOMEM;
        }
        return 0;
}

void inflight_done(struct inflight *t) {
        free(t->keys);
        free(t->values);
        t->keys = NULL;
        t->values = NULL;
}

void inflight_put(struct inflight *t, const void *key, uint32_t value) {
        size_t i = slot_of(t, key);

        while (t->keys[i])
                i = (i + 1) & t->mask;
        t->keys[i] = key;
        t->values[i] = value;
        t->n++;
}

bool inflight_take(struct inflight *t, const void *key, uint32_t *value) {
        size_t i = slot_of(t, key), hole;

        while (t->keys[i] != key) {
                if (!t->keys[i])
                        return false;
                i = (i + 1) & t->mask;
        }
        *value = t->values[i];
        t->n--;
        /* shift back the entries after the hole that probed past it */
        hole = i;
        for (size_t j = (i + 1) & t->mask; t->keys[j]; j = (j + 1) & t->mask) {
                size_t home = slot_of(t, t->keys[j]);
                if (((j - home) & t->mask) >= ((j - hole) & t->mask)) {
                        t->keys[hole] = t->keys[j];
                        t->values[hole] = t->values[j];
                        hole = j;
                }
        }
        t->keys[hole] = NULL;
        return true;
}
