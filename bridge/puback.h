/*
 * puback.h — JetStream's answer to a publish, read from its JSON:
 * {"stream":"S","seq":N[,"duplicate":true]} when it stored the message (or
 * already had it), {"error":{"code":C,"err_code":E,"description":"..."}}
 * when it did not.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct puback {
        bool stored;    /* the stream has the message */
        bool duplicate; /* it had it already (the duplicate window) */
        int err_code;   /* JetStream's error code, when not stored (0: none given) */
        char why[200];  /* when not stored: the server's description, or what was wrong with the answer */
};

void puback_parse(const char *data, size_t len, struct puback *a);
