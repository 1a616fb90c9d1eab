/*
 * test-lib.c — libipcbroker against the real ipcbrokerd.
 *
 * The test starts $top_builddir/ipcbrokerd itself on a configuration in a
 * fresh mkdtemp() directory (socket, runtime_dir and FIFOs inside, a queue
 * prefix unique to this run, on_stop = remove everywhere), with NOTIFY_SOCKET
 * pointing at a datagram socket it binds, and waits (bounded) for READY=1.
 * Every wait in here is bounded by a timeout; nothing sleeps blindly.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <malloc.h>
#include <mqueue.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ipcbroker.h"
#include "mqprefix.h"
#include "tap.h"

/* ---- the test's world ---------------------------------------------------------- */

static char dir[64];
static char conf_path[128];
static char sock_path[128];
static char run_dir[128];
static char log_path[128];
static char notify_path[128];
static char prefix[64];
static char daemon_bin[PATH_MAX];
static int notify_fd = -1;
static pid_t daemon_pid = -1;

/* The queue channels of the configuration, for cleanup. */
static const char *const mq_channels[] = { "q", "q2", "pq", "k" };
#define N_CHANNELS 12

static long long now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void write_file(const char *path, const char *text) {
        FILE *f = fopen(path, "we");

        if (!f || fputs(text, f) < 0 || fclose(f) != 0)
                BAIL_OUT("cannot write %s: %s", path, strerror(errno));
}

static void show_log(void) {
        char line[512];
        FILE *f = fopen(log_path, "re");
        int n = 0;

        if (!f)
                return;
        diag("---- daemon log (last lines) ----");
        {
                long count = 0;
                while (fgets(line, sizeof(line), f))
                        count++;
                rewind(f);
                while (fgets(line, sizeof(line), f)) {
                        if (n++ < count - 40)
                                continue;
                        line[strcspn(line, "\n")] = '\0';
                        diag("%s", line);
                }
        }
        fclose(f);
}

