/*
 * test-bridge.c — ipcbroker-bridge's parts that need no NATS server: the
 * out direction's spool (replay in order, torn and interrupted slots, a new
 * shape, an unreadable file, the lock), the in direction's delivery record,
 * the names and subject coverage, and the in-flight index. TAP.
 */
#include "build-config.h"

#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crc32.h"
#include "log.h"
#include "puback.h"
#include "mark.h"
#include "names.h"
#include "spool.h"
#include "tap.h"
#include "tmpdir.h"

static char dir[64];

/* Take MSG with PRIO into the first free slot of SP (the caller knows which). */
static void take(struct spool *sp, uint32_t slot, const char *msg, unsigned prio) {
        unsigned *p;
        char *buf = spool_take_begin(sp, slot, &p);

        memcpy(buf, msg, strlen(msg));
        *p = prio;
        spool_take_commit(sp, slot, strlen(msg));
}

static bool record_is(struct spool *sp, uint32_t slot, const char *msg, unsigned prio) {
        struct spool_record r;

        spool_get(sp, slot, &r);
        return r.len == strlen(msg) && memcmp(r.data, msg, r.len) == 0 && r.prio == prio;
}

static void test_spool_replay(void) {
        struct spool *sp = NULL;
        const uint32_t *replay;
        uint8_t boot[SPOOL_BOOT_ID_SIZE];
        struct spool_record r;
        size_t n;

        is_int(spool_open(dir, "q", 4, 100, &sp), 0, "a new spool opens");
        is_int((int)spool_slots(sp), 4, "with the slots asked for");
        ok(spool_payload_size(sp) >= 100, "each big enough for a message");
        is_int((int)spool_replay(sp, &replay), 0, "a new spool has nothing to replay");
        memcpy(boot, spool_boot_id(sp), sizeof(boot));
        take(sp, 2, "first", 3);
        take(sp, 0, "second", 0);
        take(sp, 3, "third", 31);
        spool_release(sp, 0);
        spool_sync(sp);
        spool_close(sp);

        is_int(spool_open(dir, "q", 4, 100, &sp), 0, "it opens again");
        n = spool_replay(sp, &replay);
        is_int((int)n, 2, "the two unacknowledged messages are to be replayed");
        ok(n == 2 && replay[0] == 2 && replay[1] == 3, "in the order they were taken");
        ok(n == 2 && record_is(sp, 2, "first", 3) && record_is(sp, 3, "third", 31), "with their bytes and priorities");
        spool_get(sp, 2, &r);
        ok(memcmp(r.boot, boot, sizeof(boot)) == 0, "carrying the boot id of the run that took them");
        ok(memcmp(spool_boot_id(sp), boot, sizeof(boot)) != 0, "this run has a boot id of its own");
        is_int((int)r.seq, 1, "the first message has sequence 1");
        take(sp, 0, "fourth", 1);
        spool_get(sp, 0, &r);
        is_int((int)r.seq, 4, "sequences go on across runs");

        struct spool *second = NULL;
        is_int(spool_open(dir, "q", 4, 100, &second), -EBUSY, "a second bridge on the same spool is refused");
        spool_close(sp);
}

/* Flip a byte of slot SLOT's payload in the file, as a torn write would leave it. */
static void corrupt_payload(const char *name, uint32_t slot, size_t slot_size) {
        char path[128];
        int fd;
        char c;

        snprintf(path, sizeof(path), "%s/%s.spool", dir, name);
        fd = open(path, O_RDWR);
        off_t at = 4096 + (off_t)slot * (off_t)slot_size + 64;
        if (pread(fd, &c, 1, at) == 1) {
                c ^= 0x55;
                if (pwrite(fd, &c, 1, at) != 1)
                        diag("pwrite: %s", strerror(errno));
        }
        close(fd);
}

