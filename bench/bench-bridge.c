/*
 * Part 8: across hosts. Host A's channel -> ipcbroker-bridge (out) -> NATS
 * JetStream -> ipcbroker-bridge (in) -> host B's channel, against a baseline
 * in the same run that moves the same messages with cnats directly: async
 * JetStream publish (at most max_inflight unacknowledged, as the bridge),
 * a pull consumer fetching and acknowledging the way the bridge's in side
 * does, no broker and no channel.
 *
 * One nats-server (-js, its store in the benchmark's directory) stands for
 * the cluster; two ipcbrokerd stand for the hosts (their own sockets,
 * runtime directories and mq_prefix), each with its own bridge. Streams and
 * durable consumers of both paths have the same settings (file storage, one
 * replica, explicit acks, MaxAckPending = max_inflight). Every message
 * carries a Nats-Msg-Id on both paths (the bridge's dedupe needs it).
 *
 * Throughput: each round sends the same number of messages down both paths,
 * alternating (baseline first, then the bridge), timed from the first send to
 * the last message received; the row's ratio is the median of the per-round
 * ratios. Latency: a moderate, paced rate (every message stamped with
 * CLOCK_MONOTONIC when sent, read on arrival), p50 and p99 of each path.
 * Every message must arrive (a loss fails the part); duplicates are counted.
 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "ipcbroker.h"

#ifdef HAVE_NATS
#include <nats/nats.h>

#define MAX_INFLIGHT 256       /* the bridge's default, and the baseline's publish window */
#define FETCH_WAIT_MS 200      /* the baseline's wait for one message when none is there */
#define LAT_RATE 1000          /* messages per second, the moderate rate */
#define ARRIVAL_TIMEOUT_S 60.0 /* a round's messages must all arrive within this */

static const size_t sizes[] = { 64, 1024 };
#define N_SIZES (sizeof(sizes) / sizeof(sizes[0]))

/* Every message starts with this; the rest is filler up to the size. */
struct stamp {
        uint32_t round, seq;
        uint64_t sent_ns;
};

/* What a receiver reports. */
struct arrival {
        uint64_t first_ns, last_ns; /* receipt of the first and last of the round */
        uint32_t got, dups, others;
        double p50, p99; /* ns from send to receipt */
        int ok;          /* every message arrived */
};

static char nats_url[64];
static pid_t nats_pid = -1;
static char nats_log[400];

/* ---- nats-server ------------------------------------------------------------------------------- */

static int free_port(void) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(sa);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

        if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
            getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
                port = ntohs(sa.sin_port);
        if (fd >= 0)
                close(fd);
        return port;
}

