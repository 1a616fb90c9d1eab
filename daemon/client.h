/*
 * client.h — one connection on the control socket: its kernel-verified
 * credentials, reading requests, dispatching them, sending replies.
 */
#pragma once

#include <ev.h>
#include <stdint.h>

#include "policy.h"

struct broker;
struct listener;

struct client {
        struct broker *broker;
        struct listener *listener;
        struct client *next; /* in the listener's list */
        struct client *prev;
        int fd;
        ev_io io;
        ev_timer idle;
        struct peer_cred cred;
        uint64_t requests;
};

/* Take over an accepted connection. */
int client_new(struct broker *b, struct listener *l, int fd, struct client **ret);
void client_free(struct client *c);
/*
 * Serve what the client has sent: at most one request, then back to the
 * loop. Frees the client when it hangs up, misbehaves or has sent its last
 * request; C must not be used afterwards.
 */
void client_serve(struct client *c);
/* Send a bare error reply on a connection (also before a client exists). */
void client_send_error(int fd, uint32_t serial, int err, const char *message);