static void setup_world(void) {
        const char *top = getenv("top_builddir");
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char text[4096];
        struct timespec ts;

        snprintf(daemon_bin, sizeof(daemon_bin), "%s/ipcbrokerd", top && *top ? top : ".");
        if (access(daemon_bin, X_OK) < 0)
                BAIL_OUT("%s not built", daemon_bin);
        snprintf(dir, sizeof(dir), "/tmp/ipcbtl.XXXXXX");
        if (!mkdtemp(dir))
                BAIL_OUT("mkdtemp: %s", strerror(errno));
        /* an unprivileged caller must reach the socket inside */
        if (chmod(dir, 0755) < 0)
                BAIL_OUT("chmod: %s", strerror(errno));
        clock_gettime(CLOCK_REALTIME, &ts);
        snprintf(prefix, sizeof(prefix), "/ipcbtl.%d.%ld.", (int)getpid(), ts.tv_nsec);
        snprintf(conf_path, sizeof(conf_path), "%s/ipcbroker.conf", dir);
        snprintf(run_dir, sizeof(run_dir), "%s/run", dir);
        snprintf(sock_path, sizeof(sock_path), "%s/run/ipcbroker.sock", dir);
        snprintf(log_path, sizeof(log_path), "%s/daemon.log", dir);
        snprintf(notify_path, sizeof(notify_path), "%s/notify.sock", dir);

        snprintf(text, sizeof(text),
                 "[broker]\n"
                 "socket = %s\n"
                 "runtime_dir = %s\n"
                 "mq_prefix = %s\n"
                 "admins = root\n"
                 "log_level = debug\n"
                 "sample_interval = 50ms\n"
                 "\n[channel q]\ntype = mqueue\nmax_messages = 4\nmessage_size = 64\non_stop = remove\n"
                 "\n[channel q2]\ntype = mqueue\nmax_messages = 2\nmessage_size = 32\non_stop = remove\n"
                 "\n[channel pq]\ntype = mqueue\nmax_messages = 8\nmessage_size = 64\non_stop = remove\n"
                 "\n[channel k]\ntype = mqueue\nmax_messages = 8\nmessage_size = 64\non_stop = remove\n"
                 "\n[channel f]\ntype = fifo\nmessage_size = 100\ncapacity = 65536\non_stop = remove\n"
                 "\n[channel ff]\ntype = fifo\nmessage_size = 100\ncapacity = 16384\non_stop = remove\n"
                 "\n[channel mp]\ntype = fifo\nmessage_size = 512\ncapacity = 65536\non_stop = remove\n"
                 "\n[channel pf]\ntype = fifo\nmessage_size = 100\non_stop = remove\n"
                 "\n[channel kf]\ntype = fifo\nmessage_size = 100\non_stop = remove\n"
                 "\n[channel mon]\ntype = mqueue\nmax_messages = 2\nmessage_size = 32\nalert_full_after = 200ms\n"
                 "on_stop = remove\n"
                 "\n[channel monf]\ntype = fifo\nmessage_size = 100\ncapacity = 4096\non_stop = remove\n"
                 "\n[channel acl]\ntype = mqueue\nmode = 0640\nsend = nobody\non_stop = remove\n",
                 sock_path, run_dir, prefix);
        write_file(conf_path, text);

        notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (notify_fd < 0)
                BAIL_OUT("socket: %s", strerror(errno));
        memcpy(sa.sun_path, notify_path, strlen(notify_path) + 1);
        if (bind(notify_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                BAIL_OUT("bind %s: %s", notify_path, strerror(errno));
        setenv("IPCBROKER_SOCKET", sock_path, 1);
}

/* Start the daemon and wait (at most 10 s) for READY=1. Returns its pid, or -1. */
static pid_t daemon_start(void) {
        char buf[4096];
        long long deadline;
        pid_t pid;

        /* forget notifications of an earlier daemon */
        while (recv(notify_fd, buf, sizeof(buf), 0) >= 0)
                ;
        pid = fork();
        if (pid < 0)
                BAIL_OUT("fork: %s", strerror(errno));
        if (pid == 0) {
                int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
                if (fd >= 0) {
                        dup2(fd, STDOUT_FILENO);
                        dup2(fd, STDERR_FILENO);
                }
                setenv("NOTIFY_SOCKET", notify_path, 1);
                execl(daemon_bin, "ipcbrokerd", "-c", conf_path, (char *)NULL);
                _exit(127);
        }
        deadline = now_ms() + 10000;
        while (now_ms() < deadline) {
                struct pollfd p = { .fd = notify_fd, .events = POLLIN };
                int status;

                if (poll(&p, 1, 100) > 0) {
                        ssize_t n = recv(notify_fd, buf, sizeof(buf) - 1, 0);
                        if (n > 0) {
                                buf[n] = '\0';
                                if (strncmp(buf, "READY=1", 7) == 0 || strstr(buf, "\nREADY=1"))
                                        return pid;
                        }
                }
                if (waitpid(pid, &status, WNOHANG) == pid) {
                        diag("ipcbrokerd exited before READY=1 (status %#x)", status);
                        show_log();
                        return -1;
                }
        }
        diag("ipcbrokerd did not send READY=1 within 10 s");
        show_log();
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -1;
}

/* Wait at most MS for PID to exit; returns its wait status or -1 (then it is killed). */
static int wait_exit(pid_t pid, int ms) {
        long long deadline = now_ms() + ms;
        int status;

        for (;;) {
                pid_t r = waitpid(pid, &status, WNOHANG);
                if (r == pid)
                        return status;
                if (r < 0)
                        return -1;
                if (now_ms() >= deadline)
                        break;
                poll(NULL, 0, 10);
        }
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        return -1;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void)st;
        (void)flag;
        (void)ftw;
        remove(path);
        return 0;
}

static void cleanup_world(void) {
        char name[256];

        if (daemon_pid > 0) {
                kill(daemon_pid, SIGKILL);
                waitpid(daemon_pid, NULL, 0);
                daemon_pid = -1;
        }
        for (size_t i = 0; i < sizeof(mq_channels) / sizeof(mq_channels[0]); i++) {
                snprintf(name, sizeof(name), "%s%s", prefix, mq_channels[i]);
                mq_unlink(name);
        }
        /* and any other queue of this run (root's queue budget is shared) */
        mqprefix_run(prefix, true, stderr);
        if (notify_fd >= 0)
                close(notify_fd);
        if (dir[0])
                nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- small helpers ---------------------------------------------------------------- */

static ipcb_channel *open_ok(const char *name, int flags) {
        ipcb_channel *ch = NULL;
        int r = ipcb_open(name, flags, &ch);

        if (r < 0) {
                diag("ipcb_open(%s, %d): %s", name, flags, ipcb_strerror(r));
                BAIL_OUT("cannot open channel %s", name);
        }
        return ch;
}

/* Drain a channel through a non-blocking receive handle; returns the number of messages. */
static int drain(const char *name) {
        ipcb_channel *ch = open_ok(name, IPCB_RECV | IPCB_NONBLOCK);
        char buf[1024];
        int n = 0;

        while (n < 10000 && ipcb_recv(ch, buf, sizeof(buf), NULL) >= 0)
                n++;
        ipcb_close(ch);
        return n;
}

/* ---- tests -------------------------------------------------------------------------- */

static void test_basic_mqueue(void) {
        ipcb_channel *ch = NULL;
        char buf[64];
        unsigned prio = 99;
        ssize_t n;
        int r;

        r = ipcb_open("q", IPCB_SEND | IPCB_RECV, &ch);
        is_int(r, 0, "mqueue: open for send and receive");
        if (r < 0)
                return;
        is_str(ipcb_name(ch), "q", "mqueue: ipcb_name");
        ok(ipcb_fd(ch) >= 0, "mqueue: ipcb_fd is a descriptor");
        {
                int fl = fcntl(ipcb_fd(ch), F_GETFD);
                ok(fl >= 0 && (fl & FD_CLOEXEC), "mqueue: the passed descriptor is close-on-exec");
        }
        is_int(ipcb_send(ch, "hello", 5, 1), 0, "mqueue: send");
        n = ipcb_recv(ch, buf, sizeof(buf), &prio);
        is_int(n, 5, "mqueue: receive returns the message length");
        ok(n == 5 && memcmp(buf, "hello", 5) == 0, "mqueue: the message is intact");
        is_int(prio, 1, "mqueue: priority reported");
        /* an empty message is a message on a queue */
        is_int(ipcb_send(ch, "", 0, 0), 0, "mqueue: an empty message can be sent");
        n = ipcb_timedrecv(ch, buf, sizeof(buf), NULL, 2000);
        is_int(n, 0, "mqueue: the empty message arrives (prio pointer may be NULL)");
        /* exactly message_size */
        memset(buf, 'M', sizeof(buf));
        is_int(ipcb_send(ch, buf, 64, 0), 0, "mqueue: a message of exactly message_size is sent");
        memset(buf, 0, sizeof(buf));
        n = ipcb_recv(ch, buf, sizeof(buf), NULL);
        ok(n == 64 && buf[0] == 'M' && buf[63] == 'M', "mqueue: a message of exactly message_size arrives whole");
        is_int(ipcb_close(ch), 0, "mqueue: close");
}

static void test_basic_fifo(void) {
        ipcb_channel *s = NULL, *rch = NULL;
        static const char *msgs[] = { "x", "hello fifo", "a somewhat longer third message" };
        char buf[100];
        unsigned prio = 99;
        ssize_t n;
        int r, good = 0;

        r = ipcb_open("f", IPCB_SEND, &s);
        is_int(r, 0, "fifo: open for send");
        r = ipcb_open("f", IPCB_RECV, &rch);
        is_int(r, 0, "fifo: open for receive");
        if (!s || !rch)
                return;
        is_int(ipcb_send(s, "hello fifo", 10, 0), 0, "fifo: send");
        n = ipcb_recv(rch, buf, sizeof(buf), &prio);
        is_int(n, 10, "fifo: receive returns the message length");
        ok(n == 10 && memcmp(buf, "hello fifo", 10) == 0, "fifo: the message is intact");
        is_int(prio, 0, "fifo: priority reported as 0");
        /* message boundaries */
        for (int i = 0; i < 3; i++)
                ipcb_send(s, msgs[i], strlen(msgs[i]), 0);
        for (int i = 0; i < 3; i++) {
                n = ipcb_timedrecv(rch, buf, sizeof(buf), NULL, 2000);
                if (n == (ssize_t)strlen(msgs[i]) && memcmp(buf, msgs[i], (size_t)n) == 0)
                        good++;
        }
        is_int(good, 3, "fifo: three messages of different lengths come back one per receive");
        memset(buf, 'F', sizeof(buf));
        is_int(ipcb_send(s, buf, 100, 0), 0, "fifo: a message of exactly message_size is sent");
        memset(buf, 0, sizeof(buf));
        n = ipcb_timedrecv(rch, buf, sizeof(buf), NULL, 2000);
        ok(n == 100 && buf[0] == 'F' && buf[99] == 'F', "fifo: a message of exactly message_size arrives whole");

        /* a plain writer's packet longer than message_size, read by a blocking receive: refused, not cut */
        {
                char path[64], big[200];
                int raw;
                snprintf(path, sizeof(path), "/proc/self/fd/%d", ipcb_fd(s));
                raw = open(path, O_WRONLY | O_CLOEXEC);
                ok(raw >= 0 && fcntl(raw, F_SETFL, O_DIRECT) == 0, "fifo: a second, raw writer in packet mode");
                memset(big, 'B', sizeof(big));
                ok(raw >= 0 && write(raw, big, sizeof(big)) == (ssize_t)sizeof(big),
                   "fifo: it writes a 200-byte packet");
                if (raw >= 0)
                        close(raw);
                is_int(ipcb_recv(rch, buf, sizeof(buf), NULL), -EMSGSIZE,
                       "fifo: a blocking receive refuses the 200-byte packet with -EMSGSIZE");
                is_int(ipcb_send(s, "after", 5, 0), 0, "fifo: a blocking send after it");
                n = ipcb_recv(rch, buf, sizeof(buf), NULL);
                ok(n == 5 && memcmp(buf, "after", 5) == 0, "fifo: the next message is whole");
        }
        ipcb_close(s);
        ipcb_close(rch);
}

static void test_priorities(void) {
        ipcb_channel *ch = open_ok("q", IPCB_SEND | IPCB_RECV);
        ipcb_channel *f = open_ok("f", IPCB_SEND | IPCB_RECV);
        static const struct {
                const char *m;
                unsigned p;
        } in[] = { { "low", 1 }, { "high", 5 }, { "mid", 3 }, { "zero", 0 } };
        static const char *order[] = { "high", "mid", "low", "zero" };
        static const unsigned prios[] = { 5, 3, 1, 0 };
        char buf[100];
        int good = 0;

        for (int i = 0; i < 4; i++)
                ipcb_send(ch, in[i].m, strlen(in[i].m), in[i].p);
        for (int i = 0; i < 4; i++) {
                unsigned p = 99;
                ssize_t n = ipcb_timedrecv(ch, buf, sizeof(buf), &p, 2000);
                if (n == (ssize_t)strlen(order[i]) && memcmp(buf, order[i], (size_t)n) == 0 && p == prios[i])
                        good++;
                else
                        diag("queue position %d: got %zd bytes, prio %u", i, n, p);
        }
        is_int(good, 4, "mqueue: messages come out highest priority first, with their priorities");

        good = 0;
        for (int i = 0; i < 4; i++)
                ipcb_send(f, in[i].m, strlen(in[i].m), in[i].p);
        for (int i = 0; i < 4; i++) {
                unsigned p = 99;
                ssize_t n = ipcb_timedrecv(f, buf, sizeof(buf), &p, 2000);
                if (n == (ssize_t)strlen(in[i].m) && memcmp(buf, in[i].m, (size_t)n) == 0 && p == 0)
                        good++;
        }
        is_int(good, 4, "fifo: messages come out in send order, priority reported as 0");
        ipcb_close(ch);
        ipcb_close(f);
}

static void test_nonblock(void) {
        ipcb_channel *r = open_ok("q", IPCB_RECV | IPCB_NONBLOCK);
        ipcb_channel *s2 = open_ok("q2", IPCB_SEND | IPCB_NONBLOCK);
        ipcb_channel *fr = open_ok("f", IPCB_RECV | IPCB_NONBLOCK);
        ipcb_channel *ffs = open_ok("ff", IPCB_SEND | IPCB_NONBLOCK);
        ipcb_attr a;
        char buf[100];
        long long t0;
        int sent, rc;

        t0 = now_ms();
        is_int(ipcb_recv(r, buf, sizeof(buf), NULL), -EAGAIN, "mqueue: non-blocking receive on empty: -EAGAIN");
        is_int(ipcb_recv(fr, buf, sizeof(buf), NULL), -EAGAIN, "fifo: non-blocking receive on empty: -EAGAIN");
        ok(now_ms() - t0 < 5000, "non-blocking receives return at once");

        is_int(ipcb_send(s2, "1", 1, 0), 0, "mqueue (max_messages 2): first send");
        is_int(ipcb_send(s2, "2", 1, 0), 0, "mqueue (max_messages 2): second send");
        is_int(ipcb_send(s2, "3", 1, 0), -EAGAIN, "mqueue: non-blocking send on a full queue: -EAGAIN");
        rc = ipcb_getattr(s2, &a);
        ok(rc == 0 && a.messages == 2 && (a.flags & IPCB_NONBLOCK), "mqueue: getattr shows 2 queued, non-blocking");

        memset(buf, 'p', sizeof(buf));
        for (sent = 0; sent < 1000; sent++) {
                rc = ipcb_send(ffs, buf, 1 + (size_t)sent % 100, 0);
                if (rc < 0)
                        break;
        }
        is_int(rc, -EAGAIN, "fifo: filling a non-blocking handle ends in -EAGAIN");
        rc = ipcb_getattr(ffs, &a);
        is_int(rc, 0, "fifo: getattr");
        is_int(sent, a.max_messages, "fifo: it holds exactly getattr's max_messages (%ld) messages", a.max_messages);
        is_int(a.max_messages, 16384 / sysconf(_SC_PAGESIZE), "fifo: max_messages is capacity / page size");
        is_int(drain("ff"), sent, "fifo: every one of them can be received");
        is_int(drain("q2"), 2, "mqueue: both queued messages can be received");

        /* switching a handle to blocking and back */
        is_int(ipcb_set_nonblock(r, 0), 0, "ipcb_set_nonblock(0)");
        ok(ipcb_getattr(r, &a) == 0 && !(a.flags & IPCB_NONBLOCK), "getattr: handle now blocking");
        is_int(ipcb_timedrecv(r, buf, sizeof(buf), NULL, 50), -ETIMEDOUT, "a blocking handle waits (timed out)");
        is_int(ipcb_set_nonblock(r, 1), 0, "ipcb_set_nonblock(1)");
        is_int(ipcb_recv(r, buf, sizeof(buf), NULL), -EAGAIN, "non-blocking again: -EAGAIN");

        ipcb_close(r);
        ipcb_close(s2);
        ipcb_close(fr);
        ipcb_close(ffs);
}

static void test_timeouts(void) {
        ipcb_channel *r = open_ok("q", IPCB_RECV);
        ipcb_channel *s2 = open_ok("q2", IPCB_SEND);
        ipcb_channel *fr = open_ok("f", IPCB_RECV);
        ipcb_channel *ffs = open_ok("ff", IPCB_SEND);
        char buf[100];
        long long t0, el;
        ssize_t n;
        int rc, i;

        t0 = now_ms();
        n = ipcb_timedrecv(r, buf, sizeof(buf), NULL, 300);
        el = now_ms() - t0;
        is_int(n, -ETIMEDOUT, "mqueue: timed receive on empty: -ETIMEDOUT");
        ok(el >= 290, "mqueue: timed receive waited at least the timeout (%lld ms)", el);

        t0 = now_ms();
        n = ipcb_timedrecv(fr, buf, sizeof(buf), NULL, 300);
        el = now_ms() - t0;
        is_int(n, -ETIMEDOUT, "fifo: timed receive on empty: -ETIMEDOUT");
        ok(el >= 290, "fifo: timed receive waited at least the timeout (%lld ms)", el);

        n = ipcb_timedrecv(r, buf, sizeof(buf), NULL, 0);
        ok(n == -ETIMEDOUT || n == -EAGAIN, "mqueue: timeout 0 on empty fails at once (%zd)", n);
        n = ipcb_timedrecv(fr, buf, sizeof(buf), NULL, 0);
        ok(n == -ETIMEDOUT || n == -EAGAIN, "fifo: timeout 0 on empty fails at once (%zd)", n);

        ipcb_send(s2, "a", 1, 0);
        ipcb_send(s2, "b", 1, 0);
        t0 = now_ms();
        rc = ipcb_timedsend(s2, "c", 1, 0, 300);
        el = now_ms() - t0;
        is_int(rc, -ETIMEDOUT, "mqueue: timed send on a full queue: -ETIMEDOUT");
        ok(el >= 290, "mqueue: timed send waited at least the timeout (%lld ms)", el);

        memset(buf, 't', sizeof(buf));
        for (i = 0; i < 1000; i++)
                if (ipcb_timedsend(ffs, buf, 10, 0, 0) < 0)
                        break;
        ok(i > 0 && i < 1000, "fifo: filled with %d messages", i);
        t0 = now_ms();
        rc = ipcb_timedsend(ffs, buf, 10, 0, 300);
        el = now_ms() - t0;
        is_int(rc, -ETIMEDOUT, "fifo: timed send on a full FIFO: -ETIMEDOUT");
        ok(el >= 290, "fifo: timed send waited at least the timeout (%lld ms)", el);

        /* a timed receive that gets its message */
        {
                ipcb_channel *qs = open_ok("q", IPCB_SEND);
                ipcb_send(qs, "now", 3, 2);
                n = ipcb_timedrecv(r, buf, sizeof(buf), NULL, 5000);
                ok(n == 3 && memcmp(buf, "now", 3) == 0, "mqueue: timed receive returns a waiting message");
                ipcb_close(qs);
        }
        drain("q2");
        drain("ff");
        ipcb_close(r);
        ipcb_close(s2);
        ipcb_close(fr);
        ipcb_close(ffs);
}

static void test_msgsize(void) {
        static const struct {
                const char *name;
                size_t size;
        } chans[] = { { "q", 64 }, { "f", 100 } };

        for (int c = 0; c < 2; c++) {
                ipcb_channel *ch = open_ok(chans[c].name, IPCB_SEND | IPCB_RECV);
                const char *t = c == 0 ? "mqueue" : "fifo";
                size_t ms = chans[c].size;
                char buf[256];
                ssize_t n;

                memset(buf, 'E', sizeof(buf));
                is_int(ipcb_send(ch, buf, ms + 1, 0), -EMSGSIZE, "%s: a message larger than message_size: -EMSGSIZE",
                       t);
                is_int(ipcb_timedsend(ch, buf, 200, 0, 100), -EMSGSIZE, "%s: timed send of 200 bytes: -EMSGSIZE", t);
                is_int(ipcb_send(ch, "keep me", 7, 0), 0, "%s: a small message is queued", t);
                is_int(ipcb_recv(ch, buf, ms - 1, NULL), -EMSGSIZE,
                       "%s: a receive buffer smaller than message_size: -EMSGSIZE", t);
                is_int(ipcb_timedrecv(ch, buf, 1, NULL, 100), -EMSGSIZE, "%s: a 1-byte timed receive buffer: -EMSGSIZE",
                       t);
                n = ipcb_timedrecv(ch, buf, ms, NULL, 2000);
                ok(n == 7 && memcmp(buf, "keep me", 7) == 0, "%s: the message survived the refused receives", t);
                is_int(ipcb_timedrecv(ch, buf, ms, NULL, 0) < 0, 1, "%s: and nothing else is queued", t);
                ipcb_close(ch);
        }
}

static void test_errors(void) {
        ipcb_channel *ch = (ipcb_channel *)&ch; /* must be reset to NULL on failure */
        char longname[IPCB_NAME_MAX + 2];
        char buf[128];
        int r;

        r = ipcb_open("no.such.channel", IPCB_SEND, &ch);
        is_int(r, -ENOENT, "open of an unknown channel: -ENOENT");
        ok(ch == NULL, "a failed open leaves *out NULL");
        ok(strstr(ipcb_strerror(r), "no.such.channel") || strstr(ipcb_strerror(r), "no such channel"),
           "ipcb_strerror explains -ENOENT (%s)", ipcb_strerror(r));
        {
                ipcb_info info;
                is_int(ipcb_stat("no.such.channel", &info), -ENOENT, "stat of an unknown channel: -ENOENT");
        }
        is_int(ipcb_open("q", 0, &ch), -EINVAL, "open with no direction: -EINVAL");
        is_int(ipcb_open("q", IPCB_NONBLOCK, &ch), -EINVAL, "open with only IPCB_NONBLOCK: -EINVAL");
        is_int(ipcb_open("q", IPCB_SEND | 8, &ch), -EINVAL, "open with an unknown flag bit: -EINVAL");
        is_int(ipcb_open("q", -1, &ch), -EINVAL, "open with flags -1: -EINVAL");
        is_int(ipcb_open("", IPCB_SEND, &ch), -EINVAL, "open of an empty name: -EINVAL");
        is_int(ipcb_open(NULL, IPCB_SEND, &ch), -EINVAL, "open of a NULL name: -EINVAL");
        is_int(ipcb_open("q", IPCB_SEND, NULL), -EINVAL, "open with a NULL result pointer: -EINVAL");
        memset(longname, 'a', sizeof(longname) - 1);
        longname[sizeof(longname) - 1] = '\0';
        is_int(ipcb_open(longname, IPCB_SEND, &ch), -EINVAL, "open of a %d-character name: -EINVAL", IPCB_NAME_MAX + 1);
        is_int(ipcb_open(".hidden", IPCB_SEND, &ch), -EINVAL, "open of a name starting with '.': -EINVAL");
        is_int(ipcb_open("a/b", IPCB_SEND, &ch), -EINVAL, "open of a name with '/': -EINVAL");
        is_int(ipcb_open("a b", IPCB_SEND, &ch), -EINVAL, "open of a name with a space: -EINVAL");
        longname[IPCB_NAME_MAX] = '\0';
        is_int(ipcb_open(longname, IPCB_SEND, &ch), -ENOENT, "a %d-character name is valid (unknown: -ENOENT)",
               IPCB_NAME_MAX);
        ok(ch == NULL, "still no handle");

        /* EBADF: the wrong direction */
        {
                ipcb_channel *ro = open_ok("q", IPCB_RECV | IPCB_NONBLOCK);
                ipcb_channel *wo = open_ok("q", IPCB_SEND);
                ipcb_channel *fro = open_ok("f", IPCB_RECV | IPCB_NONBLOCK);
                ipcb_channel *fwo = open_ok("f", IPCB_SEND);
                is_int(ipcb_send(ro, "x", 1, 0), -EBADF, "mqueue: send on a receive-only handle: -EBADF");
                is_int(ipcb_recv(wo, buf, sizeof(buf), NULL), -EBADF, "mqueue: receive on a send-only handle: -EBADF");
                is_int(ipcb_send(fro, "x", 1, 0), -EBADF, "fifo: send on a receive-only handle: -EBADF");
                is_int(ipcb_recv(fwo, buf, sizeof(buf), NULL), -EBADF, "fifo: receive on a send-only handle: -EBADF");
                /* the kernel agrees: the descriptors carry only the access granted */
                ok((fcntl(ipcb_fd(ro), F_GETFL) & O_ACCMODE) == O_RDONLY,
                   "mqueue: receive-only descriptor is O_RDONLY");
                ok((fcntl(ipcb_fd(wo), F_GETFL) & O_ACCMODE) == O_WRONLY, "mqueue: send-only descriptor is O_WRONLY");
                ok((fcntl(ipcb_fd(fro), F_GETFL) & O_ACCMODE) == O_RDONLY, "fifo: receive-only descriptor is O_RDONLY");
                ok((fcntl(ipcb_fd(fwo), F_GETFL) & O_ACCMODE) == O_WRONLY, "fifo: send-only descriptor is O_WRONLY");
                ok(fcntl(ipcb_fd(fwo), F_GETFL) & O_DIRECT, "fifo: the send descriptor is in packet mode (O_DIRECT)");
                is_int(ipcb_recv(ro, buf, sizeof(buf), NULL), -EAGAIN, "nothing was sent through the refused calls");
                ipcb_close(ro);
                ipcb_close(wo);
                ipcb_close(fro);
                ipcb_close(fwo);
        }
        is_int(ipcb_send(NULL, "x", 1, 0), -EINVAL, "send on a NULL handle: -EINVAL");
        is_int(ipcb_close(NULL), -EINVAL, "close of a NULL handle: -EINVAL");
        ok(strlen(ipcb_strerror(-ETIMEDOUT)) > 0 && strlen(ipcb_strerror(-EMSGSIZE)) > 0 &&
                   strlen(ipcb_strerror(-EAGAIN)) > 0 && strcmp(ipcb_strerror(0), "success") == 0,
           "ipcb_strerror explains the data path errors");
}

static void test_poll(void) {
        ipcb_channel *qr = open_ok("q", IPCB_RECV | IPCB_NONBLOCK);
        ipcb_channel *qs = open_ok("q", IPCB_SEND);
        ipcb_channel *fr = open_ok("f", IPCB_RECV | IPCB_NONBLOCK);
        ipcb_channel *fs = open_ok("f", IPCB_SEND);
        struct pollfd p;
        char buf[128];

        p = (struct pollfd){ .fd = ipcb_fd(qr), .events = POLLIN };
        is_int(poll(&p, 1, 0), 0, "mqueue: an empty queue's descriptor is not readable");
        ipcb_send(qs, "wake", 4, 0);
        p.revents = 0;
        ok(poll(&p, 1, 5000) == 1 && (p.revents & POLLIN), "mqueue: POLLIN after a send");
        ok(ipcb_recv(qr, buf, sizeof(buf), NULL) == 4, "mqueue: the message is there");
        p = (struct pollfd){ .fd = ipcb_fd(qs), .events = POLLOUT };
        ok(poll(&p, 1, 5000) == 1 && (p.revents & POLLOUT), "mqueue: POLLOUT when there is room");

        p = (struct pollfd){ .fd = ipcb_fd(fr), .events = POLLIN };
        is_int(poll(&p, 1, 0), 0, "fifo: an empty FIFO's descriptor is not readable");
        ipcb_send(fs, "wake", 4, 0);
        p.revents = 0;
        ok(poll(&p, 1, 5000) == 1 && (p.revents & POLLIN), "fifo: POLLIN after a send");
        ok(ipcb_recv(fr, buf, sizeof(buf), NULL) == 4, "fifo: the message is there");
        p = (struct pollfd){ .fd = ipcb_fd(fs), .events = POLLOUT };
        ok(poll(&p, 1, 5000) == 1 && (p.revents & POLLOUT), "fifo: POLLOUT when there is room");
        ipcb_close(qr);
        ipcb_close(qs);
        ipcb_close(fr);
        ipcb_close(fs);
}

static void test_getattr_stat_list_status(void) {
        ipcb_channel *q = open_ok("q", IPCB_SEND | IPCB_RECV);
        ipcb_channel *f = open_ok("f", IPCB_SEND | IPCB_RECV);
        ipcb_attr a;
        ipcb_info info;
        ipcb_info *infos = NULL;
        ipcb_status st;
        char expect[256];
        size_t n = 0;
        long page = sysconf(_SC_PAGESIZE);
        int r;

        ipcb_send(q, "one", 3, 0);
        ipcb_send(q, "two!", 4, 0);
        ipcb_send(f, "abcdefghij", 10, 0);
        ipcb_send(f, "xyz", 3, 0);

        r = ipcb_getattr(q, &a);
        is_int(r, 0, "mqueue: getattr");
        is_int(a.type, IPCB_MQUEUE, "mqueue: getattr type");
        is_int(a.max_messages, 4, "mqueue: getattr max_messages");
        is_int(a.message_size, 64, "mqueue: getattr message_size");
        is_int(a.messages, 2, "mqueue: getattr messages queued");
        is_int(a.flags & (IPCB_SEND | IPCB_RECV), IPCB_SEND | IPCB_RECV, "mqueue: getattr flags");
        is_int(a.capacity, -1, "mqueue: getattr capacity -1");

        r = ipcb_getattr(f, &a);
        is_int(r, 0, "fifo: getattr");
        is_int(a.type, IPCB_FIFO, "fifo: getattr type");
        is_int(a.message_size, 100, "fifo: getattr message_size");
        is_int(a.capacity, 65536, "fifo: getattr capacity");
        is_int(a.max_messages, 65536 / page, "fifo: getattr max_messages = capacity / page size");
        is_int(a.bytes, 13, "fifo: getattr bytes queued");
        ok(a.messages == -1 || a.messages == 2, "fifo: getattr messages unknown or right (%ld)", a.messages);

        r = ipcb_stat("q", &info);
        is_int(r, 0, "stat q");
        is_str(info.name, "q", "stat q: name");
        is_int(info.type, IPCB_MQUEUE, "stat q: type");
        is_int(info.state, IPCB_STATE_READY, "stat q: ready");
        is_int(info.owner, 0, "stat q: owner root (the daemon's)");
        is_int(info.mode, 0600, "stat q: default mode 0600");
        is_int(info.max_messages, 4, "stat q: max_messages");
        is_int(info.message_size, 64, "stat q: message_size");
        is_int(info.messages, 2, "stat q: messages queued");
        snprintf(expect, sizeof(expect), "%sq", prefix);
        is_str(info.kernel_name, expect, "stat q: kernel name is mq_prefix + name");
        is_str(info.on_stop, "remove", "stat q: on_stop");
        ok(info.opens >= 1, "stat q: opens counted (%llu)", info.opens);

        r = ipcb_stat("f", &info);
        is_int(r, 0, "stat f");
        is_int(info.type, IPCB_FIFO, "stat f: type");
        is_int(info.message_size, 100, "stat f: message_size");
        is_int(info.capacity, 65536, "stat f: capacity");
        is_int(info.bytes, 13, "stat f: bytes queued");
        snprintf(expect, sizeof(expect), "%s/fifo/f", run_dir);
        is_str(info.kernel_name, expect, "stat f: path is runtime_dir/fifo/NAME");

        r = ipcb_list(&infos, &n);
        is_int(r, N_CHANNELS, "list returns the channel count");
        is_int(n, N_CHANNELS, "list fills n");
        if (infos && n == N_CHANNELS) {
                int sorted = 1, found_q = 0;
                for (size_t i = 0; i < n; i++) {
                        if (i && strcmp(infos[i - 1].name, infos[i].name) >= 0)
                                sorted = 0;
                        if (strcmp(infos[i].name, "q") == 0 && infos[i].messages == 2 && infos[i].max_messages == 4 &&
                            infos[i].message_size == 64 && infos[i].type == IPCB_MQUEUE)
                                found_q = 1;
                }
                ok(sorted, "list is sorted by name");
                ok(found_q, "list shows q with its depth and sizes");
        } else {
                fail("list is sorted by name");
                fail("list shows q with its depth and sizes");
        }
        free(infos);

        r = ipcb_status_get(&st);
        is_int(r, 0, "status");
        is_int(st.pid, daemon_pid, "status: pid is the daemon's");
        is_int(st.channels, N_CHANNELS, "status: channel count");
        is_int(st.channels_ready, N_CHANNELS, "status: all channels ready");
        is_str(st.config_file, conf_path, "status: config file");
        is_str(st.socket, sock_path, "status: socket path");
        ok(st.version[0] != '\0', "status: version '%s'", st.version);
        ok(st.requests > 0 && st.connections > 0 && st.opens > 0, "status: counters are counting");
        ok(st.clients >= 1, "status: this connection is counted as a client");

        drain("q");
        drain("f");
        ipcb_close(q);
        ipcb_close(f);
}

static void test_denied(void) {
        ipcb_status before, after;
        int pfd[2], status;
        char msg[600] = "";
        int err = 0;
        pid_t pid;

        ipcb_status_get(&before);
        if (pipe(pfd) < 0)
                BAIL_OUT("pipe");
        pid = fork();
        if (pid == 0) {
                ipcb_channel *ch = NULL;
                int r;
                close(pfd[0]);
                if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
                        _exit(3);
                r = ipcb_open("q", IPCB_SEND, &ch);
                if (write(pfd[1], &r, sizeof(r)) != sizeof(r))
                        _exit(4);
                if (write(pfd[1], ipcb_strerror(r), strlen(ipcb_strerror(r))) < 0)
                        _exit(4);
                _exit(0);
        }
        close(pfd[1]);
        {
                struct pollfd p = { .fd = pfd[0], .events = POLLIN };
                size_t got = 0;
                long long deadline = now_ms() + 10000;
                char tmp[sizeof(int) + sizeof(msg)];
                while (now_ms() < deadline && poll(&p, 1, 100) >= 0) {
                        ssize_t k;
                        if (!p.revents)
                                continue;
                        k = read(pfd[0], tmp + got, sizeof(tmp) - 1 - got);
                        if (k <= 0)
                                break;
                        got += (size_t)k;
                }
                if (got >= sizeof(int)) {
                        memcpy(&err, tmp, sizeof(int));
                        memcpy(msg, tmp + sizeof(int), got - sizeof(int));
                        msg[got - sizeof(int)] = '\0';
                }
        }
        close(pfd[0]);
        status = wait_exit(pid, 10000);
        ok(status == 0, "unprivileged child ran (status %#x)", status);
        is_int(err, -EACCES, "uid 65534 opening a 0600 root channel: -EACCES");
        ok(strstr(msg, "permission denied") && strstr(msg, "'q'"), "ipcb_strerror names the reason and channel (%s)",
           msg);
        ipcb_status_get(&after);
        is_int(after.denied, before.denied + 1, "status: the denial is counted");
}

static void test_purge(void) {
        ipcb_channel *pq = open_ok("pq", IPCB_SEND | IPCB_RECV | IPCB_NONBLOCK);
        ipcb_channel *pf = open_ok("pf", IPCB_SEND | IPCB_RECV | IPCB_NONBLOCK);
        ipcb_purge_result *res = NULL;
        size_t n = 0;
        ipcb_attr a;
        char buf[100];
        const char *names[] = { "pq", "pf", "no.such" };
        int r;

        memset(buf, 'P', sizeof(buf));
        ipcb_send(pq, buf, 10, 0);
        ipcb_send(pq, buf, 20, 3);
        ipcb_send(pq, buf, 30, 1);
        ipcb_send(pf, buf, 5, 0);
        ipcb_send(pf, buf, 7, 0);

        r = ipcb_purge(names, 3, &res, &n);
        is_int(r, 0, "purge pq pf no.such: the request is carried out");
        is_int(n, 3, "purge: one result per name");
        if (res && n == 3) {
                is_str(res[0].name, "pq", "purge: first result is pq");
                is_int(res[0].error, 0, "purge pq: ok");
                is_int(res[0].messages, 3, "purge pq: 3 messages dropped");
                is_int(res[0].bytes, 60, "purge pq: 60 bytes dropped");
                is_str(res[1].name, "pf", "purge: second result is pf");
                is_int(res[1].error, 0, "purge pf: ok");
                is_int(res[1].messages, 2, "purge pf: 2 messages dropped");
                is_int(res[1].bytes, 12, "purge pf: 12 bytes dropped");
                is_str(res[2].name, "no.such", "purge: third result is the unknown name");
                is_int(res[2].error, -ENOENT, "purge of an unknown channel: -ENOENT in its result");
        } else
                for (int i = 0; i < 10; i++)
                        fail("purge results");
        free(res);
        ok(ipcb_getattr(pq, &a) == 0 && a.messages == 0, "purge: the queue is empty afterwards");
        is_int(ipcb_recv(pq, buf, sizeof(buf), NULL), -EAGAIN, "purge: nothing left to receive on pq");
        is_int(ipcb_recv(pf, buf, sizeof(buf), NULL), -EAGAIN, "purge: nothing left to receive on pf");

        /* purge everything */
        ipcb_send(pq, buf, 8, 0);
        ipcb_send(pf, buf, 9, 0);
        res = NULL;
        r = ipcb_purge(NULL, 0, &res, &n);
        is_int(r, 0, "purge all");
        is_int(n, N_CHANNELS, "purge all: one result per channel");
        {
                unsigned long long msgs = 0, bytes = 0;
                int errors = 0;
                for (size_t i = 0; res && i < n; i++) {
                        msgs += res[i].messages;
                        bytes += res[i].bytes;
                        if (res[i].error)
                                errors++;
                }
                is_int(errors, 0, "purge all: no channel failed");
                is_int(msgs, 2, "purge all: 2 messages dropped in total");
                is_int(bytes, 17, "purge all: 17 bytes dropped in total");
        }
        free(res);
        is_int(ipcb_recv(pq, buf, sizeof(buf), NULL), -EAGAIN, "purge all: pq is empty");
        is_int(ipcb_recv(pf, buf, sizeof(buf), NULL), -EAGAIN, "purge all: pf is empty");
        is_int(ipcb_purge(names, 0, &res, &n), -EINVAL, "purge with names but n == 0: -EINVAL");
        ipcb_close(pq);
        ipcb_close(pf);
}

/* How many descriptors of the first 1024 are open. */
static int count_open_fds(void) {
        int n = 0;

        for (int fd = 0; fd < 1024; fd++)
                if (fcntl(fd, F_GETFD) >= 0)
                        n++;
        return n;
}

static void test_unreachable(void) {
        char missing[200];
        ipcb_channel *ch = NULL;
        ipcb_status st;
        ipcb_info *infos = NULL;
        size_t n = 0;
        int r, fds;

        snprintf(missing, sizeof(missing), "%s/no-daemon-here.sock", dir);
        setenv("IPCBROKER_SOCKET", missing, 1);
        is_str(ipcb_socket_path(), missing, "ipcb_socket_path follows IPCBROKER_SOCKET");
        /* fresh memory is often zero: a reply's unset descriptor field would then be 0 */
        if (fcntl(0, F_GETFD) < 0)
                open("/dev/null", O_RDONLY); /* becomes descriptor 0 */
        fds = count_open_fds();
        mallopt(M_PERTURB, 0xff); /* malloc'd memory filled with 0x00 */
        r = ipcb_open("q", IPCB_SEND, &ch);
        mallopt(M_PERTURB, 0);
        is_int(r, -ECONNREFUSED, "open without a daemon: -ECONNREFUSED");
        is_int(count_open_fds(), fds, "open without a daemon closes none of the caller's descriptors");
        ok(strstr(ipcb_strerror(r), missing) != NULL, "ipcb_strerror names the socket path (%s)", ipcb_strerror(r));
        ok(strstr(ipcb_strerror(r), "ipcbrokerd") != NULL, "ipcb_strerror mentions ipcbrokerd");
        is_int(ipcb_status_get(&st), -ECONNREFUSED, "status without a daemon: -ECONNREFUSED");
        is_int(ipcb_list(&infos, &n), -ECONNREFUSED, "list without a daemon: -ECONNREFUSED");
        setenv("IPCBROKER_SOCKET", sock_path, 1);
        is_int(ipcb_status_get(&st), 0, "back to the real socket");
}

/* Another thread's socket: what ipcb_socket_path says there, and whether status reaches a daemon. */
struct other_thread {
        char path[512];
        int status;
};

static void *other_thread_run(void *arg) {
        struct other_thread *o = arg;
        ipcb_status st;

        snprintf(o->path, sizeof(o->path), "%s", ipcb_socket_path());
        o->status = ipcb_status_get(&st);
        return NULL;
}

static void test_thread_socket(void) {
        char missing[200], longer[200];
        struct other_thread o;
        ipcb_status st;
        pthread_t t;
        int r;

        snprintf(missing, sizeof(missing), "%s/no-daemon-here.sock", dir);
        setenv("IPCBROKER_SOCKET", missing, 1);
        is_int(ipcb_set_thread_socket(sock_path), 0, "ipcb_set_thread_socket");
        is_str(ipcb_socket_path(), sock_path, "ipcb_socket_path gives the thread's socket over IPCBROKER_SOCKET");
        is_int(ipcb_status_get(&st), 0, "status reaches the thread's socket");
        ok(pthread_create(&t, NULL, other_thread_run, &o) == 0 && pthread_join(t, NULL) == 0, "another thread ran");
        is_str(o.path, missing, "another thread still uses IPCBROKER_SOCKET");
        is_int(o.status, -ECONNREFUSED, "another thread does not reach the first thread's socket");
        is_int(ipcb_set_thread_socket(NULL), 0, "ipcb_set_thread_socket(NULL)");
        is_int(ipcb_status_get(&st), -ECONNREFUSED, "back to IPCBROKER_SOCKET");
        ok(strstr(ipcb_strerror(-ECONNREFUSED), missing) != NULL, "the error names IPCBROKER_SOCKET's path again");
        is_int(ipcb_set_thread_socket(""), -EINVAL, "an empty path: -EINVAL");
        memset(longer, 'x', sizeof(longer) - 1);
        longer[sizeof(longer) - 1] = '\0';
        r = ipcb_set_thread_socket(longer);
        is_int(r, -ENAMETOOLONG, "a path longer than sun_path: -ENAMETOOLONG");
        is_str(ipcb_socket_path(), missing, "a refused path changes nothing");
        setenv("IPCBROKER_SOCKET", sock_path, 1);
}

/* ---- a server that is not the daemon ------------------------------------------------ */

#define IMP_CONNS 4

/*
 * The impostor, as uid 65534: accept IMP_CONNS connections one after the
 * other; of each, report the size of the first packet (0: the client hung
 * up without sending anything), then hang up.
 */
static void impostor_child(const char *path, int ready_fd, int result_fd) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int s;

        if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
                _exit(3);
        if (strlen(path) >= sizeof(sa.sun_path))
                _exit(4);
        memcpy(sa.sun_path, path, strlen(path) + 1);
        s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 8) < 0)
                _exit(4);
        if (write(ready_fd, "R", 1) != 1)
                _exit(5);
        for (int i = 0; i < IMP_CONNS; i++) {
                struct pollfd p = { .fd = s, .events = POLLIN };
                char buf[8192];
                int c, got;

                if (poll(&p, 1, 10000) != 1)
                        _exit(6);
                c = accept(s, NULL, NULL);
                if (c < 0)
                        _exit(7);
                p.fd = c;
                got = poll(&p, 1, 10000) == 1 ? (int)recv(c, buf, sizeof(buf), 0) : -1;
                if (write(result_fd, &got, sizeof(got)) != sizeof(got))
                        _exit(8);
                close(c);
        }
        _exit(0);
}

