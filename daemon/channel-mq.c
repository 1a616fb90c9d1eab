/*
 * channel-mq.c — channels backed by POSIX message queues.
 *
 * On Linux an mqd_t is a file descriptor on the mqueue filesystem, so
 * fstat/fchown/fchmod work on it and /dev/mqueue need not be mounted: the
 * object's identity is its inode, read through the descriptor.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "channel.h"
#include "log.h"

/* A queue channel: the attributes of the queue we hold (they lag the configuration while a resize waits). */
struct mq_channel {
        struct channel ch;
        long maxmsg;
        long msgsize;
};

static struct mq_channel *mq_of(struct channel *ch) {
        return container_of(ch, struct mq_channel, ch);
}

/* What creating a queue finds besides success and a failure (after the channel's outcomes, channel.h). */
enum {
        MQ_RACED = _CHANNEL_OUTCOME_MAX, /* the name was taken between the look and the create: try again */
};

/* The object we hold now has the configured size. */
static void mq_took(struct channel *ch, const struct stat *st) {
        mq_of(ch)->maxmsg = ch->config->max_messages;
        mq_of(ch)->msgsize = ch->config->message_size;
        ch->dev = st->st_dev;
        ch->ino = st->st_ino;
}

static int mq_identity(int fd, struct stat *st) {
        return fstat(fd, st) < 0 ? -errno : 0;
}

/* Explain a failed mq_open() in the kernel's terms, not its misleading errno. */
static void mq_explain(struct channel *ch, int err, const char *what, bool existing) {
        const struct channel_config *c = ch->config;

        switch (err) {
        case EMFILE:
                if (existing) {
                        /* opening an existing queue charges nothing: this is the descriptor limit */
                        channel_set_problem(ch, CHANNEL_FAILED, "cannot %s queue %s: %s", what, c->mq_name,
                                            strerror(err));
                        break;
                }
                channel_set_problem(ch, CHANNEL_FAILED,
                                    "cannot %s queue %s: RLIMIT_MSGQUEUE of the daemon's user is exhausted (the kernel "
                                    "reports EMFILE); this queue needs %ld x %ld bytes. Raise LimitMSGQUEUE= or give "
                                    "the daemon CAP_SYS_RESOURCE",
                                    what, c->mq_name, c->max_messages, c->message_size);
                break;
        case ENOSPC:
                channel_set_problem(ch, CHANNEL_FAILED, "cannot %s queue %s: fs.mqueue.queues_max reached", what,
                                    c->mq_name);
                break;
        case EINVAL:
                channel_set_problem(ch, CHANNEL_FAILED,
                                    "cannot %s queue %s: the kernel refuses %ld messages of %ld bytes (check "
                                    "fs.mqueue.msg_max and msgsize_max)",
                                    what, c->mq_name, c->max_messages, c->message_size);
                break;
        case ENOSYS:
                channel_set_problem(ch, CHANNEL_FAILED, "POSIX message queues are not supported by this kernel");
                break;
        default:
                channel_set_problem(ch, CHANNEL_FAILED, "cannot %s queue %s: %s", what, c->mq_name, strerror(err));
                break;
        }
}

/* 0, MQ_RACED when the name exists, or a negative errno. */
static int mq_create(struct channel *ch, int *ret_fd) {
        const struct channel_config *c = ch->config;
        struct mq_attr attr = { .mq_maxmsg = c->max_messages, .mq_msgsize = c->message_size };
        mqd_t q;

        /* Created private (0600), then given its owner and mode: no window where others could open it. */
        q = mq_open(c->mq_name, O_RDWR | O_CREAT | O_EXCL | O_NONBLOCK | O_CLOEXEC, 0600, &attr);
        if (q == (mqd_t)-1)
                return errno == EEXIST ? MQ_RACED : -errno;
        *ret_fd = (int)q;
        return 0;
}

/*
 * Move what OLD holds into NEW (both ours, non-blocking), as far as NEW has
 * room, and no more than OLD held when we started: senders that still hold
 * OLD must not keep the daemon busy. What does not fit stays in OLD.
 */
