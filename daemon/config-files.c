/*
 * config-files.c — the files of a configuration: the main file and the
 * drop-ins of its include directory (in name order), each opened once,
 * checked to be trusted on the open descriptor, then read (config-parser.c).
 */
#include "build-config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config-internal.h"
#include "util.h"

/*
 * Like sshd's StrictModes and sudo: a configuration file or include directory
 * that someone other than root or the daemon's user could change would let
 * them make themselves an admin, or have the daemon chown objects to them.
 * Checked on the open descriptor: what is checked is what is read.
 */
static bool config_file_trusted(struct parser *p, const char *path, const struct stat *st) {
        bool trusted = true;

        if (st->st_uid != 0 && st->st_uid != geteuid()) {
                config_errors_add(p->errors, path, 0,
                                  "is owned by uid %u, not root or the daemon's user (uid %u); refusing to read it",
                                  (unsigned)st->st_uid, (unsigned)geteuid());
                trusted = false;
        }
        if (st->st_mode & (S_IWGRP | S_IWOTH)) {
                config_errors_add(p->errors, path, 0,
                                  "is writable by group or others (mode %04o); refusing to read it (chmod go-w)",
                                  (unsigned)(st->st_mode & 07777));
                trusted = false;
        }
        return trusted;
}

int parser_read_file(struct parser *p, int dirfd, const char *name, const char *path, bool dropin) {
        _cleanup_close_ int fd = -1;
        struct stat st;
        int r;

        /* O_NONBLOCK: a FIFO named *.conf must not hang the daemon; regular files ignore it */
        if (dirfd >= 0)
                fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        else
                fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                r = -errno;
                config_errors_add(p->errors, path, 0, "cannot open: %s", strerror(-r));
                return r;
        }
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                config_errors_add(p->errors, path, 0, "not a regular file");
                return -EINVAL;
        }
        if (!config_file_trusted(p, path, &st))
                return -EPERM;
        p->f = fdopen(fd, "r");
        if (!p->f) {
                r = -errno;
                config_errors_add(p->errors, path, 0, "cannot read: %s", strerror(-r));
                return r;
        }
        fd = -1;

        parser_parse(p, path, dropin);
        return 0;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

void parser_read_dropins(struct parser *p) {
        const char *dir = p->config->include;
        _cleanup_close_ int fd = -1;
        struct stat st;
        DIR *d;
        struct dirent *de;
        char **names = NULL;
        size_t n = 0;

        if (!dir)
                return;
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT)
                        return; /* like systemd's .d directories: none is fine */
                config_errors_add(p->errors, p->config->file, p->broker_key_line[KEY_INCLUDE],
                                  "include: cannot read directory %s: %s", dir, strerror(errno));
                return;
        }
        /* whoever may add a drop-in configures the daemon */
        if (fstat(fd, &st) < 0) {
                config_errors_add(p->errors, dir, 0, "cannot stat: %s", strerror(errno));
                return;
        }
        if (!config_file_trusted(p, dir, &st))
                return;
        d = fdopendir(fd);
        if (!d) {
                config_errors_add(p->errors, p->config->file, p->broker_key_line[KEY_INCLUDE],
                                  "include: cannot read directory %s: %s", dir, strerror(errno));
                return;
        }
        fd = -1; /* the DIR owns it now */
        while ((de = readdir(d))) {
                size_t l = strlen(de->d_name);
                if (de->d_name[0] == '.' || l < 6 || !streq(de->d_name + l - 5, ".conf"))
                        continue;
                char **nn = realloc(names, (n + 1) * sizeof(*nn));
                if (!nn)
                        break;
                names = nn;
                if (asprintf(&names[n], "%s/%s", dir, de->d_name) < 0)
                        break;
                n++;
        }
        if (n > 0) /* qsort wants a valid array even for none */
                qsort(names, n, sizeof(*names), cmp_str);
        for (size_t i = 0; i < n; i++) {
                char **no = realloc(p->dropins, (p->n_dropins + 1) * sizeof(*no));
                if (!no) {
                        free(names[i]);
                        continue;
                }
                p->dropins = no;
                p->dropins[p->n_dropins++] = names[i];
                /* opened in the directory checked above, not by its name again */
                parser_read_file(p, dirfd(d), names[i] + strlen(dir) + 1, names[i], true);
        }
        closedir(d);
        free(names);
}
