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
#include <sys/stat.h>
#include <unistd.h>

#include "channel.h"
#include "log.h"

/*
 * Every channel in memory, so that setup can make sure no two of them hold
 * one kernel object: the configuration compares names, but a FIFO can be
 * reached through a second path (a bind mount, a hard link) and two declared
 * names must not be two doors to one object with different owners and modes.
 */
static struct channel **live;
static size_t n_live;

static int live_add(struct channel *ch) {
        struct channel **n = realloc(live, (n_live + 1) * sizeof(*n));

        if (!n)
                return -ENOMEM;
        live = n;
        live[n_live++] = ch;
        return 0;
}

static void live_remove(struct channel *ch) {
        for (size_t i = 0; i < n_live; i++)
                if (live[i] == ch) {
                        live[i] = live[--n_live];
                        break;
                }
        if (n_live == 0) {
                free(live);
                live = NULL;
        }
}

/*
 * The object CH is about to take (DEV, INO): is it one another channel holds?
 * Then CH is refused, before it changes the object's owner or mode; the other
 * channel keeps it. Called by the channel types before they apply anything.
 */
int channel_claim_object(struct channel *ch, dev_t dev, ino_t ino) {
        for (size_t i = 0; i < n_live; i++) {
                struct channel *o = live[i];
                if (o == ch || o->fd < 0 || o->ops != ch->ops || o->dev != dev || o->ino != ino)
                        continue;
                channel_set_problem(ch, CHANNEL_REFUSED,
                                    "%s %s is the same kernel object (device %llu, inode %llu) as channel '%s''s %s; "
                                    "two channels must not share one: refusing to hand it out",
                                    ch->ops->kind, channel_config_object(ch->config), (unsigned long long)dev,
                                    (unsigned long long)ino, o->config->name, channel_config_object(o->config));
                return CHANNEL_DISTRUSTED;
        }
        return 0;
}

/* The channel types, by the configuration's type: a new type is a file with its ops, and a line here. */
static const struct channel_ops *const channel_types[] = {
        [CHANNEL_MQUEUE] = &channel_mq_ops,
        [CHANNEL_FIFO] = &channel_fifo_ops,
};

