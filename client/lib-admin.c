/*
 * lib-admin.c — libipcbroker's inspection and administration calls: stat,
 * list, purge, reload, status. Each is one request to the daemon (list and
 * purge --all continue with a cursor when the answer fills a packet).
 */
#include "build-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib-internal.h"
#include "util.h"

static void info_from_attrs(ipcb_info *info, const struct wire_attrs *a) {
        memset(info, 0, sizeof(*info));
        lib_copy(info->name, sizeof(info->name), &a->v[WIRE_ATTR_NAME]);
        info->type = a->v[WIRE_ATTR_TYPE].u == WIRE_CHANNEL_FIFO ? IPCB_FIFO : IPCB_MQUEUE;
        info->state = (int)a->v[WIRE_ATTR_STATE].u;
        info->owner = (uid_t)a->v[WIRE_ATTR_OWNER].u;
        info->group = (gid_t)a->v[WIRE_ATTR_GROUP].u;
        info->mode = (unsigned)a->v[WIRE_ATTR_MODE].u;
        info->max_messages = (long)a->v[WIRE_ATTR_MAX_MESSAGES].i;
        info->message_size = (long)a->v[WIRE_ATTR_MESSAGE_SIZE].i;
        info->messages = a->v[WIRE_ATTR_MESSAGES].present ? (long)a->v[WIRE_ATTR_MESSAGES].i : -1;
        info->bytes = a->v[WIRE_ATTR_BYTES].present ? a->v[WIRE_ATTR_BYTES].i : -1;
        info->capacity = a->v[WIRE_ATTR_CAPACITY].present ? (long)a->v[WIRE_ATTR_CAPACITY].i : -1;
        info->mq_flags = (long)a->v[WIRE_ATTR_MQ_FLAGS].i;
        lib_copy(info->kernel_name, sizeof(info->kernel_name), &a->v[WIRE_ATTR_KERNEL_NAME]);
        lib_copy(info->on_stop, sizeof(info->on_stop), &a->v[WIRE_ATTR_ON_STOP]);
        lib_copy(info->send, sizeof(info->send), &a->v[WIRE_ATTR_SEND_LIST]);
        lib_copy(info->recv, sizeof(info->recv), &a->v[WIRE_ATTR_RECV_LIST]);
        lib_copy(info->problem, sizeof(info->problem), &a->v[WIRE_ATTR_PROBLEM]);
        info->opens = a->v[WIRE_ATTR_OPENS].u;
        info->denials = a->v[WIRE_ATTR_DENIALS].u;
        info->framing = a->v[WIRE_ATTR_FRAMING].u == WIRE_FRAMING_BATCH ? IPCB_FRAMING_BATCH : IPCB_FRAMING_PACKET;
}

static struct lib_call *call_new(void) {
        return malloc(sizeof(struct lib_call));
}

_public_ int ipcb_stat(const char *name, ipcb_info *info) {
        _cleanup_free_ struct lib_call *c = NULL;
        int r;

        if (!name || !info || !*name || strlen(name) > IPCB_NAME_MAX)
                return -EINVAL;
        c = call_new();
        if (!c)
                return -ENOMEM;
        wire_writer_init(&c->w, WIRE_REQ_INFO, 1);
        wire_put_string(&c->w, WIRE_ATTR_NAME, name);
        r = lib_call(&c->w, &c->reply);
        if (r < 0)
                return r;
        info_from_attrs(info, &c->reply.attrs);
        return 0;
}

struct list_call {
        struct lib_paged paged;
        ipcb_info *out;
        size_t count, cap;
};

static int list_take(struct lib_paged *p, const struct wire_value *entry) {
        struct list_call *l = container_of(p, struct list_call, paged);
        struct wire_attrs a;

        if (wire_decode_nested(entry, wire_policy_channel, &a, NULL) < 0)
                return -EPROTO;
        if (lib_grow((void **)&l->out, &l->cap, l->count, sizeof(*l->out), 64) < 0)
                return -ENOMEM;
        info_from_attrs(&l->out[l->count++], &a);
        return 0;
}

_public_ int ipcb_list(ipcb_info **infos, size_t *n) {
        struct list_call l = { .paged = { .type = WIRE_REQ_LIST, .fill = lib_page_by_cursor, .take = list_take } };

        if (!infos || !n)
                return -EINVAL;
        return lib_paged_hand_out(&l.paged, (void **)&l.out, &l.count, (void **)infos, n);
}

struct purge_call {
        struct lib_paged paged;
        const char *const *names; /* NULL: all, by cursor */
        size_t n, next, batch_start;
        ipcb_purge_result *out;
        size_t count, cap;
};

static enum lib_page_end purge_fill(struct lib_paged *p, struct wire_writer *w, const char *cursor) {
        struct purge_call *pc = container_of(p, struct purge_call, paged);

        pc->batch_start = pc->next;
        if (!pc->names) {
                wire_put_flag(w, WIRE_ATTR_ALL);
                if (cursor)
                        wire_put_string(w, WIRE_ATTR_CURSOR, cursor);
                return LIB_PAGE_BY_CURSOR;
        }
        /* a batch of names per request */
        for (size_t batch = 0; pc->next < pc->n && batch < WIRE_PURGE_NAMES_MAX; batch++)
                wire_put_string(w, WIRE_ATTR_NAME, pc->names[pc->next++]);
        return pc->next >= pc->n ? LIB_PAGE_LAST : LIB_PAGE_MORE;
}

