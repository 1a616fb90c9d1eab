/*
 * sched.c — the round-robin of users and their waiting connections.
 */
#include "build-config.h"

#include "sched.h"

void sched_push(struct sched *s, struct sched_queue *q, struct list_node *n) {
        list_append(&q->waiting, n);
        if (!q->ring.linked)
                list_append(&s->ring, &q->ring);
}

void sched_remove(struct sched *s, struct sched_queue *q, struct list_node *n) {
        if (!n->linked)
                return;
        list_unlink(&q->waiting, n);
        if (!q->waiting.first)
                list_unlink(&s->ring, &q->ring);
}

struct list_node *sched_pop(struct sched *s) {
        struct sched_queue *q = list_entry(s->ring.first, struct sched_queue, ring);
        struct list_node *n;

        if (!q)
                return NULL;
        n = q->waiting.first;
        list_unlink(&s->ring, &q->ring);
        list_unlink(&q->waiting, n);
        if (q->waiting.first)
                list_append(&s->ring, &q->ring); /* more waiting: back of the ring */
        return n;
}
