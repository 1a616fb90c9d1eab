/*
 * bench-scale.c — part 6: a daemon with 10,000 channels.
 *
 * As many queues as the kernel lets us create, the rest FIFOs. Queues are
 * small (2 x 64 B) so that thousands fit the per-user RLIMIT_MSGQUEUE
 * (819,200 bytes by default, hard, charged to the creating user whatever its
 * privileges). When root, the whole part runs in a forked child inside a
 * private IPC and mount namespace (unshare(CLONE_NEWIPC|CLONE_NEWNS)): there
 * fs.mqueue.queues_max can be raised and a fresh mqueue filesystem mounted,
 * and every queue disappears with the namespace. RLIMIT_MSGQUEUE cannot be
 * raised without CAP_SYS_RESOURCE and is shared with every other process of
 * the user, so the part measures what is free (one binary search with a
 * single growing queue) and leaves a reserve for others.
 *
 * Measured against a 10-channel configuration of the same kinds, both
 * daemons running side by side and measured in alternation: time from start
 * to READY=1, VmRSS, `ipcbroker list` (the CLI, exec included) and
 * ipcb_list() in-process, reload (SIGHUP to READY=1), and ipcb_open+close
 * latency on a queue and on a FIFO channel; and the CPU an idle daemon
 * spends, which is the depth sampling (every sample_interval, 1 s by
 * default: every channel's depth, one or two system calls each).
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
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ipcbroker.h>

#include "bench.h"

#define Q_MSGS 2
#define Q_SIZE 64
#define SMALL_CHANNELS 10
#define SMALL_QUEUES 5

struct side {
        double ready_ns;
        double rss;
        double list_cli_ns;
        double list_lib_ns;
        double reload_ns;
        double open_q_p50, open_q_p99;
        double open_f_p50, open_f_p99;
        double round_q50[64], round_f50[64]; /* per round, for paired ratios */
        double idle_cpu_ns;                  /* CPU per second of an idle daemon: the depth sampling, every 1 s */
        int rounds;
        long channels, queues, fifos;
};

struct scale_result {
        struct side s[2]; /* 0: 10 channels, 1: many */
        char list_error[2][120];
        int in_namespace;
        int on_tmpfs;
        long long free_bytes;
        long per_queue;
        long long reserve;
        int ok;
        char msg[200];
};

static long long mq_reserve(void) {
        const char *e = getenv("BENCH_MQ_RESERVE");
        return e && *e ? atoll(e) : 262144;
}

/* What one queue of MSGS x SIZE costs in RLIMIT_MSGQUEUE (the kernel's formula, 64-bit). */
static long queue_cost(long msgs, long size) {
        long prio = msgs < 32768 ? msgs : 32768;
        return msgs * 48 + prio * 48 + msgs * size;
}

static int write_sysctl(const char *path, long v) {
        FILE *f = fopen(path, "we");
        int r = 0;

        if (!f)
                return -errno;
        if (fprintf(f, "%ld\n", v) < 0)
                r = -EIO;
        if (fclose(f) != 0)
                r = -errno;
        return r;
}

static long read_sysctl(const char *path) {
        FILE *f = fopen(path, "re");
        long v = -1;

        if (!f)
                return -1;
        if (fscanf(f, "%ld", &v) != 1)
                v = -1;
        fclose(f);
        return v;
}

static bool try_queue(const char *name, long msgs, long size) {
        struct mq_attr a = { .mq_maxmsg = msgs, .mq_msgsize = size };
        mqd_t q = mq_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &a);

        if (q == (mqd_t)-1)
                return false;
        mq_close(q);
        mq_unlink(name);
        return true;
}

/*
 * Bytes of RLIMIT_MSGQUEUE still free: the largest single queue of N x 64 B
 * we can create (a binary search on N, msg_max permitting), else a count of
 * small queues created one by one (bounded by queues_max).
 */
static long long probe_free_bytes(bool raised_msg_max, long *count_limit) {
        char name[128];

        snprintf(name, sizeof(name), "%sprobe", bench_mq_prefix);
        if (raised_msg_max) {
                long lo = 0, hi = 65536;
                while (lo < hi) {
                        long mid = lo + (hi - lo + 1) / 2;
                        if (try_queue(name, mid, Q_SIZE))
                                lo = mid;
                        else
                                hi = mid - 1;
                }
                *count_limit = -1;
                return (long long)queue_cost(lo, Q_SIZE);
        }
        long n = 0;
        for (; n < 100000; n++) {
                struct mq_attr a = { .mq_maxmsg = Q_MSGS, .mq_msgsize = Q_SIZE };
                snprintf(name, sizeof(name), "%sprobe.%ld", bench_mq_prefix, n);
                mqd_t q = mq_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &a);
                if (q == (mqd_t)-1)
                        break;
                mq_close(q);
        }
        for (long i = 0; i < n; i++) {
                snprintf(name, sizeof(name), "%sprobe.%ld", bench_mq_prefix, i);
                mq_unlink(name);
        }
        *count_limit = n;
        return (long long)n * queue_cost(Q_MSGS, Q_SIZE);
}