static void test_spool_damage(void) {
        struct spool *sp = NULL;
        const uint32_t *replay;
        unsigned *prio;
        size_t slot_size;

        is_int(spool_open(dir, "d", 4, 100, &sp), 0, "another spool opens");
        slot_size = spool_payload_size(sp) + 64;
        take(sp, 0, "kept", 1);
        take(sp, 1, "torn", 2);
        /* killed while receiving: the kernel wrote the priority, the length never came */
        spool_take_begin(sp, 2, &prio);
        *prio = 5;
        /* killed while waiting: nothing was received */
        spool_take_begin(sp, 3, &prio);
        spool_sync(sp);
        spool_close(sp);
        corrupt_payload("d", 1, slot_size);

        is_int(spool_open(dir, "d", 4, 100, &sp), 0, "a damaged spool opens");
        is_int((int)spool_replay(sp, &replay), 1, "only the intact message is replayed");
        ok(replay[0] == 0 && record_is(sp, 0, "kept", 1), "and it is whole");
        spool_close(sp);
        is_int(spool_open(dir, "d", 4, 100, &sp), 0, "it opens once more");
        is_int((int)spool_replay(sp, &replay), 1, "the bad slots were freed, the good one kept");
        spool_close(sp);
}

static void test_spool_reshape(void) {
        struct spool *sp = NULL;
        const uint32_t *replay;
        size_t n;
        char big[300];

        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        is_int(spool_open(dir, "r", 3, 300, &sp), 0, "a spool for large messages opens");
        take(sp, 0, "a", 0);
        take(sp, 1, big, 7);
        take(sp, 2, "c", 2);
        spool_sync(sp);
        spool_close(sp);

        is_int(spool_open(dir, "r", 2, 50, &sp), 0, "it opens with fewer, smaller slots asked for");
        is_int((int)spool_slots(sp), 3, "it keeps a slot for each message it holds");
        ok(spool_payload_size(sp) >= 299, "and room for the largest");
        n = spool_replay(sp, &replay);
        ok(n == 3 && record_is(sp, replay[0], "a", 0) && record_is(sp, replay[1], big, 7) &&
                   record_is(sp, replay[2], "c", 2),
           "every message survives the new shape, in order");
        spool_release(sp, replay[0]);
        spool_release(sp, replay[1]);
        spool_release(sp, replay[2]);
        spool_close(sp);
        is_int(spool_open(dir, "r", 2, 50, &sp), 0, "emptied, it opens again");
        is_int((int)spool_slots(sp), 2, "now with the shape asked for");
        spool_close(sp);
}

static void test_spool_unreadable(void) {
        struct spool *sp = NULL;
        const uint32_t *replay;
        char path[128], pattern[160];
        glob_t g;
        int fd;

        snprintf(path, sizeof(path), "%s/u.spool", dir);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (write(fd, "not a spool at all\n", 19) != 19)
                diag("write: %s", strerror(errno));
        close(fd);
        is_int(spool_open(dir, "u", 2, 10, &sp), 0, "a file that is not a spool: a new spool opens");
        is_int((int)spool_replay(sp, &replay), 0, "with nothing to replay");
        snprintf(pattern, sizeof(pattern), "%s/u.spool.unreadable.*", dir);
        is_int(glob(pattern, 0, NULL, &g), 0, "the old file is kept aside for a person to look at");
        globfree(&g);
        spool_close(sp);
}

/* A bridge killed right after recording deliveries (no sync, no close): the next start knows them. */
static void test_mark_killed(void) {
        struct mark *m = NULL;
        int status = -1;
        pid_t pid = fork();

        if (pid == 0) {
                if (mark_open(dir, "killed", &m) != 0)
                        _exit(2);
                mark_bind_stream(m, 3000);
                for (uint64_t s = 1; s <= 5000; s++) /* past the room made at first: the file grows on the way */
                        mark_add(m, 2 * s);
                raise(SIGKILL);
                _exit(3);
        }
        waitpid(pid, &status, 0);
        ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "mark: a bridge is killed after 5000 deliveries");
        is_int(mark_open(dir, "killed", &m), 0, "mark: its record opens");
        ok(!mark_bind_stream(m, 3000) && mark_delivered(m, 2) && mark_delivered(m, 10000) && !mark_delivered(m, 9999) &&
                   mark_pending(m) == 5000,
           "mark: every delivery recorded before the kill is known, and nothing else");
        mark_add(m, 10002);
        mark_close(m);
        is_int(mark_open(dir, "killed", &m), 0, "mark: and after one more and a clean stop");
        ok(mark_delivered(m, 10002) && mark_pending(m) == 5001, "mark: it is still right");
        mark_close(m);
}

