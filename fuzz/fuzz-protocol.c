/*
 * fuzz-protocol.c — libFuzzer target for the wire decoder (common/protocol.c).
 *
 * Every input is handed to wire_decode() as one packet, and also to
 * wire_decode_nested() as a bare attribute area under every policy, so the
 * fuzzer reaches the attribute decoder without first having to find a valid
 * header. The iterator is run over whatever the input holds (it must stay in
 * bounds even on data it was not meant for).
 *
 * For a packet that decodes, the result is checked against what the protocol
 * promises (protocol.h) rather than against a second decoder:
 *   - the header is the packet's first bytes, its length the packet's size;
 *   - every attribute present is one its policy allows, of the policy's kind,
 *     and every required one is there;
 *   - a string lies inside the packet, is NUL-terminated within its length and
 *     holds no other NUL; integers have the width of their kind;
 *   - every nested CHANNEL entry (each occurrence, through wire_iter) decodes
 *     again with wire_decode_nested() and obeys the same rules;
 *   - wire_iter finds each attribute as often as the policy allows (once, or
 *     at least once when repeated) and its first occurrence is the decoded one;
 *   - re-encoding the packet in its own attribute order with wire_writer gives
 *     back the same bytes (the decoder accepts exactly one encoding); so does
 *     re-encoding it behind a run of padding attributes that pushes it to or
 *     past WIRE_PACKET_MAX, or the writer reports the overflow; and
 *     re-encoding the decoded values in canonical order decodes to the same
 *     values;
 *   - decoding is deterministic and does not depend on `why` being given.
 * On error: the code is one of the documented ones, `why` is set, and the
 * header was filled whenever the packet was long enough to hold one (the
 * daemon echoes its serial in the error reply).
 *
 * A violation executes __builtin_trap(), which libFuzzer (and the regression
 * runner) reports as a crash; memory errors are ASan's.
 *
 * Build: `make fuzz` (clang-14 -fsanitize=fuzzer,address,undefined), or
 * without libFuzzer through fuzz/run-regressions.c (`make check`).
 */
#include "build-config.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HDR sizeof(struct wire_header)
#define ATTR_HDR 4u
#define ALIGN4(n) (((n) + 3u) & ~(size_t)3u)

/* A named check, so a crash's stack says which invariant broke. */
#define check(cond)                                                                                                    \
        do {                                                                                                           \
                if (!(cond))                                                                                           \
                        __builtin_trap();                                                                              \
        } while (0)

static struct wire_writer writer; /* 32 KiB each: keep them off the stack */
static struct wire_writer canon;
static struct wire_writer full;

static bool kind_valid(enum wire_kind k) {
        return k == WIRE_KIND_U32 || k == WIRE_KIND_U64 || k == WIRE_KIND_I64 || k == WIRE_KIND_STRING ||
               k == WIRE_KIND_NESTED || k == WIRE_KIND_FLAG;
}

static bool inside(const void *p, size_t len, const uint8_t *lo, const uint8_t *hi) {
        const uint8_t *q = p;
        return q >= lo && q <= hi && len <= (size_t)(hi - q);
}

/*
 * Walk an attribute area that the decoder accepted, independently of it: every
 * TLV must lie inside, be zero-padded, and fill the area exactly. Returns the
 * number of attributes.
 */
static unsigned walk_area(const uint8_t *p, size_t size) {
        size_t off = 0;
        unsigned n = 0;

        while (off < size) {
                uint16_t type, len;

                check(size - off >= ATTR_HDR);
                memcpy(&type, p + off, 2);
                memcpy(&len, p + off + 2, 2);
                check(ALIGN4((size_t)len) <= size - off - ATTR_HDR);
                for (size_t i = len; i < ALIGN4((size_t)len); i++)
                        check(p[off + ATTR_HDR + i] == 0);
                off += ATTR_HDR + ALIGN4((size_t)len);
                n++;
        }
        check(off == size);
        check(n <= WIRE_ATTRS_MAX);
        return n;
}

static void check_attrs(const struct wire_attrs *a, const struct wire_policy_entry *policy, const uint8_t *lo,
                        const uint8_t *hi, int depth);