static int write_config(struct daemon *d, long channels, long queues) {
        FILE *f = fopen(d->conf, "ae");

        if (!f)
                return -errno;
        for (long i = 0; i < channels; i++) {
                if (i < queues)
                        fprintf(f,
                                "\n[channel ch.%05ld]\ntype = mqueue\nmax_messages = %d\nmessage_size = %d\n"
                                "on_stop = remove\n",
                                i, Q_MSGS, Q_SIZE);
                else
                        fprintf(f, "\n[channel ch.%05ld]\ntype = fifo\non_stop = remove\n", i);
        }
        return fclose(f) == 0 ? 0 : -errno;
}

/* The daemon removes its queues at stop (on_stop = remove) unless it had to be killed. */
static void unlink_queues(const struct daemon *d, long queues) {
        char name[200];

        for (long i = 0; i < queues; i++) {
                snprintf(name, sizeof(name), "%sch.%05ld", d->mq_prefix, i);
                mq_unlink(name);
        }
}

static double time_cli_list(const struct daemon *d, char *err, size_t errsize) {
        uint64_t t0 = now_ns();
        int p[2];
        pid_t pid;

        if (pipe2(p, O_CLOEXEC) < 0)
                return -1;
        pid = fork();

        if (pid < 0)
                return -1;
        if (pid == 0) {
                int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
                if (fd >= 0)
                        dup2(fd, 1);
                dup2(p[1], 2);
                setenv("IPCBROKER_SOCKET", d->sock, 1);
                if (opts.cli_libdir)
                        setenv("LD_LIBRARY_PATH", opts.cli_libdir, 1);
                execl(opts.cli, "ipcbroker", "list", (char *)NULL);
                _exit(127);
        }
        close(p[1]);
        {
                char buf[100];
                ssize_t n = read(p[0], buf, sizeof(buf) - 1);
                int st = wait_child(pid);
                uint64_t t = now_ns() - t0;
                close(p[0]);
                if (st != 0) {
                        if (n > 0 && !err[0]) {
                                buf[n] = '\0';
                                buf[strcspn(buf, "\n")] = '\0';
                                snprintf(err, errsize, "%.99s", buf);
                        }
                        return -1;
                }
                return (double)t;
        }
}

static double time_lib_list(const struct daemon *d) {
        ipcb_info *infos = NULL;
        size_t n = 0;
        uint64_t t0;
        int r;

        setenv("IPCBROKER_SOCKET", d->sock, 1);
        t0 = now_ns();
        r = ipcb_list(&infos, &n);
        t0 = now_ns() - t0;
        free(infos);
        if (r < 0) {
                warn("ipcb_list: %s", ipcb_strerror(r));
                return -1;
        }
        return (double)t0;
}

static int open_round(const struct daemon *d, const char *name, struct samples *s) {
        int warm = opts.smoke ? 5 : 100;
        uint64_t end;

        setenv("IPCBROKER_SOCKET", d->sock, 1);
        for (int i = 0; i < warm; i++) {
                ipcb_channel *ch;
                int r = ipcb_open(name, IPCB_SEND, &ch);
                if (r < 0) {
                        warn("ipcb_open %s: %s", name, ipcb_strerror(r));
                        return r;
                }
                ipcb_close(ch);
        }
        end = now_ns() + round_budget_ns() / 2;
        for (;;) {
                ipcb_channel *ch;
                uint64_t t0 = now_ns(), t1;
                int r = ipcb_open(name, IPCB_SEND, &ch);
                if (r < 0)
                        return r;
                ipcb_close(ch);
                t1 = now_ns();
                samples_add(s, t1 - t0);
                if (t1 >= end)
                        return 0;
        }
}

