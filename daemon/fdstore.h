/*
 * fdstore.h — what the service manager hands the daemon at start, and keeps
 * for it across restarts: the control socket (socket activation) and the
 * FIFOs' descriptors in the service's file descriptor store
 * (FileDescriptorStoreMax=), so that a pipe's contents outlive a restart, a
 * crash or a watchdog kill. A channel's FIFO is stored as "fifo-CHANNEL"; one
 * the channel no longer uses but that is kept open for its data
 * (channel-holdover.c) as "held-CHANNEL-DEV-INO", a name of its own, so that
 * storing the channel's next FIFO does not take it out of the store.
 *
 * Without a service manager (no LISTEN_FDS, no NOTIFY_SOCKET) nothing is
 * inherited and nothing is stored.
 */
#pragma once

#include <stdbool.h>

/* Take what was passed (sd_listen_fds_with_names); returns how many descriptors, or a negative errno. */
int fdstore_take(void);
/* Was a listening socket passed (socket activation), not only stored FIFOs? Looks, takes nothing. */
bool fdstore_socket_passed(void);
/* The control socket passed (the one descriptor not named as a stored FIFO), or -1; -EINVAL when more than one. */
int fdstore_socket(void);
/* The stored descriptor of FIFO channel NAME, now the caller's; -1 when there is none. */
int fdstore_claim(const char *name);
/* Store FD as channel NAME's (replacing what was stored under that name). */
void fdstore_put(const char *name, int fd);
/* Channel NAME goes: take its descriptor out of the store. */
void fdstore_remove(const char *name);
/* Stored FIFOs no channel claimed: FN(name, fd) for each, which owns FD after. */
void fdstore_leftovers(void (*fn)(const char *name, int fd, void *userdata), void *userdata);
/*
 * Store FD, a FIFO held over for channel NAME, under a name of its own;
 * returns that name (malloc'd) for fdstore_remove_held, or NULL when nothing
 * was stored (no service manager). The same open file description cannot
 * be stored twice (systemd keeps the first): one stored as the channel's
 * must be taken out (fdstore_put, fdstore_remove) before it is stored here.
 */
char *fdstore_put_held(const char *name, int fd);
/* Take what fdstore_put_held stored as FDNAME out of the store. */
void fdstore_remove_held(const char *fdname);
/* Held FIFOs that were stored: FN(channel name, FDNAME, fd) for each, which owns FD after; they stay stored. */
void fdstore_held(void (*fn)(const char *name, const char *fdname, int fd, void *userdata), void *userdata);
/* Done with what was passed (the socket is the listener's now). */
void fdstore_release(void);
