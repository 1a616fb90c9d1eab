/*
 * client.h — one connection on the control socket: its kernel-verified
 * credentials, reading requests, dispatching them, sending replies.
 *
 * A connection is in one of three states. ACTIVE: it is read, one request
 * per turn of its user (see sched.h). PAUSED: it sent a request before
 * reading the reply to the previous one; it is not read again until that
 * reply is read, so a client never has more than one reply (and one
 * descriptor) in flight. KEPT: the daemon is done with it (last request,
 * error, timeout) but its last reply is unread; the socket stays open and
 * charged to its user until the reply is read or the client hangs up, so
 * descriptors in flight always count against someone.
 */
#pragma once

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#include "list.h"
#include "policy.h"
#include "ratelimit.h"
#include "users.h"
#include "util.h"

struct broker;
struct listener;
struct user;

enum client_state {
        CLIENT_ACTIVE,
        CLIENT_PAUSED,
        CLIENT_KEPT,
};

struct client {
        struct broker *broker;
        struct listener *listener;
        struct list_node live; /* in the listener's live connections (not when kept) */
        struct list_node wait; /* in the listener's connections with an unread reply */
        int fd;
        ev_io io;
        ev_timer idle;
        ev_timer age;
        struct peer_cred cred;
        struct user *user;     /* who it is charged to */
        struct list_node turn; /* in its user's queue of connections waiting for their turn */
        enum client_state state;
        bool passed_fd;    /* the last reply carried a descriptor */
        bool may_hold_fds; /* descriptors may sit unread in its socket: read them out before closing */
        uint64_t requests;
};

/* Take over an accepted connection whose credentials were read; charged to USER. */
int client_new(struct broker *b, struct listener *l, int fd, const struct peer_cred *cred, struct user *user,
               struct client **ret);
/* Release everything at once (stop, or a connection that was never served). */
void client_free(struct client *c);
/*
 * Serve what the client has sent: at most one request. Afterwards the client
 * may be paused, kept or freed; C must not be used by the caller.
 */
void client_serve(struct client *c);
/* Its last reply has been read (or the client left): go on reading, or let go. */
void client_reply_read(struct client *c);
/* Has the client read everything sent to it (or left)? */
bool client_reply_unread(const struct client *c);
/* Send a bare error reply on a connection (also before a client exists). */
void client_send_error(int fd, uint32_t serial, int err, const char *message);
/* Log a line about client C, within its user's budget. */
#define client_log(c, level, fmt, ...)                                                                                 \
        log_client((c)->user->uid, (level), "client pid %d uid %u: " fmt, (c)->cred.pid, (c)->cred.uid, ##__VA_ARGS__)