static void test_impostor(void) {
        char idir[128], path[200];
        int ready[2], result[2], got[IMP_CONNS], status, r;
        ipcb_channel *ch = NULL;
        ipcb_status st;
        char c;
        pid_t pid;

        snprintf(idir, sizeof(idir), "%s/imp", dir);
        snprintf(path, sizeof(path), "%s/fake.sock", idir);
        if (mkdir(idir, 0755) < 0 || chown(idir, 65534, 65534) < 0)
                BAIL_OUT("impostor directory: %s", strerror(errno));
        if (pipe(ready) < 0 || pipe(result) < 0)
                BAIL_OUT("pipe");
        pid = fork();
        if (pid == 0) {
                close(ready[0]);
                close(result[0]);
                impostor_child(path, ready[1], result[1]);
        }
        close(ready[1]);
        close(result[1]);
        {
                struct pollfd p = { .fd = ready[0], .events = POLLIN };
                ok(poll(&p, 1, 10000) == 1 && read(ready[0], &c, 1) == 1, "impostor: a server as uid 65534 listens");
        }
        setenv("IPCBROKER_SOCKET", path, 1);
        unsetenv("IPCBROKER_DAEMON_UID");
        r = ipcb_open("q", IPCB_SEND, &ch);
        is_int(r, -EREMCHG, "open at a server run by uid 65534: -EREMCHG");
        ok(strstr(ipcb_strerror(r), "uid 65534") && strstr(ipcb_strerror(r), path),
           "ipcb_strerror names the uid and the socket path (%s)", ipcb_strerror(r));
        is_int(ipcb_status_get(&st), -EREMCHG, "status at that server: -EREMCHG");
        setenv("IPCBROKER_DAEMON_UID", "nobody", 1);
        r = ipcb_status_get(&st);
        is_int(r, -EREMCHG, "IPCBROKER_DAEMON_UID that is not a number trusts nobody: -EREMCHG");
        ok(strstr(ipcb_strerror(r), "IPCBROKER_DAEMON_UID") != NULL, "and says so (%s)", ipcb_strerror(r));
        setenv("IPCBROKER_DAEMON_UID", "65534", 1);
        r = ipcb_status_get(&st);
        ok(r != -EREMCHG, "IPCBROKER_DAEMON_UID=65534 trusts it (then it hangs up: %s)", ipcb_strerror(r));
        unsetenv("IPCBROKER_DAEMON_UID");
        setenv("IPCBROKER_SOCKET", sock_path, 1);

        memset(got, 0xff, sizeof(got));
        {
                struct pollfd p = { .fd = result[0], .events = POLLIN };
                size_t n = 0;
                long long deadline = now_ms() + 10000;
                while (n < sizeof(got) && now_ms() < deadline && poll(&p, 1, 100) >= 0) {
                        ssize_t k;
                        if (!p.revents)
                                continue;
                        k = read(result[0], (char *)got + n, sizeof(got) - n);
                        if (k <= 0)
                                break;
                        n += (size_t)k;
                }
        }
        close(ready[0]);
        close(result[0]);
        status = wait_exit(pid, 10000);
        ok(status == 0, "impostor: the fake server saw %d connections (status %#x)", IMP_CONNS, status);
        is_int(got[0], 0, "impostor: open sent it not one byte");
        is_int(got[1], 0, "impostor: status sent it not one byte");
        is_int(got[2], 0, "impostor: nor with an invalid IPCBROKER_DAEMON_UID");
        ok(got[3] > 0, "impostor: with IPCBROKER_DAEMON_UID=65534 the request is sent (%d bytes)", got[3]);
        is_int(ipcb_status_get(&st), 0, "back to the real daemon");
}

