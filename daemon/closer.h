/*
 * closer.h — closing descriptors whose release may block, off the event loop.
 *
 * The final close() of a descriptor runs the file's release in the caller:
 * for a TCP socket with SO_LINGER and unsent data that waits up to the linger
 * time. A descriptor a client passed us is such a file, and so is every
 * descriptor still queued, unread, in a client socket. The daemon therefore
 * refuses descriptors at the socket where the kernel can (SO_PASSRIGHTS = 0,
 * Linux 6.16: senders get EPERM). On older kernels it never takes such a
 * packet out of a socket, and a client socket that still holds one is handed
 * whole to a helper thread that closes it; the loop itself never does. The
 * helpers touch nothing but the descriptors.
 *
 * What a user passed stays charged to that user until it is closed: the
 * OWNER token given with each descriptor comes back through DONE, on the
 * loop, once per descriptor closed.
 */
#pragma once

#include <ev.h>
#include <stdbool.h>

struct closer;

typedef void (*closer_done_fn)(void *owner, void *userdata);

int closer_new(struct ev_loop *loop, closer_done_fn done, void *userdata, struct closer **ret);
/*
 * Close FD on a helper thread, then call DONE(OWNER) on the loop. Never
 * blocks. Fails (and closes FD right away, logging why) only when no memory
 * or thread is to be had: then DONE is not called.
 */
int closer_close(struct closer *c, int fd, void *owner);
/*
 * Stop taking reports. The helper may be stuck in a close for as long as the
 * file's owner likes; it is detached and ends with the process.
 */
void closer_free(struct closer *c);
