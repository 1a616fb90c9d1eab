/*
 * str-index.h — a hash index from strings to array positions.
 *
 * The configuration loader finds duplicate channels and shared kernel objects
 * through it, so that loading 10,000 channels stays linear. The keys are
 * borrowed: they must outlive the index.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct str_index {
        const char **keys; /* borrowed */
        size_t *vals;
        size_t cap; /* a power of two, or 0 */
        size_t n;
};

/* The value stored for KEY, if any. */
bool str_index_get(const struct str_index *x, const char *key, size_t *val);
/* Add KEY (not yet in the index) with VAL; 0 or -ENOMEM. */
int str_index_put(struct str_index *x, const char *key, size_t val);
void str_index_free(struct str_index *x);
