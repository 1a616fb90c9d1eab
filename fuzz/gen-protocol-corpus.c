/*
 * gen-protocol-corpus.c — write the seed corpus of fuzz-protocol: real packets
 * of every request type and every kind of reply, built with the same
 * wire_writer the library and the daemon use, plus edge cases around every
 * limit and one damaged packet for each way the decoder rejects one.
 *
 *      fuzz/fuzz-gen-protocol-corpus DIR
 *
 * writes one file per packet into DIR (`make fuzz-corpus` regenerates
 * $(srcdir)/fuzz/corpus/protocol). The files are committed: the generator is
 * run by hand when the protocol changes, not by the build.
 */
#include "build-config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

#define HDR sizeof(struct wire_header)

static const char *outdir;
static struct wire_writer w;
static unsigned n_written;

static void save_raw(const char *name, const void *buf, size_t len) {
        char path[PATH_MAX];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", outdir, name);
        f = fopen(path, "we");
        if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
                fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
                exit(EXIT_FAILURE);
        }
        n_written++;
}

/* Finish the packet in w and save it; the packet must be one the decoder accepts unless BAD. */
static size_t save(const char *name, bool bad) {
        struct wire_header h;
        struct wire_attrs a;
        const char *why = NULL;
        int n = wire_writer_finish(&w);

        if (n < 0) {
                fprintf(stderr, "%s: packet does not fit\n", name);
                exit(EXIT_FAILURE);
        }
        if (!bad && wire_decode(w.buf, (size_t)n, &h, &a, &why) != 0) {
                fprintf(stderr, "%s: generated packet does not decode: %s\n", name, why);
                exit(EXIT_FAILURE);
        }
        save_raw(name, w.buf, (size_t)n);
        return (size_t)n;
}

/* A plausible value of each kind, varied by attribute so packets differ. */
static void put_any(uint16_t attr, enum wire_kind kind) {
        char s[64];

        switch (kind) {
        case WIRE_KIND_U32:
                wire_put_u32(&w, attr, attr == WIRE_ATTR_MODE ? 0640 : attr);
                break;
        case WIRE_KIND_U64:
                wire_put_u64(&w, attr, 1000u + attr);
                break;
        case WIRE_KIND_I64:
                wire_put_i64(&w, attr, attr % 2 ? -1 : 8192);
                break;
        case WIRE_KIND_STRING:
                snprintf(s, sizeof(s), attr == WIRE_ATTR_NAME ? "sensors.temp" : "value-%u", attr);
                wire_put_string(&w, attr, s);
                break;
        case WIRE_KIND_FLAG:
                wire_put_flag(&w, attr);
                break;
        default:
                break;
        }
}

/*
 * The payload of the first CHANNEL entry of the finished packet in w, alone:
 * fuzz-protocol also decodes each input as a bare attribute area.
 */
static void save_first_nested(const char *name) {
        int n = wire_writer_finish(&w);
        size_t off = HDR;

        while (n > 0 && off + 4 <= (size_t)n) {
                uint16_t type, len;
                memcpy(&type, w.buf + off, 2);
                memcpy(&len, w.buf + off + 2, 2);
                if (type == WIRE_ATTR_CHANNEL) {
                        save_raw(name, w.buf + off + 4, len);
                        return;
                }
                off += 4 + ((len + 3u) & ~3u);
        }
        fprintf(stderr, "%s: no CHANNEL entry\n", name);
        exit(EXIT_FAILURE);
}

/* One CHANNEL entry with every attribute its policy allows. */
static void put_channel_full(const char *name) {
        wire_nest_begin(&w, WIRE_ATTR_CHANNEL);
        for (uint16_t t = 1; t < _WIRE_ATTR_MAX; t++) {
                if (wire_policy_channel[t].kind == WIRE_KIND_NONE)
                        continue;
                if (t == WIRE_ATTR_NAME)
                        wire_put_string(&w, t, name);
                else
                        put_any(t, wire_policy_channel[t].kind);
        }
        wire_nest_end(&w);
}