/* ---- many senders and receivers on one FIFO ------------------------------------------- */

#define MP_SENDERS 4
#define MP_RECEIVERS 4
#define MP_PER_SENDER 2000
#define MP_SIZE 512

struct record {
        uint32_t len;
        uint32_t pad;
        uint64_t hash;
};

static uint64_t fnv(const uint8_t *p, size_t n) {
        uint64_t h = 0xcbf29ce484222325ULL;

        for (size_t i = 0; i < n; i++) {
                h ^= p[i];
                h *= 0x100000001b3ULL;
        }
        return h;
}

static uint32_t mix(uint32_t x) {
        x ^= x >> 16;
        x *= 0x7feb352dU;
        x ^= x >> 15;
        x *= 0x846ca68bU;
        x ^= x >> 16;
        return x;
}

/* Message ID: deterministic length 1..MP_SIZE and content; the first two bytes carry the id. */
static size_t mp_message(uint32_t id, uint8_t *buf) {
        size_t len = 1 + mix(id * 2654435761u + 1) % MP_SIZE;
        uint32_t x = mix(id + 0x1234567);

        for (size_t i = 0; i < len; i++) {
                x = x * 1103515245u + 12345u;
                buf[i] = (uint8_t)(x >> 16);
        }
        buf[0] = (uint8_t)(id & 0xff);
        if (len > 1)
                buf[1] = (uint8_t)(id >> 8); /* < 0x20: never 0xff */
        return len;
}

