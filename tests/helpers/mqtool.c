/*
 * mqtool — a plain POSIX message queue program for the tests: it uses
 * mq_open by name exactly like an existing application would, and reports
 * what the kernel says about a queue without needing /dev/mqueue.
 *
 *   mqtool attr NAME              "maxmsg msgsize curmsgs uid gid mode(octal) ino"
 *   mqtool send NAME MSG [PRIO]   open O_WRONLY, send one message
 *   mqtool recv NAME              open O_RDONLY|O_NONBLOCK, print one message
 *   mqtool create NAME MAXMSG MSGSIZE MODE   O_CREAT|O_EXCL (to squat a name)
 *   mqtool unlink NAME...         mq_unlink, ignoring missing names
 *   mqtool fill NAME COUNT        send COUNT numbered messages "m0" .. (non-blocking)
 *   mqtool list-prefix PREFIX     print every queue named PREFIX* (tests/mqprefix.h)
 *   mqtool unlink-prefix PREFIX   remove them, printing each name removed
 *
 * Exit status: 0 ok, 1 failure (errno name on stderr), 2 usage.
 */
#define _GNU_SOURCE /* unshare */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../mqprefix.h"

static int fail(const char *what, const char *name) {
        fprintf(stderr, "mqtool: %s %s: %s\n", what, name, strerror(errno));
        return 1;
}

int main(int argc, char **argv) {
        if (argc < 3) {
                fprintf(stderr, "usage: mqtool attr|send|recv|create|unlink|fill|list-prefix|unlink-prefix NAME ...\n");
                return 2;
        }
        const char *cmd = argv[1], *name = argv[2];

        if (!strcmp(cmd, "attr")) {
                struct mq_attr a;
                struct stat st;
                mqd_t q = mq_open(name, O_RDONLY);
                if (q == (mqd_t)-1)
                        return fail("open", name);
                if (mq_getattr(q, &a) < 0 || fstat((int)q, &st) < 0)
                        return fail("getattr", name);
                printf("%ld %ld %ld %u %u %o %lu\n", a.mq_maxmsg, a.mq_msgsize, a.mq_curmsgs, st.st_uid, st.st_gid,
                       st.st_mode & 07777, (unsigned long)st.st_ino);
                return 0;
        }
        if (!strcmp(cmd, "send") && argc >= 4) {
                mqd_t q = mq_open(name, O_WRONLY);
                if (q == (mqd_t)-1)
                        return fail("open", name);
                if (mq_send(q, argv[3], strlen(argv[3]), argc >= 5 ? (unsigned)atoi(argv[4]) : 0) < 0)
                        return fail("send", name);
                return 0;
        }
        if (!strcmp(cmd, "recv")) {
                struct mq_attr a;
                unsigned prio;
                mqd_t q = mq_open(name, O_RDONLY | O_NONBLOCK);
                if (q == (mqd_t)-1)
                        return fail("open", name);
                if (mq_getattr(q, &a) < 0)
                        return fail("getattr", name);
                char *buf = malloc((size_t)a.mq_msgsize + 1);
                ssize_t n = mq_receive(q, buf, (size_t)a.mq_msgsize, &prio);
                if (n < 0)
                        return fail("receive", name);
                buf[n] = '\0';
                printf("%s\n", buf);
                free(buf);
                return 0;
        }
        if (!strcmp(cmd, "create") && argc >= 6) {
                struct mq_attr a = { .mq_maxmsg = atol(argv[3]), .mq_msgsize = atol(argv[4]) };
                mode_t mode = (mode_t)strtol(argv[5], NULL, 8);
                mode_t old = umask(0);
                mqd_t q = mq_open(name, O_RDWR | O_CREAT | O_EXCL, mode, &a);
                umask(old);
                if (q == (mqd_t)-1)
                        return fail("create", name);
                return 0;
        }
        if (!strcmp(cmd, "unlink")) {
                int rc = 0;
                for (int i = 2; i < argc; i++)
                        if (mq_unlink(argv[i]) < 0 && errno != ENOENT)
                                rc = fail("unlink", argv[i]);
                return rc;
        }
        if (!strcmp(cmd, "list-prefix") || !strcmp(cmd, "unlink-prefix")) {
                if (mqprefix_run(name, cmd[0] == 'u', stdout) < 0) {
                        fprintf(stderr, "mqtool: cannot read the queues named %s*\n", name);
                        return 1;
                }
                return 0;
        }
        if (!strcmp(cmd, "fill") && argc >= 4) {
                mqd_t q = mq_open(name, O_WRONLY | O_NONBLOCK);
                long n = atol(argv[3]);
                char msg[32];
                if (q == (mqd_t)-1)
                        return fail("open", name);
                for (long i = 0; i < n; i++) {
                        int len = snprintf(msg, sizeof(msg), "m%ld", i);
                        if (mq_send(q, msg, (size_t)len, 0) < 0)
                                return fail("send", name);
                }
                return 0;
        }
        fprintf(stderr, "mqtool: unknown command or missing arguments\n");
        return 2;
}