/* What LIST puts for one channel (daemon/request.c: put_channel, not full). */
static void put_channel_short(const char *name, uint32_t type, int64_t messages) {
        wire_nest_begin(&w, WIRE_ATTR_CHANNEL);
        wire_put_string(&w, WIRE_ATTR_NAME, name);
        wire_put_u32(&w, WIRE_ATTR_TYPE, type);
        wire_put_u32(&w, WIRE_ATTR_OWNER, 0);
        wire_put_u32(&w, WIRE_ATTR_GROUP, 100);
        wire_put_u32(&w, WIRE_ATTR_MODE, 0640);
        wire_put_u32(&w, WIRE_ATTR_STATE, WIRE_STATE_READY);
        wire_put_i64(&w, WIRE_ATTR_MESSAGES, messages);
        wire_nest_end(&w);
}

/* Every attribute the policy of TYPE allows, each once (a repeated one twice). */
static void gen_all_attrs(uint16_t type, const char *name) {
        const struct wire_policy_entry *p = wire_policy_for(type);

        wire_writer_init(&w, type, 42);
        for (uint16_t t = 1; t < _WIRE_ATTR_MAX; t++) {
                if (p[t].kind == WIRE_KIND_NONE)
                        continue;
                if (p[t].kind == WIRE_KIND_NESTED) {
                        put_channel_full("alpha");
                        put_channel_full("beta");
                        continue;
                }
                put_any(t, p[t].kind);
                if (p[t].repeated && p[t].kind == WIRE_KIND_STRING)
                        wire_put_string(&w, t, "second");
        }
        save(name, false);
}

/* Only the required attributes of TYPE. */
static void gen_required(uint16_t type, const char *name) {
        const struct wire_policy_entry *p = wire_policy_for(type);

        wire_writer_init(&w, type, 1);
        for (uint16_t t = 1; t < _WIRE_ATTR_MAX; t++)
                if (p[t].required)
                        put_any(t, p[t].kind);
        save(name, false);
}

static void gen_requests(void) {
        /* as the library sends them (client/lib-open.c, client/lib-admin.c) */
        wire_writer_init(&w, WIRE_REQ_OPEN, 1);
        wire_put_string(&w, WIRE_ATTR_NAME, "jobs");
        wire_put_u32(&w, WIRE_ATTR_ACCESS, WIRE_ACCESS_SEND);
        wire_put_flag(&w, WIRE_ATTR_LAST);
        save("req-open-send", false);

        wire_writer_init(&w, WIRE_REQ_OPEN, 2);
        wire_put_u32(&w, WIRE_ATTR_ACCESS, WIRE_ACCESS_SEND | WIRE_ACCESS_RECV);
        wire_put_string(&w, WIRE_ATTR_NAME, "public.chat");
        save("req-open-sendrecv", false);

        wire_writer_init(&w, WIRE_REQ_INFO, 1);
        wire_put_string(&w, WIRE_ATTR_NAME, "sensors.temp");
        wire_put_flag(&w, WIRE_ATTR_LAST);
        save("req-info", false);

        wire_writer_init(&w, WIRE_REQ_STATUS, 1);
        wire_put_flag(&w, WIRE_ATTR_LAST);
        save("req-status-last", false);

        wire_writer_init(&w, WIRE_REQ_LIST, 1);
        save("req-list", false);

        wire_writer_init(&w, WIRE_REQ_LIST, 2);
        wire_put_string(&w, WIRE_ATTR_CURSOR, "jobs");
        save("req-list-cursor", false);

        wire_writer_init(&w, WIRE_REQ_PURGE, 1);
        wire_put_flag(&w, WIRE_ATTR_ALL);
        save("req-purge-all", false);

        wire_writer_init(&w, WIRE_REQ_PURGE, 2);
        wire_put_flag(&w, WIRE_ATTR_ALL);
        wire_put_string(&w, WIRE_ATTR_CURSOR, "events");
        save("req-purge-all-cursor", false);

        wire_writer_init(&w, WIRE_REQ_PURGE, 3);
        wire_put_string(&w, WIRE_ATTR_NAME, "jobs");
        wire_put_string(&w, WIRE_ATTR_NAME, "audit");
        wire_put_string(&w, WIRE_ATTR_NAME, "no.such.channel");
        save("req-purge-names", false);

        wire_writer_init(&w, WIRE_REQ_RELOAD, 1);
        save("req-reload", false);

        wire_writer_init(&w, WIRE_REQ_STATUS, 1);
        save("req-status", false);

        for (uint16_t type = WIRE_REQ_OPEN; type < _WIRE_REQ_MAX; type++) {
                char name[64];
                snprintf(name, sizeof(name), "req-%s-all-attrs", wire_type_to_string(type));
                gen_all_attrs(type, name);
                snprintf(name, sizeof(name), "req-%s-required", wire_type_to_string(type));
                gen_required(type, name);
        }
}

