/*
 * in.c — the in direction: JetStream -> channel, acknowledged only once
 * delivered.
 *
 * The worker fetches from a durable pull consumer (explicit acks, ack_wait,
 * at most max_inflight unacknowledged) and, for each message in turn: drops
 * it when its origin (Nats-Msg-Id's first field) is this bridge's (no echo in
 * a two-way setup) or when
 * it was delivered before (mark.h); otherwise sends it into the channel with
 * the priority from its header and records it. The record is made durable,
 * then the messages are acknowledged. While the channel is full nothing more
 * is fetched, and the messages held get "in progress" before ack_wait runs
 * out, so JetStream does not deliver them again meanwhile.
 *
 * Every JetStream call here blocks (subscribing, fetching, reading the
 * consumer's state) and is made on this worker thread, never on one of the
 * NATS client's.
 *
 * The messages fetched are "held" until each is delivered or dropped, then
 * "done" until acknowledged; a fetch happens only when nothing is held, so
 * at most one batch (max_inflight) is in memory.
 */
#include "build-config.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "log.h"
#include "mark.h"
#include "names.h"
#include "syncpace.h"
#include "util.h"

#define FETCH_WAIT_MS 500   /* one fetch's wait for messages (and the longest a stop waits for it) */
#define FLOOR_EVERY_MS 1000 /* how often the consumer's acknowledgement floor is read */
#define RETRY_MS 1000
#define STALL_MS 5000  /* fetches that bring nothing for this long while the consumer has messages: a stall */
#define PRIO_MAX 32767 /* MQ_PRIO_MAX - 1 on Linux */

enum delivery {
        DELIVERED,
        DROPPED,    /* an echo or a redelivery: acknowledged all the same */
        TERMINATED, /* the channel can never take it */
        FULL,       /* the channel is full: try again */
        BROKEN,     /* the channel failed: open it again */
};

struct in {
        struct bridge *b;
        jsCtx *js;
        natsSubscription *sub;
        struct mark *mark;
        struct syncpace sync; /* of the record */
        size_t batch;
        size_t room;        /* of held and done: a batch, and as much again for stragglers (in_stragglers) */
        natsMsg **held;     /* fetched; [next, n_held) still to deliver */
        uint64_t *held_seq; /* their stream sequences (0: unknown), read once when fetched */
        size_t n_held, next;
        natsMsg **done; /* delivered or dropped, to acknowledge */
        size_t n_done;
        int64_t keepalive_ms; /* when the held messages need "in progress" */
        int64_t floor_ms;
        int64_t reopen_ms;
        int64_t empty_since_ms; /* since when fetches have brought nothing (0: the last one brought some) */
        bool resubscribe;
};

static void in_free(void *p) {
        struct in *in = p;

        for (size_t i = in->next; i < in->n_held; i++)
                natsMsg_Destroy(in->held[i]);
        for (size_t i = 0; i < in->n_done; i++)
                natsMsg_Destroy(in->done[i]);
        natsSubscription_Destroy(in->sub);
        jsCtx_Destroy(in->js);
        mark_close(in->mark);
        free(in->held);
        free(in->held_seq);
        free(in->done);
        free(in);
}

static int in_start(struct bridge *b) {
        struct in *in = calloc(1, sizeof(*in));
        int r;

        if (!in)
                return -ENOMEM;
        in->b = b;
        b->dir = in;
        in->batch = b->cfg->max_inflight;
        syncpace_init(&in->sync, (int64_t)b->config->sync_interval_ms);
        in->room = 2 * in->batch;
        in->held = calloc(in->room, sizeof(*in->held));
        in->held_seq = calloc(in->room, sizeof(*in->held_seq));
        in->done = calloc(in->room, sizeof(*in->done));
        if (!in->held || !in->held_seq || !in->done)
                return -ENOMEM;
        r = mark_open(b->config->spool_dir, b->cfg->name, &in->mark);
        if (r == 0)
                r = link_jetstream(b->link, &in->js);
        return r;
}

/* The stream, the record bound to it, the consumer and the subscription: until they work or the bridge stops. */
static bool in_setup(struct in *in) {
        struct bridge *b = in->b;
        char why[512] = "";
        int64_t created;

        while (bridge_wait_connected(b)) {
                bridge_set_phase(b, PHASE_SETUP);
                if (link_stream_ensure(in->js, b->cfg, &created, why, sizeof(why)) == NATS_OK) {
                        if (mark_bind_stream(in->mark, created))
                                log_notice("[bridge %s] stream %s was created anew: its record of delivered "
                                           "messages starts over",
                                           b->cfg->name, b->cfg->stream);
                        natsSubscription_Destroy(in->sub);
                        in->sub = NULL;
                        if (link_subscribe(in->js, b->cfg, &in->sub, why, sizeof(why)) == NATS_OK) {
                                bridge_problem_solved(b, "consumer ready");
                                bridge_set_phase(b, PHASE_RUNNING);
                                in->resubscribe = false;
                                in->floor_ms = 0;
                                in->empty_since_ms = 0;
                                return true;
                        }
                }
                bridge_problem(b, "%s; retrying", why);
                bridge_wait(b, -1, 0, RETRY_MS);
        }
        return false;
}

