/*
 * connections.c — admitting clients, their turns, the ones whose reply is
 * unread, and closing their sockets (see connections.h).
 */
#include "build-config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client.h"
#include "closer.h"
#include "connections.h"
#include "counters.h"
#include "log.h"
#include "peer.h"
#include "ratelimit.h"
#include "request.h"
#include "sched.h"
#include "users.h"

#define CONNECTIONS_SWEEP 0.1    /* seconds between checks of connections with an unread reply */
#define CONNECTIONS_SWEEP_STEP 4 /* kept connections checked each time another is kept */
#define CONNECTIONS_DRAIN_MAX 64 /* packets read out of a socket before it is closed */

struct connections {
        struct ev_loop *loop;
        const struct request_env *env;
        void (*changed)(void *userdata);
        void *userdata;
        struct list clients; /* live connections */
        struct list waiting; /* paused and kept connections, oldest first */
        struct list dead;    /* released, to be freed from the loop */
        struct list waiters; /* clients whose request waits for channels (WAIT) */
        ev_timer recheck;    /* while some wait: look again every second (recovery needs no event) */
        ev_timer sweep;
        ev_idle reap; /* frees the dead, right after the callback that released them */
        struct users users;
        struct sched sched;
        ev_prepare turns;      /* serves one request of each waiting user per loop iteration */
        ev_idle busy;          /* keeps the loop from sleeping while users wait */
        struct closer *closer; /* closes what clients passed, off the loop */
};

static void connections_on_closed(void *owner, void *userdata) {
        struct connections *cs = userdata;
        struct user *user = owner;

        if (user)
                users_unpin(&cs->users, user);
}

/* Close FD on a helper thread, charged to USER until it is closed. */
static void connections_close_later(struct connections *cs, int fd, struct user *user) {
        if (!cs->closer && closer_new(cs->loop, connections_on_closed, cs, &cs->closer) < 0) {
                log_error("cannot set up the closing threads: out of memory; closing a client socket on the loop");
                close(fd);
                return;
        }
        if (user)
                users_pin(user);
        if (closer_close(cs->closer, fd, user) < 0 && user)
                users_unpin(&cs->users, user); /* closed on the loop after all (closer_close said why) */
}

/*
 * Close a connection's socket. Where descriptors may sit unread in it
 * (before Linux 6.16), its last close would release them here: it is shut
 * down (no one can add more), the packets without descriptors are read and
 * dropped, and a socket that still holds descriptors goes whole to a helper
 * thread, charged to USER. Otherwise what the client sent is read out too,
 * when the client should see our last packet (a socket closed with unread
 * data resets its peer).
 */
static void connections_close_socket(struct connections *cs, int fd, bool may_hold_fds, bool read_out,
                                     struct user *user) {
        int one = 1;

        if (!may_hold_fds && !read_out) {
                close(fd);
                return;
        }
        (void)shutdown(fd, SHUT_RDWR);
        if (may_hold_fds && setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0) {
                connections_close_later(cs, fd, user);
                return;
        }
        for (int i = 0; i < CONNECTIONS_DRAIN_MAX; i++) {
                int what = may_hold_fds ? client_socket_peek(fd, true) : CLIENT_PEEK_PACKET;
                char byte;

                if (what < 0 || what == CLIENT_PEEK_NOTHING) {
                        close(fd); /* empty */
                        return;
                }
                if (what == CLIENT_PEEK_FDS)
                        break; /* holds descriptors */
                /* no descriptor in this one: nothing the kernel could release here */
                if (recv(fd, &byte, 1, MSG_DONTWAIT) <= 0 && !may_hold_fds) {
                        close(fd); /* empty, or an empty packet: nothing to release either way */
                        return;
                }
        }
        if (may_hold_fds)
                connections_close_later(cs, fd, user); /* holds descriptors, or does not empty */
        else
                close(fd);
}

/* ---- the end of a connection ---- */

/* Close the socket, uncharge the user, free the client. */
static void connections_free_client(struct connections *cs, struct client *c) {
        struct user *user = c->user;

        connections_close_socket(cs, c->fd, c->may_hold_fds, false, user);
        users_disconnect(&cs->users, user, c->state == CLIENT_KEPT);
        client_free(c);
}