static void mq_move(const char *name, int old_fd, int new_fd) {
        struct mq_attr a, b;
        long moved = 0;
        char *buf;

        if (mq_getattr((mqd_t)old_fd, &a) < 0 || a.mq_curmsgs == 0)
                return;
        buf = malloc((size_t)a.mq_msgsize);
        if (!buf)
                return; /* forwarded at the next attempt */
        for (long i = 0; i < a.mq_curmsgs; i++) {
                unsigned prio;
                ssize_t n;

                /* room first: a message taken from OLD must have a place in NEW */
                if (mq_getattr((mqd_t)new_fd, &b) < 0 || b.mq_curmsgs >= b.mq_maxmsg)
                        break;
                n = mq_receive((mqd_t)old_fd, buf, (size_t)a.mq_msgsize, &prio);
                if (n < 0)
                        break;
                if (n > b.mq_msgsize || mq_send((mqd_t)new_fd, buf, (size_t)n, prio) < 0) {
                        /* larger than the new queue takes, or a sender took the last slot: put it back */
                        if (mq_send((mqd_t)old_fd, buf, (size_t)n, prio) < 0)
                                log_error("queue %s: a message of %zd bytes fits neither queue and is lost: %s", name,
                                          n, strerror(errno));
                        break;
                }
                moved++;
        }
        free(buf);
        if (moved)
                log_info("queue %s: moved %ld queued messages to the new queue", name, moved);
}

static int mq_adopt(struct channel *ch, int fd) {
        const struct channel_config *c = ch->config;
        struct mq_attr a;
        struct stat st;
        int r;

        if (mq_identity(fd, &st) < 0 || mq_getattr((mqd_t)fd, &a) < 0) {
                r = -errno;
                channel_set_problem(ch, CHANNEL_FAILED, "cannot inspect queue %s: %s", c->mq_name, strerror(-r));
                return r;
        }
        if (!channel_owner_trusted(ch, st.st_uid)) {
                channel_set_problem(ch, CHANNEL_REFUSED,
                                    "queue %s already exists and belongs to uid %u, not to the daemon or the channel's "
                                    "owner %u; refusing to adopt it (remove it if it is stale)",
                                    c->mq_name, st.st_uid, c->owner);
                return CHANNEL_DISTRUSTED;
        }
        r = channel_claim_object(ch, st.st_dev, st.st_ino);
        if (r != 0)
                return r;
        if (a.mq_maxmsg != c->max_messages || a.mq_msgsize != c->message_size) {
                channel_set_problem(ch, CHANNEL_REFUSED,
                                    "queue %s already exists with %ld messages of %ld bytes, but the configuration "
                                    "says %ld of %ld; refusing to adopt it (it holds %ld messages)",
                                    c->mq_name, a.mq_maxmsg, a.mq_msgsize, c->max_messages, c->message_size,
                                    a.mq_curmsgs);
                return CHANNEL_DISTRUSTED;
        }
        r = channel_apply_owner_mode(ch, fd, true);
        if (r < 0)
                return r;
        mq_took(ch, &st);
        log_info("channel '%s': adopted queue %s with %ld queued messages", c->name, c->mq_name, a.mq_curmsgs);
        return 0;
}

/*
 * Create the queue anew under the channel's name and give it its owner and
 * mode; *RET_FD is ours. MQ_RACED (the caller decides), or a negative errno
 * with the channel's problem recorded.
 */
static int mq_create_owned(struct channel *ch, int *ret_fd) {
        const struct channel_config *c = ch->config;
        struct stat st;
        int fd = -1, r;

        r = mq_create(ch, &fd);
        if (r == MQ_RACED)
                return r;
        if (r < 0) {
                mq_explain(ch, -r, "create", false);
                return r;
        }
        r = channel_apply_owner_mode(ch, fd, true);
        if (r >= 0 && (r = mq_identity(fd, &st)) < 0)
                channel_set_problem(ch, CHANNEL_FAILED, "cannot set up queue %s: %s", c->mq_name, strerror(-r));
        if (r < 0) {
                mq_unlink(c->mq_name);
                close(fd);
                return r;
        }
        mq_took(ch, &st);
        *ret_fd = fd;
        return 0;
}