static bool port_open(int port) {
        struct sockaddr_in sa = { .sin_family = AF_INET,
                                  .sin_port = htons((uint16_t)port),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;

        if (fd >= 0)
                close(fd);
        return ok;
}

static int nats_start(const char *server) {
        char store[400], portbuf[16];
        int port = free_port(), st;
        uint64_t end;

        if (port < 0)
                return -1;
        snprintf(store, sizeof(store), "%s/jetstream", bench_dir);
        snprintf(nats_log, sizeof(nats_log), "%s/nats.log", bench_dir);
        snprintf(portbuf, sizeof(portbuf), "%d", port);
        snprintf(nats_url, sizeof(nats_url), "nats://127.0.0.1:%d", port);
        nats_pid = fork();
        if (nats_pid < 0)
                return -1;
        if (nats_pid == 0) {
                int fd = open(nats_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
                if (fd >= 0) {
                        dup2(fd, 1);
                        dup2(fd, 2);
                }
                execl(server, "nats-server", "-js", "-a", "127.0.0.1", "-p", portbuf, "-sd", store, (char *)NULL);
                _exit(127);
        }
        end = now_ns() + 15 * 1000000000ull;
        while (!port_open(port)) {
                if (waitpid(nats_pid, &st, WNOHANG) == nats_pid || now_ns() > end) {
                        warn("nats-server did not start (log %s)", nats_log);
                        return -1;
                }
                usleep(10000);
        }
        return 0;
}

static void nats_stop(void) {
        if (nats_pid > 0) {
                kill(nats_pid, SIGTERM);
                if (wait_child(nats_pid) < 0)
                        warn("nats-server did not exit cleanly");
                nats_pid = -1;
        }
}

/* ---- payloads ------------------------------------------------------------------------------------ */

static void fill(uint8_t *buf, size_t size, uint32_t round, uint32_t seq) {
        struct stamp s = { .round = round, .seq = seq, .sent_ns = now_ns() };

        memcpy(buf, &s, sizeof(s));
        memset(buf + sizeof(s), 'x', size - sizeof(s));
}

/* A round's bookkeeping on the receiving side. */
struct tally {
        uint32_t round, n;
        uint8_t *seen;
        struct samples lat;
        struct arrival a;
};

static void tally_init(struct tally *t, uint32_t round, uint32_t n) {
        memset(t, 0, sizeof(*t));
        t->round = round;
        t->n = n;
        t->seen = calloc(n, 1);
        if (!t->seen)
                die("out of memory");
}

/* Count one message; true when the round is complete. */
static bool tally_add(struct tally *t, const void *data, size_t len) {
        struct stamp s;
        uint64_t now = now_ns();

        if (len < sizeof(s)) {
                t->a.others++;
                return false;
        }
        memcpy(&s, data, sizeof(s));
        if (s.round != t->round || s.seq >= t->n) {
                t->a.others++; /* an earlier round's duplicate */
                return false;
        }
        if (t->seen[s.seq]) {
                t->a.dups++;
                return false;
        }
        t->seen[s.seq] = 1;
        if (!t->a.got)
                t->a.first_ns = now;
        t->a.last_ns = now;
        samples_add(&t->lat, now - s.sent_ns);
        return ++t->a.got == t->n;
}

static void tally_finish(struct tally *t) {
        t->a.ok = t->a.got == t->n;
        t->a.p50 = samples_quantile(&t->lat, 0.50);
        t->a.p99 = samples_quantile(&t->lat, 0.99);
        samples_free(&t->lat);
        free(t->seen);
}

/* Pace a sender to RATE messages a second (0: as fast as it goes). */
static void pace(uint64_t start, uint32_t i, unsigned rate) {
        if (rate) {
                uint64_t due = start + (uint64_t)i * 1000000000ull / rate;
                struct timespec ts = { .tv_sec = (time_t)(due / 1000000000ull),
                                       .tv_nsec = (long)(due % 1000000000ull) };
                while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
                }
        }
}

/* ---- the baseline: cnats, no broker -------------------------------------------------------------- */

struct base {
        jsCtx *js;
        natsConnection *nc;
        char stream[32], subject[48], durable[32];
};

static void base_on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure) {
        (void)js;
        (void)pa;
        (void)closure;
        if (pae)
                warn("baseline: publish failed: %s", natsStatus_GetText(pae->Err));
        natsMsg_Destroy(msg);
}

static natsStatus base_connect(struct base *b, bool publisher) {
        natsOptions *o = NULL;
        jsOptions jo;
        natsStatus s = natsOptions_Create(&o);

        if (s == NATS_OK)
                s = natsOptions_SetURL(o, nats_url);
        if (s == NATS_OK)
                s = natsConnection_Connect(&b->nc, o);
        natsOptions_Destroy(o);
        if (s != NATS_OK)
                return s;
        jsOptions_Init(&jo);
        if (publisher) {
                jo.PublishAsync.MaxPending = MAX_INFLIGHT;
                jo.PublishAsync.StallWait = 30000;
                jo.PublishAsync.AckHandler = base_on_ack;
        }
        return natsConnection_JetStream(&b->js, b->nc, &jo);
}

static void base_close(struct base *b) {
        jsCtx_Destroy(b->js);
        natsConnection_Destroy(b->nc);
        b->js = NULL;
        b->nc = NULL;
}

