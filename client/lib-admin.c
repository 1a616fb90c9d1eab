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

struct call {
        struct wire_writer w;
        struct lib_reply reply;
};

static struct call *call_new(void) {
        return malloc(sizeof(struct call));
}

_public_ int ipcb_stat(const char *name, ipcb_info *info) {
        _cleanup_free_ struct call *c = NULL;
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

/* Append *v's CHANNEL entries to an array. */
static int append(ipcb_info **infos, size_t *n, size_t *cap, const struct wire_value *nested) {
        struct wire_attrs a;

        if (wire_decode_nested(nested, wire_policy_channel, &a, NULL) < 0)
                return -EPROTO;
        if (*n == *cap) {
                size_t nc = *cap ? *cap * 2 : 64;
                ipcb_info *ni = realloc(*infos, nc * sizeof(*ni));
                if (!ni)
                        return -ENOMEM;
                *infos = ni;
                *cap = nc;
        }
        info_from_attrs(&(*infos)[(*n)++], &a);
        return 0;
}

/* Take the cursor of a paged reply: 1 when another page follows, 0 after the last, -ENOMEM. */
static int next_page(const struct lib_reply *reply, char **cursor) {
        free(*cursor);
        *cursor = NULL;
        if (!reply->attrs.v[WIRE_ATTR_CURSOR].present)
                return 0;
        *cursor = strdup(reply->attrs.v[WIRE_ATTR_CURSOR].s);
        return *cursor ? 1 : -ENOMEM;
}

_public_ int ipcb_list(ipcb_info **infos, size_t *n) {
        _cleanup_free_ struct call *c = NULL;
        _cleanup_free_ char *cursor = NULL;
        ipcb_info *out = NULL;
        size_t count = 0, cap = 0;
        int fd, r;

        if (!infos || !n)
                return -EINVAL;
        c = call_new();
        if (!c)
                return -ENOMEM;
        fd = lib_connect();
        if (fd < 0)
                return fd;
        for (int page = 0; page < 1 << 20; page++) {
                struct wire_iter it;
                struct wire_value v;

                wire_writer_init(&c->w, WIRE_REQ_LIST, (uint32_t)page + 1);
                if (cursor)
                        wire_put_string(&c->w, WIRE_ATTR_CURSOR, cursor);
                r = lib_transact(fd, &c->w, &c->reply);
                if (r < 0)
                        goto fail;
                wire_iter_init(&it, c->reply.buf, c->reply.size);
                while (wire_iter_next(&it, WIRE_ATTR_CHANNEL, &v)) {
                        r = append(&out, &count, &cap, &v);
                        if (r < 0)
                                goto fail;
                }
                r = next_page(&c->reply, &cursor);
                if (r < 0)
                        goto fail;
                if (r == 0)
                        break;
        }
        close(fd);
        *infos = out;
        *n = count;
        return (int)count;
fail:
        close(fd);
        free(out);
        return r;
}

static int purge_append(ipcb_purge_result **res, size_t *n, size_t *cap, const struct wire_value *nested) {
        struct wire_attrs a;
        ipcb_purge_result *p;

        if (wire_decode_nested(nested, wire_policy_channel, &a, NULL) < 0)
                return -EPROTO;
        if (*n == *cap) {
                size_t nc = *cap ? *cap * 2 : 16;
                ipcb_purge_result *nr = realloc(*res, nc * sizeof(*nr));
                if (!nr)
                        return -ENOMEM;
                *res = nr;
                *cap = nc;
        }
        p = &(*res)[(*n)++];
        memset(p, 0, sizeof(*p));
        lib_copy(p->name, sizeof(p->name), &a.v[WIRE_ATTR_NAME]);
        p->error = -(int)a.v[WIRE_ATTR_ERROR].u;
        lib_copy(p->message, sizeof(p->message), &a.v[WIRE_ATTR_MESSAGE]);
        p->messages = a.v[WIRE_ATTR_PURGED_MESSAGES].u;
        p->bytes = a.v[WIRE_ATTR_PURGED_BYTES].u;
        return 0;
}

_public_ int ipcb_purge(const char *const *names, size_t n, ipcb_purge_result **results, size_t *n_results) {
        _cleanup_free_ struct call *c = NULL;
        _cleanup_free_ char *cursor = NULL;
        ipcb_purge_result *out = NULL;
        size_t count = 0, cap = 0, next = 0, batch_start = 0;
        int fd, r = 0;

        if (!results || !n_results || (names && n == 0))
                return -EINVAL;
        for (size_t i = 0; names && i < n; i++)
                if (!names[i] || !*names[i] || strlen(names[i]) > IPCB_NAME_MAX)
                        return -EINVAL;
        c = call_new();
        if (!c)
                return -ENOMEM;
        fd = lib_connect();
        if (fd < 0)
                return fd;
        for (int page = 0; page < 1 << 20; page++) {
                struct wire_iter it;
                struct wire_value v;

                batch_start = next;
                wire_writer_init(&c->w, WIRE_REQ_PURGE, (uint32_t)page + 1);
                if (names) {
                        /* a batch of names per request */
                        size_t batch = 0;
                        while (next < n && batch < WIRE_PURGE_NAMES_MAX) {
                                wire_put_string(&c->w, WIRE_ATTR_NAME, names[next++]);
                                batch++;
                        }
                } else {
                        wire_put_flag(&c->w, WIRE_ATTR_ALL);
                        if (cursor)
                                wire_put_string(&c->w, WIRE_ATTR_CURSOR, cursor);
                }
                r = lib_transact(fd, &c->w, &c->reply);
                if (r < 0)
                        goto fail;
                wire_iter_init(&it, c->reply.buf, c->reply.size);
                while (wire_iter_next(&it, WIRE_ATTR_CHANNEL, &v)) {
                        r = purge_append(&out, &count, &cap, &v);
                        if (r < 0)
                                goto fail;
                }
                if (names) {
                        if (next >= n)
                                break;
                        continue;
                }
                r = next_page(&c->reply, &cursor);
                if (r < 0)
                        goto fail;
                if (r == 0)
                        break;
        }
        close(fd);
        *results = out;
        *n_results = count;
        return 0;
fail:
        close(fd);
        if (names && count > 0 && r != -ENOMEM) {
                /* earlier batches were carried out: report them, and this failure for the rest */
                for (size_t i = batch_start; i < n; i++) {
                        ipcb_purge_result *p;
                        if (count == cap) {
                                ipcb_purge_result *nr = realloc(out, (cap + n) * sizeof(*nr));
                                if (!nr)
                                        break;
                                out = nr;
                                cap += n;
                        }
                        p = &out[count++];
                        memset(p, 0, sizeof(*p));
                        snprintf(p->name, sizeof(p->name), "%s", names[i]);
                        p->error = r;
                        snprintf(p->message, sizeof(p->message), "%s", ipcb_strerror(r));
                }
                *results = out;
                *n_results = count;
                return 0;
        }
        free(out);
        return r;
}

_public_ int ipcb_reload(char **message) {
        _cleanup_free_ struct call *c = call_new();
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
        _cleanup_free_ struct call *c = call_new();
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
