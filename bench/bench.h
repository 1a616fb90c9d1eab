/*
 * bench.h — what the parts of ipcbroker-bench share: options, clocks,
 * statistics, the result table, a real ipcbrokerd under test, and small
 * process helpers.
 *
 * Every figure the benchmark prints is a ratio to a baseline measured in the
 * same run, because the machines it runs on are shared and noisy: absolute
 * times move between runs, ratios of interleaved measurements much less.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* ---- options -------------------------------------------------------------- */

struct bench_opts {
        bool smoke;          /* tiny: everything in a second or two, no timing claims */
        double seconds;      /* per measurement and variant (full mode) */
        int rounds;          /* interleaved rounds per measurement */
        int clients;         /* concurrent clients for the open rate */
        long scale_channels; /* channels in the scale test */
        bool verbose;
        unsigned parts;         /* bit N: part N is run */
        const char *daemon;     /* ipcbrokerd */
        const char *cli;        /* ipcbroker (the real binary when we can find it) */
        const char *cli_libdir; /* LD_LIBRARY_PATH for it, or NULL */
        const char *dbus_daemon;
};

extern struct bench_opts opts;

#define PART(n) (1u << (n))

/* ---- clocks and statistics ------------------------------------------------- */

static inline uint64_t now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A growable array of samples in nanoseconds. */
struct samples {
        uint64_t *v;
        size_t n, cap;
};

void samples_add(struct samples *s, uint64_t ns);
void samples_free(struct samples *s);
/* The q-quantile (0..1) in nanoseconds; sorts in place. 0 when empty. */
double samples_quantile(struct samples *s, double q);

double median_of(double *v, size_t n);

/* ---- the table ---------------------------------------------------------------- */

enum unit {
        U_RATE,  /* per second: higher is better */
        U_NS,    /* a duration: lower is better */
        U_BYTES, /* lower is better */
};

enum target_kind {
        T_NONE,
        T_RATIO_MIN,       /* ratio X/B >= target */
        T_RATIO_MAX,       /* ratio X/B <= target */
        T_BASE_OVER_X_MIN, /* B/X >= target (X is that many times faster) */
        T_ABS_MIN,         /* X >= target (in the row's unit) */
        T_ABS_MAX,         /* X <= target */
};

struct row {
        char part[4];
        char what[64];
        char base_name[40];
        double base; /* <0: not measured */
        char x_name[40];
        double x; /* <0: not measured */
        enum unit unit;
        enum target_kind tkind;
        double target;
        enum target_kind tkind2; /* an optional second (absolute) target */
        double target2;
        char note[160];            /* "skipped: ..." and the like */
        double ratio;              /* >0: the median of paired per-round ratios, used instead of X/B */
        double ratio_lo, ratio_hi; /* their quartiles */
        int pairs;
};

struct row *table_add(const char *part, const char *what, const char *base_name, double base, const char *x_name,
                      double x, enum unit unit);
