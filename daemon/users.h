/*
 * users.h — what each user holds of the daemon, for the per-user limits.
 *
 * A connection is charged to one user: the peer's uid, or, for a peer inside
 * a user namespace, the uid that owns the namespace (see peer.h), so that the
 * subordinate uids of one person count as that person. A user's charge is
 * its live connections plus what it still pins: connections kept open until
 * their last reply is read, and descriptors it passed that wait to be closed.
 * The record lives while anything is charged to it.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "sched.h"

struct user {
        uid_t uid;
        unsigned connections;    /* live connections */
        unsigned pinned;         /* kept connections and descriptors awaiting close */
        struct sched_queue turn; /* its connections that wait for their turn */
        struct user *next;       /* hash chain */
};

struct users {
        struct user **buckets;
        size_t n_buckets;
        size_t n_users;
};

void users_init(struct users *u);
void users_done(struct users *u);

/* The record of UID, created when missing; NULL when out of memory. */
struct user *users_get(struct users *u, uid_t uid);
/* What the user is charged for now. */
static inline unsigned user_charge(const struct user *user) {
        return user->connections + user->pinned;
}
/* Drop the record when nothing is charged to it any more. */
void users_put(struct users *u, struct user *user);

/*
 * The charges. A connection is charged when its client is created and
 * released when it is freed; in between it may be kept (done with, but its
 * last reply unread), which turns its charge into a pin. Descriptors that
 * wait to be closed on a helper thread are pins too.
 */
void users_connect(struct user *user);
void users_keep(struct user *user);
void users_disconnect(struct users *u, struct user *user, bool kept);
void users_pin(struct user *user);
void users_unpin(struct users *u, struct user *user);