/* A record that cannot grow (the file size limit standing for a full disk): an error, then it grows later. */
static void test_mark_full(void) {
        struct rlimit fsize, low;
        struct mark *m = NULL;
        int status = -1, good = 1;
        pid_t pid = fork();

        if (pid == 0) {
                signal(SIGXFSZ, SIG_IGN);
                if (mark_open(dir, "full", &m) != 0)
                        _exit(2);
                mark_bind_stream(m, 4000);
                getrlimit(RLIMIT_FSIZE, &fsize);
                /* the first room (4096 entries) is made; the next grow goes past the limit */
                low = (struct rlimit){ .rlim_cur = 64 * 1024, .rlim_max = fsize.rlim_max };
                setrlimit(RLIMIT_FSIZE, &low);
                for (uint64_t s = 1; s <= 4096; s++)
                        good &= mark_add(m, s) == 0;
                good &= mark_add(m, 4097) == -EFBIG && mark_add(m, 4098) == -EFBIG;
                setrlimit(RLIMIT_FSIZE, &fsize);
                good &= mark_add(m, 4099) == 0;
                mark_close(m);
                _exit(good ? 0 : 1);
        }
        waitpid(pid, &status, 0);
        ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
           "mark: a grow that fails is an error (no SIGBUS), and the record grows once it can");
        is_int(mark_open(dir, "full", &m), 0, "mark: it opens");
        ok(mark_delivered(m, 4096) && mark_delivered(m, 4099) && !mark_delivered(m, 4097) && mark_pending(m) == 4097,
           "mark: what was written is known, what failed is not");
        is_int(mark_add(m, 0), -EINVAL, "mark: 0 is no stream sequence");
        mark_close(m);
}

static void test_mark(void) {
        struct mark *m = NULL, *second = NULL;

        is_int(mark_open(dir, "in", &m), 0, "a new record opens");
        ok(!mark_bind_stream(m, 1000), "binding a new record to a stream resets nothing");
        ok(!mark_delivered(m, 1), "nothing delivered yet");
        mark_add(m, 5);
        mark_add(m, 6);
        mark_add(m, 9);
        mark_add(m, 7); /* out of order: a redelivery of a message lost in transit */
        ok(mark_delivered(m, 5) && mark_delivered(m, 7) && mark_delivered(m, 9), "delivered sequences are known");
        ok(!mark_delivered(m, 8) && !mark_delivered(m, 4) && !mark_delivered(m, 10), "others are not");
        is_int(mark_open(dir, "in", &second), -EBUSY, "a second bridge on the same record is refused");
        mark_sync(m);
        mark_close(m);

        is_int(mark_open(dir, "in", &m), 0, "the record opens again");
        ok(!mark_bind_stream(m, 1000), "on the same stream it is kept");
        ok(mark_delivered(m, 6) && mark_delivered(m, 7) && !mark_delivered(m, 8), "as it was");
        mark_floor(m, 7);
        ok(mark_delivered(m, 1) && mark_delivered(m, 7) && mark_delivered(m, 9) && !mark_delivered(m, 8),
           "a floor covers everything below it; what is above stays");
        is_int((int)mark_pending(m), 1, "one sequence is remembered above the floor");
        mark_floor(m, 3);
        ok(mark_delivered(m, 5), "the floor never goes down (a server that forgot acknowledgements)");
        for (uint64_t s = 10; s < 10000; s++)
                mark_add(m, s);
        mark_floor(m, 9990);
        is_int((int)mark_pending(m), 9, "a high floor leaves little to remember");
        mark_close(m);
        is_int(mark_open(dir, "in", &m), 0, "the rewritten record opens");
        ok(mark_delivered(m, 9990) && mark_delivered(m, 9999) && !mark_delivered(m, 10000), "and is right");
        ok(mark_bind_stream(m, 2000), "a stream created anew resets the record");
        ok(!mark_delivered(m, 5), "its sequences start over");
        mark_close(m);
        test_mark_killed();
        test_mark_full();
}

