/*
 * config.h — ipcbroker-bridge.conf: the NATS connection, the local side,
 * and one [bridge NAME] section per channel forwarded to or from NATS.
 *
 * config_load() reads the file with inih and checks every value; each
 * problem becomes one "FILE:LINE: message" in struct config_errors.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "config-errors.h"

#define BRIDGE_NAME_MAX 128 /* a bridge or channel name: as ipcbrokerd's channel names */
#define ORIGIN_MAX 64       /* this host's name in the messages' headers and ids */
#define MAX_INFLIGHT_MAX 65536

/* Every key, whatever its section (the key table in config.c says which). */
enum config_key {
        /* [nats] */
        KEY_URL,
        KEY_USER,
        KEY_PASSWORD,
        KEY_TOKEN,
        KEY_CREDS,
        KEY_TLS_CA,
        KEY_TLS_CERT,
        KEY_TLS_KEY,
        KEY_NAME,
        /* [local] */
        KEY_SOCKET,
        KEY_SPOOL_DIR,
        KEY_ORIGIN,
        KEY_SYNC_INTERVAL,
        /* [bridge NAME] */
        KEY_CHANNEL,
        KEY_DIRECTION,
        KEY_SUBJECT,
        KEY_STREAM,
        KEY_CREATE_STREAM,
        KEY_DURABLE,
        KEY_MAX_INFLIGHT,
        KEY_ACK_WAIT,
        KEY_REPLICAS,
        _KEY_MAX,
};

enum direction {
        DIRECTION_NONE,
        DIRECTION_OUT, /* channel -> NATS */
        DIRECTION_IN,  /* NATS -> channel */
};

struct bridge_config {
        char *name;
        char *channel;
        enum direction direction;
        char *subject;
        char *stream;
        bool create_stream;
        char *durable; /* in only */
        unsigned max_inflight;
        unsigned long ack_wait_ms;
        unsigned replicas;           /* of a stream the bridge creates */
        unsigned line;               /* of the section header */
        unsigned key_line[_KEY_MAX]; /* where each key was set, 0 if not */
};

struct config {
        char *file;
        /* [nats] */
        char **urls;
        size_t n_urls;
        char *user;
        char *password;
        char *token;
        char *creds;
        char *tls_ca;
        char *tls_cert;
        char *tls_key;
        char *name;
        /* [local] */
        char *socket;                   /* NULL: the library's default */
        char *spool_dir;                /* resolved: the configured one, $STATE_DIRECTORY, or the compiled-in default */
        char *origin;                   /* resolved: %H is the host name */
        unsigned long sync_interval_ms; /* spool and delivery record: fdatasync at most this often (0: every time) */
        unsigned key_line[_KEY_MAX];
        struct bridge_config *bridges;
        size_t n_bridges;
};

/* Read and check PATH. 0 and *RET, or a negative errno with the reasons in ERRORS. */
int config_load(const char *path, struct config **ret, struct config_errors *errors);
void config_free(struct config *c);

const char *direction_to_string(enum direction d);
