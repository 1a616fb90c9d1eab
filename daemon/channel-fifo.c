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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "channel.h"
#include "log.h"
#include "safepath.h"

/* A FIFO channel: the framing and message size handed out, and the capacity's watch. */
struct fifo_channel {
        struct channel ch;
        /* a change that could make queued packets unreadable waits until the FIFO is empty */
        enum fifo_framing framing;
        long msgsize;
        bool capacity_warned;            /* setting the capacity failed, and that was logged */
        time_t capacity_noticed;         /* when a restored capacity was last logged */
        unsigned long capacity_restores; /* restores since then */
};

static struct fifo_channel *fifo_of(struct channel *ch) {
        return container_of(ch, struct fifo_channel, ch);
}

/* What open(2)-like steps find besides success and the channel's outcomes (channel.h). */
enum {
        FIFO_ABSENT = _CHANNEL_OUTCOME_MAX, /* nothing at the path */
        FIFO_RACED,                         /* what was checked is not what was opened: try again */
};

/* Hand out the framing and message size the configuration says. */
static void fifo_take_config(struct channel *ch) {
        fifo_of(ch)->framing = ch->config->framing;
        fifo_of(ch)->msgsize = ch->config->message_size;
}

/* The framing handed out, as the wire says it (the same values). */
static int fifo_wire_framing(struct channel *ch) {
        return (int)fifo_of(ch)->framing;
}

static int fifo_parent(struct channel *ch, int *ret_dirfd, const char **ret_base) {
        const struct channel_config *c = ch->config;
        /* the FIFO's own directory may be the channel owner's, and sticky (/tmp) for an explicit path */
        const struct safepath_rules rules = { .last_allow_sticky = c->explicit_name, .last_trusted_uid = c->owner };
        _cleanup_free_ char *bad = NULL;
        const char *reason = NULL;
        int r;

        /* Derived paths live in runtime_dir/fifo, which the daemon creates; explicit ones must exist. */
        r = safepath_open_parent_checked(c->path, c->explicit_name ? 0 : 0755, &rules, ret_dirfd, ret_base, &bad,
                                         &reason);
        if (r == -ELOOP) {
                channel_set_problem(ch, CHANNEL_REFUSED,
                                    "%s in the path of FIFO %s is a symlink; refusing to follow it",
                                    bad ? bad : "a component", c->path);
                return r;
        }
        if (r == -EPERM && reason) {
                size_t dlen = (size_t)(*ret_base - 1 - c->path);
                if (bad && strlen(bad) == (dlen ? dlen : 1))
                        channel_set_problem(ch, CHANNEL_REFUSED, "the directory of FIFO %s %s; refusing to use it",
                                            c->path, reason);
                else
                        channel_set_problem(ch, CHANNEL_REFUSED,
                                            "the directory %s on the path of FIFO %s %s (every directory on the way "
                                            "must be root's or the daemon's, and not writable by others unless "
                                            "sticky); refusing to use it",
                                            bad ? bad : "?", c->path, reason);
                return r;
        }
        if (r < 0) {
                channel_set_problem(ch, CHANNEL_FAILED, "cannot open the directory of FIFO %s (at %s): %s", c->path,
                                    bad ? bad : "?", strerror(-r));
                return r;
        }
        return 0;
}

/*
 * Make the pipe buffer the declared capacity. Anyone holding a descriptor,
 * even a send-only one, may F_SETPIPE_SZ it (shrink it to one message for
 * everyone, or grow it at the daemon's expense), so this runs at setup, at
 * every open and at every check: F_GETPIPE_SZ, and a set only on a difference.
 * A failure is not fatal (the FIFO works with the capacity it has): it is
 * logged here, once until the capacity is right again. RESTORE says the
 * capacity was right before, so a difference is someone else's doing.
 */
static void fifo_set_capacity(struct channel *ch, int fd, bool restore) {
        struct fifo_channel *f = fifo_of(ch);
        const struct channel_config *c = ch->config;
        int cur = fcntl(fd, F_GETPIPE_SZ);

        /* the kernel rounds up to a power of two pages: what it gives for the capacity is right */
        if (cur >= c->capacity && cur < c->capacity * 2) {
                f->capacity_warned = false;
                return;
        }
        if (fcntl(fd, F_SETPIPE_SZ, (int)c->capacity) < 0) {
                int r = -errno;
                if (f->capacity_warned)
                        log_debug("channel '%s': FIFO capacity is still %d, not %ld: %s", c->name, cur, c->capacity,
                                  strerror(-r));
                else if (r == -EBUSY)
                        log_warning("channel '%s': FIFO holds more than %ld bytes; capacity stays at %d for now",
                                    c->name, c->capacity, cur);
                else
                        log_error("channel '%s': cannot set FIFO capacity to %ld bytes: %s", c->name, c->capacity,
                                  r == -EPERM ? "above fs.pipe-max-size or the per-user pipe limit" : strerror(-r));
                f->capacity_warned = true;
                return;
        }
        if (restore) {
                /* a holder can resize and reopen in a loop: one notice a minute per channel */
                time_t now = time(NULL);
                f->capacity_restores++;
                if (now - f->capacity_noticed >= 60) {
                        log_notice("channel '%s': FIFO capacity was %d bytes, not the declared %ld; set it back%s",
                                   c->name, cur, c->capacity,
                                   f->capacity_restores > 1 ? " (again: a holder keeps resizing it)" : "");
                        if (f->capacity_restores > 1)
                                log_notice("channel '%s': capacity set back %lu times since the last notice", c->name,
                                           f->capacity_restores);
                        f->capacity_noticed = now;
                        f->capacity_restores = 0;
                }
        }
        f->capacity_warned = false;
}

