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

#include "channel.h"
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

bool policy_principal_match(const struct principal_list *list, const struct peer_cred *cred) {
        for (size_t i = 0; i < list->n; i++) {
                const struct principal *p = &list->items[i];
                switch (p->kind) {
                case PRINCIPAL_ANY:
                        return true;
                case PRINCIPAL_USER:
                        if (cred->uid == p->id)
                                return true;
                        break;
                case PRINCIPAL_GROUP:
                        if (policy_in_group(cred, p->id))
                                return true;
                        break;
                }
        }
        return false;
}

int policy_channel_access(const struct channel_config *c, const struct peer_cred *cred) {
        int access = 0;
        mode_t bits;

        if (cred->uid == 0)
                return CHANNEL_ACCESS_SEND | CHANNEL_ACCESS_RECV;
        if (cred->uid == c->owner)
                bits = (c->mode >> 6) & 7;
        else if (policy_in_group(cred, c->group))
                bits = (c->mode >> 3) & 7;
        else
                bits = c->mode & 7;
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