/* Everything, in the (possibly namespaced) child. */
static int scale_child(struct scale_result *res) {
        struct daemon d[2];
        long n = opts.scale_channels, queues, count_limit = -1;
        int cycles = opts.smoke ? 1 : 3, reps = opts.smoke ? 1 : 7, rounds = opts.smoke ? 1 : opts.rounds;
        double ready[2][8], cli[2][16], lib[2][16], reload[2][16];
        int nready[2] = { 0, 0 }, ncli[2] = { 0, 0 }, nlib[2] = { 0, 0 }, nreload[2] = { 0, 0 };
        struct samples oq[2] = {}, of[2] = {};
        char qname[2][32], fname[2][32];
        bool raised = false;
        long saved_msg_max = -1;

        char top[300];

        snprintf(top, sizeof(top), "%s/scale", bench_dir);
        if (mkdir(top, 0755) < 0 && errno != EEXIST) {
                snprintf(res->msg, sizeof(res->msg), "cannot create the scale directory: %s", strerror(errno));
                return -1;
        }
        if (geteuid() == 0 && unshare(CLONE_NEWIPC | CLONE_NEWNS) == 0) {
                res->in_namespace = 1;
                if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                        warn("cannot make the mount namespace private: %s", strerror(errno));
                else {
                        if (access("/dev/mqueue", F_OK) == 0 && mount("mqueue", "/dev/mqueue", "mqueue", 0, NULL) < 0)
                                warn("cannot mount a fresh mqueue filesystem: %s", strerror(errno));
                        /* the runtime directories on tmpfs, as /run is in production */
                        if (mount("tmpfs", top, "tmpfs", 0, "mode=0755") == 0)
                                res->on_tmpfs = 1;
                        else
                                warn("cannot mount a tmpfs on %s: %s", top, strerror(errno));
                }
                if (write_sysctl("/proc/sys/fs/mqueue/queues_max", n + 1024) < 0)
                        warn("cannot raise fs.mqueue.queues_max in the namespace: %s", strerror(errno));
                saved_msg_max = read_sysctl("/proc/sys/fs/mqueue/msg_max");
                raised = write_sysctl("/proc/sys/fs/mqueue/msg_max", 65536) == 0;
        } else
                info("part 6: not root or no namespaces: running against the host's queue limits");

        res->per_queue = queue_cost(Q_MSGS, Q_SIZE);
        res->reserve = mq_reserve();
        if (opts.smoke) {
                /* no probe: it takes every free byte for a moment, which concurrent tests would notice */
                res->free_bytes = res->reserve + (long long)(n / 2 + SMALL_QUEUES + 2) * res->per_queue;
        } else
                res->free_bytes = probe_free_bytes(raised, &count_limit);
        if (raised && saved_msg_max > 0)
                write_sysctl("/proc/sys/fs/mqueue/msg_max", saved_msg_max);
        queues = (long)((res->free_bytes - res->reserve) / res->per_queue) - SMALL_QUEUES - 2;
        if (count_limit >= 0 && queues > count_limit - SMALL_QUEUES - 2)
                queues = count_limit - SMALL_QUEUES - 2;
        if (queues > n)
                queues = n;
        if (opts.smoke && queues > n / 2)
                queues = n / 2;
        if (opts.smoke && !res->in_namespace && queues > 20)
                queues = 20; /* the host's fs.mqueue.queues_max (256) is shared with everyone */
        if (queues < 0)
                queues = 0;
        info("part 6: %lld bytes of RLIMIT_MSGQUEUE free, %ld per queue, %lld kept in reserve: %ld queues",
             res->free_bytes, res->per_queue, res->reserve, queues);

        res->s[0].channels = SMALL_CHANNELS;
        res->s[0].queues = SMALL_QUEUES;
        res->s[0].fifos = SMALL_CHANNELS - SMALL_QUEUES;
        res->s[1].channels = n;
        res->s[1].queues = queues;
        res->s[1].fifos = n - queues;
        if (daemon_prepare(&d[0], "scale/ten", "info") < 0 || daemon_prepare(&d[1], "scale/many", "info") < 0 ||
            write_config(&d[0], SMALL_CHANNELS, SMALL_QUEUES) < 0 || write_config(&d[1], n, queues) < 0) {
                snprintf(res->msg, sizeof(res->msg), "cannot write the configurations");
                return -1;
        }
        /* a queue and a FIFO channel in the middle of each */
        snprintf(qname[0], sizeof(qname[0]), "ch.%05d", SMALL_QUEUES / 2);
        snprintf(fname[0], sizeof(fname[0]), "ch.%05d", SMALL_QUEUES + (SMALL_CHANNELS - SMALL_QUEUES) / 2);
        snprintf(qname[1], sizeof(qname[1]), "ch.%05ld", queues > 0 ? queues / 2 : 0);
        snprintf(fname[1], sizeof(fname[1]), "ch.%05ld", queues + (n - queues) / 2);

        /* start to READY, alternating; the last start of each stays up */
        for (int c = 0; c < cycles; c++)
                for (int k = 0; k < 2; k++) {
                        int side = (c + k) % 2;
                        info("part 6: starting the %ld-channel daemon", res->s[side].channels);
                        if (daemon_start(&d[side], 120) < 0) {
                                snprintf(res->msg, sizeof(res->msg), "the %ld-channel daemon did not start",
                                         res->s[side].channels);
                                daemon_stop(&d[0]);
                                daemon_stop(&d[1]);
                                if (!res->in_namespace) {
                                        unlink_queues(&d[0], res->s[0].queues);
                                        unlink_queues(&d[1], res->s[1].queues);
                                }
                                return -1;
                        }
                        ready[side][nready[side]++] = (double)(d[side].ready_ns - d[side].start_ns);
                        if (c + 1 < cycles) {
                                int st = daemon_stop(&d[side]);
                                if (st != 0)
                                        warn("the %ld-channel daemon exited with status %d", res->s[side].channels, st);
                        }
                }

        info("part 6: list, reload and open latency");
        for (int i = 0; i < reps; i++)
                for (int k = 0; k < 2; k++) {
                        int side = (i + k) % 2;
                        double t = time_cli_list(&d[side], res->list_error[side], sizeof(res->list_error[side]));
                        if (t > 0)
                                cli[side][ncli[side]++] = t;
                        t = time_lib_list(&d[side]);
                        if (t > 0)
                                lib[side][nlib[side]++] = t;
                }
        for (int i = 0; i < (opts.smoke ? 1 : 5); i++)
                for (int k = 0; k < 2; k++) {
                        int side = (i + k) % 2;
                        uint64_t t = daemon_reload(&d[side], 120);
                        if (t)
                                reload[side][nreload[side]++] = (double)t;
                        else
                                warn("reload of the %ld-channel daemon did not finish", res->s[side].channels);
                }
        if (rounds > 64)
                rounds = 64;
        for (int i = 0; i < rounds; i++)
                for (int k = 0; k < 2; k++) {
                        int side = (i + k) % 2;
                        struct samples one = {};
                        res->s[side].round_q50[i] = res->s[side].round_f50[i] = -1;
                        if (res->s[side].queues > 0 && open_round(&d[side], qname[side], &one) == 0 && one.n) {
                                for (size_t m = 0; m < one.n; m++)
                                        samples_add(&oq[side], one.v[m]);
                                res->s[side].round_q50[i] = samples_quantile(&one, 0.5);
                        }
                        samples_free(&one);
                        if (open_round(&d[side], fname[side], &one) == 0 && one.n) {
                                for (size_t m = 0; m < one.n; m++)
                                        samples_add(&of[side], one.v[m]);
                                res->s[side].round_f50[i] = samples_quantile(&one, 0.5);
                        }
                        samples_free(&one);
                }
        res->s[0].rounds = res->s[1].rounds = rounds;
        {
                /* both idle, side by side: what they spend is the sampling (and the 1 s housekeeping timers) */
                uint64_t c0[2], t0, t1;
                for (int side = 0; side < 2; side++)
                        c0[side] = proc_cpu_ns(d[side].pid);
                t0 = now_ns();
                usleep(opts.smoke ? 300000 : 10000000);
                t1 = now_ns();
                for (int side = 0; side < 2; side++)
                        res->s[side].idle_cpu_ns =
                                (double)(proc_cpu_ns(d[side].pid) - c0[side]) * 1e9 / (double)(t1 - t0);
        }
        for (int side = 0; side < 2; side++) {
                struct side *s = &res->s[side];
                s->rss = (double)daemon_rss(&d[side]);
                s->ready_ns = median_of(ready[side], (size_t)nready[side]);
                s->list_cli_ns = median_of(cli[side], (size_t)ncli[side]);
                s->list_lib_ns = median_of(lib[side], (size_t)nlib[side]);
                s->reload_ns = median_of(reload[side], (size_t)nreload[side]);
                s->open_q_p50 = oq[side].n ? samples_quantile(&oq[side], 0.5) : -1;
                s->open_q_p99 = oq[side].n ? samples_quantile(&oq[side], 0.99) : -1;
                s->open_f_p50 = of[side].n ? samples_quantile(&of[side], 0.5) : -1;
                s->open_f_p99 = of[side].n ? samples_quantile(&of[side], 0.99) : -1;
                samples_free(&oq[side]);
                samples_free(&of[side]);
                int st = daemon_stop(&d[side]);
                if (st != 0)
                        warn("the %ld-channel daemon exited with status %d", s->channels, st);
                daemon_release(&d[side]);
                if (!res->in_namespace)
                        unlink_queues(&d[side], s->queues); /* in a namespace they go with it */
        }
        res->ok = 1;
        return 0;
}

