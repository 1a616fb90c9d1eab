/*
 * out.c — the out direction: channel -> spool -> JetStream, at least once.
 *
 * The worker takes a message from the channel only while fewer than
 * max_inflight are unacknowledged, receiving it straight into a spool slot;
 * it publishes each with a Nats-Msg-Id of origin, channel, boot id and
 * sequence (the stream's duplicate window drops a second copy; an in bridge
 * reads the origin from it) and, unless 0, the priority in a header of its
 * own. JetStream's acknowledgement frees the slot. A publish that fails, is
 * not acknowledged within ack_wait or was on a connection that went away is
 * published again; the slots still full at start are published again first.
 * While max_inflight are unacknowledged the channel is not read: it fills
 * and its senders wait.
 *
 * A publish is a plain one, with a reply subject of its own,
 * REPLY.SLOT.ATTEMPT, on which JetStream answers; REPLY.* is one
 * synchronous subscription that the worker itself empties. So an
 * acknowledgement passes through no thread but the client's reader and the
 * worker, and names its slot: one that comes for an attempt since
 * superseded (the slot was published again, or freed and reused) is
 * ignored. While the window is full the worker waits on that subscription;
 * otherwise it empties it on every turn and at least every ACK_LOOK_MS.
 * (The client's asynchronous JetStream publish would add a thread and a
 * table of pending publishes for the same work.)
 *
 * A slot is FREE, WAITING (in the spool, to be published: in the queue) or
 * SENT (published, its acknowledgement awaited). When the connection is lost
 * and comes back, what was SENT on the old connection is published again at
 * once (its acknowledgement may have been lost).
 */
#include "build-config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "log.h"
#include "names.h"
#include "puback.h"
#include "spool.h"
#include "syncpace.h"
#include "util.h"

#define OUT_ID_MAX 256        /* a Nats-Msg-Id's room */
#define OUT_REPLY_MAX 128     /* a reply subject's room */
#define TAKE_BATCH 64         /* messages taken from the channel per turn of the loop */
#define RETRY_MS 1000         /* before a failed publish is tried again */
#define DRAIN_MS 2000         /* how long a stop waits for outstanding acknowledgements */
#define ACK_LOOK_MS 20        /* with publishes outstanding, the longest the worker leaves acknowledgements waiting */
#define ACK_SLICE_MS 100      /* the longest wait for an acknowledgement alone (stop and heartbeat come between) */
#define TRASH_MAX 512         /* messages whose destruction waits (see out_trash()) */
#define TRASH_BYTES (4 << 20) /* and their payloads' bytes at most */

enum { SLOT_FREE, SLOT_WAITING, SLOT_SENT };

struct out_slot {
        int64_t due_ms;   /* WAITING: not before */
        int64_t sent_ms;  /* SENT: when */
        uint64_t gen;     /* SENT: on which connection */
        uint32_t attempt; /* publishes of this slot, ever: the last one's acknowledgement is the one that counts */
        uint8_t state;
        bool published;
};

struct out {
        struct bridge *b;
        struct spool *sp;
        struct syncpace sync;      /* of the spool */
        jsCtx *js;                 /* for the stream */
        natsSubscription *acks;    /* REPLY.*.*: JetStream's answers */
        char reply[OUT_REPLY_MAX]; /* "_INBOX.<unique>." */
        size_t reply_len;
        bool mq; /* the channel is a queue: the kernel writes the priority into the slot */
        size_t n;
        struct out_slot *slots;
        uint32_t *free;
        size_t n_free;
        uint32_t *queue; /* WAITING slots, in the order to publish them */
        size_t q_head, q_len;
        size_t n_sent; /* SENT slots */
        uint64_t gen;
        int64_t sweep_ms;
        bool stream_suspect;        /* "no responders": the stream may be gone */
        char id_prefix[OUT_ID_MAX]; /* of every Nats-Msg-Id: "origin:channel:" */
        size_t id_prefix_len;
        uint8_t boot_id[MSGID_BOOT_BYTES]; /* the last boot id put in an id, and its hex */
        char boot_hex[2 * MSGID_BOOT_BYTES + 1];
        natsMsg *trash[TRASH_MAX]; /* see out_trash() */
        size_t n_trash, trash_bytes;
};

