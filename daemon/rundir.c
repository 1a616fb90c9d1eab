/*
 * rundir.c — the daemon's runtime directory: created (and removed at stop,
 * when empty) if it was missing, checked to be ours and closed to others,
 * with its fifo/ directory, and the single-instance lock in it.
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
#include "rundir.h"
#include "safepath.h"

void rundir_init(struct rundir *d) {
        *d = (struct rundir){ .lock_fd = -1 };
}

/* Create DIR if missing, remembering that we did, so that stop removes only what we made. */
static int rundir_open_own_dir(struct rundir *d, int slot, const char *dir, int *ret_fd, char **bad) {
        struct stat st;
        bool existed = lstat(dir, &st) == 0;
        int r = safepath_open_dir(dir, 0755, ret_fd, bad);

        if (r >= 0 && !existed) {
                free(d->created[slot]);
                d->created[slot] = strdup(dir);
        }
        return r;
}

/*
 * The runtime directory holds the socket, the lock and the default FIFOs:
 * ours, and closed to others. With RET_FD, its descriptor is handed back.
 */
int rundir_setup(struct rundir *d, const struct config *c, int *ret_fd) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *bad = NULL;
        const char *reason = NULL;
        struct stat st;
        int r;

        r = rundir_open_own_dir(d, 0, c->runtime_dir, &fd, &bad);
        if (r < 0) {
                log_error("runtime directory %s: %s%s%s", c->runtime_dir,
                          r == -ELOOP ? "a symlink is in the way at " : "cannot create or open it at ",
                          bad ? bad : c->runtime_dir, r == -ELOOP ? "; refusing to follow it" : "");
                if (r != -ELOOP)
                        log_error("  (%s)", strerror(-r));
                return r;
        }
        r = safepath_check_dir(fd, false, geteuid(), &reason);
        if (r < 0) {
                log_error("runtime directory %s %s; refusing to use it", c->runtime_dir, reason);
                return r;
        }
        if (config_uses_fifo_dir(c)) {
                _cleanup_close_ int ffd = -1;
                _cleanup_free_ char *path = NULL;
                if (asprintf(&path, "%s/fifo", c->runtime_dir) < 0)
                        return -ENOMEM;
                r = rundir_open_own_dir(d, 1, path, &ffd, NULL);
                if (r < 0) {
                        log_error("FIFO directory %s: %s", path,
                                  r == -ELOOP ? "is a symlink; refusing to follow it" : strerror(-r));
                        return r;
                }
                r = safepath_check_dir(ffd, false, geteuid(), &reason);
                if (r < 0) {
                        log_error("FIFO directory %s %s; refusing to use it", path, reason);
                        return r;
                }
                /* the daemon owns runtime_dir/fifo whoever made it (a crashed run): removed at stop when empty */
                free(d->created[1]);
                d->created[1] = TAKE_PTR(path);
        } else if (fstatat(fd, "fifo", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
                /* unused now, but the daemon's all the same: one left by a crash goes at stop too, when empty */
                free(d->created[1]);
                if (asprintf(&d->created[1], "%s/fifo", c->runtime_dir) < 0)
                        d->created[1] = NULL;
        }
        if (ret_fd)
                *ret_fd = TAKE_FD(fd);
        return 0;
}

#define RUNDIR_LOCK_NAME "ipcbrokerd.lock"

/*
 * One daemon per runtime directory: an flock() on runtime_dir/ipcbrokerd.lock,
 * taken before any kernel object is touched and held until the daemon
 * exits (the kernel lets go of it when the process dies, however it dies).
 * The file holds the pid of its holder, for the message a second start gets.
 * Returns 0, or a negative errno after logging why.
 */
