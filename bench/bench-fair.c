/*
 * bench-fair.c — part 7: root's latency while another user floods the daemon.
 *
 * 128 connections of nobody keep asking for `list` (tests/helpers/flood, run
 * as nobody), and root's persistent connection asks for `status` one request
 * after the other (flood probe). The baseline is the same probe with no
 * flood, in the same round. Users are served round-robin (daemon/sched.c),
 * so root waits for at most one of nobody's requests per turn, not one per
 * connection: the target is a p50 at most 2x the idle one.
 *
 * Needs root (to run the flood as nobody) and the flood helper
 * (IPCBROKER_FLOOD, set by run-bench.sh; built by make check/bench-build).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define FAIR_FLOOD_CONNECTIONS 128
#define FAIR_CHANNELS 30
#define FAIR_NOBODY 65534

/* Run the helper with ARGV; its stdout comes back on *out_fd. As nobody when AS_NOBODY. */
static pid_t spawn(const char *const *argv, bool as_nobody, int *out_fd) {
        int p[2];
        pid_t pid;

        if (pipe2(p, O_CLOEXEC) < 0)
                return -1;
        pid = fork();
        if (pid < 0)
                return -1;
        if (pid == 0) {
                dup2(p[1], STDOUT_FILENO);
                if (as_nobody && (setgroups(0, NULL) < 0 || setgid(FAIR_NOBODY) < 0 || setuid(FAIR_NOBODY) < 0))
                        _exit(126);
                execv(argv[0], (char *const *)argv);
                _exit(127);
        }
        close(p[1]);
        *out_fd = p[0];
        return pid;
}

/* Read lines from FD until one starts with PREFIX (or EOF). */
static bool wait_line(int fd, const char *prefix) {
        char buf[256];
        size_t n = 0;

        for (;;) {
                ssize_t r = read(fd, buf + n, 1);
                if (r <= 0)
                        return false;
                if (buf[n] == '\n' || n == sizeof(buf) - 2) {
                        buf[n] = '\0';
                        if (strncmp(buf, prefix, strlen(prefix)) == 0)
                                return true;
                        n = 0;
                        continue;
                }
                n++;
        }
}

/* One probe of COUNT status requests: the median latency in ns, or -1. */
static double probe(const char *flood, const char *sock, int count) {
        char n[16];
        const char *argv[] = { flood, "probe", sock, n, NULL };
        struct samples s = {};
        double p50;
        FILE *f;
        int fd;
        pid_t pid;
        unsigned long long served;
        double us;

        snprintf(n, sizeof(n), "%d", count);
        pid = spawn(argv, false, &fd);
        if (pid < 0)
                return -1;
        f = fdopen(fd, "r");
        while (f && fscanf(f, "%llu %lf", &served, &us) == 2)
                samples_add(&s, (uint64_t)(us * 1000));
        if (f)
                fclose(f);
        if (wait_child(pid) != 0 || s.n == 0) {
                samples_free(&s);
                return -1;
        }
        p50 = samples_quantile(&s, 0.5);
        samples_free(&s);
        return p50;
}

int bench_fair(void) {
        struct daemon d = { .pid = -1, .notify_fd = -1 };
        const char *flood = getenv("IPCBROKER_FLOOD");
        int rounds = opts.smoke ? 1 : opts.rounds / 4 > 3 ? opts.rounds / 4 : 3;
        int count = opts.smoke ? 50 : 2000;
        double idle[64], busy[64], idle_all = 0, busy_all = 0;
        int n = 0, failed = 0;
        struct row *row;

        if (geteuid() != 0) {
                table_skip("7", "status p50 under a flood", "skipped: needs root (the flood runs as nobody)");
                return 0;
        }
        if (!flood || access(flood, X_OK) < 0) {
                table_skip("7", "status p50 under a flood", "skipped: tests/helpers/flood not built (make check)");
                return 0;
        }
        if (daemon_prepare(&d, "fair", "warning") < 0)
                return -1;
        for (int i = 0; i < FAIR_CHANNELS; i++)
                daemon_conf_append(&d,
                                   "\n[channel fair%d]\ntype = mqueue\nmax_messages = 2\nmessage_size = 64\n"
                                   "on_stop = remove\n",
                                   i);
        if (daemon_start(&d, 30) < 0) {
                daemon_release(&d);
                table_skip("7", "status p50 under a flood", "skipped: ipcbrokerd did not start");
                return -1;
        }
        /* nobody must reach the socket */
        chmod(bench_dir, 0755);
        chmod(d.dir, 0755);
        if (rounds > 64)
                rounds = 64;
        for (int r = 0; r < rounds; r++) {
                char conns[16];
                const char *argv[] = { flood, "flood", d.sock, conns, "3600", "list", NULL };
                double a, b;
                int fd;
                pid_t pid;

                a = probe(flood, d.sock, count);
                snprintf(conns, sizeof(conns), "%d", FAIR_FLOOD_CONNECTIONS);
                pid = spawn(argv, true, &fd);
                if (pid < 0 || !wait_line(fd, "connected")) {
                        warn("part 7: the flood did not start");
                        if (pid > 0) {
                                kill(pid, SIGKILL);
                                wait_child(pid);
                        }
                        close(fd);
                        failed = 1;
                        break;
                }
                b = probe(flood, d.sock, count);
                kill(pid, SIGKILL);
                wait_child(pid);
                close(fd);
                if (a <= 0 || b <= 0) {
                        failed = 1;
                        break;
                }
                idle[n] = a;
                busy[n] = b;
                idle_all += a;
                busy_all += b;
                n++;
        }
        if (n > 0) {
                row = table_add("7", "root's status p50, nobody floods", "idle", idle_all / n, "128 conns of list",
                                busy_all / n, U_NS);
                row_target(row, T_RATIO_MAX, 2.0);
                row_paired(row, busy, idle, n);
                row_note(row, "persistent connections; %d channels; users served round-robin", FAIR_CHANNELS);
        } else
                table_skip("7", "status p50 under a flood", "FAILED: the probe or the flood did not run");
        if (daemon_stop(&d) != 0)
                failed = 1;
        daemon_release(&d);
        return failed ? -1 : 0;
}