int bench_scale(void) {
        struct scale_result res;
        struct row *row;
        char what[64], xname[64];
        int p[2];
        pid_t pid;

        if (pipe2(p, O_CLOEXEC) < 0)
                die("pipe: %s", strerror(errno));
        pid = fork();
        if (pid < 0)
                die("fork: %s", strerror(errno));
        if (pid == 0) {
                close(p[0]);
                memset(&res, 0, sizeof(res));
                scale_child(&res);
                write_full(p[1], &res, sizeof(res));
                _exit(0);
        }
        close(p[1]);
        memset(&res, 0, sizeof(res));
        if (read_full(p[0], &res, sizeof(res)) < 0)
                res.ok = 0;
        close(p[0]);
        wait_child(pid);
        if (!res.ok) {
                table_skip("6", "scale", res.msg[0] ? res.msg : "the scale test failed");
                return -1;
        }

        const struct side *a = &res.s[0], *b = &res.s[1];
        const char *bname = "10 channels (5 mq + 5 FIFO)";
        snprintf(xname, sizeof(xname), "%ld ch (%ld mq + %ld FIFO)", b->channels, b->queues, b->fifos);

        row = table_add("6", "start to READY=1", bname, a->ready_ns, xname, b->ready_ns, U_NS);
        row_target(row, T_ABS_MAX, 0.5e9);
        row = table_add("6", "daemon RSS (VmRSS)", bname, a->rss, xname, b->rss, U_BYTES);
        row_target(row, T_ABS_MAX, 32.0 * 1048576);
        row = table_add("6", "`ipcbroker list` (CLI, exec)", bname, a->list_cli_ns, xname, b->list_cli_ns, U_NS);
        row_target(row, T_ABS_MAX, 100e6);
        if (res.list_error[1][0] || res.list_error[0][0])
                row_note(row, "FAILED: %s", res.list_error[1][0] ? res.list_error[1] : res.list_error[0]);
        table_add("6", "ipcb_list() in-process", bname, a->list_lib_ns, xname, b->list_lib_ns, U_NS);
        table_add("6", "reload (SIGHUP to READY=1)", bname, a->reload_ns, xname, b->reload_ns, U_NS);
        row = table_add("6", "open+close p50, queue channel", bname, a->open_q_p50, xname, b->open_q_p50, U_NS);
        row_target(row, T_RATIO_MAX, 1.10);
        row_paired(row, b->round_q50, a->round_q50, b->rounds);
        table_add("6", "open+close p99, queue channel", bname, a->open_q_p99, xname, b->open_q_p99, U_NS);
        row = table_add("6", "open+close p50, FIFO channel", bname, a->open_f_p50, xname, b->open_f_p50, U_NS);
        row_target(row, T_RATIO_MAX, 1.10);
        row_paired(row, b->round_f50, a->round_f50, b->rounds);
        row = table_add("6", "idle daemon CPU per s (sampling)", bname, a->idle_cpu_ns, xname, b->idle_cpu_ns, U_NS);
        row_target(row, T_ABS_MAX, 10e6); /* 1 % of one CPU */
        row_note(row, "sample_interval 1 s: %.2f %% of one CPU for %ld channels", b->idle_cpu_ns / 1e7, b->channels);
        snprintf(what, sizeof(what), "open+close p99, FIFO channel");
        row = table_add("6", what, bname, a->open_f_p99, xname, b->open_f_p99, U_NS);
        if (opts.smoke)
                row_note(row, "%s, runtime_dir on %s; smoke: RLIMIT_MSGQUEUE not probed",
                         res.in_namespace ? "private IPC namespace" : "host IPC namespace",
                         res.on_tmpfs ? "tmpfs" : "the temporary directory's filesystem");
        else
                row_note(row,
                         "%s, runtime_dir on %s; %lld B of RLIMIT_MSGQUEUE were free, %ld B per queue, %lld B "
                         "left to others",
                         res.in_namespace ? "private IPC namespace" : "host IPC namespace",
                         res.on_tmpfs ? "tmpfs" : "the temporary directory's filesystem", res.free_bytes, res.per_queue,
                         res.reserve);
        return 0;
}
