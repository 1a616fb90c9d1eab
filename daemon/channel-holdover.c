/*
 * channel-holdover.c — kernel objects a channel no longer uses that must
 * stay open: superseded ones, whose messages (and what programs still
 * holding them send) are forwarded into the channel's current object, and
 * retired ones, kept while they hold data that lives only as long as a
 * descriptor is open (see channel.h).
 *
 * A held object whose data needs a holder (a FIFO) is kept in the service
 * manager's descriptor store under a name of its own (fdstore.c) for as long
 * as it is held here, so that a crash loses its data no more than the
 * channel's own FIFO's; it leaves the store when it is let go of while the
 * daemon runs. At stop it stays there: the next start takes it back
 * (channel_holdover_adopt).
 */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "channel.h"
#include "fdstore.h"
#include "log.h"

struct holdover {
        int fd;
        const struct channel_ops *ops;
        char *object;         /* the kernel name or path, for messages */
        struct channel *into; /* forwarded into this channel; NULL: retired, kept until empty */
        char *stored;         /* its name in the service manager's store, NULL when not stored */
};

static struct holdover *held;
static size_t n_held;

/* Let go of held object I; UNSTORE: take it out of the service manager's store too (not at stop). */
static void holdover_drop(size_t i, bool unstore) {
        if (unstore)
                fdstore_remove_held(held[i].stored);
        close(held[i].fd);
        free(held[i].object);
        free(held[i].stored);
        if (held[i].into)
                held[i].into->n_holdovers--;
        memmove(held + i, held + i + 1, (n_held - i - 1) * sizeof(*held));
        n_held--;
}

/*
 * Hold FD; STORED is its name in the store when it is there already (taken
 * back at start), else an object whose data needs a holder is stored now.
 */
static bool holdover_append(int fd, const struct channel_ops *ops, const char *object, struct channel *into,
                            const char *name, const char *stored) {
        struct holdover *n = realloc(held, (n_held + 1) * sizeof(*n));
        char *o = strdup(object), *s = stored ? strdup(stored) : NULL;

        if (!n || !o || (stored && !s)) {
                if (n)
                        held = n;
                free(o);
                free(s);
                return false;
        }
        held = n;
        if (!stored && ops->data_needs_holder)
                s = fdstore_put_held(name, fd);
        held[n_held++] = (struct holdover){ .fd = fd, .ops = ops, .object = o, .into = into, .stored = s };
        if (into)
                into->n_holdovers++;
        return true;
}

static void holdover_forward(const struct holdover *h) {
        if (h->into && h->into->fd >= 0)
                h->ops->move(h->object, h->fd, h->into->fd);
}

/* Make room for one more of CH's: the oldest goes, forwarded once more, then closed. */
static void holdover_make_room(struct channel *ch) {
        if (ch->n_holdovers < CHANNEL_HOLDOVERS_MAX)
                return;
        for (size_t i = 0; i < n_held; i++)
                if (held[i].into == ch) {
                        holdover_forward(&held[i]);
                        holdover_drop(i, true);
                        return;
                }
}

void channel_holdover_add(struct channel *ch, int fd) {
        holdover_make_room(ch);
        if (!holdover_append(fd, ch->ops, channel_config_object(ch->config), ch, ch->config->name, NULL)) {
                log_error("channel '%s': out of memory; closing the %s it replaced", ch->config->name, ch->ops->kind);
                close(fd);
        }
}

void channel_holdover_adopt(struct channel *ch, const char *name, int fd, const char *stored) {
        const struct channel_ops *ops = ch ? ch->ops : &channel_fifo_ops;

        if (ch)
                holdover_make_room(ch);
        if (!holdover_append(fd, ops, ch ? channel_config_object(ch->config) : name, ch, name, stored)) {
                log_error("channel '%s': out of memory; the %s the service manager kept is let go of", name, ops->kind);
                close(fd);
        }
}

bool channel_holdover_retire(struct channel *ch) {
        if (!ch->ops->data_needs_holder || ch->fd < 0 || ch->ops->queued(ch->fd) <= 0)
                return false;
        if (!holdover_append(ch->fd, ch->ops, channel_config_object(ch->config), NULL, ch->config->name, NULL)) {
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
                        holdover_drop(i, true); /* a retired object that is empty now */
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
                holdover_drop(i, true);
        }
}

void channel_holdovers_close_all(void) {
        /* what is stored stays: the next start takes it back */
        while (n_held)
                holdover_drop(n_held - 1, false);
        free(held);
        held = NULL;
}
