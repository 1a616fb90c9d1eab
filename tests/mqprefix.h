/*
 * mqprefix.h — the tests' cleanup of POSIX queues by name prefix: every queue
 * in this IPC namespace whose name starts with PREFIX, whatever config or
 * test step created it, without needing /dev/mqueue to be mounted.
 *
 * A child process takes a private mount namespace, mounts a fresh view of
 * this IPC namespace's mqueue filesystem on a temporary directory and reads
 * the names there; the caller's namespaces are untouched. Needs root (or
 * CAP_SYS_ADMIN); without it, /dev/mqueue is read if it is mounted.
 */
#pragma once

#include <dirent.h>
#include <errno.h>
#include <mqueue.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

/* In the child: list (and with UNLINK remove) the queues named PREFIX* on OUT; exit status 0 ok. */
static inline int mqprefix_child(const char *prefix, bool unlink, FILE *out) {
        char dir[] = "/tmp/mqprefix.XXXXXX";
        const char *view = "/dev/mqueue";
        const char *p = prefix[0] == '/' ? prefix + 1 : prefix;
        size_t plen = strlen(p);
        bool mounted = false;
        struct dirent *e;
        DIR *d;

        if (unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 && mkdtemp(dir) &&
            mount("mqueue", dir, "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0) {
                view = dir;
                mounted = true;
        }
        d = opendir(view);
        if (!d)
                return 1;
        while ((e = readdir(d))) {
                char name[NAME_MAX + 2];
                if (e->d_name[0] == '.' || strncmp(e->d_name, p, plen) != 0)
                        continue;
                snprintf(name, sizeof(name), "/%s", e->d_name);
                if (unlink && mq_unlink(name) < 0 && errno != ENOENT)
                        continue;
                fprintf(out, "%s\n", name);
        }
        closedir(d);
        if (mounted) {
                umount(dir);
                rmdir(dir);
        }
        return 0;
}

/* List or remove the queues named PREFIX* (printed on OUT); -1 when they could not be read. */
static inline int mqprefix_run(const char *prefix, bool unlink, FILE *out) {
        int status;
        pid_t pid;

        if (!prefix[0] || (prefix[0] == '/' && !prefix[1]))
                return -1; /* never everything */
        fflush(out);
        pid = fork();
        if (pid < 0)
                return -1;
        if (pid == 0) {
                int rc = mqprefix_child(prefix, unlink, out);
                fflush(out);
                _exit(rc);
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -1;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}