/* One decoded value against its policy entry; LO..HI is the area it came from. */
static void check_value(const struct wire_value *v, const struct wire_policy_entry *pe, const uint8_t *lo,
                        const uint8_t *hi, int depth) {
        check(v->kind == pe->kind);
        switch (v->kind) {
        case WIRE_KIND_U32:
                check(v->len == 4);
                check(v->u <= UINT32_MAX);
                break;
        case WIRE_KIND_U64:
        case WIRE_KIND_I64:
                check(v->len == 8);
                check((uint64_t)v->i == v->u);
                break;
        case WIRE_KIND_STRING:
                check(v->s != NULL);
                check(v->len >= 1 && v->len <= WIRE_STRING_MAX);
                check(inside(v->s, v->len, lo, hi));
                check(v->s[v->len - 1] == '\0');
                check(strlen(v->s) == v->len - 1);
                break;
        case WIRE_KIND_FLAG:
                check(v->len == 0);
                break;
        case WIRE_KIND_NESTED: {
                struct wire_attrs inner;
                const char *why = NULL;
                int r;

                check(depth + 1 < WIRE_NEST_DEPTH_MAX);
                check(v->data != NULL);
                check(inside(v->data, v->len, lo, hi));
                check(v->len % 4 == 0);
                walk_area(v->data, v->len);
                r = wire_decode_nested(v, wire_policy_channel, &inner, &why);
                check(r == 0);
                check_attrs(&inner, wire_policy_channel, v->data, v->data + v->len, depth + 1);
                break;
        }
        default:
                check(false);
        }
}

static void check_attrs(const struct wire_attrs *a, const struct wire_policy_entry *policy, const uint8_t *lo,
                        const uint8_t *hi, int depth) {
        struct wire_iter it;
        struct wire_value v;

        check(!a->v[WIRE_ATTR_UNSPEC].present);
        for (int t = 1; t < _WIRE_ATTR_MAX; t++) {
                const struct wire_value *d = &a->v[t];
                unsigned n = 0;

                if (policy[t].required)
                        check(d->present);
                if (!d->present)
                        continue;
                check(kind_valid(policy[t].kind));
                check_value(d, &policy[t], lo, hi, depth);

                /* The iterator sees the same attribute, first occurrence first. */
                it.p = lo;
                it.end = hi;
                while (wire_iter_next(&it, (uint16_t)t, &v)) {
                        check(v.present);
                        check(inside(v.data, v.len, lo, hi));
                        if (n == 0) {
                                check(v.len == d->len);
                                if (d->kind == WIRE_KIND_STRING)
                                        check(v.s == d->s);
                                else if (d->kind == WIRE_KIND_NESTED)
                                        check(v.data == d->data);
                                else if (d->kind != WIRE_KIND_FLAG)
                                        check(v.u == d->u);
                        }
                        if (n > 0) {
                                /* later occurrences of a repeated attribute obey the policy too */
                                struct wire_value w = v;
                                w.kind = policy[t].kind;
                                w.s = w.kind == WIRE_KIND_STRING ? (const char *)v.data : NULL;
                                check_value(&w, &policy[t], lo, hi, depth);
                        }
                        n++;
                }
                check(n >= 1);
                if (!policy[t].repeated)
                        check(n == 1);
        }
}

/* Canonical re-encoding: the decoded values, attribute types in ascending order. */
static void encode_values(struct wire_writer *w, const struct wire_attrs *a, const struct wire_policy_entry *policy,
                          const uint8_t *lo, const uint8_t *hi) {
        for (int t = 1; t < _WIRE_ATTR_MAX; t++) {
                const struct wire_value *d = &a->v[t];
                struct wire_iter it = { .p = lo, .end = hi };
                struct wire_value v;

                if (!d->present)
                        continue;
                while (wire_iter_next(&it, (uint16_t)t, &v)) {
                        switch (policy[t].kind) {
                        case WIRE_KIND_U32:
                                wire_put_u32(w, (uint16_t)t, (uint32_t)v.u);
                                break;
                        case WIRE_KIND_U64:
                                wire_put_u64(w, (uint16_t)t, v.u);
                                break;
                        case WIRE_KIND_I64:
                                wire_put_i64(w, (uint16_t)t, v.i);
                                break;
                        case WIRE_KIND_STRING:
                                wire_put_string(w, (uint16_t)t, v.s);
                                break;
                        case WIRE_KIND_FLAG:
                                wire_put_flag(w, (uint16_t)t);
                                break;
                        case WIRE_KIND_NESTED: {
                                struct wire_attrs inner;
                                check(wire_decode_nested(&v, wire_policy_channel, &inner, NULL) == 0);
                                wire_nest_begin(w, (uint16_t)t);
                                encode_values(w, &inner, wire_policy_channel, v.data, v.data + v.len);
                                wire_nest_end(w);
                                break;
                        }
                        default:
                                check(false);
                        }
                        if (!policy[t].repeated)
                                break;
                }
        }
}

