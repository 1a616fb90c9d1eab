/*
 * request.c — the handlers behind each request type: open, stat (info),
 * list, purge, reload, status, metrics, holders, wait, access. Dispatched
 * through a table indexed by the message type.
 */
#include "build-config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "counters.h"
#include "log.h"
#include "policy.h"
#include "ratelimit.h"
#include "registry.h"
#include "request.h"
#include "sampler.h"

/* Room to keep free before adding an entry to a LIST or PURGE reply: ~300 bytes, plus a problem text. */
#define ENTRY_ROOM 1024
/* entries per reply: the decoder takes WIRE_ATTRS_MAX attributes a level, ERROR and CURSOR included */
#define ENTRIES_MAX (WIRE_ATTRS_MAX - 4)

static int fail(struct request *r, int err, const char *fmt, ...) _printf_(3, 4);
static int fail(struct request *r, int err, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(r->message, sizeof(r->message), fmt, ap);
        va_end(ap);
        return -err;
}

static const char *access_to_string(int access) {
        switch (access) {
        case CHANNEL_ACCESS_SEND:
                return "send";
        case CHANNEL_ACCESS_RECV:
                return "receive";
        default:
                return "send and receive";
        }
}

/* Every attribute of a channel, as stat and list show it. */
static void put_channel(struct wire_writer *w, struct channel *ch, bool full) {
        const struct channel_config *c = ch->config;
        struct channel_info info;

        channel_info(ch, &info);
        wire_put_string(w, WIRE_ATTR_NAME, c->name);
        wire_put_u32(w, WIRE_ATTR_TYPE, info.type);
        wire_put_u32(w, WIRE_ATTR_OWNER, c->owner);
        wire_put_u32(w, WIRE_ATTR_GROUP, c->group);
        wire_put_u32(w, WIRE_ATTR_MODE, c->mode);
        wire_put_u32(w, WIRE_ATTR_STATE, (uint32_t)ch->state);
        if (info.framing >= 0)
                wire_put_u32(w, WIRE_ATTR_FRAMING, (uint32_t)info.framing);
        wire_put_i64(w, WIRE_ATTR_MAX_MESSAGES, info.max_messages);
        wire_put_i64(w, WIRE_ATTR_MESSAGE_SIZE, info.message_size);
        wire_put_i64(w, WIRE_ATTR_MESSAGES, info.messages);
        wire_put_i64(w, WIRE_ATTR_BYTES, info.bytes);
        wire_put_i64(w, WIRE_ATTR_CAPACITY, info.capacity);
        if (info.live)
                wire_put_i64(w, WIRE_ATTR_MQ_FLAGS, info.flags);
        if (ch->problem)
                wire_put_string(w, WIRE_ATTR_PROBLEM, ch->problem);
        if (!full)
                return;
        wire_put_string(w, WIRE_ATTR_KERNEL_NAME, channel_config_object(c));
        wire_put_string(w, WIRE_ATTR_ON_STOP, on_stop_to_string(c->on_stop));
        if (c->send_text)
                wire_put_string(w, WIRE_ATTR_SEND_LIST, c->send_text);
        if (c->recv_text)
                wire_put_string(w, WIRE_ATTR_RECV_LIST, c->recv_text);
        wire_put_u64(w, WIRE_ATTR_OPENS, ch->opens);
        wire_put_u64(w, WIRE_ATTR_DENIALS, ch->denials);
}

static struct channel *find(struct request *r, const char *name, int *err) {
        struct channel *ch;

        if (!channel_name_valid(name)) {
                *err = fail(r, EINVAL, "'%.*s' is not a valid channel name", WIRE_NAME_MAX, name);
                return NULL;
        }
        ch = registry_find(r->env->registry, name);
        if (!ch)
                *err = fail(r, ENOENT, "no channel named '%s'", name);
        return ch;
}

