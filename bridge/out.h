/*
 * out.h — the out direction: channel -> spool -> JetStream, at least once.
 *
 * The worker takes a message from the channel only while fewer than
 * max_inflight are unacknowledged, receiving it straight into a spool slot;
 * it makes the slots durable, then publishes each asynchronously with a
 * Nats-Msg-Id of origin, channel, boot id and sequence (the stream's
 * duplicate window drops a second copy) and the priority and origin in
 * headers. JetStream's acknowledgement frees the slot. A publish that fails,
 * times out (ack_wait) or was on a connection that went away is published
 * again; the slots still full at start are published again first. While
 * max_inflight are unacknowledged the channel is not read: it fills and its
 * senders wait.
 */
#pragma once

struct bridge;

int out_run(struct bridge *b);
