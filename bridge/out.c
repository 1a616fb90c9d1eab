/*
 * out.c — the out direction: channel -> spool -> JetStream, at least once.
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
 *
 * Threads: the worker does every blocking call and owns every slot. The NATS
 * client calls out_on_ack() on its own thread with each publish's outcome;
 * that only queues the outcome and kicks the worker. The client's pending
 * limit (PublishAsync.MaxPending) is set well above max_inflight, so a
 * publish never stalls on it: the window is ours to keep.
 *
 * A slot is FREE, WAITING (in the spool, to be published: in the queue) or
 * SENT (handed to the client, its address in the index). When the
 * connection is lost and comes back, what was SENT on the old connection is
 * published again at once (its acknowledgement may have been lost); the old
 * copy's outcome, should it still come, finds no entry in the index and is
 * ignored.
 */
#include "build-config.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "inflight.h"
#include "log.h"
#include "spool.h"
#include "syncpace.h"
#include "util.h"

#define TAKE_BATCH 64       /* messages taken from the channel per turn of the loop */
#define RETRY_MS 1000       /* before a failed publish is tried again */
#define DRAIN_MS 2000       /* how long a stop waits for outstanding acknowledgements */
#define STALE_EXTRA_MS 5000 /* past ack_wait, a SENT slot whose outcome never came is published again */

enum { SLOT_FREE, SLOT_WAITING, SLOT_SENT };

struct out_slot {
        natsMsg *msg;    /* SENT: the message handed to the client */
        int64_t due_ms;  /* WAITING: not before */
        int64_t sent_ms; /* SENT: when */
        uint64_t gen;    /* SENT: on which connection */
        uint8_t state;
        bool published;
};

/* One publish's outcome, from the client's thread to the worker. */
struct out_ack {
        struct out_ack *next;
        natsMsg *msg;
        bool ok;
        bool duplicate;
        natsStatus err;
        jsErrCode jerr;
};

struct out {
        struct bridge *b;
        struct spool *sp;
        struct syncpace sync; /* of the spool */
        jsCtx *js;
        bool mq; /* the channel is a queue: the kernel writes the priority into the slot */
        size_t n;
        struct out_slot *slots;
        uint32_t *free;
        size_t n_free;
        uint32_t *queue; /* WAITING slots, in the order to publish them */
        size_t q_head, q_len;
        struct inflight index;
        uint64_t gen;
        int64_t sweep_ms;
        bool stream_suspect; /* "no responders": the stream may be gone */
        pthread_mutex_t lock;
        struct out_ack *acks, **acks_tail;
};

/* ---- from the client's thread ------------------------------------------------------------------ */

static void out_on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure) {
        struct bridge *b = closure;
        struct out *o = b->dir;
        struct out_ack *a = calloc(1, sizeof(*a));
        uint64_t one = 1;
        bool first;

        if (!a) {
                /* the slot's sweep publishes it again */
                natsMsg_Destroy(msg);
                return;
        }
        a->msg = msg;
        a->ok = pa != NULL;
        a->duplicate = pa && pa->Duplicate;
        a->err = pae ? pae->Err : NATS_OK;
        a->jerr = pae ? pae->ErrCode : 0;
        pthread_mutex_lock(&o->lock);
        first = o->acks == NULL;
        *o->acks_tail = a;
        o->acks_tail = &a->next;
        pthread_mutex_unlock(&o->lock);
        /* one kick per batch: the worker takes the whole list, and a list it took is empty again */
        if (first && write(b->wake, &one, sizeof(one)) < 0) {
                /* already kicked */
        }
}

/* ---- slots ---------------------------------------------------------------------------------------- */

static void queue_push(struct out *o, uint32_t slot, int64_t due) {
        o->slots[slot].state = SLOT_WAITING;
        o->slots[slot].due_ms = due;
        o->queue[(o->q_head + o->q_len++) % o->n] = slot;
}

static void slot_free(struct out *o, uint32_t slot) {
        spool_release(o->sp, slot);
        o->slots[slot] = (struct out_slot){ .state = SLOT_FREE };
        o->free[o->n_free++] = slot;
        atomic_fetch_sub(&o->b->n.pending, 1);
}

static void out_free(void *p) {
        struct out *o = p;
        struct out_ack *a, *next;

        for (a = o->acks; a; a = next) {
                next = a->next;
                natsMsg_Destroy(a->msg);
                free(a);
        }
        jsCtx_Destroy(o->js);
        spool_close(o->sp);
        inflight_done(&o->index);
        pthread_mutex_destroy(&o->lock);
        free(o->slots);
        free(o->free);
        free(o->queue);
        free(o);
}

