/*
 * safepath.c — open paths component by component, never following symlinks.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safepath.h"
#include "util.h"

/* Record the directory PATH[0..LEN) (the root when LEN is 0) as the offending one. */
static void set_bad(char **ret_bad, const char *path, size_t len) {
        if (!ret_bad)
                return;
        if (len == 0 && asprintf(ret_bad, "/") < 0)
                *ret_bad = NULL;
        else if (len > 0 && asprintf(ret_bad, "%.*s", (int)len, path) < 0)
                *ret_bad = NULL;
}

/*
 * Walk PATH[0..LEN) from the root, one O_PATH|O_NOFOLLOW step at a time. With
 * RULES, every directory on the way (the root included) is checked before we
 * step into it, and the last one by the rules for it.
 */
static int walk(const char *path, size_t len, mode_t create_mode, const struct safepath_rules *rules, int *ret_dirfd,
                char **ret_bad, const char **ret_reason) {
        _cleanup_close_ int fd = -1;
        char comp[NAME_MAX + 1];
        size_t i = 0, dir_len = 0; /* fd is PATH[0..dir_len) */
        const char *reason = NULL;
        int r;

        if (len == 0 || path[0] != '/')
                return -EINVAL;
        fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        while (i < len) {
                size_t start, n;
                int next;

                while (i < len && path[i] == '/')
                        i++;
                start = i;
                while (i < len && path[i] != '/')
                        i++;
                n = i - start;
                if (n == 0)
                        break;
                if (n > NAME_MAX)
                        return -ENAMETOOLONG;
                memcpy(comp, path + start, n);
                comp[n] = '\0';
                if (streq(comp, ".") || streq(comp, ".."))
                        return -EINVAL;
                /* a directory others may write to could swap what is below it */
                if (rules && (r = safepath_check_dir(fd, true, geteuid(), &reason)) < 0) {
                        set_bad(ret_bad, path, dir_len);
                        if (ret_reason)
                                *ret_reason = reason;
                        return r;
                }

                next = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (next < 0 && errno == ENOENT && create_mode) {
                        if (mkdirat(fd, comp, create_mode) == 0) {
                                /* ours, with exactly that mode: the umask (UMask=0077) must not narrow it */
                                int made = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                                if (made >= 0) {
                                        int e = fchmod(made, create_mode) < 0 ? errno : 0;
                                        close(made);
                                        if (e) {
                                                errno = e;
                                                goto fail;
                                        }
                                }
                        } else if (errno != EEXIST)
                                goto fail;
                        next = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                }
                if (next < 0)
                        goto fail;
                close(fd);
                fd = next;
                dir_len = i;
                continue;
fail : {
        struct stat st;
        r = -errno;
        /* O_PATH|O_NOFOLLOW on a symlink with O_DIRECTORY gives ENOTDIR: say what it is */
        if (fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
                r = -ELOOP;
        set_bad(ret_bad, path, i);
        return r;
}
        }
        if (rules && (r = safepath_check_dir(fd, rules->last_allow_sticky, rules->last_trusted_uid, &reason)) < 0) {
                set_bad(ret_bad, path, dir_len);
                if (ret_reason)
                        *ret_reason = reason;
                return r;
        }
        *ret_dirfd = TAKE_FD(fd);
        return 0;
}

int safepath_open_dir(const char *path, mode_t create_mode, int *ret_dirfd, char **ret_bad) {
        return walk(path, strlen(path), create_mode, NULL, ret_dirfd, ret_bad, NULL);
}

static int open_parent(const char *path, mode_t create_mode, const struct safepath_rules *rules, int *ret_dirfd,
                       const char **ret_base, char **ret_bad, const char **ret_reason) {
        const char *slash = strrchr(path, '/');

        if (!slash || !slash[1])
                return -EINVAL;
        *ret_base = slash + 1;
        if (slash == path)
                return walk("/", 1, 0, rules, ret_dirfd, ret_bad, ret_reason);
        return walk(path, (size_t)(slash - path), create_mode, rules, ret_dirfd, ret_bad, ret_reason);
}

int safepath_open_parent(const char *path, mode_t create_mode, int *ret_dirfd, const char **ret_base, char **ret_bad) {
        return open_parent(path, create_mode, NULL, ret_dirfd, ret_base, ret_bad, NULL);
}

int safepath_open_parent_checked(const char *path, mode_t create_mode, const struct safepath_rules *rules,
                                 int *ret_dirfd, const char **ret_base, char **ret_bad, const char **ret_reason) {
        return open_parent(path, create_mode, rules, ret_dirfd, ret_base, ret_bad, ret_reason);
}

int safepath_check_dir(int dirfd, bool allow_sticky, uid_t trusted_uid, const char **reason) {
        struct stat st;

        if (fstat(dirfd, &st) < 0)
                return -errno;
        if (st.st_uid != 0 && st.st_uid != geteuid() && st.st_uid != trusted_uid) {
                *reason = "is owned by another user";
                return -EPERM;
        }
        if (st.st_mode & (S_IWGRP | S_IWOTH)) {
                if (!allow_sticky || !(st.st_mode & S_ISVTX)) {
                        *reason = "is writable by other users";
                        return -EPERM;
                }
        }
        return 0;
}

int safepath_rmdir(const char *path) {
        _cleanup_close_ int dirfd = -1;
        const char *base;
        int r = safepath_open_parent(path, 0, &dirfd, &base, NULL);

        if (r < 0)
                return r;
        if (unlinkat(dirfd, base, AT_REMOVEDIR) < 0)
                return -errno;
        return 0;
}
