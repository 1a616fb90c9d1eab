/*
 * rundir.h — the runtime directory (runtime_dir): the socket, the lock and
 * the default FIFOs live there. The daemon creates what is missing and
 * removes at stop only what it created and left empty.
 */
#pragma once

#include <sys/types.h>

#include "config.h"

struct rundir {
        char *created[2]; /* runtime_dir when this daemon created it; its fifo/ (the daemon's own) when used or found */
        /* the single-instance lock, runtime_dir/ipcbrokerd.lock, held (flock) for the daemon's lifetime */
        int lock_fd;
        char *lock_path;
        dev_t lock_dev;
        ino_t lock_ino;
};

void rundir_init(struct rundir *d);
/*
 * Create or open runtime_dir (and fifo/ in it, when a channel lives there):
 * ours, and closed to others. With RET_FD, its descriptor is handed back.
 * Returns 0, or a negative errno after logging why.
 */
int rundir_setup(struct rundir *d, const struct config *c, int *ret_fd);
/*
 * One daemon per runtime directory: lock runtime_dir/ipcbrokerd.lock (DIRFD
 * is runtime_dir) before any kernel object is touched. Returns 0, or a
 * negative errno after logging why (-EBUSY: another daemon holds it).
 */
int rundir_lock(struct rundir *d, int dirfd, const char *runtime_dir);
/* A reload moved runtime_dir: say that the lock stays where it is until restart. */
void rundir_note_moved(const struct rundir *d, const struct config *next);
/* Remove the lock file if it is still ours, then let go of the lock. */
void rundir_unlock(struct rundir *d);
/* Remove the directories this daemon created, and runtime_dir/fifo (the daemon's own), if they are empty. */
void rundir_remove(struct rundir *d);
void rundir_done(struct rundir *d);