/*
 * The client frees a message on a thread of its own, woken for it when idle: one destruction at a time
 * would wake it for every message (two a message: the one published and JetStream's answer). They are
 * destroyed together, TRASH_MAX (or TRASH_BYTES of payload) at a time or before the worker sleeps.
 */
static void out_trash_empty(struct out *o) {
        for (size_t i = 0; i < o->n_trash; i++)
                natsMsg_Destroy(o->trash[i]);
        o->n_trash = 0;
        o->trash_bytes = 0;
}

static void out_trash(struct out *o, natsMsg *m) {
        if (!m)
                return;
        if (o->n_trash == TRASH_MAX || o->trash_bytes > TRASH_BYTES)
                out_trash_empty(o);
        o->trash[o->n_trash++] = m;
        o->trash_bytes += (size_t)natsMsg_GetDataLength(m);
}

/* ---- slots ---------------------------------------------------------------------------------------- */

static void queue_push(struct out *o, uint32_t slot, int64_t due) {
        o->slots[slot].state = SLOT_WAITING;
        o->slots[slot].due_ms = due;
        o->queue[(o->q_head + o->q_len++) % o->n] = slot;
}

/* A SENT slot is to be published again (at DUE). */
static void slot_resend(struct out *o, uint32_t slot, int64_t due) {
        o->n_sent--;
        queue_push(o, slot, due);
}

static void slot_free(struct out *o, uint32_t slot) {
        spool_release(o->sp, slot);
        /* the attempt count stays: an acknowledgement of an earlier message in the slot must not match */
        o->slots[slot] = (struct out_slot){ .state = SLOT_FREE, .attempt = o->slots[slot].attempt };
        o->free[o->n_free++] = slot;
        atomic_fetch_sub(&o->b->n.pending, 1);
}

static void out_unsubscribe(struct out *o) {
        if (o->acks) {
                natsSubscription_Unsubscribe(o->acks); /* best effort: the connection may be gone */
                natsSubscription_Destroy(o->acks);
        }
        o->acks = NULL;
}

static void out_free(void *p) {
        struct out *o = p;

        out_trash_empty(o);
        out_unsubscribe(o);
        jsCtx_Destroy(o->js);
        spool_close(o->sp);
        free(o->slots);
        free(o->free);
        free(o->queue);
        free(o);
}

/* The subscription for JetStream's answers, on a subject no other client has. */
static int out_subscribe(struct out *o) {
        natsConnection *nc = link_connection(o->b->link);
        char subject[OUT_REPLY_MAX + 4];
        natsInbox *inbox = NULL;
        natsStatus s;
        int n;

        if (!nc)
                return -ENOTCONN;
        s = natsInbox_Create(&inbox);
        if (s != NATS_OK)
                return -ENOMEM;
        n = snprintf(o->reply, sizeof(o->reply), "%s.", (const char *)inbox);
        natsInbox_Destroy(inbox);
        if (n < 0 || (size_t)n + 2 * 11 >= sizeof(o->reply))
                return -ENAMETOOLONG;
        o->reply_len = (size_t)n;
        snprintf(subject, sizeof(subject), "%s*.*", o->reply);
        s = natsConnection_SubscribeSync(&o->acks, nc, subject);
        /* at most one answer per slot is due; the client's limit only guards against a flood */
        if (s == NATS_OK)
                s = natsSubscription_SetPendingLimits(o->acks, (int)(4 * o->n + 1024), -1);
        if (s != NATS_OK) {
                char why[512];
                link_error(s, 0, why, sizeof(why));
                log_error("[bridge %s] cannot subscribe to JetStream's acknowledgements: %s", o->b->cfg->name, why);
                return -EIO;
        }
        return 0;
}

