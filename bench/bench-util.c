/*
 * bench-util.c — statistics, the result table, the daemon under test and
 * process helpers for ipcbroker-bench.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

struct bench_opts opts;
struct shared_results shared = { -1, -1, -1, -1, -1 };
char bench_dir[256];
char bench_mq_prefix[64];

/* ---- messages ------------------------------------------------------------------ */

void info(const char *fmt, ...) {
        va_list ap;

        if (!opts.verbose)
                return;
        va_start(ap, fmt);
        fputs("# ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
}

void warn(const char *fmt, ...) {
        char buf[1024];
        va_list ap;
        int n;

        /* one write, so that lines of concurrent child processes do not interleave */
        va_start(ap, fmt);
        n = snprintf(buf, sizeof(buf), "ipcbroker-bench: ");
        n += vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
        va_end(ap);
        if (n > (int)sizeof(buf) - 2)
                n = (int)sizeof(buf) - 2;
        buf[n++] = '\n';
        fflush(stderr);
        if (write(STDERR_FILENO, buf, (size_t)n) < 0) {
                /* nowhere to report it */
        }
}

void die(const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        fputs("ipcbroker-bench: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
        exit(1);
}

/* ---- statistics --------------------------------------------------------------------- */

void samples_add(struct samples *s, uint64_t ns) {
        if (s->n == s->cap) {
                size_t nc = s->cap ? s->cap * 2 : 4096;
                uint64_t *nv = realloc(s->v, nc * sizeof(*nv));
                if (!nv)
                        die("out of memory");
                s->v = nv;
                s->cap = nc;
        }
        s->v[s->n++] = ns;
}

void samples_free(struct samples *s) {
        free(s->v);
        s->v = NULL;
        s->n = s->cap = 0;
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

double samples_quantile(struct samples *s, double q) {
        size_t i;

        if (s->n == 0)
                return 0;
        qsort(s->v, s->n, sizeof(*s->v), cmp_u64);
        i = (size_t)(q * (double)(s->n - 1) + 0.5);
        if (i >= s->n)
                i = s->n - 1;
        return (double)s->v[i];
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

double median_of(double *v, size_t n) {
        if (n == 0)
                return -1;
        qsort(v, n, sizeof(*v), cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

uint64_t round_budget_ns(void) {
        if (opts.smoke)
                return 15 * 1000000ull; /* 15 ms */
        return (uint64_t)(opts.seconds / opts.rounds * 1e9);
}

/*
 * BENCH_PIN=split puts the two sides of a data-path measurement on CPUs 0
 * and 1, BENCH_PIN=same both on CPU 0; by default the scheduler decides.
 */
void bench_pin(int side) {
        const char *e = getenv("BENCH_PIN");
        cpu_set_t set;

        if (!e || !*e || strcmp(e, "none") == 0)
                return;
        CPU_ZERO(&set);
        CPU_SET(strcmp(e, "same") == 0 ? 0 : side, &set);
        if (sched_setaffinity(0, sizeof(set), &set) < 0)
                warn("sched_setaffinity: %s", strerror(errno));
}

/* ---- the table ------------------------------------------------------------------------ */

#define MAX_ROWS 64
static struct row rows[MAX_ROWS];
static size_t n_rows;

struct row *table_add(const char *part, const char *what, const char *base_name, double base, const char *x_name,
                      double x, enum unit unit) {
        struct row *r;

        if (n_rows >= MAX_ROWS)
                die("too many table rows");
        r = &rows[n_rows++];
        memset(r, 0, sizeof(*r));
        snprintf(r->part, sizeof(r->part), "%s", part);
        snprintf(r->what, sizeof(r->what), "%s", what);
        snprintf(r->base_name, sizeof(r->base_name), "%s", base_name);
        snprintf(r->x_name, sizeof(r->x_name), "%s", x_name);
        r->base = base;
        r->x = x;
        r->unit = unit;
        return r;
}

void row_target(struct row *r, enum target_kind k, double t) {
        r->tkind = k;
        r->target = t;
}

void row_target2(struct row *r, enum target_kind k, double t) {
        r->tkind2 = k;
        r->target2 = t;
}

void row_note(struct row *r, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(r->note, sizeof(r->note), fmt, ap);
        va_end(ap);
}

void row_paired(struct row *r, const double *x, const double *b, int n) {
        double q[256];
        int k = 0;

        for (int i = 0; i < n && k < 256; i++)
                if (x[i] > 0 && b[i] > 0)
                        q[k++] = x[i] / b[i];
        if (k == 0)
                return;
        r->ratio = median_of(q, (size_t)k); /* sorts q */
        r->ratio_lo = q[k / 4];
        r->ratio_hi = q[(3 * k) / 4 < k ? (3 * k) / 4 : k - 1];
        r->pairs = k;
}

void table_skip(const char *part, const char *what, const char *why) {
        struct row *r = table_add(part, what, "-", -1, "-", -1, U_NS);
        row_note(r, "%s", why);
}

static void fmt_value(char *buf, size_t size, double v, enum unit u) {
        if (v < 0) {
                snprintf(buf, size, "-");
                return;
        }
        switch (u) {
        case U_RATE:
                if (v >= 1e6)
                        snprintf(buf, size, "%.2fM/s", v / 1e6);
                else if (v >= 1e3)
                        snprintf(buf, size, "%.1fk/s", v / 1e3);
                else
                        snprintf(buf, size, "%.0f/s", v);
                break;
        case U_NS:
                if (v >= 1e9)
                        snprintf(buf, size, "%.2f s", v / 1e9);
                else if (v >= 1e6)
                        snprintf(buf, size, "%.2f ms", v / 1e6);
                else if (v >= 1e3)
                        snprintf(buf, size, "%.2f us", v / 1e3);
                else
                        snprintf(buf, size, "%.0f ns", v);
                break;
        case U_BYTES:
                if (v >= 1048576)
                        snprintf(buf, size, "%.1f MiB", v / 1048576);
                else
                        snprintf(buf, size, "%.0f KiB", v / 1024);
                break;
        }
}

/* 1 pass, 0 miss, -1 nothing to judge */
static double row_ratio(const struct row *r) {
        if (r->ratio > 0)
                return r->ratio;
        return r->base > 0 && r->x >= 0 ? r->x / r->base : -1;
}

static int judge(const struct row *r, enum target_kind k, double t) {
        double ratio = row_ratio(r);

        switch (k) {
        case T_NONE:
                return -1;
        case T_RATIO_MIN:
                return ratio < 0 ? -1 : ratio >= t;
        case T_RATIO_MAX:
                return ratio < 0 ? -1 : ratio <= t;
        case T_BASE_OVER_X_MIN:
                return ratio <= 0 ? -1 : 1 / ratio >= t;
        case T_ABS_MIN:
                return r->x < 0 ? -1 : r->x >= t;
        case T_ABS_MAX:
                return r->x < 0 ? -1 : r->x <= t;
        }
        return -1;
}

static void fmt_target(char *buf, size_t size, const struct row *r, enum target_kind k, double t) {
        char v[24];

        switch (k) {
        case T_NONE:
                buf[0] = '\0';
                break;
        case T_RATIO_MIN:
                snprintf(buf, size, "X/B>=%.2f", t);
                break;
        case T_RATIO_MAX:
                snprintf(buf, size, "X/B<=%.2f", t);
                break;
        case T_BASE_OVER_X_MIN:
                snprintf(buf, size, "B/X>=%.1f", t);
                break;
        case T_ABS_MIN:
                fmt_value(v, sizeof(v), t, r->unit);
                snprintf(buf, size, "X>=%s", v);
                break;
        case T_ABS_MAX:
                fmt_value(v, sizeof(v), t, r->unit);
                snprintf(buf, size, "X<=%s", v);
                break;
        }
}

void table_counts(int *with_target, int *missed) {
        *with_target = *missed = 0;
        for (size_t i = 0; i < n_rows; i++) {
                int a = judge(&rows[i], rows[i].tkind, rows[i].target);
                int b = judge(&rows[i], rows[i].tkind2, rows[i].target2);
                if (rows[i].tkind != T_NONE || rows[i].tkind2 != T_NONE)
                        (*with_target)++;
                if (a == 0 || b == 0)
                        (*missed)++;
        }
}

void table_print(void) {
        printf("%-4s %-34s %-28s %10s  %-28s %10s %9s  %-24s %-7s %s\n", "PART", "MEASUREMENT", "BASELINE (B)", "B",
               "MEASURED (X)", "X", "X/B", "TARGET", "RESULT", "NOTES");
        for (size_t i = 0; i < n_rows; i++) {
                const struct row *r = &rows[i];
                char b[32], x[32], ratio[32], t1[48], t2[48], target[100], result[16];
                int j1, j2;

                fmt_value(b, sizeof(b), r->base, r->unit);
                fmt_value(x, sizeof(x), r->x, r->unit);
                if (row_ratio(r) >= 0)
                        snprintf(ratio, sizeof(ratio), "%.3fx%s", row_ratio(r), r->ratio > 0 ? "*" : "");
                else
                        snprintf(ratio, sizeof(ratio), "-");
                fmt_target(t1, sizeof(t1), r, r->tkind, r->target);
                fmt_target(t2, sizeof(t2), r, r->tkind2, r->target2);
                snprintf(target, sizeof(target), "%s%s%s", t1, t1[0] && t2[0] ? " & " : "", t2);
                if (!target[0])
                        snprintf(target, sizeof(target), "-");
                j1 = judge(r, r->tkind, r->target);
                j2 = judge(r, r->tkind2, r->target2);
                if (r->tkind == T_NONE && r->tkind2 == T_NONE)
                        snprintf(result, sizeof(result), "info");
                else if (j1 < 0 && j2 < 0)
                        snprintf(result, sizeof(result), "n/a");
                else if (opts.smoke)
                        snprintf(result, sizeof(result), "(smoke)");
                else
                        snprintf(result, sizeof(result), "%s", j1 == 0 || j2 == 0 ? "MISS" : "PASS");
                char spread[48] = "";
                if (r->pairs > 1)
                        snprintf(spread, sizeof(spread), "[%d pairs %.2f-%.2f]", r->pairs, r->ratio_lo, r->ratio_hi);
                printf("%-4s %-34s %-28s %10s  %-28s %10s %9s  %-24s %-7s %s%s%s\n", r->part, r->what, r->base_name, b,
                       r->x_name, x, ratio, target, result, spread, spread[0] && r->note[0] ? " " : "", r->note);
        }
        fflush(stdout);
}

/* ---- the temporary directory ---------------------------------------------------------------- */

static pid_t dir_owner;

void bench_dir_create(void) {
        const char *tmp = getenv("TMPDIR");

        snprintf(bench_dir, sizeof(bench_dir), "%s/ipcbroker-bench.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(bench_dir))
                die("mkdtemp %s: %s", bench_dir, strerror(errno));
        chmod(bench_dir, 0755);
        dir_owner = getpid();
        snprintf(bench_mq_prefix, sizeof(bench_mq_prefix), "/ipcbbench.%d.", (int)getpid());
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void)st;
        (void)flag;
        (void)ftw;
        remove(path);
        return 0;
}

void bench_dir_remove(void) {
        if (!bench_dir[0] || getpid() != dir_owner)
                return;
        nftw(bench_dir, rm_one, 32, FTW_DEPTH | FTW_PHYS);
        bench_dir[0] = '\0';
}

/* ---- processes ------------------------------------------------------------------------------- */

int write_full(int fd, const void *buf, size_t len) {
        const char *p = buf;

        while (len) {
                ssize_t n = write(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return -1;
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

int read_full(int fd, void *buf, size_t len) {
        char *p = buf;

        while (len) {
                ssize_t n = read(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return -1;
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

int wait_child(pid_t pid) {
        int st;

        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                        return -1;
        if (WIFEXITED(st))
                return WEXITSTATUS(st);
        return 128 + WTERMSIG(st);
}

/* ---- the daemon under test -------------------------------------------------------------------- */

/*
 * The notify socket is read all the time by a thread: sd_notify() blocks the
 * daemon when the datagram queue is full (net.unix.max_dgram_qlen, 10 by
 * default), and the daemon sends STATUS= as clients come and go.
 */
#define NOTIFY_RING 256

struct notifier {
        int fd;
        int stop[2];
        pthread_t thread;
        pthread_mutex_t mu;
        uint64_t seq; /* lines received so far */
        struct {
                uint64_t seq, t;
                char line[48];
        } ring[NOTIFY_RING];
};

static void *notifier_main(void *arg) {
        struct notifier *n = arg;

        for (;;) {
                struct pollfd p[2] = { { .fd = n->fd, .events = POLLIN }, { .fd = n->stop[0], .events = POLLIN } };
                char buf[4096];
                ssize_t m;

                if (poll(p, 2, -1) < 0 && errno != EINTR)
                        break;
                if (p[1].revents)
                        break;
                while ((m = recv(n->fd, buf, sizeof(buf) - 1, 0)) > 0) {
                        uint64_t t = now_ns();
                        char *save = NULL;
                        buf[m] = '\0';
                        pthread_mutex_lock(&n->mu);
                        for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                                size_t k = n->seq % NOTIFY_RING;
                                n->ring[k].seq = ++n->seq;
                                n->ring[k].t = t;
                                snprintf(n->ring[k].line, sizeof(n->ring[k].line), "%s", line);
                        }
                        pthread_mutex_unlock(&n->mu);
                }
        }
        return NULL;
}

static uint64_t notifier_seq(struct notifier *n) {
        uint64_t s;

        pthread_mutex_lock(&n->mu);
        s = n->seq;
        pthread_mutex_unlock(&n->mu);
        return s;
}

/* The first line equal to WHAT after sequence number AFTER: its sequence number and time, or 0. */
static uint64_t notifier_find(struct notifier *n, const char *what, uint64_t after, uint64_t *t) {
        uint64_t found = 0;

        pthread_mutex_lock(&n->mu);
        for (uint64_t s = after + 1; s <= n->seq && !found; s++) {
                size_t k = (s - 1) % NOTIFY_RING;
                if (n->ring[k].seq == s && strcmp(n->ring[k].line, what) == 0) {
                        found = s;
                        *t = n->ring[k].t;
                }
        }
        pthread_mutex_unlock(&n->mu);
        return found;
}

void daemon_release(struct daemon *d) {
        struct notifier *n = d->notifier;

        if (n) {
                char c = 1;
                if (write(n->stop[1], &c, 1) != 1) {
                        /* the thread then only ends with the process */
                }
                pthread_join(n->thread, NULL);
                close(n->stop[0]);
                close(n->stop[1]);
                pthread_mutex_destroy(&n->mu);
                free(n);
                d->notifier = NULL;
        }
        if (d->notify_fd >= 0) {
                close(d->notify_fd);
                d->notify_fd = -1;
        }
}

int service_prepare(struct daemon *d, const char *name) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char path[400];

        memset(d, 0, sizeof(*d));
        d->pid = -1;
        d->notify_fd = -1;
        snprintf(d->dir, sizeof(d->dir), "%s/%s", bench_dir, name);
        if (mkdir(d->dir, 0755) < 0 && errno != EEXIST)
                return -errno;
        snprintf(d->conf, sizeof(d->conf), "%s/ipcbroker.conf", d->dir);
        snprintf(d->sock, sizeof(d->sock), "%s/run/ipcbroker.sock", d->dir);
        snprintf(d->log, sizeof(d->log), "%s/daemon.log", d->dir);
        snprintf(d->mq_prefix, sizeof(d->mq_prefix), "%s%s.", bench_mq_prefix, name);
        for (char *c = d->mq_prefix + 1; *c; c++)
                if (*c == '/')
                        *c = '-'; /* one slash only, at the start of a queue name */
        snprintf(path, sizeof(path), "%s/notify.sock", d->dir);
        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, strlen(path) + 1);
        unlink(path);
        d->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (d->notify_fd < 0 || bind(d->notify_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return -errno;
        d->notifier = calloc(1, sizeof(*d->notifier));
        if (!d->notifier)
                return -ENOMEM;
        d->notifier->fd = d->notify_fd;
        pthread_mutex_init(&d->notifier->mu, NULL);
        if (pipe2(d->notifier->stop, O_CLOEXEC) < 0 ||
            pthread_create(&d->notifier->thread, NULL, notifier_main, d->notifier) != 0) {
                free(d->notifier);
                d->notifier = NULL;
                return -EAGAIN;
        }
        return 0;
}

int daemon_prepare(struct daemon *d, const char *name, const char *log_level) {
        int r = service_prepare(d, name);
        FILE *f;

        if (r < 0)
                return r;
        f = fopen(d->conf, "we");
        if (!f)
                return -errno;
        fprintf(f,
                "[broker]\n"
                "socket = %s\n"
                "runtime_dir = %s/run\n"
                "mq_prefix = %s\n"
                "admins = root\n"
                "max_clients = 4096\n"
                "log_level = %s\n",
                d->sock, d->dir, d->mq_prefix, log_level);
        fclose(f);
        return 0;
}

void daemon_conf_append(struct daemon *d, const char *fmt, ...) {
        va_list ap;
        FILE *f = fopen(d->conf, "ae");

        if (!f)
                die("%s: %s", d->conf, strerror(errno));
        va_start(ap, fmt);
        vfprintf(f, fmt, ap);
        va_end(ap);
        fclose(f);
}

uint64_t daemon_wait_notify(struct daemon *d, const char *what, double timeout_s) {
        uint64_t end = now_ns() + (uint64_t)(timeout_s * 1e9);

        for (;;) {
                uint64_t t = 0, seq = notifier_find(d->notifier, what, d->mark, &t);
                int st;

                if (seq) {
                        d->mark = seq;
                        return t;
                }
                if (now_ns() >= end)
                        return 0;
                if (d->pid > 0 && waitpid(d->pid, &st, WNOHANG) == d->pid) {
                        warn("pid %d (%s) exited (status %d) while we waited for %s", (int)d->pid, d->dir, st, what);
                        d->pid = -1;
                        return 0;
                }
                usleep(200);
        }
}

int service_start(struct daemon *d, const char *path, char *const argv[], double timeout_s) {
        char env[400];

        d->mark = notifier_seq(d->notifier); /* what came before is old news */
        snprintf(env, sizeof(env), "%s/notify.sock", d->dir);
        d->start_ns = now_ns();
        d->pid = fork();
        if (d->pid < 0)
                return -errno;
        if (d->pid == 0) {
                int fd = open(d->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
                if (fd >= 0) {
                        dup2(fd, 1);
                        dup2(fd, 2);
                }
                setenv("NOTIFY_SOCKET", env, 1);
                unsetenv("LISTEN_FDS");
                unsetenv("LISTEN_PID");
                unsetenv("WATCHDOG_USEC");
                execv(path, argv);
                fprintf(stderr, "exec %s: %s\n", path, strerror(errno));
                _exit(127);
        }
        d->ready_ns = daemon_wait_notify(d, "READY=1", timeout_s);
        if (!d->ready_ns) {
                warn("%s (%s) did not become ready; its log:", argv[0], d->dir);
                daemon_show_log(d, 30);
                daemon_stop(d);
                return -ETIMEDOUT;
        }
        return 0;
}

int daemon_start(struct daemon *d, double timeout_s) {
        char *argv[] = { "ipcbrokerd", "-c", d->conf, NULL };
        int r = service_start(d, opts.daemon, argv, timeout_s);

        if (r < 0)
                return r;
        setenv("IPCBROKER_SOCKET", d->sock, 1);
        return 0;
}

uint64_t daemon_reload(struct daemon *d, double timeout_s) {
        uint64_t t0, t1;

        d->mark = notifier_seq(d->notifier);
        t0 = now_ns();
        if (kill(d->pid, SIGHUP) < 0)
                return 0;
        if (!daemon_wait_notify(d, "RELOADING=1", timeout_s))
                return 0;
        t1 = daemon_wait_notify(d, "READY=1", timeout_s);
        return t1 ? t1 - t0 : 0;
}

int daemon_stop(struct daemon *d) {
        uint64_t end;
        int st;

        if (d->pid <= 0)
                return -1;
        kill(d->pid, SIGTERM);
        end = now_ns() + 20 * 1000000000ull;
        for (;;) {
                pid_t r = waitpid(d->pid, &st, WNOHANG);
                if (r == d->pid)
                        break;
                if (r < 0 && errno != EINTR) {
                        st = -1;
                        break;
                }
                if (now_ns() > end) {
                        warn("pid %d (%s) did not stop within 20 s; killing it", (int)d->pid, d->dir);
                        kill(d->pid, SIGKILL);
                        waitpid(d->pid, &st, 0);
                        break;
                }
                usleep(2000);
        }
        d->pid = -1;
        return st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

long long daemon_rss(const struct daemon *d) {
        char path[64], line[256];
        long long kb = -1;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/status", (int)d->pid);
        f = fopen(path, "re");
        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "VmRSS: %lld kB", &kb) == 1)
                        break;
        fclose(f);
        return kb < 0 ? -1 : kb * 1024;
}

uint64_t proc_cpu_ns(pid_t pid) {
        char path[64];
        unsigned long long run = 0;
        FILE *f;

        if (pid > 0)
                snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
        else
                snprintf(path, sizeof(path), "/proc/self/schedstat");
        f = fopen(path, "re");
        if (!f)
                return 0;
        if (fscanf(f, "%llu", &run) != 1)
                run = 0;
        fclose(f);
        return run;
}

uint64_t proc_total_cpu_ns(pid_t pid) {
        unsigned long long ut = 0, st = 0;
        char path[64], buf[1024], *p;
        FILE *f;
        size_t n;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        f = fopen(path, "re");
        if (!f)
                return 0;
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        p = strrchr(buf, ')'); /* the command may hold spaces */
        if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
                return 0;
        return (ut + st) * (1000000000ull / (unsigned long long)sysconf(_SC_CLK_TCK));
}

uint64_t proc_ctxt_switches(pid_t pid) {
        char path[64], line[256];
        unsigned long long v, total = 0;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        f = fopen(path, "re");
        if (!f)
                return 0;
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "voluntary_ctxt_switches: %llu", &v) == 1 ||
                    sscanf(line, "nonvoluntary_ctxt_switches: %llu", &v) == 1)
                        total += v;
        fclose(f);
        return total;
}

void daemon_show_log(const struct daemon *d, int lines) {
        char cmd[600];

        snprintf(cmd, sizeof(cmd), "tail -n %d '%s' | sed 's/^/#   /' >&2", lines, d->log);
        if (system(cmd) != 0) {
                /* nothing to add */
        }
}
