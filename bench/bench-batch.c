/*
 * bench-batch.c — part 5: batches against ZeroMQ, the fastest peer.
 *
 * One-way throughput of 64-byte messages, one sender process and one
 * receiver process, the same message count for every variant of a round:
 *
 *  - B: ZeroMQ ipc:// PUSH (connects) -> PULL (binds), default options but
 *       a high-water mark of 100,000 on both sides; zmq_send/zmq_recv of
 *       one 64-byte message each (ZeroMQ batches in its I/O threads).
 *  - X: ipcb_sendv of 60 messages per call on a framing=batch FIFO channel
 *       (one atomic 3,960-byte pipe packet), ipcb_recvv into 64 buffers.
 *  - info: ipcb_send/ipcb_recv one message at a time on the same batch
 *       FIFO, and ipcb_sendv/ipcb_recvv on a queue channel (a loop of
 *       mq_send/mq_receive in the library).
 *
 * Every message carries its sender and sequence number; the receiver checks
 * that each arrives exactly once and in order per sender, and a round with a
 * single loss, duplicate or reordering fails the part. A separate run with
 * two senders (once per variant) checks the same under concurrency.
 *
 * Rounds interleave ZeroMQ and the batch FIFO (zmq batch, batch zmq, ...);
 * the ratio is the median of the per-round ratios. The info variants run in
 * every fourth round. Without libzmq (HAVE_ZMQ undefined at configure time)
 * the ZeroMQ rows say "skipped: libzmq not found" and the library rows are
 * still measured.
 */
#define _GNU_SOURCE
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef HAVE_ZMQ
#include <zmq.h>
#endif

#include <ipcbroker.h>

#include "bench.h"

#define BATCH_FIFO "batch64" /* type = fifo, framing = batch, message_size = 64 */
#define BATCH_MQ "batchmq64" /* type = mqueue, 10 x 64 B */
#define MSG_SIZE 64
#define SEND_BATCH 60 /* 60 x (2 + 64) = 3,960 bytes: one packet within PIPE_BUF */
#define RECV_BATCH 64
#define WARMUP 20000 /* messages per sender before the receiver starts its clock */
#define MAX_SENDERS 4
#define ZMQ_HWM 100000
#define MSG_MAGIC 0x62746368u /* "btch" */
#define END_MAGIC 0x656e6421u /* "end!": the end marker, one per sender */
#define END_SIZE 8            /* u32 magic, u32 sender */
#define MAX_ROUNDS 64
#define STALL_S 10 /* a receiver still waiting this long after every sender finished lost messages */
#define STALL_TEXT "10 s"

enum bvariant { B_ZMQ, B_FIFO_BATCH, B_FIFO_SINGLE, B_MQ_BATCH, B_N };

static const char *const bvariant_name[B_N] = {
        [B_ZMQ] = "ZeroMQ ipc:// PUSH/PULL",
        [B_FIFO_BATCH] = "ipcb_sendv/recvv, batch FIFO",
        [B_FIFO_SINGLE] = "ipcb_send/recv, batch FIFO",
        [B_MQ_BATCH] = "ipcb_sendv/recvv, mqueue",
};

/* The head of every message; the rest is filler. */
struct bmsg {
        uint32_t magic;
        uint32_t sender;
        uint64_t seq;
};

/* What the receiver reports. */
struct bres {
        uint64_t timed; /* messages received after the clock started */
        uint64_t ns;
        uint64_t received;          /* all messages, warm-up included */
        uint64_t bad;               /* lost, duplicated, reordered or malformed */
        uint64_t next[MAX_SENDERS]; /* the sequence number due next from each sender */
        int ends;                   /* end markers received */
        int error;                  /* errno of a failed call */
        int stalled;                /* reported on SIGUSR1: still waiting when every sender was done */
        char what[96];              /* the first problem */
};

static int counter;
static int batch_failures;
static int variant_failures[B_N]; /* rounds that lost, duplicated or reordered messages */

void bench_batch_declare(struct daemon *d) {
        daemon_conf_append(d,
                           "\n[channel %s]\ntype = fifo\nframing = batch\nmessage_size = %d\ncapacity = 65536\n"
                           "on_stop = remove\n",
                           BATCH_FIFO, MSG_SIZE);
        daemon_conf_append(d, "\n[channel %s]\ntype = mqueue\nmax_messages = 10\nmessage_size = %d\non_stop = remove\n",
                           BATCH_MQ, MSG_SIZE);
}