/* ---- acknowledging ------------------------------------------------------------------------------------ */

/* Make the record durable (see syncpace.h for how often). */
static void in_sync(struct in *in) {
        int r = mark_sync(in->mark);

        syncpace_synced(&in->sync);
        if (r < 0)
                bridge_problem(in->b, "record of delivered messages: fdatasync: %s (acknowledging anyway)",
                               strerror(-r));
}

/* Acknowledge what is done, the record written first (and made durable as sync_interval says). */
static void in_ack(struct in *in) {
        struct bridge *b = in->b;

        if (in->n_done == 0)
                return;
        if (syncpace_wrote(&in->sync, now_ms()))
                in_sync(in);
        /* an acknowledgement lost on the way brings a redelivery, which the record drops */
        for (size_t i = 0; i < in->n_done; i++)
                natsMsg_Ack(in->done[i], NULL);
        /* then the messages, all at once: the client frees them on a thread of its own, woken when idle */
        for (size_t i = 0; i < in->n_done; i++)
                natsMsg_Destroy(in->done[i]);
        atomic_fetch_add(&b->n.acked, in->n_done);
        atomic_fetch_sub(&b->n.pending, (int_fast64_t)in->n_done);
        in->n_done = 0;
}

/* Now and then: what the consumer has acknowledged all of need not be remembered one by one. */
static void in_floor(struct in *in) {
        jsConsumerInfo *ci = NULL;
        int64_t now = now_ms();

        if (now < in->floor_ms || mark_pending(in->mark) == 0 || !link_connected(in->b->link))
                return;
        in->floor_ms = now + FLOOR_EVERY_MS;
        if (js_GetConsumerInfo(&ci, in->js, in->b->cfg->stream, in->b->cfg->durable, NULL, NULL) == NATS_OK &&
            mark_floor(in->mark, ci->AckFloor.Stream) < 0)
                bridge_problem(in->b, "record of delivered messages: cannot write: %s", strerror(errno));
        jsConsumerInfo_Destroy(ci);
}

/* Keep the held messages' deadline alive while the channel has no room for them. */
static void in_keepalive(struct in *in) {
        int64_t now = now_ms(), every = (int64_t)in->b->cfg->ack_wait_ms / 3;

        if (now < in->keepalive_ms)
                return;
        for (size_t i = in->next; i < in->n_held; i++)
                natsMsg_InProgress(in->held[i], NULL);
        in->keepalive_ms = now + every;
}

/* ---- fetching ---------------------------------------------------------------------------------------------- */

/*
 * One fetch, made so that every message the server hands out for it is in
 * the list when it returns. natsSubscription_Fetch() may return with part of
 * a batch while the server still has the request open: what the server then
 * sends waits in the client's queue, unseen, its ack_wait running, and a
 * held batch would not keep it alive. So: what is there now, at once
 * (no_wait: the server ends the request when it has nothing more); only
 * when there is nothing, a wait for one message (a request that one message
 * ends). A message arriving as that wait expires is returned by the next
 * fetch, which comes at once since nothing is held.
 */
static natsStatus in_pull(struct in *in, natsMsgList *list) {
        jsFetchRequest req;
        natsStatus s;

        jsFetchRequest_Init(&req);
        req.Batch = (int)in->batch;
        req.NoWait = true;
        req.Expires = (int64_t)FETCH_WAIT_MS * 1000000; /* how long the answer may take to come */
        s = natsSubscription_FetchRequest(list, in->sub, &req);
        if (s != NATS_NOT_FOUND && s != NATS_TIMEOUT)
                return s;
        jsFetchRequest_Init(&req);
        req.Batch = 1;
        req.Expires = (int64_t)FETCH_WAIT_MS * 1000000;
        return natsSubscription_FetchRequest(list, in->sub, &req);
}

