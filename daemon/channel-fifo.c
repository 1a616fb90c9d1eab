/*
 * channel-fifo.c — channels backed by FIFOs.
 *
 * The daemon holds each FIFO open read-write, so a writer never blocks or
 * fails for want of a reader and the pipe buffer survives while clients come
 * and go. Paths are walked without following symlinks, and nothing that is
 * not a FIFO is ever opened.
 *
 * Message boundaries come from packet mode: a description with O_DIRECT
 * writes each write() of at most PIPE_BUF bytes as one packet, and a read
 * returns exactly one packet. Each packet takes one pipe buffer slot (a
 * page), so a FIFO channel holds at most capacity / page size messages.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "channel.h"
#include "log.h"
#include "safepath.h"

static int fifo_parent(struct channel *ch, int *ret_dirfd, const char **ret_base) {
        const struct channel_config *c = ch->config;
        _cleanup_free_ char *bad = NULL;
        const char *reason = NULL;
        int r;

        /* Derived paths live in runtime_dir/fifo, which the daemon creates; explicit ones must exist. */
        r = safepath_open_parent(c->path, c->explicit_name ? 0 : 0755, ret_dirfd, ret_base, &bad);
        if (r == -ELOOP) {
                channel_set_problem(ch, CHANNEL_REFUSED, "%s in the path of FIFO %s is a symlink; refusing to follow it",
                                    bad ? bad : "a component", c->path);
                return r;
        }
        if (r < 0) {
                channel_set_problem(ch, CHANNEL_FAILED, "cannot open the directory of FIFO %s (at %s): %s", c->path,
                                    bad ? bad : "?", strerror(-r));
                return r;
        }
        r = safepath_check_dir(*ret_dirfd, c->explicit_name, c->owner, &reason);
        if (r < 0) {
                channel_set_problem(ch, CHANNEL_REFUSED, "the directory of FIFO %s %s; refusing to use it", c->path,
                                    reason);
                close(*ret_dirfd);
                return r;
        }
        return 0;
}

static int fifo_set_capacity(struct channel *ch, int fd) {
        const struct channel_config *c = ch->config;
        int cur = fcntl(fd, F_GETPIPE_SZ);

        if (cur >= c->capacity)
                /* the kernel rounds up to a power of two pages; never shrink below what was asked */
                if (cur < c->capacity * 2)
                        return 0;
        if (fcntl(fd, F_SETPIPE_SZ, (int)c->capacity) < 0) {
                int r = -errno;
                if (r == -EBUSY)
                        log_warning("channel '%s': FIFO holds more than %ld bytes; capacity stays at %d for now",
                                    c->name, c->capacity, cur);
                else
                        log_error("channel '%s': cannot set FIFO capacity to %ld bytes: %s", c->name, c->capacity,
                                  r == -EPERM ? "above fs.pipe-max-size or the per-user pipe limit" : strerror(-r));
                return r;
        }
        return 0;
}