static void test_names(void) {
        ok(names_subject_valid("ipc.jobs", false), "a plain subject");
        ok(!names_subject_valid("ipc..jobs", true) && !names_subject_valid(".a", true) &&
                   !names_subject_valid("a.", true),
           "no empty tokens");
        ok(!names_subject_valid("a b", true) && !names_subject_valid("a\tb", true), "no white space");
        ok(names_subject_valid("ipc.*.x", true) && names_subject_valid("ipc.>", true), "wildcards where allowed");
        ok(!names_subject_valid("ipc.>", false) && !names_subject_valid("ipc.*", false), "not where not");
        ok(!names_subject_valid("ipc.>.x", true) && !names_subject_valid("ipc.a*", true), "'>' last, '*' whole");
        ok(names_subject_covers("ipc.>", "ipc.jobs") && names_subject_covers("ipc.*", "ipc.jobs") &&
                   names_subject_covers("ipc.jobs", "ipc.jobs"),
           "a stream's subject covers the bridge's");
        ok(!names_subject_covers("ipc.*", "ipc.a.b") && !names_subject_covers("ipc.jobs", "ipc.*") &&
                   !names_subject_covers("ipc.*", "ipc.>") && !names_subject_covers("ipc.>", "ipc"),
           "or does not");
        ok(names_subject_covers("ipc.>", "ipc.a.>") && names_subject_covers("ipc.*", "ipc.*"), "wildcards in both");
        ok(names_jetstream_valid("IPC") && !names_jetstream_valid("a.b") && !names_jetstream_valid(""),
           "stream and consumer names");
        ok(names_channel_valid("sensors.temp") && !names_channel_valid(".x") && !names_channel_valid("a/b"),
           "channel names");
        ok(names_origin_valid("host-a.example") && !names_origin_valid("a:b") && !names_origin_valid(""), "origins");
        ok(names_msgid_from("hosta:jobs:0123456789abcdef:42", "hosta"), "a bridge's message id");
        ok(names_msgid_from("hosta:sensors.temp-1_x:0123456789abcdef:1", "hosta"), "with any channel name");
        ok(!names_msgid_from("hosta:a:b:0123456789abcdef:1", "hosta"), "but four fields");
        ok(!names_msgid_from("hosta:jobs:0123456789abcdef:42", "host"), "not of a prefix of the origin");
        ok(!names_msgid_from("hostb:jobs:0123456789abcdef:42", "hosta"), "not of another origin");
        ok(!names_msgid_from("hosta:jobs:0123456789ABCDEf:42", "hosta") &&
                   !names_msgid_from("hosta:jobs:0123456789abcde:42", "hosta") &&
                   !names_msgid_from("hosta:jobs:0123456789abcdef0123456789abcdef:42", "hosta") &&
                   !names_msgid_from("hosta:jobs:0123456789abcdef:4x", "hosta") &&
                   !names_msgid_from("hosta:jobs:0123456789abcdef:", "hosta") &&
                   !names_msgid_from("hosta::0123456789abcdef:42", "hosta") &&
                   !names_msgid_from("hosta:0123456789abcdef:42", "hosta") &&
                   !names_msgid_from("hosta:order-17", "hosta") && !names_msgid_from(NULL, "hosta"),
           "not an id of another shape (another program's, say)");
}

