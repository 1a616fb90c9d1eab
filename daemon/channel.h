/*
 * channel.h — one declared channel and the kernel object behind it.
 *
 * A channel owns one descriptor on its kernel object (a message queue
 * descriptor, or the FIFO held open read-write) and remembers the object's
 * identity (device and inode). That identity is how the daemon tells its own
 * object from one deleted, replaced or squatted behind its back: a descriptor
 * is only ever handed out after it was checked against it.
 *
 * The type-specific work is in channel-mq.c and channel-fifo.c, behind
 * struct channel_ops; channel.c holds what both share.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "config.h"
#include "protocol.h"

enum channel_state {
        CHANNEL_READY,   /* the object exists, verified; fd is ours */
        CHANNEL_REFUSED, /* the name is taken by an object we do not trust */
        CHANNEL_FAILED,  /* creating the object failed (limits, permissions) */
};

/* Access bits of an open request. */
enum {
        CHANNEL_ACCESS_SEND = 1,
        CHANNEL_ACCESS_RECV = 2,
};

/* the daemon's names for the wire's values (common/protocol.h defines them) */
_Static_assert((int)CHANNEL_ACCESS_SEND == (int)WIRE_ACCESS_SEND && (int)CHANNEL_ACCESS_RECV == (int)WIRE_ACCESS_RECV,
               "access bits");
_Static_assert(CHANNEL_NAME_MAX == WIRE_NAME_MAX, "channel name limit");

struct channel_info {
        long max_messages; /* mqueue: mq_maxmsg; fifo: capacity / message_size */
        long message_size;
        long messages;   /* queued now (fifo: -1 when unknown) */
        long long bytes; /* bytes queued now (mqueue: -1 when unknown) */
        long flags;      /* mqueue: mq_flags of the daemon's descriptor */
        long capacity;   /* fifo: pipe buffer size in effect */
};

#define CHANNEL_ORPHANS_MAX 4

struct channel;

struct channel_ops {
        /* Create the object, or adopt an existing one that is ours; sets fd, dev, ino. */
        int (*setup)(struct channel *ch);
        /*
         * Check that the object at the channel's name is still the one we hold:
         * 0 when it is, -ENOENT when it is gone, -EEXIST when another object
         * took the name.
         */
        int (*check)(struct channel *ch);
        /* Apply owner, group, mode (and fifo capacity) from the configuration. */
        int (*apply)(struct channel *ch);
        /* The name is gone: create a new object and move queued messages into it. */
        int (*recreate)(struct channel *ch);
        /* Unlink the object's name, if it is still ours. */
        int (*unlink)(struct channel *ch);
        /* Open a fresh descriptor with the given access, verified to be ours. */
        int (*open)(struct channel *ch, int access, int *ret_fd);
        int (*info)(struct channel *ch, struct channel_info *info);
        /* Drop queued messages; report how many and how many bytes. */
        int (*purge)(struct channel *ch, uint64_t *messages, uint64_t *bytes);
};

struct channel {
        const struct channel_config *config; /* points into the broker's current config */
        const struct channel_ops *ops;
        enum channel_state state;
        char *problem; /* why the channel is not READY, for logs and status */
        int fd;        /* our descriptor on the object, -1 when none */
        dev_t dev;
        ino_t ino;
        /* queues: the attributes of the object we hold (they lag the config while a resize waits) */
        long mq_maxmsg;
        long mq_msgsize;
        /* FIFOs: the framing and message size handed out (a change that could make queued
         * packets unreadable waits until the FIFO is empty) */
        enum fifo_framing framing;
        long fifo_msgsize;
        bool created;                    /* we created the object (not adopted) in this run */
        bool capacity_warned;            /* FIFOs: setting the capacity failed, and that was logged */
        time_t capacity_noticed;         /* FIFOs: when a restored capacity was last logged */
        unsigned long capacity_restores; /* restores since then */
        /* earlier objects of this channel (deleted or resized) that programs may still hold */
        int orphans[CHANNEL_ORPHANS_MAX];
        size_t n_orphans;
        /* counters */
        uint64_t opens;
        uint64_t denials;
};

extern const struct channel_ops channel_mq_ops;
extern const struct channel_ops channel_fifo_ops;

int channel_new(const struct channel_config *config, struct channel **ret);
/* Close our descriptor; with on_stop=remove also unlink the object. */
void channel_stop(struct channel *ch, bool remove);
void channel_free(struct channel *ch);

/* Create or adopt the object, logging what happened. */
int channel_setup(struct channel *ch);
/*
 * Make sure the object is still ours: recreate it when deleted (keeping its
 * messages), refuse it when replaced. Returns 0 when the channel is READY.
 */
int channel_ensure(struct channel *ch);
/* Switch to a new configuration of the same name (reload). */
int channel_reconfigure(struct channel *ch, const struct channel_config *config);

int channel_open(struct channel *ch, int access, int *ret_fd);
int channel_info(struct channel *ch, struct channel_info *info);
int channel_purge(struct channel *ch, uint64_t *messages, uint64_t *bytes);

/*
 * Keep an earlier object open after it was replaced: its messages (and what
 * programs holding it still send) are moved into the current object by
 * channel_drain_orphans(). At most CHANNEL_ORPHANS_MAX are kept per channel.
 */
void channel_keep_orphan(struct channel *ch, int fd);
void channel_drain_orphans(struct channel *ch);
/* Move what an old object holds into the new one; returns what stays in the old. */
long channel_mq_move(const char *name, int old_fd, int new_fd);
long channel_fifo_move(const char *path, int old_fd, int new_fd);

/* open(2) flags for CHANNEL_ACCESS_* bits: only the access granted. */
int channel_access_flags(int access);

/* Record why a channel is unusable (and log it loudly). */
void channel_set_problem(struct channel *ch, enum channel_state state, const char *fmt, ...) _printf_(3, 4);

/* Do the descriptor's owner and mode already match the configuration? Fixes drift. */
int channel_apply_owner_mode(struct channel *ch, int fd);
/*
 * Before a channel takes the object DEV/INO (adopts or recreates it): no other
 * channel may hold that object. Returns 0, or -EEXIST with the channel refused.
 */
int channel_claim_object(struct channel *ch, dev_t dev, ino_t ino);
/* Is an existing object with this owner one we may adopt? */
bool channel_owner_trusted(const struct channel *ch, uid_t uid);