/* Count an open in COUNTS by what it asked for: [0] send, [1] receive. */
static void count_access(uint64_t counts[2], int access) {
        if (access & CHANNEL_ACCESS_SEND)
                counts[0]++;
        if (access & CHANNEL_ACCESS_RECV)
                counts[1]++;
}

static int request_open(struct request *r) {
        const struct peer_cred *cred = r->cred;
        const char *name = r->attrs->v[WIRE_ATTR_NAME].s;
        uint32_t want = (uint32_t)r->attrs->v[WIRE_ATTR_ACCESS].u;
        struct channel_handle h;
        struct channel *ch;
        int allowed, err = 0, e;

        if (want == 0 || (want & ~(uint32_t)(WIRE_ACCESS_SEND | WIRE_ACCESS_RECV)))
                return fail(r, EINVAL, "invalid access mode %#x: ask for send, receive or both", want);
        ch = find(r, name, &err);
        if (!ch)
                return err;

        allowed = policy_channel_access(ch->config, cred);
        if ((allowed & (int)want) != (int)want) {
                ch->denials++;
                count_access(ch->stats.denied, (int)want);
                r->env->counters->denials++;
                log_client(r->charged_uid, LOG_NOTICE, "denied: uid %u (pid %d) may not %s on channel '%s'", cred->uid,
                           cred->pid, access_to_string((int)want & ~allowed), name);
                return fail(r, EACCES,
                            "permission denied: uid %u may not %s on channel '%s' (ipcbroker access %s says why)",
                            cred->uid, access_to_string((int)want & ~allowed), name, name);
        }
        e = channel_open(ch, (int)want, &h);
        if (e != 0) {
                /* an unusable channel says why (its problem); a failed open of a usable one, the errno */
                if (e == CHANNEL_DISTRUSTED || ch->state != CHANNEL_READY)
                        return fail(r, EIO, "channel '%s' is unavailable: %s", name,
                                    ch->problem ? ch->problem : strerror(-e));
                return fail(r, -e, "cannot open channel '%s': %s", name, strerror(-e));
        }
        ch->opens++;
        count_access(ch->stats.opens, (int)want);
        holders_grant(&ch->holders, cred, (int)want);
        r->env->counters->opens++;
        log_client(r->charged_uid, LOG_DEBUG, "granted: uid %u (pid %d) opens channel '%s' to %s", cred->uid, cred->pid,
                   name, access_to_string((int)want));
        /* what the library needs, from what the channel knows: no system call on this path */
        wire_put_u32(r->reply, WIRE_ATTR_TYPE, h.type);
        if (h.max_messages >= 0)
                wire_put_i64(r->reply, WIRE_ATTR_MAX_MESSAGES, h.max_messages);
        wire_put_i64(r->reply, WIRE_ATTR_MESSAGE_SIZE, h.message_size);
        if (h.framing >= 0)
                wire_put_u32(r->reply, WIRE_ATTR_FRAMING, (uint32_t)h.framing);
        wire_put_u32(r->reply, WIRE_ATTR_ACCESS, want);
        r->pass_fd = h.fd;
        return 0;
}

static int request_info(struct request *r) {
        int err = 0;
        struct channel *ch = find(r, r->attrs->v[WIRE_ATTR_NAME].s, &err);

        if (!ch)
                return err;
        /* a stat is a good moment to notice a deleted or replaced object (which records itself) */
        if (channel_ensure(ch) != 0)
                log_debug("channel '%s': unavailable at stat", ch->config->name);
        put_channel(r->reply, ch, true);
        return 0;
}

/* What a paged reply puts for each channel. */
struct page_entries {
        /* how many entries PUT adds for CH (NULL: one), each taking up to ROOM bytes besides ENTRY_ROOM */
        size_t (*count)(struct request *r, struct channel *ch, const void *data);
        size_t room;
        void (*put)(struct request *r, struct channel *ch, const void *data);
        const void *data;
};

/*
 * One page, from the channel after the request's cursor: whole channels'
 * entries, as many as fit; then the cursor to ask for the next page with, if
 * any is left.
 */
