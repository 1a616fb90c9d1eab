/*
 * test-protocol.c — the wire protocol shared by libipcbroker and ipcbrokerd:
 * encode/decode round trips of every message type, rejection of every kind
 * of malformed input with the documented error, writer overflow, and a
 * deterministic mutation loop (run under ASan in CI) that feeds thousands of
 * damaged packets to the decoder, each in a heap buffer of exactly its size
 * so that any read past the end is caught.
 */
#include "build-config.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"
#include "tap.h"

#define HDR_SIZE sizeof(struct wire_header)
#define ALIGN4(n) (((n) + 3u) & ~(size_t)3u)

/* ---- helpers ------------------------------------------------------------------ */

static struct wire_writer W; /* 32 KiB: keep it off the stack */

/*
 * Decode a packet from a heap copy of exactly its size (ASan sees any read
 * past the end). The decoded values point into the copy, which lives until
 * the next call.
 */
static uint8_t *last_copy;

static int decode_copy(const void *packet, size_t size, struct wire_header *hdr, struct wire_attrs *attrs,
                       const char **why) {
        free(last_copy);
        last_copy = malloc(size ? size : 1);
        if (!last_copy)
                BAIL_OUT("out of memory");
        memcpy(last_copy, packet, size);
        *why = NULL;
        return wire_decode(last_copy, size, hdr, attrs, why);
}

/* A raw packet built by hand: header fields and attribute bytes as given. */
struct raw {
        uint8_t buf[WIRE_PACKET_MAX + 64];
        size_t len;
};

static void raw_init(struct raw *p, uint32_t magic, uint16_t version, uint16_t type) {
        struct wire_header h = { .magic = magic, .version = version, .type = type, .serial = 7, .length = 0 };

        memset(p->buf, 0, sizeof(p->buf));
        memcpy(p->buf, &h, sizeof(h));
        p->len = sizeof(h);
}

/* One attribute: header with length LEN, then DATALEN bytes of DATA, then zero padding to 4. */
static void raw_attr_len(struct raw *p, uint16_t type, uint16_t len, const void *data, size_t datalen) {
        memcpy(p->buf + p->len, &type, 2);
        memcpy(p->buf + p->len + 2, &len, 2);
        p->len += 4;
        if (datalen)
                memcpy(p->buf + p->len, data, datalen);
        p->len += ALIGN4(datalen);
}

static void raw_attr(struct raw *p, uint16_t type, const void *data, size_t len) {
        raw_attr_len(p, type, (uint16_t)len, data, len);
}

static void raw_u32(struct raw *p, uint16_t type, uint32_t v) {
        raw_attr(p, type, &v, sizeof(v));
}

static void raw_u64(struct raw *p, uint16_t type, uint64_t v) {
        raw_attr(p, type, &v, sizeof(v));
}

static void raw_str(struct raw *p, uint16_t type, const char *s) {
        raw_attr(p, type, s, strlen(s) + 1);
}

/* Set the header's length field to match the packet (as a correct sender would). */
static void raw_fix_length(struct raw *p) {
        uint32_t l = (uint32_t)(p->len - HDR_SIZE);

        memcpy(p->buf + offsetof(struct wire_header, length), &l, sizeof(l));
}

static int raw_decode(struct raw *p, const char **why) {
        struct wire_header h;
        struct wire_attrs *a = malloc(sizeof(*a));
        int r;

        if (!a)
                BAIL_OUT("out of memory");
        r = decode_copy(p->buf, p->len, &h, a, why);
        free(a);
        return r;
}

