/*
 * peer.c — a connection's credentials, and the user it is charged to.
 *
 * Only a uid in a subordinate range (/etc/subuid) can be someone else's, so
 * only those are looked up. The user namespace of the peer is found through
 * its process: a pidfd
 * (SO_PEERPIDFD, Linux 6.5; else pidfd_open() on the SO_PEERCRED pid) pins
 * the process, /proc/PID/ns/user names its namespace, and after the look-up
 * the pidfd tells whether the process is still the one that connected (a
 * pid cannot be reused while its pidfd says the process lives). From the
 * peer's namespace NS_GET_PARENT climbs to the one just below the daemon's,
 * whose NS_GET_OWNER_UID is the person who made it.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <pwd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "peer.h"
#include "ratelimit.h"

#ifndef SUBUID_FILE
#define SUBUID_FILE "/etc/subuid"
#endif
#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

/* user namespaces nest at most 32 deep */
#define USERNS_DEPTH_MAX 33

int peer_read_cred(int fd, struct peer_cred *cred) {
        struct ucred uc;
        socklen_t len = sizeof(uc);
        gid_t *groups;

        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
                return -errno;
        cred->pid = uc.pid;
        cred->uid = uc.uid;
        cred->gid = uc.gid;
        cred->n_groups = 0;
        if (uc.uid == 0)
                return 0; /* root may do anything: its groups never matter */

        len = sizeof(cred->groups);
        if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, cred->groups, &len) == 0) {
                cred->n_groups = len / sizeof(gid_t);
                return 0;
        }
        if (errno == ENOPROTOOPT)
                return 0; /* kernel before 4.13: primary group only */
        if (errno != ERANGE)
                return -errno;
        /*
         * More groups than we keep inline. Dropping them would move a group
         * member into the "other" class, which may grant what the group
         * class denies: read them all, or refuse the client.
         */
        groups = malloc(len);
        if (!groups)
                return -ENOMEM;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0) {
                int r = -errno;
                free(groups);
                return r;
        }
        cred->extra_groups = groups;
        cred->n_extra_groups = len / sizeof(gid_t);
        return 0;
}

/* The daemon's own user namespace, read once. */
static struct {
        bool read;
        bool known;
        char link[64]; /* "user:[4026531837]" */
        dev_t dev;
        ino_t ino;
} own_ns;

static bool own_ns_known(void) {
        struct stat st;
        ssize_t n;

        if (own_ns.read)
                return own_ns.known;
        own_ns.read = true;
        n = readlink("/proc/self/ns/user", own_ns.link, sizeof(own_ns.link) - 1);
        if (n <= 0 || stat("/proc/self/ns/user", &st) < 0) {
                log_warning("cannot read the daemon's user namespace (/proc/self/ns/user: %s); connections from "
                            "user namespaces are charged to their own uid",
                            strerror(errno));
                return false;
        }
        own_ns.link[n] = '\0';
        own_ns.dev = st.st_dev;
        own_ns.ino = st.st_ino;
        own_ns.known = true;
        return true;
}

static int peer_pidfd(int fd, pid_t pid) {
        int pidfd = -1;
        socklen_t len = sizeof(pidfd);

        if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) == 0)
                return pidfd;
        if (errno == ESRCH)
                return -ESRCH;
        /* before Linux 6.5: by pid, which the process may have given up already */
        pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        return pidfd >= 0 ? pidfd : -errno;
}

static bool pidfd_exited(int pidfd) {
        struct pollfd p = { .fd = pidfd, .events = POLLIN };

        return poll(&p, 1, 0) > 0;
}

/* Climb from the namespace behind NSFD (consumed) to the one below ours: its owner. */
static int userns_owner(int nsfd, uid_t *ret) {
        int r = -ELOOP;

        for (int depth = 0; depth < USERNS_DEPTH_MAX; depth++) {
                struct stat st;
                uid_t owner;
                int parent;

                if (ioctl(nsfd, NS_GET_OWNER_UID, &owner) < 0) {
                        r = -errno;
                        break;
                }
                parent = ioctl(nsfd, NS_GET_PARENT);
                if (parent < 0) {
                        /* EPERM: not below the daemon's namespace */
                        r = -errno;
                        break;
                }
                close(nsfd);
                nsfd = parent;
                if (fstat(nsfd, &st) < 0) {
                        r = -errno;
                        break;
                }
                if (st.st_dev == own_ns.dev && st.st_ino == own_ns.ino) {
                        *ret = owner;
                        r = 0;
                        break;
                }
        }
        close(nsfd);
        return r;
}

/*
 * Where the process cannot be asked (it is gone, or /proc is closed to the
 * daemon, as without CAP_SYS_PTRACE), /etc/subuid says whose subordinate
 * range a uid falls in: newuidmap maps nothing else for an ordinary user.
 */
struct subuid_range {
        uid_t owner, start;
        unsigned long count;
};

