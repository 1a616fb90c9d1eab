/*
 * bench-open.c — part 3: opening a channel by name.
 *
 * ipcb_open + ipcb_close on a queue channel against two baselines:
 *
 *  - a bare SCM_RIGHTS server built into the benchmark: a single-threaded
 *    epoll loop on its own SOCK_SEQPACKET socket that reads a queue name,
 *    mq_open()s it and passes the descriptor back; no policy, no protocol,
 *    no verification. Its client connects, sends the name, receives the
 *    descriptor and closes both. This is "one Unix-socket round trip".
 *  - mq_open + mq_close in the calling process.
 *
 * Latency is timed per operation from one client; the open rate runs 1 and
 * N concurrent client processes for a fixed time. The CPU time the server
 * (ipcbrokerd or the bare server) and the clients consume is read from
 * /proc/PID/schedstat, to tell who is the bottleneck.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <ipcbroker.h>

#include "bench.h"

#define OPEN_CHANNEL "openq"

static char raw_name[128];
static char bare_path[400];
static pid_t bare_pid = -1;
static bool raw_created;

void bench_open_declare(struct daemon *d) {
        daemon_conf_append(d, "\n[channel %s]\ntype = mqueue\nmax_messages = 10\nmessage_size = 64\non_stop = remove\n",
                           OPEN_CHANNEL);
}

void bench_open_unlink_channels(const struct daemon *d) {
        char path[300];

        snprintf(path, sizeof(path), "%s%s", d->mq_prefix, OPEN_CHANNEL);
        mq_unlink(path);
}

void bench_open_cleanup(void) {
        if (bare_pid > 0) {
                kill(bare_pid, SIGTERM);
                wait_child(bare_pid);
                bare_pid = -1;
        }
        if (raw_created) {
                mq_unlink(raw_name);
                raw_created = false;
        }
}

/* ---- the bare SCM_RIGHTS server ---- */

static int send_fd(int sock, int fd) {
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int))];
        } control;
        char ok = fd >= 0 ? 0 : 1;
        struct iovec iov = { .iov_base = &ok, .iov_len = 1 };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

        if (fd >= 0) {
                struct cmsghdr *cm;
                memset(&control, 0, sizeof(control));
                mh.msg_control = control.buf;
                mh.msg_controllen = sizeof(control.buf);
                cm = CMSG_FIRSTHDR(&mh);
                cm->cmsg_level = SOL_SOCKET;
                cm->cmsg_type = SCM_RIGHTS;
                cm->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(cm), &fd, sizeof(int));
        }
        return sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 ? -errno : 0;
}

static _Noreturn void bare_server(int lfd, int ready_fd) {
        struct epoll_event ev = { .events = EPOLLIN, .data.fd = lfd }, evs[64];
        int ep = epoll_create1(EPOLL_CLOEXEC);
        char c = 1;

        if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
                _exit(1);
        write_full(ready_fd, &c, 1);
        close(ready_fd);
        for (;;) {
                int n = epoll_wait(ep, evs, 64, -1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        _exit(1);
                for (int i = 0; i < n; i++) {
                        int fd = evs[i].data.fd;
                        if (fd == lfd) {
                                for (;;) {
                                        int c2 = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                                        if (c2 < 0)
                                                break;
                                        struct epoll_event cev = { .events = EPOLLIN, .data.fd = c2 };
                                        if (epoll_ctl(ep, EPOLL_CTL_ADD, c2, &cev) < 0)
                                                close(c2);
                                }
                                continue;
                        }
                        char name[256];
                        ssize_t m = recv(fd, name, sizeof(name) - 1, MSG_DONTWAIT);
                        if (m < 0 && errno == EAGAIN)
                                continue;
                        if (m <= 0) {
                                close(fd); /* also leaves the epoll set */
                                continue;
                        }
                        name[m] = '\0';
                        int q = (int)mq_open(name, O_WRONLY | O_CLOEXEC);
                        send_fd(fd, q);
                        if (q >= 0)
                                close(q);
                }
        }
}

static int bare_start(void) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int lfd, ready[2];
        char c;

        snprintf(bare_path, sizeof(bare_path), "%s/bare.sock", bench_dir);
        if (strlen(bare_path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, bare_path, strlen(bare_path) + 1);
        lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, SOMAXCONN) < 0)
                return -errno;
        if (pipe2(ready, O_CLOEXEC) < 0)
                return -errno;
        bare_pid = fork();
        if (bare_pid < 0)
                return -errno;
        if (bare_pid == 0) {
                close(ready[0]);
                bare_server(lfd, ready[1]);
        }
        close(lfd);
        close(ready[1]);
        if (read_full(ready[0], &c, 1) < 0) {
                close(ready[0]);
                return -EIO;
        }
        close(ready[0]);
        return 0;
}