/* Expect RAW (length fixed up) to be rejected with ERR; also checks the explanation exists. */
#define expect_reject(p, err, desc)                                                                                    \
        do {                                                                                                           \
                const char *why_;                                                                                      \
                int r_;                                                                                                \
                raw_fix_length(p);                                                                                     \
                r_ = raw_decode(p, &why_);                                                                             \
                is_int(r_, err, "%s: rejected with " #err, desc);                                                      \
                if (r_ < 0)                                                                                            \
                        ok(why_ &&*why_, "%s: explained (%s)", desc, why_ ? why_ : "(null)");                          \
                else                                                                                                   \
                        fail("%s: explained", desc);                                                                   \
        } while (0)

static struct wire_attrs A;

/* ---- round trips -------------------------------------------------------------------- */

static void test_roundtrip_open(void) {
        struct wire_header h;
        const char *why;
        int n, r;

        wire_writer_init(&W, WIRE_REQ_OPEN, 0xdeadbeef);
        wire_put_string(&W, WIRE_ATTR_NAME, "sensors.temp");
        wire_put_u32(&W, WIRE_ATTR_ACCESS, WIRE_ACCESS_SEND | WIRE_ACCESS_RECV);
        n = wire_writer_finish(&W);
        /* header + NAME (4 + 16) + ACCESS (4 + 4) */
        is_int(n, (int)HDR_SIZE + 20 + 8, "open: packet size is header plus padded attributes");
        r = decode_copy(W.buf, (size_t)n, &h, &A, &why);
        is_int(r, 0, "open: decodes");
        is_int(h.magic, WIRE_MAGIC, "open: magic");
        is_int(h.version, WIRE_VERSION, "open: version");
        is_int(h.type, WIRE_REQ_OPEN, "open: type");
        is_int(h.serial, 0xdeadbeef, "open: serial");
        is_int(h.length, n - (int)HDR_SIZE, "open: length field");
        ok(A.v[WIRE_ATTR_NAME].present && A.v[WIRE_ATTR_NAME].kind == WIRE_KIND_STRING, "open: NAME is a string");
        is_str(A.v[WIRE_ATTR_NAME].s, "sensors.temp", "open: NAME value");
        is_int(A.v[WIRE_ATTR_NAME].len, 13, "open: NAME length includes the NUL");
        is_int(A.v[WIRE_ATTR_ACCESS].u, 3, "open: ACCESS value");
        ok(!A.v[WIRE_ATTR_CURSOR].present && !A.v[WIRE_ATTR_ERROR].present, "open: nothing else present");
        is_str(wire_type_to_string(h.type), "open", "open: type name");
}

static void test_roundtrip_info(void) {
        struct wire_header h;
        const char *why;
        int n, r;

        wire_writer_init(&W, WIRE_REQ_INFO, 2);
        wire_put_string(&W, WIRE_ATTR_NAME, "a");
        n = wire_writer_finish(&W);
        r = decode_copy(W.buf, (size_t)n, &h, &A, &why);
        is_int(r, 0, "info: decodes");
        is_int(h.type, WIRE_REQ_INFO, "info: type");
        is_str(A.v[WIRE_ATTR_NAME].s, "a", "info: NAME (one character)");
        is_str(wire_type_to_string(h.type), "stat", "info: type name");
}

static void test_roundtrip_list(void) {
        struct wire_header h;
        const char *why;
        int n, r;

        wire_writer_init(&W, WIRE_REQ_LIST, 3);
        n = wire_writer_finish(&W);
        is_int(n, (int)HDR_SIZE, "list: an empty request is just a header");
        r = decode_copy(W.buf, (size_t)n, &h, &A, &why);
        is_int(r, 0, "list: empty request decodes");
        is_int(h.length, 0, "list: length 0");
        ok(!A.v[WIRE_ATTR_CURSOR].present, "list: no cursor");

        wire_writer_init(&W, WIRE_REQ_LIST, 4);
        wire_put_string(&W, WIRE_ATTR_CURSOR, "abc.def");
        n = wire_writer_finish(&W);
        r = decode_copy(W.buf, (size_t)n, &h, &A, &why);
        is_int(r, 0, "list: with cursor decodes");
        is_str(A.v[WIRE_ATTR_CURSOR].s, "abc.def", "list: cursor value");
        is_int(h.serial, 4, "list: serial");
}

static void test_roundtrip_purge(void) {
        static const char *names[] = { "one", "two.2", "three-3", "one" };
        struct wire_header h;
        struct wire_iter it;
        struct wire_value v;
        const char *why;
        int n, r, i;

        wire_writer_init(&W, WIRE_REQ_PURGE, 5);
        for (i = 0; i < 4; i++)
                wire_put_string(&W, WIRE_ATTR_NAME, names[i]);
        n = wire_writer_finish(&W);
        r = decode_copy(W.buf, (size_t)n, &h, &A, &why);
        is_int(r, 0, "purge: repeated NAME decodes");
        is_str(A.v[WIRE_ATTR_NAME].s, "one", "purge: decoded NAME is the first occurrence");
        wire_iter_init(&it, W.buf, (size_t)n);
        i = 0;
        while (wire_iter_next(&it, WIRE_ATTR_NAME, &v)) {
                if (i < 4 && strcmp(v.s, names[i]) != 0)
                        break;
                if (i < 4 && v.len != strlen(names[i]) + 1)
                        break;
                i++;
        }
        is_int(i, 4, "purge: wire_iter yields every NAME, in order, with its length");
        ok(!wire_iter_next(&it, WIRE_ATTR_NAME, &v), "purge: iterator stays at the end");

        wire_writer_init(&W, WIRE_REQ_PURGE, 6);
        wire_put_flag(&W, WIRE_ATTR_ALL);
        wire_put_string(&W, WIRE_ATTR_CURSOR, "m");
        n = wire_writer_finish(&W);
        is_int(n, (int)HDR_SIZE + 4 + 8, "purge: a flag is a bare attribute header");
        r = decode_copy(W.buf, (size_t)n, &h, &A, &why);
        is_int(r, 0, "purge --all with cursor decodes");
        ok(A.v[WIRE_ATTR_ALL].present && A.v[WIRE_ATTR_ALL].kind == WIRE_KIND_FLAG && A.v[WIRE_ATTR_ALL].len == 0,
           "purge: ALL flag present, no data");
        is_str(A.v[WIRE_ATTR_CURSOR].s, "m", "purge: cursor");
        ok(!A.v[WIRE_ATTR_NAME].present, "purge: no NAME");
}

static void test_roundtrip_empty_types(void) {
        static const uint16_t types[] = { WIRE_REQ_RELOAD, WIRE_REQ_STATUS };
        static const char *tnames[] = { "reload", "status" };

        for (int i = 0; i < 2; i++) {
                struct wire_header h;
                const char *why;
                int n, r;

                wire_writer_init(&W, types[i], 100 + (uint32_t)i);
                n = wire_writer_finish(&W);
                r = decode_copy(W.buf, (size_t)n, &h, &A, &why);
                is_int(r, 0, "%s: decodes", tnames[i]);
                ok(h.type == types[i] && h.serial == 100u + (uint32_t)i, "%s: type and serial", tnames[i]);
                is_str(wire_type_to_string(types[i]), tnames[i], "%s: type name", tnames[i]);
        }
        is_str(wire_type_to_string(WIRE_REPLY), "reply", "reply: type name");
        is_str(wire_type_to_string(77), "unknown", "unknown type name");
}

/* LAST (the connection's final request) is a flag every request may carry, and no reply. */
static void test_last_flag(void) {
        static const uint16_t types[] = { WIRE_REQ_OPEN,  WIRE_REQ_INFO,   WIRE_REQ_LIST,
                                          WIRE_REQ_PURGE, WIRE_REQ_RELOAD, WIRE_REQ_STATUS };
        struct wire_header h;
        const char *why;
        int n, r;

        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
                wire_writer_init(&W, types[i], 200 + (uint32_t)i);
                if (types[i] == WIRE_REQ_OPEN || types[i] == WIRE_REQ_INFO || types[i] == WIRE_REQ_PURGE)
                        wire_put_string(&W, WIRE_ATTR_NAME, "q");
                if (types[i] == WIRE_REQ_OPEN)
                        wire_put_u32(&W, WIRE_ATTR_ACCESS, WIRE_ACCESS_SEND);
                wire_put_flag(&W, WIRE_ATTR_LAST);
                n = wire_writer_finish(&W);
                r = decode_copy(W.buf, (size_t)n, &h, &A, &why);
                is_int(r, 0, "%s with LAST decodes", wire_type_to_string(types[i]));
                ok(A.v[WIRE_ATTR_LAST].present && A.v[WIRE_ATTR_LAST].len == 0, "%s: LAST is present, no data",
                   wire_type_to_string(types[i]));
        }
        wire_writer_init(&W, WIRE_REQ_STATUS, 210);
        n = wire_writer_finish(&W);
        r = decode_copy(W.buf, (size_t)n, &h, &A, &why);
        ok(r == 0 && !A.v[WIRE_ATTR_LAST].present, "a request without LAST decodes without it");

        wire_writer_init(&W, WIRE_REPLY, 211);
        wire_put_u32(&W, WIRE_ATTR_ERROR, 0);
        wire_put_flag(&W, WIRE_ATTR_LAST);
        n = wire_writer_finish(&W);
        r = decode_copy(W.buf, (size_t)n, &h, &A, &why);
        is_int(r, -EINVAL, "a reply may not carry LAST");

        wire_writer_init(&W, WIRE_REQ_STATUS, 212);
        wire_put_u32(&W, WIRE_ATTR_LAST, 1);
        n = wire_writer_finish(&W);
        r = decode_copy(W.buf, (size_t)n, &h, &A, &why);
        is_int(r, -EINVAL, "a LAST carrying data is refused");
}

static void put_channel(struct wire_writer *w, const char *name, uint32_t type, int64_t messages) {
        wire_nest_begin(w, WIRE_ATTR_CHANNEL);
        wire_put_string(w, WIRE_ATTR_NAME, name);
        wire_put_u32(w, WIRE_ATTR_TYPE, type);
        wire_put_u32(w, WIRE_ATTR_MODE, 0640);
        wire_put_i64(w, WIRE_ATTR_MAX_MESSAGES, 10);
        wire_put_i64(w, WIRE_ATTR_MESSAGES, messages);
        wire_put_i64(w, WIRE_ATTR_BYTES, -1);
        wire_put_u64(w, WIRE_ATTR_OPENS, UINT64_MAX);
        wire_put_string(w, WIRE_ATTR_KERNEL_NAME, "/ipcbroker.x");
        wire_nest_end(w);
}

