/*
 * test-policy.c — access decisions (daemon/policy.c) on hand-made
 * credentials and channels: the mode's owner, group and other classes, the
 * send and recv lists (users, groups, '*'), supplementary groups inline and
 * past the inline array (extra_groups), root, and the admins list.
 */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>

#include "../daemon/channel.h"
#include "../daemon/policy.h"
#include "tap.h"

#define SEND CHANNEL_ACCESS_SEND
#define RECV CHANNEL_ACCESS_RECV
#define BOTH (CHANNEL_ACCESS_SEND | CHANNEL_ACCESS_RECV)

#define OWNER 1000
#define GROUP 2000

static struct peer_cred cred(uid_t uid, gid_t gid) {
        return (struct peer_cred){ .pid = 1, .uid = uid, .gid = gid };
}

static struct channel_config channel(mode_t mode) {
        return (struct channel_config){ .name = "c", .owner = OWNER, .group = GROUP, .mode = mode };
}

#define LIST(...)                                                                                                      \
        ((struct principal_list){ .items = (struct principal[]){ __VA_ARGS__ },                                        \
                                  .n = sizeof((struct principal[]){ __VA_ARGS__ }) / sizeof(struct principal) })

static void test_mode_classes(void) {
        struct channel_config c = channel(0640);
        struct peer_cred owner = cred(OWNER, 1), member = cred(3000, GROUP), other = cred(3000, 3000);

        is_int(policy_channel_access(&c, &owner), BOTH, "0640: the owner may send and receive");
        is_int(policy_channel_access(&c, &member), RECV, "0640: the primary group may receive only");
        is_int(policy_channel_access(&c, &other), 0, "0640: others get nothing");

        c = channel(0200);
        is_int(policy_channel_access(&c, &owner), SEND, "0200: the owner may only send ('w' is send)");
        c = channel(0004);
        is_int(policy_channel_access(&c, &other), RECV, "0004: others may receive ('r' is receive)");
        c = channel(0002);
        is_int(policy_channel_access(&c, &other), SEND, "0002: others may send");
        c = channel(0001);
        is_int(policy_channel_access(&c, &other), 0, "0001: 'x' grants nothing");

        /* like a file: the first class that matches decides, even when a later one grants more */
        c = channel(0066);
        owner.gid = GROUP;
        is_int(policy_channel_access(&c, &owner), 0, "0066: the owner, also in the group, gets the owner class (none)");
        c = channel(0606);
        is_int(policy_channel_access(&c, &member), 0, "0606: a group member gets the group class (none), not other");
}

static void test_supplementary_groups(void) {
        struct channel_config c = channel(0606); /* the group class denies what the other class grants */
        struct peer_cred member = cred(3000, 3000);

        member.groups[0] = 10;
        member.groups[1] = GROUP;
        member.n_groups = 2;
        ok(policy_in_group(&member, GROUP), "a supplementary group counts");
        ok(policy_in_group(&member, 3000), "the primary group counts");
        ok(!policy_in_group(&member, 11), "another group does not");
        is_int(policy_channel_access(&c, &member), 0, "a supplementary member gets the group class");
        member.n_groups = 1;
        is_int(policy_channel_access(&c, &member), BOTH, "past n_groups the array is not read: other class");

        /* SO_PEERGROUPS said ERANGE: every group is in extra_groups, none inline */
        struct peer_cred many = cred(3000, 3000);
        size_t n = POLICY_GROUPS_MAX + 44;
        gid_t *all = calloc(n, sizeof(*all));

        if (!all)
                BAIL_OUT("out of memory");
        for (size_t i = 0; i < n; i++)
                all[i] = (gid_t)(5000 + i);
        all[n - 1] = GROUP;
        many.extra_groups = all;
        many.n_extra_groups = n;
        ok(policy_in_group(&many, GROUP), "the last of %zu groups in extra_groups counts", n);
        ok(policy_in_group(&many, 5000), "the first of extra_groups counts");
        ok(!policy_in_group(&many, 4999), "a group in none of them does not");
        is_int(policy_channel_access(&c, &many), 0, "a member by extra_groups gets the group class, not other");
        many.n_extra_groups = n - 1;
        is_int(policy_channel_access(&c, &many), BOTH, "without that group: other class");
        free(all);
}