void bench_batch_unlink_channels(const struct daemon *d) {
        char path[300];

        snprintf(path, sizeof(path), "%s%s", d->mq_prefix, BATCH_MQ);
        mq_unlink(path);
}

static bool have_zmq(void) {
#ifdef HAVE_ZMQ
        return true;
#else
        return false;
#endif
}

/* ---- the receiver's check: every message once, in order, per sender ---- */

struct checker {
        int senders;
        struct bres *res;
};

static void check_problem(struct checker *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check_problem(struct checker *c, const char *fmt, ...) {
        va_list ap;

        if (c->res->bad++ == 0) {
                va_start(ap, fmt);
                vsnprintf(c->res->what, sizeof(c->res->what), fmt, ap);
                va_end(ap);
        }
}

/* One message of LEN bytes: returns true when it was an end marker. */
static inline bool check_one(struct checker *c, const void *buf, size_t len) {
        struct bmsg m;

        if (len == END_SIZE) {
                uint32_t h[2];
                memcpy(h, buf, sizeof(h));
                if (h[0] == END_MAGIC && h[1] < (uint32_t)c->senders) {
                        c->res->ends++;
                        return true;
                }
        }
        if (len != MSG_SIZE) {
                check_problem(c, "a message of %zu bytes", len);
                return false;
        }
        memcpy(&m, buf, sizeof(m));
        if (m.magic != MSG_MAGIC || m.sender >= (uint32_t)c->senders) {
                check_problem(c, "a malformed message");
                return false;
        }
        if (m.seq != c->res->next[m.sender]) {
                check_problem(c, "sender %u: message %llu where %llu was due", m.sender, (unsigned long long)m.seq,
                              (unsigned long long)c->res->next[m.sender]);
                if (m.seq < c->res->next[m.sender])
                        return false; /* a duplicate or a late one: keep waiting for the due one */
        }
        c->res->next[m.sender] = m.seq + 1;
        c->res->received++;
        return false;
}

/* ---- one process of a round ---- */

struct endpoint {
        enum bvariant v;
        ipcb_channel *ch;
#ifdef HAVE_ZMQ
        void *ctx, *sock;
#endif
};

static int ep_open(struct endpoint *e, enum bvariant v, bool send, const char *zmq_endpoint) {
        int r;

        memset(e, 0, sizeof(*e));
        e->v = v;
        if (v != B_ZMQ) {
                r = ipcb_open(v == B_MQ_BATCH ? BATCH_MQ : BATCH_FIFO, send ? IPCB_SEND : IPCB_RECV, &e->ch);
                if (r < 0)
                        warn("ipcb_open %s: %s", v == B_MQ_BATCH ? BATCH_MQ : BATCH_FIFO, ipcb_strerror(r));
                return r;
        }
#ifdef HAVE_ZMQ
        int hwm = ZMQ_HWM;
        e->ctx = zmq_ctx_new();
        if (!e->ctx)
                return -errno;
        e->sock = zmq_socket(e->ctx, send ? ZMQ_PUSH : ZMQ_PULL);
        if (!e->sock || zmq_setsockopt(e->sock, send ? ZMQ_SNDHWM : ZMQ_RCVHWM, &hwm, sizeof(hwm)) < 0 ||
            (send ? zmq_connect(e->sock, zmq_endpoint) : zmq_bind(e->sock, zmq_endpoint)) < 0) {
                r = -errno;
                warn("zmq %s %s: %s", send ? "connect" : "bind", zmq_endpoint, zmq_strerror(errno));
                return r;
        }
        return 0;
#else
        (void)zmq_endpoint;
        return -ENOTSUP;
#endif
}

static void ep_close(struct endpoint *e) {
        if (e->ch)
                ipcb_close(e->ch);
        e->ch = NULL;
#ifdef HAVE_ZMQ
        if (e->sock)
                zmq_close(e->sock); /* the default linger: zmq_ctx_term waits until all is delivered */
        if (e->ctx)
                while (zmq_ctx_term(e->ctx) < 0 && errno == EINTR)
                        ;
        e->sock = e->ctx = NULL;
#endif
}

static void fill(char *buf, uint32_t sender, uint64_t seq) {
        struct bmsg m = { .magic = MSG_MAGIC, .sender = sender, .seq = seq };
        memcpy(buf, &m, sizeof(m));
}

/* The sender: WARMUP + COUNT messages, then its end marker. Returns 0 or a negative errno. */
static int sender_run(struct endpoint *e, uint32_t id, uint64_t count) {
        static char bufs[SEND_BATCH][MSG_SIZE];
        ipcb_msg msgs[SEND_BATCH];
        uint64_t total = WARMUP + count, seq = 0;
        uint32_t end[2] = { END_MAGIC, id };
        int r;

        memset(bufs, 'x', sizeof(bufs));
        switch (e->v) {
        case B_ZMQ:
#ifdef HAVE_ZMQ
                for (; seq < total; seq++) {
                        fill(bufs[0], id, seq);
                        while ((r = zmq_send(e->sock, bufs[0], MSG_SIZE, 0)) < 0 && errno == EINTR)
                                ;
                        if (r != MSG_SIZE)
                                return -errno;
                }
                while ((r = zmq_send(e->sock, end, sizeof(end), 0)) < 0 && errno == EINTR)
                        ;
                return r == (int)sizeof(end) ? 0 : -errno;
#else
                return -ENOTSUP;
#endif
        case B_FIFO_SINGLE:
                for (; seq < total; seq++) {
                        fill(bufs[0], id, seq);
                        r = ipcb_send(e->ch, bufs[0], MSG_SIZE, 0);
                        if (r < 0)
                                return r;
                }
                return ipcb_send(e->ch, end, sizeof(end), 0);
        case B_FIFO_BATCH:
        case B_MQ_BATCH:
                while (seq < total) {
                        size_t k = total - seq < SEND_BATCH ? (size_t)(total - seq) : SEND_BATCH;
                        for (size_t i = 0; i < k; i++) {
                                fill(bufs[i], id, seq + i);
                                msgs[i] = (ipcb_msg){ .data = bufs[i], .len = MSG_SIZE, .prio = 0 };
                        }
                        for (size_t done = 0; done < k;) {
                                r = ipcb_sendv(e->ch, msgs + done, k - done, -1);
                                if (r <= 0)
                                        return r < 0 ? r : -EIO;
                                done += (size_t)r;
                        }
                        seq += k;
                }
                return ipcb_send(e->ch, end, sizeof(end), 0);
        default:
                return -EINVAL;
        }
}

/* A stalled receiver, asked by the parent (SIGUSR1): what it got so far, then exit. */
static struct bres *stall_res;
static int stall_fd = -1;

static void on_stall(int sig) {
        (void)sig;
        if (stall_res && stall_fd >= 0) {
                stall_res->stalled = 1;
                if (write(stall_fd, stall_res, sizeof(*stall_res)) < 0) {
                        /* the parent reports the stall without details */
                }
        }
        _exit(3);
}

/* The receiver: until every sender's end marker; times what came after the warm-up. */
static void receiver_run(struct endpoint *e, int senders, struct bres *res) {
        static char bufs[RECV_BATCH][MSG_SIZE];
        ipcb_msg msgs[RECV_BATCH];
        struct checker c = { .senders = senders, .res = res };
        uint64_t t0 = 0, base = 0, warm = (uint64_t)WARMUP * (uint64_t)senders;
        ssize_t n;

        memset(res, 0, sizeof(*res));
        while (res->ends < senders) {
                switch (e->v) {
                case B_ZMQ:
#ifdef HAVE_ZMQ
                        n = zmq_recv(e->sock, bufs[0], MSG_SIZE, 0);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n < 0) {
                                res->error = errno;
                                return;
                        }
                        check_one(&c, bufs[0], (size_t)n);
                        break;
#else
                        res->error = ENOTSUP;
                        return;
#endif
                case B_FIFO_SINGLE:
                        n = ipcb_recv(e->ch, bufs[0], MSG_SIZE, NULL);
                        if (n < 0) {
                                res->error = (int)-n;
                                return;
                        }
                        check_one(&c, bufs[0], (size_t)n);
                        break;
                case B_FIFO_BATCH:
                case B_MQ_BATCH:
                        for (int i = 0; i < RECV_BATCH; i++)
                                msgs[i] = (ipcb_msg){ .data = bufs[i], .len = MSG_SIZE };
                        n = ipcb_recvv(e->ch, msgs, RECV_BATCH, -1);
                        if (n < 0) {
                                res->error = (int)-n;
                                return;
                        }
                        for (ssize_t i = 0; i < n; i++)
                                check_one(&c, msgs[i].data, msgs[i].len);
                        break;
                default:
                        res->error = EINVAL;
                        return;
                }
                if (!t0 && res->received >= warm) {
                        t0 = now_ns();
                        base = res->received;
                }
        }
        res->ns = t0 ? now_ns() - t0 : 0;
        res->timed = res->received - base;
}

