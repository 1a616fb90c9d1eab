/*
 * registry.h — the set of channels in force, sorted by name: lookup by
 * name, paging with a cursor (the name of the last entry sent), counts by
 * state. The broker fills it at start and swaps it whole at reload; the
 * requests read it.
 */
#pragma once

#include <stddef.h>

#include "channel.h"

struct registry {
        struct channel **channels; /* sorted by name */
        size_t n;
};

/* Take over CHANNELS (N of them, sorted by name; a malloc'd array). */
void registry_set(struct registry *r, struct channel **channels, size_t n);
/* Let go of the array (not the channels). */
void registry_clear(struct registry *r);

struct channel *registry_find(const struct registry *r, const char *name);
/* The index of the first channel whose name sorts after CURSOR (0 for NULL). */
size_t registry_after(const struct registry *r, const char *cursor);
size_t registry_count(const struct registry *r, enum channel_state state);