/* Open and verify what is at the path. Returns the descriptor, or -ENOENT when nothing is there. */
static int fifo_open_existing(struct channel *ch, int dirfd, const char *base, int *ret_fd) {
        const struct channel_config *c = ch->config;
        struct stat st, st2;
        int fd;

        if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (!S_ISFIFO(st.st_mode)) {
                channel_set_problem(ch, CHANNEL_REFUSED, "%s exists and is %s, not a FIFO; refusing it", c->path,
                                    S_ISLNK(st.st_mode)   ? "a symlink"
                                    : S_ISDIR(st.st_mode) ? "a directory"
                                    : S_ISREG(st.st_mode) ? "a regular file"
                                                          : "a special file");
                return -EEXIST;
        }
        if (!channel_owner_trusted(ch, st.st_uid)) {
                channel_set_problem(ch, CHANNEL_REFUSED,
                                    "FIFO %s already exists and belongs to uid %u, not to the daemon or the channel's "
                                    "owner %u; refusing to adopt it",
                                    c->path, st.st_uid, c->owner);
                return -EEXIST;
        }
        fd = openat(dirfd, base, O_RDWR | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        /* it may have been swapped between the stat and the open */
        if (fstat(fd, &st2) < 0 || st2.st_dev != st.st_dev || st2.st_ino != st.st_ino || !S_ISFIFO(st2.st_mode)) {
                close(fd);
                return -EAGAIN;
        }
        *ret_fd = fd;
        return 0;
}

/* Create a new FIFO at the path and open it. */
static int fifo_make(struct channel *ch, int dirfd, const char *base, int *ret_fd) {
        int r;

        for (int attempt = 0; attempt < 5; attempt++) {
                if (mkfifoat(dirfd, base, 0600) < 0 && errno != EEXIST)
                        return -errno;
                r = fifo_open_existing(ch, dirfd, base, ret_fd);
                if (r == -EAGAIN || r == -ENOENT)
                        continue;
                return r;
        }
        return -EBUSY;
}

static int fifo_take(struct channel *ch, int fd) {
        struct stat st;
        int r;

        r = channel_apply_owner_mode(ch, fd);
        if (r < 0)
                return r;
        fifo_set_capacity(ch, fd);
        if (fstat(fd, &st) < 0)
                return -errno;
        ch->dev = st.st_dev;
        ch->ino = st.st_ino;
        return 0;
}

static int fifo_setup(struct channel *ch) {
        const struct channel_config *c = ch->config;
        _cleanup_close_ int dirfd = -1;
        const char *base;
        int fd = -1, r;
        bool made = false;

        r = fifo_parent(ch, &dirfd, &base);
        if (r < 0)
                return r;
        for (int attempt = 0; attempt < 5; attempt++) {
                r = fifo_open_existing(ch, dirfd, base, &fd);
                if (r == -ENOENT) {
                        if (mkfifoat(dirfd, base, 0600) < 0 && errno != EEXIST) {
                                r = -errno;
                                channel_set_problem(ch, CHANNEL_FAILED, "cannot create FIFO %s: %s", c->path,
                                                    strerror(-r));
                                return r;
                        }
                        made = true;
                        continue;
                }
                if (r != -EAGAIN)
                        break;
        }
        if (r < 0) {
                if (ch->state == CHANNEL_READY || !ch->problem)
                        channel_set_problem(ch, CHANNEL_FAILED, "cannot open FIFO %s: %s", c->path, strerror(-r));
                return r;
        }
        r = fifo_take(ch, fd);
        if (r < 0) {
                close(fd);
                return r;
        }
        ch->fd = fd;
        ch->created = made;
        if (made)
                log_info("channel '%s': created FIFO %s (capacity %d, %u:%u, mode %04o)", c->name, c->path,
                         fcntl(fd, F_GETPIPE_SZ), c->owner, c->group, c->mode);
        else
                log_info("channel '%s': adopted FIFO %s", c->name, c->path);
        return 0;
}

static int fifo_check(struct channel *ch) {
        _cleanup_close_ int dirfd = -1;
        _cleanup_free_ char *bad = NULL;
        const char *base;
        struct stat st;
        int r;

        r = safepath_open_parent(ch->config->path, 0, &dirfd, &base, &bad);
        if (r == -ENOENT)
                return -ENOENT;
        if (r == -ELOOP || r == -ENOTDIR)
                return -EEXIST; /* the path now leads somewhere else (a symlink on the way) */
        if (r < 0)
                return r;
        if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? -ENOENT : -errno;
        if (st.st_dev != ch->dev || st.st_ino != ch->ino)
                return -EEXIST;
        return 0;
}

/* Copy what is in OLD into NEW, one read (one packet) at a time, as far as NEW has room. */
long channel_fifo_move(const char *path, int old_fd, int new_fd) {
        char buf[PIPE_BUF * 16];
        long moved = 0;
        int fl = fcntl(new_fd, F_GETFL);
        int queued = 0;

        if (ioctl(old_fd, FIONREAD, &queued) < 0 || queued == 0)
                return 0;
        if (fl >= 0)
                fcntl(new_fd, F_SETFL, fl | O_DIRECT | O_NONBLOCK);
        /* bounded by what OLD held when we started */
        for (int done = 0; done < queued;) {
                struct pollfd p = { .fd = new_fd, .events = POLLOUT };
                ssize_t n;
                /* room first: what we read from OLD must have a place in NEW */
                if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLOUT))
                        break;
                n = read(old_fd, buf, sizeof(buf));
                if (n <= 0)
                        break;
                if (write(new_fd, buf, (size_t)n) != n) {
                        log_error("FIFO %s: %zd bytes could not be moved to the new FIFO: %s", path, n,
                                  strerror(errno));
                        break;
                }
                done += (int)n;
                moved++;
        }
        if (fl >= 0)
                fcntl(new_fd, F_SETFL, fl);
        if (moved)
                log_info("FIFO %s: moved %ld queued messages to the new FIFO", path, moved);
        if (ioctl(old_fd, FIONREAD, &queued) < 0)
                return 0;
        return queued;
}

