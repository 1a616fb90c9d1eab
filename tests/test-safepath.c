/*
 * test-safepath.c — walking paths without following symlinks
 * (daemon/safepath.c), in a fresh mkdtemp() directory: opening and creating
 * parents, refusing a symlink anywhere on the way (-ELOOP, naming it), the
 * ownership and write-permission rules for directories, and rmdir.
 *
 * The cases about directories owned by another user need root (chown); as
 * another user they are skipped.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../daemon/safepath.h"
#include "tap.h"
#include "tmpdir.h"
#include "util.h"

#define OTHER_UID 54321 /* a uid no test directory belongs to */

static char top[PATH_MAX / 2];

/* TOP/REL, in one of eight static buffers, so that a few may be used at once. */
static const char *at(const char *rel) {
        static char bufs[8][PATH_MAX];
        static unsigned next;
        char *b = bufs[next++ % 8];

        snprintf(b, PATH_MAX, "%s/%s", top, rel);
        return b;
}

static void xmkdir(const char *rel, mode_t mode) {
        if (mkdir(at(rel), mode) < 0 || chmod(at(rel), mode) < 0)
                BAIL_OUT("mkdir %s: %s", at(rel), strerror(errno));
}

static void xsymlink(const char *target, const char *rel) {
        if (symlink(target, at(rel)) < 0)
                BAIL_OUT("symlink %s: %s", at(rel), strerror(errno));
}

static bool exists(const char *rel) {
        struct stat st;
        return lstat(at(rel), &st) == 0;
}

