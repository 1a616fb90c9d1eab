/*
 * config.h — the daemon's configuration: the INI file, its drop-ins, and the
 * validated, fully resolved model the rest of the daemon works from.
 *
 * config.c is the model. INI syntax is known to config-parser.c alone;
 * config-files.c, config-keys.c, config-load.c and config-values.c (see
 * config-internal.h) turn what it reads into the model, and nothing outside
 * these files knows about the configuration file. A loaded struct config
 * is complete: every default applied, every user and group resolved, every
 * kernel name and FIFO path computed, channels sorted by name.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "config-errors.h"
#include "principal.h"
#include "protocol.h"
#include "util.h"

#define CHANNEL_NAME_MAX 128
#define CONFIG_MQ_NAME_MAX 255 /* NAME_MAX, without the leading '/' */

/* Kernel hard maxima (include/linux/ipc_namespace.h): no privilege exceeds these. */
#define MQ_HARD_MSGMAX 65536L
#define MQ_HARD_MSGSIZEMAX (16L * 1024 * 1024)
#define FIFO_CAPACITY_MAX (1L << 30)

/* Defaults: what mq_open() without attributes and a new pipe give. */
#define DEFAULT_MQ_MAX_MESSAGES 10L
#define DEFAULT_MQ_MESSAGE_SIZE 8192L
#define DEFAULT_FIFO_CAPACITY 65536L
#define DEFAULT_MODE 0600
#define DEFAULT_SOCKET_MODE 0666
#define DEFAULT_MAX_CLIENTS 1024
#define DEFAULT_MAX_CLIENTS_PER_USER 128
#define DEFAULT_IDLE_TIMEOUT 60
#define DEFAULT_MAX_CONNECTION_AGE 300
#define DEFAULT_SAMPLE_INTERVAL_MS 1000
#define DEFAULT_MQ_PREFIX "/ipcbroker."

enum channel_type {
        CHANNEL_MQUEUE = WIRE_CHANNEL_MQUEUE,
        CHANNEL_FIFO = WIRE_CHANNEL_FIFO,
        _CHANNEL_TYPE_MAX,
};

enum on_stop {
        ON_STOP_KEEP,
        ON_STOP_REMOVE,
        _ON_STOP_MAX,
};

enum fifo_framing {
        FRAMING_PACKET = WIRE_FRAMING_PACKET, /* one pipe packet is one message: plain programs can share the FIFO */
        FRAMING_BATCH = WIRE_FRAMING_BATCH,   /* packets hold length-prefixed records: several messages per write */
        _FRAMING_MAX,
};

/* The values' names as the configuration file spells them, indexed by the enum (a gap is NULL): config.c. */
extern const char *const channel_type_names[_CHANNEL_TYPE_MAX];
extern const char *const on_stop_names[_ON_STOP_MAX];
extern const char *const framing_names[_FRAMING_MAX];

struct channel_config {
        char *name;
        enum channel_type type;
        uid_t owner;
        gid_t group;
        mode_t mode;
        struct principal_list send;
        struct principal_list recv;
        char *send_text; /* the lists for humans, formatted once at load (no lookups at request time) */
        char *recv_text;
        long max_messages;  /* mqueue: mq_maxmsg */
        long message_size;  /* largest message in bytes */
        long capacity;      /* fifo: pipe buffer bytes */
        char *mq_name;      /* mqueue: kernel name, "/..." */
        char *path;         /* fifo: absolute path */
        bool explicit_name; /* mq_name or path was set, rather than derived */
        enum on_stop on_stop;
        enum fifo_framing framing;         /* fifo only */
        unsigned long alert_full_after_ms; /* warn when full this long; 0 = never */
        /* where the channel was declared, for messages */
        char *file;
        unsigned line;
};

struct config {
        char *file; /* the main configuration file */
        char *socket;
        mode_t socket_mode;
        char *runtime_dir;
        char *mq_prefix;
        struct principal_list admins;
        unsigned max_clients;
        unsigned max_clients_per_user; /* connections one uid may hold (root exempt) */
        unsigned idle_timeout;         /* seconds a connection may stay silent */
        unsigned max_connection_age;   /* seconds a connection may last at all */
        char *include;
        int log_level;                    /* syslog priority */
        unsigned long sample_interval_ms; /* between depth samples; 0 = no sampling */

        struct channel_config **channels; /* sorted by name */
        size_t n_channels;
};

/* Built-in paths; overridable so tests need not touch the system's. */
struct config_defaults {
        const char *socket;
        const char *runtime_dir;
        uid_t uid; /* default owner */
        gid_t gid; /* default group */
};
void config_defaults_init(struct config_defaults *d);

/*
 * Load PATH and the drop-ins it includes. On success *ret is set and 0 is
 * returned. On an invalid configuration -EINVAL is returned and every problem
 * found is in ERRORS; other negative errnos mean the file could not be read
 * (also described in ERRORS).
 */
int config_load(const char *path, const struct config_defaults *defaults, struct config **ret,
                struct config_errors *errors);
void config_free(struct config *c);
/*
 * The configuration of a daemon whose file PATH is invalid: every default,
 * no channel (a socket-activated daemon stays up in that state, saying why).
 */
struct config *config_new_default(const char *path, const struct config_defaults *defaults);
/* Free what a channel holds (not the channel itself). */
void channel_config_free(struct channel_config *c);
static inline void config_freep(struct config **c) {
        if (*c)
                config_free(*c);
}
#define _cleanup_config_ _cleanup_(config_freep)

const struct channel_config *config_find_channel(const struct config *c, const char *name);

/* Describe C for a person, one line per channel (ipcbrokerd -t). */
void config_print_summary(const struct config *c, FILE *f);

/* The kernel object a channel names: the queue's name or the FIFO's path. */
static inline const char *channel_config_object(const struct channel_config *c) {
        return c->type == CHANNEL_MQUEUE ? c->mq_name : c->path;
}
/* Do A and B name the same kernel object? */
static inline bool channel_config_same_object(const struct channel_config *a, const struct channel_config *b) {
        return a->type == b->type && streq(channel_config_object(a), channel_config_object(b));
}
/* Does a channel of C live in runtime_dir/fifo (a FIFO without an explicit path)? */
static inline bool config_uses_fifo_dir(const struct config *c) {
        for (size_t i = 0; i < c->n_channels; i++)
                if (c->channels[i]->type == CHANNEL_FIFO && !c->channels[i]->explicit_name)
                        return true;
        return false;
}
bool channel_name_valid(const char *name);

const char *channel_type_to_string(enum channel_type t);
const char *on_stop_to_string(enum on_stop s);
const char *framing_to_string(enum fifo_framing f);