/* The stream and the durable consumer, as the bridge makes its own. */
static natsStatus base_setup(struct base *b, size_t size) {
        const char *subjects[1];
        jsStreamConfig sc;
        jsConsumerConfig cc;
        jsStreamInfo *si = NULL;
        jsErrCode jerr = 0;
        natsStatus s;

        snprintf(b->stream, sizeof(b->stream), "BASE%zu", size);
        snprintf(b->subject, sizeof(b->subject), "bench.base.%zu", size);
        snprintf(b->durable, sizeof(b->durable), "base%zu", size);
        subjects[0] = b->subject;
        jsStreamConfig_Init(&sc);
        sc.Name = b->stream;
        sc.Subjects = subjects;
        sc.SubjectsLen = 1;
        sc.Storage = js_FileStorage;
        sc.Replicas = 1;
        s = js_AddStream(&si, b->js, &sc, NULL, &jerr);
        jsStreamInfo_Destroy(si);
        if (s != NATS_OK)
                return s;
        jsConsumerConfig_Init(&cc);
        cc.Durable = b->durable;
        cc.DeliverPolicy = js_DeliverAll;
        cc.AckPolicy = js_AckExplicit;
        cc.AckWait = 30 * 1000000000ll;
        cc.MaxAckPending = MAX_INFLIGHT;
        return js_AddConsumer(NULL, b->js, b->stream, &cc, NULL, &jerr);
}

struct base_consumer {
        struct base b;
        natsSubscription *sub;
        struct tally t;
        uint64_t deadline;
};

static void *base_consume(void *arg) {
        struct base_consumer *c = arg;

        while (c->t.a.got < c->t.n && now_ns() < c->deadline) {
                natsMsgList list = { 0 };
                jsFetchRequest req;
                natsStatus s;

                /* what is there now, else a wait for one (as the bridge's in side) */
                jsFetchRequest_Init(&req);
                req.Batch = MAX_INFLIGHT;
                req.NoWait = true;
                req.Expires = (int64_t)FETCH_WAIT_MS * 1000000;
                s = natsSubscription_FetchRequest(&list, c->sub, &req);
                if (s == NATS_NOT_FOUND || s == NATS_TIMEOUT) {
                        jsFetchRequest_Init(&req);
                        req.Batch = 1;
                        req.Expires = (int64_t)FETCH_WAIT_MS * 1000000;
                        s = natsSubscription_FetchRequest(&list, c->sub, &req);
                }
                if (s != NATS_OK)
                        continue;
                for (int i = 0; i < list.Count; i++) {
                        tally_add(&c->t, natsMsg_GetData(list.Msgs[i]), (size_t)natsMsg_GetDataLength(list.Msgs[i]));
                        natsMsg_Ack(list.Msgs[i], NULL);
                }
                natsMsgList_Destroy(&list);
        }
        return NULL;
}

/* One baseline round in a child process: N messages of SIZE at RATE (0: flat out). */
static int base_round(size_t size, uint32_t round, uint32_t n, unsigned rate, struct arrival *out) {
        int pfd[2];
        pid_t pid;

        if (pipe2(pfd, O_CLOEXEC) < 0)
                return -1;
        pid = fork();
        if (pid < 0)
                return -1;
        if (pid == 0) {
                struct base pub = { 0 };
                struct base_consumer c = { 0 };
                jsSubOptions so;
                jsErrCode jerr = 0;
                pthread_t th;
                uint8_t *buf = malloc(size);
                uint64_t start;

                close(pfd[0]);
                tally_init(&c.t, round, n);
                if (!buf || base_connect(&pub, true) != NATS_OK || base_setup(&pub, size) != NATS_OK ||
                    base_connect(&c.b, false) != NATS_OK) {
                        warn("baseline: cannot reach JetStream at %s", nats_url);
                        _exit(1);
                }
                snprintf(c.b.subject, sizeof(c.b.subject), "%s", pub.subject);
                jsSubOptions_Init(&so);
                so.Stream = pub.stream;
                so.Consumer = pub.durable;
                if (js_PullSubscribe(&c.sub, c.b.js, pub.subject, pub.durable, NULL, &so, &jerr) != NATS_OK) {
                        warn("baseline: cannot subscribe to %s", pub.subject);
                        _exit(1);
                }
                c.deadline = now_ns() + (uint64_t)(ARRIVAL_TIMEOUT_S * 1e9);
                if (pthread_create(&th, NULL, base_consume, &c) != 0)
                        _exit(1);
                start = now_ns();
                for (uint32_t i = 0; i < n; i++) {
                        char id[64];
                        jsPubOptions po;
                        pace(start, i, rate);
                        fill(buf, size, round, i);
                        snprintf(id, sizeof(id), "base:%zu:%" PRIu32 ":%" PRIu32, size, round, i);
                        jsPubOptions_Init(&po);
                        po.MsgId = id;
                        if (js_PublishAsync(pub.js, pub.subject, buf, (int)size, &po) != NATS_OK) {
                                warn("baseline: publish %" PRIu32 " failed", i);
                                _exit(1);
                        }
                }
                pthread_join(th, NULL);
                c.t.a.first_ns = start; /* throughput: from the first send */
                tally_finish(&c.t);
                natsSubscription_Destroy(c.sub);
                base_close(&c.b);
                base_close(&pub);
                free(buf);
                nats_Close();
                _exit(write_full(pfd[1], &c.t.a, sizeof(c.t.a)) < 0 ? 1 : 0);
        }
        close(pfd[1]);
        memset(out, 0, sizeof(*out));
        if (read_full(pfd[0], out, sizeof(*out)) < 0)
                out->ok = 0;
        close(pfd[0]);
        return wait_child(pid) == 0 && out->ok ? 0 : -1;
}

