/*
 * request.h — what the daemon does for each request on the control socket.
 * The dispatcher looks the handler up in a table indexed by message type;
 * the wire decoder has already validated every attribute against the type's
 * policy, so handlers only check meaning (names, access bits, privileges).
 */
#pragma once

#include <stddef.h>

#include "protocol.h"

struct client;

struct request {
        struct client *client;
        const struct wire_header *hdr;
        const struct wire_attrs *attrs;
        const void *packet; /* the whole request, for repeated attributes */
        size_t size;
        struct wire_writer *reply; /* handlers add their reply attributes */
        int pass_fd;               /* a descriptor to pass with the reply, or -1 */
        char message[512];         /* why it failed, for the reply and the log */
};

/* Run the request; fills r->reply completely (with WIRE_ATTR_ERROR). */
void request_dispatch(struct request *r);
