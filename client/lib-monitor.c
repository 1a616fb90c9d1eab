/*
 * lib-monitor.c — the operators' calls: metrics, holders, wait, access.
 */
#include "build-config.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib-internal.h"
#include "util.h"

/* The name of UID into BUF (empty when it has none). */
static void user_name(uid_t uid, char *buf, size_t size) {
        struct passwd pw, *res = NULL;
        char tmp[1024];

        buf[0] = '\0';
        if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) == 0 && res)
                snprintf(buf, size, "%s", res->pw_name);
}

/* ---- metrics ---- */

struct metrics_call {
        struct lib_paged paged;
        ipcb_metrics *m;
        size_t cap;
};

static int metrics_reply(struct lib_paged *p, const struct lib_reply *reply) {
        ipcb_metrics *m = container_of(p, struct metrics_call, paged)->m;
        const struct wire_attrs *a = &reply->attrs;

        lib_copy(m->version, sizeof(m->version), &a->v[WIRE_ATTR_VERSION]);
        m->start_time = (long long)a->v[WIRE_ATTR_START_TIME].u;
        m->sample_interval = (double)a->v[WIRE_ATTR_SAMPLE_INTERVAL].u / 1000.0;
        m->clients = a->v[WIRE_ATTR_CLIENTS].u;
        m->connections = a->v[WIRE_ATTR_CONNECTIONS].u;
        m->requests = a->v[WIRE_ATTR_REQUESTS].u;
        m->opens = a->v[WIRE_ATTR_OPENS_TOTAL].u;
        m->denied = a->v[WIRE_ATTR_DENIED].u;
        m->reloads = a->v[WIRE_ATTR_RELOADS].u;
        m->reload_failures = a->v[WIRE_ATTR_RELOAD_FAILURES].u;
        return 0;
}

/* An i64 attribute, or -1 when absent. */
static long long i64_or(const struct wire_value *v) {
        return v->present ? v->i : -1;
}

static int metrics_take(struct lib_paged *p, const struct wire_value *entry) {
        struct metrics_call *mc = container_of(p, struct metrics_call, paged);
        ipcb_channel_metrics *c;
        struct wire_attrs a;

        if (wire_decode_nested(entry, wire_policy_channel, &a, NULL) < 0)
                return -EPROTO;
        if (lib_grow((void **)&mc->m->channels, &mc->cap, mc->m->n_channels, sizeof(*c), 64) < 0)
                return -ENOMEM;
        c = &mc->m->channels[mc->m->n_channels++];
        memset(c, 0, sizeof(*c));
        lib_copy(c->name, sizeof(c->name), &a.v[WIRE_ATTR_NAME]);
        c->type = (int)a.v[WIRE_ATTR_TYPE].u;
        c->state = (int)a.v[WIRE_ATTR_STATE].u;
        c->messages = (long)i64_or(&a.v[WIRE_ATTR_MESSAGES]);
        c->bytes = i64_or(&a.v[WIRE_ATTR_BYTES]);
        c->max_messages = (long)i64_or(&a.v[WIRE_ATTR_MAX_MESSAGES]);
        c->capacity = (long)i64_or(&a.v[WIRE_ATTR_CAPACITY]);
        c->high_water = i64_or(&a.v[WIRE_ATTR_HIGH_WATER]);
        c->full = a.v[WIRE_ATTR_FULL].u != 0;
        c->full_seconds = (double)a.v[WIRE_ATTR_FULL_MS].u / 1000.0;
        c->full_events = a.v[WIRE_ATTR_FULL_EVENTS].u;
        c->full_alerts = a.v[WIRE_ATTR_FULL_ALERTS].u;
        c->opens_send = a.v[WIRE_ATTR_OPENS_SEND].u;
        c->opens_recv = a.v[WIRE_ATTR_OPENS_RECV].u;
        c->denied_send = a.v[WIRE_ATTR_DENIED_SEND].u;
        c->denied_recv = a.v[WIRE_ATTR_DENIED_RECV].u;
        c->holders = a.v[WIRE_ATTR_HOLDERS].u;
        return 0;
}

