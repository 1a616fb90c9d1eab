/*
 * str-index.c — an open-addressing hash index from strings to array positions.
 */
#include "build-config.h"

#include <errno.h>
#include <stdlib.h>

#include "str-index.h"
#include "util.h"

static size_t str_hash(const char *s) {
        size_t h = 1469598103934665603ULL; /* FNV-1a */
        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 1099511628211ULL;
        return h;
}

bool str_index_get(const struct str_index *x, const char *key, size_t *val) {
        if (x->cap == 0)
                return false;
        for (size_t i = str_hash(key) & (x->cap - 1);; i = (i + 1) & (x->cap - 1)) {
                if (!x->keys[i])
                        return false;
                if (streq(x->keys[i], key)) {
                        *val = x->vals[i];
                        return true;
                }
        }
}

int str_index_put(struct str_index *x, const char *key, size_t val) {
        if ((x->n + 1) * 2 > x->cap) {
                struct str_index bigger = { .cap = x->cap ? x->cap * 2 : 64 };
                bigger.keys = calloc(bigger.cap, sizeof(*bigger.keys));
                bigger.vals = calloc(bigger.cap, sizeof(*bigger.vals));
                if (!bigger.keys || !bigger.vals) {
                        free(bigger.keys);
                        free(bigger.vals);
                        return -ENOMEM;
                }
                for (size_t i = 0; i < x->cap; i++)
                        if (x->keys[i])
                                str_index_put(&bigger, x->keys[i], x->vals[i]);
                free(x->keys);
                free(x->vals);
                *x = bigger;
        }
        size_t i = str_hash(key) & (x->cap - 1);
        while (x->keys[i])
                i = (i + 1) & (x->cap - 1);
        x->keys[i] = key;
        x->vals[i] = val;
        x->n++;
        return 0;
}

void str_index_free(struct str_index *x) {
        free(x->keys);
        free(x->vals);
        *x = (struct str_index){};
}
