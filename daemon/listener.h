/*
 * listener.h — the control socket: a SOCK_SEQPACKET Unix socket, created at
 * the configured path or inherited through socket activation, accepting
 * clients up to max_clients.
 */
#pragma once

#include <stddef.h>
#include <sys/socket.h>

#include "client.h"

struct broker;
struct channel;
struct user;

/* Room for the most descriptors one message can carry (SCM_MAX_FD): none is ever left to the kernel to drop. */
#define LISTENER_CMSG_SPACE CMSG_SPACE(253 * sizeof(int))
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
 * Descriptors that arrived in MH (only where the kernel cannot refuse them)
 * go to be closed off the loop, charged to USER. Returns how many.
 */
int listener_take_fds(struct listener *l, struct msghdr *mh, struct user *user);
/* A channel is about to be freed (reload withdrew it). */
void listener_channel_gone(struct listener *l, struct channel *ch);
/* The configuration changed: socket mode, client limits. */
void listener_config_changed(struct listener *l);