static int out_start(struct bridge *b) {
        struct out *o = calloc(1, sizeof(*o));
        const uint32_t *replay;
        size_t n_replay, payload;
        ipcb_attr attr;
        int r, n;

        if (!o)
                return -ENOMEM;
        o->b = b;
        n = snprintf(o->id_prefix, sizeof(o->id_prefix), "%s:%s:", b->config->origin, b->cfg->channel);
        if (n < 0 || (size_t)n + 2 * MSGID_BOOT_BYTES + 1 + 20 >= sizeof(o->id_prefix)) {
                log_error("[bridge %s] origin and channel name are too long for a Nats-Msg-Id", b->cfg->name);
                free(o);
                return -ENAMETOOLONG;
        }
        o->id_prefix_len = (size_t)n;
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
        if (!o->slots || !o->free || !o->queue)
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
        r = out_subscribe(o);
        return r < 0 ? r : link_jetstream(b->link, &o->js);
}

/* ---- publishing -------------------------------------------------------------------------------------- */

/*
 * The boot id in the message id: its first MSGID_BOOT_BYTES (64 random bits tell the runs of a bridge apart,
 * whose sequences go on across restarts anyway) in hex, kept for the last seen (all but replayed slots have
 * this run's).
 */
static const char *out_boot_hex(struct out *o, const uint8_t *boot) {
        static const char digits[] = "0123456789abcdef";

        if (!o->boot_hex[0] || memcmp(o->boot_id, boot, MSGID_BOOT_BYTES) != 0) {
                memcpy(o->boot_id, boot, MSGID_BOOT_BYTES);
                for (size_t i = 0; i < MSGID_BOOT_BYTES; i++) {
                        o->boot_hex[2 * i] = digits[boot[i] >> 4];
                        o->boot_hex[2 * i + 1] = digits[boot[i] & 15];
                }
                o->boot_hex[2 * MSGID_BOOT_BYTES] = '\0';
        }
        return o->boot_hex;
}

/* V in decimal at P, which has room for 21 bytes; the end. */
static char *put_u64(char *p, uint64_t v) {
        char tmp[20];
        size_t n = 0;

        do
                tmp[n++] = (char)('0' + v % 10);
        while ((v /= 10) != 0);
        while (n > 0)
                *p++ = tmp[--n];
        *p = '\0';
        return p;
}

/*
 * The message of SLOT, to be answered on REPLY, with its Nats-Msg-Id: origin:channel:boot id:sequence
 * (the prefix up to the boot id is the same for every message, made once by out_start(), which also made
 * sure that a boot id and a sequence fit after it).
 */
static natsStatus out_message(struct out *o, uint32_t slot, const char *reply, natsMsg **ret) {
        const struct bridge_config *c = o->b->cfg;
        char id[OUT_ID_MAX], prio[24], *p = id;
        struct spool_record rec;
        natsStatus s;

        spool_get(o->sp, slot, &rec);
        memcpy(p, o->id_prefix, o->id_prefix_len);
        p += o->id_prefix_len;
        memcpy(p, out_boot_hex(o, rec.boot), 2 * MSGID_BOOT_BYTES);
        p += 2 * MSGID_BOOT_BYTES;
        *p++ = ':';
        put_u64(p, rec.seq);
        put_u64(prio, rec.prio);
        s = natsMsg_Create(ret, c->subject, reply, rec.data, (int)rec.len);
        if (s == NATS_OK)
                s = natsMsgHeader_Set(*ret, HEADER_MSG_ID, id);
        /* what is not said is 0 (as for a FIFO's messages): for a small message, each header weighs */
        if (s == NATS_OK && rec.prio != 0)
                s = natsMsgHeader_Set(*ret, HEADER_PRIORITY, prio);
        return s;
}