/* Room for one more result, zeroed; NULL when out of memory. */
static ipcb_purge_result *purge_result(struct purge_call *pc) {
        ipcb_purge_result *r;

        if (lib_grow((void **)&pc->out, &pc->cap, pc->count, sizeof(*pc->out), 16) < 0)
                return NULL;
        r = &pc->out[pc->count++];
        memset(r, 0, sizeof(*r));
        return r;
}

static int purge_take(struct lib_paged *p, const struct wire_value *entry) {
        struct purge_call *pc = container_of(p, struct purge_call, paged);
        ipcb_purge_result *res;
        struct wire_attrs a;

        if (wire_decode_nested(entry, wire_policy_channel, &a, NULL) < 0)
                return -EPROTO;
        res = purge_result(pc);
        if (!res)
                return -ENOMEM;
        lib_copy(res->name, sizeof(res->name), &a.v[WIRE_ATTR_NAME]);
        res->error = -(int)a.v[WIRE_ATTR_ERROR].u;
        lib_copy(res->message, sizeof(res->message), &a.v[WIRE_ATTR_MESSAGE]);
        res->messages = a.v[WIRE_ATTR_PURGED_MESSAGES].u;
        res->bytes = a.v[WIRE_ATTR_PURGED_BYTES].u;
        return 0;
}

_public_ int ipcb_purge(const char *const *names, size_t n, ipcb_purge_result **results, size_t *n_results) {
        struct purge_call pc = {
                .paged = { .type = WIRE_REQ_PURGE, .fill = purge_fill, .take = purge_take },
                .names = names,
                .n = n,
        };
        int r;

        if (!results || !n_results || (names && n == 0))
                return -EINVAL;
        for (size_t i = 0; names && i < n; i++)
                if (!names[i] || !*names[i] || strlen(names[i]) > IPCB_NAME_MAX)
                        return -EINVAL;
        r = lib_paged_call(&pc.paged);
        if (r < 0 && !(names && pc.count > 0 && r != -ENOMEM)) {
                free(pc.out);
                return r;
        }
        /* earlier batches were carried out: report them, and this failure for the rest */
        for (size_t i = pc.batch_start; r < 0 && i < n; i++) {
                ipcb_purge_result *res = purge_result(&pc);
                if (!res)
                        break;
                snprintf(res->name, sizeof(res->name), "%s", names[i]);
                res->error = r;
                snprintf(res->message, sizeof(res->message), "%s", ipcb_strerror(r));
        }
        *results = pc.out;
        *n_results = pc.count;
        return 0;
}

_public_ int ipcb_reload(char **message) {
        _cleanup_free_ struct lib_call *c = call_new();
        int r;

        if (!c)
                return -ENOMEM;
        if (message)
                *message = NULL;
        wire_writer_init(&c->w, WIRE_REQ_RELOAD, 1);
        r = lib_call(&c->w, &c->reply);
        if (r < 0)
                return r;
        if (message && c->reply.attrs.v[WIRE_ATTR_MESSAGE].present) {
                *message = strdup(c->reply.attrs.v[WIRE_ATTR_MESSAGE].s);
                if (!*message)
                        return -ENOMEM;
        }
        return 0;
}

_public_ int ipcb_status_get(ipcb_status *st) {
        _cleanup_free_ struct lib_call *c = call_new();
        const struct wire_attrs *a;
        int r;

        if (!st)
                return -EINVAL;
        if (!c)
                return -ENOMEM;
        wire_writer_init(&c->w, WIRE_REQ_STATUS, 1);
        r = lib_call(&c->w, &c->reply);
        if (r < 0)
                return r;
        a = &c->reply.attrs;
        memset(st, 0, sizeof(*st));
        lib_copy(st->version, sizeof(st->version), &a->v[WIRE_ATTR_VERSION]);
        st->pid = (pid_t)a->v[WIRE_ATTR_PID].u;
        st->uptime = a->v[WIRE_ATTR_UPTIME].u;
        lib_copy(st->config_file, sizeof(st->config_file), &a->v[WIRE_ATTR_CONFIG_FILE]);
        lib_copy(st->socket, sizeof(st->socket), &a->v[WIRE_ATTR_SOCKET]);
        st->channels = a->v[WIRE_ATTR_CHANNELS].u;
        st->channels_ready = a->v[WIRE_ATTR_CHANNELS_READY].u;
        st->clients = a->v[WIRE_ATTR_CLIENTS].u;
        st->connections = a->v[WIRE_ATTR_CONNECTIONS].u;
        st->requests = a->v[WIRE_ATTR_REQUESTS].u;
        st->opens = a->v[WIRE_ATTR_OPENS_TOTAL].u;
        st->denied = a->v[WIRE_ATTR_DENIED].u;
        st->reloads = a->v[WIRE_ATTR_RELOADS].u;
        return 0;
}