static int cmp_record(const void *a, const void *b) {
        const struct record *x = a, *y = b;

        if (x->hash != y->hash)
                return x->hash < y->hash ? -1 : 1;
        return x->len < y->len ? -1 : x->len > y->len;
}

static void mp_sender(int s) {
        ipcb_channel *ch = NULL;
        uint8_t buf[MP_SIZE];

        if (ipcb_open("mp", IPCB_SEND, &ch) < 0)
                _exit(10);
        for (uint32_t i = 0; i < MP_PER_SENDER; i++) {
                size_t len = mp_message((uint32_t)s * MP_PER_SENDER + i, buf);
                if (ipcb_timedsend(ch, buf, len, 0, 15000) < 0)
                        _exit(11);
        }
        ipcb_close(ch);
        _exit(0);
}

static void mp_receiver(int wfd) {
        ipcb_channel *ch = NULL;
        uint8_t buf[MP_SIZE];

        if (ipcb_open("mp", IPCB_RECV, &ch) < 0)
                _exit(20);
        for (;;) {
                struct record rec = { 0 };
                ssize_t n = ipcb_timedrecv(ch, buf, sizeof(buf), NULL, 15000);
                if (n < 0)
                        _exit(21);
                if (n == MP_SIZE && buf[0] == 0xff && buf[1] == 0xff)
                        break; /* the end marker: one per receiver */
                rec.len = (uint32_t)n;
                rec.hash = fnv(buf, (size_t)n);
                if (write(wfd, &rec, sizeof(rec)) != sizeof(rec))
                        _exit(22);
        }
        ipcb_close(ch);
        _exit(0);
}

