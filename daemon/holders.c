/*
 * holders.c — the grants of a channel and whether their processes live
 * (see holders.h).
 */
#include "build-config.h"

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "holders.h"
#include "log.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

/* Descriptors all channels' holders may use for pidfds; past it, pid and start time. */
#define HOLDERS_PIDFDS_MAX 1024

static size_t n_pidfds;

/* The process's start time and command from /proc/PID/stat; -errno when it cannot be read. */
static int proc_stat(pid_t pid, unsigned long long *start_time, char *command, size_t size) {
        char path[64], buf[1024];
        const char *open_paren, *close_paren;
        unsigned long long st = 0;
        ssize_t n;
        int fd;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0)
                return -EIO;
        buf[n] = '\0';
        /* "PID (COMMAND) STATE ..." where COMMAND may hold spaces and parentheses: up to the last ')' */
        open_paren = strchr(buf, '(');
        close_paren = strrchr(buf, ')');
        if (!open_paren || !close_paren || close_paren < open_paren)
                return -EIO;
        if (command)
                snprintf(command, size, "%.*s", (int)(close_paren - open_paren - 1), open_paren + 1);
        /* field 22 is the start time; after ')' come fields 3.. */
        const char *p = close_paren + 1;
        for (int field = 3; field < 22 && p; field++) {
                p = strchr(p + 1, ' ');
        }
        if (!p || sscanf(p, " %llu", &st) != 1)
                return -EIO;
        *start_time = st;
        return 0;
}

/* The systemd unit of PID: the last .service or .scope of its cgroup (v2), or NULL. */
static char *proc_unit(pid_t pid) {
        char path[64], line[1024];
        char *unit = NULL;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
        f = fopen(path, "re");
        if (!f)
                return NULL;
        while (fgets(line, sizeof(line), f)) {
                char *cg, *tok, *save = NULL;
                if (strncmp(line, "0::", 3) != 0)
                        continue;
                cg = line + 3;
                cg[strcspn(cg, "\n")] = '\0';
                for (tok = strtok_r(cg, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
                        size_t len = strlen(tok);
                        if ((len > 8 && streq(tok + len - 8, ".service")) ||
                            (len > 6 && streq(tok + len - 6, ".scope"))) {
                                free(unit);
                                unit = strdup(tok);
                        }
                }
                break;
        }
        fclose(f);
        return unit;
}

bool holder_alive(struct holder *h) {
        unsigned long long st;
        bool alive;

        if (h->dead)
                return false;
        if (h->pidfd >= 0) {
                /* a pidfd is readable once its process has exited */
                struct pollfd p = { .fd = h->pidfd, .events = POLLIN };
                alive = poll(&p, 1, 0) == 0;
        } else
                alive = (kill(h->pid, 0) == 0 || errno == EPERM) && proc_stat(h->pid, &st, NULL, 0) == 0 &&
                        (h->start_time == 0 || st == h->start_time);
        if (!alive) {
                h->dead = true;
                h->dead_since = time(NULL);
                if (h->pidfd >= 0) {
                        close(h->pidfd);
                        h->pidfd = -1;
                        n_pidfds--;
                }
        }
        return alive;
}

static void holder_clear(struct holder *h) {
        if (h->pidfd >= 0) {
                close(h->pidfd);
                n_pidfds--;
        }
        free(h->unit);
}

static void holders_remove(struct holders *hs, size_t i) {
        holder_clear(&hs->v[i]);
        memmove(hs->v + i, hs->v + i + 1, (hs->n - i - 1) * sizeof(*hs->v));
        hs->n--;
}

/*
 * Make room for one more of UID: when UID already has its share, one of its
 * own goes (so no user can push the others out of the list); else the
 * oldest dead one, else the oldest one. Within the chosen set a dead one goes
 * first, then the oldest.
 */
static void holders_make_room(struct holders *hs, uid_t uid) {
        size_t mine = 0, pick = SIZE_MAX;
        bool pick_dead = false;

        for (size_t i = 0; i < hs->n; i++)
                if (hs->v[i].uid == uid)
                        mine++;
        if (hs->n < HOLDERS_MAX && mine < HOLDERS_PER_UID)
                return;
        for (size_t i = 0; i < hs->n; i++) {
                struct holder *h = &hs->v[i];
                bool dead;
                if (mine >= HOLDERS_PER_UID && h->uid != uid)
                        continue;
                dead = !holder_alive(h);
                if (pick == SIZE_MAX || (dead && !pick_dead) || (dead == pick_dead && h->since < hs->v[pick].since)) {
                        pick = i;
                        pick_dead = dead;
                }
        }
        if (pick != SIZE_MAX)
                holders_remove(hs, pick);
}

void holders_grant(struct holders *hs, const struct peer_cred *cred, int access) {
        struct holder h = { .pid = cred->pid, .uid = cred->uid, .access = access, .pidfd = -1, .opens = 1 };

        /* the same process again (it is connected now, so a pidfd or start time that matches is it) */
        for (size_t i = 0; i < hs->n; i++) {
                struct holder *o = &hs->v[i];
                if (o->pid == cred->pid && o->access == access && o->uid == cred->uid && holder_alive(o)) {
                        o->opens++;
                        return;
                }
        }
        if (proc_stat(cred->pid, &h.start_time, h.command, sizeof(h.command)) < 0)
                return; /* gone already: it holds nothing it could use for long */
        if (n_pidfds < HOLDERS_PIDFDS_MAX) {
                h.pidfd = (int)syscall(SYS_pidfd_open, cred->pid, 0);
                if (h.pidfd >= 0) {
                        (void)fcntl(h.pidfd, F_SETFD, FD_CLOEXEC); /* pidfd_open sets it; belt and braces */
                        n_pidfds++;
                }
        }
        h.unit = proc_unit(cred->pid);
        h.since = time(NULL);
        holders_make_room(hs, cred->uid);
        struct holder *v = realloc(hs->v, (hs->n + 1) * sizeof(*v));
        if (!v) {
                holder_clear(&h);
                log_warning("out of memory: the grant to pid %d is not recorded as a holder", (int)cred->pid);
                return;
        }
        hs->v = v;
        hs->v[hs->n++] = h;
}

size_t holders_count(struct holders *hs, int access) {
        size_t n = 0;

        for (size_t i = 0; i < hs->n; i++)
                if ((!access || (hs->v[i].access & access)) && holder_alive(&hs->v[i]))
                        n++;
        return n;
}

void holders_sweep(struct holders *hs, const char *channel, time_t now) {
        for (size_t i = 0; i < hs->n;) {
                struct holder *h = &hs->v[i];
                if (!holder_alive(h) && now - h->dead_since >= HOLDERS_DEAD_KEEP) {
                        log_debug("channel '%s': forgetting holder pid %d (%s), which exited %lld s ago", channel,
                                  (int)h->pid, h->command, (long long)(now - h->dead_since));
                        holders_remove(hs, i);
                        continue;
                }
                i++;
        }
}

void holders_free(struct holders *hs) {
        for (size_t i = 0; i < hs->n; i++)
                holder_clear(&hs->v[i]);
        free(hs->v);
        hs->v = NULL;
        hs->n = 0;
}
