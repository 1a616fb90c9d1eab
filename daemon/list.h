/*
 * list.h — an intrusive doubly-linked list: the node lives in the element,
 * so linking and unlinking never allocate, and an element can be on several
 * lists through several nodes. Append at the back, unlink from anywhere.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

struct list_node {
        struct list_node *prev, *next;
        bool linked;
};

struct list {
        struct list_node *first, *last;
        size_t n;
};

static inline void list_append(struct list *l, struct list_node *n) {
        n->next = NULL;
        n->prev = l->last;
        if (l->last)
                l->last->next = n;
        else
                l->first = n;
        l->last = n;
        n->linked = true;
        l->n++;
}

/* Take N off L; nothing when N is on no list. */
static inline void list_unlink(struct list *l, struct list_node *n) {
        if (!n->linked)
                return;
        if (n->prev)
                n->prev->next = n->next;
        else
                l->first = n->next;
        if (n->next)
                n->next->prev = n->prev;
        else
                l->last = n->prev;
        n->prev = n->next = NULL;
        n->linked = false;
        l->n--;
}

/* The element of type TYPE whose MEMBER is node N (NULL for NULL); N is evaluated once. */
#define list_entry(n, type, member)                                                                                    \
        ({                                                                                                             \
                struct list_node *_n = (n);                                                                            \
                _n ? container_of(_n, type, member) : (type *)NULL;                                                    \
        })