static int out_start(struct bridge *b) {
        struct out *o = calloc(1, sizeof(*o));
        const uint32_t *replay;
        size_t n_replay, payload;
        ipcb_attr attr;
        int r;

        if (!o)
                return -ENOMEM;
        pthread_mutex_init(&o->lock, NULL);
        o->acks_tail = &o->acks;
        o->b = b;
        syncpace_init(&o->sync, (int64_t)b->config->sync_interval_ms);
        r = ipcb_getattr(b->ch, &attr);
        if (r < 0) {
                free(o);
                return r;
        }
        o->mq = attr.type == IPCB_MQUEUE;
        /* a FIFO packet is read straight into the buffer only when the buffer could take any packet */
        payload = (size_t)attr.message_size < 4096 && !o->mq ? 4096 : (size_t)attr.message_size;
        b->dir = o;
        r = spool_open(b->config->spool_dir, b->cfg->name, b->cfg->max_inflight, payload, &o->sp);
        if (r < 0)
                return r;
        o->n = spool_slots(o->sp);
        o->slots = calloc(o->n, sizeof(*o->slots));
        o->free = calloc(o->n, sizeof(*o->free));
        o->queue = calloc(o->n, sizeof(*o->queue));
        if (!o->slots || !o->free || !o->queue || inflight_init(&o->index, o->n) < 0)
                return -ENOMEM;
        n_replay = spool_replay(o->sp, &replay);
        for (size_t i = 0; i < n_replay; i++) {
                o->slots[replay[i]].published = true; /* it may have been: a second copy counts as a republish */
                queue_push(o, replay[i], 0);
        }
        for (size_t i = o->n; i-- > 0;)
                if (o->slots[i].state == SLOT_FREE)
                        o->free[o->n_free++] = (uint32_t)i;
        atomic_store(&b->n.pending, (int_fast64_t)n_replay);
        if (n_replay)
                log_notice("[bridge %s] %zu message(s) from the spool will be published again", b->cfg->name, n_replay);
        return link_jetstream(b->link, out_on_ack, b, 4 * (int64_t)o->n + 64, &o->js);
}

/* ---- publishing -------------------------------------------------------------------------------------- */

static void hex(const uint8_t *p, size_t n, char *out) {
        for (size_t i = 0; i < n; i++)
                sprintf(out + 2 * i, "%02x", p[i]);
}

static natsStatus out_message(struct out *o, uint32_t slot, natsMsg **ret, char *id, size_t id_size) {
        const struct bridge_config *c = o->b->cfg;
        char boot[2 * SPOOL_BOOT_ID_SIZE + 1], prio[16];
        struct spool_record rec;
        natsStatus s;

        spool_get(o->sp, slot, &rec);
        hex(rec.boot, SPOOL_BOOT_ID_SIZE, boot);
        snprintf(id, id_size, "%s:%s:%s:%" PRIu64, o->b->config->origin, c->channel, boot, rec.seq);
        snprintf(prio, sizeof(prio), "%u", rec.prio);
        s = natsMsg_Create(ret, c->subject, NULL, rec.data, (int)rec.len);
        if (s == NATS_OK)
                s = natsMsgHeader_Set(*ret, HEADER_PRIORITY, prio);
        if (s == NATS_OK)
                s = natsMsgHeader_Set(*ret, HEADER_ORIGIN, o->b->config->origin);
        return s;
}

static void out_publish(struct out *o, uint32_t slot) {
        struct out_slot *sl = &o->slots[slot];
        natsMsg *m = NULL, *key;
        char id[256], why[512];
        jsPubOptions po;
        natsStatus s;

        s = out_message(o, slot, &m, id, sizeof(id));
        jsPubOptions_Init(&po);
        po.MsgId = id;
        po.MaxWait = (int64_t)o->b->cfg->ack_wait_ms;
        key = m;
        if (s == NATS_OK)
                s = js_PublishMsgAsync(o->js, &m, &po);
        if (s != NATS_OK) {
                natsMsg_Destroy(m);
                link_error(s, 0, why, sizeof(why));
                bridge_problem(o->b, "cannot publish to %s: %s; retrying", o->b->cfg->subject, why);
                queue_push(o, slot, now_ms() + RETRY_MS);
                return;
        }
        if (sl->published)
                atomic_fetch_add(&o->b->n.republished, 1);
        *sl = (struct out_slot){ .msg = key,
                                 .sent_ms = now_ms(),
                                 .gen = link_generation(o->b->link),
                                 .state = SLOT_SENT,
                                 .published = true };
        inflight_put(&o->index, key, slot);
}

/* Publish the WAITING slots that are due, while connected. */
static void out_publish_due(struct out *o) {
        int64_t now = now_ms();

        while (o->q_len > 0 && link_connected(o->b->link)) {
                uint32_t slot = o->queue[o->q_head];
                if (o->slots[slot].due_ms > now)
                        break;
                o->q_head = (o->q_head + 1) % o->n;
                o->q_len--;
                out_publish(o, slot);
        }
}

