/*
 * sched.h — taking turns: users are served round-robin, one request per
 * user per round, and the connections of one user share that user's turn
 * (first come, first served among them). So a user with a hundred busy
 * connections gets no more of the daemon than a user with one.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "list.h"

/* One user's waiting connections (embedded in the user); their nodes are `struct list_node`s. */
struct sched_queue {
        struct list waiting;
        struct list_node ring; /* in the ring of users that wait */
};

/* The ring of users with waiting connections. */
struct sched {
        struct list ring;
};

/* Append N to Q, and Q to the ring if it was not waiting. N must not be queued. */
void sched_push(struct sched *s, struct sched_queue *q, struct list_node *n);
/* Take N out of Q (a connection that goes away while it waits); nothing if it does not wait. */
void sched_remove(struct sched *s, struct sched_queue *q, struct list_node *n);
/*
 * The next connection to serve: the first of the first user in the ring; the
 * user goes to the back of the ring if it has more. NULL when nobody waits.
 * A round is sched_waiting_users() calls.
 */
struct list_node *sched_pop(struct sched *s);
static inline size_t sched_waiting_users(const struct sched *s) {
        return s->ring.n;
}