static void gen_replies(void) {
        char name[WIRE_NAME_MAX + 1];

        wire_writer_init(&w, WIRE_REPLY, 1);
        wire_put_u32(&w, WIRE_ATTR_ERROR, 0);
        save("reply-ok", false);

        wire_writer_init(&w, WIRE_REPLY, 1);
        wire_put_u32(&w, WIRE_ATTR_ERROR, EACCES);
        wire_put_string(&w, WIRE_ATTR_MESSAGE, "uid 1000 may not receive from channel 'jobs'");
        save("reply-error", false);

        /* OPEN: the descriptor travels as SCM_RIGHTS; the packet says what it is */
        wire_writer_init(&w, WIRE_REPLY, 1);
        wire_put_u32(&w, WIRE_ATTR_ERROR, 0);
        wire_put_string(&w, WIRE_ATTR_NAME, "jobs");
        wire_put_u32(&w, WIRE_ATTR_TYPE, WIRE_CHANNEL_MQUEUE);
        wire_put_u32(&w, WIRE_ATTR_ACCESS, WIRE_ACCESS_SEND);
        wire_put_string(&w, WIRE_ATTR_KERNEL_NAME, "/ipcbroker.jobs");
        wire_put_i64(&w, WIRE_ATTR_MAX_MESSAGES, 10);
        wire_put_i64(&w, WIRE_ATTR_MESSAGE_SIZE, 1024);
        save("reply-open", false);

        /* INFO, STATUS: every reply attribute */
        gen_all_attrs(WIRE_REPLY, "reply-all-attrs");

        wire_writer_init(&w, WIRE_REPLY, 3);
        wire_put_u32(&w, WIRE_ATTR_ERROR, 0);
        wire_put_string(&w, WIRE_ATTR_VERSION, "0.1.0");
        wire_put_u32(&w, WIRE_ATTR_PID, 4242);
        wire_put_u64(&w, WIRE_ATTR_UPTIME, 3600);
        wire_put_string(&w, WIRE_ATTR_CONFIG_FILE, "/etc/ipcbroker.conf");
        wire_put_string(&w, WIRE_ATTR_SOCKET, "/run/ipcbroker/ipcbroker.sock");
        wire_put_u64(&w, WIRE_ATTR_CHANNELS, 5);
        wire_put_u64(&w, WIRE_ATTR_CHANNELS_READY, 4);
        wire_put_u64(&w, WIRE_ATTR_CLIENTS, 2);
        wire_put_u64(&w, WIRE_ATTR_CONNECTIONS, 17);
        wire_put_u64(&w, WIRE_ATTR_REQUESTS, 99);
        wire_put_u64(&w, WIRE_ATTR_OPENS_TOTAL, 12);
        wire_put_u64(&w, WIRE_ATTR_DENIED, 1);
        wire_put_u64(&w, WIRE_ATTR_RELOADS, 3);
        save("reply-status", false);

        wire_writer_init(&w, WIRE_REPLY, 1);
        wire_put_u32(&w, WIRE_ATTR_ERROR, 0);
        wire_put_string(&w, WIRE_ATTR_MESSAGE, "reloaded: 5 channels, 1 added, 0 removed");
        save("reply-reload", false);

        /* LIST: a page of entries and a cursor */
        wire_writer_init(&w, WIRE_REPLY, 1);
        wire_put_u32(&w, WIRE_ATTR_ERROR, 0);
        put_channel_short("audit", WIRE_CHANNEL_MQUEUE, 0);
        put_channel_short("events", WIRE_CHANNEL_FIFO, -1);
        put_channel_short("jobs", WIRE_CHANNEL_MQUEUE, 7);
        wire_put_string(&w, WIRE_ATTR_CURSOR, "jobs");
        save("reply-list", false);
        save_first_nested("area-channel-list");

        /* a failed channel in a LIST */
        wire_writer_init(&w, WIRE_REPLY, 2);
        wire_put_u32(&w, WIRE_ATTR_ERROR, 0);
        wire_nest_begin(&w, WIRE_ATTR_CHANNEL);
        wire_put_string(&w, WIRE_ATTR_NAME, "broken");
        wire_put_u32(&w, WIRE_ATTR_STATE, WIRE_STATE_FAILED);
        wire_put_string(&w, WIRE_ATTR_PROBLEM, "/run/ipcbroker/fifo/broken is a symlink");
        wire_nest_end(&w);
        save("reply-list-failed", false);

        /* an empty nested entry with only its name, and an empty LIST */
        wire_writer_init(&w, WIRE_REPLY, 1);
        wire_put_u32(&w, WIRE_ATTR_ERROR, 0);
        wire_nest_begin(&w, WIRE_ATTR_CHANNEL);
        wire_put_string(&w, WIRE_ATTR_NAME, "x");
        wire_nest_end(&w);
        save("reply-list-minimal", false);

        /* PURGE: per-channel results */
        wire_writer_init(&w, WIRE_REPLY, 1);
        wire_put_u32(&w, WIRE_ATTR_ERROR, 0);
        wire_nest_begin(&w, WIRE_ATTR_CHANNEL);
        wire_put_string(&w, WIRE_ATTR_NAME, "jobs");
        wire_put_u32(&w, WIRE_ATTR_ERROR, 0);
        wire_put_u64(&w, WIRE_ATTR_PURGED_MESSAGES, 7);
        wire_put_u64(&w, WIRE_ATTR_PURGED_BYTES, 700);
        wire_nest_end(&w);
        wire_nest_begin(&w, WIRE_ATTR_CHANNEL);
        wire_put_string(&w, WIRE_ATTR_NAME, "nope");
        wire_put_u32(&w, WIRE_ATTR_ERROR, ENOENT);
        wire_put_string(&w, WIRE_ATTR_MESSAGE, "no such channel");
        wire_nest_end(&w);
        save("reply-purge", false);
        save_first_nested("area-channel-purge");

        wire_writer_init(&w, WIRE_REPLY, 1);
        wire_put_u32(&w, WIRE_ATTR_ERROR, 0);
        put_channel_full("full");
        save_first_nested("area-channel-full");

        /* a LIST reply filled to the last byte the protocol allows */
        wire_writer_init(&w, WIRE_REPLY, 9);
        wire_put_u32(&w, WIRE_ATTR_ERROR, 0);
        for (unsigned i = 0; i < WIRE_ATTRS_MAX - 1; i++) {
                memset(name, 'a' + i % 26, WIRE_NAME_MAX - 1);
                name[WIRE_NAME_MAX - 1] = '\0';
                put_channel_full(name);
        }
        save("reply-list-large", false);
}

