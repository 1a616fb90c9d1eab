/*
 * sched.c — the round-robin of users and their waiting connections.
 */
#include "build-config.h"

#include "sched.h"

static void ring_append(struct sched *s, struct sched_queue *q) {
        q->ring_next = NULL;
        q->ring_prev = s->last;
        if (s->last)
                s->last->ring_next = q;
        else
                s->first = q;
        s->last = q;
        q->in_ring = true;
        s->n_queues++;
}

static void ring_unlink(struct sched *s, struct sched_queue *q) {
        if (q->ring_prev)
                q->ring_prev->ring_next = q->ring_next;
        else
                s->first = q->ring_next;
        if (q->ring_next)
                q->ring_next->ring_prev = q->ring_prev;
        else
                s->last = q->ring_prev;
        q->ring_prev = q->ring_next = NULL;
        q->in_ring = false;
        s->n_queues--;
}

void sched_push(struct sched *s, struct sched_queue *q, struct sched_node *n) {
        n->next = NULL;
        n->prev = q->last;
        if (q->last)
                q->last->next = n;
        else
                q->first = n;
        q->last = n;
        n->queued = true;
        if (!q->in_ring)
                ring_append(s, q);
}

void sched_remove(struct sched *s, struct sched_queue *q, struct sched_node *n) {
        if (!n->queued)
                return;
        if (n->prev)
                n->prev->next = n->next;
        else
                q->first = n->next;
        if (n->next)
                n->next->prev = n->prev;
        else
                q->last = n->prev;
        n->prev = n->next = NULL;
        n->queued = false;
        if (!q->first && q->in_ring)
                ring_unlink(s, q);
}

struct sched_node *sched_pop(struct sched *s) {
        struct sched_queue *q = s->first;
        struct sched_node *n;

        if (!q)
                return NULL;
        n = q->first;
        ring_unlink(s, q);
        sched_remove(s, q, n);
        if (q->first)
                ring_append(s, q); /* more waiting: back of the ring */
        return n;
}