static void put_page(struct request *r, const struct page_entries *e) {
        const struct registry *reg = r->env->registry;
        size_t i = registry_after(reg, r->attrs->v[WIRE_ATTR_CURSOR].s), entries = 0;

        for (; i < reg->n; i++) {
                size_t k = e->count ? e->count(r, reg->channels[i], e->data) : 1;
                if (entries + k > ENTRIES_MAX || wire_writer_room(r->reply) < k * e->room + ENTRY_ROOM)
                        break;
                e->put(r, reg->channels[i], e->data);
                entries += k;
        }
        if (i < reg->n && i > 0)
                wire_put_string(r->reply, WIRE_ATTR_CURSOR, reg->channels[i - 1]->config->name);
}

static void list_one(struct request *r, struct channel *ch, const void *data) {
        wire_nest_begin(r->reply, WIRE_ATTR_CHANNEL);
        put_channel(r->reply, ch, false);
        wire_nest_end(r->reply);
}

static int request_list(struct request *r) {
        put_page(r, &(struct page_entries){ .put = list_one });
        return 0;
}

static int require_admin(struct request *r, const char *what) {
        const struct peer_cred *cred = r->cred;

        if (policy_is_admin(r->env->config, cred))
                return 0;
        r->env->counters->denials++;
        log_client(r->charged_uid, LOG_NOTICE, "denied: uid %u (pid %d) may not %s (not in admins)", cred->uid,
                   cred->pid, what);
        return fail(r, EPERM, "permission denied: uid %u is not an administrator of ipcbrokerd (see admins=)",
                    cred->uid);
}

/*
 * One entry of a PURGE reply. CH is what the registry found under NAME: only
 * its absence is "no such channel"; a channel that exists but cannot be
 * purged says its own problem, whatever errno the failure carried. A refused
 * channel's entry carries EEXIST, as it always has.
 */
static void purge_one(struct request *r, const char *name, struct channel *ch) {
        uint64_t messages = 0, bytes = 0;
        const char *why = "no such channel";
        int e = -ENOENT;

        if (ch) {
                e = channel_purge(ch, &messages, &bytes);
                if (e == CHANNEL_DISTRUSTED)
                        e = -EEXIST;
                why = e < 0 && ch->problem ? ch->problem : strerror(-e);
        }
        wire_nest_begin(r->reply, WIRE_ATTR_CHANNEL);
        wire_put_string(r->reply, WIRE_ATTR_NAME, name);
        wire_put_u32(r->reply, WIRE_ATTR_ERROR, (uint32_t)-e);
        if (e < 0)
                wire_put_string(r->reply, WIRE_ATTR_MESSAGE, why);
        wire_put_u64(r->reply, WIRE_ATTR_PURGED_MESSAGES, messages);
        wire_put_u64(r->reply, WIRE_ATTR_PURGED_BYTES, bytes);
        wire_nest_end(r->reply);
        if (e == 0)
                log_info("uid %u (pid %d) purged channel '%s': %llu messages, %llu bytes", r->cred->uid, r->cred->pid,
                         name, (unsigned long long)messages, (unsigned long long)bytes);
}

static void purge_page_one(struct request *r, struct channel *ch, const void *data) {
        purge_one(r, ch->config->name, ch);
}

static int request_purge(struct request *r) {
        int e = require_admin(r, "purge channels");

        if (e < 0)
                return e;
        if (r->attrs->v[WIRE_ATTR_ALL].present) {
                put_page(r, &(struct page_entries){ .put = purge_page_one });
                return 0;
        }
        if (!r->attrs->v[WIRE_ATTR_NAME].present)
                return fail(r, EINVAL, "purge needs channel names or --all");

        struct wire_iter it;
        struct wire_value v;
        unsigned n = 0;
        /* count first: a request is carried out whole or not at all */
        wire_iter_init(&it, r->packet, r->size);
        while (wire_iter_next(&it, WIRE_ATTR_NAME, &v)) {
                if (strlen(v.s) > WIRE_NAME_MAX)
                        return fail(r, EINVAL, "a channel name is longer than %d characters", WIRE_NAME_MAX);
                n++;
        }
        if (n > WIRE_PURGE_NAMES_MAX)
                return fail(r, E2BIG, "too many names in one purge request (at most %d)", WIRE_PURGE_NAMES_MAX);
        wire_iter_init(&it, r->packet, r->size);
        while (wire_iter_next(&it, WIRE_ATTR_NAME, &v))
                purge_one(r, v.s, channel_name_valid(v.s) ? registry_find(r->env->registry, v.s) : NULL);
        return 0;
}