/* Edge cases at every limit. */
static void gen_limits(void) {
        static char big[WIRE_STRING_MAX];
        size_t room;

        /* the longest string: WIRE_STRING_MAX bytes with its NUL */
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        wire_writer_init(&w, WIRE_REPLY, 1);
        wire_put_u32(&w, WIRE_ATTR_ERROR, 0);
        wire_put_string(&w, WIRE_ATTR_MESSAGE, big);
        save("limit-string-max", false);

        /* string lengths 1..4 around the padding */
        for (int len = 0; len < 4; len++) {
                char s[5] = "abcd", name[32];
                s[len] = '\0';
                wire_writer_init(&w, WIRE_REQ_INFO, 1);
                wire_put_string(&w, WIRE_ATTR_NAME, s);
                snprintf(name, sizeof(name), "limit-string-len%d", len + 1);
                save(name, false);
        }

        /* WIRE_ATTRS_MAX attributes in one level */
        wire_writer_init(&w, WIRE_REQ_PURGE, 1);
        for (unsigned i = 0; i < WIRE_ATTRS_MAX; i++)
                wire_put_string(&w, WIRE_ATTR_NAME, "n");
        save("limit-attrs-max", false);

        /* the largest packet: a reply of exactly WIRE_PACKET_MAX bytes */
        wire_writer_init(&w, WIRE_REPLY, 1);
        wire_put_u32(&w, WIRE_ATTR_ERROR, 0);
        for (unsigned i = 0; i < 7; i++) {
                wire_nest_begin(&w, WIRE_ATTR_CHANNEL);
                wire_put_string(&w, WIRE_ATTR_NAME, "n");
                wire_put_string(&w, WIRE_ATTR_PROBLEM, big);
                wire_nest_end(&w);
        }
        room = wire_writer_room(&w);
        /* one MESSAGE string filling what is left: 4 header bytes + aligned data */
        if (room > 4 && room - 4 <= WIRE_STRING_MAX) {
                memset(big, 'y', room - 4 - 1);
                big[room - 4 - 1] = '\0';
                wire_put_string(&w, WIRE_ATTR_MESSAGE, big);
        }
        if (save("limit-packet-max", false) != WIRE_PACKET_MAX) {
                fprintf(stderr, "limit-packet-max is not %d bytes\n", WIRE_PACKET_MAX);
                exit(EXIT_FAILURE);
        }

        /* one attribute more than the protocol allows, with a consistent length field */
        {
                static uint8_t over[WIRE_PACKET_MAX + 8];
                struct wire_header h;
                memcpy(over, w.buf, WIRE_PACKET_MAX);
                memcpy(&h, over, sizeof(h));
                h.length += 8;
                memcpy(over, &h, sizeof(h));
                memcpy(over + WIRE_PACKET_MAX, "\x01\x00\x04\x00\x00\x00\x00\x00", 8);
                save_raw("bad-packet-too-large", over, sizeof(over));
        }

        /* extreme integers */
        wire_writer_init(&w, WIRE_REPLY, UINT32_MAX);
        wire_put_u32(&w, WIRE_ATTR_ERROR, UINT32_MAX);
        wire_put_i64(&w, WIRE_ATTR_MESSAGES, INT64_MIN);
        wire_put_i64(&w, WIRE_ATTR_BYTES, INT64_MAX);
        wire_put_u64(&w, WIRE_ATTR_UPTIME, UINT64_MAX);
        save("limit-integers", false);
}