/* ---- the bridge path: A's channel -> bridges -> B's channel ------------------------------------- */

static struct daemon host_a = { .pid = -1, .notify_fd = -1 }, host_b = { .pid = -1, .notify_fd = -1 },
                     bridge_a = { .pid = -1, .notify_fd = -1 }, bridge_b = { .pid = -1, .notify_fd = -1 };

/* How many messages each channel holds: 10 on the host (fs.mqueue.msg_max without CAP_SYS_RESOURCE), DEEP_QUEUE in a
 * namespace of our own. */
#define DEEP_QUEUE 128
static int depth = 10;

static void channel_name(char *buf, size_t size, size_t msg) {
        snprintf(buf, size, "x%zu", msg);
}

static void declare_channels(struct daemon *d) {
        for (size_t i = 0; i < N_SIZES; i++)
                daemon_conf_append(d,
                                   "\n[channel x%zu]\ntype = mqueue\nmax_messages = %d\nmessage_size = %zu\n"
                                   "on_stop = remove\n",
                                   sizes[i], depth, sizes[i]);
}

static int bridge_write_conf(struct daemon *br, const struct daemon *host, const char *origin, bool out) {
        char spool[400];
        FILE *f;

        snprintf(br->conf, sizeof(br->conf), "%s/bridge.conf", br->dir);
        snprintf(spool, sizeof(spool), "%s/spool", br->dir);
        if (mkdir(spool, 0700) < 0 && errno != EEXIST)
                return -1;
        f = fopen(br->conf, "we");
        if (!f)
                return -1;
        fprintf(f, "[nats]\nurl = %s\n\n[local]\nsocket = %s\nspool_dir = %s\norigin = %s\n", nats_url, host->sock,
                spool, origin);
        for (size_t i = 0; i < N_SIZES; i++) {
                fprintf(f,
                        "\n[bridge x%zu]\ndirection = %s\nsubject = bench.bridge.%zu\nstream = BRIDGE%zu\n"
                        "max_inflight = %d\nack_wait = 30s\n",
                        sizes[i], out ? "out" : "in", sizes[i], sizes[i], MAX_INFLIGHT);
                if (!out)
                        fprintf(f, "durable = x%zu-b\n", sizes[i]);
        }
        fclose(f);
        return 0;
}

static int bridge_launch(struct daemon *br, const char *bridge) {
        char *argv[] = { "ipcbroker-bridge", "-c", br->conf, NULL };

        return service_start(br, bridge, argv, 30);
}

/* The receiving side, in a child process with B's socket: N messages of round ROUND on channel NAME. */
static void receiver(const char *name, size_t size, uint32_t round, uint32_t n, int ready, int result) {
        ipcb_channel *ch = NULL;
        struct tally t;
        uint8_t *buf = malloc(size);
        uint64_t deadline;
        char c = 1;

        tally_init(&t, round, n);
        setenv("IPCBROKER_SOCKET", host_b.sock, 1);
        if (!buf || ipcb_open(name, IPCB_RECV, &ch) < 0)
                _exit(1);
        if (write_full(ready, &c, 1) < 0)
                _exit(1);
        deadline = now_ns() + (uint64_t)(ARRIVAL_TIMEOUT_S * 1e9);
        while (t.a.got < n && now_ns() < deadline) {
                ssize_t len = ipcb_timedrecv(ch, buf, size, NULL, 1000);
                if (len >= 0)
                        tally_add(&t, buf, (size_t)len);
                else if (len != -ETIMEDOUT && len != -EAGAIN && len != -EINTR)
                        break;
        }
        tally_finish(&t);
        ipcb_close(ch);
        free(buf);
        _exit(write_full(result, &t.a, sizeof(t.a)) < 0 ? 1 : 0);
}

