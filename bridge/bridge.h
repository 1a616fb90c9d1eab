/*
 * bridge.h — one [bridge NAME]: its configuration, its worker thread, its
 * channel handle and its counters. The out and in directions (out.c, in.c)
 * are the worker's body; this is what they share: waiting (for the stop
 * request, the link's state, acknowledgements, the channel), opening the
 * channel again and again until it can be opened, and saying what is wrong
 * once rather than at every retry.
 */
#pragma once

#include <ipcbroker.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "link.h"
#include "log.h"

/*
 * The headers of a message a bridge publishes: Nats-Msg-Id (its origin is the first field, see
 * names_msgid_from()) and, unless it is 0, the queue priority. Earlier bridges also sent the origin in
 * a header of its own; an in bridge still takes it from there when it is present.
 */
#define HEADER_MSG_ID "Nats-Msg-Id"
#define HEADER_PRIORITY "Ipcbroker-Priority"
#define HEADER_ORIGIN "Ipcbroker-Origin"

struct bridge_counters {
        atomic_uint_fast64_t forwarded;   /* out: stored by JetStream; in: delivered into the channel */
        atomic_uint_fast64_t acked;       /* out: acknowledgements received; in: acknowledgements sent */
        atomic_uint_fast64_t duplicates;  /* out: the stream had it already; in: delivered before, dropped */
        atomic_uint_fast64_t echoes;      /* in: our own messages, dropped */
        atomic_uint_fast64_t redelivered; /* in: messages JetStream delivered more than once */
        atomic_uint_fast64_t republished; /* out: messages published more than once */
        atomic_uint_fast64_t rejected;    /* in: messages the channel can never take (too large), terminated */
        atomic_int_fast64_t pending;      /* out: taken, not yet acknowledged; in: fetched, not yet acknowledged */
};

enum bridge_phase {
        PHASE_CHANNEL, /* opening the channel */
        PHASE_NATS,    /* waiting for the connection */
        PHASE_SETUP,   /* the stream, the consumer */
        PHASE_RUNNING,
        PHASE_FAILED,
};

struct bridge {
        const struct bridge_config *cfg;
        const struct config *config;
        struct link *link;
        int wake; /* eventfd: a stop request, the link's state, acknowledgements */
        atomic_bool stop;
        atomic_int phase;
        atomic_bool ever_ready;
        atomic_int_fast64_t heartbeat_ms; /* when the worker last came round its loop */
        pthread_t thread;
        bool started;
        ipcb_channel *ch;
        struct bridge_counters n;
        const struct bridge_direction *direction;
        /* the direction's own state: made by its start(), freed by bridge_free (NATS callbacks may use it late) */
        void *dir;
        struct log_repeat problem; /* the last problem reported, to report a repeated one only once a minute */
};

/* What the out and in directions (out.c, in.c) give the worker, which calls them in this order. */
struct bridge_direction {
        int channel_flags;                 /* the channel is opened for this (IPCB_RECV, IPCB_SEND) first */
        int (*start)(struct bridge *b);    /* the direction's state, in b->dir */
        int (*loop)(struct bridge *b);     /* until the bridge stops */
        void (*release)(struct bridge *b); /* the NATS client's objects: before the connection closes */
        void (*free)(void *dir);           /* the rest: once the client's threads are gone */
};

extern const struct bridge_direction out_direction;
extern const struct bridge_direction in_direction;

int bridge_new(const struct config *c, const struct bridge_config *bc, struct link *l, struct bridge **ret);
void bridge_free(struct bridge *b);
int bridge_start(struct bridge *b);
/* Ask the worker to stop (it finishes what it is doing), and wait for it. */
void bridge_stop(struct bridge *b);
void bridge_join(struct bridge *b);

/* ---- for the workers ---- */

int64_t now_ms(void);
bool bridge_stopping(const struct bridge *b);
/* The worker is alive and coming round: what the watchdog pings depend on (see main.c). */
void bridge_heartbeat(struct bridge *b);
void bridge_set_phase(struct bridge *b, enum bridge_phase p);
/*
 * Sleep until the wake eventfd is kicked, FD (unless -1) has one of EVENTS,
 * or TIMEOUT_MS passes. Returns FD's revents (0 when it had none).
 */
short bridge_wait(struct bridge *b, int fd, short events, int timeout_ms);
/* Open the channel once (FLAGS | IPCB_NONBLOCK); a failure is reported as a problem. 0 or a negative errno. */
int bridge_try_open(struct bridge *b, int flags);
/* Open it, trying until it works: 0, or -ECANCELED when the bridge stops first. */
int bridge_open_channel(struct bridge *b, int flags);
void bridge_close_channel(struct bridge *b);
/* Wait for the connection: true once connected, false when the bridge stops first. */
bool bridge_wait_connected(struct bridge *b);
/* Report a problem that the worker will retry: logged when new, or once a minute while it lasts. */
void bridge_problem(struct bridge *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The problem is gone: say WHAT (unless NULL) if one was reported. */
void bridge_problem_solved(struct bridge *b, const char *what);