/* The bare client: one connection, one request, one descriptor back. */
static int bare_open(void) {
        static struct sockaddr_un sa = { .sun_family = AF_UNIX };
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int))];
        } control;
        char ok;
        struct iovec iov = { .iov_base = &ok, .iov_len = 1 };
        struct msghdr mh = {
                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof(control.buf)
        };
        int s, fd = -1;

        if (!sa.sun_path[0])
                memcpy(sa.sun_path, bare_path, strlen(bare_path) + 1);
        s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (s < 0)
                return -errno;
        if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
            send(s, raw_name, strlen(raw_name), MSG_NOSIGNAL) < 0 || recvmsg(s, &mh, MSG_CMSG_CLOEXEC) <= 0) {
                int r = -errno;
                close(s);
                return r ? r : -EIO;
        }
        close(s);
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
                if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
                        memcpy(&fd, CMSG_DATA(cm), sizeof(int));
        return fd >= 0 ? fd : -EIO;
}

/* ---- one open+close, by variant ---- */

enum ovariant { O_BARE, O_LIB, O_INPROC, O_N };

static const char *const ovariant_name[O_N] = {
        "bare SCM_RIGHTS server",
        "ipcb_open+ipcb_close",
        "mq_open+mq_close in-process",
};

static int open_close(enum ovariant v) {
        int fd, r;
        ipcb_channel *ch;

        switch (v) {
        case O_BARE:
                fd = bare_open();
                if (fd < 0)
                        return fd;
                close(fd);
                return 0;
        case O_LIB:
                r = ipcb_open(OPEN_CHANNEL, IPCB_SEND, &ch);
                if (r < 0)
                        return r;
                return ipcb_close(ch);
        case O_INPROC:
                fd = (int)mq_open(raw_name, O_WRONLY | O_CLOEXEC);
                if (fd < 0)
                        return -errno;
                close(fd);
                return 0;
        default:
                return -EINVAL;
        }
}

static int latency_round(enum ovariant v, struct samples *s) {
        uint64_t end;
        int r;

        for (int i = 0; i < (opts.smoke ? 10 : 200); i++)
                if ((r = open_close(v)) < 0)
                        return r;
        end = now_ns() + round_budget_ns();
        for (;;) {
                uint64_t t0 = now_ns(), t1;
                if ((r = open_close(v)) < 0)
                        return r;
                t1 = now_ns();
                samples_add(s, t1 - t0);
                if (t1 >= end)
                        return 0;
        }
}

/* ---- the open rate from N processes ---- */

struct rate_result {
        uint64_t count;
        uint64_t ns;
        uint64_t cpu_ns;
        int error;
};

struct rate {
        double per_s;             /* opens per second, all clients */
        double server_cpu_per_op; /* ns of server CPU per open */
        double client_cpu_per_op; /* ns of client CPU per open (all clients) */
        double server_busy;       /* server CPU / wall time */
        double server_cs_per_op;  /* server context switches per open */
};

/* Rate rounds are longer than latency rounds: N processes must get going. */
#define RATE_PAIRS 5

static uint64_t rate_budget_ns(void) {
        return opts.smoke ? 20000000ull : (uint64_t)(opts.seconds / RATE_PAIRS * 1e9);
}

