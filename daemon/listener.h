/*
 * listener.h — the control socket: a SOCK_SEQPACKET Unix socket, created at
 * the configured path or inherited through socket activation, accepting
 * clients up to max_clients.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "client.h"

struct broker;
struct channel;
struct user;

/* Connections root and admins may hold beyond max_clients. */
#define LISTENER_ADMIN_RESERVE 16

int listener_new(struct broker *b, struct listener **ret);
void listener_free(struct listener *l);
const char *listener_path(const struct listener *l);
size_t listener_n_clients(const struct listener *l);
/* Called by a client when it goes away: uncharges it and closes its socket. */
void listener_client_gone(struct listener *l, struct client *c);
/* C has a request waiting: serve it in its user's turn. */
void listener_wait_turn(struct listener *l, struct client *c);
/* C's last reply is unread: pause or keep it (STATE) until it is read. */
void listener_keep(struct listener *l, struct client *c, enum client_state state);
/* C's reply was read: it is active again. */
void listener_resume(struct listener *l, struct client *c);
/*
 * Does the packet waiting on C carry descriptors? Looks without taking it,
 * and only where the kernel cannot refuse them (before Linux 6.16).
 */
bool listener_packet_has_fds(const struct listener *l, const struct client *c);
/* A channel is about to be freed (reload withdrew it). */
void listener_channel_gone(struct listener *l, struct channel *ch);
/* The configuration changed: socket mode, client limits. */
void listener_config_changed(struct listener *l);