static void test_roundtrip_reply(void) {
        static const char *names[] = { "alpha", "beta.b", "gamma_g" };
        struct wire_header h;
        struct wire_iter it;
        struct wire_value v;
        const char *why;
        int n, r, i, good;

        wire_writer_init(&W, WIRE_REPLY, 42);
        wire_put_u32(&W, WIRE_ATTR_ERROR, 0);
        wire_put_string(&W, WIRE_ATTR_MESSAGE, "all fine");
        wire_put_string(&W, WIRE_ATTR_VERSION, "9.8.7");
        wire_put_u32(&W, WIRE_ATTR_PID, 4242);
        wire_put_u64(&W, WIRE_ATTR_UPTIME, 0x0123456789abcdefULL);
        wire_put_i64(&W, WIRE_ATTR_MESSAGES, INT64_MIN);
        wire_put_i64(&W, WIRE_ATTR_BYTES, -1);
        for (i = 0; i < 3; i++)
                put_channel(&W, names[i], i == 1 ? WIRE_CHANNEL_FIFO : WIRE_CHANNEL_MQUEUE, i * 1000 - 1);
        wire_put_string(&W, WIRE_ATTR_CURSOR, "gamma_g");
        n = wire_writer_finish(&W);
        ok(n > (int)HDR_SIZE, "reply: finishes (%d bytes)", n);
        r = decode_copy(W.buf, (size_t)n, &h, &A, &why);
        is_int(r, 0, "reply: decodes");
        is_int(h.type, WIRE_REPLY, "reply: type");
        is_int(h.serial, 42, "reply: serial echoed");
        is_int(A.v[WIRE_ATTR_ERROR].u, 0, "reply: ERROR 0");
        is_str(A.v[WIRE_ATTR_MESSAGE].s, "all fine", "reply: MESSAGE");
        is_str(A.v[WIRE_ATTR_VERSION].s, "9.8.7", "reply: VERSION");
        is_int(A.v[WIRE_ATTR_PID].u, 4242, "reply: PID");
        ok(A.v[WIRE_ATTR_UPTIME].u == 0x0123456789abcdefULL, "reply: u64 keeps all 64 bits");
        ok(A.v[WIRE_ATTR_MESSAGES].i == INT64_MIN, "reply: i64 INT64_MIN survives");
        ok(A.v[WIRE_ATTR_BYTES].i == -1, "reply: i64 -1 survives");
        is_str(A.v[WIRE_ATTR_CURSOR].s, "gamma_g", "reply: CURSOR after the nested entries");
        ok(A.v[WIRE_ATTR_CHANNEL].present && A.v[WIRE_ATTR_CHANNEL].kind == WIRE_KIND_NESTED,
           "reply: CHANNEL present as nested");

        /* the first occurrence is what wire_decode keeps */
        {
                struct wire_attrs inner;
                r = wire_decode_nested(&A.v[WIRE_ATTR_CHANNEL], wire_policy_channel, &inner, &why);
                is_int(r, 0, "reply: first CHANNEL decodes with the channel policy");
                is_str(inner.v[WIRE_ATTR_NAME].s, "alpha", "reply: first CHANNEL is alpha");
        }

        wire_iter_init(&it, W.buf, (size_t)n);
        i = 0;
        good = 0;
        while (wire_iter_next(&it, WIRE_ATTR_CHANNEL, &v)) {
                struct wire_attrs inner;
                if (i < 3 && wire_decode_nested(&v, wire_policy_channel, &inner, &why) == 0 &&
                    inner.v[WIRE_ATTR_NAME].present && strcmp(inner.v[WIRE_ATTR_NAME].s, names[i]) == 0 &&
                    inner.v[WIRE_ATTR_TYPE].u == (i == 1 ? WIRE_CHANNEL_FIFO : WIRE_CHANNEL_MQUEUE) &&
                    inner.v[WIRE_ATTR_MODE].u == 0640 && inner.v[WIRE_ATTR_MAX_MESSAGES].i == 10 &&
                    inner.v[WIRE_ATTR_MESSAGES].i == i * 1000 - 1 && inner.v[WIRE_ATTR_BYTES].i == -1 &&
                    inner.v[WIRE_ATTR_OPENS].u == UINT64_MAX &&
                    strcmp(inner.v[WIRE_ATTR_KERNEL_NAME].s, "/ipcbroker.x") == 0 &&
                    !inner.v[WIRE_ATTR_CHANNEL].present)
                        good++;
                i++;
        }
        is_int(i, 3, "reply: three CHANNEL entries iterated");
        is_int(good, 3, "reply: every nested entry decodes with all its values");

        /* a nested entry's inner attributes can be iterated as well */
        wire_iter_init(&it, W.buf, (size_t)n);
        if (wire_iter_next(&it, WIRE_ATTR_CHANNEL, &v)) {
                struct wire_iter in;
                struct wire_value iv;
                wire_iter_init_nested(&in, &v);
                ok(wire_iter_next(&in, WIRE_ATTR_KERNEL_NAME, &iv) && strcmp(iv.s, "/ipcbroker.x") == 0,
                   "reply: wire_iter_init_nested finds an inner attribute");
        } else
                fail("reply: wire_iter_init_nested finds an inner attribute");

        /* an error reply */
        wire_writer_init(&W, WIRE_REPLY, 43);
        wire_put_u32(&W, WIRE_ATTR_ERROR, EACCES);
        wire_put_string(&W, WIRE_ATTR_MESSAGE, "permission denied: uid 65534 may not send on channel 'x'");
        n = wire_writer_finish(&W);
        r = decode_copy(W.buf, (size_t)n, &h, &A, &why);
        is_int(r, 0, "error reply: decodes");
        is_int(A.v[WIRE_ATTR_ERROR].u, EACCES, "error reply: errno");
        ok(strstr(A.v[WIRE_ATTR_MESSAGE].s, "permission denied") != NULL, "error reply: message");

        /* a reply with an empty CHANNEL nest is rejected: NAME is required inside */
        wire_writer_init(&W, WIRE_REPLY, 44);
        wire_put_u32(&W, WIRE_ATTR_ERROR, 0);
        wire_nest_begin(&W, WIRE_ATTR_CHANNEL);
        wire_put_u32(&W, WIRE_ATTR_TYPE, 1);
        wire_nest_end(&W);
        n = wire_writer_finish(&W);
        r = decode_copy(W.buf, (size_t)n, &h, &A, &why);
        is_int(r, -EINVAL, "reply: CHANNEL without its required NAME is rejected");
}