static void test_lists(void) {
        struct channel_config c = channel(0600);
        struct peer_cred alice = cred(4000, 4000), bob = cred(4001, 4001), wheel = cred(4002, 4002);

        wheel.groups[0] = 10;
        wheel.n_groups = 1;
        c.send = LIST({ PRINCIPAL_USER, 4000 }, { PRINCIPAL_GROUP, 10 });
        c.recv = LIST({ PRINCIPAL_USER, 4001 });
        is_int(policy_channel_access(&c, &alice), SEND, "a user in send may send, not receive");
        is_int(policy_channel_access(&c, &bob), RECV, "a user in recv may receive, not send");
        is_int(policy_channel_access(&c, &wheel), SEND, "a member of a group in send may send");
        is_int(policy_channel_access(&c, &(struct peer_cred){ .uid = 10, .gid = 4003 }), 0,
               "a user principal is a uid, not a gid: uid 10 is not @10");
        is_int(policy_channel_access(&c, &(struct peer_cred){ .uid = 4003, .gid = 4000 }), 0,
               "a group principal is a gid, not a uid: gid 4000 is not user 4000");

        c.recv = LIST({ PRINCIPAL_ANY, 0 });
        is_int(policy_channel_access(&c, &(struct peer_cred){ .uid = 4005, .gid = 4005 }), RECV,
               "'*' in recv lets anyone receive");
        is_int(policy_channel_access(&c, &alice), BOTH, "the lists add to each other");

        /* the lists only add to what the mode grants */
        c = channel(0604);
        c.send = LIST({ PRINCIPAL_USER, 4000 });
        is_int(policy_channel_access(&c, &alice), BOTH, "send adds to the other class's receive");

        ok(!policy_principal_match(&(struct principal_list){}, &alice), "an empty list matches no one");
        ok(policy_principal_match(&LIST({ PRINCIPAL_USER, 1 }, { PRINCIPAL_ANY, 0 }), &alice),
           "'*' after a non-matching principal still matches");
}

static void test_root(void) {
        struct channel_config c = channel(0000);
        struct peer_cred root = cred(0, 0);

        is_int(policy_channel_access(&c, &root), BOTH, "uid 0 may do anything on a 0000 channel");
        is_int(policy_channel_access(&c, &(struct peer_cred){ .uid = 5, .gid = 0 }), 0, "gid 0 alone grants nothing");
}

static void test_admins(void) {
        struct config cfg = {};
        struct peer_cred alice = cred(4000, 4000), wheel = cred(4002, 4002), root = cred(0, 0);

        wheel.groups[0] = 10;
        wheel.n_groups = 1;
        ok(policy_is_admin(&cfg, &root), "root is an admin with no admins list");
        ok(!policy_is_admin(&cfg, &alice), "no one else is");
        cfg.admins = LIST({ PRINCIPAL_USER, 4000 });
        ok(policy_is_admin(&cfg, &alice), "a user in admins is an admin");
        ok(!policy_is_admin(&cfg, &wheel), "another user is not");
        cfg.admins = LIST({ PRINCIPAL_GROUP, 10 });
        ok(policy_is_admin(&cfg, &wheel), "a member of a group in admins is an admin");
        ok(!policy_is_admin(&cfg, &alice), "a non-member is not");
        cfg.admins = LIST({ PRINCIPAL_ANY, 0 });
        ok(policy_is_admin(&cfg, &alice), "'*' in admins makes everyone an admin");
}

int main(void) {
        test_mode_classes();
        test_supplementary_groups();
        test_lists();
        test_root();
        test_admins();
        return done_testing();
}
