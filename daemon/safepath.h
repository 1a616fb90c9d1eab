/*
 * safepath.h — walking paths without following symlinks.
 *
 * The FIFO directories may sit in places other users can write to. Every
 * component is opened with O_NOFOLLOW relative to the previous one, so a
 * symlink planted anywhere on the way is refused rather than followed.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/*
 * Open the directory that contains PATH (absolute) without following any
 * symlink. With CREATE_MODE != 0 missing directories are created with that
 * mode. On success *ret_dirfd is an O_PATH descriptor and *ret_base points
 * into PATH at the last component. On failure returns a negative errno and
 * sets *ret_bad (if not NULL) to a malloc'd string naming the offending
 * component.
 */
int safepath_open_parent(const char *path, mode_t create_mode, int *ret_dirfd, const char **ret_base, char **ret_bad);

/*
 * What the directories on a path must be, as sshd's StrictModes and systemd
 * check paths: every directory from the root down is owned by root or the
 * daemon's user and not writable by group or others unless sticky (/tmp);
 * the last one by these rules instead (see safepath_check_dir).
 */
struct safepath_rules {
        bool last_allow_sticky;
        uid_t last_trusted_uid;
};

/*
 * safepath_open_parent(), checking every directory on the way by RULES before
 * stepping into it. A directory that fails returns -EPERM, with *ret_bad
 * naming it and *ret_reason (if not NULL) saying why.
 */
int safepath_open_parent_checked(const char *path, mode_t create_mode, const struct safepath_rules *rules,
                                 int *ret_dirfd, const char **ret_base, char **ret_bad, const char **ret_reason);

/* Open a directory by absolute path (creating it, like mkdir -p, if CREATE_MODE != 0). */
int safepath_open_dir(const char *path, mode_t create_mode, int *ret_dirfd, char **ret_bad);

/*
 * Is the directory behind DIRFD safe to keep our objects in: owned by us,
 * root or TRUSTED_UID, and not writable by others unless ALLOW_STICKY and the
 * sticky bit protects entries? Returns 0 or -EPERM with *reason set to a
 * static string.
 */
int safepath_check_dir(int dirfd, bool allow_sticky, uid_t trusted_uid, const char **reason);

/* Remove an empty directory by absolute path, without following symlinks on the way. */
int safepath_rmdir(const char *path);
