/*
 * peer.h — who is at the other end of a connection.
 *
 * The credentials come from the kernel (SO_PEERCRED, SO_PEERGROUPS) at
 * connect time, never from a request. For the per-user limits a connection
 * is charged to a person, not a uid: a peer inside a user namespace is
 * charged to the uid that owns the namespace (the outermost one below the
 * daemon's), so the 65,536 subordinate uids of one user count as that user.
 */
#pragma once

#include <sys/types.h>

#include "policy.h"

/* Read the peer's credentials from connected socket FD. */
int peer_read_cred(int fd, struct peer_cred *cred);

/*
 * The uid that connection FD is charged to: root to root, a uid outside every
 * subordinate range of /etc/subuid to itself (only newuidmap, from those
 * ranges, gives an ordinary user's namespace other uids than the user's
 * own), and a subordinate uid to the owner of the peer's user namespace, or,
 * when the peer's process cannot be asked (gone, or /proc closed to the
 * daemon), to the owner of its range. Uids in a namespace that root made
 * (system containers) count one by one.
 */
uid_t peer_charge_uid(int fd, const struct peer_cred *cred);
/* Free what the look-ups cached. */
void peer_done(void);