static void test_many_senders_receivers(void) {
        const size_t total = (size_t)MP_SENDERS * MP_PER_SENDER;
        struct record *expected = calloc(total, sizeof(*expected));
        struct record *got = calloc(total + 64, sizeof(*got));
        pid_t senders[MP_SENDERS], receivers[MP_RECEIVERS];
        int rfd[MP_RECEIVERS];
        uint8_t partial[MP_RECEIVERS][sizeof(struct record)];
        size_t partial_len[MP_RECEIVERS] = { 0 };
        size_t n_got = 0, overflow = 0;
        int senders_left = MP_SENDERS, senders_failed = 0, open_pipes = MP_RECEIVERS, receivers_failed = 0;
        bool markers_sent = false;
        long long deadline;
        uint8_t buf[MP_SIZE];

        if (!expected || !got)
                BAIL_OUT("out of memory");
        for (uint32_t id = 0; id < total; id++) {
                size_t len = mp_message(id, buf);
                expected[id].len = (uint32_t)len;
                expected[id].hash = fnv(buf, len);
        }
        fflush(stdout);
        for (int i = 0; i < MP_RECEIVERS; i++) {
                int p[2];
                if (pipe2(p, O_CLOEXEC) < 0)
                        BAIL_OUT("pipe");
                receivers[i] = fork();
                if (receivers[i] < 0)
                        BAIL_OUT("fork");
                if (receivers[i] == 0) {
                        close(p[0]);
                        mp_receiver(p[1]);
                }
                close(p[1]);
                rfd[i] = p[0];
        }
        for (int i = 0; i < MP_SENDERS; i++) {
                senders[i] = fork();
                if (senders[i] < 0)
                        BAIL_OUT("fork");
                if (senders[i] == 0) {
                        for (int j = 0; j < MP_RECEIVERS; j++)
                                close(rfd[j]);
                        mp_sender(i);
                }
        }

        deadline = now_ms() + 25000;
        while (open_pipes > 0 && now_ms() < deadline) {
                struct pollfd p[MP_RECEIVERS];
                for (int i = 0; i < MP_RECEIVERS; i++)
                        p[i] = (struct pollfd){ .fd = rfd[i], .events = POLLIN };
                poll(p, MP_RECEIVERS, 50);
                for (int i = 0; i < MP_RECEIVERS; i++) {
                        uint8_t chunk[4096];
                        ssize_t k;
                        if (rfd[i] < 0 || !(p[i].revents & (POLLIN | POLLHUP)))
                                continue;
                        k = read(rfd[i], chunk, sizeof(chunk));
                        if (k <= 0) {
                                close(rfd[i]);
                                rfd[i] = -1;
                                open_pipes--;
                                continue;
                        }
                        for (ssize_t j = 0; j < k; j++) {
                                partial[i][partial_len[i]++] = chunk[j];
                                if (partial_len[i] == sizeof(struct record)) {
                                        if (n_got < total + 64)
                                                memcpy(&got[n_got++], partial[i], sizeof(struct record));
                                        else
                                                overflow++;
                                        partial_len[i] = 0;
                                }
                        }
                }
                for (int i = 0; i < MP_SENDERS && senders_left > 0; i++) {
                        int status;
                        if (senders[i] > 0 && waitpid(senders[i], &status, WNOHANG) == senders[i]) {
                                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                                        diag("sender %d failed (status %#x)", i, status);
                                        senders_failed++;
                                }
                                senders[i] = -1;
                                senders_left--;
                        }
                }
                if (senders_left == 0 && !markers_sent) {
                        ipcb_channel *ch = open_ok("mp", IPCB_SEND);
                        memset(buf, 0xff, sizeof(buf));
                        for (int i = 0; i < MP_RECEIVERS; i++)
                                if (ipcb_timedsend(ch, buf, MP_SIZE, 0, 5000) < 0)
                                        diag("could not send end marker %d", i);
                        ipcb_close(ch);
                        markers_sent = true;
                }
        }
        ok(open_pipes == 0, "concurrency: all receivers finished within the time limit");
        for (int i = 0; i < MP_SENDERS; i++)
                if (senders[i] > 0) {
                        kill(senders[i], SIGKILL);
                        waitpid(senders[i], NULL, 0);
                        senders_failed++;
                }
        for (int i = 0; i < MP_RECEIVERS; i++) {
                int status = wait_exit(receivers[i], open_pipes ? 0 : 5000);
                if (status != 0) {
                        diag("receiver %d failed (status %#x)", i, status);
                        receivers_failed++;
                }
                if (rfd[i] >= 0)
                        close(rfd[i]);
        }
        is_int(senders_failed, 0, "concurrency: %d senders sent %d messages each", MP_SENDERS, MP_PER_SENDER);
        is_int(receivers_failed, 0, "concurrency: %d receivers ended cleanly", MP_RECEIVERS);
        is_int(n_got + overflow, total, "concurrency: %zu messages received in total", total);
        qsort(expected, total, sizeof(*expected), cmp_record);
        qsort(got, n_got, sizeof(*got), cmp_record);
        {
                size_t mismatches = 0;
                for (size_t i = 0; i < total && i < n_got; i++)
                        if (expected[i].hash != got[i].hash || expected[i].len != got[i].len)
                                mismatches++;
                ok(n_got == total && mismatches == 0,
                   "concurrency: every message received exactly once and whole (%zu mismatches)", mismatches);
        }
        is_int(drain("mp"), 0, "concurrency: nothing left over in the FIFO");
        free(expected);
        free(got);
}