static int mq_setup(struct channel *ch) {
        const struct channel_config *c = ch->config;

        /* Open-or-create, bounded: the name may appear or vanish between the two calls. */
        for (int attempt = 0; attempt < 5; attempt++) {
                mqd_t q = mq_open(c->mq_name, O_RDWR | O_NONBLOCK | O_CLOEXEC);
                int fd = -1, r;

                if (q != (mqd_t)-1) {
                        fd = (int)q;
                        r = mq_adopt(ch, fd);
                        if (r != 0) {
                                close(fd);
                                return r;
                        }
                        ch->fd = fd;
                        ch->created = false;
                        return 0;
                }
                if (errno == EACCES) {
                        channel_set_problem(ch, CHANNEL_REFUSED,
                                            "queue %s already exists and the daemon may not open it; refusing it",
                                            c->mq_name);
                        return CHANNEL_DISTRUSTED;
                }
                if (errno != ENOENT) {
                        int e = errno;
                        mq_explain(ch, e, "open", true);
                        return -e;
                }
                r = mq_create_owned(ch, &fd);
                if (r == MQ_RACED)
                        continue;
                if (r < 0)
                        return r;
                ch->fd = fd;
                ch->created = true;
                log_info("channel '%s': created queue %s (%ld x %ld bytes, %u:%u, mode %04o)", c->name, c->mq_name,
                         c->max_messages, c->message_size, c->owner, c->group, c->mode);
                return 0;
        }
        channel_set_problem(ch, CHANNEL_FAILED, "queue %s keeps appearing and vanishing; giving up", c->mq_name);
        return -EBUSY;
}