static void test_roundtrip_limits(void) {
        struct wire_header h;
        const char *why;
        char *s = malloc(WIRE_STRING_MAX + 1);
        int n, r;

        if (!s)
                BAIL_OUT("out of memory");
        /* the longest string: WIRE_STRING_MAX bytes including the NUL */
        memset(s, 'x', WIRE_STRING_MAX - 1);
        s[WIRE_STRING_MAX - 1] = '\0';
        wire_writer_init(&W, WIRE_REQ_LIST, 1);
        wire_put_string(&W, WIRE_ATTR_CURSOR, s);
        n = wire_writer_finish(&W);
        ok(n > 0, "longest string (%d bytes with NUL) is written", WIRE_STRING_MAX);
        r = decode_copy(W.buf, (size_t)n > 0 ? (size_t)n : 0, &h, &A, &why);
        is_int(r, 0, "longest string decodes");
        ok(A.v[WIRE_ATTR_CURSOR].present && strlen(A.v[WIRE_ATTR_CURSOR].s) == WIRE_STRING_MAX - 1,
           "longest string keeps its length");

        /* one more character does not fit the protocol */
        memset(s, 'y', WIRE_STRING_MAX);
        s[WIRE_STRING_MAX] = '\0';
        wire_writer_init(&W, WIRE_REQ_LIST, 1);
        wire_put_string(&W, WIRE_ATTR_CURSOR, s);
        ok(W.overflow, "string of WIRE_STRING_MAX characters sets overflow");
        is_int(wire_writer_finish(&W), -EMSGSIZE, "string of WIRE_STRING_MAX characters: finish gives -EMSGSIZE");

        /* a packet of exactly WIRE_PACKET_MAX bytes: 7 names of 4 + 4092 bytes, one of 4 + 4076 */
        memset(s, 'n', 4091);
        s[4091] = '\0';
        wire_writer_init(&W, WIRE_REQ_PURGE, 1);
        for (int i = 0; i < 7; i++)
                wire_put_string(&W, WIRE_ATTR_NAME, s);
        s[4075] = '\0';
        wire_put_string(&W, WIRE_ATTR_NAME, s);
        ok(!W.overflow, "full packet: no overflow");
        is_int(wire_writer_room(&W), 0, "full packet: no room left");
        n = wire_writer_finish(&W);
        is_int(n, WIRE_PACKET_MAX, "a packet of exactly WIRE_PACKET_MAX bytes is written");
        r = decode_copy(W.buf, WIRE_PACKET_MAX, &h, &A, &why);
        is_int(r, 0, "a packet of exactly WIRE_PACKET_MAX bytes decodes");
        wire_put_flag(&W, WIRE_ATTR_ALL);
        is_int(wire_writer_finish(&W), -EMSGSIZE, "one more attribute on a full packet: -EMSGSIZE");
        free(s);
}

/* ---- rejection of malformed input ------------------------------------------------------ */

static void test_header_errors(void) {
        struct raw *p = malloc(sizeof(*p));
        struct wire_header h;
        const char *why = NULL;
        int r;

        if (!p)
                BAIL_OUT("out of memory");

        /* short header: every size below a header */
        raw_init(p, WIRE_MAGIC, WIRE_VERSION, WIRE_REQ_STATUS);
        {
                int bad = 0;
                for (size_t sz = 0; sz < HDR_SIZE; sz++)
                        if (decode_copy(p->buf, sz, &h, &A, &why) != -EBADMSG)
                                bad++;
                is_int(bad, 0, "every packet shorter than a header (0..%zu bytes) gives -EBADMSG", HDR_SIZE - 1);
        }
        r = decode_copy(p->buf, HDR_SIZE, &h, &A, &why);
        is_int(r, 0, "a bare header of a type without attributes decodes");

        /* larger than the protocol allows */
        {
                size_t big = WIRE_PACKET_MAX + 4;
                uint8_t *b = calloc(1, big);
                struct wire_header bh = { WIRE_MAGIC, WIRE_VERSION, WIRE_REQ_STATUS, 1, (uint32_t)(big - HDR_SIZE) };
                memcpy(b, &bh, sizeof(bh));
                r = wire_decode(b, big, &h, &A, &why);
                is_int(r, -EBADMSG, "a packet larger than WIRE_PACKET_MAX gives -EBADMSG");
                free(b);
        }

        raw_init(p, 0x42435048u, WIRE_VERSION, WIRE_REQ_STATUS);
        expect_reject(p, -EBADMSG, "bad magic");
        raw_init(p, 0, 0, 0);
        expect_reject(p, -EBADMSG, "all-zero header");

        raw_init(p, WIRE_MAGIC, WIRE_VERSION + 1, WIRE_REQ_STATUS);
        raw_fix_length(p);
        memset(&h, 0, sizeof(h));
        r = decode_copy(p->buf, p->len, &h, &A, &why);
        is_int(r, -EPROTONOSUPPORT, "other version: -EPROTONOSUPPORT");
        is_int(h.version, WIRE_VERSION + 1, "other version: header still filled (version)");
        is_int(h.serial, 7, "other version: header still filled (serial)");
        raw_init(p, WIRE_MAGIC, 0, WIRE_REQ_STATUS);
        expect_reject(p, -EPROTONOSUPPORT, "version 0");
        raw_init(p, WIRE_MAGIC, 0xffff, WIRE_REQ_OPEN);
        expect_reject(p, -EPROTONOSUPPORT, "version 0xffff");

        /* length field mismatch, both ways */
        raw_init(p, WIRE_MAGIC, WIRE_VERSION, WIRE_REQ_INFO);
        raw_str(p, WIRE_ATTR_NAME, "abc");
        raw_fix_length(p);
        {
                uint32_t l;
                memcpy(&l, p->buf + offsetof(struct wire_header, length), 4);
                l += 4;
                memcpy(p->buf + offsetof(struct wire_header, length), &l, 4);
                r = decode_copy(p->buf, p->len, &h, &A, &why);
                is_int(r, -EBADMSG, "length field larger than the packet: -EBADMSG");
                l -= 8;
                memcpy(p->buf + offsetof(struct wire_header, length), &l, 4);
                r = decode_copy(p->buf, p->len, &h, &A, &why);
                is_int(r, -EBADMSG, "length field smaller than the packet: -EBADMSG");
                l = 0xffffffffu;
                memcpy(p->buf + offsetof(struct wire_header, length), &l, 4);
                r = decode_copy(p->buf, p->len, &h, &A, &why);
                is_int(r, -EBADMSG, "length field 0xffffffff: -EBADMSG");
        }

        /* unknown types */
        {
                static const uint16_t types[] = { 0, _WIRE_REQ_MAX, 99, 101, 0xffff };
                for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
                        char d[64];
                        raw_init(p, WIRE_MAGIC, WIRE_VERSION, types[i]);
                        snprintf(d, sizeof(d), "unknown type %u", types[i]);
                        expect_reject(p, -EOPNOTSUPP, d);
                }
        }
        free(p);
}

