/*
 * lib-paged.c — the calls answered in pages (list, purge, metrics, holders):
 * one connection, a request per page, entries taken one by one.
 */
#include "build-config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib-internal.h"
#include "util.h"

int lib_grow(void **arr, size_t *cap, size_t n, size_t size, size_t first) {
        size_t nc;
        void *na;

        if (n < *cap)
                return 0;
        nc = *cap ? *cap * 2 : first;
        na = realloc(*arr, nc * size);
        if (!na)
                return -ENOMEM;
        *arr = na;
        *cap = nc;
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

int lib_paged_call(struct lib_paged *p) {
        _cleanup_free_ struct lib_call *c = malloc(sizeof(*c));
        _cleanup_free_ char *cursor = NULL;
        int fd, r = 0;

        if (!c)
                return -ENOMEM;
        fd = lib_connect();
        if (fd < 0)
                return fd;
        for (int page = 0; page < 1 << 20; page++) {
                struct wire_iter it;
                struct wire_value v;
                enum lib_page_end end;

                wire_writer_init(&c->w, p->type, (uint32_t)page + 1);
                end = p->fill(p, &c->w, cursor);
                r = lib_transact(fd, &c->w, &c->reply);
                if (r < 0)
                        break;
                if (p->reply)
                        r = p->reply(p, &c->reply);
                wire_iter_init(&it, c->reply.buf, c->reply.size);
                while (r >= 0 && wire_iter_next(&it, p->entry ? p->entry : WIRE_ATTR_CHANNEL, &v))
                        r = p->take(p, &v);
                if (r < 0 || end == LIB_PAGE_LAST)
                        break;
                if (end == LIB_PAGE_MORE)
                        continue;
                r = next_page(&c->reply, &cursor);
                if (r <= 0)
                        break;
        }
        close(fd);
        return r < 0 ? r : 0;
}

int lib_paged_hand_out(struct lib_paged *p, void **arr, const size_t *count, void **out, size_t *n) {
        int r = lib_paged_call(p);

        if (r < 0) {
                free(*arr);
                *arr = NULL;
                return r;
        }
        *out = *arr;
        *n = *count;
        return (int)*count;
}

enum lib_page_end lib_page_by_cursor(struct lib_paged *p, struct wire_writer *w, const char *cursor) {
        if (cursor)
                wire_put_string(w, WIRE_ATTR_CURSOR, cursor);
        return LIB_PAGE_BY_CURSOR;
}