static int request_reload(struct request *r) {
        _cleanup_free_ char *msg = NULL;
        int e = require_admin(r, "reload the configuration");

        if (e < 0)
                return e;
        log_info("reload requested by uid %u (pid %d)", r->cred->uid, r->cred->pid);
        e = r->env->reload(r->env->userdata, &msg);
        if (e < 0)
                return fail(r, -e, "%s", msg ? msg : "reload failed");
        wire_put_string(r->reply, WIRE_ATTR_MESSAGE, msg ? msg : "reloaded");
        return 0;
}

/* The daemon-wide counters, as status and metrics show them. */
static void put_counters(struct wire_writer *w, const struct counters *k) {
        wire_put_u64(w, WIRE_ATTR_CLIENTS, k->clients);
        wire_put_u64(w, WIRE_ATTR_CONNECTIONS, k->connections);
        wire_put_u64(w, WIRE_ATTR_REQUESTS, k->requests);
        wire_put_u64(w, WIRE_ATTR_OPENS_TOTAL, k->opens);
        wire_put_u64(w, WIRE_ATTR_DENIED, k->denials);
        wire_put_u64(w, WIRE_ATTR_RELOADS, k->reloads);
}

static int request_status(struct request *r) {
        const struct request_env *env = r->env;
        const struct counters *k = env->counters;
        struct wire_writer *w = r->reply;

        wire_put_string(w, WIRE_ATTR_VERSION, PACKAGE_VERSION);
        wire_put_u32(w, WIRE_ATTR_PID, (uint32_t)getpid());
        wire_put_u64(w, WIRE_ATTR_UPTIME, (uint64_t)(time(NULL) - env->started));
        wire_put_string(w, WIRE_ATTR_CONFIG_FILE, env->config_path);
        wire_put_string(w, WIRE_ATTR_SOCKET, env->socket_path ? env->socket_path : env->config->socket);
        wire_put_u64(w, WIRE_ATTR_CHANNELS, env->registry->n);
        wire_put_u64(w, WIRE_ATTR_CHANNELS_READY, registry_count(env->registry, CHANNEL_READY));
        put_counters(w, k);
        return 0;
}

/* ---- the operators' view ---- */

/* What is queued now counts for the high-water mark too: a sample may be older than this look. */
static long long high_water_now(struct channel_stats *s, const struct channel_info *info) {
        long long now = info->messages >= 0 ? info->messages : info->bytes;

        if (now > s->high_water)
                s->high_water = now;
        return s->high_water;
}

/*
 * Messages queued now. Where the kernel does not count them (a pipe's
 * packets), an object known to hold no byte holds no message either.
 */
static long long messages_now(const struct channel_info *info) {
        return info->messages < 0 && info->bytes == 0 ? 0 : info->messages;
}