/* REPLY.SLOT.ATTEMPT, where JetStream answers this publish of SLOT. */
static void out_reply(const struct out *o, uint32_t slot, uint32_t attempt, char out[OUT_REPLY_MAX + 24]) {
        char *p = out;

        memcpy(p, o->reply, o->reply_len);
        p = put_u64(p + o->reply_len, slot);
        *p++ = '.';
        put_u64(p, attempt);
}

/* The slot and attempt an answer's SUBJECT names; false for a subject that is not one of ours. */
static bool out_reply_parse(const struct out *o, const char *subject, uint32_t *slot, uint32_t *attempt) {
        char tail[2 * 21]; /* SLOT.ATTEMPT */
        uint64_t v[2];
        char *dot;

        if (!subject || strncmp(subject, o->reply, o->reply_len) != 0 || strlen(subject + o->reply_len) >= sizeof(tail))
                return false;
        strcpy(tail, subject + o->reply_len);
        dot = strchr(tail, '.');
        if (!dot)
                return false;
        *dot = '\0';
        if (parse_u64(tail, 10, 0, o->n - 1, &v[0]) < 0 || parse_u64(dot + 1, 10, 0, UINT32_MAX, &v[1]) < 0)
                return false;
        *slot = (uint32_t)v[0];
        *attempt = (uint32_t)v[1];
        return true;
}

static void out_publish(struct out *o, uint32_t slot) {
        natsConnection *nc = link_connection(o->b->link);
        /* the connection's generation before the publish: one lost across a reconnect in between is published again */
        uint64_t gen = link_generation(o->b->link);
        struct out_slot *sl = &o->slots[slot];
        char reply[OUT_REPLY_MAX + 24], why[512];
        natsMsg *m = NULL;
        natsStatus s;

        out_reply(o, slot, ++sl->attempt, reply);
        s = nc ? out_message(o, slot, reply, &m) : NATS_CONNECTION_CLOSED;
        if (s == NATS_OK)
                s = natsConnection_PublishMsg(nc, m);
        out_trash(o, m);
        if (s != NATS_OK) {
                link_error(s, 0, why, sizeof(why));
                bridge_problem(o->b, "cannot publish to %s: %s; retrying", o->b->cfg->subject, why);
                queue_push(o, slot, now_ms() + RETRY_MS);
                return;
        }
        if (sl->published)
                atomic_fetch_add(&o->b->n.republished, 1);
        sl->state = SLOT_SENT;
        sl->sent_ms = now_ms();
        sl->gen = gen;
        sl->published = true;
        o->n_sent++;
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

        if (gen == o->gen || !link_connected(o->b->link))
                return;
        o->gen = gen;
        for (uint32_t i = 0; i < o->n; i++)
                if (o->slots[i].state == SLOT_SENT && o->slots[i].gen < gen)
                        slot_resend(o, i, 0);
}

/* A SENT slot not acknowledged within ack_wait: publish it again. */
static void out_sweep(struct out *o) {
        int64_t now = now_ms(), limit = (int64_t)o->b->cfg->ack_wait_ms;
        size_t late = 0;

        if (now < o->sweep_ms || o->n_sent == 0)
                return;
        o->sweep_ms = now + 1000;
        for (uint32_t i = 0; i < o->n; i++)
                if (o->slots[i].state == SLOT_SENT && now - o->slots[i].sent_ms > limit) {
                        slot_resend(o, i, 0);
                        late++;
                }
        if (late)
                bridge_problem(o->b,
                               "JetStream did not acknowledge %zu message(s) on %s within ack_wait; publishing again",
                               late, o->b->cfg->subject);
}

/* ---- outcomes ------------------------------------------------------------------------------------------ */

/* "No responders": no stream takes the subject now. Whatever is SENT met the same; publish it again later. */
static void out_no_responders(struct out *o) {
        int64_t due = now_ms() + RETRY_MS;

        o->stream_suspect = true;
        bridge_problem(o->b,
                       "JetStream did not store messages on %s: no stream answers (no responders); publishing again",
                       o->b->cfg->subject);
        for (uint32_t i = 0; i < o->n; i++)
                if (o->slots[i].state == SLOT_SENT)
                        slot_resend(o, i, due);
}

