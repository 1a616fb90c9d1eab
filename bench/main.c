/*
 * ipcbroker-bench — the performance benchmark of ipcbroker (issue 5).
 *
 *   ipcbroker-bench [--smoke] [--parts 1,2,3,4,5,6,7,8] [--seconds S] [--rounds N]
 *                   [--clients N] [--channels N] [-v]
 *                   [--daemon PATH] [--cli PATH] [--cli-libdir DIR] [--dbus-daemon PATH]
 *
 * Measures the broker against raw kernel IPC, a bare SCM_RIGHTS server,
 * D-Bus and ZeroMQ, and the bridge across hosts against cnats alone. Starts
 * the real ipcbrokerd on a temporary configuration (temporary socket, runtime
 * directory and a unique mq_prefix), waits for READY=1 on its own
 * NOTIFY_SOCKET, measures, stops it with SIGTERM and removes every queue and
 * file it made. Prints one table: each row a baseline B and a measurement X
 * from the same run, their ratio, and the target with PASS/MISS
 * (informational: the exit status never depends on timings).
 *
 * --smoke runs every part tiny (about two seconds in all) to prove that the
 * benchmark still works; its figures mean nothing.
 *
 * Exit status: 0 when every selected part ran (a part skipped for a missing
 * optional tool, such as dbus-daemon or libzmq, counts as run; a batch round
 * that loses, duplicates or reorders a message does not), 1 otherwise, 2 usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bench.h"

#define SMALL_SCALE_MIN 20 /* more than the 10-channel baseline */

static struct daemon main_daemon = { .pid = -1, .notify_fd = -1 };

/*
 * The process that may clean up: the benchmark itself. Its children inherit
 * the atexit handler and the SIGINT/SIGTERM handlers (the bare server of
 * part 3 is stopped with SIGTERM); in them cleanup() must do nothing, or a
 * child would stop the daemon under test and unlink its queues.
 */
static pid_t cleanup_owner;

static void cleanup(void) {
        if (getpid() != cleanup_owner)
                return;
        if (main_daemon.pid > 0)
                daemon_stop(&main_daemon);
        daemon_release(&main_daemon);
        if (main_daemon.mq_prefix[0]) {
                bench_data_unlink_channels(&main_daemon);
                bench_open_unlink_channels(&main_daemon);
                bench_batch_unlink_channels(&main_daemon);
        }
        bench_open_cleanup();
        bench_bridge_cleanup();
        bench_data_cleanup();
        bench_dir_remove();
}

static void on_signal(int sig) {
        signal(sig, SIG_DFL);
        cleanup();
        raise(sig);
}

static void usage(FILE *f) {
        fprintf(f, "Usage: ipcbroker-bench [OPTIONS]\n"
                   "Measure ipcbroker against raw kernel IPC, a bare SCM_RIGHTS server, D-Bus, ZeroMQ and cnats.\n"
                   "\n"
                   "  --smoke            run everything tiny (a second or two), no timing claims\n"
                   "  --parts LIST       parts to run, e.g. 1,2,3 (default: all, 1-8)\n"
                   "  --seconds S        time per measurement and variant (default 1.5)\n"
                   "  --rounds N         interleaved rounds per measurement (default 20)\n"
                   "  --clients N        concurrent clients for the open rate (default 16)\n"
                   "  --channels N       channels in the scale test (default 10000)\n"
                   "  --daemon PATH      ipcbrokerd to test ($IPCBROKERD)\n"
                   "  --cli PATH         ipcbroker CLI ($IPCBROKER_CLI)\n"
                   "  --cli-libdir DIR   LD_LIBRARY_PATH for the CLI ($IPCBROKER_CLI_LIBDIR)\n"
                   "  --dbus-daemon PATH dbus-daemon (default: found in PATH)\n"
                   "  -v, --verbose      progress on stderr\n"
                   "  -h, --help         this help\n");
}

