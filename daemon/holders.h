/*
 * holders.h — who was given a channel: every grant the daemon makes is
 * recorded (access, uid, pid, command, systemd unit, when), with a way to
 * tell whether that process still lives: a pidfd where the kernel gives one
 * (within a budget of descriptors), else the pid and its start time, so a
 * reused pid is never taken for the holder. Dead holders are dropped after
 * a while; a channel keeps at most HOLDERS_MAX, at most HOLDERS_PER_UID of
 * one uid, the oldest dead first.
 *
 * A descriptor can be passed on (SCM_RIGHTS, fork): this is whom the broker
 * gave it to, not every process that holds it now.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "policy.h"

#define HOLDERS_MAX 32        /* per channel */
#define HOLDERS_PER_UID 8     /* per channel and uid: one user cannot push the others out */
#define HOLDERS_DEAD_KEEP 60  /* seconds a dead holder is remembered */
#define HOLDERS_SWEEP_EVERY 5 /* seconds between sweeps (the daemon's timer, whether it samples or not) */

struct holder {
        pid_t pid;
        uid_t uid;
        int access;                    /* CHANNEL_ACCESS_* */
        int pidfd;                     /* -1: liveness by pid and start time */
        unsigned long long start_time; /* the process's, from /proc (clock ticks since boot); 0 unknown */
        char command[17];
        char *unit; /* systemd unit, or NULL */
        time_t since;
        uint64_t opens;
        bool dead;
        time_t dead_since;
};

struct holders {
        struct holder *v;
        size_t n;
};

/* Record a grant of ACCESS to CRED's process. */
void holders_grant(struct holders *hs, const struct peer_cred *cred, int access);
/* Does H's process still live? (Marks it dead when not.) */
bool holder_alive(struct holder *h);
/* The live holders: how many (with ACCESS bits in their grant, 0: any). */
size_t holders_count(struct holders *hs, int access);
/* Forget holders dead for longer than HOLDERS_DEAD_KEEP seconds (CHANNEL names them in the log). */
void holders_sweep(struct holders *hs, const char *channel, time_t now);
void holders_free(struct holders *hs);
