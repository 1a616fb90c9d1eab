/*
 * policy.h — who may do what: open a channel for sending or receiving, or
 * use the admin requests. Decisions use only kernel-verified credentials.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "config.h"

/* Access bits of an open request: the wire's values. */
enum {
        CHANNEL_ACCESS_SEND = WIRE_ACCESS_SEND,
        CHANNEL_ACCESS_RECV = WIRE_ACCESS_RECV,
};

#define POLICY_GROUPS_MAX 256

struct peer_cred {
        pid_t pid;
        uid_t uid;
        gid_t gid;
        gid_t groups[POLICY_GROUPS_MAX]; /* supplementary groups (SO_PEERGROUPS) */
        size_t n_groups;
        gid_t *extra_groups; /* all of them, when there are more than fit above */
        size_t n_extra_groups;
};

bool policy_in_group(const struct peer_cred *cred, gid_t gid);
bool policy_principal_match(const struct principal_list *list, const struct peer_cred *cred);
/* Access bits (CHANNEL_ACCESS_*) the caller is allowed on the channel. */
int policy_channel_access(const struct channel_config *c, const struct peer_cred *cred);
bool policy_is_admin(const struct config *c, const struct peer_cred *cred);
/*
 * Whether CRED may ACCESS (one CHANNEL_ACCESS_* bit) on C, and the rule that
 * decides it, for a person, into RULE ("owner class (owner uid 1000) of mode
 * 0640 (rw-)", "send list: @loggers", "denied: ...").
 */
bool policy_explain(const struct channel_config *c, const struct peer_cred *cred, int access, char *rule, size_t size);
