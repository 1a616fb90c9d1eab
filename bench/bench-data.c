/*
 * bench-data.c — parts 1 and 2: the data path.
 *
 * One-way throughput and two-channel ping-pong latency, 64 B and 1 KiB
 * messages, on a queue and on a FIFO: the raw kernel calls on an object with
 * the same attributes (baseline) against libipcbroker on a broker channel.
 *
 * Throughput: the sender sends as fast as it can for one round's budget,
 * then a one-byte end marker; the receiver times the messages it received
 * after a warm-up, so the figure is what was delivered. Ping-pong: A sends
 * on one channel, B echoes on the other, A times each round trip. The
 * variants run in interleaved rounds (raw, lib, lib, raw, ...) so that both
 * see the same machine; throughput is the median of the rounds, latencies
 * are quantiles of all samples.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ipcbroker.h>

#include "bench.h"

#define QUEUE_DEPTH 10 /* fs.mqueue.msg_max: what an unprivileged user gets */
#define FIFO_CAPACITY 65536
#define WARMUP_MESSAGES 2000
#define END_MARKER_LEN 1

enum variant { V_RAW, V_LIB };

enum kind { K_MQ, K_FIFO };

struct ep {
        enum variant v;
        enum kind k;
        int fd;
        ipcb_channel *ch;
};

/* The raw objects: queues named PREFIX "raw." NAME, FIFOs in bench_dir/raw/NAME. */
static const char *const names[] = { "mq64a", "mq64b", "mq1ka", "mq1kb", "fifo64a", "fifo64b", "fifo1ka", "fifo1kb" };
static int raw_fifo_keep[8] = { -1, -1, -1, -1, -1, -1, -1, -1 };
static bool raw_created;

static void raw_mq_name(char *buf, size_t size, const char *name) {
        snprintf(buf, size, "%sraw.%s", bench_mq_prefix, name);
}

static void raw_fifo_path(char *buf, size_t size, const char *name) {
        snprintf(buf, size, "%s/raw/%s", bench_dir, name);
}

static long size_of(const char *name) {
        return strstr(name, "64") ? 64 : 1024;
}

void bench_data_declare(struct daemon *d) {
        for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
                if (names[i][0] == 'm')
                        daemon_conf_append(d,
                                           "\n[channel %s]\ntype = mqueue\nmax_messages = %d\nmessage_size = %ld\n"
                                           "on_stop = remove\n",
                                           names[i], QUEUE_DEPTH, size_of(names[i]));
                else
                        daemon_conf_append(d,
                                           "\n[channel %s]\ntype = fifo\nmessage_size = %ld\ncapacity = %d\n"
                                           "on_stop = remove\n",
                                           names[i], size_of(names[i]), FIFO_CAPACITY);
        }
}

/* Create the raw baseline objects, with the same attributes as the channels. */
static int raw_create(void) {
        char path[400];

        snprintf(path, sizeof(path), "%s/raw", bench_dir);
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                return -errno;
        raw_created = true;
        for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
                if (names[i][0] == 'm') {
                        struct mq_attr a = { .mq_maxmsg = QUEUE_DEPTH, .mq_msgsize = size_of(names[i]) };
                        mqd_t q;
                        raw_mq_name(path, sizeof(path), names[i]);
                        q = mq_open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &a);
                        if (q == (mqd_t)-1) {
                                int e = errno;
                                warn("mq_open %s: %s", path,
                                     e == EMFILE ? "RLIMIT_MSGQUEUE of this user is exhausted (EMFILE)" : strerror(e));
                                return -e;
                        }
                        mq_close(q);
                } else {
                        raw_fifo_path(path, sizeof(path), names[i]);
                        if (mkfifo(path, 0600) < 0)
                                return -errno;
                        /* like the daemon: hold it open read-write so opens never block */
                        raw_fifo_keep[i] = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
                        if (raw_fifo_keep[i] < 0)
                                return -errno;
                        if (fcntl(raw_fifo_keep[i], F_SETPIPE_SZ, FIFO_CAPACITY) < 0)
                                return -errno;
                }
        }
        return 0;
}

/* The broker's own queues, should its daemon have been killed before it could remove them. */
void bench_data_unlink_channels(const struct daemon *d) {
        char path[400];

        for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
                if (names[i][0] == 'm') {
                        snprintf(path, sizeof(path), "%s%s", d->mq_prefix, names[i]);
                        mq_unlink(path);
                }
}

void bench_data_cleanup(void) {
        char path[400];

        if (!raw_created)
                return;
        for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
                if (names[i][0] == 'm') {
                        raw_mq_name(path, sizeof(path), names[i]);
                        mq_unlink(path);
                } else if (raw_fifo_keep[i] >= 0) {
                        close(raw_fifo_keep[i]);
                        raw_fifo_keep[i] = -1;
                }
        }
        raw_created = false;
}

