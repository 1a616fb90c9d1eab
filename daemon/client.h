/*
 * client.h — one connection on the control socket: its kernel-verified
 * credentials, reading one request, dispatching it, sending the reply.
 *
 * The connection's owner (connections.c) decides when it is served and what
 * happens when it is done: the client tells it through CLIENT_EVENT calls
 * and the result of client_serve(), and never frees itself.
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

struct request_env;

enum client_state {
        CLIENT_ACTIVE,
        CLIENT_PAUSED,
        CLIENT_KEPT,
};

/* What client_serve() did. */
enum client_outcome {
        CLIENT_SERVED,   /* served a request, or found none yet: it is watched again */
        CLIENT_UNREAD,   /* it sent a request before reading the last reply: pause it */
        CLIENT_FINISHED, /* the daemon is done with it (last request, hang-up, error) */
        CLIENT_WAITING,  /* its request waits for channels: client_retry() it when they change */
};

/* What the client's watchers report to its owner. */
enum client_event {
        CLIENT_READABLE, /* a request waits: serve it in its user's turn */
        CLIENT_EXPIRED,  /* idle or too old (logged): the daemon is done with it */
        CLIENT_DEADLINE, /* its waiting request's time is up: client_retry() it for the last time */
};

struct client;
typedef void (*client_event_fn)(struct client *c, enum client_event event, void *userdata);

struct client {
        struct ev_loop *loop;
        const struct request_env *env;
        client_event_fn on_event;
        void *userdata;
        int fd;
        ev_io io;
        ev_timer idle;
        ev_timer age;
        ev_timer deadline; /* a waiting request's */
        unsigned max_age;  /* max_connection_age when it connected */
        struct peer_cred cred;
        struct user *user; /* who it is charged to */
        /* the owner's: its place in the lists of connections and in its user's turn */
        struct list_node live;
        struct list_node wait;
        struct list_node turn;
        struct list_node waiter; /* in the connections' waiting requests */
        uint8_t *pending;        /* the waiting request, dispatched again on changes */
        size_t pending_len;
        enum client_state state;
        bool passed_fd;    /* the last reply carried a descriptor */
        bool may_hold_fds; /* descriptors may sit unread in its socket: read them out before closing */
        uint64_t requests;
};

struct client_params {
        struct ev_loop *loop;
        const struct request_env *env;
        unsigned idle_timeout;       /* seconds */
        unsigned max_connection_age; /* seconds */
        client_event_fn on_event;
        void *userdata;
};

/* Take over an accepted connection whose credentials were read; charged to USER. */
int client_new(const struct client_params *p, int fd, const struct peer_cred *cred, struct user *user,
               struct client **ret);
/* Stop watching: the owner is done with it. */
void client_stop(struct client *c);
/* Free the client; the owner closes its socket first (c->fd). */
void client_free(struct client *c);
/* Serve what the client has sent: at most one request. */
enum client_outcome client_serve(struct client *c);
/* Dispatch its waiting request again (FINAL: for the last time, it must be answered). */
enum client_outcome client_retry(struct client *c, bool final);
/* Its reply was read while it was paused: watch it again. */
void client_resume(struct client *c);
/* Has the client read everything sent to it (or left)? */
bool client_reply_unread(const struct client *c);
/* Send a bare error reply on a connection (also before a client exists). */
void client_send_error(int fd, uint32_t serial, int err, const char *message);
/* What is queued first on a socket (client_socket_peek). */
enum client_peeked {
        CLIENT_PEEK_NOTHING, /* nothing, or only the end of a shut-down socket */
        CLIENT_PEEK_PACKET,  /* a packet without descriptors */
        CLIENT_PEEK_FDS,     /* a packet with descriptors */
};
/*
 * What is queued first on socket FD, without taking it: enum client_peeked,
 * or a negative errno. With CREDS (SO_PASSCRED is set on FD) an empty packet
 * is told from the end of the data.
 */
int client_socket_peek(int fd, bool creds);
/* Log a line about client C, within its user's budget. */
#define client_log(c, level, fmt, ...)                                                                                 \
        log_client((c)->user->uid, (level), "client pid %d uid %u: " fmt, (c)->cred.pid, (c)->cred.uid, ##__VA_ARGS__)