static void test_attribute_errors(void) {
        struct raw *p = malloc(sizeof(*p));
        char *big;

        if (!p)
                BAIL_OUT("out of memory");

        /* a truncated attribute header: 2 bytes after the header */
        raw_init(p, WIRE_MAGIC, WIRE_VERSION, WIRE_REQ_LIST);
        p->len += 2;
        expect_reject(p, -EBADMSG, "truncated attribute header (2 bytes)");
        /* and after a valid attribute */
        raw_init(p, WIRE_MAGIC, WIRE_VERSION, WIRE_REQ_INFO);
        raw_str(p, WIRE_ATTR_NAME, "ok");
        p->len += 3;
        expect_reject(p, -EBADMSG, "truncated attribute header after a valid one");

        /* an attribute longer than the message */
        raw_init(p, WIRE_MAGIC, WIRE_VERSION, WIRE_REQ_INFO);
        raw_attr_len(p, WIRE_ATTR_NAME, 100, "abcdefg", 8);
        expect_reject(p, -EBADMSG, "attribute longer than the message");
        raw_init(p, WIRE_MAGIC, WIRE_VERSION, WIRE_REQ_OPEN);
        raw_u32(p, WIRE_ATTR_ACCESS, 1);
        raw_attr_len(p, WIRE_ATTR_NAME, 0xffff, NULL, 0);
        expect_reject(p, -EBADMSG, "attribute length 0xffff with nothing after it");
        /* the length without its padding fits, with padding it does not */
        raw_init(p, WIRE_MAGIC, WIRE_VERSION, WIRE_REQ_INFO);
        raw_attr(p, WIRE_ATTR_NAME, "ab", 3);
        p->len -= 1; /* drop the padding byte */
        expect_reject(p, -EBADMSG, "attribute whose padding is missing at the end");

        /* non-zero padding */
        raw_init(p, WIRE_MAGIC, WIRE_VERSION, WIRE_REQ_INFO);
        raw_attr(p, WIRE_ATTR_NAME, "ab", 3);
        p->buf[p->len - 1] = 0x5a;
        expect_reject(p, -EBADMSG, "non-zero padding");

        /* attributes not allowed */
        raw_init(p, WIRE_MAGIC, WIRE_VERSION, WIRE_REQ_OPEN);
        raw_str(p, WIRE_ATTR_NAME, "x");
        raw_u32(p, WIRE_ATTR_ACCESS, 1);
        raw_str(p, WIRE_ATTR_CURSOR, "x");
        expect_reject(p, -EINVAL, "open with a CURSOR (not allowed)");
        raw_init(p, WIRE_MAGIC, WIRE_VERSION, WIRE_REQ_STATUS);
        raw_str(p, WIRE_ATTR_NAME, "x");
        expect_reject(p, -EINVAL, "status with a NAME (not allowed)");
        raw_init(p, WIRE_MAGIC, WIRE_VERSION, WIRE_REQ_LIST);
        raw_u32(p, WIRE_ATTR_UNSPEC, 0);
        expect_reject(p, -EINVAL, "attribute type 0");
        raw_init(p, WIRE_MAGIC, WIRE_VERSION, WIRE_REPLY);
        raw_u32(p, WIRE_ATTR_ERROR, 0);
        raw_u32(p, _WIRE_ATTR_MAX, 0);
        expect_reject(p, -EINVAL, "attribute type past the last one");
        raw_init(p, WIRE_MAGIC, WIRE_VERSION, WIRE_REPLY);
        raw_u32(p, WIRE_ATTR_ERROR, 0);
        raw_u32(p, 0xffff, 0);
        expect_reject(p, -EINVAL, "attribute type 0xffff");
        raw_init(p, WIRE_MAGIC, WIRE_VERSION, WIRE_REQ_OPEN);
        raw_str(p, WIRE_ATTR_NAME, "x");
        raw_u32(p, WIRE_ATTR_ACCESS, 1);
        raw_u32(p, WIRE_ATTR_ERROR, 0);
        expect_reject(p, -EINVAL, "a request carrying a reply's ERROR");

        /* duplicates of non-repeated attributes */
        raw_init(p, WIRE_MAGIC, WIRE_VERSION, WIRE_REQ_OPEN);
        raw_str(p, WIRE_ATTR_NAME, "x");
        raw_str(p, WIRE_ATTR_NAME, "y");
        raw_u32(p, WIRE_ATTR_ACCESS, 1);
        expect_reject(p, -EINVAL, "open with NAME twice");
        raw_init(p, WIRE_MAGIC, WIRE_VERSION, WIRE_REPLY);
        raw_u32(p, WIRE_ATTR_ERROR, 0);
        raw_u32(p, WIRE_ATTR_ERROR, 0);
        expect_reject(p, -EINVAL, "reply with ERROR twice");
        raw_init(p, WIRE_MAGIC, WIRE_VERSION, WIRE_REQ_PURGE);
        raw_attr(p, WIRE_ATTR_ALL, NULL, 0);
        raw_attr(p, WIRE_ATTR_ALL, NULL, 0);
        expect_reject(p, -EINVAL, "purge with ALL twice");

        /* missing required attributes */
        raw_init(p, WIRE_MAGIC, WIRE_VERSION, WIRE_REQ_OPEN);
        raw_str(p, WIRE_ATTR_NAME, "x");
        expect_reject(p, -EINVAL, "open without ACCESS");
        raw_init(p, WIRE_MAGIC, WIRE_VERSION, WIRE_REQ_OPEN);
        raw_u32(p, WIRE_ATTR_ACCESS, 1);
        expect_reject(p, -EINVAL, "open without NAME");
        raw_init(p, WIRE_MAGIC, WIRE_VERSION, WIRE_REQ_INFO);
        expect_reject(p, -EINVAL, "info without NAME");
        raw_init(p, WIRE_MAGIC, WIRE_VERSION, WIRE_REPLY);
        raw_str(p, WIRE_ATTR_MESSAGE, "hello");
        expect_reject(p, -EINVAL, "reply without ERROR");

        /* wrong integer sizes */
        raw_init(p, WIRE_MAGIC, WIRE_VERSION, WIRE_REQ_OPEN);
        raw_str(p, WIRE_ATTR_NAME, "x");
        raw_u64(p, WIRE_ATTR_ACCESS, 1);
        expect_reject(p, -EINVAL, "u32 ACCESS sent as 8 bytes");
        raw_init(p, WIRE_MAGIC, WIRE_VERSION, WIRE_REQ_OPEN);
        raw_str(p, WIRE_ATTR_NAME, "x");
        raw_attr(p, WIRE_ATTR_ACCESS, "\1\0", 2);
        expect_reject(p, -EINVAL, "u32 ACCESS sent as 2 bytes");
        raw_init(p, WIRE_MAGIC, WIRE_VERSION, WIRE_REPLY);
        raw_u32(p, WIRE_ATTR_ERROR, 0);
        raw_u32(p, WIRE_ATTR_UPTIME, 5);
        expect_reject(p, -EINVAL, "u64 UPTIME sent as 4 bytes");
        raw_init(p, WIRE_MAGIC, WIRE_VERSION, WIRE_REPLY);
        raw_u32(p, WIRE_ATTR_ERROR, 0);
        raw_u32(p, WIRE_ATTR_MESSAGES, 5);
        expect_reject(p, -EINVAL, "i64 MESSAGES sent as 4 bytes");
        raw_init(p, WIRE_MAGIC, WIRE_VERSION, WIRE_REPLY);
        raw_attr(p, WIRE_ATTR_ERROR, NULL, 0);
        expect_reject(p, -EINVAL, "u32 ERROR with no data");
        raw_init(p, WIRE_MAGIC, WIRE_VERSION, WIRE_REQ_PURGE);
        raw_u32(p, WIRE_ATTR_ALL, 1);
        expect_reject(p, -EINVAL, "flag ALL carrying data");

        /* strings */
        raw_init(p, WIRE_MAGIC, WIRE_VERSION, WIRE_REQ_INFO);
        raw_attr(p, WIRE_ATTR_NAME, "abc", 3);
        expect_reject(p, -EINVAL, "string without its NUL");
        raw_init(p, WIRE_MAGIC, WIRE_VERSION, WIRE_REQ_INFO);
        raw_attr(p, WIRE_ATTR_NAME, "ab\0c", 5);
        expect_reject(p, -EINVAL, "string with an embedded NUL");
        raw_init(p, WIRE_MAGIC, WIRE_VERSION, WIRE_REQ_INFO);
        raw_attr(p, WIRE_ATTR_NAME, NULL, 0);
        expect_reject(p, -EINVAL, "empty string attribute (no NUL at all)");
        raw_init(p, WIRE_MAGIC, WIRE_VERSION, WIRE_REQ_INFO);
        raw_attr(p, WIRE_ATTR_NAME, "\0", 1);
        {
                /* "" (just the NUL) is a well-formed string; the protocol accepts it, handlers judge names */
                const char *why;
                int r;
                raw_fix_length(p);
                r = raw_decode(p, &why);
                is_int(r, 0, "a string that is only its NUL is well-formed");
        }
        big = calloc(1, WIRE_STRING_MAX + 8);
        if (!big)
                BAIL_OUT("out of memory");
        memset(big, 'z', WIRE_STRING_MAX);
        raw_init(p, WIRE_MAGIC, WIRE_VERSION, WIRE_REQ_INFO);
        raw_attr(p, WIRE_ATTR_NAME, big, WIRE_STRING_MAX + 1); /* 4096 chars + NUL */
        expect_reject(p, -EINVAL, "string longer than WIRE_STRING_MAX");
        free(big);

        /* too many attributes: WIRE_ATTRS_MAX names pass, one more does not */
        raw_init(p, WIRE_MAGIC, WIRE_VERSION, WIRE_REQ_PURGE);
        for (int i = 0; i < WIRE_ATTRS_MAX; i++)
                raw_str(p, WIRE_ATTR_NAME, "n");
        {
                const char *why;
                int r;
                raw_fix_length(p);
                r = raw_decode(p, &why);
                is_int(r, 0, "%d repeated NAMEs (WIRE_ATTRS_MAX) are accepted", WIRE_ATTRS_MAX);
        }
        raw_str(p, WIRE_ATTR_NAME, "n");
        expect_reject(p, -EBADMSG, "one attribute more than WIRE_ATTRS_MAX");
        raw_init(p, WIRE_MAGIC, WIRE_VERSION, WIRE_REPLY);
        raw_u32(p, WIRE_ATTR_ERROR, 0);
        for (int i = 0; i < WIRE_ATTRS_MAX; i++) {
                /* nested CHANNEL {NAME "c"} */
                uint8_t inner[8];
                uint16_t t = WIRE_ATTR_NAME, l = 2;
                memcpy(inner, &t, 2);
                memcpy(inner + 2, &l, 2);
                memcpy(inner + 4, "c\0\0\0", 4);
                raw_attr(p, WIRE_ATTR_CHANNEL, inner, sizeof(inner));
        }
        expect_reject(p, -EBADMSG, "reply with ERROR plus WIRE_ATTRS_MAX CHANNEL entries");

        free(p);
}