static struct {
        struct subuid_range *v;
        size_t n;
        struct timespec mtime;
        ino_t ino;
        time_t checked;
} subuids;

static void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}

static void subuid_reload(void) {
        _cleanup_(fclosep) FILE *f = NULL;
        struct subuid_range *v = NULL;
        size_t n = 0;
        char line[512];
        struct stat st;
        time_t now = time(NULL);

        if (subuids.checked == now)
                return; /* at most once a second */
        subuids.checked = now;
        if (stat(SUBUID_FILE, &st) < 0) {
                free(subuids.v);
                subuids.v = NULL;
                subuids.n = 0;
                subuids.ino = 0;
                return;
        }
        if (st.st_ino == subuids.ino && st.st_mtim.tv_sec == subuids.mtime.tv_sec &&
            st.st_mtim.tv_nsec == subuids.mtime.tv_nsec)
                return;
        f = fopen(SUBUID_FILE, "re");
        if (!f)
                return;
        while (fgets(line, sizeof(line), f)) {
                char *name = line, *start, *count;
                struct subuid_range r;
                uint64_t u;

                start = strchr(name, ':');
                if (!start)
                        continue;
                *start++ = '\0';
                count = strchr(start, ':');
                if (!count)
                        continue;
                *count++ = '\0';
                count[strcspn(count, "\r\n")] = '\0';
                if (parse_u64(start, 10, 0, UINT32_MAX - 1, &u) < 0)
                        continue;
                r.start = (uid_t)u;
                if (parse_u64(count, 10, 1, UINT32_MAX, &u) < 0)
                        continue;
                r.count = (unsigned long)u;
                if (parse_u64(name, 10, 0, UINT32_MAX - 1, &u) == 0)
                        r.owner = (uid_t)u;
                else {
                        struct passwd *pw = getpwnam(name);
                        if (!pw)
                                continue;
                        r.owner = pw->pw_uid;
                }
                struct subuid_range *nv = realloc(v, (n + 1) * sizeof(*v));
                if (!nv)
                        break;
                v = nv;
                v[n++] = r;
        }
        free(subuids.v);
        subuids.v = v;
        subuids.n = n;
        subuids.ino = st.st_ino;
        subuids.mtime = st.st_mtim;
}

/* The owner of the subordinate range UID is in, or UID itself. */
static uid_t subuid_owner(uid_t uid) {
        subuid_reload();
        for (size_t i = 0; i < subuids.n; i++)
                if (uid >= subuids.v[i].start && (unsigned long)(uid - subuids.v[i].start) < subuids.v[i].count)
                        return subuids.v[i].owner;
        return uid;
}

/*
 * Whose subordinate uid is this, by the peer's own namespace: -1 when the
 * process cannot be asked. Root's namespaces (system containers) are the
 * administrator's partitioning: their uids count one by one.
 */
static int userns_charge(int fd, const struct peer_cred *cred, uid_t *ret) {
        _cleanup_close_ int pidfd = -1;
        char path[64], link[64];
        uid_t owner = cred->uid;
        ssize_t n;

        if (!own_ns_known())
                return -1;
        pidfd = peer_pidfd(fd, cred->pid);
        if (pidfd == -ESRCH)
                return -1;
        snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)cred->pid);
        n = readlink(path, link, sizeof(link) - 1);
        if (n < 0)
                return -1; /* gone, or /proc closed to us */
        link[n] = '\0';
        if (!streq(link, own_ns.link)) {
                int nsfd = open(path, O_RDONLY | O_CLOEXEC);

                if (nsfd < 0 || userns_owner(nsfd, &owner) < 0)
                        return -1;
        }
        /* the answer is about the connecting process only if it still lives */
        if (pidfd >= 0 && pidfd_exited(pidfd))
                return -1;
        *ret = owner == 0 || owner == geteuid() ? cred->uid : owner;
        return 0;
}

uid_t peer_charge_uid(int fd, const struct peer_cred *cred) {
        uid_t range_owner, owner;

        if (cred->uid == 0)
                return 0;
        /*
         * An ordinary user's namespace can hold other uids than the user's
         * own only through newuidmap, that is from its ranges in /etc/subuid.
         * Any other uid is a person of its own: no need to ask its process.
         */
        range_owner = subuid_owner(cred->uid);
        if (range_owner == cred->uid)
                return cred->uid;
        if (userns_charge(fd, cred, &owner) == 0)
                return owner;
        log_client(range_owner, LOG_DEBUG,
                   "pid %d uid %u: its user namespace cannot be read; charged to uid %u, whose subordinate range "
                   "in " SUBUID_FILE " it is in",
                   (int)cred->pid, cred->uid, range_owner);
        return range_owner;
}

void peer_done(void) {
        free(subuids.v);
        subuids.v = NULL;
        subuids.n = 0;
        subuids.ino = 0;
        subuids.checked = 0;
}
