/*
 * listener.h — the control socket: a SOCK_SEQPACKET Unix socket, created at
 * the configured path or inherited through socket activation. It accepts
 * connections and hands each to a callback; it knows nothing of clients.
 */
#pragma once

#include <ev.h>
#include <stdbool.h>

struct config;
struct listener;

/*
 * An accepted connection, FD, now the callee's. MAY_HOLD_FDS: the kernel does
 * not refuse descriptors sent on it (before Linux 6.16), so some may sit in it.
 */
typedef void (*listener_accept_fn)(int fd, bool may_hold_fds, void *userdata);

int listener_new(struct ev_loop *loop, const struct config *c, listener_accept_fn accept, void *userdata,
                 struct listener **ret);
/* Stop accepting; remove the socket if it is still the one we bound. */
void listener_free(struct listener *l);
const char *listener_path(const struct listener *l);
/* The configuration changed: the socket's mode (the path takes effect at restart). */
void listener_config_changed(struct listener *l, const struct config *c);