/* The daemon is done with C: out of every list now, freed from the loop. */
static void connections_release(struct connections *cs, struct client *c) {
        client_stop(c);
        sched_remove(&cs->sched, &c->user->turn, &c->turn);
        list_unlink(&cs->waiting, &c->wait);
        list_unlink(&cs->waiters, &c->waiter);
        if (c->state != CLIENT_KEPT) {
                list_unlink(&cs->clients, &c->live);
                cs->env->counters->clients = cs->clients.n;
                cs->changed(cs->userdata);
        }
        list_append(&cs->dead, &c->live);
        ev_idle_start(cs->loop, &cs->reap);
}

static void connections_on_reap(struct ev_loop *loop, ev_idle *w, int revents) {
        struct connections *cs = container_of(w, struct connections, reap);

        while (cs->dead.first) {
                struct client *c = list_entry(cs->dead.first, struct client, live);
                list_unlink(&cs->dead, &c->live);
                connections_free_client(cs, c);
        }
        ev_idle_stop(loop, w);
}

/* ---- connections with an unread reply ---- */

/*
 * Check up to MAX of the oldest waiting connections, stopping at STOP: go on
 * with those whose reply was read (a kept one is done then); the others go
 * to the back.
 */
static void connections_sweep(struct connections *cs, size_t max, const struct list_node *stop) {
        for (size_t i = 0; i < max && cs->waiting.first && cs->waiting.first != stop; i++) {
                struct client *c = list_entry(cs->waiting.first, struct client, wait);
                list_unlink(&cs->waiting, &c->wait);
                if (client_reply_unread(c)) {
                        list_append(&cs->waiting, &c->wait);
                        continue;
                }
                if (c->state == CLIENT_KEPT)
                        connections_release(cs, c);
                else {
                        c->state = CLIENT_ACTIVE;
                        client_resume(c);
                }
        }
}

static void connections_on_sweep(struct ev_loop *loop, ev_timer *w, int revents) {
        struct connections *cs = container_of(w, struct connections, sweep);

        connections_sweep(cs, cs->waiting.n, NULL); /* each one once */
        if (!cs->waiting.first)
                ev_timer_stop(loop, &cs->sweep);
}

/* C's last reply is unread: pause or keep it (STATE) until it is read. */
static void connections_wait_reply(struct connections *cs, struct client *c, enum client_state state) {
        bool listed = c->state != CLIENT_ACTIVE;

        sched_remove(&cs->sched, &c->user->turn, &c->turn);
        if (state == CLIENT_KEPT && c->state != CLIENT_KEPT) {
                /* no longer a connection we serve, but what it pins stays charged */
                client_stop(c);
                list_unlink(&cs->clients, &c->live);
                users_keep(c->user);
                cs->env->counters->clients = cs->clients.n;
                cs->changed(cs->userdata);
        }
        c->state = state;
        if (!listed)
                list_append(&cs->waiting, &c->wait);
        connections_sweep(cs, CONNECTIONS_SWEEP_STEP, &c->wait);
        if (cs->waiting.first && !ev_is_active(&cs->sweep)) {
                ev_timer_set(&cs->sweep, CONNECTIONS_SWEEP, CONNECTIONS_SWEEP);
                ev_timer_start(cs->loop, &cs->sweep);
        }
}

/*
 * The daemon is done with C: let go, or keep it while the descriptor its last
 * reply carried may be unread. Right after a reply it almost always is, so
 * the check is left to the sweeps, which usually find it read at the next one.
 */
static void connections_finish(struct connections *cs, struct client *c) {
        if (c->passed_fd && c->state != CLIENT_KEPT)
                connections_wait_reply(cs, c, CLIENT_KEPT);
        else
                connections_release(cs, c);
}

/* ---- turns ---- */

