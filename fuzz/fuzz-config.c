/*
 * fuzz-config.c — libFuzzer target for the configuration loader
 * (daemon/config-load.c, config-files.c, config-parser.c and config-keys.c,
 * with inih underneath) and the
 * kernel-limit check (daemon/limits.c).
 *
 * The input is the main configuration file. It is written to a memfd (no disk
 * traffic), loaded through /proc/self/fd/N with defaults pointing into a
 * private directory under /tmp and the process's own uid and gid, then checked
 * with limits_check() against two fixed sets of kernel limits (a stock Debian
 * machine without CAP_SYS_RESOURCE, and one with it). Everything is freed, so
 * LeakSanitizer sees any leak on any path.
 *
 * Invariants (a violation is __builtin_trap()):
 *   - config_load() returns 0, -EINVAL with new errors, or another negative
 *     errno with new errors; *ret is set exactly on success;
 *   - a loaded configuration is complete: channels sorted and unique by valid
 *     name, every value within the documented range, mq_name or path derived
 *     or valid, socket path short enough for a Unix socket, send/recv texts
 *     those of the lists; config_find_channel() finds each channel;
 *   - every error line is "FILE:LINE: message" or "FILE: message" for one of
 *     the files read, with LINE within the input;
 *   - loading the same input twice gives the same outcome and the same errors
 *     (no dependence on uninitialised memory or leftover state); checked for
 *     one input in four, chosen by a hash of its bytes.
 *
 * The `include` key may name any directory: the fuzzer then reads its *.conf
 * files like the daemon would. To give it drop-ins to find, a fixed directory
 * FUZZ_DROPIN_DIR (and FUZZ_BAD_DROPIN_DIR, FUZZ_EMPTY_DIR) are filled at
 * start-up (the seed corpus includes each). Other directories are read as they are; see fuzz/README.md.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../daemon/config.h"
#include "../daemon/limits.h"
#include "../daemon/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_DROPIN_DIR "/tmp/ipcbroker-fuzz.d"

#define check(cond)                                                                                                    \
        do {                                                                                                           \
                if (!(cond))                                                                                           \
                        __builtin_trap();                                                                              \
        } while (0)

static int input_fd = -1;
static char input_path[64];
static char socket_path[PATH_MAX];
static char runtime_dir[PATH_MAX];
static struct config_defaults defaults;

/*
 * Drop-ins the fuzzer can reach with "include = /tmp/ipcbroker-fuzz.d" (valid
 * ones, which may still clash with the main file) or "include =
 * /tmp/ipcbroker-fuzz-bad.d" (one error of each kind a drop-in can have,
 * including a directory, a dangling symlink and a FIFO named *.conf), or
 * "include = /tmp/ipcbroker-fuzz-empty.d" (a directory without any).
 */
#define FUZZ_BAD_DROPIN_DIR "/tmp/ipcbroker-fuzz-bad.d"
#define FUZZ_EMPTY_DIR "/tmp/ipcbroker-fuzz-empty.d" /* exists, holds no drop-in */
static const struct {
        const char *dir;
        const char *name;
        const char *text;
} dropins[] = {
        { FUZZ_DROPIN_DIR, "10-broker.conf", "[broker]\nmax_clients = 64\nlog_level = debug\nadmins = root\n  0\n" },
        { FUZZ_DROPIN_DIR, "20-channel.conf",
          "[channel dropin.q]\ntype = mqueue\nmax_messages = 5\nmessage_size = 128\n"
          "[channel dropin.f]\ntype = fifo\npath = /tmp/ipcbroker-fuzz.d/f\n" },
        { FUZZ_DROPIN_DIR, "30-clash.conf", "[channel clash]\ntype = mqueue\nmq_name = /ipcbroker.jobs\n" },
        { FUZZ_DROPIN_DIR, "ignored.txt", "[channel ignored]\ntype = nothing\n" },
        { FUZZ_DROPIN_DIR, ".hidden.conf", "[channel hidden]\ntype = nothing\n" },
        { FUZZ_BAD_DROPIN_DIR, "10-include.conf", "[broker]\ninclude = /tmp\nmax_clients = 0\n" },
        { FUZZ_BAD_DROPIN_DIR, "20-dup.conf", "[channel dropin.q]\ntype = mqueue\n[channel dropin.q]\n" },
        { FUZZ_BAD_DROPIN_DIR, "30-syntax.conf", "[bogus]\nx = 1\n[channel\nno equals sign\n" },
        { FUZZ_EMPTY_DIR, "README", "not a drop-in\n" },
};

