/*
 * tmpdir.h — removing a unit test's temporary directory: the whole tree,
 * without following symlinks, saying (as a TAP comment) what could not go.
 */
#pragma once

#include <errno.h>
#include <ftw.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"

static inline int tmpdir_remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void)st;
        (void)ftw;
        if ((flag == FTW_DP ? rmdir(path) : unlink(path)) < 0)
                diag("cannot remove %s: %s", path, strerror(errno));
        return 0;
}

static inline void tmpdir_remove(const char *dir) {
        if (nftw(dir, tmpdir_remove_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
                diag("cannot clean up %s: %s", dir, strerror(errno));
}