_public_ int ipcb_metrics_get(ipcb_metrics **out) {
        struct metrics_call mc = {
                .paged = { .type = WIRE_REQ_METRICS,
                           .fill = lib_page_by_cursor,
                           .reply = metrics_reply,
                           .take = metrics_take },
        };
        int r;

        if (!out)
                return -EINVAL;
        mc.m = calloc(1, sizeof(*mc.m));
        if (!mc.m)
                return -ENOMEM;
        r = lib_paged_call(&mc.paged);
        if (r < 0) {
                ipcb_metrics_free(mc.m);
                return r;
        }
        *out = mc.m;
        return 0;
}

_public_ void ipcb_metrics_free(ipcb_metrics *m) {
        if (!m)
                return;
        free(m->channels);
        free(m);
}

/* ---- holders ---- */

struct holders_call {
        struct lib_paged paged;
        const char *name;
        ipcb_holder *out;
        size_t count, cap;
};

static enum lib_page_end holders_fill(struct lib_paged *p, struct wire_writer *w, const char *cursor) {
        struct holders_call *hc = container_of(p, struct holders_call, paged);

        if (hc->name)
                wire_put_string(w, WIRE_ATTR_NAME, hc->name);
        if (cursor)
                wire_put_string(w, WIRE_ATTR_CURSOR, cursor);
        return LIB_PAGE_BY_CURSOR;
}

static int holders_take(struct lib_paged *p, const struct wire_value *entry) {
        struct holders_call *hc = container_of(p, struct holders_call, paged);
        struct wire_attrs a;
        ipcb_holder *h;

        if (wire_decode_nested(entry, wire_policy_holder, &a, NULL) < 0)
                return -EPROTO;
        if (lib_grow((void **)&hc->out, &hc->cap, hc->count, sizeof(*h), 32) < 0)
                return -ENOMEM;
        h = &hc->out[hc->count++];
        memset(h, 0, sizeof(*h));
        lib_copy(h->channel, sizeof(h->channel), &a.v[WIRE_ATTR_NAME]);
        h->access = (int)a.v[WIRE_ATTR_ACCESS].u;
        h->uid = (uid_t)a.v[WIRE_ATTR_UID].u;
        user_name(h->uid, h->user, sizeof(h->user));
        h->pid = (pid_t)a.v[WIRE_ATTR_PID].u;
        lib_copy(h->command, sizeof(h->command), &a.v[WIRE_ATTR_COMMAND]);
        lib_copy(h->unit, sizeof(h->unit), &a.v[WIRE_ATTR_UNIT]);
        h->since = (long long)a.v[WIRE_ATTR_SINCE].u;
        h->opens = a.v[WIRE_ATTR_OPENS].u;
        return 0;
}

_public_ int ipcb_holders(const char *name, ipcb_holder **out, size_t *n) {
        struct holders_call hc = {
                .paged = { .type = WIRE_REQ_HOLDERS,
                           .entry = WIRE_ATTR_HOLDER,
                           .fill = holders_fill,
                           .take = holders_take },
                .name = name,
        };

        if (!out || !n || (name && (!*name || strlen(name) > IPCB_NAME_MAX)))
                return -EINVAL;
        return lib_paged_hand_out(&hc.paged, (void **)&hc.out, &hc.count, (void **)out, n);
}

/* ---- wait ---- */

/* One round of waiting: the daemon answers within a round, the library waits again while time is left. */
#define WAIT_ROUND_MS 20000
/* names in one WAIT request (one attribute each) */
#define WAIT_NAMES_MAX 32

/* Wait for up to WAIT_NAMES_MAX channels for at most ROUND_MS. */
static int wait_round(const char *const *names, size_t n, int round_ms) {
        _cleanup_free_ struct lib_call *c = malloc(sizeof(*c));

        if (!c)
                return -ENOMEM;
        wire_writer_init(&c->w, WIRE_REQ_WAIT, 1);
        for (size_t i = 0; i < n; i++)
                wire_put_string(&c->w, WIRE_ATTR_NAME, names[i]);
        wire_put_u64(&c->w, WIRE_ATTR_TIMEOUT_MS, (uint64_t)round_ms);
        return lib_call(&c->w, &c->reply);
}

