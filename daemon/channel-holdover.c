/*
 * channel-holdover.c — kernel objects a channel no longer uses that must
 * stay open: superseded ones, whose messages (and what programs still
 * holding them send) are forwarded into the channel's current object, and
 * retired ones, kept while they hold data that lives only as long as a
 * descriptor is open (see channel.h).
 */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "channel.h"
#include "log.h"

struct holdover {
        int fd;
        const struct channel_ops *ops;
        char *object;         /* the kernel name or path, for messages */
        struct channel *into; /* forwarded into this channel; NULL: retired, kept until empty */
};

static struct holdover *held;
static size_t n_held;

static void holdover_drop(size_t i) {
        close(held[i].fd);
        free(held[i].object);
        if (held[i].into)
                held[i].into->n_holdovers--;
        memmove(held + i, held + i + 1, (n_held - i - 1) * sizeof(*held));
        n_held--;
}

static bool holdover_append(int fd, const struct channel_ops *ops, const char *object, struct channel *into) {
        struct holdover *n = realloc(held, (n_held + 1) * sizeof(*n));
        char *o = strdup(object);

        if (!n || !o) {
                if (n)
                        held = n;
                free(o);
                return false;
        }
        held = n;
        held[n_held++] = (struct holdover){ .fd = fd, .ops = ops, .object = o, .into = into };
        if (into)
                into->n_holdovers++;
        return true;
}

static void holdover_forward(const struct holdover *h) {
        if (h->into && h->into->fd >= 0)
                h->ops->move(h->object, h->fd, h->into->fd);
}

void channel_holdover_add(struct channel *ch, int fd) {
        if (ch->n_holdovers == CHANNEL_HOLDOVERS_MAX)
                for (size_t i = 0; i < n_held; i++)
                        if (held[i].into == ch) {
                                /* the oldest goes: forwarded once more, then closed */
                                holdover_forward(&held[i]);
                                holdover_drop(i);
                                break;
                        }
        if (!holdover_append(fd, ch->ops, channel_config_object(ch->config), ch)) {
                log_error("channel '%s': out of memory; closing the %s it replaced", ch->config->name, ch->ops->kind);
                close(fd);
        }
}

bool channel_holdover_retire(struct channel *ch) {
        if (!ch->ops->data_needs_holder || ch->fd < 0 || ch->ops->queued(ch->fd) <= 0)
                return false;
        if (!holdover_append(ch->fd, ch->ops, channel_config_object(ch->config), NULL)) {
                log_error("channel '%s': out of memory; the data in %s %s is lost when it is closed", ch->config->name,
                          ch->ops->kind, channel_config_object(ch->config));
                return false;
        }
        log_info("channel '%s': keeping %s %s open so the data in it is not lost", ch->config->name, ch->ops->kind,
                 channel_config_object(ch->config));
        ch->fd = -1;
        return true;
}

void channel_holdovers_forward(struct channel *ch) {
        for (size_t i = 0; i < n_held; i++)
                if (held[i].into == ch)
                        holdover_forward(&held[i]);
}

void channel_holdovers_run(void) {
        for (size_t i = 0; i < n_held;) {
                if (held[i].into)
                        holdover_forward(&held[i]);
                else if (held[i].ops->queued(held[i].fd) == 0) {
                        holdover_drop(i); /* a retired object that is empty now */
                        continue;
                }
                i++;
        }
}

void channel_holdovers_release(struct channel *ch) {
        for (size_t i = 0; i < n_held && ch->n_holdovers;) {
                if (held[i].into != ch) {
                        i++;
                        continue;
                }
                if (ch->ops->data_needs_holder && ch->ops->queued(held[i].fd) > 0) {
                        held[i].into = NULL; /* retired: kept while its data lives */
                        ch->n_holdovers--;
                        i++;
                        continue;
                }
                holdover_drop(i);
        }
}

void channel_holdovers_close_all(void) {
        while (n_held)
                holdover_drop(n_held - 1);
        free(held);
        held = NULL;
}
