/*
 * util.h — small helpers shared by the daemon, the library and the CLI:
 * cleanup attributes, container_of, array sizes, string parsing.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _public_ __attribute__((visibility("default")))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

static inline void freep(void *p) {
        free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd) {
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}
#define _cleanup_close_ _cleanup_(closep)

/* Hand ownership out of a cleanup variable. */
#define TAKE_PTR(p)                                                                                                    \
        ({                                                                                                             \
                __typeof__(p) _t = (p);                                                                                \
                (p) = NULL;                                                                                            \
                _t;                                                                                                    \
        })
#define TAKE_FD(fd)                                                                                                    \
        ({                                                                                                             \
                int _t = (fd);                                                                                         \
                (fd) = -1;                                                                                             \
                _t;                                                                                                    \
        })

static inline bool streq(const char *a, const char *b) {
        return strcmp(a, b) == 0;
}

/*
 * Parse a whole string as an unsigned number in [min, max]: no sign, no
 * leading or trailing garbage, no overflow. base 0 accepts 0x and leading-0
 * octal; modes use base 8. Returns 0, -EINVAL (not a number) or -ERANGE.
 */
int parse_u64(const char *s, int base, uint64_t min, uint64_t max, uint64_t *ret);

/*
 * How full the pipe FD is: its capacity in bytes, the bytes queued (-1 when
 * the kernel cannot tell), and the packets it holds at most (each packet
 * takes a page of the pipe; -1 for BATCH framing, whose packets hold a
 * varying number of messages). 0 or a negative errno.
 */
int pipe_fill(int fd, bool batch, long *capacity, long long *queued, long *max_packets);

/* Close every descriptor that arrived as SCM_RIGHTS in MH, except KEEP. */
void cmsg_close_fds(struct msghdr *mh, int keep);