static int fifo_failed(struct channel *ch, int err, const char *what) {
        channel_set_problem(ch, CHANNEL_FAILED, "cannot %s FIFO %s: %s", what, ch->config->path, strerror(-err));
        return err;
}

/*
 * Open and verify what is at the path: 0 with *RET_FD set, FIFO_ABSENT,
 * FIFO_RACED, or CHANNEL_DISTRUSTED or a negative errno with the channel's
 * problem set.
 *
 * Nothing is opened for real before it is checked: an O_PATH|O_NOFOLLOW
 * descriptor pins the object (opening it has no effect on a FIFO or a
 * device), fstat() says what it is, and only then is it reopened through
 * /proc/self/fd with the access we need, which reaches the very same inode.
 */
static int fifo_open_existing(struct channel *ch, int dirfd, const char *base, int *ret_fd) {
        const struct channel_config *c = ch->config;
        _cleanup_close_ int pfd = -1;
        char proc[sizeof("/proc/self/fd/") + 3 * sizeof(int)];
        struct stat st, st2;
        int fd;

        pfd = openat(dirfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (pfd < 0)
                return errno == ENOENT ? FIFO_ABSENT : fifo_failed(ch, -errno, "open");
        if (fstat(pfd, &st) < 0)
                return fifo_failed(ch, -errno, "open");
        if (!S_ISFIFO(st.st_mode)) {
                channel_set_problem(ch, CHANNEL_REFUSED, "%s exists and is %s, not a FIFO; refusing it", c->path,
                                    S_ISLNK(st.st_mode)   ? "a symlink"
                                    : S_ISDIR(st.st_mode) ? "a directory"
                                    : S_ISREG(st.st_mode) ? "a regular file"
                                                          : "a special file");
                return CHANNEL_DISTRUSTED;
        }
        if (!channel_owner_trusted(ch, st.st_uid)) {
                channel_set_problem(ch, CHANNEL_REFUSED,
                                    "FIFO %s already exists and belongs to uid %u, not to the daemon or the channel's "
                                    "owner %u; refusing to adopt it",
                                    c->path, st.st_uid, c->owner);
                return CHANNEL_DISTRUSTED;
        }
        if (st.st_nlink != 1) {
                /* another name for the same FIFO may be another file's (a hard link to a root FIFO) */
                channel_set_problem(ch, CHANNEL_REFUSED,
                                    "FIFO %s has %ju hard links; it may be another file's alias: refusing to adopt it",
                                    c->path, (uintmax_t)st.st_nlink);
                return CHANNEL_DISTRUSTED;
        }
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
        fd = open(proc, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                if (errno == ENOENT) {
                        channel_set_problem(ch, CHANNEL_FAILED,
                                            "cannot reopen FIFO %s through %s: is /proc mounted? The daemon opens an "
                                            "existing FIFO only after checking it, which needs /proc",
                                            c->path, proc);
                        return -ENODEV;
                }
                return fifo_failed(ch, -errno, "open");
        }
        /* /proc/self/fd/N is the pinned inode; make sure of it all the same */
        if (fstat(fd, &st2) < 0 || st2.st_dev != st.st_dev || st2.st_ino != st.st_ino || !S_ISFIFO(st2.st_mode)) {
                close(fd);
                return FIFO_RACED;
        }
        *ret_fd = fd;
        return 0;
}

/*
 * Open the FIFO at the path, creating it when nothing is there (MADE says
 * whether we did). 0, or CHANNEL_DISTRUSTED or a negative errno with the
 * channel's problem set.
 */
static int fifo_open_or_make(struct channel *ch, int dirfd, const char *base, int *ret_fd, bool *made) {
        *made = false;
        for (int attempt = 0; attempt < 5; attempt++) {
                int r = fifo_open_existing(ch, dirfd, base, ret_fd);
                if (r == FIFO_ABSENT) {
                        if (mkfifoat(dirfd, base, 0600) < 0 && errno != EEXIST)
                                return fifo_failed(ch, -errno, "create");
                        *made = true;
                        continue;
                }
                if (r != FIFO_RACED)
                        return r;
        }
        channel_set_problem(ch, CHANNEL_FAILED, "FIFO %s keeps appearing and vanishing; giving up", ch->config->path);
        return -EBUSY;
}

/* Make FD, the FIFO at the path, the channel's: claim it, set owner, mode and capacity. */
static int fifo_take(struct channel *ch, int fd) {
        struct stat st;
        int r;

        if (fstat(fd, &st) < 0)
                return fifo_failed(ch, -errno, "inspect");
        /* a FIFO reached through a second path (a bind mount) may be another channel's */
        r = channel_claim_object(ch, st.st_dev, st.st_ino);
        if (r != 0)
                return r;
        r = channel_apply_owner_mode(ch, fd, true);
        if (r < 0)
                return r;
        fifo_set_capacity(ch, fd, false);
        ch->dev = st.st_dev;
        ch->ino = st.st_ino;
        return 0;
}

/* Open (or create) the FIFO at the path and take it; *RET_FD is ours. */
static int fifo_open_owned(struct channel *ch, int *ret_fd, bool *made) {
        _cleanup_close_ int dirfd = -1;
        const char *base;
        int fd = -1, r;

        r = fifo_parent(ch, &dirfd, &base);
        if (r < 0)
                return r;
        r = fifo_open_or_make(ch, dirfd, base, &fd, made);
        if (r != 0)
                return r;
        r = fifo_take(ch, fd);
        if (r != 0) {
                close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

static int fifo_setup(struct channel *ch) {
        const struct channel_config *c = ch->config;
        bool made;
        int fd = -1, r;

        fifo_take_config(ch);
        r = fifo_open_owned(ch, &fd, &made);
        if (r != 0)
                return r;
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
                return CHANNEL_GONE;
        if (r == -ELOOP || r == -ENOTDIR)
                return CHANNEL_REPLACED; /* the path now leads somewhere else (a symlink on the way) */
        if (r < 0)
                return r;
        if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? CHANNEL_GONE : -errno;
        if (st.st_dev != ch->dev || st.st_ino != ch->ino)
                return CHANNEL_REPLACED;
        /* a holder of the FIFO may have resized its buffer */
        fifo_set_capacity(ch, ch->fd, true);
        return CHANNEL_OURS;
}

/* Putting a FIFO in packet mode for a move failed, and that was logged. */
static bool packet_mode_failed;

/* Copy what is in OLD into NEW, one read (one packet) at a time, as far as NEW has room. */
static void fifo_move(const char *path, int old_fd, int new_fd) {
        char buf[PIPE_BUF * 16];
        long moved = 0;
        int fl, queued = 0;

        if (ioctl(old_fd, FIONREAD, &queued) < 0 || queued == 0)
                return;
        /*
         * Packet mode keeps each message whole; without it nothing is moved
         * (it stays where it is, held over and tried again later: logged
         * once while it keeps failing).
         */
        fl = fcntl(new_fd, F_GETFL);
        if (fl < 0 || fcntl(new_fd, F_SETFL, fl | O_DIRECT | O_NONBLOCK) < 0) {
                log_msg(packet_mode_failed ? LOG_DEBUG : LOG_ERR,
                        "FIFO %s: cannot write to the new FIFO in packet mode: %s; the %d bytes queued in the old one "
                        "stay there for now",
                        path, strerror(errno), queued);
                packet_mode_failed = true;
                return;
        }
        packet_mode_failed = false;
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
        if (fcntl(new_fd, F_SETFL, fl) < 0)
                log_error("FIFO %s: cannot restore the flags of the daemon's descriptor on the new FIFO: %s", path,
                          strerror(errno));
        if (moved)
                log_info("FIFO %s: moved %ld queued messages to the new FIFO", path, moved);
}

static int fifo_recreate(struct channel *ch) {
        int fd = -1, r;
        bool made;

        r = fifo_open_owned(ch, &fd, &made);
        if (r != 0)
                return r;
        channel_supersede(ch, fd);
        return 0;
}

static long fifo_queued(int fd) {
        int queued = 0;

        return ioctl(fd, FIONREAD, &queued) < 0 ? -errno : queued;
}

static void fifo_sample(struct channel *ch, long *messages, long long *bytes, bool *full) {
        /* a pipe has room while a slot is free: a writer could not write now when it is not writable */
        struct pollfd p = { .fd = ch->fd, .events = POLLOUT };
        long queued = fifo_queued(ch->fd);

        *messages = -1; /* the kernel does not count packets */
        *bytes = queued;
        /* an empty pipe is never full: the poll only for one that holds something */
        *full = queued > 0 && poll(&p, 1, 0) == 0;
}

/*
 * Queued FIFO packets carry no mark of their framing, and a receiver refuses
 * one longer than the channel's message size: a framing change or a smaller
 * message size, read by handles opened after it, would lose what is queued.
 * Apply those only while the FIFO is empty, as a queue is resized only while
 * empty; until then keep handing out the old ones.
 */
static void fifo_reconfigure_framing(struct channel *ch) {
        struct fifo_channel *f = fifo_of(ch);
        const struct channel_config *config = ch->config;
        bool framing = f->framing != config->framing;
        bool shrink = config->message_size < f->msgsize;
        long queued;

        if (!framing && !shrink) {
                f->msgsize = config->message_size; /* growing is always safe */
                return;
        }
        queued = fifo_queued(ch->fd);
        if (queued != 0) {
                if (framing)
                        log_warning("channel '%s': FIFO holds %ld bytes; keeping %s framing instead of %s until it "
                                    "is empty at a later reload",
                                    config->name, queued, framing_to_string(f->framing),
                                    framing_to_string(config->framing));
                if (shrink)
                        log_warning("channel '%s': FIFO holds %ld bytes; keeping messages of up to %ld bytes instead "
                                    "of %ld until it is empty at a later reload",
                                    config->name, queued, f->msgsize, config->message_size);
                if (!shrink)
                        f->msgsize = config->message_size;
                return;
        }
        if (framing)
                log_warning("channel '%s': framing changed from %s to %s; handles opened before the reload keep the "
                            "old framing until they are opened again",
                            config->name, framing_to_string(f->framing), framing_to_string(config->framing));
        fifo_take_config(ch);
}

static int fifo_reconfigure(struct channel *ch, const struct channel_config *next) {
        int r;

        ch->config = next;
        fifo_reconfigure_framing(ch);
        r = channel_ensure(ch);
        if (r != 0)
                return r;
        r = channel_apply_owner_mode(ch, ch->fd, false);
        if (r < 0)
                return r;
        fifo_set_capacity(ch, ch->fd, false);
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

static int fifo_open_fresh(struct channel *ch, int access, struct channel_handle *h) {
        _cleanup_close_ int dirfd = -1;
        _cleanup_close_ int fd = -1;
        const char *base;
        struct stat st;
        int flags, r;

        flags = channel_access_flags(access);
        r = safepath_open_parent(ch->config->path, 0, &dirfd, &base, NULL);
        if (r < 0)
                return r == -ENOENT ? CHANNEL_GONE : r;
        /* non-blocking: a writer's open must never wait (we hold a reader anyway) */
        fd = openat(dirfd, base, flags | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return errno == ENOENT ? CHANNEL_GONE : -errno;
        if (fstat(fd, &st) < 0 || st.st_dev != ch->dev || st.st_ino != ch->ino || !S_ISFIFO(st.st_mode))
                return CHANNEL_REPLACED;
        /* a holder (even send-only) may have resized the pipe: every open restores the declared capacity */
        fifo_set_capacity(ch, fd, true);
        flags = fcntl(fd, F_GETFL);
        if (flags < 0)
                return -errno;
        flags &= ~O_NONBLOCK;
        if (access & CHANNEL_ACCESS_SEND)
                flags |= O_DIRECT; /* packet mode: one write, one message */
        if (fcntl(fd, F_SETFL, flags) < 0)
                return -errno;
        *h = (struct channel_handle){
                .fd = TAKE_FD(fd),
                .type = (uint32_t)ch->config->type,
                .max_messages = -1,
                .message_size = fifo_of(ch)->msgsize,
                .framing = fifo_wire_framing(ch),
        };
        return 0;
}

static void fifo_info(struct channel *ch, struct channel_info *info) {
        struct fifo_channel *f = fifo_of(ch);

        info->framing = fifo_wire_framing(ch);
        info->messages = -1; /* the kernel does not count packets */
        info->message_size = f->msgsize;
        if (ch->fd >= 0 &&
            pipe_fill(ch->fd, f->framing == FRAMING_BATCH, &info->capacity, &info->bytes, &info->max_messages) == 0) {
                info->live = true;
                return;
        }
        info->message_size = ch->config->message_size;
        info->max_messages = -1;
        info->bytes = -1;
        info->capacity = ch->config->capacity;
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
        .kind = "FIFO",
        .size = sizeof(struct fifo_channel),
        .data_needs_holder = true, /* a pipe's data lives only while a descriptor is open */
        .setup = fifo_setup,
        .check = fifo_check,
        .reconfigure = fifo_reconfigure,
        .recreate = fifo_recreate,
        .unlink = fifo_unlink,
        .open = fifo_open_fresh,
        .info = fifo_info,
        .purge = fifo_purge,
        .queued = fifo_queued,
        .sample = fifo_sample,
        .move = fifo_move,
};
