/*
 * channel.h — one declared channel and the kernel object behind it.
 *
 * A channel owns one descriptor on its kernel object (a message queue
 * descriptor, or the FIFO held open read-write) and remembers the object's
 * identity (device and inode). That identity is how the daemon tells its own
 * object from one deleted, replaced or squatted behind its back: a descriptor
 * is only ever handed out after it was checked against it.
 *
 * Everything that depends on the kind of object is in the type's file
 * (channel-mq.c, channel-fifo.c), behind struct channel_ops; so is the
 * type's own state, in a struct that begins with struct channel. channel.c
 * holds the life both kinds share, channel-holdover.c the objects a channel
 * no longer uses but that must stay open.
 *
 * Who reports: an operation that fails records why in the channel
 * (channel_set_problem, which logs it once) or, where the channel stays
 * usable, logs it itself; callers only look at the result.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "holders.h"
#include "protocol.h"

/* The wire's values (common/protocol.h): sent as they are. */
enum channel_state {
        CHANNEL_READY = WIRE_STATE_READY,     /* the object exists, verified; fd is ours */
        CHANNEL_REFUSED = WIRE_STATE_REFUSED, /* the name is taken by an object we do not trust */
        CHANNEL_FAILED = WIRE_STATE_FAILED,   /* creating the object failed (limits, permissions) */
};

/* the daemon's names for the wire's values (common/protocol.h defines them); the access bits are in policy.h */
_Static_assert(CHANNEL_NAME_MAX == WIRE_NAME_MAX, "channel name limit");

/*
 * The expected outcomes of the channel operations, by name; a negative errno
 * is a system call that failed. What a check or a fresh open finds at the
 * channel's name: the object is ours (0), gone, or another object took the
 * name. What setting a channel up, checking, reconfiguring, opening or
 * purging it comes to when the object under its name is one the daemon will
 * not hand out (another user's, not as declared, replaced, another channel's):
 * CHANNEL_DISTRUSTED, the channel REFUSED with its problem recorded.
 */
enum channel_outcome {
        CHANNEL_OURS,
        CHANNEL_GONE,
        CHANNEL_REPLACED,
        CHANNEL_DISTRUSTED,
        _CHANNEL_OUTCOME_MAX, /* a type's own outcomes, private to its file, follow */
};

/* What stat and list show of a channel; -1 where a value does not apply or is not known. */
struct channel_info {
        uint32_t type;     /* WIRE_CHANNEL_* */
        int framing;       /* WIRE_FRAMING_*, FIFOs only */
        bool live;         /* read from the object (else what the configuration declares) */
        long max_messages; /* mqueue: mq_maxmsg; fifo: capacity / message_size */
        long message_size;
        long messages;   /* queued now */
        long long bytes; /* bytes queued now */
        long flags;      /* mqueue: mq_flags of the daemon's descriptor */
        long capacity;   /* fifo: pipe buffer size in effect */
};

/* What an open hands out: the descriptor and what the library needs to use it. */
struct channel_handle {
        int fd;
        uint32_t type;     /* WIRE_CHANNEL_* */
        long max_messages; /* -1 where it does not apply */
        long message_size;
        int framing; /* WIRE_FRAMING_*, or -1 */
};

/* What the daemon keeps about a channel's use (sampler.c, request.c). */
struct channel_stats {
        long messages;        /* at the last sample; -1 unknown */
        long long bytes;      /* at the last sample; -1 unknown */
        long long high_water; /* most queued since start: messages (queues) or bytes (FIFOs); -1 none yet */
        bool full;            /* at the last sample */
        double full_since;    /* when it became full (the loop's clock) */
        uint64_t full_ms;     /* time full, of the periods that ended */
        uint64_t full_events; /* times it became full */
        uint64_t full_alerts; /* alert_full_after warnings */
        bool alerted;         /* this full period was warned about */
        uint64_t opens[2];    /* granted: [0] with send, [1] with receive */
        uint64_t denied[2];   /* denied: [0] asked for send, [1] asked for receive */
};

struct channel;

struct channel_ops {
        const char *kind; /* "queue", "FIFO": for messages */
        size_t size;      /* of the type's struct, which begins with struct channel */
        /* the data lives only while a descriptor is open (a pipe): withdrawing must not drop it */
        bool data_needs_holder;
        /*
         * setup, reconfigure, recreate: 0, CHANNEL_DISTRUSTED or a negative
         * errno, reported as the channel's functions below say.
         */
        /* Create the object, or adopt an existing one that is ours; sets fd, dev, ino. */
        int (*setup)(struct channel *ch);
        /* What is at the channel's name now: CHANNEL_OURS, GONE or REPLACED, or a negative errno. */
        int (*check)(struct channel *ch);
        /* Switch to NEXT (reload): owner, group, mode, sizes; what cannot change yet waits. */
        int (*reconfigure)(struct channel *ch, const struct channel_config *next);
        /* The name is gone: create a new object and move queued messages into it. */
        int (*recreate)(struct channel *ch);
        /* Unlink the object's name, if it is still ours. */
        int (*unlink)(struct channel *ch);
        /* Open a fresh descriptor with the given access, verified to be ours; CHANNEL_GONE or REPLACED on a miss. */
        int (*open)(struct channel *ch, int access, struct channel_handle *h);
        /* Fill INFO from the object (fd >= 0) or from the configuration. */
        void (*info)(struct channel *ch, struct channel_info *info);
        /* Drop queued messages; report how many and how many bytes. */
        int (*purge)(struct channel *ch, uint64_t *messages, uint64_t *bytes);
        /* How much FD holds (messages, or bytes for a pipe): >= 0, or a negative errno. */
        long (*queued)(int fd);
        /* What the object holds now (-1 where unknown), and whether it is full: cheap, for every sample. */
        void (*sample)(struct channel *ch, long *messages, long long *bytes, bool *full);
        /* Move what FROM holds into TO, as far as TO has room; the rest stays in FROM. */
        void (*move)(const char *name, int from, int to);
};