static int rate_round(enum ovariant v, int clients, pid_t server, struct rate *out) {
        int start[2], res[2];
        pid_t pids[256];
        uint64_t count = 0, cpu = 0, s0, s1, w0, w1, cs0, cs1;
        double per_s = 0;
        int err = 0;

        if (clients > 256)
                clients = 256;
        if (pipe2(start, O_CLOEXEC) < 0 || pipe2(res, O_CLOEXEC) < 0)
                die("pipe: %s", strerror(errno));
        for (int i = 0; i < clients; i++) {
                pids[i] = fork();
                if (pids[i] < 0)
                        die("fork: %s", strerror(errno));
                if (pids[i] == 0) {
                        struct rate_result rr = {};
                        uint64_t t0, c0, end;
                        char c;

                        close(start[1]);
                        close(res[0]);
                        /* warm up, then wait for everyone */
                        for (int k = 0; k < (opts.smoke ? 5 : 50); k++)
                                if ((rr.error = -open_close(v)) != 0)
                                        break;
                        if (read(start[0], &c, 1) < 0) {
                                /* EOF is the start signal */
                        }
                        t0 = now_ns();
                        c0 = proc_cpu_ns(0);
                        end = t0 + rate_budget_ns();
                        while (!rr.error) {
                                int r = open_close(v);
                                if (r < 0) {
                                        rr.error = -r;
                                        break;
                                }
                                rr.count++;
                                if ((rr.count & 15) == 0 && now_ns() >= end)
                                        break;
                        }
                        rr.ns = now_ns() - t0;
                        rr.cpu_ns = proc_cpu_ns(0) - c0;
                        write_full(res[1], &rr, sizeof(rr));
                        _exit(0);
                }
        }
        close(start[0]);
        close(res[1]);
        usleep(opts.smoke ? 5000 : 50000); /* let the warm-ups finish */
        s0 = proc_cpu_ns(server);
        cs0 = proc_ctxt_switches(server);
        w0 = now_ns();
        close(start[1]); /* go */
        for (int i = 0; i < clients; i++) {
                struct rate_result rr;
                if (read_full(res[0], &rr, sizeof(rr)) < 0) {
                        err = EIO;
                        break;
                }
                if (rr.error)
                        err = rr.error;
                if (rr.ns)
                        per_s += (double)rr.count * 1e9 / (double)rr.ns;
                count += rr.count;
                cpu += rr.cpu_ns;
        }
        w1 = now_ns();
        s1 = proc_cpu_ns(server);
        cs1 = proc_ctxt_switches(server);
        close(res[0]);
        for (int i = 0; i < clients; i++)
                wait_child(pids[i]);
        if (err || count == 0) {
                warn("open rate round (%s, %d clients) failed: %s", ovariant_name[v], clients,
                     strerror(err ? err : EIO));
                return -1;
        }
        out->per_s = per_s;
        out->server_cpu_per_op = (double)(s1 - s0) / (double)count;
        out->client_cpu_per_op = (double)cpu / (double)count;
        out->server_busy = (double)(s1 - s0) / (double)(w1 - w0);
        out->server_cs_per_op = (double)(cs1 - cs0) / (double)count;
        return 0;
}

/* Median of each field over the rounds. */
static struct rate rate_median(struct rate *r, int n) {
        double a[64], b[64], c[64], d[64], e[64];
        struct rate m;

        for (int i = 0; i < n; i++) {
                a[i] = r[i].per_s;
                b[i] = r[i].server_cpu_per_op;
                c[i] = r[i].client_cpu_per_op;
                d[i] = r[i].server_busy;
                e[i] = r[i].server_cs_per_op;
        }
        m.per_s = median_of(a, (size_t)n);
        m.server_cpu_per_op = median_of(b, (size_t)n);
        m.client_cpu_per_op = median_of(c, (size_t)n);
        m.server_busy = median_of(d, (size_t)n);
        m.server_cs_per_op = median_of(e, (size_t)n);
        return m;
}

/* RATIO gets the per-pair ratios lib/bare of the rate, for row_paired(). */
static int measure_rates(struct daemon *d, int clients, struct rate *bare, struct rate *lib, double *lib_rate,
                         double *bare_rate) {
        struct rate rb[RATE_PAIRS], rl[RATE_PAIRS];
        int nb = 0, nl = 0, rounds = opts.smoke ? 1 : RATE_PAIRS;

        for (int i = 0; i < rounds; i++)
                for (int j = 0; j < 2; j++) {
                        bool use_lib = (i + j) % 2;
                        struct rate r;
                        (use_lib ? lib_rate : bare_rate)[i] = -1;
                        if (rate_round(use_lib ? O_LIB : O_BARE, clients, use_lib ? d->pid : bare_pid, &r) == 0) {
                                (use_lib ? lib_rate : bare_rate)[i] = r.per_s;
                                if (use_lib)
                                        rl[nl++] = r;
                                else
                                        rb[nb++] = r;
                        }
                }
        *bare = nb ? rate_median(rb, nb) : (struct rate){ -1, -1, -1, -1, -1 };
        *lib = nl ? rate_median(rl, nl) : (struct rate){ -1, -1, -1, -1, -1 };
        return rounds;
}