/* Byte-exact re-encoding: the attributes in the order the packet has them. */
static void encode_in_order(struct wire_writer *w, const uint8_t *p, size_t size,
                            const struct wire_policy_entry *policy) {
        size_t off = 0;

        while (off < size) {
                uint16_t type, len;
                const uint8_t *d;

                memcpy(&type, p + off, 2);
                memcpy(&len, p + off + 2, 2);
                d = p + off + ATTR_HDR;
                check(type > 0 && type < _WIRE_ATTR_MAX);
                switch (policy[type].kind) {
                case WIRE_KIND_U32: {
                        uint32_t u;
                        memcpy(&u, d, 4);
                        wire_put_u32(w, type, u);
                        break;
                }
                case WIRE_KIND_U64: {
                        uint64_t u;
                        memcpy(&u, d, 8);
                        wire_put_u64(w, type, u);
                        break;
                }
                case WIRE_KIND_I64: {
                        int64_t i;
                        memcpy(&i, d, 8);
                        wire_put_i64(w, type, i);
                        break;
                }
                case WIRE_KIND_STRING:
                        wire_put_string(w, type, (const char *)d);
                        break;
                case WIRE_KIND_FLAG:
                        wire_put_flag(w, type);
                        break;
                case WIRE_KIND_NESTED:
                        wire_nest_begin(w, type);
                        encode_in_order(w, d, len, wire_policy_channel);
                        wire_nest_end(w);
                        break;
                default:
                        check(false);
                }
                off += ATTR_HDR + ALIGN4((size_t)len);
        }
}

static bool values_equal(const struct wire_value *a, const struct wire_value *b) {
        if (a->present != b->present)
                return false;
        if (!a->present)
                return true;
        if (a->kind != b->kind || a->len != b->len)
                return false;
        switch (a->kind) {
        case WIRE_KIND_U32:
        case WIRE_KIND_U64:
        case WIRE_KIND_I64:
                return a->u == b->u && a->i == b->i;
        case WIRE_KIND_STRING:
                return strcmp(a->s, b->s) == 0;
        case WIRE_KIND_FLAG:
                return true;
        case WIRE_KIND_NESTED: {
                /* canonical order may differ: compare what the entries decode to */
                struct wire_attrs x, y;
                if (wire_decode_nested(a, wire_policy_channel, &x, NULL) != 0 ||
                    wire_decode_nested(b, wire_policy_channel, &y, NULL) != 0)
                        return false;
                for (int t = 1; t < _WIRE_ATTR_MAX; t++)
                        if (!values_equal(&x.v[t], &y.v[t]))
                                return false;
                return true;
        }
        default:
                return false;
        }
}

/* Same values, and the same sequence of occurrences for repeated attributes. */
static void check_same_attrs(const struct wire_attrs *a, const uint8_t *alo, const uint8_t *ahi,
                             const struct wire_attrs *b, const uint8_t *blo, const uint8_t *bhi,
                             const struct wire_policy_entry *policy) {
        for (int t = 1; t < _WIRE_ATTR_MAX; t++) {
                check(values_equal(&a->v[t], &b->v[t]));
                if (a->v[t].present && policy[t].repeated) {
                        struct wire_iter ia = { .p = alo, .end = ahi }, ib = { .p = blo, .end = bhi };
                        struct wire_value va, vb;
                        for (;;) {
                                bool ha = wire_iter_next(&ia, (uint16_t)t, &va);
                                bool hb = wire_iter_next(&ib, (uint16_t)t, &vb);
                                check(ha == hb);
                                if (!ha)
                                        break;
                                va.kind = vb.kind = policy[t].kind;
                                check(values_equal(&va, &vb));
                        }
                }
        }
}