static void metrics_one(struct request *r, struct channel *ch, const void *data) {
        struct wire_writer *w = r->reply;
        struct channel_stats *s = &ch->stats;
        struct channel_info info;

        channel_info(ch, &info);
        wire_nest_begin(w, WIRE_ATTR_CHANNEL);
        wire_put_string(w, WIRE_ATTR_NAME, ch->config->name);
        wire_put_u32(w, WIRE_ATTR_TYPE, info.type);
        wire_put_u32(w, WIRE_ATTR_STATE, (uint32_t)ch->state);
        wire_put_i64(w, WIRE_ATTR_MESSAGES, messages_now(&info));
        wire_put_i64(w, WIRE_ATTR_BYTES, info.bytes);
        wire_put_i64(w, WIRE_ATTR_MAX_MESSAGES, info.max_messages);
        wire_put_i64(w, WIRE_ATTR_CAPACITY, info.capacity);
        wire_put_i64(w, WIRE_ATTR_HIGH_WATER, high_water_now(s, &info));
        /* a queue seen at its limit now is full, whatever the last sample said */
        wire_put_u32(w, WIRE_ATTR_FULL,
                     s->full || (info.messages >= 0 && info.max_messages > 0 && info.messages >= info.max_messages));
        wire_put_u64(w, WIRE_ATTR_FULL_MS, sampler_full_ms(ch, r->now));
        wire_put_u64(w, WIRE_ATTR_FULL_EVENTS, s->full_events);
        wire_put_u64(w, WIRE_ATTR_FULL_ALERTS, s->full_alerts);
        wire_put_u64(w, WIRE_ATTR_OPENS_SEND, s->opens[0]);
        wire_put_u64(w, WIRE_ATTR_OPENS_RECV, s->opens[1]);
        wire_put_u64(w, WIRE_ATTR_DENIED_SEND, s->denied[0]);
        wire_put_u64(w, WIRE_ATTR_DENIED_RECV, s->denied[1]);
        wire_put_u64(w, WIRE_ATTR_HOLDERS, holders_count(&ch->holders, 0));
        wire_nest_end(w);
}

static int request_metrics(struct request *r) {
        const struct request_env *env = r->env;
        const struct counters *k = env->counters;
        struct wire_writer *w = r->reply;

        wire_put_string(w, WIRE_ATTR_VERSION, PACKAGE_VERSION);
        wire_put_u64(w, WIRE_ATTR_START_TIME, (uint64_t)env->started);
        wire_put_u64(w, WIRE_ATTR_SAMPLE_INTERVAL, env->config->sample_interval_ms);
        put_counters(w, k);
        wire_put_u64(w, WIRE_ATTR_RELOAD_FAILURES, k->reload_failures);
        put_page(r, &(struct page_entries){ .put = metrics_one });
        return 0;
}

/* Room a holder entry may take: a unit name and a command, and the numbers. */
#define HOLDER_ROOM 640

static void holder_put(struct wire_writer *w, const struct channel *ch, const struct holder *h) {
        wire_nest_begin(w, WIRE_ATTR_HOLDER);
        wire_put_string(w, WIRE_ATTR_NAME, ch->config->name);
        wire_put_u32(w, WIRE_ATTR_ACCESS, (uint32_t)h->access);
        wire_put_u32(w, WIRE_ATTR_UID, h->uid);
        wire_put_u32(w, WIRE_ATTR_PID, (uint32_t)h->pid);
        if (h->command[0])
                wire_put_string(w, WIRE_ATTR_COMMAND, h->command);
        if (h->unit)
                wire_put_string(w, WIRE_ATTR_UNIT, h->unit);
        wire_put_u64(w, WIRE_ATTR_SINCE, (uint64_t)h->since);
        wire_put_u64(w, WIRE_ATTR_OPENS, h->opens);
        wire_put_u32(w, WIRE_ATTR_ALIVE, 1);
        wire_nest_end(w);
}

/* CH's live holders the caller may see (all for an admin, *ADMIN): how many (PUT: and add them to the reply). */
static size_t holders_visible(struct request *r, struct channel *ch, const bool *admin, bool put) {
        size_t n = 0;

        for (size_t i = 0; i < ch->holders.n; i++) {
                struct holder *h = &ch->holders.v[i];
                if ((!*admin && h->uid != r->cred->uid) || !holder_alive(h))
                        continue;
                if (put)
                        holder_put(r->reply, ch, h);
                n++;
        }
        return n;
}