static int mq_check(struct channel *ch) {
        struct stat st;
        mqd_t q;
        int r;

        q = mq_open(ch->config->mq_name, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (q == (mqd_t)-1)
                return errno == ENOENT ? CHANNEL_GONE : errno == EACCES ? CHANNEL_REPLACED : -errno;
        r = mq_identity((int)q, &st);
        close((int)q);
        if (r < 0)
                return r;
        return st.st_dev == ch->dev && st.st_ino == ch->ino ? CHANNEL_OURS : CHANNEL_REPLACED;
}

/* Replace our queue by a new one under the same name, keeping its messages. */
static int mq_replace(struct channel *ch, bool unlink_old) {
        int fd = -1, r;

        if (unlink_old && mq_unlink(ch->config->mq_name) < 0 && errno != ENOENT) {
                r = -errno;
                channel_set_problem(ch, CHANNEL_FAILED, "cannot replace queue %s: %s", ch->config->mq_name,
                                    strerror(-r));
                return r;
        }
        r = mq_create_owned(ch, &fd);
        if (r == MQ_RACED) {
                channel_set_problem(ch, CHANNEL_FAILED, "cannot create queue %s: another process took the name first",
                                    ch->config->mq_name);
                return -EEXIST; /* what mq_open said */
        }
        if (r < 0)
                return r;
        channel_supersede(ch, fd);
        return 0;
}

static int mq_recreate(struct channel *ch) {
        return mq_replace(ch, false);
}

static int mq_reconfigure(struct channel *ch, const struct channel_config *next) {
        const struct channel_config *c = next;
        struct mq_attr a;
        int r;

        ch->config = next;
        r = channel_ensure(ch);
        if (r != 0)
                return r;
        if (mq_getattr((mqd_t)ch->fd, &a) < 0) {
                r = -errno;
                log_error("channel '%s': cannot read the attributes of queue %s: %s", c->name, c->mq_name,
                          strerror(-r));
                return r;
        }
        if (a.mq_maxmsg != c->max_messages || a.mq_msgsize != c->message_size) {
                /*
                 * A queue's size cannot change: it takes a new queue. Do it only
                 * when the queue is empty, so no queued message is lost; an
                 * emptied old queue is drained into the new one in case a
                 * message raced in.
                 */
                if (a.mq_curmsgs > 0) {
                        log_warning("channel '%s': queue %s holds %ld messages; keeping its current size (%ld x %ld) "
                                    "instead of %ld x %ld until it is empty at a later reload",
                                    c->name, c->mq_name, a.mq_curmsgs, a.mq_maxmsg, a.mq_msgsize, c->max_messages,
                                    c->message_size);
                } else {
                        r = mq_replace(ch, true);
                        if (r < 0)
                                return r;
                        log_info("channel '%s': queue %s recreated with %ld x %ld bytes", c->name, c->mq_name,
                                 c->max_messages, c->message_size);
                }
        }
        return channel_apply_owner_mode(ch, ch->fd, false);
}

static int mq_unlink_ours(struct channel *ch) {
        if (mq_unlink(ch->config->mq_name) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

static int mq_open_fresh(struct channel *ch, int access, struct channel_handle *h) {
        int flags = channel_access_flags(access);
        struct stat st;
        mqd_t q;

        q = mq_open(ch->config->mq_name, flags | O_CLOEXEC);
        if (q == (mqd_t)-1)
                return errno == ENOENT ? CHANNEL_GONE : -errno;
        if (fstat((int)q, &st) < 0 || st.st_dev != ch->dev || st.st_ino != ch->ino) {
                /* Lost a race with a replacement: never hand out what we did not verify. */
                close((int)q);
                return CHANNEL_REPLACED;
        }
        /* what the library needs, from what we know: no further system call */
        *h = (struct channel_handle){
                .fd = (int)q,
                .type = (uint32_t)ch->config->type,
                .max_messages = mq_of(ch)->maxmsg,
                .message_size = mq_of(ch)->msgsize,
                .framing = -1,
        };
        return 0;
}

/* The kernel keeps no byte count per queue; QSIZE in /dev/mqueue has one, when it happens to be mounted. */
static long long mq_bytes(const struct channel *ch) {
        char path[300];
        long long q = -1;
        struct stat st;
        FILE *f;

        snprintf(path, sizeof(path), "/dev/mqueue%s", ch->config->mq_name);
        f = fopen(path, "re");
        if (!f)
                return -1;
        if (fstat(fileno(f), &st) < 0 || st.st_ino != ch->ino || fscanf(f, "QSIZE:%lld", &q) != 1)
                q = -1;
        fclose(f);
        return q;
}

static void mq_info(struct channel *ch, struct channel_info *info) {
        struct mq_attr a;

        info->bytes = -1;
        info->capacity = -1;
        if (ch->fd < 0 || mq_getattr((mqd_t)ch->fd, &a) < 0) {
                info->max_messages = ch->config->max_messages;
                info->message_size = ch->config->message_size;
                info->messages = -1;
                return;
        }
        info->live = true;
        info->max_messages = a.mq_maxmsg;
        info->message_size = a.mq_msgsize;
        info->messages = a.mq_curmsgs;
        info->flags = a.mq_flags;
        info->bytes = mq_bytes(ch);
}

static void mq_sample(struct channel *ch, long *messages, long long *bytes, bool *full) {
        struct mq_attr a;

        *bytes = -1; /* the kernel counts no bytes per queue (QSIZE in /dev/mqueue is too dear to read this often) */
        if (mq_getattr((mqd_t)ch->fd, &a) < 0) {
                *messages = -1;
                *full = false;
                return;
        }
        *messages = a.mq_curmsgs;
        *full = a.mq_curmsgs >= a.mq_maxmsg;
}

static long mq_queued(int fd) {
        struct mq_attr a;

        return mq_getattr((mqd_t)fd, &a) < 0 ? -errno : a.mq_curmsgs;
}

static int mq_purge(struct channel *ch, uint64_t *messages, uint64_t *bytes) {
        struct mq_attr a;
        char *buf;

        if (mq_getattr((mqd_t)ch->fd, &a) < 0)
                return -errno;
        buf = malloc((size_t)a.mq_msgsize);
        if (!buf)
                return -ENOMEM;
        /* bounded: never more than the queue can hold at once, plus what races in */
        for (long i = 0; i < a.mq_maxmsg * 2 + 1; i++) {
                ssize_t n = mq_receive((mqd_t)ch->fd, buf, (size_t)a.mq_msgsize, NULL);
                if (n < 0)
                        break;
                (*messages)++;
                *bytes += (uint64_t)n;
        }
        free(buf);
        return 0;
}

const struct channel_ops channel_mq_ops = {
        .kind = "queue",
        .size = sizeof(struct mq_channel),
        .data_needs_holder = false, /* a queue keeps its messages in the kernel */
        .setup = mq_setup,
        .check = mq_check,
        .reconfigure = mq_reconfigure,
        .recreate = mq_recreate,
        .unlink = mq_unlink_ours,
        .open = mq_open_fresh,
        .info = mq_info,
        .purge = mq_purge,
        .queued = mq_queued,
        .sample = mq_sample,
        .move = mq_move,
};