/* ---- one round: SENDERS sender processes, one receiver process, COUNT messages each ---- */

static void kill_all(pid_t *pids, int n) {
        for (int i = 0; i < n; i++)
                if (pids[i] > 0) {
                        kill(pids[i], SIGKILL);
                        wait_child(pids[i]);
                        pids[i] = -1;
                }
}

/*
 * Returns the receiver's throughput (messages/s), or -1 when the round could
 * not run; an integrity problem is reported and counted in batch_failures.
 */
static double batch_round(enum bvariant v, int senders, uint64_t count, struct bres *out) {
        char endpoint[400];
        int ready[2], go[2], result[2];
        pid_t pids[1 + MAX_SENDERS]; /* [0] the receiver */
        struct bres res;
        uint64_t deadline;
        char c = 1, why[96] = "";
        int st, failed = 0;

        snprintf(endpoint, sizeof(endpoint), "ipc://%s/zmq-%d.sock", bench_dir, ++counter);
        if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0 || pipe2(result, O_CLOEXEC) < 0)
                die("pipe: %s", strerror(errno));
        fflush(NULL);
        for (int i = 0; i <= senders; i++) {
                pids[i] = fork();
                if (pids[i] < 0)
                        die("fork: %s", strerror(errno));
                if (pids[i] == 0) {
                        struct endpoint e;
                        close(ready[0]);
                        close(go[1]);
                        close(result[0]);
                        signal(SIGPIPE, SIG_IGN);
                        if (i == 0) {
                                /* the receiver: bind/open, say so, receive, report */
                                bench_pin(1);
                                close(go[0]);
                                if (ep_open(&e, v, false, endpoint) < 0)
                                        _exit(1);
                                memset(&res, 0, sizeof(res));
                                stall_res = &res;
                                stall_fd = result[1];
                                signal(SIGUSR1, on_stall);
                                write_full(ready[1], &c, 1);
                                receiver_run(&e, senders, &res);
                                signal(SIGUSR1, SIG_DFL);
                                write_full(result[1], &res, sizeof(res));
                                ep_close(&e);
                                _exit(0);
                        }
                        /* a sender: wait for the go (the receiver is bound), connect/open, send */
                        bench_pin(0);
                        close(ready[1]);
                        close(result[1]);
                        if (read_full(go[0], &c, 1) < 0)
                                _exit(1);
                        if (ep_open(&e, v, true, endpoint) < 0)
                                _exit(1);
                        int r = sender_run(&e, (uint32_t)(i - 1), count);
                        if (r < 0)
                                warn("%s: sending failed: %s", bvariant_name[v], strerror(-r));
                        ep_close(&e);
                        _exit(r < 0 ? 1 : 0);
                }
        }
        close(ready[1]);
        close(go[0]);
        close(result[1]);
        if (read_full(ready[0], &c, 1) < 0) {
                snprintf(why, sizeof(why), "the receiver did not start");
                failed = 1;
        } else {
                for (int i = 0; i < senders; i++)
                        write_full(go[1], &c, 1);
        }
        close(go[1]);
        memset(&res, 0, sizeof(res));
        /*
         * Wait for the result. A sender that fails would leave the receiver
         * waiting forever, and so would lost messages: once every sender is
         * done, the receiver gets STALL_S seconds, then reports what it has.
         */
        deadline = now_ns() + 300 * 1000000000ull;
        while (!failed) {
                struct pollfd p = { .fd = result[0], .events = POLLIN };
                int r = poll(&p, 1, 100), running = 0;
                if (r > 0) {
                        if (read_full(result[0], &res, sizeof(res)) < 0) {
                                snprintf(why, sizeof(why), "the receiver reported nothing");
                                failed = 1;
                        }
                        break;
                }
                for (int i = 1; i <= senders; i++) {
                        if (pids[i] > 0 && waitpid(pids[i], &st, WNOHANG) == pids[i]) {
                                pids[i] = -1;
                                if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                                        snprintf(why, sizeof(why), "sender %d: %s %d", i - 1,
                                                 WIFEXITED(st) ? "exit status" : "signal",
                                                 WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
                                        failed = 1;
                                }
                        }
                        running += pids[i] > 0;
                }
                if (!running && !failed && deadline > now_ns() + STALL_S * 1000000000ull)
                        deadline = now_ns() + STALL_S * 1000000000ull;
                if (now_ns() > deadline) {
                        /* ask the receiver what it got; its report ends the loop (stalled) */
                        kill(pids[0], SIGUSR1);
                        p.revents = 0;
                        if (poll(&p, 1, 2000) > 0 && read_full(result[0], &res, sizeof(res)) == 0 && res.stalled)
                                break;
                        warn("%s: a round did not finish", bvariant_name[v]);
                        failed = 1;
                }
        }
        if (failed) {
                kill_all(pids, senders + 1);
        } else {
                for (int i = 0; i <= senders; i++)
                        if (pids[i] > 0 && (st = wait_child(pids[i])) != 0 && !(i == 0 && res.stalled && st == 3)) {
                                /* wait_child: an exit status, or 128 + a signal */
                                if (i)
                                        snprintf(why, sizeof(why), "sender %d: exit status %d", i - 1, st);
                                else
                                        snprintf(why, sizeof(why), "the receiver: exit status %d", st);
                                failed = 1;
                        }
        }
        close(ready[0]);
        close(result[0]);
        if (out)
                *out = res;
        if (failed || res.error || (res.ns == 0 && !res.stalled)) {
                warn("%s, %d sender(s): the round failed (%s)", bvariant_name[v], senders,
                     res.error ? strerror(res.error)
                     : why[0]  ? why
                               : "no time measured");
                return -1;
        }
        if (res.stalled || res.bad || res.received != (WARMUP + count) * (uint64_t)senders) {
                char missing[160] = "";
                int k = 0;
                for (int i = 0; i < senders && k < (int)sizeof(missing) - 40; i++)
                        if (res.next[i] < WARMUP + count)
                                k += snprintf(missing + k, sizeof(missing) - (size_t)k, "%ssender %d: %llu to %llu",
                                              k ? ", " : "; missing ", i, (unsigned long long)res.next[i],
                                              (unsigned long long)(WARMUP + count - 1));
                warn("%s, %d sender(s): %llu messages accepted of %llu sent%s; %llu problem(s)%s%s%s", bvariant_name[v],
                     senders, (unsigned long long)res.received,
                     (unsigned long long)((WARMUP + count) * (uint64_t)senders),
                     res.stalled ? ", then nothing for " STALL_TEXT " after every sender had finished" : "",
                     (unsigned long long)res.bad, res.what[0] ? ", the first: " : "", res.what, missing);
                batch_failures++;
                variant_failures[v]++;
                return -1;
        }
        return (double)res.timed * 1e9 / (double)res.ns;
}

