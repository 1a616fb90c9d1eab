/*
 * statefile.h — the files a bridge keeps in spool_dir (the out direction's
 * NAME.spool, the in direction's NAME.mark): opened locked, so that two
 * bridges never share one, and replaced whole through a new file and a
 * rename, so that a crash leaves the old one or the new one, never half.
 */
#pragma once

/*
 * Open (or create, mode 0600) DIR/NAME.SUFFIX, creating DIR (0700) if it is
 * missing, and lock it. *PATH (free()) and *FD, or a negative errno, logged
 * (-EBUSY: another bridge has it).
 */
int statefile_open(const char *dir, const char *name, const char *suffix, char **path, int *fd);
/* Begin replacing PATH: a new, empty file beside it. Its descriptor, or a negative errno. */
int statefile_begin(const char *path);
/* Make the new file (FD, from statefile_begin) durable, lock it and put it in PATH's place; closes it on failure. */
int statefile_commit(const char *path, int fd);