struct channel {
        const struct channel_config *config; /* points into the configuration in force */
        const struct channel_ops *ops;
        enum channel_state state;
        char *problem; /* why the channel is not READY, for logs and status */
        int fd;        /* our descriptor on the object, -1 when none */
        dev_t dev;
        ino_t ino;
        bool created;       /* we created the object (not adopted) in this run */
        size_t n_holdovers; /* earlier objects of this channel forwarded into it (channel-holdover.c) */
        /* counters */
        uint64_t opens;
        uint64_t denials;
        struct channel_stats stats;
        double waited_at;       /* the loop's clock when a WAIT last tried to recover it */
        struct holders holders; /* who was given it */
};

extern const struct channel_ops channel_mq_ops;
extern const struct channel_ops channel_fifo_ops;

int channel_new(const struct channel_config *config, struct channel **ret);
/* Close our descriptor; with REMOVE also unlink the object (if it is still ours). */
void channel_stop(struct channel *ch, bool remove);
void channel_free(struct channel *ch);

/* HOOK(USERDATA) is called whenever a channel becomes READY (set up, recovered). */
void channel_on_ready(void (*hook)(void *userdata), void *userdata);

/* HOOK(CH, USERDATA) is called whenever CH takes a new object (set up, recreated, resized): a new descriptor. */
void channel_on_new_object(void (*hook)(struct channel *ch, void *userdata), void *userdata);

/*
 * Setup, ensure, reconfigure, open and purge return 0 when the channel is
 * READY and the operation done, else CHANNEL_DISTRUSTED (the channel is
 * REFUSED) or a negative errno. Either was reported where it happened: as
 * the channel's problem, or logged where the channel stays usable.
 */
/* Create or adopt the object. */
int channel_setup(struct channel *ch);
/*
 * Make sure the object is still ours: recreate it when deleted (keeping its
 * messages), refuse it when replaced.
 */
int channel_ensure(struct channel *ch);
/* Switch to a new configuration of the same name and object (reload). */
int channel_reconfigure(struct channel *ch, const struct channel_config *config);

/* A failure of the open itself on a READY channel is a negative errno, without a problem recorded. */
int channel_open(struct channel *ch, int access, struct channel_handle *h);
/* Fill INFO; info->live says whether it comes from the object. */
void channel_info(struct channel *ch, struct channel_info *info);
/* Does the object hold nothing (or is there no object)? */
bool channel_is_empty(const struct channel *ch);
int channel_purge(struct channel *ch, uint64_t *messages, uint64_t *bytes);

/*
 * The types' recreate and resize: FD, a new object the channel took under its
 * name, replaces the one it held, whose messages are moved into FD and which
 * is held over (see below).
 */
void channel_supersede(struct channel *ch, int fd);

/* open(2) flags for CHANNEL_ACCESS_* bits: only the access granted. */
int channel_access_flags(int access);

/* Record why a channel is unusable (and log it, once while it stays the same). */
void channel_set_problem(struct channel *ch, enum channel_state state, const char *fmt, ...) _printf_(3, 4);

/*
 * Give the object behind FD the configured owner, group and mode. On failure
 * the channel's problem is set when SETUP (the object is not handed out),
 * else the failure is logged and the channel stays as it was.
 */
int channel_apply_owner_mode(struct channel *ch, int fd, bool setup);
/*
 * Before a channel takes the object DEV/INO (adopts or recreates it): no other
 * channel may hold that object. Returns 0, or CHANNEL_DISTRUSTED with the channel refused.
 */
int channel_claim_object(struct channel *ch, dev_t dev, ino_t ino);
/* Is an existing object with this owner one we may adopt? */
bool channel_owner_trusted(const struct channel *ch, uid_t uid);

/*
 * Objects a channel no longer uses that must stay open (channel-holdover.c).
 *
 * A superseded object (deleted and recreated, or replaced by a resized one)
 * may still be held by programs that go on sending to it: it is kept and
 * what it holds is forwarded into the channel's current object, at most
 * CHANNEL_HOLDOVERS_MAX per channel. A retired object (its channel was
 * withdrawn, or the channel went away) whose data lives only while it is
 * open (a FIFO) is kept until it is empty. Such objects are also kept in the
 * service manager's descriptor store while they are held (fdstore.h).
 */
#define CHANNEL_HOLDOVERS_MAX 4
void channel_holdover_add(struct channel *ch, int fd);
/*
 * At start: FD, a FIFO of channel NAME that the service manager kept as
 * STORED (its name in the store; NULL: store it now), is held again:
 * forwarded into CH, or with CH NULL retired, kept until empty.
 */
void channel_holdover_adopt(struct channel *ch, const char *name, int fd, const char *stored);
/* CH is withdrawn: keep holding its object while it holds data that needs a holder. */
bool channel_holdover_retire(struct channel *ch); /* true: it is kept */
/* Forward into CH what its superseded objects hold. */
void channel_holdovers_forward(struct channel *ch);
/* Forward into every channel; let go of retired objects that are empty. */
void channel_holdovers_run(void);
/* CH goes away: its superseded objects are retired or closed. */
void channel_holdovers_release(struct channel *ch);
/* Stop: close every object held over. */
void channel_holdovers_close_all(void);
