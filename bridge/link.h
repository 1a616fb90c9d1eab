/*
 * link.h — the bridge's link to NATS: one connection for every bridge,
 * connecting in the background and reconnecting forever, and the JetStream
 * work each bridge needs (its context, its stream, its durable consumer).
 *
 * The NATS client runs its callbacks on threads of its own, which also
 * serve the connection: nothing here blocks on them. The connection's
 * callbacks only record the new state and kick the eventfds registered with
 * link_watch(); the blocking JetStream calls (link_stream_ensure,
 * link_consumer_ensure, link_subscribe) are for the bridges' own worker
 * threads.
 */
#pragma once

#include <nats/nats.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct link;

/*
 * The connection's options from C; the files they name (TLS, credentials)
 * are read now, a problem with one reported as "FILE:LINE: ..." in ERRORS.
 * Nothing connects yet.
 */
int link_new(const struct config *c, struct config_errors *errors, struct link **ret);
void link_free(struct link *l);
/* Kick eventfd FD whenever the connection comes or goes (before link_connect). */
int link_watch(struct link *l, int fd);
/* Start connecting: returns at once, the connection follows when a server answers. 0 or a negative errno. */
int link_connect(struct link *l);
/* Close the connection (the bridges' threads are stopped first). */
void link_close(struct link *l);

bool link_connected(const struct link *l);
/* Counts the connections made: a bridge compares it to see that a reconnect happened. */
uint64_t link_generation(const struct link *l);
/* The connection, for plain publishes and subscriptions (NULL before link_connect). */
natsConnection *link_connection(struct link *l);
/* The largest message the server takes (0 when not connected). */
int64_t link_max_payload(const struct link *l);
/* The server connected to, for STATUS= (empty when none). */
void link_server(const struct link *l, char *buf, size_t size);

/* A JetStream context, for the stream and the consumer (out publishes plainly, see out.c). */
int link_jetstream(struct link *l, jsCtx **ret);

/* What went wrong, for a log line: the client's status, its detail and JetStream's error code. */
void link_error(natsStatus s, jsErrCode jerr, char *buf, size_t size);

/*
 * The bridge's stream exists and stores its subject: created, or given the
 * subject, when create_stream allows. *CREATED: the stream's creation time.
 * Blocking: worker threads only. NATS_OK, or a status with *WHY.
 */
natsStatus link_stream_ensure(jsCtx *js, const struct bridge_config *b, int64_t *created, char *why, size_t size);
/* The in bridge's durable pull consumer exists with its settings, and *SUB is bound to it. Blocking. */
natsStatus link_subscribe(jsCtx *js, const struct bridge_config *b, natsSubscription **sub, char *why, size_t size);
