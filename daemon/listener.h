/*
 * listener.h — the control socket: a SOCK_SEQPACKET Unix socket, created at
 * the configured path or inherited through socket activation, accepting
 * clients up to max_clients.
 */
#pragma once

#include <stddef.h>

struct broker;
struct channel;
struct client;

int listener_new(struct broker *b, struct listener **ret);
void listener_free(struct listener *l);
const char *listener_path(const struct listener *l);
size_t listener_n_clients(const struct listener *l);
/* Called by a client when it goes away. */
void listener_client_gone(struct listener *l, struct client *c);
/* A channel is about to be freed (reload withdrew it). */
void listener_channel_gone(struct listener *l, struct channel *ch);
/* The configuration changed: socket mode, client limits. */
void listener_config_changed(struct listener *l);
