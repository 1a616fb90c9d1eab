/*
 * util.c — helpers shared by the daemon, the library and the CLI.
 */
#include "build-config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "util.h"

int parse_u64(const char *s, int base, uint64_t min, uint64_t max, uint64_t *ret) {
        char *end;
        unsigned long long v;

        if (!s || !*s || !isdigit((unsigned char)s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, base);
        if (*end != '\0')
                return -EINVAL;
        if (errno == ERANGE || v < min || v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

int pipe_fill(int fd, bool batch, long *capacity, long long *queued, long *max_packets) {
        int cap = fcntl(fd, F_GETPIPE_SZ), n = 0;
        long page = sysconf(_SC_PAGESIZE);

        if (cap < 0)
                return -errno;
        if (ioctl(fd, FIONREAD, &n) < 0)
                n = -1;
        *capacity = cap;
        *queued = n;
        *max_packets = batch ? -1 : cap / (page > 0 ? page : 4096);
        return 0;
}

void cmsg_close_fds(struct msghdr *mh, int keep) {
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
                if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
                        continue;
                size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < n; i++) {
                        int fd;
                        memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
                        if (fd != keep)
                                close(fd);
                }
        }
}