static size_t visible_count(struct request *r, struct channel *ch, const void *admin) {
        return holders_visible(r, ch, admin, false);
}

static void visible_put(struct request *r, struct channel *ch, const void *admin) {
        holders_visible(r, ch, admin, true);
}

static int request_holders(struct request *r) {
        const char *name = r->attrs->v[WIRE_ATTR_NAME].s;
        bool admin = policy_is_admin(r->env->config, r->cred);
        int err = 0;

        if (name) {
                struct channel *ch = find(r, name, &err);
                if (!ch)
                        return err;
                visible_put(r, ch, &admin);
                return 0;
        }
        /* whole channels a page: each has at most HOLDERS_MAX, which fit */
        put_page(r, &(struct page_entries){
                            .count = visible_count, .room = HOLDER_ROOM, .put = visible_put, .data = &admin });
        return 0;
}

/* Channel names in one WAIT request. */
#define WAIT_NAMES_MAX 32
/* The longest the daemon holds a WAIT before answering (the library asks again). */
#define WAIT_ROUND_MAX_MS 25000

/* Why channel NAME is not ready, or NULL when it is (an unready one is given a chance to recover). */
static const char *wait_missing(struct request *r, const char *name, char *why, size_t size) {
        struct channel *ch = registry_find(r->env->registry, name);

        if (!ch) {
                snprintf(why, size, "no channel named '%s'", name);
                return why;
        }
        /* a recovery attempt a second at most, however many wait for the channel */
        if (ch->state != CHANNEL_READY && r->now - ch->waited_at >= 1.0) {
                ch->waited_at = r->now;
                if (channel_ensure(ch) == 0)
                        return NULL;
        }
        if (ch->state == CHANNEL_READY)
                return NULL;
        snprintf(why, size, "channel '%s' is unavailable: %s", name, ch->problem ? ch->problem : "not ready");
        return why;
}

static int request_wait(struct request *r) {
        uint64_t timeout = r->attrs->v[WIRE_ATTR_TIMEOUT_MS].present ? r->attrs->v[WIRE_ATTR_TIMEOUT_MS].u : 0;
        char why[512], missing[2048] = "";
        size_t len = 0;
        struct wire_iter it;
        struct wire_value v;
        unsigned n = 0;

        wire_iter_init(&it, r->packet, r->size);
        while (wire_iter_next(&it, WIRE_ATTR_NAME, &v)) {
                if (!channel_name_valid(v.s))
                        return fail(r, EINVAL, "'%.*s' is not a valid channel name", WIRE_NAME_MAX, v.s);
                if (++n > WAIT_NAMES_MAX)
                        return fail(r, E2BIG, "too many names in one wait request (at most %d)", WAIT_NAMES_MAX);
        }
        /* every one that is not ready, named */
        wire_iter_init(&it, r->packet, r->size);
        while (wire_iter_next(&it, WIRE_ATTR_NAME, &v))
                if (wait_missing(r, v.s, why, sizeof(why)) && len < sizeof(missing))
                        len += (size_t)snprintf(missing + len, sizeof(missing) - len, "%s%s", len ? "; " : "", why);
        if (!len)
                return 0;
        if (r->final || timeout == 0)
                return fail(r, ETIMEDOUT, "timed out waiting: %s", missing);
        r->deferred = true;
        r->wait_ms = timeout < WAIT_ROUND_MAX_MS ? (unsigned)timeout : WAIT_ROUND_MAX_MS;
        return 0;
}

/*
 * The credentials an ACCESS request asks about: the caller's, or (admins
 * only) those it names. Anyone else may name only itself, and gets the
 * answer for its kernel-verified credentials, not for the groups the
 * request claims.
 */
