/*
 * mark.h — the in direction's record of what it delivered into the channel,
 * kept in DIR/NAME.mark, so that a redelivery of a message already
 * delivered is recognised and dropped.
 *
 * JetStream may redeliver out of order (a message lost in transit, or left
 * unacknowledged by a crash, comes again after newer ones), so the record is
 * not one "last sequence": it is a floor (every stream sequence at or below
 * it was delivered or deliberately dropped: the consumer's acknowledgement
 * floor, which the record never lowers, even when a restarted server forgets
 * acknowledgements) and the sequences delivered above the floor. A sequence
 * is appended after each delivery; mark_sync() makes the record durable
 * before the messages are acknowledged. The record belongs to one stream: a
 * stream created anew (its sequences start over) resets it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mark;

/* Open (or create) DIR/NAME.mark, locked against a second bridge. 0 or a negative errno (logged). */
int mark_open(const char *dir, const char *name, struct mark **ret);
void mark_close(struct mark *m);
/* The stream in use was created at CREATED (ns since the epoch); true when the record was for another and is reset. */
bool mark_bind_stream(struct mark *m, int64_t created);
/* Whether stream sequence SEQ was delivered (or dropped on purpose) before. */
bool mark_delivered(const struct mark *m, uint64_t seq);
/* Record SEQ as delivered: written at once, durable after mark_sync(). */
int mark_add(struct mark *m, uint64_t seq);
int mark_sync(struct mark *m);
/* The consumer acknowledged everything up to FLOOR: forget the sequences below it (the floor never goes down). */
int mark_floor(struct mark *m, uint64_t floor);
/* Sequences recorded above the floor. */
size_t mark_pending(const struct mark *m);