/* A new connection: what was published on an older one may never be acknowledged; publish it again now. */
static void out_reconnected(struct out *o) {
        uint64_t gen = link_generation(o->b->link);
        uint32_t slot;

        if (gen == o->gen || !link_connected(o->b->link))
                return;
        o->gen = gen;
        for (uint32_t i = 0; i < o->n; i++)
                if (o->slots[i].state == SLOT_SENT && o->slots[i].gen < gen &&
                    inflight_take(&o->index, o->slots[i].msg, &slot))
                        queue_push(o, i, 0);
}

/* A SENT slot whose outcome never came (it always should: ack_wait bounds it): publish it again. */
static void out_sweep(struct out *o) {
        int64_t now = now_ms(), limit = (int64_t)o->b->cfg->ack_wait_ms + STALE_EXTRA_MS;
        uint32_t slot;

        if (now < o->sweep_ms)
                return;
        o->sweep_ms = now + 1000;
        for (uint32_t i = 0; i < o->n; i++)
                if (o->slots[i].state == SLOT_SENT && now - o->slots[i].sent_ms > limit &&
                    inflight_take(&o->index, o->slots[i].msg, &slot))
                        queue_push(o, i, 0);
}

/* ---- outcomes ------------------------------------------------------------------------------------------ */

static void out_outcome(struct out *o, const struct out_ack *a) {
        struct bridge *b = o->b;
        char why[512];
        uint32_t slot;

        if (!inflight_take(&o->index, a->msg, &slot))
                return; /* an old copy: the slot was published again since */
        o->slots[slot].msg = NULL;
        if (a->ok) {
                atomic_fetch_add(&b->n.acked, 1);
                atomic_fetch_add(a->duplicate ? &b->n.duplicates : &b->n.forwarded, 1);
                slot_free(o, slot);
                bridge_problem_solved(b, "publishing again");
                return;
        }
        if (a->err == NATS_NO_RESPONDERS)
                o->stream_suspect = true;
        link_error(a->err, a->jerr, why, sizeof(why));
        bridge_problem(b, "JetStream did not store a message on %s: %s; publishing it again", b->cfg->subject, why);
        queue_push(o, slot, now_ms() + RETRY_MS);
}

static void out_outcomes(struct out *o) {
        struct out_ack *a, *next;

        pthread_mutex_lock(&o->lock);
        a = o->acks;
        o->acks = NULL;
        o->acks_tail = &o->acks;
        pthread_mutex_unlock(&o->lock);
        for (; a; a = next) {
                next = a->next;
                out_outcome(o, a);
                natsMsg_Destroy(a->msg);
                free(a);
        }
}

/* ---- the stream -------------------------------------------------------------------------------------------- */

/* Until the stream takes our subject (or the bridge stops). */
static bool out_stream(struct out *o) {
        struct bridge *b = o->b;
        char why[512] = "";
        int64_t created;

        while (bridge_wait_connected(b)) {
                bridge_set_phase(b, PHASE_SETUP);
                if (link_stream_ensure(o->js, b->cfg, &created, why, sizeof(why)) == NATS_OK) {
                        int64_t max = link_max_payload(b->link);
                        if (max > 0 && (int64_t)spool_payload_size(o->sp) > max)
                                log_warning(
                                        "[bridge %s] channel %s may hold messages of up to %zu bytes, more than the "
                                        "server's max_payload (%lld): a larger one cannot be published and stays "
                                        "in the spool",
                                        b->cfg->name, b->cfg->channel, spool_payload_size(o->sp), (long long)max);
                        bridge_problem_solved(b, "stream ready");
                        o->stream_suspect = false;
                        bridge_set_phase(b, PHASE_RUNNING);
                        return true;
                }
                bridge_problem(b, "stream %s: %s; retrying", b->cfg->stream, why);
                bridge_wait(b, -1, 0, RETRY_MS);
        }
        return false;
}

/* ---- the channel ------------------------------------------------------------------------------------------- */

/* Make the spool durable (see syncpace.h for how often). */
static void out_sync(struct out *o) {
        int r = spool_sync(o->sp);

        syncpace_synced(&o->sync);
        if (r < 0)
                bridge_problem(o->b, "spool: fdatasync: %s (publishing anyway: a crash of the host could lose these)",
                               strerror(-r));
}