/* What to do with C after it was served or retried. */
static void connections_after(struct connections *cs, struct client *c, enum client_outcome outcome) {
        switch (outcome) {
        case CLIENT_SERVED:
                break;
        case CLIENT_WAITING:
                list_append(&cs->waiters, &c->waiter);
                if (!ev_is_active(&cs->recheck))
                        ev_timer_again(cs->loop, &cs->recheck);
                break;
        case CLIENT_UNREAD:
                connections_wait_reply(cs, c, CLIENT_PAUSED);
                break;
        case CLIENT_FINISHED:
                connections_finish(cs, c);
                break;
        }
}

static void connections_serve(struct connections *cs, struct client *c) {
        connections_after(cs, c, client_serve(c));
}

static void connections_retry(struct connections *cs, struct client *c, bool final) {
        list_unlink(&cs->waiters, &c->waiter);
        connections_after(cs, c, client_retry(c, final));
}

void connections_retry_waiters(struct connections *cs) {
        /* each once: one that waits on is appended again, behind the end mark */
        for (size_t n = cs->waiters.n; n > 0 && cs->waiters.first; n--)
                connections_retry(cs, list_entry(cs->waiters.first, struct client, waiter), false);
        if (!cs->waiters.first)
                ev_timer_stop(cs->loop, &cs->recheck);
}

static void connections_on_recheck(struct ev_loop *loop, ev_timer *w, int revents) {
        connections_retry_waiters(container_of(w, struct connections, recheck));
}

static void connections_on_client(struct client *c, enum client_event event, void *userdata) {
        struct connections *cs = userdata;

        if (event == CLIENT_READABLE)
                sched_push(&cs->sched, &c->user->turn, &c->turn);
        else if (event == CLIENT_DEADLINE)
                connections_retry(cs, c, true);
        else
                connections_finish(cs, c);
}

static void connections_on_turns(struct ev_loop *loop, ev_prepare *w, int revents) {
        struct connections *cs = container_of(w, struct connections, turns);
        size_t n = sched_waiting_users(&cs->sched);

        /* one round: one request of each user that waits */
        for (size_t i = 0; i < n; i++) {
                struct client *c = list_entry(sched_pop(&cs->sched), struct client, turn);
                if (!c)
                        break;
                connections_serve(cs, c);
        }
        if (sched_waiting_users(&cs->sched))
                ev_idle_start(loop, &cs->busy);
        else
                ev_idle_stop(loop, &cs->busy);
}

static void connections_on_busy(struct ev_loop *loop, ev_idle *w, int revents) {
        /* nothing: being active keeps the next poll from sleeping */
}

/* ---- admission ---- */

static void connections_reject(struct connections *cs, int fd, bool may_hold_fds, const char *why, struct user *user) {
        /* one short error packet, then hang up: the client sees why */
        client_send_error(fd, 0, EUSERS, why);
        connections_close_socket(cs, fd, may_hold_fds, true, user);
}

/* Why a connection from CRED, charged to USER, may not be admitted; NULL when it may. */
static const char *connections_refusal(struct connections *cs, const struct peer_cred *cred, struct user *user) {
        const struct config *cfg = cs->env->config;

        /* one user must not starve the others (root is exempt) */
        if (cred->uid == 0 || user_charge(user) < cfg->max_clients_per_user)
                return NULL;
        if (user->uid != cred->uid)
                log_client(user->uid, LOG_WARNING,
                           "refusing a connection from uid %u (pid %d), charged to uid %u (the owner of its user "
                           "namespace or subordinate uids): it holds %u connections and descriptors "
                           "(max_clients_per_user)",
                           cred->uid, cred->pid, user->uid, user_charge(user));
        else
                log_client(user->uid, LOG_WARNING,
                           "refusing a connection from uid %u (pid %d): it holds %u connections and descriptors "
                           "(max_clients_per_user)",
                           cred->uid, cred->pid, user_charge(user));
        return "too many connections from this user (max_clients_per_user)";
}

/* Is the server full for CRED? Root and admins get in beyond max_clients, so no user can lock them out. */
static bool connections_full(struct connections *cs, const struct peer_cred *cred) {
        const struct config *cfg = cs->env->config;
        bool privileged = cred->uid == 0 || policy_is_admin(cfg, cred);

        if (cs->clients.n < cfg->max_clients + (privileged ? CONNECTIONS_ADMIN_RESERVE : 0))
                return false;
        log_client(cred->uid, LOG_WARNING,
                   "refusing a connection from uid %u (pid %d): %zu clients connected (max_clients)", cred->uid,
                   cred->pid, cs->clients.n);
        return true;
}

