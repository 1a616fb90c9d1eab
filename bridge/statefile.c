/*
 * statefile.c — opening, locking and replacing the bridge's state files.
 *
 * The rename is not followed by an fsync of the directory: should the host
 * crash before the directory reaches the disk, the old file is found again,
 * and both users (spool, mark) are written so that the old file is still
 * right, only larger.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "statefile.h"
#include "util.h"

int statefile_open(const char *dir, const char *name, const char *suffix, char **path, int *fd) {
        char *p = NULL;
        int f = -1, r = 0;

        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                r = -errno;
        else if (asprintf(&p, "%s/%s.%s", dir, name, suffix) < 0) {
                p = NULL;
                r = -ENOMEM;
        } else if ((f = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
                r = -errno;
        else if (flock(f, LOCK_EX | LOCK_NB) < 0)
                r = errno == EWOULDBLOCK ? -EBUSY : -errno;
        if (r < 0) {
                if (r == -EBUSY)
                        log_error("%s is in use by another ipcbroker-bridge", p);
                else
                        log_error("%s/%s.%s: %s", dir, name, suffix, strerror(-r));
                if (f >= 0)
                        close(f);
                free(p);
                return r;
        }
        *path = p;
        *fd = f;
        return 0;
}

static char *statefile_new_name(const char *path) {
        char *tmp;

        return asprintf(&tmp, "%s.new", path) < 0 ? NULL : tmp;
}

int statefile_begin(const char *path) {
        _cleanup_free_ char *tmp = statefile_new_name(path);
        int fd;

        if (!tmp)
                return -ENOMEM;
        fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        return fd < 0 ? -errno : fd;
}

int statefile_commit(const char *path, int fd) {
        _cleanup_free_ char *tmp = statefile_new_name(path);
        int r = 0;

        if (!tmp)
                r = -ENOMEM;
        else if (fdatasync(fd) < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0 || rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                close(fd);
                if (tmp)
                        unlink(tmp);
        }
        return r;
}