/* Is FD the object at PATH (same device and inode)? */
static bool same_file(int fd, const char *path) {
        struct stat a, b;
        return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static void test_open_parent(void) {
        _cleanup_close_ int fd = -1;
        const char *base = NULL;
        char *bad = NULL;
        char path[PATH_MAX];
        struct stat st;
        int r;

        snprintf(path, sizeof(path), "%s", at("made/deeper/file"));
        r = safepath_open_parent(path, 0700, &fd, &base, &bad);
        is_int(r, 0, "open_parent creates missing directories");
        ok(fd >= 0 && same_file(fd, at("made/deeper")), "the descriptor is the parent directory");
        ok(base == path + strlen(path) - strlen("file") && streq(base, "file"), "base points at the last component");
        ok(stat(at("made/deeper"), &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0700,
           "created with the mode asked for (0700)");
        ok(fcntl(fd, F_GETFL) >= 0 && (fcntl(fd, F_GETFL) & O_PATH), "the descriptor is O_PATH");
        ok(!exists("made/deeper/file"), "the last component is not created");
        close(fd);
        fd = -1;

        r = safepath_open_parent(at("missing/file"), 0, &fd, &base, &bad);
        is_int(r, -ENOENT, "without create_mode a missing directory is -ENOENT");
        is_str(bad, at("missing"), "and named");
        ok(fd < 0 && !exists("missing"), "nothing opened, nothing created");
        free(bad);
        bad = NULL;

        r = safepath_open_parent("/ipcbroker-test-file", 0, &fd, &base, &bad);
        ok(r == 0 && same_file(fd, "/") && streq(base, "ipcbroker-test-file"), "a file in / has / as its parent");
        close(fd);
        fd = -1;

        is_int(safepath_open_parent("relative/file", 0, &fd, &base, NULL), -EINVAL, "a relative path is -EINVAL");
        is_int(safepath_open_parent(at("made/"), 0, &fd, &base, NULL), -EINVAL, "a path ending in '/' is -EINVAL");
        is_int(safepath_open_parent(at("made/../made/file"), 0, &fd, &base, NULL), -EINVAL,
               "a '..' component is -EINVAL");
        is_int(safepath_open_parent(at("./made/file"), 0, &fd, &base, NULL), -EINVAL, "a '.' component is -EINVAL");

        r = safepath_open_dir(at("made/deeper"), 0, &fd, NULL);
        ok(r == 0 && same_file(fd, at("made/deeper")), "open_dir opens the directory itself");
        close(fd);
        fd = -1;
        r = safepath_open_dir(at("p/q/r"), 0755, &fd, NULL);
        ok(r == 0 && same_file(fd, at("p/q/r")), "open_dir creates like mkdir -p");
}

static void test_symlinks(void) {
        _cleanup_close_ int fd = -1;
        const char *base = NULL;
        char *bad = NULL;
        int r;

        xmkdir("real", 0755);
        xsymlink(at("real"), "link");
        xsymlink(at("nowhere"), "dangling");

        r = safepath_open_parent(at("link/file"), 0, &fd, &base, &bad);
        is_int(r, -ELOOP, "a symlink to a directory in the way is -ELOOP, not followed");
        is_str(bad, at("link"), "and the symlink is named");
        ok(fd < 0, "no descriptor");
        free(bad);
        bad = NULL;

        r = safepath_open_parent(at("link/sub/file"), 0700, &fd, &base, &bad);
        is_int(r, -ELOOP, "with create_mode too");
        ok(!exists("real/sub"), "nothing is created behind the symlink");
        free(bad);
        bad = NULL;

        r = safepath_open_parent(at("dangling/file"), 0700, &fd, &base, &bad);
        is_int(r, -ELOOP, "a dangling symlink in the way is -ELOOP");
        ok(!exists("nowhere"), "its target is not created");
        free(bad);
        bad = NULL;

        r = safepath_open_dir(at("link"), 0, &fd, &bad);
        is_int(r, -ELOOP, "open_dir on a symlink is -ELOOP");
        is_str(bad, at("link"), "and names it");
        free(bad);
        bad = NULL;

        /* the last component is the caller's business: a symlink there is not opened */
        r = safepath_open_parent(at("link"), 0, &fd, &base, NULL);
        ok(r == 0 && same_file(fd, top) && streq(base, "link"), "a symlink as the last component is left alone");
}

static void test_check_dir(void) {
        _cleanup_close_ int fd = -1;
        const char *reason = NULL;
        bool root = geteuid() == 0;

        xmkdir("d", 0755);
        if (safepath_open_dir(at("d"), 0, &fd, NULL) < 0)
                BAIL_OUT("cannot open %s", at("d"));
        is_int(safepath_check_dir(fd, false, geteuid(), &reason), 0, "0755 and ours: safe");
        chmod(at("d"), 0775);
        is_int(safepath_check_dir(fd, false, geteuid(), &reason), -EPERM, "group-writable: refused");
        is_str(reason, "is writable by other users", "with a reason");
        chmod(at("d"), 0757);
        is_int(safepath_check_dir(fd, true, geteuid(), &reason), -EPERM,
               "writable by others without the sticky bit: refused even where sticky is allowed");
        chmod(at("d"), 01777);
        is_int(safepath_check_dir(fd, true, geteuid(), &reason), 0, "sticky 1777 where sticky is allowed: safe");
        reason = NULL;
        is_int(safepath_check_dir(fd, false, geteuid(), &reason), -EPERM, "sticky 1777 where it is not: refused");
        is_str(reason, "is writable by other users", "with a reason");
        chmod(at("d"), 0755);

        if (!root) {
                pass("owned by another user: refused # SKIP needs root to chown");
                pass("owned by the trusted uid: safe # SKIP needs root to chown");
                return;
        }
        if (chown(at("d"), OTHER_UID, OTHER_UID) < 0)
                BAIL_OUT("chown %s: %s", at("d"), strerror(errno));
        is_int(safepath_check_dir(fd, false, geteuid(), &reason), -EPERM, "owned by another user: refused");
        is_str(reason, "is owned by another user", "with a reason");
        is_int(safepath_check_dir(fd, false, OTHER_UID, &reason), 0, "owned by the trusted uid: safe");
        if (chown(at("d"), 0, 0) < 0)
                BAIL_OUT("chown %s: %s", at("d"), strerror(errno));
}

/* A checked walk to the parent of REL must open PARENT_REL. */
static void checked_opens(const char *rel, mode_t create_mode, const struct safepath_rules *rules,
                          const char *parent_rel, const char *desc) {
        _cleanup_close_ int fd = -1;
        const char *base = NULL, *reason = NULL;
        char *bad = NULL;
        int r = safepath_open_parent_checked(at(rel), create_mode, rules, &fd, &base, &bad, &reason);

        if (!ok(r == 0 && same_file(fd, at(parent_rel)), "%s", desc))
                diag("r=%d, bad %s, %s", r, bad ? bad : "(none)", reason ? reason : "");
        free(bad);
}

/* A checked walk to the parent of REL must fail with ERR, naming BAD_REL and saying WHY (if not NULL). */
static void checked_refuses(const char *rel, mode_t create_mode, const struct safepath_rules *rules, int err,
                            const char *bad_rel, const char *why, const char *desc) {
        _cleanup_close_ int fd = -1;
        const char *base = NULL, *reason = NULL;
        char *bad = NULL;
        int r = safepath_open_parent_checked(at(rel), create_mode, rules, &fd, &base, &bad, &reason);

        is_int(r, err, "%s: %s", desc, strerror(-err));
        is_str(bad, at(bad_rel), "%s: names %s", desc, bad_rel);
        if (why)
                is_str(reason, why, "%s: says it %s", desc, why);
        free(bad);
}

static void test_open_parent_checked(void) {
        const struct safepath_rules strict = { .last_allow_sticky = false, .last_trusted_uid = geteuid() };
        const struct safepath_rules sticky_ok = { .last_allow_sticky = true, .last_trusted_uid = geteuid() };
        const struct safepath_rules trusted = { .last_allow_sticky = false, .last_trusted_uid = OTHER_UID };

        xmkdir("w", 0777);
        xmkdir("s", 01777);
        xmkdir("ok", 0755);

        checked_opens("ok/sub/file", 0700, &strict, "ok/sub", "safe directories all the way: opened (and created)");
        checked_refuses("w/sub/file", 0700, &strict, -EPERM, "w", "is writable by other users",
                        "a world-writable directory on the way");
        ok(!exists("w/sub"), "nothing created below it");
        checked_opens("s/sub/file", 0700, &strict, "s/sub", "a sticky directory on the way (like /tmp) is fine");
        checked_refuses("s/file", 0, &strict, -EPERM, "s", "is writable by other users",
                        "a sticky last directory where the rules forbid it");
        checked_opens("s/file", 0, &sticky_ok, "s", "and accepted where they allow it");
        checked_refuses("w/file", 0, &sticky_ok, -EPERM, "w", NULL,
                        "a last directory writable by others without sticky");
        checked_refuses("link/file", 0, &strict, -ELOOP, "link", NULL, "a symlink on a checked walk");

        if (geteuid() != 0) {
                pass("the last directory may be the trusted user's # SKIP needs root to chown");
                pass("a directory on the way may not # SKIP needs root to chown");
                return;
        }
        xmkdir("o", 0755);
        xmkdir("o/sub", 0755);
        if (chown(at("o"), OTHER_UID, OTHER_UID) < 0)
                BAIL_OUT("chown %s: %s", at("o"), strerror(errno));
        checked_opens("o/file", 0, &trusted, "o", "the last directory may be the trusted user's");
        checked_refuses("o/sub/file", 0, &trusted, -EPERM, "o", "is owned by another user",
                        "a directory on the way may not");
}

static void test_rmdir(void) {
        xmkdir("empty", 0755);
        xmkdir("full", 0755);
        xmkdir("full/x", 0755);
        xmkdir("real/inner", 0755);
        xsymlink(at("real"), "link2");

        is_int(safepath_rmdir(at("empty")), 0, "rmdir of an empty directory");
        ok(!exists("empty"), "it is gone");
        is_int(safepath_rmdir(at("full")), -ENOTEMPTY, "rmdir of a non-empty directory: -ENOTEMPTY");
        ok(exists("full/x"), "it is kept");
        is_int(safepath_rmdir(at("link2/inner")), -ELOOP, "rmdir through a symlink: -ELOOP");
        ok(exists("real/inner"), "the directory behind it is kept");
        is_int(safepath_rmdir(at("link2")), -ENOTDIR, "rmdir of a symlink: -ENOTDIR");
        ok(exists("link2") && exists("real"), "the symlink and its target are kept");
}

int main(void) {
        const char *tmp = getenv("TMPDIR");

        umask(022);
        snprintf(top, sizeof(top), "%s/test-safepath.XXXXXX", tmp && *tmp == '/' ? tmp : "/tmp");
        if (!mkdtemp(top))
                BAIL_OUT("mkdtemp(%s): %s", top, strerror(errno));
        /* the walk refuses symlinks: name the directory by its real path (TMPDIR may hold one) */
        char *real = realpath(top, NULL);
        if (!real || strlen(real) >= sizeof(top))
                BAIL_OUT("realpath(%s): %s", top, strerror(errno));
        snprintf(top, sizeof(top), "%s", real);
        free(real);
        test_open_parent();
        test_symlinks();
        test_check_dir();
        test_open_parent_checked();
        test_rmdir();
        tmpdir_remove(top);
        ok(access(top, F_OK) < 0 && errno == ENOENT, "the test directory is removed");
        return done_testing();
}