static int fifo_recreate(struct channel *ch) {
        _cleanup_close_ int dirfd = -1;
        const char *base;
        int fd = -1, r;

        r = fifo_parent(ch, &dirfd, &base);
        if (r < 0)
                return r;
        r = fifo_make(ch, dirfd, base, &fd);
        if (r < 0)
                return r;
        r = fifo_take(ch, fd);
        if (r < 0) {
                close(fd);
                return r;
        }
        channel_fifo_move(ch->config->path, ch->fd, fd);
        /* programs that hold the old FIFO may still write to it: keep forwarding from it */
        channel_keep_orphan(ch, ch->fd);
        ch->fd = fd;
        ch->created = true;
        return 0;
}

static int fifo_apply(struct channel *ch) {
        int r = channel_ensure(ch);

        if (r < 0)
                return r;
        r = channel_apply_owner_mode(ch, ch->fd);
        if (r < 0)
                return r;
        fifo_set_capacity(ch, ch->fd);
        return 0;
}

static int fifo_unlink(struct channel *ch) {
        _cleanup_close_ int dirfd = -1;
        const char *base;

        if (safepath_open_parent(ch->config->path, 0, &dirfd, &base, NULL) < 0)
                return 0;
        if (unlinkat(dirfd, base, 0) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

static int fifo_open_fresh(struct channel *ch, int access, int *ret_fd) {
        _cleanup_close_ int dirfd = -1;
        _cleanup_close_ int fd = -1;
        const char *base;
        struct stat st;
        int flags, r;

        flags = channel_access_flags(access);
        r = safepath_open_parent(ch->config->path, 0, &dirfd, &base, NULL);
        if (r < 0)
                return r;
        /* non-blocking: a writer's open must never wait (we hold a reader anyway) */
        fd = openat(dirfd, base, flags | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0 || st.st_dev != ch->dev || st.st_ino != ch->ino || !S_ISFIFO(st.st_mode))
                return -ESTALE;
        flags = fcntl(fd, F_GETFL);
        if (flags < 0)
                return -errno;
        flags &= ~O_NONBLOCK;
        if (access & CHANNEL_ACCESS_SEND)
                flags |= O_DIRECT; /* packet mode: one write, one message */
        if (fcntl(fd, F_SETFL, flags) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int fifo_info(struct channel *ch, struct channel_info *info) {
        int cap = fcntl(ch->fd, F_GETPIPE_SZ);
        int queued = 0;
        long page = sysconf(_SC_PAGESIZE);

        if (cap < 0)
                return -errno;
        if (ioctl(ch->fd, FIONREAD, &queued) < 0)
                queued = -1;
        info->capacity = cap;
        info->message_size = ch->fifo_msgsize;
        /* each packet takes a page of the pipe; a batch packet holds a varying number of messages */
        info->max_messages = ch->framing == FRAMING_BATCH ? -1 : cap / (page > 0 ? page : 4096);
        info->messages = -1; /* the kernel does not count packets */
        info->bytes = queued;
        info->flags = 0;
        return 0;
}

static int fifo_purge(struct channel *ch, uint64_t *messages, uint64_t *bytes) {
        char buf[PIPE_BUF * 16];

        /* our descriptor is non-blocking; bounded by the pipe's own size */
        for (int i = 0; i < 1 << 20; i++) {
                ssize_t n = read(ch->fd, buf, sizeof(buf));
                if (n <= 0)
                        break;
                (*messages)++;
                *bytes += (uint64_t)n;
        }
        return 0;
}

const struct channel_ops channel_fifo_ops = {
        .setup = fifo_setup,
        .check = fifo_check,
        .apply = fifo_apply,
        .recreate = fifo_recreate,
        .unlink = fifo_unlink,
        .open = fifo_open_fresh,
        .info = fifo_info,
        .purge = fifo_purge,
};