void connections_accept(int fd, bool may_hold_fds, void *userdata) {
        struct connections *cs = userdata;
        const struct config *cfg = cs->env->config;
        const struct client_params params = {
                .loop = cs->loop,
                .env = cs->env,
                .idle_timeout = cfg->idle_timeout,
                .max_connection_age = cfg->max_connection_age,
                .on_event = connections_on_client,
                .userdata = cs,
        };
        struct peer_cred cred = {};
        struct user *user = NULL;
        struct client *c;
        const char *why;
        int r;

        r = peer_read_cred(fd, &cred);
        if (r < 0) {
                log_warning("cannot read the credentials of a new client: %s", strerror(-r));
                why = "cannot read your credentials";
                goto refuse;
        }
        if (connections_full(cs, &cred)) {
                why = "too many clients connected to ipcbrokerd (max_clients)";
                goto refuse;
        }
        user = users_get(&cs->users, peer_charge_uid(fd, &cred));
        if (!user) {
                log_error("cannot accept a connection: out of memory");
                why = "out of memory";
                goto refuse;
        }
        why = connections_refusal(cs, &cred, user);
        if (why)
                goto refuse;
        if (client_new(&params, fd, &cred, user, &c) < 0) {
                why = "out of memory";
                goto refuse;
        }
        c->may_hold_fds = may_hold_fds;
        users_connect(user);
        list_append(&cs->clients, &c->live);
        cs->env->counters->connections++;
        cs->env->counters->clients = cs->clients.n;
        cs->changed(cs->userdata);
        /*
         * A one-shot client has usually sent its request by now: serving it
         * at once spares a trip through the loop, and when that was its last
         * request, the watcher never reaches epoll. While users wait for
         * their turn, it waits for its own like everyone.
         */
        if (sched_waiting_users(&cs->sched))
                sched_push(&cs->sched, &user->turn, &c->turn);
        else
                connections_serve(cs, c);
        return;

refuse:
        connections_reject(cs, fd, may_hold_fds, why, user);
        users_put(&cs->users, user);
        free(cred.extra_groups);
}

/* ---- setup ---- */

int connections_new(struct ev_loop *loop, const struct request_env *env, void (*changed)(void *userdata),
                    void *userdata, struct connections **ret) {
        struct connections *cs = calloc(1, sizeof(*cs));

        if (!cs)
                return -ENOMEM;
        cs->loop = loop;
        cs->env = env;
        cs->changed = changed;
        cs->userdata = userdata;
        users_init(&cs->users);
        ev_init(&cs->sweep, connections_on_sweep);
        ev_init(&cs->recheck, connections_on_recheck);
        cs->recheck.repeat = 1.0;
        ev_idle_init(&cs->reap, connections_on_reap);
        /* first in the iteration after a release: nothing is admitted while the dead still count */
        ev_set_priority(&cs->reap, EV_MAXPRI);
        ev_prepare_init(&cs->turns, connections_on_turns);
        ev_idle_init(&cs->busy, connections_on_busy);
        ev_prepare_start(loop, &cs->turns);
        *ret = cs;
        return 0;
}

void connections_free(struct connections *cs) {
        if (!cs)
                return;
        while (cs->clients.first)
                connections_release(cs, list_entry(cs->clients.first, struct client, live));
        while (cs->waiting.first)
                connections_release(cs, list_entry(cs->waiting.first, struct client, wait)); /* kept ones */
        connections_on_reap(cs->loop, &cs->reap, 0);
        ev_timer_stop(cs->loop, &cs->sweep);
        ev_timer_stop(cs->loop, &cs->recheck);
        ev_idle_stop(cs->loop, &cs->reap);
        ev_prepare_stop(cs->loop, &cs->turns);
        ev_idle_stop(cs->loop, &cs->busy);
        closer_free(cs->closer);
        users_done(&cs->users);
        peer_done();
        free(cs);
}