/* Take what the channel has, as far as the window allows, into the spool; how many. */
static size_t out_take(struct out *o) {
        size_t took = 0, size = spool_payload_size(o->sp);
        struct bridge *b = o->b;

        while (b->ch && o->n_free > 0 && took < TAKE_BATCH) {
                uint32_t slot = o->free[o->n_free - 1];
                unsigned *prio, fifo_prio;
                void *buf = spool_take_begin(o->sp, slot, &prio);
                /* a FIFO has no priority; the library writes 0 before reading, which would look like a receive */
                ssize_t n = ipcb_recv(b->ch, buf, size, o->mq ? prio : &fifo_prio);
                if (n < 0) {
                        spool_take_abort(o->sp, slot);
                        if (n != -EAGAIN) {
                                bridge_problem(b, "receiving from channel %s: %s; opening it again", b->cfg->channel,
                                               ipcb_strerror((int)n));
                                bridge_close_channel(b);
                        }
                        break;
                }
                spool_take_commit(o->sp, slot, (size_t)n);
                o->n_free--;
                queue_push(o, slot, 0);
                took++;
        }
        if (took == 0)
                return 0;
        atomic_fetch_add(&b->n.pending, (int_fast64_t)took);
        if (syncpace_wrote(&o->sync, now_ms()))
                out_sync(o);
        return took;
}

/* A channel that went away: open it again (once a second), refusing one whose messages outgrew the spool. */
static int out_reopen(struct out *o, int64_t *next_ms) {
        struct bridge *b = o->b;
        ipcb_attr attr;

        if (b->ch || now_ms() < *next_ms)
                return 0;
        *next_ms = now_ms() + RETRY_MS;
        if (bridge_try_open(b, IPCB_RECV) < 0)
                return 0;
        if (ipcb_getattr(b->ch, &attr) == 0 && (size_t)attr.message_size > spool_payload_size(o->sp)) {
                log_error("[bridge %s] channel %s now takes messages of %ld bytes, more than the spool's %zu: "
                          "restarting the bridge reshapes the spool",
                          b->cfg->name, b->cfg->channel, attr.message_size, spool_payload_size(o->sp));
                return -EMSGSIZE;
        }
        return 0;
}

/* ---- the loop ------------------------------------------------------------------------------------------------- */

static int out_step(struct out *o, int64_t *reopen_ms) {
        struct bridge *b = o->b;
        int64_t wait = 1000;
        int r;

        bridge_heartbeat(b);
        if (syncpace_due(&o->sync, now_ms(), false))
                out_sync(o);
        out_outcomes(o);
        out_reconnected(o);
        out_sweep(o);
        if (o->stream_suspect && !out_stream(o))
                return 0;
        out_publish_due(o);
        r = out_reopen(o, reopen_ms);
        if (r < 0)
                return r;
        if (out_take(o) > 0) {
                out_publish_due(o);
                return 0;
        }
        if (o->q_len > 0 && link_connected(b->link)) {
                int64_t due = o->slots[o->queue[o->q_head]].due_ms - now_ms();
                wait = due < 0 ? 0 : due < wait ? due : wait;
        }
        /* with the window full, the channel is not watched: it fills, and its senders wait */
        bridge_wait(b, b->ch && o->n_free > 0 ? ipcb_fd(b->ch) : -1, POLLIN,
                    syncpace_timeout(&o->sync, now_ms(), (int)wait));
        return 0;
}

/* A stop: no more taking; give the outstanding acknowledgements a moment (what stays is published next start). */
static void out_drain(struct out *o) {
        int64_t end = now_ms() + DRAIN_MS;

        while (o->index.n > 0 && link_connected(o->b->link) && now_ms() < end) {
                struct pollfd p = { .fd = o->b->wake, .events = POLLIN };
                uint64_t count;
                if (poll(&p, 1, 100) > 0 && read(o->b->wake, &count, sizeof(count)) < 0) {
                        /* emptied elsewhere */
                }
                out_outcomes(o);
        }
}

static int out_loop(struct bridge *b) {
        const struct bridge_config *c = b->cfg;
        struct out *o = b->dir;
        int64_t reopen_ms = 0;
        int r = 0;

        if (!out_stream(o))
                return -ECANCELED;
        o->gen = link_generation(b->link);
        log_info("[bridge %s] forwarding channel %s to subject %s (stream %s), at most %zu in flight", c->name,
                 c->channel, c->subject, c->stream, o->n);
        while (!bridge_stopping(b) && r == 0)
                r = out_step(o, &reopen_ms);
        out_drain(o);
        if (syncpace_due(&o->sync, now_ms(), true))
                out_sync(o);
        if (o->n_free < o->n)
                log_info("[bridge %s] %zu message(s) stay in the spool for the next start", c->name, o->n - o->n_free);
        return r;
}

static void out_release(struct bridge *b) {
        struct out *o = b->dir;

        jsCtx_Destroy(o->js);
        o->js = NULL;
}

const struct bridge_direction out_direction = {
        .channel_flags = IPCB_RECV,
        .start = out_start,
        .loop = out_loop,
        .release = out_release,
        .free = out_free,
};