_public_ int ipcb_wait_many(const char *const *names, size_t n, int timeout_ms) {
        struct timespec end;

        if (!names || n == 0)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (!names[i] || !*names[i] || strlen(names[i]) > IPCB_NAME_MAX)
                        return -EINVAL;
        lib_deadline(CLOCK_MONOTONIC, timeout_ms < 0 ? 0 : timeout_ms, &end);
        /* a batch at a time: once a batch is ready, the next one is waited for in what time is left */
        for (size_t first = 0; first < n;) {
                size_t batch = n - first < WAIT_NAMES_MAX ? n - first : WAIT_NAMES_MAX;
                int left = timeout_ms < 0 ? WAIT_ROUND_MS : lib_remaining_ms(&end);
                int r = wait_round(names + first, batch, left < WAIT_ROUND_MS ? left : WAIT_ROUND_MS);

                if (r == 0) {
                        first += batch;
                        continue;
                }
                /* the round ended (or the daemon let the connection go): again, while time is left */
                if ((r == -ETIMEDOUT || r == -ECONNRESET || r == -EPIPE) &&
                    (timeout_ms < 0 || lib_remaining_ms(&end) > 0))
                        continue;
                return r;
        }
        return 0;
}

_public_ int ipcb_wait(const char *name, int timeout_ms) {
        return ipcb_wait_many(&name, 1, timeout_ms);
}

/* ---- access ---- */

/* Resolve USER (a name or a uid) to its uid, primary group and groups. */
static int resolve_user(const char *user, uid_t *uid, gid_t *gid, gid_t *groups, int *n_groups) {
        struct passwd pw, *res = NULL;
        char tmp[4096];
        char *end;
        unsigned long id;

        errno = 0;
        id = strtoul(user, &end, 10);
        if (*user && !*end && errno == 0 && id < UINT_MAX)
                getpwuid_r((uid_t)id, &pw, tmp, sizeof(tmp), &res);
        else
                getpwnam_r(user, &pw, tmp, sizeof(tmp), &res);
        if (!res) {
                if (*user && !*end && errno == 0 && id < UINT_MAX) {
                        /* a uid without a name: no groups but its own number */
                        *uid = (uid_t)id;
                        *gid = (gid_t)-1;
                        *n_groups = 0;
                        return 0;
                }
                lib_set_detail(-ESRCH, "no user named '%s'", user);
                return -ESRCH;
        }
        *uid = res->pw_uid;
        *gid = res->pw_gid;
        if (getgrouplist(res->pw_name, res->pw_gid, groups, n_groups) < 0)
                return -E2BIG;
        return 0;
}

_public_ int ipcb_access_check(const char *name, const char *user, ipcb_access *out) {
        _cleanup_free_ struct lib_call *c = NULL;
        gid_t groups[256];
        int n_groups = (int)(sizeof(groups) / sizeof(groups[0])), r;
        uid_t uid = 0;
        gid_t gid = 0;

        if (!name || !out || !*name || strlen(name) > IPCB_NAME_MAX || (user && !*user))
                return -EINVAL;
        if (user) {
                r = resolve_user(user, &uid, &gid, groups, &n_groups);
                if (r < 0)
                        return r;
        }
        c = malloc(sizeof(*c));
        if (!c)
                return -ENOMEM;
        wire_writer_init(&c->w, WIRE_REQ_ACCESS, 1);
        wire_put_string(&c->w, WIRE_ATTR_NAME, name);
        if (user) {
                wire_put_u32(&c->w, WIRE_ATTR_UID, uid);
                wire_put_u32(&c->w, WIRE_ATTR_GID, gid);
                for (int i = 0; i < n_groups && i < 48; i++)
                        wire_put_u32(&c->w, WIRE_ATTR_GROUPS, groups[i]);
        }
        r = lib_call(&c->w, &c->reply);
        if (r < 0)
                return r;
        memset(out, 0, sizeof(*out));
        snprintf(out->channel, sizeof(out->channel), "%s", name);
        out->uid = (uid_t)c->reply.attrs.v[WIRE_ATTR_UID].u;
        user_name(out->uid, out->user, sizeof(out->user));
        out->send = (c->reply.attrs.v[WIRE_ATTR_ACCESS].u & WIRE_ACCESS_SEND) != 0;
        out->recv = (c->reply.attrs.v[WIRE_ATTR_ACCESS].u & WIRE_ACCESS_RECV) != 0;
        lib_copy(out->send_rule, sizeof(out->send_rule), &c->reply.attrs.v[WIRE_ATTR_SEND_RULE]);
        lib_copy(out->recv_rule, sizeof(out->recv_rule), &c->reply.attrs.v[WIRE_ATTR_RECV_RULE]);
        return 0;
}