/* The sending side, in a child process with A's socket: N messages of round ROUND into channel NAME; its start time on
 * RESULT. */
static void sender(const char *name, size_t size, uint32_t round, uint32_t n, unsigned rate, int result) {
        ipcb_channel *ch = NULL;
        uint8_t *buf = malloc(size);
        uint64_t t0;

        setenv("IPCBROKER_SOCKET", host_a.sock, 1);
        if (!buf || ipcb_open(name, IPCB_SEND, &ch) < 0)
                _exit(1);
        t0 = now_ns();
        for (uint32_t i = 0; i < n; i++) {
                int r;
                pace(t0, i, rate);
                fill(buf, size, round, i);
                /* bounded: a path that stopped taking messages fails the round */
                r = ipcb_timedsend(ch, buf, size, i % 8, (int)(ARRIVAL_TIMEOUT_S * 1000));
                if (r < 0) {
                        warn("bridge path: send %" PRIu32 " of %" PRIu32 " to host A's %s: %s", i, n, name,
                             ipcb_strerror(r));
                        _exit(1);
                }
        }
        ipcb_close(ch);
        free(buf);
        _exit(write_full(result, &t0, sizeof(t0)) < 0 ? 1 : 0);
}

static int bridge_round(size_t size, uint32_t round, uint32_t n, unsigned rate, struct arrival *out) {
        char name[32];
        int ready[2], result[2], started[2], rc = -1;
        pid_t recv_pid, send_pid = -1;
        uint64_t start = 0;
        char c;

        channel_name(name, sizeof(name), size);
        memset(out, 0, sizeof(*out));
        if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(result, O_CLOEXEC) < 0)
                return -1;
        recv_pid = fork();
        if (recv_pid < 0)
                return -1;
        if (recv_pid == 0) {
                close(ready[0]);
                close(result[0]);
                receiver(name, size, round, n, ready[1], result[1]);
        }
        close(ready[1]);
        close(result[1]);
        /* the sender once the receiver has its channel open: a child with A's socket, a producer on host A */
        if (read_full(ready[0], &c, 1) == 0 && pipe2(started, O_CLOEXEC) == 0) {
                send_pid = fork();
                if (send_pid == 0) {
                        close(started[0]);
                        sender(name, size, round, n, rate, started[1]);
                }
                close(started[1]);
                if (send_pid < 0 || read_full(started[0], &start, sizeof(start)) < 0)
                        warn("bridge path: the sender failed");
                close(started[0]);
                if (send_pid > 0)
                        wait_child(send_pid);
        }
        close(ready[0]);
        if (!start)
                kill(recv_pid, SIGTERM); /* nothing is coming */
        else if (read_full(result[0], out, sizeof(*out)) == 0) {
                out->first_ns = start;
                rc = out->ok ? 0 : -1;
        }
        close(result[0]);
        if (wait_child(recv_pid) != 0)
                rc = -1;
        return rc;
}

/* ---- the part ---------------------------------------------------------------------------------------- */

static double rate_of(const struct arrival *a, uint32_t n) {
        return a->last_ns > a->first_ns ? (double)n * 1e9 / (double)(a->last_ns - a->first_ns) : -1;
}

static void report_loss(const char *path, size_t size, const struct arrival *a, uint32_t n) {
        warn("%s, %zu B: %" PRIu32 " of %" PRIu32 " messages arrived (%" PRIu32 " duplicates)", path, size, a->got, n,
             a->dups);
}