/* ---- the measurements ---- */

static void add_info_row(const char *what, enum bvariant v, double base, double x, const double *xs, const double *bs,
                         int n) {
        struct row *r = table_add("5", what, base >= 0 ? bvariant_name[B_ZMQ] : "-", base, bvariant_name[v], x, U_RATE);
        row_paired(r, xs, bs, n);
        if (variant_failures[v])
                row_note(r, "FAILED: %d round(s) lost, duplicated or reordered messages", variant_failures[v]);
        else if (!have_zmq())
                row_note(r, "ZeroMQ skipped: libzmq not found");
}

int bench_batch(struct daemon *d) {
        int rounds = opts.smoke ? 1 : opts.rounds > MAX_ROUNDS ? MAX_ROUNDS : opts.rounds;
        double t[B_N][MAX_ROUNDS], all[B_N][MAX_ROUNDS];
        int nall[B_N] = { 0 };
        uint64_t count;
        struct row *r;
        bool zmq = have_zmq();
        char note[160];

        (void)d;
        batch_failures = 0;
        memset(variant_failures, 0, sizeof(variant_failures));
        for (int v = 0; v < B_N; v++)
                for (int i = 0; i < MAX_ROUNDS; i++)
                        t[v][i] = -1;

        /*
         * The message count of a round: what ZeroMQ delivers in one round's
         * budget (an untimed calibration round, which also warms both up).
         */
        if (opts.smoke) {
                count = 20000;
        } else {
                double rate = batch_round(zmq ? B_ZMQ : B_FIFO_BATCH, 1, 200000, NULL);
                if (zmq)
                        batch_round(B_FIFO_BATCH, 1, 200000, NULL); /* untimed: warm it up too */
                count = rate > 0 ? (uint64_t)(rate * (double)round_budget_ns() / 1e9) : 500000;
                count = count < 100000 ? 100000 : count > 20000000 ? 20000000 : count;
                count -= count % SEND_BATCH;
        }
        info("part 5: %llu messages of %d B per round and variant", (unsigned long long)count, MSG_SIZE);

        for (int i = 0; i < rounds; i++) {
                enum bvariant order[4];
                int n = 0;
                if (i % 2 == 0) {
                        if (zmq)
                                order[n++] = B_ZMQ;
                        order[n++] = B_FIFO_BATCH;
                } else {
                        order[n++] = B_FIFO_BATCH;
                        if (zmq)
                                order[n++] = B_ZMQ;
                }
                if (i % 4 == 0 || opts.smoke) {
                        order[n++] = B_FIFO_SINGLE;
                        order[n++] = B_MQ_BATCH;
                }
                for (int j = 0; j < n; j++) {
                        double x = batch_round(order[j], 1, count, NULL);
                        info("  round %d %s: %.0f msg/s", i, bvariant_name[order[j]], x);
                        t[order[j]][i] = x;
                        if (x > 0)
                                all[order[j]][nall[order[j]]++] = x;
                }
        }

        double med[B_N];
        for (int v = 0; v < B_N; v++)
                med[v] = median_of(all[v], (size_t)nall[v]);

        r = table_add("5", "batch 64 B one-way throughput", zmq ? bvariant_name[B_ZMQ] : "-", zmq ? med[B_ZMQ] : -1,
                      bvariant_name[B_FIFO_BATCH], med[B_FIFO_BATCH], U_RATE);
        row_target(r, T_RATIO_MIN, 1.0);
        if (variant_failures[B_FIFO_BATCH] || variant_failures[B_ZMQ]) {
                row_note(r, "FAILED: %d round(s) lost, duplicated or reordered messages",
                         variant_failures[B_FIFO_BATCH] + variant_failures[B_ZMQ]);
        } else if (zmq) {
                row_paired(r, t[B_FIFO_BATCH], t[B_ZMQ], rounds);
                row_note(r, "%llu msgs/round, %d per sendv, %d per recvv, all in order", (unsigned long long)count,
                         SEND_BATCH, RECV_BATCH);
        } else {
                row_note(r, "skipped: libzmq not found (install libzmq3-dev and re-run configure)");
        }
        add_info_row("single 64 B messages, batch FIFO", B_FIFO_SINGLE, zmq ? med[B_ZMQ] : -1, med[B_FIFO_SINGLE],
                     t[B_FIFO_SINGLE], t[B_ZMQ], rounds);
        add_info_row("batch 64 B on a queue (a loop)", B_MQ_BATCH, zmq ? med[B_ZMQ] : -1, med[B_MQ_BATCH],
                     t[B_MQ_BATCH], t[B_ZMQ], rounds);
        if (zmq && shared.mq64_tput_raw > 0) {
                r = table_add("5", "ZeroMQ vs raw mqueue, 64 B", "raw mq_send/mq_receive", shared.mq64_tput_raw,
                              bvariant_name[B_ZMQ], med[B_ZMQ], U_RATE);
                row_note(r, "raw: part 1's median (time-based rounds)");
        }

        /* integrity under concurrency: two senders, once per variant */
        {
                uint64_t c2 = opts.smoke ? 20000 : count;
                double x[B_N];
                int ok = 0, tried = 0;
                for (int v = zmq ? B_ZMQ : B_FIFO_BATCH; v < B_N; v++) {
                        x[v] = batch_round((enum bvariant)v, 2, c2, NULL);
                        tried++;
                        ok += x[v] > 0;
                }
                snprintf(note, sizeof(note), "2 x %llu msgs: %s", (unsigned long long)(WARMUP + c2),
                         ok == tried ? "every message once, in order per sender (all variants)"
                                     : "FAILED: see the warnings above");
                r = table_add("5", "2 senders, 64 B throughput", zmq ? bvariant_name[B_ZMQ] : "-", zmq ? x[B_ZMQ] : -1,
                              bvariant_name[B_FIFO_BATCH], x[B_FIFO_BATCH], U_RATE);
                row_note(r, "%s", note);
        }
        if (batch_failures) {
                warn("part 5: %d round(s) lost, duplicated or reordered messages", batch_failures);
                return -1;
        }
        return 0;
}
