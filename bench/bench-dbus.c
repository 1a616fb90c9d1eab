/*
 * bench-dbus.c — part 4: D-Bus, the alternative users have today.
 *
 * A private dbus-daemon on a temporary configuration (its own socket, no
 * policy beyond "allow"), a service process that registers
 * org.ipcbroker.Bench with two methods through sd-bus:
 *
 *   Echo(ay) -> ay          the message round trip
 *   OpenQueue(s) -> h       mq_open()s the named queue and hands out the fd
 *
 * and a client (this process) calling them synchronously with sd_bus_call().
 * Compared with the broker's channel round trip (the 64-byte queue
 * ping-pong of part 1) and its open-by-name (part 3), from the same run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "bench.h"

#define BUS_NAME "org.ipcbroker.Bench"
#define BUS_PATH "/org/ipcbroker/Bench"
#define BUS_IFACE "org.ipcbroker.Bench"

static pid_t bus_pid = -1, service_pid = -1;
static char queue_name[128];
static bool queue_created;

static void dbus_cleanup(void) {
        if (service_pid > 0) {
                kill(service_pid, SIGTERM);
                wait_child(service_pid);
                service_pid = -1;
        }
        if (bus_pid > 0) {
                kill(bus_pid, SIGTERM);
                wait_child(bus_pid);
                bus_pid = -1;
        }
        if (queue_created) {
                mq_unlink(queue_name);
                queue_created = false;
        }
}

/* Start a private dbus-daemon; ADDR gets its address. */
static int bus_start(char *addr, size_t size) {
        char dir[400], conf[450];
        int p[2];
        FILE *f;
        ssize_t n;
        size_t got = 0;
        uint64_t end;

        snprintf(dir, sizeof(dir), "%s/dbus", bench_dir);
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return -errno;
        snprintf(conf, sizeof(conf), "%s/bus.conf", dir);
        f = fopen(conf, "we");
        if (!f)
                return -errno;
        fprintf(f,
                "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN\"\n"
                " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
                "<busconfig>\n"
                "  <type>session</type>\n"
                "  <listen>unix:path=%s/bus.sock</listen>\n"
                "  <auth>EXTERNAL</auth>\n"
                "  <policy context=\"default\">\n"
                "    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
                "    <allow eavesdrop=\"true\"/>\n"
                "    <allow own=\"*\"/>\n"
                "  </policy>\n"
                "</busconfig>\n",
                dir);
        fclose(f);
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        bus_pid = fork();
        if (bus_pid < 0)
                return -errno;
        if (bus_pid == 0) {
                char fdarg[32];
                int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
                int fd = dup(p[1]); /* without O_CLOEXEC */
                snprintf(fdarg, sizeof(fdarg), "--print-address=%d", fd);
                if (devnull >= 0) {
                        dup2(devnull, 0);
                        if (!opts.verbose)
                                dup2(devnull, 2);
                }
                execl(opts.dbus_daemon, "dbus-daemon", "--config-file", conf, "--nofork", "--nopidfile", fdarg,
                      (char *)NULL);
                _exit(127);
        }
        close(p[1]);
        end = now_ns() + 10000000000ull;
        while (got + 1 < size && now_ns() < end) {
                n = read(p[0], addr + got, size - 1 - got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                got += (size_t)n;
                if (memchr(addr, '\n', got))
                        break;
        }
        close(p[0]);
        addr[got] = '\0';
        if (!got || !strchr(addr, '\n'))
                return -EIO;
        *strchr(addr, '\n') = '\0';
        return 0;
}

static int bus_connect(const char *addr, sd_bus **ret) {
        sd_bus *b = NULL;
        int r;

        r = sd_bus_new(&b);
        if (r < 0)
                return r;
        if ((r = sd_bus_set_address(b, addr)) < 0 || (r = sd_bus_set_bus_client(b, 1)) < 0 ||
            (r = sd_bus_negotiate_fds(b, 1)) < 0 || (r = sd_bus_start(b)) < 0) {
                sd_bus_unref(b);
                return r;
        }
        *ret = b;
        return 0;
}

static int method_echo(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        sd_bus_message *reply = NULL;
        const void *p;
        size_t n;
        int r;

        (void)userdata;
        (void)error;
        r = sd_bus_message_read_array(m, 'y', &p, &n);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(m, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_append_array(reply, 'y', p, n);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        sd_bus_message_unref(reply);
        return r < 0 ? r : 1;
}

static int method_open(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *name;
        int fd, r;

        (void)userdata;
        r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        fd = (int)mq_open(name, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return sd_bus_error_set_errno(error, errno);
        r = sd_bus_reply_method_return(m, "h", fd); /* sd-bus sends a duplicate */
        close(fd);
        return r;
}

static const sd_bus_vtable vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("Echo", "ay", "ay", method_echo, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("OpenQueue", "s", "h", method_open, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

static _Noreturn void service(const char *addr, int ready_fd) {
        sd_bus *b = NULL;
        char c = 1;
        int r;

        signal(SIGTERM, SIG_DFL);
        r = bus_connect(addr, &b);
        if (r >= 0)
                r = sd_bus_add_object_vtable(b, NULL, BUS_PATH, BUS_IFACE, vtable, NULL);
        if (r >= 0)
                r = sd_bus_request_name(b, BUS_NAME, 0);
        if (r < 0) {
                warn("D-Bus service: %s", strerror(-r));
                _exit(1);
        }
        write_full(ready_fd, &c, 1);
        close(ready_fd);
        for (;;) {
                r = sd_bus_process(b, NULL);
                if (r < 0)
                        _exit(r == -ECONNRESET || r == -ENOTCONN ? 0 : 1);
                if (r > 0)
                        continue;
                r = sd_bus_wait(b, UINT64_MAX);
                if (r < 0 && r != -EINTR)
                        _exit(1);
        }
}

static int call_echo(sd_bus *b, const void *buf, size_t len) {
        sd_bus_message *m = NULL, *reply = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        const void *p;
        size_t n;
        int r;

        r = sd_bus_message_new_method_call(b, &m, BUS_NAME, BUS_PATH, BUS_IFACE, "Echo");
        if (r >= 0)
                r = sd_bus_message_append_array(m, 'y', buf, len);
        if (r >= 0)
                r = sd_bus_call(b, m, 0, &error, &reply);
        if (r >= 0)
                r = sd_bus_message_read_array(reply, 'y', &p, &n);
        if (r >= 0 && n != len)
                r = -EBADMSG;
        sd_bus_error_free(&error);
        sd_bus_message_unref(m);
        sd_bus_message_unref(reply);
        return r < 0 ? r : 0;
}

static int call_open(sd_bus *b) {
        sd_bus_message *reply = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int fd = -1, r;

        r = sd_bus_call_method(b, BUS_NAME, BUS_PATH, BUS_IFACE, "OpenQueue", &error, &reply, "s", queue_name);
        if (r >= 0)
                r = sd_bus_message_read(reply, "h", &fd); /* owned by the message: closed by the unref */
        if (r >= 0 && fd < 0)
                r = -EBADF;
        sd_bus_error_free(&error);
        sd_bus_message_unref(reply);
        return r < 0 ? r : 0;
}

static int timed(sd_bus *b, bool echo, struct samples *s) {
        char buf[64];
        uint64_t end;
        int r;

        memset(buf, 'x', sizeof(buf));
        for (int i = 0; i < (opts.smoke ? 10 : 500); i++)
                if ((r = echo ? call_echo(b, buf, sizeof(buf)) : call_open(b)) < 0)
                        return r;
        end = now_ns() + round_budget_ns() * (opts.smoke ? 1 : (uint64_t)opts.rounds);
        for (;;) {
                uint64_t t0 = now_ns(), t1;
                if ((r = echo ? call_echo(b, buf, sizeof(buf)) : call_open(b)) < 0)
                        return r;
                t1 = now_ns();
                samples_add(s, t1 - t0);
                if (t1 >= end)
                        return 0;
        }
}

int bench_dbus(struct daemon *d) {
        struct mq_attr a = { .mq_maxmsg = 10, .mq_msgsize = 64 };
        struct samples echo = {}, fdo = {};
        char addr[512];
        sd_bus *b = NULL;
        struct row *row;
        int ready[2], r;
        char c;
        mqd_t q;

        (void)d;
        if (!opts.dbus_daemon || access(opts.dbus_daemon, X_OK) < 0) {
                table_skip("4", "D-Bus round trip and fd hand-out",
                           "skipped: dbus-daemon not found (Debian package dbus)");
                return 0;
        }
        snprintf(queue_name, sizeof(queue_name), "%sraw.dbusq", bench_mq_prefix);
        q = mq_open(queue_name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &a);
        if (q == (mqd_t)-1) {
                table_skip("4", "D-Bus round trip and fd hand-out", "skipped: cannot create a queue");
                return -1;
        }
        mq_close(q);
        queue_created = true;

        r = bus_start(addr, sizeof(addr));
        if (r < 0) {
                table_skip("4", "D-Bus round trip and fd hand-out", "skipped: the private dbus-daemon did not start");
                dbus_cleanup();
                return -1;
        }
        info("part 4: private dbus-daemon at %s", addr);
        if (pipe2(ready, O_CLOEXEC) < 0)
                die("pipe: %s", strerror(errno));
        service_pid = fork();
        if (service_pid < 0)
                die("fork: %s", strerror(errno));
        if (service_pid == 0) {
                close(ready[0]);
                service(addr, ready[1]);
        }
        close(ready[1]);
        r = read_full(ready[0], &c, 1);
        close(ready[0]);
        if (r < 0 || bus_connect(addr, &b) < 0) {
                table_skip("4", "D-Bus round trip and fd hand-out", "skipped: cannot register the D-Bus service");
                dbus_cleanup();
                return -1;
        }

        info("part 4: D-Bus method round trip");
        r = timed(b, true, &echo);
        if (r >= 0) {
                info("part 4: D-Bus fd hand-out");
                r = timed(b, false, &fdo);
        }
        if (r < 0)
                warn("D-Bus call failed: %s", strerror(-r));
        sd_bus_flush_close_unref(b);

        double e50 = echo.n ? samples_quantile(&echo, 0.5) : -1, e99 = echo.n ? samples_quantile(&echo, 0.99) : -1;
        double f50 = fdo.n ? samples_quantile(&fdo, 0.5) : -1, f99 = fdo.n ? samples_quantile(&fdo, 0.99) : -1;
        row = table_add("4", "round trip p50, 64 B", "broker channel ping-pong", shared.mq64_pingpong_lib_p50,
                        "dbus-daemon method call", e50, U_NS);
        row_target(row, T_RATIO_MIN, 5.0);
        if (shared.mq64_pingpong_lib_p50 < 0)
                row_note(row, "(run part 1 for the baseline)");
        table_add("4", "round trip p99, 64 B", "-", -1, "dbus-daemon method call", e99, U_NS);
        row = table_add("4", "fd hand-out p50", "ipcb_open+ipcb_close", shared.open_lib_p50,
                        "D-Bus method returning 'h'", f50, U_NS);
        if (shared.open_lib_p50 < 0)
                row_note(row, "(run part 3 for the baseline)");
        table_add("4", "fd hand-out p99", "-", -1, "D-Bus method returning 'h'", f99, U_NS);
        samples_free(&echo);
        samples_free(&fdo);
        dbus_cleanup();
        return 0;
}
