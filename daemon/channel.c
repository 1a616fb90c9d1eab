/*
 * channel.c — the life of a channel, common to both kinds of kernel object:
 * setup (create or adopt), the ownership check that guards every hand-out,
 * recovery when the object is deleted behind our back, reconfiguration on
 * reload and the stop policy.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "channel.h"
#include "log.h"

/* Hand out the FIFO framing and message size the configuration says. */
static void fifo_take_config(struct channel *ch, const struct channel_config *config) {
        ch->framing = config->framing;
        ch->fifo_msgsize = config->message_size;
}

/*
 * Every live channel, so that setup can make sure no two of them hold one
 * kernel object: the configuration compares names, but a FIFO can be reached
 * through a second path (a bind mount, a hard link) and two declared names
 * must not be two doors to one object with different owners and modes.
 */
static struct channel **all_channels;
static size_t n_all_channels;

static int registry_add(struct channel *ch) {
        struct channel **n = realloc(all_channels, (n_all_channels + 1) * sizeof(*n));

        if (!n)
                return -ENOMEM;
        all_channels = n;
        all_channels[n_all_channels++] = ch;
        return 0;
}

static void registry_remove(struct channel *ch) {
        for (size_t i = 0; i < n_all_channels; i++)
                if (all_channels[i] == ch) {
                        all_channels[i] = all_channels[--n_all_channels];
                        break;
                }
        if (n_all_channels == 0) {
                free(all_channels);
                all_channels = NULL;
        }
}

static const char *object_kind(const struct channel *ch) {
        return ch->config->type == CHANNEL_MQUEUE ? "queue" : "FIFO";
}

static const char *object_name(const struct channel_config *c) {
        return c->type == CHANNEL_MQUEUE ? c->mq_name : c->path;
}

/*
 * The object CH is about to take (DEV, INO): is it one another channel holds?
 * Then CH is refused, before it changes the object's owner or mode; the other
 * channel keeps it. Called by the channel types before they apply anything.
 */
int channel_claim_object(struct channel *ch, dev_t dev, ino_t ino) {
        for (size_t i = 0; i < n_all_channels; i++) {
                struct channel *o = all_channels[i];
                if (o == ch || o->fd < 0 || o->config->type != ch->config->type || o->dev != dev || o->ino != ino)
                        continue;
                channel_set_problem(ch, CHANNEL_REFUSED,
                                    "%s %s is the same kernel object (device %llu, inode %llu) as channel '%s''s %s; "
                                    "two channels must not share one: refusing to hand it out",
                                    object_kind(ch), object_name(ch->config), (unsigned long long)dev,
                                    (unsigned long long)ino, o->config->name, object_name(o->config));
                return -EEXIST;
        }
        return 0;
}

int channel_new(const struct channel_config *config, struct channel **ret) {
        struct channel *ch = calloc(1, sizeof(*ch));

        if (!ch)
                return -ENOMEM;
        if (registry_add(ch) < 0) {
                free(ch);
                return -ENOMEM;
        }
        ch->config = config;
        fifo_take_config(ch, config);
        ch->ops = config->type == CHANNEL_FIFO ? &channel_fifo_ops : &channel_mq_ops;
        ch->fd = -1;
        ch->state = CHANNEL_FAILED;
        *ret = ch;
        return 0;
}

void channel_set_problem(struct channel *ch, enum channel_state state, const char *fmt, ...) {
        char *s = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        /* the same problem again (a retry) is not news */
        if (s && ch->problem && streq(s, ch->problem) && ch->state == state)
                log_debug("channel '%s': still: %s", ch->config->name, s);
        else
                log_error("channel '%s': %s", ch->config->name, s ? s : "unusable");
        free(ch->problem);
        ch->problem = s;
        ch->state = state;
}

static void channel_set_ready(struct channel *ch) {
        free(ch->problem);
        ch->problem = NULL;
        ch->state = CHANNEL_READY;
}

void channel_keep_orphan(struct channel *ch, int fd) {
        if (ch->n_orphans == CHANNEL_ORPHANS_MAX) {
                /* the oldest goes: drained once more, then closed */
                channel_drain_orphans(ch);
                close(ch->orphans[0]);
                memmove(ch->orphans, ch->orphans + 1, (CHANNEL_ORPHANS_MAX - 1) * sizeof(int));
                ch->n_orphans--;
        }
        ch->orphans[ch->n_orphans++] = fd;
}