static int ep_open(struct ep *e, enum variant v, const char *name, bool send) {
        char path[400];

        memset(e, 0, sizeof(*e));
        e->v = v;
        e->k = name[0] == 'm' ? K_MQ : K_FIFO;
        e->fd = -1;
        if (v == V_LIB) {
                int r = ipcb_open(name, send ? IPCB_SEND : IPCB_RECV, &e->ch);
                if (r < 0)
                        warn("ipcb_open %s: %s", name, ipcb_strerror(r));
                return r;
        }
        if (e->k == K_MQ) {
                raw_mq_name(path, sizeof(path), name);
                e->fd = (int)mq_open(path, (send ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
        } else {
                raw_fifo_path(path, sizeof(path), name);
                e->fd = open(path, (send ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
                /* packet mode on the writer's description: one write, one message */
                if (e->fd >= 0 && send && fcntl(e->fd, F_SETFL, O_DIRECT) < 0)
                        return -errno;
        }
        if (e->fd < 0) {
                warn("open %s: %s", path, strerror(errno));
                return -errno;
        }
        return 0;
}

static void ep_close(struct ep *e) {
        if (e->ch)
                ipcb_close(e->ch);
        if (e->fd >= 0)
                close(e->fd);
        e->ch = NULL;
        e->fd = -1;
}

static inline int ep_send(struct ep *e, const void *buf, size_t len) {
        if (e->v == V_LIB)
                return ipcb_send(e->ch, buf, len, 0);
        if (e->k == K_MQ)
                return mq_send((mqd_t)e->fd, buf, len, 0) < 0 ? -errno : 0;
        return write(e->fd, buf, len) == (ssize_t)len ? 0 : -errno;
}

static inline ssize_t ep_recv(struct ep *e, void *buf, size_t size) {
        ssize_t n;

        if (e->v == V_LIB)
                return ipcb_recv(e->ch, buf, size, NULL);
        if (e->k == K_MQ)
                n = mq_receive((mqd_t)e->fd, buf, size, NULL);
        else
                n = read(e->fd, buf, size);
        return n < 0 ? -errno : n;
}

/* ---- one throughput round: returns messages per second, or -1 ---- */

struct tput_result {
        uint64_t count;
        uint64_t ns;
        int error;
};

static double tput_round(enum variant v, const char *name) {
        long size = size_of(name);
        char buf[1024];
        int ready[2], done[2];
        struct tput_result res;
        struct ep tx;
        uint64_t end;
        pid_t pid;
        int r;

        memset(buf, 'x', sizeof(buf));
        if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(done, O_CLOEXEC) < 0)
                die("pipe: %s", strerror(errno));
        pid = fork();
        if (pid < 0)
                die("fork: %s", strerror(errno));
        if (pid == 0) {
                struct ep rx;
                uint64_t n = 0, t0 = 0;
                char c = 1;

                close(ready[0]);
                close(done[0]);
                bench_pin(1);
                memset(&res, 0, sizeof(res));
                if (ep_open(&rx, v, name, false) < 0)
                        _exit(1);
                write_full(ready[1], &c, 1);
                for (;;) {
                        ssize_t m = ep_recv(&rx, buf, (size_t)size);
                        if (m < 0) {
                                res.error = (int)-m;
                                break;
                        }
                        if (m == END_MARKER_LEN)
                                break;
                        if (++n == WARMUP_MESSAGES)
                                t0 = now_ns();
                }
                if (!res.error) {
                        res.ns = t0 ? now_ns() - t0 : 0;
                        res.count = n > WARMUP_MESSAGES ? n - WARMUP_MESSAGES : 0;
                }
                write_full(done[1], &res, sizeof(res));
                ep_close(&rx);
                _exit(0);
        }
        close(ready[1]);
        close(done[1]);
        r = ep_open(&tx, v, name, true);
        if (r < 0 || read_full(ready[0], buf, 1) < 0) {
                kill(pid, SIGKILL);
                wait_child(pid);
                if (r == 0)
                        ep_close(&tx);
                close(ready[0]);
                close(done[0]);
                return -1;
        }
        memset(buf, 'x', sizeof(buf));
        /* the warm-up is not timed by the receiver; the budget starts after it */
        for (int i = 0; i < WARMUP_MESSAGES; i++)
                if (ep_send(&tx, buf, (size_t)size) < 0)
                        break;
        end = now_ns() + round_budget_ns();
        for (uint64_t i = 0;; i++) {
                if ((r = ep_send(&tx, buf, (size_t)size)) < 0) {
                        warn("send on %s: %s", name, strerror(-r));
                        break;
                }
                if ((i & 255) == 0 && now_ns() >= end)
                        break;
        }
        ep_send(&tx, buf, END_MARKER_LEN);
        memset(&res, 0, sizeof(res));
        r = read_full(done[0], &res, sizeof(res));
        close(ready[0]);
        close(done[0]);
        ep_close(&tx);
        wait_child(pid);
        if (r < 0 || res.error || res.ns == 0) {
                warn("throughput round on %s failed (%s)", name, res.error ? strerror(res.error) : "no result");
                return -1;
        }
        return (double)res.count * 1e9 / (double)res.ns;
}

/* ---- one ping-pong round: adds round-trip samples ---- */

static int pingpong_round(enum variant v, const char *a, const char *b, struct samples *s) {
        long size = size_of(a);
        char buf[1024];
        int ready[2];
        struct ep tx, rx;
        uint64_t end;
        pid_t pid;
        int r = 0;

        if (pipe2(ready, O_CLOEXEC) < 0)
                die("pipe: %s", strerror(errno));
        pid = fork();
        if (pid < 0)
                die("fork: %s", strerror(errno));
        if (pid == 0) {
                /* the echo side: receive on A, send back on B */
                struct ep ein, eout;
                char c = 1;

                close(ready[0]);
                bench_pin(1);
                if (ep_open(&ein, v, a, false) < 0 || ep_open(&eout, v, b, true) < 0)
                        _exit(1);
                write_full(ready[1], &c, 1);
                for (;;) {
                        ssize_t m = ep_recv(&ein, buf, (size_t)size);
                        if (m < 0 || m == END_MARKER_LEN)
                                break;
                        if (ep_send(&eout, buf, (size_t)m) < 0)
                                break;
                }
                ep_close(&ein);
                ep_close(&eout);
                _exit(0);
        }
        close(ready[1]);
        tx.ch = rx.ch = NULL;
        tx.fd = rx.fd = -1;
        if (ep_open(&tx, v, a, true) < 0 || ep_open(&rx, v, b, false) < 0 || read_full(ready[0], buf, 1) < 0) {
                kill(pid, SIGKILL);
                wait_child(pid);
                ep_close(&tx);
                ep_close(&rx);
                close(ready[0]);
                return -1;
        }
        memset(buf, 'x', sizeof(buf));
        for (int i = 0; i < WARMUP_MESSAGES / 4; i++)
                if (ep_send(&tx, buf, (size_t)size) < 0 || ep_recv(&rx, buf, (size_t)size) < 0) {
                        r = -1;
                        break;
                }
        end = now_ns() + round_budget_ns();
        while (r == 0) {
                uint64_t t0 = now_ns(), t1;
                if (ep_send(&tx, buf, (size_t)size) < 0 || ep_recv(&rx, buf, (size_t)size) < 0) {
                        r = -1;
                        break;
                }
                t1 = now_ns();
                samples_add(s, t1 - t0);
                if (t1 >= end)
                        break;
        }
        ep_send(&tx, buf, END_MARKER_LEN);
        ep_close(&tx);
        ep_close(&rx);
        close(ready[0]);
        wait_child(pid);
        if (r < 0)
                warn("ping-pong round on %s/%s failed", a, b);
        return r;
}

/* ---- the measurements ---- */

#define MAX_ROUNDS 64

static void measure(enum kind k, long size) {
        const char *a = k == K_MQ ? (size == 64 ? "mq64a" : "mq1ka") : (size == 64 ? "fifo64a" : "fifo1ka");
        const char *b = k == K_MQ ? (size == 64 ? "mq64b" : "mq1kb") : (size == 64 ? "fifo64b" : "fifo1kb");
        const char *part = k == K_MQ ? "1" : "2";
        const char *raw_name = k == K_MQ ? "raw mq_send/mq_receive" : "raw write/read, O_DIRECT";
        const char *lib_name = k == K_MQ ? "ipcb_send/ipcb_recv, mqueue" : "ipcb_send/ipcb_recv, FIFO";
        const char *sz = size == 64 ? "64 B" : "1 KiB";
        int rounds = opts.smoke ? 1 : opts.rounds > MAX_ROUNDS ? MAX_ROUNDS : opts.rounds;
        double tput[2][MAX_ROUNDS], p50[2][MAX_ROUNDS], p99[2][MAX_ROUNDS], tput_all[2][MAX_ROUNDS];
        struct samples pp[2] = {};
        int nt[2] = { 0, 0 };
        char what[64];
        struct row *row;

        info("part %s: %s %s throughput", part, k == K_MQ ? "queue" : "FIFO", sz);
        if (!opts.smoke) {
                /* an untimed round of each, so neither variant pays for cold caches */
                tput_round(V_RAW, a);
                tput_round(V_LIB, a);
        }
        for (int i = 0; i < rounds; i++)
                for (int j = 0; j < 2; j++) {
                        enum variant v = (i + j) % 2 ? V_LIB : V_RAW; /* raw lib, lib raw, ... */
                        double t = tput_round(v, a);
                        info("  round %d %s: %.0f msg/s", i, v == V_LIB ? "lib" : "raw", t);
                        tput[v][i] = t;
                        if (t > 0)
                                tput_all[v][nt[v]++] = t;
                }
        info("part %s: %s %s ping-pong", part, k == K_MQ ? "queue" : "FIFO", sz);
        for (int i = 0; i < rounds; i++)
                for (int j = 0; j < 2; j++) {
                        enum variant v = (i + j) % 2 ? V_LIB : V_RAW;
                        struct samples one = {};
                        p50[v][i] = p99[v][i] = -1;
                        if (pingpong_round(v, a, b, &one) == 0 && one.n) {
                                for (size_t m = 0; m < one.n; m++)
                                        samples_add(&pp[v], one.v[m]);
                                p50[v][i] = samples_quantile(&one, 0.50);
                                p99[v][i] = samples_quantile(&one, 0.99);
                        }
                        samples_free(&one);
                }

        snprintf(what, sizeof(what), "%s %s one-way throughput", k == K_MQ ? "queue" : "FIFO", sz);
        row = table_add(part, what, raw_name, median_of(tput_all[V_RAW], (size_t)nt[V_RAW]), lib_name,
                        median_of(tput_all[V_LIB], (size_t)nt[V_LIB]), U_RATE);
        row_target(row, T_RATIO_MIN, k == K_MQ ? 0.97 : 0.90);
        row_paired(row, tput[V_LIB], tput[V_RAW], rounds);
        if (k == K_MQ && size == 64)
                shared.mq64_tput_raw = row->base;

        double raw50 = pp[V_RAW].n ? samples_quantile(&pp[V_RAW], 0.50) : -1;
        double lib50 = pp[V_LIB].n ? samples_quantile(&pp[V_LIB], 0.50) : -1;
        double raw99 = pp[V_RAW].n ? samples_quantile(&pp[V_RAW], 0.99) : -1;
        double lib99 = pp[V_LIB].n ? samples_quantile(&pp[V_LIB], 0.99) : -1;
        snprintf(what, sizeof(what), "%s %s ping-pong p50", k == K_MQ ? "queue" : "FIFO", sz);
        row = table_add(part, what, raw_name, raw50, lib_name, lib50, U_NS);
        /* queues: <= 1.03x raw; FIFOs: >= 0.90x raw speed, i.e. <= 1/0.90 of its latency */
        row_target(row, T_RATIO_MAX, k == K_MQ ? 1.03 : 1 / 0.90);
        row_paired(row, p50[V_LIB], p50[V_RAW], rounds);
        snprintf(what, sizeof(what), "%s %s ping-pong p99", k == K_MQ ? "queue" : "FIFO", sz);
        row = table_add(part, what, raw_name, raw99, lib_name, lib99, U_NS);
        row_paired(row, p99[V_LIB], p99[V_RAW], rounds);
        if (k == K_MQ && size == 64) {
                shared.mq64_pingpong_raw_p50 = raw50;
                shared.mq64_pingpong_lib_p50 = lib50;
        }
        samples_free(&pp[0]);
        samples_free(&pp[1]);
}

int bench_data(struct daemon *d) {
        cpu_set_t all;

        (void)d;
        sched_getaffinity(0, sizeof(all), &all);
        bench_pin(0);
        signal(SIGPIPE, SIG_IGN); /* the raw baseline must not die of a pipe without readers */
        if (raw_create() < 0) {
                if (opts.parts & PART(1))
                        table_skip("1", "queue data path", "skipped: cannot create the raw queues");
                if (opts.parts & PART(2))
                        table_skip("2", "FIFO data path", "skipped: cannot create the raw FIFOs");
                bench_data_cleanup();
                return -1;
        }
        if (opts.parts & PART(1)) {
                measure(K_MQ, 64);
                measure(K_MQ, 1024);
        }
        if (opts.parts & PART(2)) {
                measure(K_FIFO, 64);
                measure(K_FIFO, 1024);
        }
        bench_data_cleanup();
        sched_setaffinity(0, sizeof(all), &all);
        return 0;
}