static bool attrs_identical(const struct wire_attrs *a, const struct wire_attrs *b) {
        for (int t = 0; t < _WIRE_ATTR_MAX; t++) {
                const struct wire_value *x = &a->v[t], *y = &b->v[t];
                if (x->present != y->present || x->kind != y->kind || x->u != y->u || x->i != y->i || x->s != y->s ||
                    x->data != y->data || x->len != y->len)
                        return false;
        }
        return true;
}

static bool code_documented(int r) {
        return r == 0 || r == -EBADMSG || r == -EPROTONOSUPPORT || r == -EOPNOTSUPP || r == -EINVAL;
}

/* The input as a bare attribute area (a nested payload), under every policy there is. */
static void fuzz_area(const uint8_t *data, size_t size) {
        static const uint16_t types[] = { WIRE_REQ_OPEN,   WIRE_REQ_INFO,   WIRE_REQ_LIST, WIRE_REQ_PURGE,
                                          WIRE_REQ_RELOAD, WIRE_REQ_STATUS, WIRE_REPLY };
        struct wire_value nested = { .present = true, .kind = WIRE_KIND_NESTED, .data = data, .len = size };
        struct wire_attrs attrs;
        const char *why;
        int r;

        for (size_t i = 0; i <= sizeof(types) / sizeof(types[0]); i++) {
                const struct wire_policy_entry *policy =
                        i < sizeof(types) / sizeof(types[0]) ? wire_policy_for(types[i]) : wire_policy_channel;

                check(policy != NULL);
                why = NULL;
                r = wire_decode_nested(&nested, policy, &attrs, &why);
                check(r == 0 || r == -EBADMSG || r == -EINVAL);
                if (r < 0) {
                        check(why != NULL && *why != '\0');
                        continue;
                }
                walk_area(data, size);
                /* already one level deep: nothing nested may be accepted */
                for (int t = 1; t < _WIRE_ATTR_MAX; t++)
                        check(!attrs.v[t].present || attrs.v[t].kind != WIRE_KIND_NESTED);
                check_attrs(&attrs, policy, data, data + size, 1);
        }
}