void channel_drain_orphans(struct channel *ch) {
        if (ch->fd < 0)
                return;
        for (size_t i = 0; i < ch->n_orphans; i++) {
                if (ch->config->type == CHANNEL_MQUEUE)
                        channel_mq_move(ch->config->mq_name, ch->orphans[i], ch->fd);
                else
                        channel_fifo_move(ch->config->path, ch->orphans[i], ch->fd);
        }
}

int channel_access_flags(int access) {
        if (access == (CHANNEL_ACCESS_SEND | CHANNEL_ACCESS_RECV))
                return O_RDWR;
        return access == CHANNEL_ACCESS_SEND ? O_WRONLY : O_RDONLY;
}

bool channel_owner_trusted(const struct channel *ch, uid_t uid) {
        /* Ours: created by the daemon, or by the declared owner (who controls it anyway). */
        return uid == geteuid() || uid == ch->config->owner;
}

int channel_apply_owner_mode(struct channel *ch, int fd) {
        const struct channel_config *c = ch->config;
        struct stat st;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (st.st_uid != c->owner || st.st_gid != c->group) {
                if (fchown(fd, c->owner, c->group) < 0) {
                        int r = -errno;
                        log_error("channel '%s': cannot set owner %u and group %u: %s", c->name, c->owner, c->group,
                                  strerror(-r));
                        return r;
                }
                if (st.st_uid != c->owner || st.st_gid != c->group)
                        log_debug("channel '%s': owner set to %u:%u", c->name, c->owner, c->group);
        }
        /* chown may clear bits; always compare again */
        if ((st.st_mode & 07777) != c->mode || st.st_uid != c->owner) {
                if (fchmod(fd, c->mode) < 0) {
                        int r = -errno;
                        log_error("channel '%s': cannot set mode %04o: %s", c->name, c->mode, strerror(-r));
                        return r;
                }
        }
        return 0;
}

int channel_setup(struct channel *ch) {
        int r = ch->ops->setup(ch);

        if (r < 0) {
                if (ch->state == CHANNEL_READY || !ch->problem)
                        channel_set_problem(ch, CHANNEL_FAILED, "%s", strerror(-r));
                return r;
        }
        channel_set_ready(ch);
        return 0;
}

int channel_ensure(struct channel *ch) {
        int r;

        /*
         * An unavailable channel is set up again on every use: an attempt is a
         * handful of system calls, a repeated failure is logged once (see
         * channel_set_problem), and the admin who cleared the obstacle away
         * sees the channel work at once.
         */
        if (ch->fd < 0)
                return channel_setup(ch);

        r = ch->ops->check(ch);
        if (r == 0) {
                if (ch->state != CHANNEL_READY) {
                        log_notice("channel '%s': the object is ours again", ch->config->name);
                        channel_set_ready(ch);
                }
                return 0;
        }
        if (r == -ENOENT) {
                log_warning("channel '%s': %s %s was deleted behind the daemon's back, recreating it", ch->config->name,
                            ch->config->type == CHANNEL_MQUEUE ? "queue" : "FIFO",
                            ch->config->type == CHANNEL_MQUEUE ? ch->config->mq_name : ch->config->path);
                r = ch->ops->recreate(ch);
                if (r < 0) {
                        channel_set_problem(ch, CHANNEL_FAILED, "cannot recreate: %s", strerror(-r));
                        return r;
                }
                channel_set_ready(ch);
                return 0;
        }
        if (r == -EEXIST) {
                if (ch->state != CHANNEL_REFUSED)
                        channel_set_problem(
                                ch, CHANNEL_REFUSED, "%s %s was replaced by another object; refusing to hand it out",
                                ch->config->type == CHANNEL_MQUEUE ? "queue" : "FIFO",
                                ch->config->type == CHANNEL_MQUEUE ? ch->config->mq_name : ch->config->path);
                return -EEXIST;
        }
        channel_set_problem(ch, CHANNEL_FAILED, "cannot check the object: %s", strerror(-r));
        return r;
}

