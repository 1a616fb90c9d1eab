/*
 * request.h — what the daemon does for each request on the control socket.
 * The dispatcher looks the handler up in a table indexed by message type;
 * the wire decoder has already validated every attribute against the type's
 * policy, so handlers only check meaning (names, access bits, privileges).
 *
 * Handlers see the daemon through struct request_env only: the channels,
 * the configuration in force, the counters, and the one action that goes
 * beyond a channel (reload). They know nothing of connections.
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "protocol.h"

struct config;
struct counters;
struct peer_cred;
struct registry;

struct request_env {
        struct registry *registry;
        const struct config *config; /* the configuration in force */
        struct counters *counters;
        /* the configuration file is invalid (why, "FILE:LINE: ..."): every request but reload fails with it */
        const char *config_problem;
        const char *config_path;
        const char *socket_path;
        time_t started;
        /* re-read the configuration; *MESSAGE says what happened */
        int (*reload)(void *userdata, char **message);
        void *userdata;
};

struct request {
        const struct request_env *env;
        const struct peer_cred *cred; /* the caller, from the kernel */
        uid_t charged_uid;            /* whose log budget lines about it use */
        const struct wire_header *hdr;
        const struct wire_attrs *attrs;
        const void *packet; /* the whole request, for repeated attributes */
        size_t size;
        struct wire_writer *reply; /* handlers add their reply attributes */
        int pass_fd;               /* a descriptor to pass with the reply, or -1 */
        char message[512];         /* why it failed, for the reply and the log */
        double now;                /* the loop's clock */
        /*
         * A request that waits (WAIT): the handler sets DEFERRED and WAIT_MS
         * instead of replying; the client dispatches the same request again
         * when channels change, and once more with FINAL set when WAIT_MS is
         * up, when the handler must reply.
         */
        bool final;
        bool deferred;
        unsigned wait_ms;
};

/* Run the request; fills r->reply completely (with WIRE_ATTR_ERROR). */
void request_dispatch(struct request *r);
