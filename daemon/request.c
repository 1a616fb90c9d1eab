/*
 * request.c — the handlers behind each request type: open, stat (info),
 * list, purge, reload, status. Dispatched through a table indexed by the
 * message type.
 */
#include "build-config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "counters.h"
#include "log.h"
#include "policy.h"
#include "ratelimit.h"
#include "registry.h"
#include "request.h"

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
                r->env->counters->denials++;
                log_client(r->charged_uid, LOG_NOTICE, "denied: uid %u (pid %d) may not %s on channel '%s'", cred->uid,
                           cred->pid, access_to_string((int)want & ~allowed), name);
                return fail(r, EACCES, "permission denied: uid %u may not %s on channel '%s'", cred->uid,
                            access_to_string((int)want & ~allowed), name);
        }
        e = channel_open(ch, (int)want, &h);
        if (e < 0) {
                if (ch->state != CHANNEL_READY)
                        return fail(r, EIO, "channel '%s' is unavailable: %s", name,
                                    ch->problem ? ch->problem : strerror(-e));
                return fail(r, -e, "cannot open channel '%s': %s", name, strerror(-e));
        }
        ch->opens++;
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
        if (channel_ensure(ch) < 0)
                log_debug("channel '%s': unavailable at stat", ch->config->name);
        put_channel(r->reply, ch, true);
        return 0;
}

/*
 * One page of entries, from the channel after the request's cursor, as many
 * as fit; then the cursor to ask for the next page with, if any is left.
 */
static void put_page(struct request *r, void (*put)(struct request *r, struct channel *ch)) {
        const struct registry *reg = r->env->registry;
        size_t i = registry_after(reg, r->attrs->v[WIRE_ATTR_CURSOR].s);

        for (size_t n = 0; i < reg->n; i++, n++) {
                if (n >= ENTRIES_MAX || wire_writer_room(r->reply) < ENTRY_ROOM)
                        break;
                put(r, reg->channels[i]);
        }
        if (i < reg->n && i > 0)
                wire_put_string(r->reply, WIRE_ATTR_CURSOR, reg->channels[i - 1]->config->name);
}

static void list_one(struct request *r, struct channel *ch) {
        wire_nest_begin(r->reply, WIRE_ATTR_CHANNEL);
        put_channel(r->reply, ch, false);
        wire_nest_end(r->reply);
}

static int request_list(struct request *r) {
        put_page(r, list_one);
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

static void purge_one(struct request *r, const char *name, struct channel *ch) {
        uint64_t messages = 0, bytes = 0;
        int e = ch ? channel_purge(ch, &messages, &bytes) : -ENOENT;

        wire_nest_begin(r->reply, WIRE_ATTR_CHANNEL);
        wire_put_string(r->reply, WIRE_ATTR_NAME, name);
        wire_put_u32(r->reply, WIRE_ATTR_ERROR, (uint32_t)-e);
        if (e < 0)
                wire_put_string(r->reply, WIRE_ATTR_MESSAGE,
                                e == -ENOENT        ? "no such channel"
                                : ch && ch->problem ? ch->problem
                                                    : strerror(-e));
        wire_put_u64(r->reply, WIRE_ATTR_PURGED_MESSAGES, messages);
        wire_put_u64(r->reply, WIRE_ATTR_PURGED_BYTES, bytes);
        wire_nest_end(r->reply);
        if (e == 0)
                log_info("uid %u (pid %d) purged channel '%s': %llu messages, %llu bytes", r->cred->uid, r->cred->pid,
                         name, (unsigned long long)messages, (unsigned long long)bytes);
}

static void purge_page_one(struct request *r, struct channel *ch) {
        purge_one(r, ch->config->name, ch);
}

static int request_purge(struct request *r) {
        int e = require_admin(r, "purge channels");

        if (e < 0)
                return e;
        if (r->attrs->v[WIRE_ATTR_ALL].present) {
                put_page(r, purge_page_one);
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
        wire_put_u64(w, WIRE_ATTR_CLIENTS, k->clients);
        wire_put_u64(w, WIRE_ATTR_CONNECTIONS, k->connections);
        wire_put_u64(w, WIRE_ATTR_REQUESTS, k->requests);
        wire_put_u64(w, WIRE_ATTR_OPENS_TOTAL, k->opens);
        wire_put_u64(w, WIRE_ATTR_DENIED, k->denials);
        wire_put_u64(w, WIRE_ATTR_RELOADS, k->reloads);
        return 0;
}

typedef int (*request_handler)(struct request *r);

static const request_handler handlers[_WIRE_REQ_MAX] = {
        [WIRE_REQ_OPEN] = request_open,   [WIRE_REQ_INFO] = request_info,     [WIRE_REQ_LIST] = request_list,
        [WIRE_REQ_PURGE] = request_purge, [WIRE_REQ_RELOAD] = request_reload, [WIRE_REQ_STATUS] = request_status,
};

void request_dispatch(struct request *r) {
        request_handler h = r->hdr->type < _WIRE_REQ_MAX ? handlers[r->hdr->type] : NULL;
        int e;

        if (!h)
                e = fail(r, EOPNOTSUPP, "unknown request type %u", r->hdr->type);
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
        wire_put_u32(r->reply, WIRE_ATTR_ERROR, 0);
}