/* The iterator on anything at all: it must not leave the buffer. */
static void fuzz_iter(const uint8_t *data, size_t size) {
        struct wire_iter it;
        struct wire_value v;
        unsigned n = 0;

        if (size < HDR + ATTR_HDR)
                return;
        /* look for the type of the first attribute, so something is found */
        uint16_t first;
        memcpy(&first, data + HDR, 2);
        wire_iter_init(&it, data, size);
        while (wire_iter_next(&it, first, &v)) {
                check(v.present && inside(v.data, v.len, data + HDR, data + size));
                if (++n > size)
                        check(false); /* no progress */
        }
        check(!wire_iter_next(&it, first, &v));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct wire_header hdr, hdr2;
        struct wire_attrs attrs, attrs2;
        const struct wire_policy_entry *policy;
        const char *why = NULL;
        int r, r2, n;

        memset(&hdr, 0xA5, sizeof(hdr));
        r = wire_decode(data, size, &hdr, &attrs, &why);
        check(code_documented(r));

        /* deterministic, and the same without `why` */
        memset(&hdr2, 0xA5, sizeof(hdr2));
        r2 = wire_decode(data, size, &hdr2, &attrs2, NULL);
        check(r2 == r);
        check(memcmp(&hdr, &hdr2, sizeof(hdr)) == 0);

        fuzz_area(data, size);
        fuzz_iter(data, size);

        if (r < 0) {
                check(why != NULL && *why != '\0');
                /* the daemon answers with the request's serial: the header must be filled */
                if (size >= HDR && size <= WIRE_PACKET_MAX)
                        check(memcmp(&hdr, data, HDR) == 0);
                if (r == -EPROTONOSUPPORT)
                        check(hdr.magic == WIRE_MAGIC && hdr.version != WIRE_VERSION);
                if (r == -EOPNOTSUPP)
                        check(wire_policy_for(hdr.type) == NULL);
                return 0;
        }

        /* ---- a valid packet ---- */
        check(attrs_identical(&attrs, &attrs2));
        check(size >= HDR && size <= WIRE_PACKET_MAX);
        check(memcmp(&hdr, data, HDR) == 0);
        check(hdr.magic == WIRE_MAGIC && hdr.version == WIRE_VERSION);
        check(hdr.length == size - HDR);
        check(hdr.length % 4 == 0);
        policy = wire_policy_for(hdr.type);
        check(policy != NULL);
        check(wire_type_to_string(hdr.type) != NULL);

        walk_area(data + HDR, size - HDR);
        check_attrs(&attrs, policy, data + HDR, data + size, 0);

        /* every occurrence of every nested attribute, through the public iterator */
        for (int t = 1; t < _WIRE_ATTR_MAX; t++) {
                struct wire_iter it;
                struct wire_value v;

                if (policy[t].kind != WIRE_KIND_NESTED)
                        continue;
                wire_iter_init(&it, data, size);
                while (wire_iter_next(&it, (uint16_t)t, &v)) {
                        struct wire_iter inner_it;
                        struct wire_value iv;
                        struct wire_attrs inner;

                        check(wire_decode_nested(&v, wire_policy_channel, &inner, &why) == 0);
                        check_attrs(&inner, wire_policy_channel, v.data, v.data + v.len, 1);
                        wire_iter_init_nested(&inner_it, &v);
                        check(inner_it.p == v.data && inner_it.end == v.data + v.len);
                        for (int u = 1; u < _WIRE_ATTR_MAX; u++) {
                                struct wire_iter i2 = inner_it;
                                unsigned count = 0;
                                while (wire_iter_next(&i2, (uint16_t)u, &iv))
                                        count++;
                                check(count == (inner.v[u].present ? 1u : 0u));
                        }
                }
        }

        /* byte-exact: the decoder accepts one encoding only, the writer's */
        wire_writer_init(&writer, hdr.type, hdr.serial);
        encode_in_order(&writer, data + HDR, size - HDR, policy);
        n = wire_writer_finish(&writer);
        check(n >= 0 && (size_t)n == size);
        check(memcmp(writer.buf, data, size) == 0);
        check(wire_writer_room(&writer) == WIRE_PACKET_MAX - size);

        /*
         * The writer at its limit: the same attributes after a run of flags
         * whose length the serial chooses, so the packet ends anywhere around
         * WIRE_PACKET_MAX. Either everything fits and the tail is the input's,
         * or the writer says it overflowed; it never writes past its buffer.
         */
        {
                size_t flags = (hdr.serial % (WIRE_PACKET_MAX / 4 + 64)), expect;

                wire_writer_init(&full, hdr.type, hdr.serial);
                for (size_t i = 0; i < flags; i++)
                        wire_put_flag(&full, WIRE_ATTR_ALL);
                encode_in_order(&full, data + HDR, size - HDR, policy);
                n = wire_writer_finish(&full);
                expect = size + 4 * flags;
                check(full.depth == 0);
                if (expect <= WIRE_PACKET_MAX) {
                        check(n >= 0 && (size_t)n == expect);
                        check(memcmp(full.buf + n - (size - HDR), data + HDR, size - HDR) == 0);
                        check(wire_writer_room(&full) == WIRE_PACKET_MAX - expect);
                } else {
                        check(n == -EMSGSIZE);
                        check(full.overflow && full.len <= WIRE_PACKET_MAX);
                        check(wire_writer_room(&full) == 0);
                }
        }

        /* canonical order: decodes to the same values */
        wire_writer_init(&canon, hdr.type, hdr.serial);
        encode_values(&canon, &attrs, policy, data + HDR, data + size);
        n = wire_writer_finish(&canon);
        check(n >= 0 && (size_t)n == size);
        memset(&hdr2, 0, sizeof(hdr2));
        r2 = wire_decode(canon.buf, (size_t)n, &hdr2, &attrs2, &why);
        check(r2 == 0);
        check(memcmp(&hdr, &hdr2, sizeof(hdr)) == 0);
        check_same_attrs(&attrs, data + HDR, data + size, &attrs2, canon.buf + HDR, canon.buf + n, policy);
        return 0;
}