/* ---- a held handle survives the daemon ------------------------------------------------- */

static void test_daemon_restart(void) {
        ipcb_channel *ks = open_ok("k", IPCB_SEND);
        ipcb_channel *kr = open_ok("k", IPCB_RECV);
        ipcb_channel *fs = open_ok("kf", IPCB_SEND);
        ipcb_channel *fr = open_ok("kf", IPCB_RECV);
        ipcb_channel *ch = NULL;
        char buf[128];
        ssize_t n;
        int status, r;

        is_int(ipcb_send(ks, "before", 6, 0), 0, "restart: queue message sent before the kill");
        is_int(ipcb_send(fs, "before", 6, 0), 0, "restart: FIFO message sent before the kill");

        kill(daemon_pid, SIGKILL);
        status = wait_exit(daemon_pid, 10000);
        daemon_pid = -1;
        ok(status != -1 && WIFSIGNALED(status), "restart: the daemon was killed");

        r = ipcb_open("k", IPCB_SEND, &ch);
        ok(r == -ECONNREFUSED, "restart: opening while the daemon is down: -ECONNREFUSED (%d)", r);
        is_int(ipcb_timedsend(ks, "during", 6, 0, 2000), 0, "restart: queue handle sends while the daemon is down");
        is_int(ipcb_timedsend(fs, "during", 6, 0, 2000), 0, "restart: FIFO handle sends while the daemon is down");
        n = ipcb_timedrecv(kr, buf, sizeof(buf), NULL, 2000);
        ok(n == 6 && memcmp(buf, "before", 6) == 0, "restart: queue handle receives while the daemon is down");
        n = ipcb_timedrecv(fr, buf, sizeof(buf), NULL, 2000);
        ok(n == 6 && memcmp(buf, "before", 6) == 0, "restart: FIFO handle receives while the daemon is down");

        daemon_pid = daemon_start();
        ok(daemon_pid > 0, "restart: the daemon starts again on the same configuration");
        if (daemon_pid <= 0)
                BAIL_OUT("daemon did not restart");

        n = ipcb_timedrecv(kr, buf, sizeof(buf), NULL, 2000);
        ok(n == 6 && memcmp(buf, "during", 6) == 0, "restart: the queue kept the message sent while down");
        n = ipcb_timedrecv(fr, buf, sizeof(buf), NULL, 2000);
        ok(n == 6 && memcmp(buf, "during", 6) == 0, "restart: the FIFO kept the message sent while down");
        is_int(ipcb_timedsend(ks, "after", 5, 0, 2000), 0, "restart: old queue handle sends after the restart");
        is_int(ipcb_timedsend(fs, "after", 5, 0, 2000), 0, "restart: old FIFO handle sends after the restart");

        /* a fresh handle from the new daemon reaches the same kernel objects */
        ch = NULL;
        r = ipcb_open("k", IPCB_RECV, &ch);
        is_int(r, 0, "restart: a new open succeeds");
        n = ch ? ipcb_timedrecv(ch, buf, sizeof(buf), NULL, 2000) : -1;
        ok(n == 5 && memcmp(buf, "after", 5) == 0,
           "restart: the new handle gets the old handle's message (queue adopted)");
        if (ch)
                ipcb_close(ch);
        ch = NULL;
        r = ipcb_open("kf", IPCB_RECV, &ch);
        is_int(r, 0, "restart: a new FIFO open succeeds");
        n = ch ? ipcb_timedrecv(ch, buf, sizeof(buf), NULL, 2000) : -1;
        ok(n == 5 && memcmp(buf, "after", 5) == 0, "restart: the new FIFO handle gets the old handle's message");
        if (ch)
                ipcb_close(ch);
        ch = NULL;
        r = ipcb_open("k", IPCB_SEND, &ch);
        if (r == 0) {
                ipcb_send(ch, "new", 3, 0);
                ipcb_close(ch);
        }
        n = ipcb_timedrecv(kr, buf, sizeof(buf), NULL, 2000);
        ok(n == 3 && memcmp(buf, "new", 3) == 0, "restart: the old receive handle gets a new handle's message");
        ipcb_close(ks);
        ipcb_close(kr);
        ipcb_close(fs);
        ipcb_close(fr);
}

static void test_clean_stop(void) {
        char name[256];
        mqd_t q;
        int status;

        kill(daemon_pid, SIGTERM);
        status = wait_exit(daemon_pid, 10000);
        daemon_pid = -1;
        ok(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0, "SIGTERM: the daemon exits 0 (status %#x)",
           status);
        snprintf(name, sizeof(name), "%sq", prefix);
        q = mq_open(name, O_RDONLY);
        ok(q == (mqd_t)-1 && errno == ENOENT, "on_stop = remove: the queue is gone after the stop");
        if (q != (mqd_t)-1)
                mq_close(q);
}

/* Does the daemon's log hold TEXT? */
static bool log_has(const char *text) {
        char buf[1 << 16];
        FILE *f = fopen(log_path, "re");
        size_t n;

        if (!f)
                return false;
        n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = '\0';
        fclose(f);
        return strstr(buf, text) != NULL;
}

/* Channel NAME's metrics now (a copy); false when it cannot be had. */
static bool metrics_of(const char *name, ipcb_channel_metrics *out, ipcb_metrics *daemon) {
        ipcb_metrics *m = NULL;
        bool found = false;

        if (ipcb_metrics_get(&m) < 0)
                return false;
        for (size_t i = 0; i < m->n_channels; i++)
                if ((strcmp(m->channels[i].name, name) == 0)) {
                        *out = m->channels[i];
                        found = true;
                }
        if (daemon)
                *daemon = *m;
        ipcb_metrics_free(m);
        return found;
}

/* Wait (at most MS) until channel NAME's metrics say FULL. */
static bool wait_full(const char *name, int full, int ms) {
        ipcb_channel_metrics c;
        long long end = now_ms() + ms;

        while (now_ms() < end) {
                if (metrics_of(name, &c, NULL) && c.full == full)
                        return true;
                poll(NULL, 0, 20);
        }
        return false;
}

static void test_metrics(void) {
        ipcb_channel_metrics c;
        ipcb_channel *ch = NULL, *rx = NULL;
        ipcb_metrics d;
        char buf[64];
        long long end;

        ok(metrics_of("mon", &c, &d), "ipcb_metrics_get lists channel 'mon'");
        ok(d.start_time > 0 && d.sample_interval > 0.049 && d.sample_interval < 0.051,
           "daemon-wide: start time, "
           "sample_interval 50ms (%g)",
           d.sample_interval);
        is_int(c.full_events, 0, "not full yet");
        is_int(ipcb_open("mon", IPCB_SEND, &ch), 0, "open 'mon' to send");
        ipcb_send(ch, "a", 1, 0);
        ipcb_send(ch, "b", 1, 0);
        ok(wait_full("mon", 1, 5000), "'mon' is full");
        end = now_ms() + 5000;
        while (now_ms() < end && !(metrics_of("mon", &c, NULL) && c.full_events == 1))
                poll(NULL, 0, 20);
        ok(metrics_of("mon", &c, NULL) && c.messages == 2 && c.max_messages == 2 && c.high_water == 2 &&
                   c.full_events == 1,
           "depth 2 of 2, high water 2, one full event (%ld, %lld, %llu)", c.messages, c.high_water, c.full_events);
        ok(c.opens_send >= 1 && c.opens_recv == 0, "the send open is counted (%llu)", c.opens_send);
        end = now_ms() + 5000;
        while (now_ms() < end && !log_has("has been full"))
                poll(NULL, 0, 20);
        ok(log_has("channel 'mon' has been full for") && log_has("no live process was given it for receiving"),
           "alert_full_after: one warning, naming that nobody receives");
        is_int(ipcb_open("mon", IPCB_RECV, &rx), 0, "open 'mon' to receive");
        ok(ipcb_recv(rx, buf, sizeof(buf), NULL) == 1 && ipcb_recv(rx, buf, sizeof(buf), NULL) == 1, "drain it");
        ok(wait_full("mon", 0, 5000), "the sampler sees it drained");
        end = now_ms() + 5000;
        while (now_ms() < end && !log_has("is no longer full"))
                poll(NULL, 0, 20);
        ok(log_has("channel 'mon' is no longer full"), "a notice when it drains");
        ok(metrics_of("mon", &c, NULL) && c.full_seconds >= 0.15 && c.full_alerts == 1 && c.holders == 2,
           "time full >= 0.2 s (%g), one alert (%llu), two holders (%llu)", c.full_seconds, c.full_alerts, c.holders);
        ok(metrics_of("q", &c, NULL) && c.denied_send >= 1, "the denied send on 'q' is counted (%llu)", c.denied_send);
        ok(metrics_of("monf", &c, NULL) && c.messages == 0 && c.bytes == 0 && c.capacity == 4096,
           "an empty FIFO: bytes and capacity, and 0 messages (known: it holds nothing)");
        ipcb_close(ch);
        ipcb_close(rx);
        /* a one-page FIFO holds one packet: full after one message */
        is_int(ipcb_open("monf", IPCB_SEND | IPCB_RECV, &ch), 0, "open 'monf'");
        is_int(ipcb_send(ch, "hello", 5, 0), 0, "one message into it");
        ok(wait_full("monf", 1, 5000), "the sampler sees the FIFO full");
        ok(metrics_of("monf", &c, NULL) && c.bytes == 5 && c.high_water == 5 && c.messages == -1,
           "5 bytes, high water 5 bytes, no message count (the kernel does not count packets)");
        {
                char big[128];
                ssize_t got = ipcb_recv(ch, big, sizeof(big), NULL);
                bool drained = wait_full("monf", 0, 5000);
                ok(got == 5 && drained, "read (%zd): not full any more (%d)", got, drained);
        }
        ipcb_close(ch);
}

