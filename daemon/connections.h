/*
 * connections.h — the clients of the control socket as a whole: admission
 * (max_clients with a reserve for root and admins, max_clients_per_user
 * charged per user, see users.h), taking turns (sched.h), the connections
 * whose last reply is unread (paused and kept, see client.h), and closing
 * sockets, on a helper thread where descriptors may sit in them (closer.h).
 *
 * A client the daemon is done with is released at once (it leaves every
 * list and stops being counted) and freed from the loop, after the callback
 * that released it has returned: its user stays charged until then.
 */
#pragma once

#include <ev.h>
#include <stdbool.h>

struct connections;
struct request_env;

/* Connections root and admins may hold beyond max_clients. */
#define CONNECTIONS_ADMIN_RESERVE 16

/* CHANGED(USERDATA) is called when the number of clients changed (for STATUS=). */
int connections_new(struct ev_loop *loop, const struct request_env *env, void (*changed)(void *userdata),
                    void *userdata, struct connections **ret);
/* Disconnect everyone, at once. */
void connections_free(struct connections *cs);
/* Channels changed (reload, recovery): dispatch the waiting requests again. */
void connections_retry_waiters(struct connections *cs);
/* A connection the listener accepted (a listener_accept_fn; USERDATA is the connections). */
void connections_accept(int fd, bool may_hold_fds, void *userdata);