static void test_nesting_errors(void) {
        struct raw *p = malloc(sizeof(*p));
        uint8_t inner[64], outer[128];
        size_t il = 0, ol = 0;
        uint16_t t, l;
        struct wire_value v;
        struct wire_attrs *a = malloc(sizeof(*a));
        const char *why = NULL;
        int r;

        if (!p || !a)
                BAIL_OUT("out of memory");

        /* inner: CHANNEL { NAME "x" } */
        t = WIRE_ATTR_NAME, l = 2;
        memcpy(inner + il, &t, 2), memcpy(inner + il + 2, &l, 2), il += 4;
        memcpy(inner + il, "x\0\0\0", 4), il += 4;
        /* outer: CHANNEL { NAME "y", CHANNEL { NAME "x" } } */
        t = WIRE_ATTR_NAME, l = 2;
        memcpy(outer + ol, &t, 2), memcpy(outer + ol + 2, &l, 2), ol += 4;
        memcpy(outer + ol, "y\0\0\0", 4), ol += 4;
        t = WIRE_ATTR_CHANNEL, l = (uint16_t)(il + 4);
        memcpy(outer + ol, &t, 2), memcpy(outer + ol + 2, &l, 2), ol += 4;
        t = WIRE_ATTR_CHANNEL, l = (uint16_t)il;
        memcpy(outer + ol, &t, 2), memcpy(outer + ol + 2, &l, 2), ol += 4;
        memcpy(outer + ol, inner, il), ol += il;

        /* through wire_decode: a CHANNEL inside a CHANNEL is not allowed by the channel policy */
        raw_init(p, WIRE_MAGIC, WIRE_VERSION, WIRE_REPLY);
        raw_u32(p, WIRE_ATTR_ERROR, 0);
        raw_attr(p, WIRE_ATTR_CHANNEL, outer, ol);
        raw_fix_length(p);
        r = raw_decode(p, &why);
        ok(r == -EINVAL || r == -EBADMSG, "CHANNEL nested in a CHANNEL is rejected (%d: %s)", r, why ? why : "");

        /* a nested area decoded with a policy that allows nesting: the depth limit applies */
        memset(&v, 0, sizeof(v));
        v.present = true;
        v.kind = WIRE_KIND_NESTED;
        v.data = outer;
        v.len = ol;
        why = NULL;
        r = wire_decode_nested(&v, wire_policy_for(WIRE_REPLY), a, &why);
        is_int(r, -EBADMSG, "nesting deeper than WIRE_NEST_DEPTH_MAX: -EBADMSG");
        ok(why && strstr(why, "nest"), "nesting too deep: explained (%s)", why ? why : "(null)");
        r = wire_decode_nested(&v, wire_policy_for(WIRE_REPLY), a, NULL);
        is_int(r, -EBADMSG, "wire_decode_nested accepts why == NULL");

        /* the writer refuses to nest deeper than WIRE_NEST_DEPTH_MAX, and unbalanced nests */
        wire_writer_init(&W, WIRE_REPLY, 1);
        wire_put_u32(&W, WIRE_ATTR_ERROR, 0);
        for (int i = 0; i <= WIRE_NEST_DEPTH_MAX; i++)
                wire_nest_begin(&W, WIRE_ATTR_CHANNEL);
        ok(W.overflow, "writer: nesting %d deep sets overflow", WIRE_NEST_DEPTH_MAX + 1);
        is_int(wire_writer_room(&W), 0, "writer: no room after overflow");
        for (int i = 0; i <= WIRE_NEST_DEPTH_MAX; i++)
                wire_nest_end(&W);
        is_int(wire_writer_finish(&W), -EMSGSIZE, "writer: too deep a nest gives -EMSGSIZE");

        wire_writer_init(&W, WIRE_REPLY, 1);
        wire_nest_begin(&W, WIRE_ATTR_CHANNEL);
        is_int(wire_writer_finish(&W), -EMSGSIZE, "writer: an unclosed nest gives -EMSGSIZE");
        wire_writer_init(&W, WIRE_REPLY, 1);
        wire_nest_end(&W);
        is_int(wire_writer_finish(&W), -EMSGSIZE, "writer: closing a nest never opened gives -EMSGSIZE");

        free(a);
        free(p);
}