static int access_subject(struct request *r, struct peer_cred *who) {
        const struct wire_attrs *a = r->attrs;
        struct wire_iter it;
        struct wire_value v;

        if (!a->v[WIRE_ATTR_UID].present) {
                *who = *r->cred;
                return 0;
        }
        if (!policy_is_admin(r->env->config, r->cred)) {
                if ((uid_t)a->v[WIRE_ATTR_UID].u != r->cred->uid)
                        return fail(r, EPERM,
                                    "permission denied: only administrators of ipcbrokerd (admins=) may ask about "
                                    "another user");
                *who = *r->cred;
                return 0;
        }
        *who = (struct peer_cred){
                .uid = (uid_t)a->v[WIRE_ATTR_UID].u,
                .gid = a->v[WIRE_ATTR_GID].present ? (gid_t)a->v[WIRE_ATTR_GID].u : (gid_t)-1,
        };
        wire_iter_init(&it, r->packet, r->size);
        while (who->n_groups < POLICY_GROUPS_MAX && wire_iter_next(&it, WIRE_ATTR_GROUPS, &v))
                who->groups[who->n_groups++] = (gid_t)v.u;
        return 0;
}

static int request_access(struct request *r) {
        char send_rule[300], recv_rule[300];
        struct peer_cred who;
        struct channel *ch;
        int err = 0, allowed = 0;

        ch = find(r, r->attrs->v[WIRE_ATTR_NAME].s, &err);
        if (!ch)
                return err;
        err = access_subject(r, &who);
        if (err < 0)
                return err;
        if (policy_explain(ch->config, &who, CHANNEL_ACCESS_SEND, send_rule, sizeof(send_rule)))
                allowed |= CHANNEL_ACCESS_SEND;
        if (policy_explain(ch->config, &who, CHANNEL_ACCESS_RECV, recv_rule, sizeof(recv_rule)))
                allowed |= CHANNEL_ACCESS_RECV;
        wire_put_u32(r->reply, WIRE_ATTR_UID, who.uid);
        wire_put_u32(r->reply, WIRE_ATTR_ACCESS, (uint32_t)allowed);
        wire_put_string(r->reply, WIRE_ATTR_SEND_RULE, send_rule);
        wire_put_string(r->reply, WIRE_ATTR_RECV_RULE, recv_rule);
        return 0;
}

typedef int (*request_handler)(struct request *r);

static const request_handler handlers[_WIRE_REQ_MAX] = {
        [WIRE_REQ_OPEN] = request_open,       [WIRE_REQ_INFO] = request_info,       [WIRE_REQ_LIST] = request_list,
        [WIRE_REQ_PURGE] = request_purge,     [WIRE_REQ_RELOAD] = request_reload,   [WIRE_REQ_STATUS] = request_status,
        [WIRE_REQ_METRICS] = request_metrics, [WIRE_REQ_HOLDERS] = request_holders, [WIRE_REQ_WAIT] = request_wait,
        [WIRE_REQ_ACCESS] = request_access,
};

void request_dispatch(struct request *r) {
        request_handler h = r->hdr->type < _WIRE_REQ_MAX ? handlers[r->hdr->type] : NULL;
        int e;

        if (!h)
                e = fail(r, EOPNOTSUPP, "unknown request type %u", r->hdr->type);
        else if (r->env->config_problem && r->hdr->type != WIRE_REQ_RELOAD)
                e = fail(r, ENOTRECOVERABLE,
                         "ipcbrokerd serves no channel: its configuration is invalid (%s); fix it and run "
                         "'ipcbroker reload'",
                         r->env->config_problem);
        else
                e = h(r);
        if (e < 0) {
                if (r->pass_fd >= 0) {
                        close(r->pass_fd);
                        r->pass_fd = -1;
                }
                wire_writer_init(r->reply, WIRE_REPLY, r->hdr->serial);
                wire_put_u32(r->reply, WIRE_ATTR_ERROR, (uint32_t)-e);
                wire_put_string(r->reply, WIRE_ATTR_MESSAGE, r->message);
                return;
        }
        if (r->deferred)
                return; /* answered later */
        wire_put_u32(r->reply, WIRE_ATTR_ERROR, 0);
}
