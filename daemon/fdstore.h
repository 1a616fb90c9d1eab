/*
 * fdstore.h — what the service manager hands the daemon at start, and keeps
 * for it across restarts: the control socket (socket activation) and the
 * FIFOs' descriptors in the service's file descriptor store
 * (FileDescriptorStoreMax=), so that a pipe's contents outlive a restart, a
 * crash or a watchdog kill. Stored FIFOs are named "fifo-CHANNEL".
 *
 * Without a service manager (no LISTEN_FDS, no NOTIFY_SOCKET) nothing is
 * inherited and nothing is stored.
 */
#pragma once

#include <stdbool.h>

/* Take what was passed (sd_listen_fds_with_names); returns how many descriptors, or a negative errno. */
int fdstore_take(void);
/* The control socket passed (the one descriptor not named "fifo-..."), or -1; -EINVAL when more than one. */
int fdstore_socket(void);
/* The stored descriptor of FIFO channel NAME, now the caller's; -1 when there is none. */
int fdstore_claim(const char *name);
/* Store FD as channel NAME's (replacing what was stored under that name). */
void fdstore_put(const char *name, int fd);
/* Channel NAME goes: take its descriptor out of the store. */
void fdstore_remove(const char *name);
/* Stored FIFOs no channel claimed: FN(name, fd) for each, which owns FD after. */
void fdstore_leftovers(void (*fn)(const char *name, int fd, void *userdata), void *userdata);
/* Done with what was passed (the socket is the listener's now). */
void fdstore_release(void);