static void test_writer_overflow(void) {
        char s[4001];
        size_t room, last_room;
        int i, n;

        memset(s, 's', sizeof(s) - 1);
        s[sizeof(s) - 1] = '\0';
        wire_writer_init(&W, WIRE_REQ_PURGE, 1);
        last_room = wire_writer_room(&W);
        is_int(last_room, WIRE_PACKET_MAX - HDR_SIZE, "writer: room after init is the packet minus a header");
        for (i = 0; i < 100 && !W.overflow; i++) {
                wire_put_string(&W, WIRE_ATTR_NAME, s);
                room = wire_writer_room(&W);
                if (!W.overflow && room != last_room - (4 + ALIGN4(sizeof(s))))
                        break;
                last_room = room;
        }
        ok(W.overflow, "writer: filling the packet ends in overflow (after %d strings)", i);
        is_int(i, (int)((WIRE_PACKET_MAX - HDR_SIZE) / (4 + ALIGN4(sizeof(s)))) + 1,
               "writer: overflow happens exactly when a string no longer fits");
        ok(W.len <= WIRE_PACKET_MAX, "writer: never writes past the buffer");
        n = wire_writer_finish(&W);
        is_int(n, -EMSGSIZE, "writer: overflow makes wire_writer_finish return -EMSGSIZE");
        /* overflow is sticky: small attributes do not make the packet usable again */
        wire_put_u32(&W, WIRE_ATTR_ACCESS, 1);
        is_int(wire_writer_finish(&W), -EMSGSIZE, "writer: overflow is sticky");
        /* and init resets it */
        wire_writer_init(&W, WIRE_REQ_STATUS, 1);
        is_int(wire_writer_finish(&W), (int)HDR_SIZE, "writer: init resets overflow");
}

static void test_iter_edges(void) {
        struct wire_iter it;
        struct wire_value v;
        uint8_t small[8] = { 0 };

        wire_iter_init(&it, small, sizeof(small));
        ok(!wire_iter_next(&it, WIRE_ATTR_NAME, &v), "iter: a packet shorter than a header yields nothing");
        wire_writer_init(&W, WIRE_REQ_LIST, 1);
        wire_iter_init(&it, W.buf, HDR_SIZE);
        ok(!wire_iter_next(&it, WIRE_ATTR_CURSOR, &v), "iter: an empty packet yields nothing");
}

/* ---- mutation loop ------------------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(void) {
        /* xorshift64*: deterministic across runs and machines */
        rng_state ^= rng_state >> 12;
        rng_state ^= rng_state << 25;
        rng_state ^= rng_state >> 27;
        return (uint32_t)((rng_state * 0x2545f4914f6cdd1dULL) >> 32);
}

struct seed {
        uint8_t *buf;
        size_t len;
};

static struct seed seed_from_writer(void) {
        struct seed s;
        int n = wire_writer_finish(&W);

        if (n < 0)
                BAIL_OUT("seed packet does not finish");
        s.len = (size_t)n;
        s.buf = malloc(s.len);
        if (!s.buf)
                BAIL_OUT("out of memory");
        memcpy(s.buf, W.buf, s.len);
        return s;
}

static bool errno_expected(int r) {
        return r == -EBADMSG || r == -EPROTONOSUPPORT || r == -EOPNOTSUPP || r == -EINVAL;
}

/* Use everything a successful decode returned, the way the daemon and library would. */
static size_t consume(const uint8_t *packet, size_t size, const struct wire_attrs *a) {
        size_t sum = 0;
        struct wire_iter it;
        struct wire_value v;

        for (int t = 1; t < _WIRE_ATTR_MAX; t++) {
                const struct wire_value *x = &a->v[t];
                if (!x->present)
                        continue;
                if (x->kind == WIRE_KIND_STRING)
                        sum += strlen(x->s);
                else if (x->kind == WIRE_KIND_NESTED) {
                        struct wire_attrs inner;
                        for (size_t i = 0; i < x->len; i++)
                                sum += x->data[i];
                        if (wire_decode_nested(x, wire_policy_channel, &inner, NULL) == 0)
                                sum += inner.v[WIRE_ATTR_NAME].present ? strlen(inner.v[WIRE_ATTR_NAME].s) : 0;
                } else
                        sum += (size_t)x->u;
        }
        for (uint16_t t = 1; t < _WIRE_ATTR_MAX; t++) {
                wire_iter_init(&it, packet, size);
                while (wire_iter_next(&it, t, &v))
                        sum += v.len + (t == WIRE_ATTR_NAME ? strlen(v.s) : 0);
        }
        return sum;
}