static int measure(int *failures) {
        int rounds = opts.smoke ? 1 : (opts.rounds < 5 ? opts.rounds : 5);
        uint32_t n = opts.smoke ? 300 : 20000;
        uint32_t lat_n = opts.smoke ? 50 : 3 * LAT_RATE;
        uint32_t round = 1;

        for (size_t k = 0; k < N_SIZES; k++) {
                size_t size = sizes[k];
                double base[8], x[8], bmed, xmed, cpu_a = 0, cpu_b = 0, cpu_nats_x = 0, cpu_nats_b = 0;
                struct arrival a, lb, lx;
                uint32_t dups = 0;
                char what[64];
                int got = 0;
                struct row *r;

                /* one untimed round each: streams, consumers and connections warm */
                if (base_round(size, round++, opts.smoke ? 20 : 1000, 0, &a) < 0 ||
                    bridge_round(size, round++, opts.smoke ? 20 : 1000, 0, &a) < 0) {
                        warn("part 8: the warm-up round of %zu B failed; the bridges' logs:", size);
                        daemon_show_log(&bridge_a, 20);
                        daemon_show_log(&bridge_b, 20);
                        (*failures)++;
                        return -1;
                }
                for (int i = 0; i < rounds; i++) {
                        uint64_t c0 = proc_total_cpu_ns(nats_pid), ca, cb, cn;
                        base[i] = x[i] = -1;
                        if (base_round(size, round, n, 0, &a) == 0)
                                base[i] = rate_of(&a, n);
                        else
                                report_loss("baseline", size, &a, n), (*failures)++;
                        round++;
                        cn = proc_total_cpu_ns(nats_pid);
                        cpu_nats_b += (double)(cn - c0);
                        ca = proc_total_cpu_ns(bridge_a.pid);
                        cb = proc_total_cpu_ns(bridge_b.pid);
                        if (bridge_round(size, round, n, 0, &a) == 0)
                                x[i] = rate_of(&a, n);
                        else
                                report_loss("bridge", size, &a, n), (*failures)++;
                        cpu_a += (double)(proc_total_cpu_ns(bridge_a.pid) - ca);
                        cpu_b += (double)(proc_total_cpu_ns(bridge_b.pid) - cb);
                        cpu_nats_x += (double)(proc_total_cpu_ns(nats_pid) - cn);
                        dups += a.dups;
                        round++;
                        info("part 8: %zu B round %d: cnats %.0f/s, bridge %.0f/s", size, i + 1, base[i], x[i]);
                        got++;
                }
                bmed = median_of(base, (size_t)got);
                xmed = median_of(x, (size_t)got);
                snprintf(what, sizeof(what), "%zu B A->B throughput", size);
                r = table_add("8", what, "cnats JetStream direct", bmed, "A ch->bridge->NATS->bridge->B ch", xmed,
                              U_RATE);
                row_target(r, T_RATIO_MIN, 0.8);
                row_paired(r, x, base, got);
                row_note(r, "%d x %" PRIu32 " msgs, channels %d deep, all arrived, %" PRIu32 " dup", got, n, depth,
                         dups);
                snprintf(what, sizeof(what), "%zu B CPU per message", size);
                r = table_add("8", what, "nats-server (cnats path)", cpu_nats_b / got / n, "bridge out + in",
                              (cpu_a + cpu_b) / got / n, U_NS);
                row_note(r, "out %.1f us, in %.1f us; nats-server %.1f us on the bridge path", cpu_a / got / n / 1e3,
                         cpu_b / got / n / 1e3, cpu_nats_x / got / n / 1e3);

                if (base_round(size, round++, lat_n, LAT_RATE, &lb) < 0)
                        report_loss("baseline (latency)", size, &lb, lat_n), (*failures)++;
                if (bridge_round(size, round++, lat_n, LAT_RATE, &lx) < 0)
                        report_loss("bridge (latency)", size, &lx, lat_n), (*failures)++;
                snprintf(what, sizeof(what), "%zu B latency p50 at %d/s", size, LAT_RATE);
                r = table_add("8", what, "cnats JetStream direct", lb.p50, "through both bridges", lx.p50, U_NS);
                row_note(r, "%" PRIu32 " msgs, send to receipt", lat_n);
                snprintf(what, sizeof(what), "%zu B latency p99 at %d/s", size, LAT_RATE);
                table_add("8", what, "cnats JetStream direct", lb.p99, "through both bridges", lx.p99, U_NS);
        }
        return 0;
}

static const char *find_nats_server(void) {
        static const char *places[] = { "/usr/bin/nats-server", "/usr/local/bin/nats-server", "/usr/sbin/nats-server" };
        const char *env = getenv("NATS_SERVER");

        if (env && *env)
                return access(env, X_OK) == 0 ? env : NULL;
        for (size_t i = 0; i < sizeof(places) / sizeof(places[0]); i++)
                if (access(places[i], X_OK) == 0)
                        return places[i];
        return NULL;
}