int channel_new(const struct channel_config *config, struct channel **ret) {
        const struct channel_ops *ops = channel_types[config->type];
        struct channel *ch = calloc(1, ops->size);

        if (!ch)
                return -ENOMEM;
        if (live_add(ch) < 0) {
                free(ch);
                return -ENOMEM;
        }
        ch->config = config;
        ch->ops = ops;
        ch->fd = -1;
        ch->state = CHANNEL_FAILED;
        ch->stats.messages = -1;
        ch->stats.bytes = -1;
        ch->stats.high_water = -1;
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

static void (*ready_hook)(void *userdata);
static void *ready_hook_userdata;
static void (*object_hook)(struct channel *ch, void *userdata);
static void *object_hook_userdata;

void channel_on_new_object(void (*hook)(struct channel *ch, void *userdata), void *userdata) {
        object_hook = hook;
        object_hook_userdata = userdata;
}

static void channel_new_object(struct channel *ch) {
        if (object_hook)
                object_hook(ch, object_hook_userdata);
}

void channel_on_ready(void (*hook)(void *userdata), void *userdata) {
        ready_hook = hook;
        ready_hook_userdata = userdata;
}

static void channel_set_ready(struct channel *ch) {
        bool was = ch->state == CHANNEL_READY;

        free(ch->problem);
        ch->problem = NULL;
        ch->state = CHANNEL_READY;
        if (!was && ready_hook)
                ready_hook(ready_hook_userdata);
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

/* A failure to apply: the channel's problem at setup, a log line otherwise. */
#define apply_failed(ch, setup, fmt, ...)                                                                              \
        ((setup) ? channel_set_problem((ch), CHANNEL_FAILED, fmt, __VA_ARGS__)                                         \
                 : log_error("channel '%s': " fmt, (ch)->config->name, __VA_ARGS__))

int channel_apply_owner_mode(struct channel *ch, int fd, bool setup) {
        const struct channel_config *c = ch->config;
        struct stat st;

        if (fstat(fd, &st) < 0) {
                int r = -errno;
                apply_failed(ch, setup, "cannot inspect the %s: %s", ch->ops->kind, strerror(-r));
                return r;
        }
        if (st.st_uid != c->owner || st.st_gid != c->group) {
                if (fchown(fd, c->owner, c->group) < 0) {
                        int r = -errno;
                        apply_failed(ch, setup, "cannot set owner %u and group %u: %s", c->owner, c->group,
                                     strerror(-r));
                        return r;
                }
                log_debug("channel '%s': owner set to %u:%u", c->name, c->owner, c->group);
        }
        /* chown may clear bits; always compare again */
        if ((st.st_mode & 07777) != c->mode || st.st_uid != c->owner) {
                if (fchmod(fd, c->mode) < 0) {
                        int r = -errno;
                        apply_failed(ch, setup, "cannot set mode %04o: %s", c->mode, strerror(-r));
                        return r;
                }
        }
        return 0;
}

int channel_setup(struct channel *ch) {
        int r = ch->ops->setup(ch);

        if (r != 0)
                return r; /* the type recorded why */
        channel_set_ready(ch);
        channel_new_object(ch);
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
        switch (r) {
        case CHANNEL_OURS:
                if (ch->state != CHANNEL_READY) {
                        log_notice("channel '%s': the object is ours again", ch->config->name);
                        channel_set_ready(ch);
                }
                return 0;
        case CHANNEL_GONE:
                log_warning("channel '%s': %s %s was deleted behind the daemon's back, recreating it", ch->config->name,
                            ch->ops->kind, channel_config_object(ch->config));
                r = ch->ops->recreate(ch);
                if (r != 0)
                        return r; /* the type recorded why */
                channel_set_ready(ch);
                return 0;
        case CHANNEL_REPLACED:
                if (ch->state != CHANNEL_REFUSED)
                        channel_set_problem(ch, CHANNEL_REFUSED,
                                            "%s %s was replaced by another object; refusing to hand it out",
                                            ch->ops->kind, channel_config_object(ch->config));
                return CHANNEL_DISTRUSTED;
        default:
                channel_set_problem(ch, CHANNEL_FAILED, "cannot check the object: %s", strerror(-r));
                return r;
        }
}

int channel_reconfigure(struct channel *ch, const struct channel_config *config) {
        if (ch->fd < 0) {
                ch->config = config;
                return channel_setup(ch);
        }
        return ch->ops->reconfigure(ch, config);
}

int channel_open(struct channel *ch, int access, struct channel_handle *h) {
        int r;

        if (ch->fd < 0 || ch->state != CHANNEL_READY) {
                r = channel_ensure(ch);
                if (r != 0)
                        return r;
        }
        if (ch->n_holdovers)
                channel_holdovers_forward(ch);
        /* The fresh open verifies identity itself; only a miss needs the full check. */
        r = ch->ops->open(ch, access, h);
        if (r == CHANNEL_GONE || r == CHANNEL_REPLACED) {
                r = channel_ensure(ch);
                if (r != 0)
                        return r;
                r = ch->ops->open(ch, access, h);
                /* lost the race twice: never hand out what was not verified */
                if (r == CHANNEL_GONE)
                        r = -ENOENT;
                else if (r == CHANNEL_REPLACED)
                        r = -ESTALE;
        }
        return r;
}

void channel_supersede(struct channel *ch, int fd) {
        int old = ch->fd;

        /* what does not fit now stays reachable: the old object is held over and forwarded from later */
        ch->ops->move(channel_config_object(ch->config), old, fd);
        ch->fd = fd;
        ch->created = true;
        /*
         * The new object first: it takes over the channel's entry in the
         * service manager's store, which held the old one; the old one is
         * stored under a name of its own after (the store keeps one open
         * file description once, under the name it was first stored with).
         */
        channel_new_object(ch);
        /* programs that hold the old object may still send to it */
        channel_holdover_add(ch, old);
}

void channel_info(struct channel *ch, struct channel_info *info) {
        memset(info, 0, sizeof(*info));
        info->type = (uint32_t)ch->config->type;
        info->framing = -1;
        ch->ops->info(ch, info);
}

bool channel_is_empty(const struct channel *ch) {
        return ch->fd < 0 || ch->ops->queued(ch->fd) <= 0;
}

int channel_purge(struct channel *ch, uint64_t *messages, uint64_t *bytes) {
        int r = channel_ensure(ch);

        *messages = *bytes = 0;
        if (r != 0)
                return r;
        return ch->ops->purge(ch, messages, bytes);
}

void channel_stop(struct channel *ch, bool remove) {
        if (ch->fd < 0)
                return;
        if (remove) {
                int r = ch->ops->check(ch);
                if (r == CHANNEL_OURS) {
                        r = ch->ops->unlink(ch);
                        if (r < 0)
                                log_warning("channel '%s': cannot remove: %s", ch->config->name, strerror(-r));
                        else
                                log_info("channel '%s': removed", ch->config->name);
                } else if (r == CHANNEL_GONE)
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
        channel_holdovers_release(ch);
        live_remove(ch);
        holders_free(&ch->holders);
        if (ch->fd >= 0)
                close(ch->fd);
        free(ch->problem);
        free(ch);
}