int bench_open(struct daemon *d) {
        struct mq_attr a = { .mq_maxmsg = 10, .mq_msgsize = 64 };
        struct samples s[O_N] = {};
        int rounds = opts.smoke ? 1 : opts.rounds;
        struct rate bare1, lib1, bareN, libN;
        struct row *row;
        char what[64];
        mqd_t q;

        signal(SIGPIPE, SIG_IGN);
        snprintf(raw_name, sizeof(raw_name), "%sraw.%s", bench_mq_prefix, OPEN_CHANNEL);
        q = mq_open(raw_name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &a);
        if (q == (mqd_t)-1) {
                table_skip("3", "open-by-name", "skipped: cannot create the raw queue");
                return -1;
        }
        mq_close(q);
        raw_created = true;
        if (bare_start() < 0) {
                table_skip("3", "open-by-name", "skipped: cannot start the bare SCM_RIGHTS server");
                bench_open_cleanup();
                return -1;
        }

        info("part 3: open+close latency, 1 client");
        double r50[O_N][64], r99[O_N][64];
        if (rounds > 64)
                rounds = 64;
        for (int i = 0; i < rounds; i++)
                for (int j = 0; j < O_N; j++) {
                        enum ovariant v = (enum ovariant)((i + j) % O_N);
                        struct samples one = {};
                        int r = latency_round(v, &one);
                        if (r < 0)
                                warn("%s: %s", ovariant_name[v], ipcb_strerror(r));
                        r50[v][i] = one.n ? samples_quantile(&one, 0.50) : -1;
                        r99[v][i] = one.n ? samples_quantile(&one, 0.99) : -1;
                        for (size_t m = 0; m < one.n; m++)
                                samples_add(&s[v], one.v[m]);
                        samples_free(&one);
                }
        double p50[O_N], p99[O_N];
        for (int v = 0; v < O_N; v++) {
                p50[v] = s[v].n ? samples_quantile(&s[v], 0.50) : -1;
                p99[v] = s[v].n ? samples_quantile(&s[v], 0.99) : -1;
                samples_free(&s[v]);
        }
        shared.open_lib_p50 = p50[O_LIB];
        shared.open_bare_p50 = p50[O_BARE];
        row = table_add("3", "open+close p50, 1 client", ovariant_name[O_BARE], p50[O_BARE], ovariant_name[O_LIB],
                        p50[O_LIB], U_NS);
        row_target(row, T_RATIO_MAX, 1.3);
        row_paired(row, r50[O_LIB], r50[O_BARE], rounds);
        row = table_add("3", "open+close p99, 1 client", ovariant_name[O_BARE], p99[O_BARE], ovariant_name[O_LIB],
                        p99[O_LIB], U_NS);
        row_paired(row, r99[O_LIB], r99[O_BARE], rounds);
        row = table_add("3", "open+close p50 vs in-process", ovariant_name[O_INPROC], p50[O_INPROC],
                        ovariant_name[O_LIB], p50[O_LIB], U_NS);
        row_paired(row, r50[O_LIB], r50[O_INPROC], rounds);

        double lib_rate[RATE_PAIRS], bare_rate[RATE_PAIRS];
        int pairs;
        info("part 3: open rate, 1 client");
        pairs = measure_rates(d, 1, &bare1, &lib1, lib_rate, bare_rate);
        row = table_add("3", "opens/s, 1 client", ovariant_name[O_BARE], bare1.per_s, ovariant_name[O_LIB], lib1.per_s,
                        U_RATE);
        row_paired(row, lib_rate, bare_rate, pairs);
        row = table_add("3", "CPU per open, 1 client", "client process (libipcbroker)", lib1.client_cpu_per_op,
                        "ipcbrokerd", lib1.server_cpu_per_op, U_NS);
        row_target(row, T_RATIO_MAX, 1.0);
        row_note(row, "daemon busy %.0f%% of the time", lib1.server_busy * 100);
        row = table_add("3", "CPU per open, 1 client, bare", "bare client", bare1.client_cpu_per_op,
                        "bare SCM_RIGHTS server", bare1.server_cpu_per_op, U_NS);
        row_note(row, "for reference: the same split without the broker");
        row = table_add("3", "server CPU per open, 1 client", "bare SCM_RIGHTS server", bare1.server_cpu_per_op,
                        "ipcbrokerd", lib1.server_cpu_per_op, U_NS);
        row_note(row, "context switches per open: bare %.2f, ipcbrokerd %.2f", bare1.server_cs_per_op,
                 lib1.server_cs_per_op);
        row = table_add("3", "client CPU per open, 1 client", "bare client", bare1.client_cpu_per_op,
                        "libipcbroker client", lib1.client_cpu_per_op, U_NS);

        info("part 3: open rate, %d clients", opts.clients);
        pairs = measure_rates(d, opts.clients, &bareN, &libN, lib_rate, bare_rate);
        snprintf(what, sizeof(what), "opens/s, %d clients", opts.clients);
        row = table_add("3", what, ovariant_name[O_BARE], bareN.per_s, ovariant_name[O_LIB], libN.per_s, U_RATE);
        row_target(row, T_ABS_MIN, 20000);
        row_paired(row, lib_rate, bare_rate, pairs);
        row_note(row, "daemon busy %.0f%%, bare server busy %.0f%%", libN.server_busy * 100, bareN.server_busy * 100);
        snprintf(what, sizeof(what), "server CPU per open, %d clients", opts.clients);
        row = table_add("3", what, "bare SCM_RIGHTS server", bareN.server_cpu_per_op, "ipcbrokerd",
                        libN.server_cpu_per_op, U_NS);
        row_note(row, "context switches per open: bare %.2f, ipcbrokerd %.2f", bareN.server_cs_per_op,
                 libN.server_cs_per_op);

        bench_open_cleanup();
        return 0;
}