/* Take the messages of LIST into the held ones. */
static void in_hold(struct in *in, natsMsgList *list) {
        size_t before = in->n_held;

        for (int i = 0; i < list->Count && in->n_held < in->room; i++) {
                jsMsgMetaData *meta = NULL;
                uint64_t seq = 0;
                if (natsMsg_GetMetaData(&meta, list->Msgs[i]) == NATS_OK) {
                        seq = meta->Sequence.Stream;
                        if (meta->NumDelivered > 1)
                                atomic_fetch_add(&in->b->n.redelivered, 1);
                }
                jsMsgMetaData_Destroy(meta);
                in->held_seq[in->n_held] = seq;
                in->held[in->n_held++] = list->Msgs[i];
                list->Msgs[i] = NULL;
        }
        natsMsgList_Destroy(list); /* what did not fit (never) comes again after ack_wait */
        atomic_fetch_add(&in->b->n.pending, (int_fast64_t)(in->n_held - before));
}

/*
 * A message the server sent for the wait that timed out on our side can
 * arrive during the next fetch and be left in the client's queue when that
 * fetch's batch is full. Take what waits there now, so that the held
 * messages are everything the server handed out (and all get "in progress").
 */
static void in_stragglers(struct in *in) {
        int queued = 0;

        for (int round = 0; round < 4 && in->n_held < in->room; round++) {
                jsFetchRequest req;
                natsMsgList list = { 0 };
                if (natsSubscription_GetPending(in->sub, &queued, NULL) != NATS_OK || queued <= 0)
                        return;
                jsFetchRequest_Init(&req);
                req.Batch = (int)(in->room - in->n_held) < queued ? (int)(in->room - in->n_held) : queued;
                req.NoWait = true;
                req.Expires = (int64_t)FETCH_WAIT_MS * 1000000;
                if (natsSubscription_FetchRequest(&list, in->sub, &req) != NATS_OK)
                        return;
                in_hold(in, &list);
        }
}

/*
 * Fetches have brought nothing for a while. That is normal when the consumer
 * has nothing to hand out; when it says it has messages waiting and room
 * under max_ack_pending, the pull requests are not being served (a server
 * that was frozen or overloaded can leave them so): subscribe again, which
 * asks on a new inbox, as a restart of the bridge would.
 */
static void in_check_stall(struct in *in) {
        struct bridge *b = in->b;
        jsConsumerInfo *ci = NULL;
        int64_t now = now_ms();

        if (in->empty_since_ms == 0) {
                in->empty_since_ms = now;
                return;
        }
        if (now - in->empty_since_ms < STALL_MS)
                return;
        in->empty_since_ms = now; /* the next look, if any, after as long again */
        if (js_GetConsumerInfo(&ci, in->js, b->cfg->stream, b->cfg->durable, NULL, NULL) != NATS_OK)
                return; /* the server does not answer: the connection's own checks handle that */
        if (ci->NumPending > 0 && ci->NumAckPending < (int64_t)b->cfg->max_inflight) {
                log_notice("[bridge %s] consumer %s has %" PRIu64 " messages waiting, %" PRId64
                           " unacknowledged, but no fetch brought any for %d s; subscribing again",
                           b->cfg->name, b->cfg->durable, ci->NumPending, ci->NumAckPending, STALL_MS / 1000);
                in->resubscribe = true;
        }
        jsConsumerInfo_Destroy(ci);
}

static void in_fetch(struct in *in) {
        struct bridge *b = in->b;
        natsMsgList list = { 0 };
        char why[512];
        natsStatus s;

        if (!link_connected(b->link)) {
                bridge_wait(b, -1, 0, RETRY_MS);
                return;
        }
        s = in_pull(in, &list);
        if (s == NATS_TIMEOUT || s == NATS_NOT_FOUND) {
                in_check_stall(in);
                return;
        }
        if (s != NATS_OK) {
                link_error(s, 0, why, sizeof(why));
                if (link_connected(b->link)) {
                        bridge_problem(b, "fetching from %s: %s; subscribing again", b->cfg->durable, why);
                        in->resubscribe = true;
                }
                bridge_wait(b, -1, 0, RETRY_MS);
                return;
        }
        in->empty_since_ms = 0;
        in->n_held = in->next = 0;
        in_hold(in, &list);
        in_stragglers(in);
        in->keepalive_ms = now_ms() + (int64_t)b->cfg->ack_wait_ms / 3;
}

/* ---- delivering ---------------------------------------------------------------------------------------------- */

static unsigned in_priority(natsMsg *m) {
        const char *v = NULL;
        uint64_t p;

        if (natsMsgHeader_Get(m, HEADER_PRIORITY, &v) != NATS_OK || parse_u64(v, 10, 0, PRIO_MAX, &p) < 0)
                return 0; /* published by something else than a bridge, or garbled: the default */
        return (unsigned)p;
}

/* Whether M was published by a bridge of this origin (an echo in a two-way setup). */
static bool in_own(const struct in *in, natsMsg *m) {
        const char *v = NULL;

        if (natsMsgHeader_Get(m, HEADER_ORIGIN, &v) == NATS_OK) /* from an earlier bridge */
                return streq(v, in->b->config->origin);
        return natsMsgHeader_Get(m, HEADER_MSG_ID, &v) == NATS_OK && names_msgid_from(v, in->b->config->origin);
}