/* Patch bytes of the packet in w (after finishing) and save it as a rejected one. */
static void gen_damaged(void) {
        uint8_t buf[256];
        size_t n;
        struct wire_header h;

        /* the base: an OPEN request */
#define BASE()                                                                                                         \
        do {                                                                                                           \
                wire_writer_init(&w, WIRE_REQ_OPEN, 7);                                                                \
                wire_put_string(&w, WIRE_ATTR_NAME, "jobs");                                                           \
                wire_put_u32(&w, WIRE_ATTR_ACCESS, WIRE_ACCESS_RECV);                                                  \
                n = (size_t)wire_writer_finish(&w);                                                                    \
                memcpy(buf, w.buf, n);                                                                                 \
                memcpy(&h, buf, sizeof(h));                                                                            \
        } while (0)

        BASE();
        save_raw("bad-empty", buf, 0);
        save_raw("bad-short-header", buf, HDR - 1);
        save_raw("bad-truncated-attr", buf, n - 2);

        BASE();
        h.magic ^= 1;
        memcpy(buf, &h, sizeof(h));
        save_raw("bad-magic", buf, n);

        BASE();
        h.version = WIRE_VERSION + 1;
        memcpy(buf, &h, sizeof(h));
        save_raw("bad-version", buf, n);

        BASE();
        h.type = 77;
        memcpy(buf, &h, sizeof(h));
        save_raw("bad-type", buf, n);

        BASE();
        h.length += 4;
        memcpy(buf, &h, sizeof(h));
        save_raw("bad-length", buf, n);

        /* the name string "jobs\0" padded with 3 zero bytes: make one non-zero */
        BASE();
        buf[HDR + 4 + 5] = 1;
        save_raw("bad-padding", buf, n);

        /* the NUL of "jobs" replaced */
        BASE();
        buf[HDR + 4 + 4] = 'x';
        save_raw("bad-string-unterminated", buf, n);

        /* an inner NUL */
        BASE();
        buf[HDR + 4 + 1] = '\0';
        save_raw("bad-string-inner-nul", buf, n);

        /* attribute length larger than the packet */
        BASE();
        buf[HDR + 2] = 0xff;
        save_raw("bad-attr-length", buf, n);

        /* a missing required attribute */
        wire_writer_init(&w, WIRE_REQ_OPEN, 1);
        wire_put_string(&w, WIRE_ATTR_NAME, "jobs");
        save("bad-missing-required", true);

        /* a duplicate non-repeated attribute */
        wire_writer_init(&w, WIRE_REQ_OPEN, 1);
        wire_put_string(&w, WIRE_ATTR_NAME, "jobs");
        wire_put_string(&w, WIRE_ATTR_NAME, "jobs");
        wire_put_u32(&w, WIRE_ATTR_ACCESS, 1);
        save("bad-duplicate", true);

        /* an attribute of the wrong size */
        wire_writer_init(&w, WIRE_REQ_OPEN, 1);
        wire_put_string(&w, WIRE_ATTR_NAME, "jobs");
        wire_put_u64(&w, WIRE_ATTR_ACCESS, 1);
        save("bad-wrong-size", true);

        /* an attribute the type does not allow */
        wire_writer_init(&w, WIRE_REQ_STATUS, 1);
        wire_put_u32(&w, WIRE_ATTR_ERROR, 0);
        save("bad-not-allowed", true);

        /* a flag with data */
        wire_writer_init(&w, WIRE_REQ_PURGE, 1);
        wire_put_u32(&w, WIRE_ATTR_ALL, 1);
        save("bad-flag-data", true);

        /* one attribute too many */
        wire_writer_init(&w, WIRE_REQ_PURGE, 1);
        for (unsigned i = 0; i <= WIRE_ATTRS_MAX; i++)
                wire_put_string(&w, WIRE_ATTR_NAME, "n");
        save("bad-too-many-attrs", true);

        /* a CHANNEL in a request, and nested too deep (built by hand) */
        wire_writer_init(&w, WIRE_REQ_LIST, 1);
        wire_nest_begin(&w, WIRE_ATTR_CHANNEL);
        wire_put_string(&w, WIRE_ATTR_NAME, "x");
        wire_nest_end(&w);
        save("bad-nested-in-request", true);

        wire_writer_init(&w, WIRE_REPLY, 1);
        wire_put_u32(&w, WIRE_ATTR_ERROR, 0);
        wire_nest_begin(&w, WIRE_ATTR_CHANNEL);
        wire_put_string(&w, WIRE_ATTR_NAME, "x");
        wire_nest_begin(&w, WIRE_ATTR_CHANNEL);
        wire_put_string(&w, WIRE_ATTR_NAME, "y");
        wire_nest_end(&w);
        wire_nest_end(&w);
        save("bad-nested-too-deep", true);

        /* a CHANNEL entry without its required NAME */
        wire_writer_init(&w, WIRE_REPLY, 1);
        wire_put_u32(&w, WIRE_ATTR_ERROR, 0);
        wire_nest_begin(&w, WIRE_ATTR_CHANNEL);
        wire_put_u32(&w, WIRE_ATTR_TYPE, 1);
        wire_nest_end(&w);
        save("bad-nested-missing-name", true);

        /* attribute type 0 and one past the last */
        wire_writer_init(&w, WIRE_REQ_LIST, 1);
        wire_put_flag(&w, 0);
        save("bad-attr-zero", true);
        wire_writer_init(&w, WIRE_REQ_LIST, 1);
        wire_put_flag(&w, _WIRE_ATTR_MAX);
        save("bad-attr-unknown", true);
#undef BASE
}

int main(int argc, char **argv) {
        if (argc != 2) {
                fprintf(stderr, "usage: %s DIR\n", argv[0]);
                return EXIT_FAILURE;
        }
        outdir = argv[1];
        gen_requests();
        gen_replies();
        gen_limits();
        gen_damaged();
        printf("%u packets written to %s\n", n_written, outdir);
        return EXIT_SUCCESS;
}
