/*
 * users.c — the per-user records behind the connection limits: a small
 * hash table keyed by the charged uid, each record freed as soon as nothing
 * is charged to it (so its size follows the users that are connected).
 */
#include "build-config.h"

#include <stdint.h>
#include <stdlib.h>

#include "users.h"

#define USERS_BUCKETS_MIN 64

void users_init(struct users *u) {
        *u = (struct users){};
}

void users_done(struct users *u) {
        for (size_t i = 0; i < u->n_buckets; i++)
                while (u->buckets[i]) {
                        struct user *next = u->buckets[i]->next;
                        free(u->buckets[i]);
                        u->buckets[i] = next;
                }
        free(u->buckets);
        *u = (struct users){};
}

static size_t bucket_of(const struct users *u, uid_t uid) {
        /* uids are dense: a multiplicative hash spreads ranges of subordinate uids */
        return (size_t)(((uint32_t)uid * 2654435761u) >> 8) % u->n_buckets;
}

static int users_grow(struct users *u) {
        size_t n = u->n_buckets ? u->n_buckets * 2 : USERS_BUCKETS_MIN;
        struct user **b = calloc(n, sizeof(*b));
        struct users next = { .buckets = b, .n_buckets = n, .n_users = u->n_users };

        if (!b)
                return -1;
        for (size_t i = 0; i < u->n_buckets; i++)
                while (u->buckets[i]) {
                        struct user *user = u->buckets[i];
                        size_t k = bucket_of(&next, user->uid);
                        u->buckets[i] = user->next;
                        user->next = b[k];
                        b[k] = user;
                }
        free(u->buckets);
        *u = next;
        return 0;
}

struct user *users_get(struct users *u, uid_t uid) {
        struct user *user;
        size_t k;

        if (u->n_buckets) {
                for (user = u->buckets[bucket_of(u, uid)]; user; user = user->next)
                        if (user->uid == uid)
                                return user;
        }
        /* at most two users a bucket; with no table yet, a failed growth is fatal */
        if (u->n_users + 1 > u->n_buckets * 2 && users_grow(u) < 0 && !u->n_buckets)
                return NULL;
        user = calloc(1, sizeof(*user));
        if (!user)
                return NULL;
        user->uid = uid;
        k = bucket_of(u, uid);
        user->next = u->buckets[k];
        u->buckets[k] = user;
        u->n_users++;
        return user;
}

void users_put(struct users *u, struct user *user) {
        struct user **p;

        if (!user || user_charge(user) > 0 || user->turn.waiting.first)
                return;
        for (p = &u->buckets[bucket_of(u, user->uid)]; *p; p = &(*p)->next)
                if (*p == user) {
                        *p = user->next;
                        u->n_users--;
                        free(user);
                        return;
                }
}

void users_connect(struct user *user) {
        user->connections++;
}

void users_keep(struct user *user) {
        user->connections--;
        user->pinned++;
}

void users_pin(struct user *user) {
        user->pinned++;
}

void users_unpin(struct users *u, struct user *user) {
        user->pinned--;
        users_put(u, user);
}

void users_disconnect(struct users *u, struct user *user, bool kept) {
        if (kept)
                user->pinned--;
        else
                user->connections--;
        users_put(u, user);
}