/*
 * Write a drop-in unless it already holds TEXT, through a rename so that a
 * concurrent run (make -j check, two builds) never reads it half-written.
 */
static void write_file(const char *dir, const char *name, const char *text) {
        char path[PATH_MAX], tmp[PATH_MAX], cur[512];
        size_t len = strlen(text);
        ssize_t n = -1;
        int fd;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd >= 0) {
                n = read(fd, cur, sizeof(cur));
                close(fd);
                if (n >= 0 && (size_t)n == len && memcmp(cur, text, len) == 0)
                        return;
        }
        /* a dot name: the loader skips it while it exists */
        snprintf(tmp, sizeof(tmp), "%s/.tmp.%d.%s", dir, (int)getpid(), name);
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return;
        n = write(fd, text, len);
        close(fd);
        if (n < 0 || (size_t)n != len || rename(tmp, path) < 0)
                unlink(tmp); /* best effort: the drop-ins only widen coverage */
}

/*
 * Entries of the bad drop-in directory that are not regular files: the loader
 * must report each, and never block on the FIFO.
 */
static void make_special_dropins(void) {
        struct stat st;

        if (lstat(FUZZ_BAD_DROPIN_DIR, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid())
                return;
        (void)mkdir(FUZZ_BAD_DROPIN_DIR "/40-directory.conf", 0755);
        (void)symlink(FUZZ_BAD_DROPIN_DIR "/no-such-file", FUZZ_BAD_DROPIN_DIR "/50-dangling.conf");
        (void)mkfifo(FUZZ_BAD_DROPIN_DIR "/60-fifo.conf", 0644);
}

static void fuzz_init(void) {
        char dir[64];
        struct stat st;

        /* Loading logs nothing today; keep any future message off the fuzzer's output. */
        log_set_level(-1);

        snprintf(dir, sizeof(dir), "/tmp/ipcbroker-fuzz-config.%u", (unsigned)getuid());
        (void)mkdir(dir, 0700);
        snprintf(socket_path, sizeof(socket_path), "%s/run/ipcbroker.sock", dir);
        snprintf(runtime_dir, sizeof(runtime_dir), "%s/run", dir);
        defaults.socket = socket_path;
        defaults.runtime_dir = runtime_dir;
        defaults.uid = getuid();
        defaults.gid = getgid();

        for (size_t i = 0; i < sizeof(dropins) / sizeof(dropins[0]); i++) {
                if (mkdir(dropins[i].dir, 0755) < 0 &&
                    (lstat(dropins[i].dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid()))
                        continue; /* not ours: leave it alone */
                write_file(dropins[i].dir, dropins[i].name, dropins[i].text);
        }

        make_special_dropins();

        input_fd = memfd_create("ipcbroker-fuzz.conf", MFD_CLOEXEC);
        /* a memfd is created 0777: the loader refuses files others may write */
        if (input_fd >= 0 && fchmod(input_fd, 0600) < 0) {
                close(input_fd);
                input_fd = -1;
        }
        if (input_fd >= 0)
                snprintf(input_path, sizeof(input_path), "/proc/self/fd/%d", input_fd);
        else {
                /* no memfd: a regular file in the private directory */
                snprintf(input_path, sizeof(input_path), "%.40s/input.conf", dir);
                input_fd = open(input_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        }
        if (input_fd < 0) {
                fprintf(stderr, "fuzz-config: cannot create the input file: %s\n", strerror(errno));
                abort();
        }
}

static void set_input(const uint8_t *data, size_t size) {
        size_t off = 0;

        if (ftruncate(input_fd, 0) < 0)
                abort();
        while (off < size) {
                ssize_t n = pwrite(input_fd, data + off, size - off, (off_t)off);
                if (n <= 0)
                        abort();
                off += (size_t)n;
        }
}

static unsigned count_lines(const uint8_t *data, size_t size) {
        unsigned n = 0;

        for (size_t i = 0; i < size; i++)
                if (data[i] == '\n')
                        n++;
        return n + 1;
}

static bool is_abs_path(const char *s) {
        return s && s[0] == '/' && strlen(s) < PATH_MAX;
}

static void check_principals(const struct principal_list *l) {
        char *s;

        check(l->n == 0 || l->items != NULL);
        for (size_t i = 0; i < l->n; i++)
                check(l->items[i].kind == PRINCIPAL_USER || l->items[i].kind == PRINCIPAL_GROUP ||
                      l->items[i].kind == PRINCIPAL_ANY);
        check(principal_list_equal(l, l));
        s = principal_list_format(l);
        check(s != NULL);
        if (l->n == 0)
                check(s[0] == '\0');
        free(s);
}

/* The list as formatted once at load time is the list. */
static void check_text(const char *text, const struct principal_list *l) {
        char *s = principal_list_format(l);

        check(text != NULL && s != NULL);
        check(streq(text, s));
        free(s);
}

static void check_config(const struct config *c) {
        check(c->file && streq(c->file, input_path));
        check(is_abs_path(c->socket) && strlen(c->socket) < 108);
        check(c->socket_mode <= 0777);
        check(is_abs_path(c->runtime_dir));
        check(c->mq_prefix && c->mq_prefix[0] == '/' && !strchr(c->mq_prefix + 1, '/'));
        check(strlen(c->mq_prefix) + CHANNEL_NAME_MAX <= CONFIG_MQ_NAME_MAX + 1);
        check(c->max_clients >= 1 && c->max_clients <= 1000000);
        check(c->max_clients_per_user >= 1 && c->max_clients_per_user <= 1000000);
        check(c->idle_timeout >= 1 && c->idle_timeout <= 86400);
        check(c->max_connection_age >= 1 && c->max_connection_age <= 86400);
        check(c->include == NULL || is_abs_path(c->include));
        check(streq(log_level_to_string(c->log_level), "unknown") == false);
        check_principals(&c->admins);
        check(c->n_channels == 0 || c->channels != NULL);

        for (size_t i = 0; i < c->n_channels; i++) {
                const struct channel_config *ch = c->channels[i];

                check(ch && ch->name && channel_name_valid(ch->name));
                if (i > 0)
                        check(strcmp(c->channels[i - 1]->name, ch->name) < 0);
                check(config_find_channel(c, ch->name) == ch);
                check(ch->file != NULL && ch->line >= 1);
                check(ch->mode <= 0777);
                check(ch->on_stop == ON_STOP_KEEP || ch->on_stop == ON_STOP_REMOVE);
                check_principals(&ch->send);
                check_principals(&ch->recv);
                check_text(ch->send_text, &ch->send);
                check_text(ch->recv_text, &ch->recv);
                if (ch->type == CHANNEL_MQUEUE) {
                        check(ch->max_messages >= 1 && ch->max_messages <= MQ_HARD_MSGMAX);
                        check(ch->message_size >= 1 && ch->message_size <= MQ_HARD_MSGSIZEMAX);
                        check(ch->mq_name && ch->mq_name[0] == '/' && !strchr(ch->mq_name + 1, '/'));
                        check(strlen(ch->mq_name) >= 2 && strlen(ch->mq_name) <= CONFIG_MQ_NAME_MAX + 1);
                        check(ch->path == NULL);
                        check(limits_mq_bytes(ch->max_messages, ch->message_size) > 0);
                } else {
                        check(ch->type == CHANNEL_FIFO);
                        check(ch->message_size >= 1 && ch->message_size <= PIPE_BUF);
                        check(ch->capacity >= PIPE_BUF && ch->capacity <= FIFO_CAPACITY_MAX);
                        check(is_abs_path(ch->path));
                        check(ch->path[strlen(ch->path) - 1] != '/');
                        check(ch->mq_name == NULL);
                }
                check(streq(channel_type_to_string(ch->type), ch->type == CHANNEL_FIFO ? "fifo" : "mqueue"));
                (void)on_stop_to_string(ch->on_stop);
        }
        check(config_find_channel(c, "") == NULL);
}

/* "FILE:LINE: msg" or "FILE: msg" */
static void check_errors(const struct config_errors *e, size_t from, unsigned lines) {
        for (size_t i = from; i < e->n; i++) {
                const char *l = e->lines[i];
                size_t plen = strlen(input_path);

                check(l != NULL && l[0] != '\0');
                if (strncmp(l, input_path, plen) == 0 && (l[plen] == ':')) {
                        const char *rest = l + plen + 1;
                        if (rest[0] >= '0' && rest[0] <= '9') {
                                unsigned long line = strtoul(rest, NULL, 10);
                                check(line >= 1 && line <= lines);
                        } else
                                check(rest[0] == ' ');
                } else
                        /* a drop-in, which the include key must have named */
                        check(l[0] == '/');
        }
}

static bool under_fuzz_dir(const char *path) {
        static const char *const dirs[] = { FUZZ_DROPIN_DIR "/", FUZZ_BAD_DROPIN_DIR "/", FUZZ_EMPTY_DIR "/" };

        for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
                if (strncmp(path, dirs[i], strlen(dirs[i])) == 0)
                        return true;
        return false;
}

/* Did this load read drop-ins from outside the fuzzer's own directories? */
static bool foreign_include(const struct config *c, const struct config_errors *e) {
        size_t plen = strlen(input_path);

        if (c && c->include) {
                char with_slash[PATH_MAX + 1];
                snprintf(with_slash, sizeof(with_slash), "%s/", c->include);
                if (!under_fuzz_dir(with_slash))
                        return true;
        }
        for (size_t i = 0; i < e->n; i++)
                if (!(strncmp(e->lines[i], input_path, plen) == 0 && e->lines[i][plen] == ':') &&
                    !under_fuzz_dir(e->lines[i]))
                        return true;
        return false;
}

static const struct kernel_limits limits_debian = {
        .msg_max = 10,
        .msgsize_max = 8192,
        .queues_max = 256,
        .pipe_max_size = 1048576,
        .rlimit_msgqueue = { 819200, 819200 },
        .cap_sys_resource = false,
};

static const struct kernel_limits limits_privileged = {
        .msg_max = 10,
        .msgsize_max = 8192,
        .queues_max = 256,
        .pipe_max_size = 1048576,
        .rlimit_msgqueue = { RLIM_INFINITY, RLIM_INFINITY },
        .cap_sys_resource = true,
};

/* FNV-1a */
static uint32_t hash(const uint8_t *data, size_t size) {
        uint32_t h = 2166136261u;

        for (size_t i = 0; i < size; i++)
                h = (h ^ data[i]) * 16777619u;
        return h;
}

static int load(struct config **c, struct config_errors *e) {
        int r = config_load(input_path, &defaults, c, e);

        if (r == 0)
                check(*c != NULL);
        else {
                check(r < 0 && *c == NULL);
                check(e->n > 0); /* every failure is explained */
        }
        return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static bool initialized;
        struct config_errors errors = {}, errors2 = {};
        struct config *c = NULL, *c2 = NULL;
        unsigned lines;
        int r, r2;

        if (!initialized) {
                fuzz_init();
                initialized = true;
        }
        set_input(data, size);
        lines = count_lines(data, size);

        r = load(&c, &errors);
        check_errors(&errors, 0, lines);
        if (r == 0) {
                size_t before;

                check(errors.n == 0);
                check_config(c);

                limits_check(c, &limits_debian, &errors);
                before = errors.n;
                check_errors(&errors, 0, lines);
                limits_check(c, &limits_privileged, &errors);
                check(errors.n == before); /* with the capability only the hard maxima apply */
        }

        /*
         * The same input again: the same outcome, the same messages. Unless
         * `include` named a directory of someone else's, whose files may
         * change between the two loads (/tmp, say). Loading is most of the
         * cost, so only one input in four (by a hash of its bytes: the choice
         * is the same on every run) is loaded twice.
         */
        if (hash(data, size) % 4 != 0)
                goto done;
        r2 = load(&c2, &errors2);
        if (!foreign_include(c, &errors) && !foreign_include(c2, &errors2)) {
                check(r2 == r);
                if (r == 0) {
                        check(c2->n_channels == c->n_channels);
                        for (size_t i = 0; i < c->n_channels; i++)
                                check(streq(c->channels[i]->name, c2->channels[i]->name));
                        check(errors2.n == 0);
                } else {
                        check(errors2.n == errors.n);
                        for (size_t i = 0; i < errors.n; i++)
                                check(streq(errors.lines[i], errors2.lines[i]));
                }
        }

done:
        config_free(c);
        config_free(c2);
        config_errors_clear(&errors);
        config_errors_clear(&errors2);
        check(errors.n == 0 && errors.lines == NULL);
        return 0;
}
