/*
 * policy.c — access decisions.
 *
 * A channel's mode is read like a file's: the owner class if the caller's uid
 * is the owner, else the group class if the channel's group is the caller's
 * primary or a supplementary group, else the other class; 'r' allows
 * receiving and 'w' sending. The send and recv lists add principals on top.
 * uid 0 may do anything, as with the kernel object itself.
 */
#include "build-config.h"

#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "policy.h"

bool policy_in_group(const struct peer_cred *cred, gid_t gid) {
        if (cred->gid == gid)
                return true;
        for (size_t i = 0; i < cred->n_groups; i++)
                if (cred->groups[i] == gid)
                        return true;
        for (size_t i = 0; i < cred->n_extra_groups; i++)
                if (cred->extra_groups[i] == gid)
                        return true;
        return false;
}

static bool principal_matches(const struct principal *p, const struct peer_cred *cred) {
        switch (p->kind) {
        case PRINCIPAL_ANY:
                return true;
        case PRINCIPAL_USER:
                return cred->uid == p->id;
        case PRINCIPAL_GROUP:
                return policy_in_group(cred, p->id);
        }
        return false;
}

/* The index of the first entry of LIST that names CRED, or -1. */
static ssize_t principal_find(const struct principal_list *list, const struct peer_cred *cred) {
        for (size_t i = 0; i < list->n; i++)
                if (principal_matches(&list->items[i], cred))
                        return (ssize_t)i;
        return -1;
}

bool policy_principal_match(const struct principal_list *list, const struct peer_cred *cred) {
        return principal_find(list, cred) >= 0;
}

enum mode_class { CLASS_OWNER, CLASS_GROUP, CLASS_OTHER };

/* Which class of the mode applies to CRED, and its rwx bits. */
static enum mode_class mode_class(const struct channel_config *c, const struct peer_cred *cred, mode_t *bits) {
        if (cred->uid == c->owner) {
                *bits = (c->mode >> 6) & 7;
                return CLASS_OWNER;
        }
        if (policy_in_group(cred, c->group)) {
                *bits = (c->mode >> 3) & 7;
                return CLASS_GROUP;
        }
        *bits = c->mode & 7;
        return CLASS_OTHER;
}

int policy_channel_access(const struct channel_config *c, const struct peer_cred *cred) {
        int access = 0;
        mode_t bits;

        if (cred->uid == 0)
                return CHANNEL_ACCESS_SEND | CHANNEL_ACCESS_RECV;
        mode_class(c, cred, &bits);
        if (bits & 4)
                access |= CHANNEL_ACCESS_RECV;
        if (bits & 2)
                access |= CHANNEL_ACCESS_SEND;
        if (policy_principal_match(&c->send, cred))
                access |= CHANNEL_ACCESS_SEND;
        if (policy_principal_match(&c->recv, cred))
                access |= CHANNEL_ACCESS_RECV;
        return access;
}

bool policy_is_admin(const struct config *c, const struct peer_cred *cred) {
        return cred->uid == 0 || policy_principal_match(&c->admins, cred);
}

/* Entry I of a formatted principal list ("alice @wheel *"), into BUF. */
static void list_entry_text(const char *text, size_t i, char *buf, size_t size) {
        const char *p = text ? text : "";

        for (; i > 0 && *p; i--) {
                p += strcspn(p, " ");
                p += strspn(p, " ");
        }
        snprintf(buf, size, "%.*s", (int)strcspn(p, " "), p);
}

bool policy_explain(const struct channel_config *c, const struct peer_cred *cred, int access, char *rule, size_t size) {
        static const char *const class_names[] = { "owner", "group", "other" };
        bool send = access == CHANNEL_ACCESS_SEND;
        const struct principal_list *list = send ? &c->send : &c->recv;
        const char *list_name = send ? "send" : "recv";
        mode_t bits, want = send ? 2 : 4;
        enum mode_class k;
        char who[64] = "", entry[128];
        ssize_t i;

        if (cred->uid == 0) {
                snprintf(rule, size, "uid 0 may do anything");
                return true;
        }
        k = mode_class(c, cred, &bits);
        if (k == CLASS_OWNER)
                snprintf(who, sizeof(who), " (owner uid %u)", (unsigned)c->owner);
        else if (k == CLASS_GROUP)
                snprintf(who, sizeof(who), " (group gid %u)", (unsigned)c->group);
        if (bits & want) {
                snprintf(rule, size, "%s class%s of mode %04o (%c%c%c)", class_names[k], who, (unsigned)c->mode,
                         bits & 4 ? 'r' : '-', bits & 2 ? 'w' : '-', bits & 1 ? 'x' : '-');
                return true;
        }
        i = principal_find(list, cred);
        if (i >= 0) {
                list_entry_text(send ? c->send_text : c->recv_text, (size_t)i, entry, sizeof(entry));
                snprintf(rule, size, "%s list: %s", list_name, entry);
                return true;
        }
        snprintf(rule, size, "denied: uid %u gets the %s class%s of mode %04o, which has no '%c', and the %s list %s",
                 (unsigned)cred->uid, class_names[k], who, (unsigned)c->mode, send ? 'w' : 'r', list_name,
                 list->n ? "does not name it" : "is empty");
        return false;
}