int rundir_lock(struct rundir *d, int dirfd, const char *runtime_dir) {
        _cleanup_free_ char *path = NULL;

        if (asprintf(&path, "%s/%s", runtime_dir, RUNDIR_LOCK_NAME) < 0)
                return -ENOMEM;
        /* the holder may unlink the file as it stops: lock the file that is there, or try again */
        for (int attempt = 0; attempt < 10; attempt++) {
                _cleanup_close_ int fd = -1;
                struct stat st, now;
                char pid[32];
                ssize_t n;

                fd = openat(dirfd, RUNDIR_LOCK_NAME, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
                if (fd < 0) {
                        int r = -errno;
                        log_error("cannot open the lock file %s: %s", path,
                                  r == -ELOOP ? "it is a symlink; refusing to follow it" : strerror(-r));
                        return r;
                }
                if (fstat(fd, &st) < 0)
                        return -errno;
                if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
                        log_error("lock file %s is not a regular file owned by uid %u; refusing to use it", path,
                                  (unsigned)geteuid());
                        return -EPERM;
                }
                if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                        int r = -errno;
                        if (r != -EWOULDBLOCK) {
                                log_error("cannot lock %s: %s", path, strerror(-r));
                                return r;
                        }
                        n = pread(fd, pid, sizeof(pid) - 1, 0);
                        pid[n > 0 ? n : 0] = '\0';
                        pid[strcspn(pid, "\n")] = '\0';
                        log_error("another ipcbrokerd (pid %s) holds %s: not starting, nothing was touched",
                                  pid[0] ? pid : "unknown", path);
                        return -EBUSY;
                }
                if (fstatat(dirfd, RUNDIR_LOCK_NAME, &now, AT_SYMLINK_NOFOLLOW) < 0 || now.st_dev != st.st_dev ||
                    now.st_ino != st.st_ino)
                        continue; /* we locked a file its holder removed as it stopped */
                n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
                if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n)
                        log_warning("cannot write the pid into %s: %s", path, strerror(errno));
                d->lock_fd = TAKE_FD(fd);
                d->lock_path = TAKE_PTR(path);
                d->lock_dev = st.st_dev;
                d->lock_ino = st.st_ino;
                return 0;
        }
        log_error("cannot lock %s: it keeps being replaced", path);
        return -EBUSY;
}

/* Remove the lock file if it is still ours, then let go of the lock. */
void rundir_unlock(struct rundir *d) {
        _cleanup_close_ int dirfd = -1;
        const char *base;
        struct stat st;

        if (d->lock_fd < 0)
                return;
        if (safepath_open_parent(d->lock_path, 0, &dirfd, &base, NULL) == 0 &&
            fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_dev == d->lock_dev &&
            st.st_ino == d->lock_ino && unlinkat(dirfd, base, 0) < 0)
                log_warning("cannot remove %s: %s", d->lock_path, strerror(errno));
        close(d->lock_fd);
        d->lock_fd = -1;
}

void rundir_note_moved(const struct rundir *d, const struct config *next) {
        _cleanup_free_ char *lock = NULL;

        if (!d->lock_path)
                return;
        if (asprintf(&lock, "%s/%s", next->runtime_dir, RUNDIR_LOCK_NAME) >= 0 && !streq(lock, d->lock_path))
                log_notice("the runtime directory changed to %s; the lock moves there when the daemon restarts (still "
                           "%s)",
                           next->runtime_dir, d->lock_path);
}

void rundir_remove(struct rundir *d) {
        /* the directories we created, if we leave them empty (FIFO directory first) */
        for (int i = 1; i >= 0; i--)
                if (d->created[i]) {
                        int r = safepath_rmdir(d->created[i]);
                        /* not empty: someone else's files are in it, and it stays */
                        if (r < 0 && r != -ENOTEMPTY && r != -EEXIST && r != -ENOENT)
                                log_warning("cannot remove %s: %s", d->created[i], strerror(-r));
                        free(d->created[i]);
                        d->created[i] = NULL;
                }
}

void rundir_done(struct rundir *d) {
        free(d->created[0]);
        free(d->created[1]);
        if (d->lock_fd >= 0)
                close(d->lock_fd);
        free(d->lock_path);
        rundir_init(d);
}