static const char *find_in_path(const char *name) {
        static char buf[512];
        const char *path = getenv("PATH");

        if (!path)
                path = "/usr/local/bin:/usr/bin:/bin";
        while (*path) {
                size_t n = strcspn(path, ":");
                snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, name);
                if (n && access(buf, X_OK) == 0)
                        return buf;
                path += n;
                if (*path == ':')
                        path++;
        }
        return NULL;
}

static unsigned parse_parts(const char *s) {
        unsigned parts = 0;

        for (const char *p = s; *p; p++) {
                if (*p >= '1' && *p <= '8')
                        parts |= PART(*p - '0');
                else if (*p != ',' && *p != ' ')
                        return 0;
        }
        return parts;
}

int main(int argc, char **argv) {
        static const struct option options[] = { { "smoke", no_argument, NULL, 's' },
                                                 { "parts", required_argument, NULL, 'p' },
                                                 { "seconds", required_argument, NULL, 'S' },
                                                 { "rounds", required_argument, NULL, 'r' },
                                                 { "clients", required_argument, NULL, 'c' },
                                                 { "channels", required_argument, NULL, 'n' },
                                                 { "daemon", required_argument, NULL, 'd' },
                                                 { "cli", required_argument, NULL, 'C' },
                                                 { "cli-libdir", required_argument, NULL, 'L' },
                                                 { "dbus-daemon", required_argument, NULL, 'D' },
                                                 { "verbose", no_argument, NULL, 'v' },
                                                 { "help", no_argument, NULL, 'h' },
                                                 {} };
        const char *e;
        struct utsname u;
        int c, failures = 0, with_target, missed;
        uint64_t t0 = now_ns();

        opts.seconds = 1.5;
        opts.rounds = 20;
        opts.clients = 16;
        opts.scale_channels = -1;
        opts.parts = PART(1) | PART(2) | PART(3) | PART(4) | PART(5) | PART(6) | PART(7) | PART(8);
        opts.daemon = getenv("IPCBROKERD");
        opts.cli = getenv("IPCBROKER_CLI");
        opts.cli_libdir = getenv("IPCBROKER_CLI_LIBDIR");
        e = getenv("BENCH_SMOKE");
        opts.smoke = e && *e && strcmp(e, "0") != 0;

        while ((c = getopt_long(argc, argv, "vh", options, NULL)) >= 0) {
                switch (c) {
                case 's':
                        opts.smoke = true;
                        break;
                case 'p':
                        opts.parts = parse_parts(optarg);
                        if (!opts.parts) {
                                fprintf(stderr, "ipcbroker-bench: --parts: a list of 1 to 8\n");
                                return 2;
                        }
                        break;
                case 'S':
                        opts.seconds = atof(optarg);
                        break;
                case 'r':
                        opts.rounds = atoi(optarg);
                        break;
                case 'c':
                        opts.clients = atoi(optarg);
                        break;
                case 'n':
                        opts.scale_channels = atol(optarg);
                        break;
                case 'd':
                        opts.daemon = optarg;
                        break;
                case 'C':
                        opts.cli = optarg;
                        break;
                case 'L':
                        opts.cli_libdir = optarg;
                        break;
                case 'D':
                        opts.dbus_daemon = optarg;
                        break;
                case 'v':
                        opts.verbose = true;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (optind < argc || opts.seconds <= 0 || opts.rounds < 1 || opts.rounds > 60 || opts.clients < 1 ||
            opts.clients > 256) {
                usage(stderr);
                return 2;
        }
        if (opts.scale_channels < 0)
                opts.scale_channels = opts.smoke ? 200 : 10000;
        if (opts.scale_channels < SMALL_SCALE_MIN || opts.scale_channels > 99999) {
                fprintf(stderr, "ipcbroker-bench: --channels: %d to 99999\n", SMALL_SCALE_MIN);
                return 2;
        }
        if (opts.smoke)
                opts.clients = opts.clients > 4 ? 4 : opts.clients;
        if (!opts.daemon || !*opts.daemon)
                opts.daemon = "ipcbrokerd";
        if (!opts.cli || !*opts.cli)
                opts.cli = "ipcbroker";
        if (!strchr(opts.daemon, '/'))
                opts.daemon = find_in_path(opts.daemon) ? strdup(find_in_path(opts.daemon)) : opts.daemon;
        if (!strchr(opts.cli, '/'))
                opts.cli = find_in_path(opts.cli) ? strdup(find_in_path(opts.cli)) : opts.cli;
        if (opts.cli_libdir && !*opts.cli_libdir)
                opts.cli_libdir = NULL;
        if (!opts.dbus_daemon)
                opts.dbus_daemon = find_in_path("dbus-daemon");
        if (access(opts.daemon, X_OK) < 0)
                die("cannot run the daemon %s (use --daemon or IPCBROKERD)", opts.daemon);

        bench_dir_create();
        cleanup_owner = getpid();
        atexit(cleanup);
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        signal(SIGPIPE, SIG_IGN);

        uname(&u);
        printf("# ipcbroker benchmark: %s mode, %ld CPUs, Linux %s, %s; every X/B is from this run\n",
               opts.smoke ? "SMOKE (figures meaningless)" : "full", sysconf(_SC_NPROCESSORS_ONLN), u.release,
               geteuid() == 0 ? "root" : "not root");
        printf("# temporary directory %s (removed at exit)\n", bench_dir);
        if (!opts.smoke)
                printf("# %.1f s per measurement and variant in %d interleaved rounds; %d concurrent clients; "
                       "%ld channels at scale\n",
                       opts.seconds, opts.rounds, opts.clients, opts.scale_channels);
        fflush(stdout);

        if (opts.parts & (PART(1) | PART(2) | PART(3) | PART(4) | PART(5))) {
                if (daemon_prepare(&main_daemon, "main", "info") < 0)
                        die("cannot prepare the daemon's directory under %s", bench_dir);
                bench_data_declare(&main_daemon);
                bench_open_declare(&main_daemon);
                bench_batch_declare(&main_daemon);
                if (daemon_start(&main_daemon, 30) < 0) {
                        failures++;
                        table_skip("1-5", "all", "skipped: ipcbrokerd did not start");
                } else {
                        info("ipcbrokerd pid %d ready in %.1f ms", (int)main_daemon.pid,
                             (double)(main_daemon.ready_ns - main_daemon.start_ns) / 1e6);
                        if ((opts.parts & (PART(1) | PART(2))) && bench_data(&main_daemon) < 0)
                                failures++;
                        if ((opts.parts & PART(3)) && bench_open(&main_daemon) < 0)
                                failures++;
                        if ((opts.parts & PART(4)) && bench_dbus(&main_daemon) < 0)
                                failures++;
                        if ((opts.parts & PART(5)) && bench_batch(&main_daemon) < 0)
                                failures++;
                        if (daemon_stop(&main_daemon) != 0) {
                                warn("ipcbrokerd did not exit cleanly; its log:");
                                daemon_show_log(&main_daemon, 20);
                                failures++;
                        }
                }
                daemon_release(&main_daemon);
        }

        if ((opts.parts & PART(6)) && bench_scale() < 0)
                failures++;
        if ((opts.parts & PART(7)) && bench_fair() < 0)
                failures++;
        if ((opts.parts & PART(8)) && bench_bridge() < 0)
                failures++;

        printf("\n");
        table_print();
        table_counts(&with_target, &missed);
        printf("\n# %d rows with a target, %d missed%s; %d part(s) failed to run; %.1f s in all\n", with_target, missed,
               opts.smoke ? " (smoke: not judged)" : " (informational)", failures, (double)(now_ns() - t0) / 1e9);
        return failures ? 1 : 0;
}