/* JetStream's answers to a publish, as nats-server 2.9 writes them, and some it does not. */
static void test_puback(void) {
        static const char stored[] = "{\"stream\":\"IPC\",\"seq\":42}";
        static const char dup[] = "{\"stream\":\"IPC\", \"seq\": 7, \"duplicate\": true}";
        static const char named_error[] = "{\"stream\":\"error\",\"seq\":1}";
        static const char failed[] =
                "{\"error\":{\"code\":503,\"err_code\":10077,\"description\":\"maximum \\\"messages\\\" exceeded\"}}";
        struct puback a;

        puback_parse(stored, sizeof(stored) - 1, &a);
        ok(a.stored && !a.duplicate, "puback: stored");
        puback_parse(dup, sizeof(dup) - 1, &a);
        ok(a.stored && a.duplicate, "puback: a duplicate, with white space");
        puback_parse(named_error, sizeof(named_error) - 1, &a);
        ok(a.stored && !a.duplicate, "puback: a stream named error is not an error");
        puback_parse(failed, sizeof(failed) - 1, &a);
        ok(!a.stored && a.err_code == 10077, "puback: an error, with its code");
        is_str(a.why, "maximum \"messages\" exceeded", "puback: and its description");
        puback_parse("", 0, &a);
        ok(!a.stored && strstr(a.why, "not an acknowledgement"), "puback: an empty answer is a failure");
        puback_parse(stored, 20, &a);
        ok(!a.stored, "puback: a cut answer (no sequence) is a failure");
        puback_parse("{\"stream\":\"IPC\",\"seq\":x}", 25, &a);
        ok(!a.stored, "puback: a sequence that is not a number is a failure");
}

/* The spool's checksum is CRC-32 (IEEE) as zlib computes it, eight bytes at a time or one. */
static uint32_t crc_bytewise(const uint8_t *p, size_t len) {
        uint32_t c = ~0u;

        while (len--) {
                c ^= *p++;
                for (int k = 0; k < 8; k++)
                        c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        }
        return ~c;
}

static void test_crc32(void) {
        uint8_t buf[1031];
        bool same = true;

        is_int((long long)crc32_add(0, "123456789", 9), 0xCBF43926ll, "crc32: the check value of \"123456789\"");
        for (size_t i = 0; i < sizeof(buf); i++)
                buf[i] = (uint8_t)(i * 131 + 7);
        for (size_t len = 0; len <= sizeof(buf) && same; len += len < 40 ? 1 : 97)
                for (size_t off = 0; off < 8 && off + len <= sizeof(buf); off++)
                        same &= crc32_add(0, buf + off, len) == crc_bytewise(buf + off, len);
        ok(same, "crc32: every length and alignment as the bytewise definition");
        ok(crc32_add(crc32_add(0, buf, 13), buf + 13, sizeof(buf) - 13) == crc32_add(0, buf, sizeof(buf)),
           "crc32: continued over two pieces as over the whole");
}

static void test_log_repeat(void) {
        struct log_repeat r = { 0 };
        uint64_t held = 99;

        ok(log_repeat_due(&r, "refused", 1000, &held) && held == 0, "log_repeat: a new line is logged");
        ok(!log_repeat_due(&r, "refused", 1000 + LOG_REPEAT_MS - 1, &held),
           "log_repeat: its repeat within the quiet time is not");
        ok(!log_repeat_due(&r, "refused", 2000, &held), "log_repeat: nor a second one");
        ok(log_repeat_due(&r, "refused", 1000 + LOG_REPEAT_MS, &held) && held == 2,
           "log_repeat: once the quiet time is over it is, counting the 2 held back");
        ok(log_repeat_due(&r, "other", 1000 + LOG_REPEAT_MS, &held) && held == 0, "log_repeat: another line at once");
        ok(log_repeat_due(&r, "other", 10, &held) && held == 0,
           "log_repeat: a clock that stepped back ends the quiet time");
        ok(log_repeat_due(&r, "other", 20, NULL) == false, "log_repeat: HELD may be NULL");
}

int main(void) {
        snprintf(dir, sizeof(dir), "/tmp/test-bridge.XXXXXX");
        if (!mkdtemp(dir)) {
                printf("Bail out! mkdtemp: %s\n", strerror(errno));
                return 1;
        }
        test_spool_replay();
        test_spool_damage();
        test_spool_reshape();
        test_spool_unreadable();
        test_mark();
        test_names();
        test_puback();
        test_crc32();
        test_log_repeat();
        tmpdir_remove(dir);
        return done_testing();
}
