/*
 * fdstore.c — the descriptors the service manager passes and keeps (see
 * fdstore.h).
 */
#include "build-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "fdstore.h"
#include "log.h"

#define FIFO_PREFIX "fifo-"
#define HELD_PREFIX "held-"

struct passed {
        int fd;
        char *name;
};

static struct passed *passed;
static size_t n_passed;
static bool storing; /* a service manager listens: store what must outlive us */

static void strv_free_simple(char **v) {
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
}

int fdstore_take(void) {
        char **names = NULL;
        int n = sd_listen_fds_with_names(1, &names);

        storing = getenv("NOTIFY_SOCKET") != NULL;
        if (n <= 0) {
                strv_free_simple(names);
                return n;
        }
        passed = calloc((size_t)n, sizeof(*passed));
        if (!passed) {
                strv_free_simple(names);
                return -ENOMEM;
        }
        for (int i = 0; i < n; i++) {
                passed[i].fd = SD_LISTEN_FDS_START + i;
                passed[i].name = names && names[i] ? strdup(names[i]) : strdup("unknown");
        }
        n_passed = (size_t)n;
        strv_free_simple(names);
        return n;
}

static bool is_fifo_name(const char *name) {
        return name && strncmp(name, FIFO_PREFIX, strlen(FIFO_PREFIX)) == 0;
}

static bool is_held_name(const char *name) {
        return name && strncmp(name, HELD_PREFIX, strlen(HELD_PREFIX)) == 0;
}

/* A FIFO the store kept for us, not a socket. */
static bool is_stored_name(const char *name) {
        return is_fifo_name(name) || is_held_name(name);
}

bool fdstore_socket_passed(void) {
        char **names = NULL;
        int n = sd_listen_fds_with_names(0, &names);
        bool found = false;

        for (int i = 0; i < n && !found; i++)
                found = !is_stored_name(names ? names[i] : NULL) &&
                        sd_is_socket(SD_LISTEN_FDS_START + i, AF_UNSPEC, 0, 1) > 0;
        strv_free_simple(names);
        return found;
}

int fdstore_socket(void) {
        int fd = -1;

        for (size_t i = 0; i < n_passed; i++) {
                if (passed[i].fd < 0 || is_stored_name(passed[i].name))
                        continue;
                if (fd >= 0)
                        return -EINVAL;
                fd = passed[i].fd;
        }
        return fd;
}

int fdstore_claim(const char *name) {
        for (size_t i = 0; i < n_passed; i++)
                if (passed[i].fd >= 0 && is_fifo_name(passed[i].name) &&
                    strcmp(passed[i].name + strlen(FIFO_PREFIX), name) == 0) {
                        int fd = passed[i].fd;
                        passed[i].fd = -1;
                        return fd;
                }
        return -1;
}

static bool fdstore_notify(const char *state, int fd) {
        int r = fd >= 0 ? sd_pid_notify_with_fds(0, 0, state, &fd, 1) : sd_pid_notify(0, 0, state);

        if (r < 0)
                log_warning("cannot tell the service manager '%s': %s", state, strerror(-r));
        return r > 0;
}

/* Hand FD to the service manager's store as FDNAME; true when it was sent. */
static bool store(const char *fdname, int fd) {
        char state[300];

        snprintf(state, sizeof(state), "FDSTORE=1\nFDNAME=%s", fdname);
        return fdstore_notify(state, fd);
}

/* Take FDNAME out of the store. */
static void unstore(const char *fdname) {
        char state[300];

        snprintf(state, sizeof(state), "FDSTOREREMOVE=1\nFDNAME=%s", fdname);
        fdstore_notify(state, -1);
}

void fdstore_put(const char *name, int fd) {
        char fdname[256];

        if (!storing)
                return;
        snprintf(fdname, sizeof(fdname), FIFO_PREFIX "%s", name);
        /* one descriptor a name: the one stored before (a replaced FIFO's) goes first */
        unstore(fdname);
        store(fdname, fd);
}

void fdstore_remove(const char *name) {
        char fdname[256];

        if (!storing)
                return;
        snprintf(fdname, sizeof(fdname), FIFO_PREFIX "%s", name);
        unstore(fdname);
}

void fdstore_leftovers(void (*fn)(const char *name, int fd, void *userdata), void *userdata) {
        for (size_t i = 0; i < n_passed; i++)
                if (passed[i].fd >= 0 && is_fifo_name(passed[i].name)) {
                        int fd = passed[i].fd;
                        passed[i].fd = -1;
                        fn(passed[i].name + strlen(FIFO_PREFIX), fd, userdata);
                }
}

char *fdstore_put_held(const char *name, int fd) {
        char *fdname = NULL;
        struct stat st;

        if (!storing)
                return NULL;
        if (fstat(fd, &st) < 0) {
                log_warning("channel '%s': cannot inspect a FIFO held over, so it is not stored: %s", name,
                            strerror(errno));
                return NULL;
        }
        /* at most 5 + 128 + 2 * 21 characters of [A-Za-z0-9._-]: a valid FDNAME (255 printable, no ':') */
        if (asprintf(&fdname, HELD_PREFIX "%s-%llu-%llu", name, (unsigned long long)st.st_dev,
                     (unsigned long long)st.st_ino) < 0)
                return NULL;
        if (!store(fdname, fd)) {
                free(fdname);
                return NULL;
        }
        return fdname;
}

void fdstore_remove_held(const char *fdname) {
        if (storing && fdname)
                unstore(fdname);
}

/* The channel's name in "held-NAME-DEV-INO" (NAME may hold '-'), into BUF; false when it is not one. */
static bool held_channel_name(const char *fdname, char *buf, size_t size) {
        const char *name = fdname + strlen(HELD_PREFIX), *end = fdname + strlen(fdname);

        for (int field = 0; field < 2; field++) {
                const char *dash = end;
                while (dash > name && dash[-1] != '-')
                        dash--;
                if (dash == end || dash == name || strspn(dash, "0123456789") != (size_t)(end - dash))
                        return false;
                end = dash - 1;
        }
        if (end == name || (size_t)(end - name) >= size)
                return false;
        memcpy(buf, name, (size_t)(end - name));
        buf[end - name] = '\0';
        return true;
}

void fdstore_held(void (*fn)(const char *name, const char *fdname, int fd, void *userdata), void *userdata) {
        for (size_t i = 0; i < n_passed; i++) {
                char name[256];
                int fd = passed[i].fd;

                if (fd < 0 || !is_held_name(passed[i].name))
                        continue;
                passed[i].fd = -1;
                if (!held_channel_name(passed[i].name, name, sizeof(name))) {
                        log_warning("the service manager passed '%s', which is not a name the daemon stores; "
                                    "taking it out of the store",
                                    passed[i].name);
                        fdstore_remove_held(passed[i].name);
                        close(fd);
                        continue;
                }
                fn(name, passed[i].name, fd, userdata);
        }
}

void fdstore_release(void) {
        for (size_t i = 0; i < n_passed; i++)
                free(passed[i].name);
        free(passed);
        passed = NULL;
        n_passed = 0;
}