static void test_mutations(void) {
        struct seed seeds[10];
        size_t n_seeds = 0;
        unsigned ok_count = 0, err_count = 0, bad_errno = 0, bad_why = 0;
        size_t sink = 0;
        struct wire_attrs *a = malloc(sizeof(*a));
        const int iterations = 6000;

        if (!a)
                BAIL_OUT("out of memory");

        wire_writer_init(&W, WIRE_REQ_OPEN, 1);
        wire_put_string(&W, WIRE_ATTR_NAME, "sensors.temp");
        wire_put_u32(&W, WIRE_ATTR_ACCESS, 3);
        seeds[n_seeds++] = seed_from_writer();
        wire_writer_init(&W, WIRE_REQ_INFO, 2);
        wire_put_string(&W, WIRE_ATTR_NAME, "jobs");
        seeds[n_seeds++] = seed_from_writer();
        wire_writer_init(&W, WIRE_REQ_LIST, 3);
        wire_put_string(&W, WIRE_ATTR_CURSOR, "audit");
        seeds[n_seeds++] = seed_from_writer();
        wire_writer_init(&W, WIRE_REQ_PURGE, 4);
        wire_put_string(&W, WIRE_ATTR_NAME, "a");
        wire_put_string(&W, WIRE_ATTR_NAME, "bb");
        wire_put_string(&W, WIRE_ATTR_NAME, "ccc");
        seeds[n_seeds++] = seed_from_writer();
        wire_writer_init(&W, WIRE_REQ_PURGE, 5);
        wire_put_flag(&W, WIRE_ATTR_ALL);
        seeds[n_seeds++] = seed_from_writer();
        wire_writer_init(&W, WIRE_REQ_STATUS, 6);
        seeds[n_seeds++] = seed_from_writer();
        wire_writer_init(&W, WIRE_REPLY, 7);
        wire_put_u32(&W, WIRE_ATTR_ERROR, 0);
        put_channel(&W, "alpha", 1, 3);
        put_channel(&W, "beta", 2, -1);
        wire_put_string(&W, WIRE_ATTR_CURSOR, "beta");
        seeds[n_seeds++] = seed_from_writer();
        wire_writer_init(&W, WIRE_REPLY, 8);
        wire_put_u32(&W, WIRE_ATTR_ERROR, 0);
        wire_put_string(&W, WIRE_ATTR_VERSION, "1.0");
        wire_put_u32(&W, WIRE_ATTR_PID, 1);
        wire_put_u64(&W, WIRE_ATTR_UPTIME, 2);
        wire_put_string(&W, WIRE_ATTR_CONFIG_FILE, "/etc/ipcbroker.conf");
        wire_put_u64(&W, WIRE_ATTR_CHANNELS, 5);
        seeds[n_seeds++] = seed_from_writer();
        wire_writer_init(&W, WIRE_REPLY, 9);
        wire_put_u32(&W, WIRE_ATTR_ERROR, EACCES);
        wire_put_string(&W, WIRE_ATTR_MESSAGE, "permission denied");
        seeds[n_seeds++] = seed_from_writer();

        for (size_t s = 0; s < n_seeds; s++) {
                struct wire_header h;
                const char *why;
                if (decode_copy(seeds[s].buf, seeds[s].len, &h, a, &why) != 0)
                        diag("seed %zu does not decode: %s", s, why ? why : "?");
        }

        for (int iter = 0; iter < iterations; iter++) {
                const struct seed *sd = &seeds[rnd() % n_seeds];
                size_t cap = sd->len + 64, len = sd->len;
                uint8_t *work = malloc(cap);
                uint8_t *exact;
                int mutations = 1 + (int)(rnd() % 4);
                struct wire_header h;
                const char *why = NULL;
                int r;

                if (!work)
                        BAIL_OUT("out of memory");
                memcpy(work, sd->buf, sd->len);
                for (int m = 0; m < mutations; m++) {
                        switch (rnd() % 7) {
                        case 0: /* flip one bit anywhere */
                                if (len)
                                        work[rnd() % len] ^= (uint8_t)(1u << (rnd() % 8));
                                break;
                        case 1: /* a random byte in the attribute area (keeps the header plausible) */
                                if (len > HDR_SIZE)
                                        work[HDR_SIZE + rnd() % (len - HDR_SIZE)] = (uint8_t)rnd();
                                break;
                        case 2: /* truncate */
                                len = len ? rnd() % (len + 1) : 0;
                                break;
                        case 3: /* extend with random bytes */
                        {
                                size_t add = 1 + rnd() % 16;
                                if (len + add > cap)
                                        add = cap - len;
                                for (size_t i = 0; i < add; i++)
                                        work[len + i] = (uint8_t)rnd();
                                len += add;
                                break;
                        }
                        case 4: /* corrupt an attribute length (u16 at a 4-aligned offset) */
                                if (len >= HDR_SIZE + 4) {
                                        size_t off = HDR_SIZE + 4 * (rnd() % ((len - HDR_SIZE) / 4)) + 2;
                                        uint16_t v = (uint16_t)(rnd() % 3 == 0 ? 0xffff : rnd() % 64);
                                        if (off + 2 <= len)
                                                memcpy(work + off, &v, 2);
                                }
                                break;
                        case 5: /* corrupt an attribute type */
                                if (len >= HDR_SIZE + 4) {
                                        size_t off = HDR_SIZE + 4 * (rnd() % ((len - HDR_SIZE) / 4));
                                        uint16_t v = (uint16_t)(rnd() % (_WIRE_ATTR_MAX + 2));
                                        memcpy(work + off, &v, 2);
                                }
                                break;
                        default:
                                break;
                        }
                }
                /* half of the time, make the header's length agree so the attribute checks are reached */
                if (len >= HDR_SIZE && (rnd() & 1)) {
                        uint32_t l = (uint32_t)(len - HDR_SIZE);
                        memcpy(work + offsetof(struct wire_header, length), &l, 4);
                }
                exact = malloc(len ? len : 1);
                if (!exact)
                        BAIL_OUT("out of memory");
                memcpy(exact, work, len);
                free(work);
                r = wire_decode(exact, len, &h, a, &why);
                if (r == 0) {
                        ok_count++;
                        sink += consume(exact, len, a);
                } else {
                        err_count++;
                        if (!errno_expected(r)) {
                                if (bad_errno++ < 5)
                                        diag("iteration %d: unexpected return %d", iter, r);
                        }
                        if (!why || !*why)
                                bad_why++;
                }
                free(exact);
        }
        diag("mutations: %u decoded, %u rejected (checksum %zu)", ok_count, err_count, sink);
        is_int(ok_count + err_count, iterations, "%d mutated packets decoded without a crash", iterations);
        is_int(bad_errno, 0, "every rejection is -EBADMSG, -EPROTONOSUPPORT, -EOPNOTSUPP or -EINVAL");
        is_int(bad_why, 0, "every rejection comes with an explanation");
        ok(err_count > (unsigned)iterations / 4, "the mutations do break packets (%u rejected)", err_count);
        ok(ok_count > 0, "some mutated packets are still valid (%u)", ok_count);
        for (size_t s = 0; s < n_seeds; s++)
                free(seeds[s].buf);
        free(a);
}

int main(void) {
        test_roundtrip_open();
        test_roundtrip_info();
        test_roundtrip_list();
        test_roundtrip_purge();
        test_roundtrip_empty_types();
        test_last_flag();
        test_roundtrip_reply();
        test_roundtrip_limits();
        test_header_errors();
        test_attribute_errors();
        test_nesting_errors();
        test_writer_overflow();
        test_iter_edges();
        test_mutations();
        free(last_copy);
        return done_testing();
}