void bench_bridge_cleanup(void) {
        struct daemon *all[] = { &bridge_a, &bridge_b, &host_a, &host_b };

        for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
                if (all[i]->pid > 0)
                        daemon_stop(all[i]);
        nats_stop();
}

int bench_bridge(void) {
        const char *bridge = getenv("IPCBROKER_BRIDGE");
        const char *server = find_nats_server();
        int failures = 0;

        if (!bridge || access(bridge, X_OK) < 0) {
                table_skip("8", "bridge", "skipped: ipcbroker-bridge was not built (IPCBROKER_BRIDGE)");
                return 0;
        }
        if (!server) {
                table_skip("8", "bridge", "skipped: nats-server is not installed (Debian package nats-server)");
                return 0;
        }
        /*
         * The channels' queues in an IPC namespace of our own (root): they go
         * with it whatever happens, and outside smoke mode fs.mqueue.msg_max
         * is raised there so that they are DEEP_QUEUE deep, as a production
         * daemon with CAP_SYS_RESOURCE would declare them; without that, 10
         * deep (the host's limit for root without CAP_SYS_RESOURCE) make two
         * extra hops of ping-pong between the processes. RLIMIT_MSGQUEUE
         * still counts them against root's budget: about 330 KB.
         */
        if (geteuid() == 0 && unshare(CLONE_NEWIPC) == 0) {
                FILE *f = opts.smoke ? NULL : fopen("/proc/sys/fs/mqueue/msg_max", "we");
                if (f) {
                        if (fprintf(f, "%d\n", DEEP_QUEUE) > 0 && fclose(f) == 0)
                                depth = DEEP_QUEUE;
                        else
                                warn("part 8: cannot raise fs.mqueue.msg_max in the namespace; channels 10 deep");
                }
        } else
                info("part 8: not root or no IPC namespace: channels on the host, 10 deep");
        if (nats_start(server) < 0) {
                table_skip("8", "bridge", "skipped: the nats-server did not start");
                return -1;
        }
        if (daemon_prepare(&host_a, "host-a", "notice") < 0 || daemon_prepare(&host_b, "host-b", "notice") < 0 ||
            service_prepare(&bridge_a, "bridge-a") < 0 || service_prepare(&bridge_b, "bridge-b") < 0)
                die("cannot prepare the part's directories under %s", bench_dir);
        declare_channels(&host_a);
        declare_channels(&host_b);
        if (daemon_start(&host_a, 30) < 0 || daemon_start(&host_b, 30) < 0) {
                table_skip("8", "bridge", "skipped: ipcbrokerd did not start");
                failures++;
        } else if (bridge_write_conf(&bridge_a, &host_a, "bench-a", true) < 0 ||
                   bridge_write_conf(&bridge_b, &host_b, "bench-b", false) < 0 ||
                   bridge_launch(&bridge_a, bridge) < 0 || bridge_launch(&bridge_b, bridge) < 0) {
                table_skip("8", "bridge", "skipped: a bridge did not get ready (see the log above)");
                failures++;
        } else {
                info("part 8: nats-server at %s, two hosts, two bridges ready", nats_url);
                measure(&failures);
        }
        if (bridge_a.pid > 0 && daemon_stop(&bridge_a) != 0)
                warn("the bridge of host A did not exit cleanly"), daemon_show_log(&bridge_a, 20), failures++;
        if (bridge_b.pid > 0 && daemon_stop(&bridge_b) != 0)
                warn("the bridge of host B did not exit cleanly"), daemon_show_log(&bridge_b, 20), failures++;
        if (host_a.pid > 0 && daemon_stop(&host_a) != 0)
                failures++;
        if (host_b.pid > 0 && daemon_stop(&host_b) != 0)
                failures++;
        daemon_release(&bridge_a);
        daemon_release(&bridge_b);
        daemon_release(&host_a);
        daemon_release(&host_b);
        nats_stop();
        return failures ? -1 : 0;
}

#else /* !HAVE_NATS */

int bench_bridge(void) {
        table_skip("8", "bridge", "skipped: built without libnats (configure --with-nats; Debian libnats-dev)");
        return 0;
}

void bench_bridge_cleanup(void) {
}

#endif