/* One user with many processes cannot push the others out of a channel's holders. */
static void test_holders_share(void) {
        enum { FLOOD = 40 };
        ipcb_channel *mine = NULL;
        pid_t kids[FLOOD];
        ipcb_holder *h = NULL;
        size_t n = 0, theirs = 0;
        bool root_listed = false;
        int go[2], ready[2];

        is_int(ipcb_open("acl", IPCB_RECV, &mine), 0, "root holds 'acl' to receive");
        if (pipe(go) < 0 || pipe(ready) < 0)
                BAIL_OUT("pipe");
        for (int i = 0; i < FLOOD; i++) {
                kids[i] = fork();
                if (kids[i] == 0) {
                        ipcb_channel *ch = NULL;
                        char c = 0;
                        close(go[1]);
                        close(ready[0]);
                        if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
                                _exit(3);
                        c = ipcb_open("acl", IPCB_SEND, &ch) == 0 ? 'y' : 'n';
                        if (write(ready[1], &c, 1) != 1)
                                _exit(4);
                        (void)read(go[0], &c, 1);
                        _exit(0);
                }
        }
        close(go[0]);
        close(ready[1]);
        {
                int opened = 0;
                char c;
                for (int i = 0; i < FLOOD; i++)
                        if (read(ready[0], &c, 1) == 1 && c == 'y')
                                opened++;
                is_int(opened, FLOOD, "%d processes of nobody opened 'acl' (the send list)", FLOOD);
        }
        if (ipcb_holders("acl", &h, &n) >= 0) {
                for (size_t i = 0; i < n; i++) {
                        if (h[i].pid == getpid() && h[i].access == IPCB_RECV)
                                root_listed = true;
                        if (h[i].uid == 65534)
                                theirs++;
                }
                free(h);
        }
        ok(root_listed, "root's grant is still listed");
        ok(theirs >= 1 && theirs <= 8, "nobody keeps at most its share of the list (%zu)", theirs);
        close(go[1]);
        close(ready[0]);
        for (int i = 0; i < FLOOD; i++)
                wait_exit(kids[i], 10000);
        ipcb_close(mine);
}

static void test_holders(void) {
        ipcb_holder *h = NULL;
        size_t n = 0;
        int pfd[2], st;
        pid_t child;

        is_int(ipcb_holders("mon", &h, &n), 2, "two holders of 'mon' (this process, send and receive)");
        ok(n == 2 && h[0].pid == getpid() && h[0].uid == 0 && (strcmp(h[0].user, "root") == 0) && h[0].command[0] &&
                   h[0].since > 0,
           "pid, uid, user, command and time of the grant (%s)", n ? h[0].command : "");
        free(h);
        is_int(ipcb_holders("nosuch", &h, &n), -ENOENT, "holders of an unknown channel: -ENOENT");
        /* a child that holds 'monf' and exits: listed while it lives, not after */
        if (pipe(pfd) < 0)
                BAIL_OUT("pipe");
        child = fork();
        if (child == 0) {
                ipcb_channel *ch = NULL;
                char c;
                close(pfd[1]);
                if (ipcb_open("monf", IPCB_RECV, &ch) < 0)
                        _exit(1);
                (void)read(pfd[0], &c, 1); /* until the parent says go */
                _exit(0);
        }
        close(pfd[0]);
        {
                long long end = now_ms() + 5000;
                bool seen = false;
                while (!seen && now_ms() < end) {
                        if (ipcb_holders("monf", &h, &n) >= 0) {
                                for (size_t i = 0; i < n; i++)
                                        seen = seen || (h[i].pid == child && h[i].access == IPCB_RECV);
                                free(h);
                        }
                        if (!seen)
                                poll(NULL, 0, 20);
                }
                ok(seen, "a child holding 'monf' to receive is listed");
        }
        close(pfd[1]);
        st = wait_exit(child, 5000);
        ok(st == 0, "the child exited");
        {
                bool listed = false;
                if (ipcb_holders("monf", &h, &n) >= 0)
                        for (size_t i = 0; i < n; i++)
                                listed = listed || h[i].pid == child;
                ok(!listed, "after it exits it is no longer a holder");
                free(h);
        }
        ok(ipcb_holders(NULL, &h, &n) >= 2, "holders of every channel (%zu)", n);
        free(h);
        test_holders_share();
}

static void test_wait_access(void) {
        ipcb_access a;
        pid_t child;
        long long t0;
        int st;

        is_int(ipcb_wait("q", 1000), 0, "wait for a ready channel: at once");
        t0 = now_ms();
        is_int(ipcb_wait("later", 300), -ETIMEDOUT, "wait for a channel that does not exist: -ETIMEDOUT");
        ok(now_ms() - t0 >= 250 && now_ms() - t0 < 5000, "after about the timeout (%lld ms)", now_ms() - t0);
        ok(strstr(ipcb_strerror(-ETIMEDOUT), "no channel named 'later'"), "the reason names it (%s)",
           ipcb_strerror(-ETIMEDOUT));
        child = fork();
        if (child == 0)
                _exit(ipcb_wait("later", 15000) == 0 ? 0 : 1);
        poll(NULL, 0, 300);
        {
                char text[4096];
                FILE *f = fopen(conf_path, "ae");
                snprintf(text, sizeof(text), "\n[channel later]\ntype = mqueue\non_stop = remove\n");
                if (!f || fputs(text, f) < 0 || fclose(f) != 0)
                        BAIL_OUT("cannot append to %s", conf_path);
        }
        t0 = now_ms();
        kill(daemon_pid, SIGHUP);
        st = wait_exit(child, 10000);
        ok(st == 0, "a waiter returns once a reload adds the channel (%#x)", st);
        ok(now_ms() - t0 < 5000, "promptly (%lld ms), not at its timeout", now_ms() - t0);

        is_int(ipcb_access_check("q", NULL, &a), 0, "access of the caller");
        ok(a.uid == 0 && a.send && a.recv && (strcmp(a.send_rule, "uid 0 may do anything") == 0), "root: %s",
           a.send_rule);
        is_int(ipcb_access_check("acl", "nobody", &a), 0, "access of nobody (asked by root)");
        ok(a.send && (strcmp(a.send_rule, "send list: nobody") == 0), "send by the send list (%s)", a.send_rule);
        ok(!a.recv && strncmp(a.recv_rule, "denied: ", 8) == 0 && strstr(a.recv_rule, "other class"),
           "no receive, and why (%s)", a.recv_rule);
        is_int(ipcb_access_check("acl", "no-such-user-x", &a), -ESRCH, "an unknown user: -ESRCH");
        child = fork();
        if (child == 0) {
                ipcb_access b;
                if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
                        _exit(3);
                if (ipcb_access_check("acl", "root", &b) != -EPERM)
                        _exit(1);
                _exit(ipcb_access_check("acl", NULL, &b) == 0 && b.send && !b.recv ? 0 : 2);
        }
        is_int(wait_exit(child, 10000), 0, "nobody may ask about itself, not about root");
}

int main(void) {
        /* SIGPIPE stays at its default: the library must never raise it */
        if (geteuid() != 0) {
                printf("1..0 # SKIP the daemon tests run as root (channels owned by root, an unprivileged caller)\n");
                return 0;
        }
        setup_world();
        daemon_pid = daemon_start();
        if (daemon_pid <= 0) {
                cleanup_world();
                BAIL_OUT("ipcbrokerd did not start");
        }
        test_basic_mqueue();
        test_basic_fifo();
        test_priorities();
        test_nonblock();
        test_timeouts();
        test_msgsize();
        test_errors();
        test_poll();
        test_getattr_stat_list_status();
        test_denied();
        test_purge();
        test_metrics();
        test_holders();
        test_wait_access();
        test_unreachable();
        test_thread_socket();
        test_impostor();
        test_many_senders_receivers();
        test_daemon_restart();
        test_clean_stop();
        if (tap_state.failed)
                show_log();
        cleanup_world();
        return done_testing();
}
