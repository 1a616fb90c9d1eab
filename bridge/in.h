/*
 * in.h — the in direction: JetStream -> channel, acknowledged only once
 * delivered.
 *
 * The worker fetches from a durable pull consumer (explicit acks, ack_wait,
 * at most max_inflight unacknowledged) and, for each message in turn: drops
 * it when its origin is this bridge's (no echo in a two-way setup) or when
 * it was delivered before (mark.h); otherwise sends it into the channel with
 * the priority from its header and records it. The record is made durable,
 * then the messages are acknowledged. While the channel is full nothing more
 * is fetched, and the messages held get "in progress" before ack_wait runs
 * out, so JetStream does not deliver them again meanwhile.
 */
#pragma once

struct bridge;

int in_run(struct bridge *b);
