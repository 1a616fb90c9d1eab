/*
 * test-sched.c — the pieces behind per-user turns and charges, without the
 * kernel: the intrusive list (daemon/list.h), the round-robin of users
 * (daemon/sched.c) and the per-user records and charges (daemon/users.c).
 */
#include "build-config.h"

#include "../daemon/list.h"
#include "../daemon/sched.h"
#include "../daemon/users.h"
#include "tap.h"

struct conn {
        int id;
        struct list_node turn;
};

static int pop_id(struct sched *s) {
        struct conn *c = list_entry(sched_pop(s), struct conn, turn);
        return c ? c->id : -1;
}

static void test_list(void) {
        struct list l = {};
        struct conn a = { .id = 1 }, b = { .id = 2 }, c = { .id = 3 };
        int calls = 0;

        list_append(&l, &a.turn);
        list_append(&l, &b.turn);
        list_append(&l, &c.turn);
        is_int((int)l.n, 3, "list: three appended");
        list_unlink(&l, &b.turn);
        ok(l.first == &a.turn && a.turn.next == &c.turn && l.last == &c.turn, "list: unlinking the middle keeps order");
        list_unlink(&l, &b.turn);
        is_int((int)l.n, 2, "list: unlinking what is on no list does nothing");
        /* list_entry evaluates its argument once (it used to pop twice from sched) */
        struct conn *e = list_entry((calls++, l.first), struct conn, turn);
        ok(e == &a && calls == 1, "list_entry evaluates its node once");
        ok(list_entry((struct list_node *)NULL, struct conn, turn) == NULL, "list_entry of NULL is NULL");
        list_unlink(&l, &a.turn);
        list_unlink(&l, &c.turn);
        ok(!l.first && !l.last && l.n == 0, "list: empty again");
}

static void test_round_robin(void) {
        struct sched s = {};
        struct sched_queue busy = {}, quiet = {};
        struct conn b[5], q = { .id = 100 };

        /* one user with five waiting connections, another with one */
        for (int i = 0; i < 5; i++) {
                b[i] = (struct conn){ .id = i };
                sched_push(&s, &busy, &b[i].turn);
        }
        sched_push(&s, &quiet, &q.turn);
        is_int((int)sched_waiting_users(&s), 2, "two users wait");
        is_int(pop_id(&s), 0, "round 1: the busy user's first connection");
        is_int(pop_id(&s), 100, "round 1: then the quiet user, not the busy user's second");
        is_int((int)sched_waiting_users(&s), 1, "the quiet user has left the ring");
        is_int(pop_id(&s), 1, "then the busy user's connections in order");
        /* the quiet user comes back: it is next after the busy user's current turn */
        sched_push(&s, &quiet, &q.turn);
        is_int(pop_id(&s), 2, "the busy user's turn");
        is_int(pop_id(&s), 100, "the returning user gets the next turn");
        /* a connection that goes away while it waits */
        sched_remove(&s, &busy, &b[3].turn);
        is_int(pop_id(&s), 4, "a removed connection is skipped");
        is_int(pop_id(&s), -1, "nothing left");
        is_int((int)sched_waiting_users(&s), 0, "no user waits");
        sched_remove(&s, &busy, &b[3].turn);
        is_int((int)sched_waiting_users(&s), 0, "removing twice does nothing");
}

static void test_users(void) {
        struct users u;
        struct user *a, *b, *again;

        users_init(&u);
        a = users_get(&u, 1000);
        b = users_get(&u, 100000);
        ok(a && b && a != b, "two users, two records");
        again = users_get(&u, 1000);
        ok(again == a, "the same uid finds the same record");
        a->connections = 2;
        a->pinned = 1;
        is_int((int)user_charge(a), 3, "a user's charge: connections plus what it pins");
        users_put(&u, a);
        ok(users_get(&u, 1000) == a, "a charged record stays");
        a->connections = 0;
        a->pinned = 0;
        users_put(&u, a);
        is_int((int)u.n_users, 1, "an uncharged record goes");
        /* many uids: the table grows and still finds each */
        for (uid_t i = 0; i < 5000; i++)
                if (!users_get(&u, 200000 + i))
                        BAIL_OUT("out of memory");
        bool all = true;
        for (uid_t i = 0; i < 5000; i++) {
                struct user *x = users_get(&u, 200000 + i);
                all = all && x && x->uid == 200000 + i;
        }
        ok(all && u.n_users == 5001, "5000 more uids, each found again (%zu records)", u.n_users);
        users_done(&u);
}

/* The charges over a connection's life: connected, kept, pinned, disconnected. */
static void test_charges(void) {
        struct users u;
        struct user *a;

        users_init(&u);
        a = users_get(&u, 1000);
        users_connect(a);
        users_connect(a);
        is_int((int)a->connections, 2, "two connections charged");
        users_keep(a);
        ok(a->connections == 1 && a->pinned == 1, "a kept connection turns into a pin");
        users_pin(a);
        is_int((int)user_charge(a), 3, "a descriptor waiting to be closed is a pin too");
        users_unpin(&u, a);
        users_disconnect(&u, a, true);
        ok(a->connections == 1 && a->pinned == 0 && u.n_users == 1, "the kept one and the descriptor released");
        users_disconnect(&u, a, false);
        is_int((int)u.n_users, 0, "the last connection released: the record goes");
        users_done(&u);
}

int main(void) {
        test_list();
        test_round_robin();
        test_users();
        test_charges();
        return done_testing();
}