static enum delivery in_deliver_one(struct in *in, natsMsg *m, uint64_t seq) {
        struct bridge *b = in->b;
        int r;

        if (in_own(in, m)) {
                atomic_fetch_add(&b->n.echoes, 1);
                return DROPPED;
        }
        if (seq && mark_delivered(in->mark, seq)) {
                atomic_fetch_add(&b->n.duplicates, 1);
                return DROPPED;
        }
        r = ipcb_send(b->ch, natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), in_priority(m));
        if (r == 0) {
                if (seq && (r = mark_add(in->mark, seq)) < 0)
                        bridge_problem(b, "record of delivered messages: cannot write: %s", strerror(-r));
                atomic_fetch_add(&b->n.forwarded, 1);
                return DELIVERED;
        }
        if (r == -EAGAIN)
                return FULL;
        if (r == -EMSGSIZE || r == -EINVAL) {
                log_warning("[bridge %s] stream sequence %llu (%d bytes) cannot go into channel %s: %s; terminated",
                            b->cfg->name, (unsigned long long)seq, natsMsg_GetDataLength(m), b->cfg->channel,
                            ipcb_strerror(r));
                natsMsg_Term(m, NULL);
                atomic_fetch_add(&b->n.rejected, 1);
                return TERMINATED;
        }
        bridge_problem(b, "sending into channel %s: %s; opening it again", b->cfg->channel, ipcb_strerror(r));
        bridge_close_channel(b);
        return BROKEN;
}

/* Deliver the held messages in order until one has to wait. Returns why it stopped (DELIVERED: all done). */
static enum delivery in_deliver(struct in *in) {
        while (in->next < in->n_held) {
                natsMsg *m = in->held[in->next];
                enum delivery d = in->b->ch ? in_deliver_one(in, m, in->held_seq[in->next]) : BROKEN;
                if (d == FULL || d == BROKEN)
                        return d;
                in->next++;
                if (d == TERMINATED) {
                        natsMsg_Destroy(m);
                        atomic_fetch_sub(&in->b->n.pending, 1);
                } else
                        in->done[in->n_done++] = m;
        }
        return DELIVERED;
}

/* ---- the loop ---------------------------------------------------------------------------------------------------- */

static void in_wait_room(struct in *in) {
        struct bridge *b = in->b;
        int64_t wait = in->keepalive_ms - now_ms();

        if (!b->ch && now_ms() >= in->reopen_ms) {
                in->reopen_ms = now_ms() + RETRY_MS;
                bridge_try_open(b, IPCB_SEND);
        }
        if (wait > RETRY_MS)
                wait = RETRY_MS;
        bridge_wait(b, b->ch ? ipcb_fd(b->ch) : -1, POLLOUT, wait < 0 ? 0 : (int)wait);
}

static void in_step(struct in *in) {
        enum delivery d;

        bridge_heartbeat(in->b);
        if (syncpace_due(&in->sync, now_ms(), false))
                in_sync(in);
        if (in->next == in->n_held) {
                in_ack(in);
                in_floor(in);
                if (in->resubscribe && !in_setup(in))
                        return;
                in_fetch(in);
                return;
        }
        d = in_deliver(in);
        if (d == DELIVERED)
                return;
        /* the channel has no room: acknowledge what went in, keep the rest alive, wait */
        in_ack(in);
        in_keepalive(in);
        in_wait_room(in);
}

static int in_loop(struct bridge *b) {
        const struct bridge_config *c = b->cfg;
        struct in *in = b->dir;

        if (!in_setup(in))
                return -ECANCELED;
        log_info("[bridge %s] forwarding subject %s (stream %s, durable %s) into channel %s", c->name, c->subject,
                 c->stream, c->durable, c->channel);
        while (!bridge_stopping(b))
                in_step(in);
        in_ack(in);
        if (syncpace_due(&in->sync, now_ms(), true))
                in_sync(in);
        /* what is still held comes again at once for the next start, not after ack_wait */
        for (size_t i = in->next; i < in->n_held; i++) {
                natsMsg_Nak(in->held[i], NULL);
                natsMsg_Destroy(in->held[i]);
        }
        in->next = in->n_held = 0;
        return 0;
}

static void in_release(struct bridge *b) {
        struct in *in = b->dir;

        natsSubscription_Destroy(in->sub);
        in->sub = NULL;
        jsCtx_Destroy(in->js);
        in->js = NULL;
}

const struct bridge_direction in_direction = {
        .channel_flags = IPCB_SEND,
        .start = in_start,
        .loop = in_loop,
        .release = in_release,
        .free = in_free,
};