/*
 * Queued FIFO packets carry no mark of their framing, and a receiver refuses
 * one longer than the channel's message size: a framing change or a smaller
 * message size, read by handles opened after it, would lose what is queued.
 * Apply those only while the FIFO is empty, as a queue is resized only while
 * empty; until then keep handing out the old ones.
 */
static void fifo_reconfigure(struct channel *ch, const struct channel_config *config) {
        bool framing = ch->framing != config->framing;
        bool shrink = config->message_size < ch->fifo_msgsize;
        int queued = 0;

        if (!framing && !shrink) {
                ch->fifo_msgsize = config->message_size; /* growing is always safe */
                return;
        }
        if (ioctl(ch->fd, FIONREAD, &queued) < 0 || queued > 0) {
                if (framing)
                        log_warning("channel '%s': FIFO holds %d bytes; keeping %s framing instead of %s until it "
                                    "is empty at a later reload",
                                    config->name, queued, framing_to_string(ch->framing),
                                    framing_to_string(config->framing));
                if (shrink)
                        log_warning("channel '%s': FIFO holds %d bytes; keeping messages of up to %ld bytes instead "
                                    "of %ld until it is empty at a later reload",
                                    config->name, queued, ch->fifo_msgsize, config->message_size);
                if (!shrink)
                        ch->fifo_msgsize = config->message_size;
                return;
        }
        if (framing)
                log_warning("channel '%s': framing changed from %s to %s; handles opened before the reload keep the "
                            "old framing until they are opened again",
                            config->name, framing_to_string(ch->framing), framing_to_string(config->framing));
        fifo_take_config(ch, config);
}

int channel_reconfigure(struct channel *ch, const struct channel_config *config) {
        ch->config = config;
        if (ch->fd < 0) {
                fifo_take_config(ch, config);
                return channel_setup(ch);
        }
        if (config->type == CHANNEL_FIFO)
                fifo_reconfigure(ch, config);
        return ch->ops->apply(ch);
}

int channel_open(struct channel *ch, int access, int *ret_fd) {
        int r;

        if (ch->fd < 0 || ch->state != CHANNEL_READY) {
                r = channel_ensure(ch);
                if (r < 0)
                        return r;
        }
        if (ch->n_orphans)
                channel_drain_orphans(ch);
        /* The fresh open verifies identity itself; only a miss needs the full check. */
        r = ch->ops->open(ch, access, ret_fd);
        if (r == -ENOENT || r == -ESTALE) {
                r = channel_ensure(ch);
                if (r < 0)
                        return r;
                r = ch->ops->open(ch, access, ret_fd);
        }
        return r;
}

int channel_info(struct channel *ch, struct channel_info *info) {
        memset(info, 0, sizeof(*info));
        if (ch->fd < 0)
                return -ENODEV;
        return ch->ops->info(ch, info);
}

int channel_purge(struct channel *ch, uint64_t *messages, uint64_t *bytes) {
        int r = channel_ensure(ch);

        *messages = *bytes = 0;
        if (r < 0)
                return r;
        return ch->ops->purge(ch, messages, bytes);
}

void channel_stop(struct channel *ch, bool remove) {
        if (ch->fd < 0)
                return;
        if (remove) {
                int r = ch->ops->check(ch);
                if (r == 0) {
                        r = ch->ops->unlink(ch);
                        if (r < 0)
                                log_warning("channel '%s': cannot remove: %s", ch->config->name, strerror(-r));
                        else
                                log_info("channel '%s': removed", ch->config->name);
                } else if (r == -ENOENT)
                        log_info("channel '%s': already gone", ch->config->name);
                else
                        log_warning("channel '%s': not removed: the object under its name is not the daemon's",
                                    ch->config->name);
        }
        close(ch->fd);
        ch->fd = -1;
}

void channel_free(struct channel *ch) {
        if (!ch)
                return;
        registry_remove(ch);
        for (size_t i = 0; i < ch->n_orphans; i++)
                close(ch->orphans[i]);
        if (ch->fd >= 0)
                close(ch->fd);
        free(ch->problem);
        free(ch);
}