static void out_outcome(struct out *o, natsMsg *m) {
        struct bridge *b = o->b;
        struct puback a;
        uint32_t slot, attempt;

        if (!out_reply_parse(o, natsMsg_GetSubject(m), &slot, &attempt) || o->slots[slot].state != SLOT_SENT ||
            o->slots[slot].attempt != attempt)
                return; /* for an earlier publish: the slot was published again since, or freed */
        puback_parse(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), &a);
        if (a.stored) {
                o->n_sent--;
                atomic_fetch_add(&b->n.acked, 1);
                atomic_fetch_add(a.duplicate ? &b->n.duplicates : &b->n.forwarded, 1);
                slot_free(o, slot);
                bridge_problem_solved(b, "publishing again");
                return;
        }
        if (a.err_code)
                bridge_problem(b,
                               "JetStream did not store a message on %s: %s (JetStream error %d); publishing it again",
                               b->cfg->subject, a.why, a.err_code);
        else
                bridge_problem(b, "JetStream did not store a message on %s: %s; publishing it again", b->cfg->subject,
                               a.why);
        slot_resend(o, slot, now_ms() + RETRY_MS);
}

/* Take JetStream's answers: what has come, or, with WAIT_MS > 0, the first to come within that time. */
static void out_outcomes(struct out *o, int64_t wait_ms) {
        for (;;) {
                natsMsg *m = NULL;
                natsStatus s;
                int pending = 0;

                if (wait_ms <= 0 && (natsSubscription_GetPending(o->acks, &pending, NULL) != NATS_OK || pending == 0))
                        return;
                s = natsSubscription_NextMsg(&m, o->acks, wait_ms > 0 ? wait_ms : 0);
                wait_ms = 0;
                if (s == NATS_OK) {
                        out_outcome(o, m);
                        out_trash(o, m);
                } else if (s == NATS_NO_RESPONDERS) {
                        out_no_responders(o);
                } else if (s != NATS_SLOW_CONSUMER) {
                        /* none came (a timeout), or the connection is closing: nothing more now */
                        return;
                }
                /* a slow consumer lost answers: their slots are swept after ack_wait */
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
        out_outcomes(o, 0);
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
        wait = syncpace_timeout(&o->sync, now_ms(), (int)wait);
        out_trash_empty(o);
        if (o->n_sent > 0 && link_connected(b->link)) {
                /* with nothing to take, what comes next is an acknowledgement: wait for it */
                if (!b->ch || o->n_free == 0) {
                        out_outcomes(o, wait < ACK_SLICE_MS ? wait : ACK_SLICE_MS);
                        return 0;
                }
                /* the answers do not wake the worker: look again soon */
                if (wait > ACK_LOOK_MS)
                        wait = ACK_LOOK_MS;
        }
        /* with the window full, the channel is not watched: it fills, and its senders wait */
        bridge_wait(b, b->ch && o->n_free > 0 ? ipcb_fd(b->ch) : -1, POLLIN, (int)wait);
        return 0;
}

/* A stop: no more taking; give the outstanding acknowledgements a moment (what stays is published next start). */
static void out_drain(struct out *o) {
        int64_t end = now_ms() + DRAIN_MS;

        while (o->n_sent > 0 && link_connected(o->b->link) && now_ms() < end)
                out_outcomes(o, ACK_SLICE_MS);
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
        out_trash_empty(o);
        if (syncpace_due(&o->sync, now_ms(), true))
                out_sync(o);
        if (o->n_free < o->n)
                log_info("[bridge %s] %zu message(s) stay in the spool for the next start", c->name, o->n - o->n_free);
        return r;
}

static void out_release(struct bridge *b) {
        struct out *o = b->dir;

        out_unsubscribe(o);
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
