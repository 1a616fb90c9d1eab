/*
 * registry.c — the sorted set of channels in force (see registry.h).
 */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>

#include "registry.h"

void registry_set(struct registry *r, struct channel **channels, size_t n) {
        free(r->channels);
        r->channels = channels;
        r->n = n;
}

void registry_clear(struct registry *r) {
        registry_set(r, NULL, 0);
}

/* The index of the first channel whose name is not below NAME (EXCLUSIVE: above NAME). */
static size_t registry_bound(const struct registry *r, const char *name, bool exclusive) {
        size_t lo = 0, hi = r->n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(r->channels[mid]->config->name, name);
                if (c < 0 || (exclusive && c == 0))
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

struct channel *registry_find(const struct registry *r, const char *name) {
        size_t i = registry_bound(r, name, false);

        return i < r->n && streq(r->channels[i]->config->name, name) ? r->channels[i] : NULL;
}

size_t registry_after(const struct registry *r, const char *cursor) {
        return cursor ? registry_bound(r, cursor, true) : 0;
}

size_t registry_count(const struct registry *r, enum channel_state state) {
        size_t n = 0;

        for (size_t i = 0; i < r->n; i++)
                if (r->channels[i]->state == state)
                        n++;
        return n;
}