void row_target(struct row *r, enum target_kind k, double t);
void row_target2(struct row *r, enum target_kind k, double t);
void row_note(struct row *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * Judge the row by the median of per-round ratios X_i/B_i (rounds run back to
 * back, so each pair saw the same machine) instead of the ratio of the
 * pooled figures. Pairs where either side is missing (<= 0) are ignored.
 */
void row_paired(struct row *r, const double *x, const double *b, int n);
void table_skip(const char *part, const char *what, const char *why);
void table_print(void);
/* How many rows have a target, and how many of them missed (informational). */
void table_counts(int *with_target, int *missed);

/* ---- messages ------------------------------------------------------------------------ */

void info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- a temporary directory, removed at exit ------------------------------------------ */

extern char bench_dir[256];
void bench_dir_create(void);
void bench_dir_remove(void);
/* A unique POSIX queue name prefix for this run: "/ipcbbench.PID.". */
extern char bench_mq_prefix[64];

/* ---- the daemon under test ------------------------------------------------------------- */

struct daemon {
        pid_t pid;
        char dir[300]; /* its own directory under bench_dir */
        char conf[340];
        char sock[340];
        char log[340];
        char mq_prefix[96];
        int notify_fd;             /* our NOTIFY_SOCKET */
        struct notifier *notifier; /* a thread that keeps reading it (the daemon blocks on a full socket) */
        uint64_t mark;             /* notifications before this one are old news */
        uint64_t start_ns;         /* fork time */
        uint64_t ready_ns;         /* READY=1 received */
};

/* Prepare DIR, its config header ([broker] with a unique mq_prefix) and the notify socket. */
int daemon_prepare(struct daemon *d, const char *name, const char *log_level);
/* Only DIR (bench_dir/NAME), the log's path and the notify socket: for another service (the bridge). */
int service_prepare(struct daemon *d, const char *name);
/* Start PATH with ARGV (NOTIFY_SOCKET set, output to d->log) and wait (at most timeout_s) for READY=1. */
int service_start(struct daemon *d, const char *path, char *const argv[], double timeout_s);
/* Append text to the config. */
void daemon_conf_append(struct daemon *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Start it and wait (at most timeout_s) for READY=1. Sets IPCBROKER_SOCKET for this process. */
int daemon_start(struct daemon *d, double timeout_s);
/* Wait for the notification line WHAT (e.g. "READY=1") received after the mark; returns when it arrived, or 0. */
uint64_t daemon_wait_notify(struct daemon *d, const char *what, double timeout_s);
/* SIGHUP and wait for the READY=1 that ends the reload; returns ns or 0. */
uint64_t daemon_reload(struct daemon *d, double timeout_s);
/* SIGTERM and wait; returns its exit status (or -1). */
int daemon_stop(struct daemon *d);
/* Stop reading the notify socket and close it (after daemon_stop). */
void daemon_release(struct daemon *d);
/* VmRSS in bytes, or -1. */
long long daemon_rss(const struct daemon *d);
/* CPU time (user+system) consumed so far by PID, in ns (from /proc/PID/schedstat). */
uint64_t proc_cpu_ns(pid_t pid);
/* The same for all of PID's threads (utime+stime of /proc/PID/stat: clock ticks, 10 ms here). */
uint64_t proc_total_cpu_ns(pid_t pid);
void daemon_show_log(const struct daemon *d, int lines);
/* Context switches (voluntary and not) of PID so far. */
uint64_t proc_ctxt_switches(pid_t pid);

/* ---- processes -------------------------------------------------------------------------- */

/* A pipe pair used as a barrier or result channel. */
int write_full(int fd, const void *buf, size_t len);
int read_full(int fd, void *buf, size_t len);
/* Wait for a child; returns its exit status, or -1. */
int wait_child(pid_t pid);
/* The time budget of one round, in ns. */
uint64_t round_budget_ns(void);
/* Pin the calling process to the CPU of data-path side 0 or 1 as BENCH_PIN asks (same|split|none). */
void bench_pin(int side);

/* ---- the parts ---------------------------------------------------------------------------- */

/* Results shared between parts (the D-Bus part compares against them). */
struct shared_results {
        double mq64_pingpong_lib_p50; /* ns */
        double mq64_pingpong_raw_p50;
        double open_lib_p50; /* ns */
        double open_bare_p50;
        double mq64_tput_raw; /* messages/s, median of part 1's raw rounds */
};
extern struct shared_results shared;

int bench_data(struct daemon *d);  /* parts 1 and 2 */
int bench_open(struct daemon *d);  /* part 3 */
int bench_dbus(struct daemon *d);  /* part 4 */
int bench_batch(struct daemon *d); /* part 5 */
int bench_scale(void);             /* part 6 */
int bench_fair(void);              /* part 7 */
int bench_bridge(void);            /* part 8 */
/* Stop what part 8 started (the bridges, the two daemons, nats-server), if it still runs. */
void bench_bridge_cleanup(void);

/* The channels the data and open parts need, declared in the shared daemon's config. */
void bench_data_declare(struct daemon *d);
void bench_open_declare(struct daemon *d);
void bench_batch_declare(struct daemon *d);
void bench_data_cleanup(void);
/* Unlink the channels' queues by name (the daemon removes them itself unless it had to be killed). */
void bench_data_unlink_channels(const struct daemon *d);
void bench_open_unlink_channels(const struct daemon *d);
void bench_open_cleanup(void);
void bench_batch_unlink_channels(const struct daemon *d);
