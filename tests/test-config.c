/*
 * test-config.c — unit tests of config_load() and limits_check().
 *
 * Every case writes its configuration into a fresh mkdtemp() directory and
 * loads it with defaults pointing into that directory; nothing on the system
 * (no /dev/mqueue, no /run, no real kernel limits) is touched. Errors are
 * checked as exact "FILE:LINE: " prefixes plus the key words of the message.
 */
#include "build-config.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "../daemon/config.h"
#include "../daemon/limits.h"
#include "tap.h"
#include "tmpdir.h"

/* ---- calls to the user and group databases ----------------------------------
 *
 * test-config is linked with -Wl,--wrap for these four (tests/Makefile.inc):
 * every call the daemon's code makes lands here first and is counted.
 */

struct passwd *__real_getpwnam(const char *name);
struct group *__real_getgrnam(const char *name);
struct passwd *__real_getpwuid(uid_t uid);
struct group *__real_getgrgid(gid_t gid);
struct passwd *__wrap_getpwnam(const char *name);
struct group *__wrap_getgrnam(const char *name);
struct passwd *__wrap_getpwuid(uid_t uid);
struct group *__wrap_getgrgid(gid_t gid);

static struct { unsigned getpwnam, getgrnam, getpwuid, getgrgid; } nss_calls;

struct passwd *__wrap_getpwnam(const char *name) {
        nss_calls.getpwnam++;
        return __real_getpwnam(name);
}

struct group *__wrap_getgrnam(const char *name) {
        nss_calls.getgrnam++;
        return __real_getgrnam(name);
}

struct passwd *__wrap_getpwuid(uid_t uid) {
        nss_calls.getpwuid++;
        return __real_getpwuid(uid);
}

struct group *__wrap_getgrgid(gid_t gid) {
        nss_calls.getgrgid++;
        return __real_getgrgid(gid);
}

/* ---- temporary directories ------------------------------------------------ */

#define TMP_MAX_OWNED 64

struct tmp {
        char dir[PATH_MAX / 2]; /* leaves room for the names built from it */
        char socket[PATH_MAX];
        char runtime[PATH_MAX];
        struct config_defaults defaults;
        char *owned[TMP_MAX_OWNED]; /* strings freed by tmp_done() */
        size_t n_owned;
};

static char *xstrdup_owned(struct tmp *t, char *s) {
        if (!s)
                BAIL_OUT("out of memory");
        if (t->n_owned >= TMP_MAX_OWNED)
                BAIL_OUT("too many temporary strings");
        t->owned[t->n_owned++] = s;
        return s;
}

_printf_(2, 3) static char *tmp_fmt(struct tmp *t, const char *fmt, ...) {
        va_list ap;
        char *s;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        return xstrdup_owned(t, r < 0 ? NULL : s);
}

static void tmp_new(struct tmp *t) {
        const char *base = getenv("TMPDIR");

        memset(t, 0, sizeof(*t));
        snprintf(t->dir, sizeof(t->dir), "%s/test-config.XXXXXX", base && *base == '/' ? base : "/tmp");
        if (!mkdtemp(t->dir))
                BAIL_OUT("mkdtemp(%s): %s", t->dir, strerror(errno));
        snprintf(t->socket, sizeof(t->socket), "%s/run/ipcbroker.sock", t->dir);
        snprintf(t->runtime, sizeof(t->runtime), "%s/run", t->dir);
        t->defaults.socket = t->socket;
        t->defaults.runtime_dir = t->runtime;
        t->defaults.uid = geteuid();
        t->defaults.gid = getegid();
}

static void tmp_done(struct tmp *t) {
        tmpdir_remove(t->dir);
        for (size_t i = 0; i < t->n_owned; i++)
                free(t->owned[i]);
        t->n_owned = 0;
}

/* Write LEN bytes of CONTENT to DIR/NAME; returns the full path (owned by T). */
static const char *tmp_write_n(struct tmp *t, const char *name, const char *content, size_t len) {
        char *path = tmp_fmt(t, "%s/%s", t->dir, name);
        FILE *f = fopen(path, "we");

        if (!f)
                BAIL_OUT("cannot create %s: %s", path, strerror(errno));
        if (fwrite(content, 1, len, f) != len || fclose(f) != 0)
                BAIL_OUT("cannot write %s", path);
        return path;
}

static const char *tmp_write(struct tmp *t, const char *name, const char *content) {
        return tmp_write_n(t, name, content, strlen(content));
}

static const char *tmp_mkdir(struct tmp *t, const char *name) {
        char *path = tmp_fmt(t, "%s/%s", t->dir, name);

        if (mkdir(path, 0755) < 0)
                BAIL_OUT("mkdir %s: %s", path, strerror(errno));
        return path;
}

/* ---- error assertions ------------------------------------------------------- */

static void dump_errors(const struct config_errors *e) {
        if (e->n == 0)
                diag("(no errors)");
        for (size_t i = 0; i < e->n; i++)
                diag("error %zu: %s", i, e->lines[i]);
}

/* Does LINE start with exactly "FILE:N: " (or "FILE: " for N == 0) and contain all WORDS? */
static bool error_matches(const char *line, const char *file, unsigned lineno, const char *const *words) {
        char prefix[PATH_MAX + 32];

        if (lineno > 0)
                snprintf(prefix, sizeof(prefix), "%s:%u: ", file, lineno);
        else
                snprintf(prefix, sizeof(prefix), "%s: ", file);
        if (strncmp(line, prefix, strlen(prefix)) != 0)
                return false;
        for (; words && *words; words++)
                if (!strstr(line + strlen(prefix), *words))
                        return false;
        return true;
}

static void describe_expected(const char *file, unsigned lineno, const char *const *words) {
        diag("expected an error starting with '%s:%u: ' and containing:", file, lineno);
        for (; words && *words; words++)
                diag("    '%s'", *words);
}

/* Is there an error (anywhere in E) at FILE:LINENO containing all WORDS? */
static bool has_error_v(const struct config_errors *e, const char *file, unsigned lineno, const char *const *words,
                        const char *desc) {
        for (size_t i = 0; i < e->n; i++)
                if (error_matches(e->lines[i], file, lineno, words))
                        return pass("%s", desc);
        fail("%s", desc);
        describe_expected(file, lineno, words);
        dump_errors(e);
        return false;
}
#define has_error(e, file, line, desc, ...)                                                                            \
        has_error_v((e), (file), (line), (const char *const[]){ __VA_ARGS__, NULL }, (desc))

static bool no_error_mentions(const struct config_errors *e, const char *word, const char *desc) {
        for (size_t i = 0; i < e->n; i++)
                if (strstr(e->lines[i], word)) {
                        fail("%s", desc);
                        dump_errors(e);
                        return false;
                }
        return pass("%s", desc);
}

/*
 * Load CONTENT as the main file of a fresh directory and expect it to be
 * rejected with -EINVAL and exactly one error, at LINENO, containing WORDS.
 */
static void check_one_error_v(const char *desc, const char *content, unsigned lineno, const char *const *words) {
        struct tmp t;
        struct config *c = NULL;
        struct config_errors e = {};
        const char *path;
        int r;

        tmp_new(&t);
        path = tmp_write(&t, "ipcbroker.conf", content);
        r = config_load(path, &t.defaults, &c, &e);
        is_int(r, -EINVAL, "%s: rejected with -EINVAL", desc);
        ok(!c, "%s: no config returned", desc);
        if (!is_int(e.n, 1, "%s: exactly one error", desc))
                dump_errors(&e);
        if (!ok(e.n >= 1 && error_matches(e.lines[0], path, lineno, words), "%s: error at line %u", desc, lineno)) {
                describe_expected(path, lineno, words);
                dump_errors(&e);
        }
        config_free(c);
        config_errors_clear(&e);
        tmp_done(&t);
}
#define check_one_error(desc, content, line, ...)                                                                      \
        check_one_error_v((desc), (content), (line), (const char *const[]){ __VA_ARGS__, NULL })

/* Load CONTENT and expect success; the caller frees *ret and calls tmp_done(t). */
static struct config *load_ok(struct tmp *t, const char *desc, const char *content, const char **ret_path) {
        struct config *c = NULL;
        struct config_errors e = {};
        const char *path = tmp_write(t, "ipcbroker.conf", content);
        int r = config_load(path, &t->defaults, &c, &e);

        if (!is_int(r, 0, "%s: loads", desc))
                dump_errors(&e);
        if (!is_int(e.n, 0, "%s: no errors", desc))
                dump_errors(&e);
        config_errors_clear(&e);
        if (ret_path)
                *ret_path = path;
        if (r < 0 || !c) {
                config_free(c);
                return NULL;
        }
        return c;
}

static char *repeat(char ch, size_t n) {
        char *s = malloc(n + 1);

        if (!s)
                BAIL_OUT("out of memory");
        memset(s, ch, n);
        s[n] = '\0';
        return s;
}

/* ---- valid configurations --------------------------------------------------- */

static void test_minimal_mqueue(void) {
        struct tmp t;
        const char *path;
        struct config *c;

        tmp_new(&t);
        c = load_ok(&t, "minimal mqueue", "[channel X]\ntype=mqueue\n", &path);
        if (c) {
                const struct channel_config *ch;

                is_str(c->file, path, "config remembers its file");
                is_str(c->socket, t.socket, "socket defaults to defaults->socket");
                is_str(c->runtime_dir, t.runtime, "runtime_dir defaults to defaults->runtime_dir");
                is_str(c->mq_prefix, "/ipcbroker.", "mq_prefix default");
                is_int(c->socket_mode, 0666, "socket_mode default 0666");
                is_int(c->max_clients, 1024, "max_clients default 1024");
                is_int(c->log_level, LOG_INFO, "log_level default info");
                ok(!c->include, "no include by default");
                is_int(c->admins.n, 0, "no admins by default");
                is_int(c->n_channels, 1, "one channel");
                ch = config_find_channel(c, "X");
                if (ok(ch, "channel X found")) {
                        is_str(ch->name, "X", "name X");
                        is_int(ch->type, CHANNEL_MQUEUE, "type mqueue");
                        is_int(ch->mode, 0600, "mode defaults to 0600");
                        is_int(ch->owner, geteuid(), "owner defaults to defaults->uid");
                        is_int(ch->group, getegid(), "group defaults to defaults->gid");
                        is_int(ch->max_messages, 10, "max_messages defaults to 10");
                        is_int(ch->message_size, 8192, "message_size defaults to 8192");
                        is_str(ch->mq_name, "/ipcbroker.X", "mq_name derived from the default prefix");
                        ok(!ch->path, "an mqueue has no path");
                        ok(!ch->explicit_name, "mq_name not explicit");
                        is_int(ch->on_stop, ON_STOP_KEEP, "on_stop defaults to keep");
                        is_int(ch->send.n, 0, "send empty");
                        is_int(ch->recv.n, 0, "recv empty");
                        is_str(ch->file, path, "channel file");
                        is_int(ch->line, 1, "channel declared at line 1");
                }
        }
        config_free(c);
        tmp_done(&t);

        /* The default owner and group are the ones passed in, not the process's. */
        tmp_new(&t);
        t.defaults.uid = 4242;
        t.defaults.gid = 4343;
        c = load_ok(&t, "custom default owner", "[channel X]\ntype = mqueue\n", NULL);
        if (c && c->n_channels == 1) {
                is_int(c->channels[0]->owner, 4242, "owner defaults to defaults->uid (4242)");
                is_int(c->channels[0]->group, 4343, "group defaults to defaults->gid (4343)");
        }
        config_free(c);
        tmp_done(&t);

        /* An empty file is a valid configuration with no channels. */
        tmp_new(&t);
        c = load_ok(&t, "empty file", "", NULL);
        if (c) {
                is_int(c->n_channels, 0, "empty file: no channels");
                ok(!config_find_channel(c, "X"), "empty file: find_channel returns NULL");
        }
        config_free(c);
        tmp_done(&t);
}

static void test_minimal_fifo(void) {
        struct tmp t;
        struct config *c;

        tmp_new(&t);
        c = load_ok(&t, "minimal fifo", "; a FIFO\n[channel f.1]\ntype = fifo\n", NULL);
        if (c) {
                const struct channel_config *ch = config_find_channel(c, "f.1");
                if (ok(ch, "channel f.1 found")) {
                        char *expected = tmp_fmt(&t, "%s/fifo/f.1", t.runtime);
                        is_int(ch->type, CHANNEL_FIFO, "type fifo");
                        is_str(ch->path, expected, "path is RUNTIME/fifo/NAME");
                        is_int(ch->message_size, PIPE_BUF, "fifo message_size defaults to PIPE_BUF");
                        is_int(ch->capacity, 65536, "fifo capacity defaults to 65536");
                        is_int(ch->mode, 0600, "fifo mode defaults to 0600");
                        ok(!ch->mq_name, "a fifo has no mq_name");
                        ok(!ch->explicit_name, "path not explicit");
                        is_int(ch->line, 2, "fifo declared at line 2");
                }
        }
        config_free(c);
        tmp_done(&t);
}

static void test_broker_keys(void) {
        struct tmp t;
        struct config *c;
        char *conf;

        tmp_new(&t);
        /* [broker] last: derived names must use the final prefix and runtime_dir. */
        conf = tmp_fmt(&t,
                       "[channel q]\n"
                       "type = mqueue\n"
                       "[channel p]\n"
                       "type = fifo\n"
                       "\n"
                       "[broker]\n"
                       "socket = %s/b.sock   ; inline comment\n"
                       "socket_mode = 0660\n"
                       "runtime_dir = %s/rt\n"
                       "mq_prefix = /test.\n"
                       "admins = root @root\n"
                       "max_clients = 7\n"
                       "include = %s/conf.d\n"
                       "log_level = debug\n",
                       t.dir, t.dir, t.dir);
        c = load_ok(&t, "all [broker] keys", conf, NULL);
        if (c) {
                const struct channel_config *q = config_find_channel(c, "q");
                const struct channel_config *p = config_find_channel(c, "p");

                is_str(c->socket, tmp_fmt(&t, "%s/b.sock", t.dir), "socket parsed (inline comment stripped)");
                is_int(c->socket_mode, 0660, "socket_mode 0660");
                is_str(c->runtime_dir, tmp_fmt(&t, "%s/rt", t.dir), "runtime_dir parsed");
                is_str(c->mq_prefix, "/test.", "mq_prefix parsed");
                if (is_int(c->admins.n, 2, "two admins")) {
                        ok(c->admins.items[0].kind == PRINCIPAL_USER && c->admins.items[0].id == 0, "admin root");
                        ok(c->admins.items[1].kind == PRINCIPAL_GROUP && c->admins.items[1].id == 0, "admin @root");
                }
                is_int(c->max_clients, 7, "max_clients 7");
                is_str(c->include, tmp_fmt(&t, "%s/conf.d", t.dir), "include parsed (missing directory is fine)");
                is_int(c->log_level, LOG_DEBUG, "log_level debug");
                ok(q && q->mq_name && streq(q->mq_name, "/test.q"), "mq_prefix applies to the derived mq_name");
                ok(p && p->path && streq(p->path, tmp_fmt(&t, "%s/rt/fifo/p", t.dir)),
                   "runtime_dir applies to the derived fifo path");
        }
        config_free(c);
        tmp_done(&t);

        /* The other log levels, and a mode without a leading 0. */
        static const struct {
                const char *name;
                int level;
        } levels[] = {
                { "error", LOG_ERR },
                { "warning", LOG_WARNING },
                { "notice", LOG_NOTICE },
                { "info", LOG_INFO },
        };
        for (size_t i = 0; i < ARRAY_SIZE(levels); i++) {
                tmp_new(&t);
                conf = tmp_fmt(&t, "[broker]\nlog_level = %s\nsocket_mode = 600\n", levels[i].name);
                c = load_ok(&t, tmp_fmt(&t, "log_level %s", levels[i].name), conf, NULL);
                if (c) {
                        is_int(c->log_level, levels[i].level, "log_level %s parsed", levels[i].name);
                        is_int(c->socket_mode, 0600, "socket_mode 600 is octal");
                }
                config_free(c);
                tmp_done(&t);
        }
}

static void test_principals(void) {
        struct tmp t;
        struct config *c;
        struct passwd *pw = getpwnam("nobody");
        struct group *gr = getgrnam("nogroup");
        uid_t nobody = pw ? pw->pw_uid : 65534;
        gid_t nogroup = gr ? gr->gr_gid : 65534;

        tmp_new(&t);
        c = load_ok(&t, "principals",
                    "[channel p]\n"
                    "type = mqueue\n"
                    "owner = nobody\n"
                    "group = nogroup\n"
                    "mode = 0640\n"
                    "send = root 0 @root @0 *\n"
                    "recv = nobody @nogroup 4242 @4343\n"
                    "[channel n]\n"
                    "type = fifo\n"
                    "owner = 0\n"
                    "group = root\n",
                    NULL);
        if (c) {
                const struct channel_config *p = config_find_channel(c, "p");
                const struct channel_config *n = config_find_channel(c, "n");

                if (ok(p, "channel p found")) {
                        static const struct principal want[] = {
                                { PRINCIPAL_USER, 0 },  { PRINCIPAL_USER, 0 }, { PRINCIPAL_GROUP, 0 },
                                { PRINCIPAL_GROUP, 0 }, { PRINCIPAL_ANY, 0 },
                        };
                        is_int(p->owner, nobody, "owner nobody resolved");
                        is_int(p->group, nogroup, "group nogroup resolved");
                        is_int(p->mode, 0640, "mode 0640");
                        if (is_int(p->send.n, 5, "send: five principals"))
                                for (size_t i = 0; i < 5; i++) {
                                        ok(p->send.items[i].kind == want[i].kind &&
                                                   (want[i].kind == PRINCIPAL_ANY || p->send.items[i].id == want[i].id),
                                           "send[%zu] kind %d id %u", i, want[i].kind, want[i].id);
                                }
                        if (is_int(p->recv.n, 4, "recv: four principals")) {
                                ok(p->recv.items[0].kind == PRINCIPAL_USER && p->recv.items[0].id == nobody,
                                   "recv[0] user nobody");
                                ok(p->recv.items[1].kind == PRINCIPAL_GROUP && p->recv.items[1].id == nogroup,
                                   "recv[1] group nogroup");
                                ok(p->recv.items[2].kind == PRINCIPAL_USER && p->recv.items[2].id == 4242,
                                   "recv[2] numeric uid 4242 (need not exist)");
                                ok(p->recv.items[3].kind == PRINCIPAL_GROUP && p->recv.items[3].id == 4343,
                                   "recv[3] numeric gid 4343 (need not exist)");
                        }
                }
                if (ok(n, "channel n found")) {
                        is_int(n->owner, 0, "owner 0");
                        is_int(n->group, 0, "group root");
                }
        }
        config_free(c);
        tmp_done(&t);
}

/* Each user and group name, and each id formatted, is looked up once per load, not once per channel. */
static void test_name_lookups(void) {
        struct tmp t;
        struct config *c = NULL;
        struct config_errors e = {};
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);
        const char *path;
        int r;

        if (!f)
                BAIL_OUT("out of memory");
        fputs("[broker]\nadmins = root @root\n", f);
        for (int i = 0; i < 500; i++)
                fprintf(f,
                        "[channel c%d]\ntype = mqueue\nowner = root\ngroup = root\nsend = root 0 @root @0 *\n"
                        "recv = root\n",
                        i);
        fclose(f);
        tmp_new(&t);
        path = tmp_write(&t, "ipcbroker.conf", text);
        free(text);

        for (unsigned load = 1; load <= 2; load++) {
                memset(&nss_calls, 0, sizeof(nss_calls));
                r = config_load(path, &t.defaults, &c, &e);
                if (!is_int(r, 0, "500 channels naming root, load %u: loads", load))
                        dump_errors(&e);
                is_int(nss_calls.getpwnam, 1, "load %u: the user name root looked up once", load);
                is_int(nss_calls.getgrnam, 1, "load %u: the group name root looked up once", load);
                is_int(nss_calls.getpwuid, 1, "load %u: uid 0 named once for the send and recv texts", load);
                is_int(nss_calls.getgrgid, 1, "load %u: gid 0 named once for the send and recv texts", load);
                if (c && ok(c->n_channels == 500, "load %u: 500 channels", load)) {
                        is_int(c->channels[499]->owner, 0, "load %u: the last channel's owner resolved", load);
                        is_int(c->channels[499]->group, 0, "load %u: the last channel's group resolved", load);
                        is_str(c->channels[0]->send_text, "root root @root @root *", "load %u: send text", load);
                        is_str(c->channels[499]->recv_text, "root", "load %u: recv text of the last channel", load);
                        is_int(c->admins.n, 2, "load %u: two admins", load);
                }
                config_free(c);
                c = NULL;
                config_errors_clear(&e);
        }

        /* an unknown name is asked once, yet reported wherever it is used */
        path = tmp_write(&t, "unknown.conf",
                         "[channel a]\ntype = fifo\nowner = ipcbroker-no-such-user\n"
                         "[channel b]\ntype = fifo\nsend = root ipcbroker-no-such-user\n"
                         "[channel c]\ntype = fifo\nowner = ipcbroker-no-such-user\n"
                         "recv = @ipcbroker-no-such-group\ngroup = ipcbroker-no-such-group\n");
        memset(&nss_calls, 0, sizeof(nss_calls));
        r = config_load(path, &t.defaults, &c, &e);
        is_int(r, -EINVAL, "unknown names: rejected");
        is_int(e.n, 5, "unknown names: five errors");
        has_error(&e, path, 3, "unknown names: owner of a", "owner: unknown user 'ipcbroker-no-such-user'");
        has_error(&e, path, 6, "unknown names: send of b", "send: unknown user 'ipcbroker-no-such-user'");
        has_error(&e, path, 9, "unknown names: owner of c", "owner: unknown user 'ipcbroker-no-such-user'");
        has_error(&e, path, 10, "unknown names: recv of c", "recv: unknown group 'ipcbroker-no-such-group'");
        has_error(&e, path, 11, "unknown names: group of c", "group: unknown group 'ipcbroker-no-such-group'");
        is_int(nss_calls.getpwnam, 2, "unknown names: root and the unknown user looked up once each");
        is_int(nss_calls.getgrnam, 1, "unknown names: the unknown group looked up once");
        config_free(c);
        config_errors_clear(&e);
        tmp_done(&t);
}

static void test_explicit_names(void) {
        struct tmp t;
        struct config *c;
        char *conf;

        tmp_new(&t);
        conf = tmp_fmt(&t,
                       "[channel m]\n"
                       "type = mqueue\n"
                       "mq_name = /test_queue\n"
                       "max_messages = 256\n"
                       "message_size = 512\n"
                       "on_stop = remove\n"
                       "[channel f]\n"
                       "type = fifo\n"
                       "path = %s/myfifo\n"
                       "message_size = 4096\n"
                       "capacity = 1048576\n"
                       "on_stop = keep\n",
                       t.dir);
        c = load_ok(&t, "explicit mq_name and path", conf, NULL);
        if (c) {
                const struct channel_config *m = config_find_channel(c, "m");
                const struct channel_config *f = config_find_channel(c, "f");
                if (ok(m, "channel m found")) {
                        is_str(m->mq_name, "/test_queue", "explicit mq_name honoured");
                        ok(m->explicit_name, "mq_name is explicit");
                        is_int(m->max_messages, 256, "max_messages 256");
                        is_int(m->message_size, 512, "message_size 512");
                        is_int(m->on_stop, ON_STOP_REMOVE, "on_stop remove");
                }
                if (ok(f, "channel f found")) {
                        is_str(f->path, tmp_fmt(&t, "%s/myfifo", t.dir), "explicit path honoured");
                        ok(f->explicit_name, "path is explicit");
                        is_int(f->message_size, 4096, "fifo message_size 4096 (= PIPE_BUF) accepted");
                        is_int(f->capacity, 1048576, "capacity 1048576");
                        is_int(f->on_stop, ON_STOP_KEEP, "on_stop keep");
                }
        }
        config_free(c);
        tmp_done(&t);

        /* Boundaries that must be accepted. */
        tmp_new(&t);
        c = load_ok(&t, "upper bounds",
                    "[channel big]\ntype = mqueue\nmax_messages = 65536\nmessage_size = 16777216\n"
                    "[channel pipe]\ntype = fifo\ncapacity = 1073741824\nmessage_size = 1\n"
                    "[channel small]\ntype = fifo\ncapacity = 4096\n",
                    NULL);
        if (c && c->n_channels == 3) {
                is_int(c->channels[0]->max_messages, 65536, "max_messages 65536 accepted");
                is_int(c->channels[0]->message_size, 16777216, "message_size 16 MiB accepted");
                is_int(c->channels[1]->capacity, 1073741824, "capacity 1 GiB accepted");
                is_int(c->channels[2]->capacity, 4096, "capacity PIPE_BUF accepted");
        }
        config_free(c);
        tmp_done(&t);
}

static void test_sorting(void) {
        struct tmp t;
        struct config *c;
        static const char *const sorted[] = { "Mid", "alpha", "alpha.1", "beta-2", "zeta" };

        tmp_new(&t);
        c = load_ok(&t, "sorting",
                    "[channel zeta]\ntype = mqueue\n"   /* 1 */
                    "[channel alpha]\ntype = fifo\n"    /* 3 */
                    "[channel Mid]\ntype = mqueue\n"    /* 5 */
                    "[channel beta-2]\ntype = mqueue\n" /* 7 */
                    "[channel alpha.1]\ntype = fifo\n", /* 9 */
                    NULL);
        if (c && is_int(c->n_channels, 5, "five channels")) {
                static const unsigned lines[] = { 5, 3, 9, 7, 1 };
                for (size_t i = 0; i < ARRAY_SIZE(sorted); i++) {
                        is_str(c->channels[i]->name, sorted[i], "channels[%zu] is %s", i, sorted[i]);
                        ok(config_find_channel(c, sorted[i]) == c->channels[i], "config_find_channel(%s)", sorted[i]);
                        is_int(c->channels[i]->line, lines[i], "%s declared at line %u", sorted[i], lines[i]);
                }
                ok(!config_find_channel(c, "gamma"), "config_find_channel(gamma) is NULL");
                ok(!config_find_channel(c, "alph"), "config_find_channel(alph) is NULL");
                ok(!config_find_channel(c, ""), "config_find_channel(\"\") is NULL");
                ok(!config_find_channel(c, "zzz"), "config_find_channel(zzz) is NULL");
        }
        config_free(c);
        tmp_done(&t);
}

static void test_continuation(void) {
        struct tmp t;
        struct config *c;

        tmp_new(&t);
        c = load_ok(&t, "list continuation",
                    "[broker]\n"
                    "admins = root\n"
                    "   @root\n"
                    "[channel c]\n"
                    "type = mqueue\n"
                    "send = root\n"
                    "    @root\n"
                    "\t*\n"
                    "recv = nobody\n"
                    "mode = 0660\n",
                    NULL);
        if (c) {
                const struct channel_config *ch = config_find_channel(c, "c");
                is_int(c->admins.n, 2, "admins continued on an indented line");
                if (ok(ch, "channel c found")) {
                        if (is_int(ch->send.n, 3, "send continued on two indented lines")) {
                                ok(ch->send.items[0].kind == PRINCIPAL_USER, "send[0] user");
                                ok(ch->send.items[1].kind == PRINCIPAL_GROUP, "send[1] group");
                                ok(ch->send.items[2].kind == PRINCIPAL_ANY, "send[2] any");
                        }
                        is_int(ch->recv.n, 1, "recv has one principal");
                        is_int(ch->mode, 0660, "key after a continuation parsed");
                }
        }
        config_free(c);
        tmp_done(&t);

        /* A non-list key cannot continue. */
        check_one_error("continuation of a non-list key", "[channel c]\ntype = mqueue\nmode = 0600\n  0644\n", 4,
                        "indented", "only lists");

        /*
         * Right after a section header there is no value to continue: inih
         * resets its previous key there and reads an indented "key = value"
         * as a plain key (only the lines after that one continue it).
         */
        tmp_new(&t);
        c = load_ok(&t, "indented key right after a section header",
                    "[channel i]\n"
                    "    type = fifo\n"
                    "mode = 0644\n",
                    NULL);
        if (c && c->n_channels == 1) {
                is_int(c->channels[0]->type, CHANNEL_FIFO, "indented key: type fifo");
                is_int(c->channels[0]->mode, 0644, "indented key: mode 0644");
        }
        config_free(c);
        tmp_done(&t);
        /* ... and so is a key: set twice, it is a duplicate, not silently replaced */
        check_one_error("indented list key after a header, set again",
                        "[channel i]\n  send = root\ntype = mqueue\nsend = nobody\n", 4, "duplicate key 'send'",
                        "line 2");
}

static void test_long_names_and_lines(void) {
        struct tmp t;
        struct config *c;
        char *name128 = repeat('n', 128);
        char *conf = NULL;

        /* inih truncates section names at 50 characters; we keep all 128. */
        tmp_new(&t);
        conf = tmp_fmt(&t, "[channel %s]\ntype = mqueue\n", name128);
        c = load_ok(&t, "128-character channel name", conf, NULL);
        if (c && is_int(c->n_channels, 1, "one channel with a 128-character name")) {
                is_int(strlen(c->channels[0]->name), 128, "name kept whole (128 characters)");
                ok(config_find_channel(c, name128), "config_find_channel finds the 128-character name");
                ok(c->channels[0]->mq_name && strlen(c->channels[0]->mq_name) == strlen("/ipcbroker.") + 128,
                   "derived mq_name holds the whole name");
        }
        config_free(c);
        tmp_done(&t);

        /* Two names differing only after the 50th character are two channels. */
        tmp_new(&t);
        {
                char *a = tmp_fmt(&t, "%.60sa", name128);
                char *b = tmp_fmt(&t, "%.60sb", name128);
                conf = tmp_fmt(&t, "[channel %s]\ntype = mqueue\nmode = 0640\n[channel %s]\ntype = fifo\n", a, b);
                c = load_ok(&t, "names differing after 50 characters", conf, NULL);
                if (c && is_int(c->n_channels, 2, "two channels")) {
                        const struct channel_config *ca = config_find_channel(c, a);
                        const struct channel_config *cb = config_find_channel(c, b);
                        ok(ca && ca->type == CHANNEL_MQUEUE && ca->mode == 0640, "first long name keeps its keys");
                        ok(cb && cb->type == CHANNEL_FIFO && cb->mode == 0600, "second long name keeps its keys");
                }
                config_free(c);
        }
        tmp_done(&t);

        /* A line of 198 characters still fits inih's 200-byte buffer (with "\n\0") and is not cut. */
        tmp_new(&t);
        {
                /* "send = root root ... *", exactly 198 characters */
                char line[199];
                size_t n = 0;
                unsigned count = 0;

                n += (size_t)snprintf(line, sizeof(line), "send =");
                while (n + 5 <= 198 - 1) {
                        memcpy(line + n, " root", 5);
                        n += 5;
                        count++;
                }
                while (n < 197)
                        line[n++] = ' ';
                line[n++] = '*';
                line[n] = '\0';
                count++;
                conf = tmp_fmt(&t, "[channel l]\ntype = mqueue\n%s\nmode = 0644\n", line);
                is_int(strlen(line), 198, "the test line has 198 characters");
                c = load_ok(&t, "198-character line", conf, NULL);
                if (c && c->n_channels == 1) {
                        const struct channel_config *ch = c->channels[0];
                        is_int(ch->send.n, count, "198-character line: all %u principals read", count);
                        ok(ch->send.n > 0 && ch->send.items[ch->send.n - 1].kind == PRINCIPAL_ANY,
                           "198-character line: the last character was read");
                        is_int(ch->mode, 0644, "198-character line: next line parsed");
                }
                config_free(c);
        }
        tmp_done(&t);

        /*
         * A longer line is an error, and is neither truncated nor split: the
         * text after inih's cut (at 198 or 199 bytes) must not become a key.
         */
        {
                char line[400];
                size_t n;

                n = (size_t)snprintf(line, sizeof(line), "send = root");
                while (n < 199)
                        line[n++] = ' ';
                snprintf(line + n, sizeof(line) - n, "bogus_key = 1");
                n = strlen(line);

                tmp_new(&t);
                conf = tmp_fmt(&t,
                               "[channel l]\n"    /* 1 */
                               "type = mqueue\n"  /* 2 */
                               "%s\n"             /* 3: too long */
                               "mode = 0644\n"    /* 4 */
                               "on_stop = bad\n", /* 5: an error after it keeps its line number */
                               line);
                {
                        struct config_errors e = {};
                        const char *path = tmp_write(&t, "ipcbroker.conf", conf);
                        int r;

                        c = NULL;
                        r = config_load(path, &t.defaults, &c, &e);
                        is_int(r, -EINVAL, "%zu-character line: rejected", n);
                        if (!is_int(e.n, 2, "%zu-character line: two errors (the long line, the bad on_stop)", n))
                                dump_errors(&e);
                        has_error(&e, path, 3, "long line: error at line 3", "too long");
                        has_error(&e, path, 5, "line numbers after the long line stay right", "on_stop", "bad");
                        no_error_mentions(&e, "bogus_key", "text after the cut was not parsed as a key");
                        config_free(c);
                        config_errors_clear(&e);
                }
                tmp_done(&t);

                /* 199 characters: one too many for the buffer */
                line[199] = '\0';
                tmp_new(&t);
                conf = tmp_fmt(&t, "[channel l]\ntype = mqueue\n%s\n", line);
                check_one_error("199-character line", conf, 3, "too long");
                tmp_done(&t);

                /* a long comment is just as unparseable by inih: an error too, not a split */
                memset(line, ' ', 300);
                line[0] = ';';
                memcpy(line + 199, "[channel split]", 15);
                line[300] = '\0';
                tmp_new(&t);
                conf = tmp_fmt(&t, "[channel l]\ntype = fifo\n%s\n", line);
                check_one_error("300-character comment line", conf, 3, "too long");
                tmp_done(&t);

                /* a section header too long for the parser: its keys must not land in the previous channel */
                tmp_new(&t);
                {
                        char *hname = repeat('h', 200);
                        conf = tmp_fmt(&t, "[channel a]\ntype = mqueue\n[channel %s]\ntype = fifo\n", hname);
                        free(hname);
                }
                check_one_error("too-long section header", conf, 3, "too long");
                tmp_done(&t);
        }

        free(name128);
}

/* ---- errors ------------------------------------------------------------------- */

static void test_section_errors(void) {
        char *n128 = repeat('a', 128);
        char *n129 = repeat('b', 129);
        char *conf;

        check_one_error("unknown section", "[channel ok]\ntype = mqueue\n\n[foo]\nbar = 1\n", 4, "unknown section",
                        "[foo]");
        check_one_error("[channelx]", "; x\n[channelx]\ntype = mqueue\n", 2, "unknown section", "channelx");
        check_one_error("[channel] without name", "[channel]\ntype = mqueue\n", 1, "needs a name");
        check_one_error("[channel   ] without name", "\n[channel   ]\ntype = mqueue\n", 2, "needs a name");
        check_one_error("name starting with '.'", "[channel .hidden]\ntype = mqueue\n", 1, "invalid channel name",
                        "'.hidden'");
        check_one_error("name with '/'", "[channel ok]\ntype = fifo\n[channel a/b]\ntype = fifo\n", 3,
                        "invalid channel name", "'a/b'");
        check_one_error("name with a space", "[channel a b]\ntype = fifo\n", 1, "invalid channel name", "'a b'");
        check_one_error("name with a ':'", "[channel a:b]\ntype = fifo\n", 1, "invalid channel name", "'a:b'");

        if (asprintf(&conf, "[channel %s]\ntype = mqueue\n\n[channel %s]\ntype = mqueue\n", n128, n129) < 0)
                BAIL_OUT("out of memory");
        check_one_error("129-character name (128 accepted)", conf, 4, "invalid channel name", n129);
        free(conf);

        check_one_error("duplicate channel",
                        "[channel d]\n"     /* 1 */
                        "type = mqueue\n"   /* 2 */
                        "\n"                /* 3 */
                        "[channel d]\n"     /* 4 */
                        "type = fifo\n"     /* 5: ignored */
                        "capacity = 100\n", /* 6: ignored */
                        4, "duplicate channel 'd'", "already declared at", ":1)");
        check_one_error("text after a section header", "[channel a] junk\n", 1, "unexpected text after section header");
        /*
         * The keys under a rejected section header belong to no channel: they
         * must not land in the previous section (here: a duplicate 'type').
         */
        check_one_error("keys under a header with trailing text",
                        "[channel a]\ntype = mqueue\n[channel b] junk\ntype = fifo\n", 3,
                        "unexpected text after section header");
        check_one_error("unterminated section header",
                        "[channel ok]\n"  /* 1 */
                        "type = mqueue\n" /* 2 */
                        "[channel x\n"    /* 3 */
                        "[channel y]\n"   /* 4 */
                        "type = fifo\n",  /* 5 */
                        3, "unterminated section header");
        check_one_error("unterminated header with a comment", "[channel ok]\ntype = mqueue\n[channel x ; ]\n", 3,
                        "unterminated section header");

        free(n128);
        free(n129);

        /* The duplicate message names the first declaration's file and line exactly. */
        {
                struct tmp t;
                struct config *c = NULL;
                struct config_errors e = {};
                const char *path;

                tmp_new(&t);
                path = tmp_write(&t, "dup.conf", "\n\n[channel d]\ntype = mqueue\n[channel d]\n");
                is_int(config_load(path, &t.defaults, &c, &e), -EINVAL, "duplicate: rejected");
                has_error(&e, path, 5, "duplicate names the first declaration",
                          tmp_fmt(&t, "(already declared at %s:3)", path));
                config_free(c);
                config_errors_clear(&e);
                tmp_done(&t);
        }
}

static void test_key_errors(void) {
        char *long_key = repeat('k', 60);
        char *conf;

        check_one_error("unknown key", "[channel u]\ntype = mqueue\ncolour = blue\n", 3, "unknown key 'colour'");
        check_one_error("unknown key in [broker]", "[broker]\nlog_level = info\nfoo = 1\n", 3, "unknown key 'foo'");
        if (asprintf(&conf, "[channel u]\ntype = mqueue\n%s = 1\n", long_key) < 0)
                BAIL_OUT("out of memory");
        check_one_error("unknown 60-character key (named whole)", conf, 3, "unknown key", long_key);
        free(conf);
        free(long_key);

        check_one_error("broker key in a channel", "[channel x]\ntype = mqueue\nsocket = /run/x.sock\n", 3, "'socket'",
                        "[broker]");
        check_one_error("channel key in [broker]", "[broker]\nlog_level = info\ntype = mqueue\n", 3, "'type'",
                        "[channel NAME]");
        check_one_error("max_messages on a fifo", "[channel f]\ntype = fifo\nmax_messages = 5\n", 3, "channel 'f'",
                        "'max_messages'", "does not apply", "fifo");
        check_one_error("max_messages on a fifo, before type", "[channel f]\nmax_messages = 5\ntype = fifo\n", 2,
                        "'max_messages'", "does not apply", "fifo");
        check_one_error("capacity on an mqueue", "[channel m]\ntype = mqueue\nmode = 0600\ncapacity = 65536\n", 4,
                        "channel 'm'", "'capacity'", "does not apply", "mqueue");
        check_one_error("path on an mqueue", "[channel m]\npath = /tmp/x\ntype = mqueue\n", 2, "'path'",
                        "does not apply", "mqueue");
        check_one_error("mq_name on a fifo", "[channel f]\ntype = fifo\n\nmq_name = /q\n", 4, "'mq_name'",
                        "does not apply", "fifo");
        check_one_error("missing type",
                        "[broker]\n"         /* 1 */
                        "log_level = info\n" /* 2 */
                        "\n"                 /* 3 */
                        "[channel nt]\n"     /* 4 */
                        "mode = 0600\n",     /* 5 */
                        4, "channel 'nt'", "missing 'type'");
        check_one_error("bad type", "[channel t]\nmode = 0600\ntype = pipe\n", 3, "type", "'pipe'");
        check_one_error("duplicate key", "[channel k]\ntype = mqueue\nmode = 0600\nmode = 0644\n", 4,
                        "duplicate key 'mode'", "line 3");
        check_one_error("duplicate type", "[channel k]\ntype = mqueue\ntype = mqueue\n", 3, "duplicate key 'type'",
                        "line 2");
        check_one_error("duplicate key in two [broker] sections",
                        "[broker]\nmax_clients = 5\n[channel a]\ntype = fifo\n[broker]\nmax_clients = 6\n", 6,
                        "duplicate key 'max_clients'", "line 2");
        check_one_error("line without '='", "[channel a]\ntype = mqueue\njustaword\n", 3, "expected 'key = value'");
        check_one_error("key before any section", "type = mqueue\n[channel a]\ntype = mqueue\n", 1,
                        "key 'type' outside of any section");

        /* a NUL byte inside a line */
        {
                static const char nul[] = "[channel a]\ntype = mqueue\nmode = 06\0000\n";
                struct tmp t;
                struct config *c = NULL;
                struct config_errors e = {};
                const char *path;

                tmp_new(&t);
                path = tmp_write_n(&t, "ipcbroker.conf", nul, sizeof(nul) - 1);
                is_int(config_load(path, &t.defaults, &c, &e), -EINVAL, "NUL byte: rejected");
                if (!is_int(e.n, 1, "NUL byte: one error"))
                        dump_errors(&e);
                has_error(&e, path, 3, "NUL byte: error at line 3", "NUL");
                config_free(c);
                config_errors_clear(&e);
                tmp_done(&t);
        }
}

static void test_value_errors(void) {
        static const struct {
                const char *desc;
                const char *line; /* line 3 of a channel of type TYPE */
                const char *type;
                const char *words[4];
        } cases[] = {
                { "max_messages 10abc",
                  "max_messages = 10abc",
                  "mqueue",
                  { "max_messages", "'10abc'", "not a number" } },
                { "max_messages -1", "max_messages = -1", "mqueue", { "max_messages", "'-1'", "not a number" } },
                { "max_messages 0", "max_messages = 0", "mqueue", { "max_messages", "0", "out of range" } },
                { "max_messages 99999999999999999999 (overflows)",
                  "max_messages = 99999999999999999999",
                  "mqueue",
                  { "max_messages", "99999999999999999999", "out of range" } },
                { "max_messages empty", "max_messages =", "mqueue", { "max_messages", "empty value" } },
                { "max_messages 0x10", "max_messages = 0x10", "mqueue", { "max_messages", "not a number" } },
                { "max_messages +5", "max_messages = +5", "mqueue", { "max_messages", "not a number" } },
                { "max_messages 65537", "max_messages = 65537", "mqueue", { "max_messages", "65537", "out of range" } },
                { "message_size 0", "message_size = 0", "mqueue", { "message_size", "out of range" } },
                { "message_size 16 MiB + 1",
                  "message_size = 16777217",
                  "mqueue",
                  { "message_size", "16777217", "out of range" } },
                { "message_size 1k", "message_size = 1k", "fifo", { "message_size", "'1k'", "not a number" } },
                { "fifo message_size 4097",
                  "message_size = 4097",
                  "fifo",
                  { "channel 'c'", "message_size 4097", "PIPE_BUF" } },
                { "capacity 100", "capacity = 100", "fifo", { "channel 'c'", "capacity 100" } },
                { "capacity 4095", "capacity = 4095", "fifo", { "capacity 4095" } },
                { "capacity 1 GiB + 1", "capacity = 1073741825", "fifo", { "capacity", "1073741825", "out of range" } },
                { "capacity abc", "capacity = abc", "fifo", { "capacity", "'abc'", "not a number" } },
                { "capacity empty", "capacity = ", "fifo", { "capacity", "empty value" } },
                { "mode 0999", "mode = 0999", "mqueue", { "mode", "'0999'", "octal" } },
                { "mode rw", "mode = rw", "mqueue", { "mode", "'rw'", "octal" } },
                { "mode 01777", "mode = 01777", "fifo", { "mode", "'01777'", "octal" } },
                { "mode -600", "mode = -600", "fifo", { "mode", "'-600'" } },
                { "mode empty", "mode =", "fifo", { "mode", "empty value" } },
                { "unknown owner",
                  "owner = no-such-user-xyz",
                  "mqueue",
                  { "owner", "unknown user", "no-such-user-xyz" } },
                { "owner uid -1", "owner = 4294967295", "mqueue", { "owner", "4294967295" } },
                { "unknown group",
                  "group = no-such-group-xyz",
                  "fifo",
                  { "group", "unknown group", "no-such-group-xyz" } },
                { "unknown user in send",
                  "send = root no-such-user-xyz",
                  "mqueue",
                  { "send", "unknown user", "'no-such-user-xyz'" } },
                { "unknown group in send",
                  "send = @no-such-group-xyz",
                  "mqueue",
                  { "send", "unknown group", "'no-such-group-xyz'" } },
                { "unknown user in recv",
                  "recv = * no-such-user-xyz",
                  "fifo",
                  { "recv", "unknown user", "'no-such-user-xyz'" } },
                { "unknown group in recv",
                  "recv = @nogroup @no-such-group-xyz",
                  "fifo",
                  { "recv", "unknown group", "'no-such-group-xyz'" } },
                { "bare '@' in recv", "recv = @", "fifo", { "recv", "'@'" } },
                { "relative path", "path = fifo/x", "fifo", { "path", "absolute", "'fifo/x'" } },
                { "path with ..", "path = /run/../etc/x", "fifo", { "path", "'..'" } },
                { "path naming a directory", "path = /run/x/", "fifo", { "path", "directory" } },
                { "path with //", "path = /run/x//f", "fifo", { "'/run/x//f'", "canonical", "'//'" } },
                { "path starting with //", "path = //run/x/f", "fifo", { "path", "canonical", "'//'" } },
                { "path with .", "path = /run/x/./f", "fifo", { "path", "canonical", "'.'" } },
                { "path ending in /.", "path = /run/x/.", "fifo", { "path", "canonical", "'.'" } },
                { "path ending in /..", "path = /run/x/..", "fifo", { "path", "canonical", "'..'" } },
                { "path '/'", "path = /", "fifo", { "path", "root directory" } },
                { "mq_name without '/'", "mq_name = test_queue", "mqueue", { "mq_name", "'test_queue'" } },
                { "mq_name with a second '/'", "mq_name = /a/b", "mqueue", { "mq_name", "'/a/b'" } },
                { "mq_name '/'", "mq_name = /", "mqueue", { "mq_name", "'/'" } },
                { "on_stop delete", "on_stop = delete", "mqueue", { "on_stop", "'delete'", "keep, remove" } },
                { "on_stop empty", "on_stop =", "fifo", { "on_stop", "empty value" } },
        };
        static const struct {
                const char *desc;
                const char *line; /* line 2 of [broker] */
                const char *words[4];
        } broker_cases[] = {
                { "relative socket", "socket = ipcbroker.sock", { "socket", "absolute", "'ipcbroker.sock'" } },
                { "socket too long for sun_path",
                  "socket = "
                  "/run/"
                  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                  "aa.sock",
                  { "socket", "too long" } },
                { "relative runtime_dir",
                  "runtime_dir = run/ipcbroker",
                  { "runtime_dir", "absolute", "'run/ipcbroker'" } },
                { "runtime_dir with .", "runtime_dir = /run/./x", { "runtime_dir", "'.'" } },
                { "relative include", "include = ipcbroker.d", { "include", "absolute", "'ipcbroker.d'" } },
                { "runtime_dir with //", "runtime_dir = /run//x", { "runtime_dir", "canonical", "'//'" } },
                { "runtime_dir ending in /", "runtime_dir = /run/x/", { "runtime_dir", "canonical", "ends in '/'" } },
                { "runtime_dir '/'", "runtime_dir = /", { "runtime_dir", "root directory" } },
                { "runtime_dir with ..", "runtime_dir = /run/x/../y", { "runtime_dir", "canonical", "'..'" } },
                { "socket with //", "socket = /run//s.sock", { "socket", "canonical", "'//'" } },
                { "socket with .", "socket = /run/./s.sock", { "socket", "canonical", "'.'" } },
                { "socket ending in /", "socket = /run/s/", { "socket", "canonical", "ends in '/'" } },
                { "include with //", "include = /etc//ipcbroker.d", { "include", "canonical", "'//'" } },
                { "include ending in /", "include = /etc/ipcbroker.d/", { "include", "canonical", "ends in '/'" } },
                { "include with ..", "include = /etc/ipcbroker.d/..", { "include", "canonical", "'..'" } },
                { "socket_mode 0999", "socket_mode = 0999", { "socket_mode", "'0999'" } },
                { "socket_mode 01777", "socket_mode = 01777", { "socket_mode", "'01777'" } },
                { "max_clients 0", "max_clients = 0", { "max_clients", "out of range" } },
                { "max_clients 10abc", "max_clients = 10abc", { "max_clients", "not a number" } },
                { "max_clients empty", "max_clients =", { "max_clients", "empty value" } },
                { "max_connection_age 0", "max_connection_age = 0", { "max_connection_age", "out of range" } },
                { "max_connection_age 86401", "max_connection_age = 86401", { "max_connection_age", "out of range" } },
                { "max_connection_age 5m", "max_connection_age = 5m", { "max_connection_age", "not a number" } },
                { "unknown user in admins",
                  "admins = root no-such-user-xyz",
                  { "admins", "unknown user", "'no-such-user-xyz'" } },
                { "unknown group in admins",
                  "admins = @no-such-group-xyz",
                  { "admins", "unknown group", "'no-such-group-xyz'" } },
                { "mq_prefix without '/'", "mq_prefix = ipcbroker.", { "mq_prefix", "'ipcbroker.'" } },
                { "mq_prefix with a second '/'", "mq_prefix = /a/b.", { "mq_prefix", "'/a/b.'" } },
                { "log_level verbose", "log_level = verbose", { "log_level", "'verbose'" } },
                { "log_level empty", "log_level =", { "log_level", "empty value" } },
        };
        char *conf;

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                if (asprintf(&conf, "[channel c]\ntype = %s\n%s\n; end\n", cases[i].type, cases[i].line) < 0)
                        BAIL_OUT("out of memory");
                check_one_error_v(cases[i].desc, conf, 3, cases[i].words);
                free(conf);
        }
        for (size_t i = 0; i < ARRAY_SIZE(broker_cases); i++) {
                if (asprintf(&conf, "[broker]\n%s\n[channel c]\ntype = mqueue\n", broker_cases[i].line) < 0)
                        BAIL_OUT("out of memory");
                check_one_error_v(broker_cases[i].desc, conf, 2, broker_cases[i].words);
                free(conf);
        }
}

static void test_shared_kernel_objects(void) {
        check_one_error("two channels with the same mq_name",
                        "[channel a]\n"        /* 1 */
                        "type = mqueue\n"      /* 2 */
                        "mq_name = /shared\n"  /* 3 */
                        "[channel b]\n"        /* 4 */
                        "type = mqueue\n"      /* 5 */
                        "mq_name = /shared\n", /* 6 */
                        4, "channel 'b'", "'/shared'", "channel 'a'", ":1)");
        check_one_error("explicit mq_name equal to a derived one",
                        "[channel b]\ntype = mqueue\n"                          /* 1 */
                        "[channel a]\ntype = mqueue\nmq_name = /ipcbroker.b\n", /* 3 */
                        3, "channel 'a'", "'/ipcbroker.b'", "channel 'b'");
        check_one_error("two fifos with the same path",
                        "[channel a]\ntype = fifo\npath = /tmp/ipcbroker-test-x\n"  /* 1 */
                        "[channel b]\ntype = fifo\npath = /tmp/ipcbroker-test-x\n", /* 4 */
                        4, "channel 'b'", "'/tmp/ipcbroker-test-x'", "channel 'a'");

        check_one_error("explicit mq_name equal to a derived one, explicit first",
                        "[channel a]\ntype = mqueue\nmq_name = /ipcbroker.b\n" /* 1 */
                        "[channel b]\ntype = mqueue\n",                        /* 4 */
                        4, "channel 'b'", "'/ipcbroker.b'", "channel 'a'");
        check_one_error("explicit mq_name equal to one derived from a later mq_prefix",
                        "[channel b]\ntype = mqueue\n"                 /* 1 */
                        "[channel a]\ntype = mqueue\nmq_name = /q.b\n" /* 3 */
                        "[broker]\nmq_prefix = /q.\n",                 /* 6 */
                        3, "channel 'a'", "'/q.b'", "channel 'b'");
        check_one_error("explicit path equal to a derived one",
                        "[broker]\nruntime_dir = /run/rt\n"                 /* 1 */
                        "[channel a]\ntype = fifo\npath = /run/rt/fifo/b\n" /* 3 */
                        "[channel b]\ntype = fifo\n",                       /* 6 */
                        6, "channel 'b'", "same path '/run/rt/fifo/b'", "channel 'a'");
        check_one_error("explicit path equal to one derived from a later runtime_dir",
                        "[channel b]\ntype = fifo\n"                               /* 1 */
                        "[channel a]\ntype = fifo\npath = /run/elsewhere/fifo/b\n" /* 3 */
                        "[broker]\nruntime_dir = /run/elsewhere\n",                /* 6 */
                        3, "channel 'a'", "'/run/elsewhere/fifo/b'", "channel 'b'");
        /* across files: a drop-in's explicit names against the main file's derived ones */
        {
                struct tmp t;
                struct config *c = NULL;
                struct config_errors e = {};
                const char *dir, *path, *drop;
                int r;

                tmp_new(&t);
                dir = tmp_mkdir(&t, "conf.d");
                drop = tmp_write(&t, "conf.d/a.conf",
                                 tmp_fmt(&t,
                                         "[channel dq]\ntype = mqueue\nmq_name = /ipcbroker.mq\n" /* 1 */
                                         "[channel df]\ntype = fifo\npath = %s/fifo/zf\n",        /* 4 */
                                         t.runtime));
                path = tmp_write(&t, "ipcbroker.conf",
                                 tmp_fmt(&t,
                                         "[broker]\ninclude = %s\n[channel mq]\ntype = mqueue\n" /* 3 */
                                         "[channel zf]\ntype = fifo\n",                          /* 5 */
                                         dir));
                r = config_load(path, &t.defaults, &c, &e);
                is_int(r, -EINVAL, "shared objects across a drop-in: rejected");
                if (!is_int(e.n, 2, "shared objects across a drop-in: two errors"))
                        dump_errors(&e);
                /* channels are compared in declaration order: main file first */
                has_error(&e, drop, 1, "a drop-in's mq_name equal to a derived name in the main file", "channel 'dq'",
                          "'/ipcbroker.mq'", "channel 'mq'");
                has_error(&e, drop, 4, "a drop-in's path equal to a derived path in the main file", "channel 'df'",
                          "channel 'zf'");
                config_free(c);
                config_errors_clear(&e);
                tmp_done(&t);
        }

        /* an mqueue and a fifo may share a name: different namespaces */
        {
                struct tmp t;
                struct config *c;

                tmp_new(&t);
                c = load_ok(&t, "an mqueue and a fifo with the same name part",
                            "[channel a]\ntype = mqueue\nmq_name = /x\n[channel b]\ntype = fifo\npath = /x\n", NULL);
                config_free(c);
                tmp_done(&t);
        }
}

static void test_many_errors(void) {
        struct tmp t;
        struct config *c = NULL;
        struct config_errors e = {};
        const char *path;
        int r;

        tmp_new(&t);
        path = tmp_write(&t, "ipcbroker.conf",
                         "[broker]\n"             /* 1 */
                         "max_clients = 0\n"      /* 2: error */
                         "log_level = loud\n"     /* 3: error */
                         "[channel a]\n"          /* 4 */
                         "type = mqueue\n"        /* 5 */
                         "max_messages = 10abc\n" /* 6: error */
                         "bogus = 1\n"            /* 7: error */
                         "[channel .bad]\n"       /* 8: error */
                         "type = fifo\n"          /* 9: ignored */
                         "[channel nt]\n"         /* 10: error, missing type */
                         "mode = 999\n"           /* 11: error */
                         "[nope]\n"               /* 12: error */
                         "[channel ok]\n"         /* 13 */
                         "type = fifo\n");        /* 14 */
        r = config_load(path, &t.defaults, &c, &e);
        is_int(r, -EINVAL, "several errors: -EINVAL");
        ok(!c, "several errors: no config");
        if (!is_int(e.n, 8, "several errors: all 8 reported"))
                dump_errors(&e);
        has_error(&e, path, 2, "several errors: max_clients at 2", "max_clients");
        has_error(&e, path, 3, "several errors: log_level at 3", "log_level", "loud");
        has_error(&e, path, 6, "several errors: max_messages at 6", "max_messages", "10abc");
        has_error(&e, path, 7, "several errors: unknown key at 7", "bogus");
        has_error(&e, path, 8, "several errors: bad name at 8", ".bad");
        has_error(&e, path, 10, "several errors: missing type at 10", "'nt'", "type");
        has_error(&e, path, 11, "several errors: mode at 11", "mode", "999");
        has_error(&e, path, 12, "several errors: unknown section at 12", "nope");
        config_free(c);
        config_errors_clear(&e);
        tmp_done(&t);

        /* config_load appends to an existing error list, and still fails */
        tmp_new(&t);
        c = NULL;
        config_errors_add(&e, "earlier", 1, "an earlier error");
        path = tmp_write(&t, "ipcbroker.conf", "[channel a]\ntype = mqueue\n");
        r = config_load(path, &t.defaults, &c, &e);
        is_int(r, 0, "a valid file loads even when the error list is not empty");
        is_int(e.n, 1, "the earlier error is kept, none added");
        config_free(c);
        config_errors_clear(&e);
        tmp_done(&t);
}

static void test_missing_file(void) {
        struct tmp t;
        struct config *c = NULL;
        struct config_errors e = {};
        char *path;
        int r;

        tmp_new(&t);
        path = tmp_fmt(&t, "%s/no-such.conf", t.dir);
        r = config_load(path, &t.defaults, &c, &e);
        is_int(r, -ENOENT, "missing file: -ENOENT");
        ok(!c, "missing file: no config");
        if (!ok(e.n == 1 && error_matches(e.lines[0], path, 0, (const char *const[]){ NULL }),
                "missing file: one error naming the path"))
                dump_errors(&e);
        config_errors_clear(&e);

        /* a directory is not a configuration file */
        r = config_load(t.dir, &t.defaults, &c, &e);
        ok(r < 0, "a directory: negative errno (%d)", r);
        ok(!c, "a directory: no config");
        if (!ok(e.n == 1 && strstr(e.lines[0], t.dir), "a directory: one error naming the path"))
                dump_errors(&e);
        config_errors_clear(&e);
        tmp_done(&t);
}

/* ---- drop-ins ------------------------------------------------------------------ */

static void test_dropins(void) {
        struct tmp t;
        struct config *c = NULL;
        struct config_errors e = {};
        const char *path, *dir;
        int r;

        /* Read in order, ignoring dotfiles and other names. */
        tmp_new(&t);
        dir = tmp_mkdir(&t, "conf.d");
        tmp_write(&t, "conf.d/b.conf", "[channel from-b]\ntype = fifo\n");
        tmp_write(&t, "conf.d/a.conf", "; first\n[channel from-a]\ntype = mqueue\n");
        tmp_write(&t, "conf.d/.hidden.conf", "garbage\n");
        tmp_write(&t, "conf.d/.conf", "garbage\n");
        tmp_write(&t, "conf.d/README", "garbage\n");
        tmp_write(&t, "conf.d/c.conf.bak", "garbage\n");
        tmp_write(&t, "conf.d/d.conf~", "garbage\n");
        tmp_write(&t, "conf.d/eleconf", "garbage\n");
        c = load_ok(&t, "drop-ins",
                    tmp_fmt(&t, "[broker]\ninclude = %s\n[channel main]\ntype = mqueue\nmode = 0640\n", dir), &path);
        if (c && is_int(c->n_channels, 3, "drop-ins: three channels")) {
                const struct channel_config *a = config_find_channel(c, "from-a");
                const struct channel_config *b = config_find_channel(c, "from-b");
                const struct channel_config *m = config_find_channel(c, "main");
                ok(a && streq(a->file, tmp_fmt(&t, "%s/a.conf", dir)) && a->line == 2,
                   "drop-ins: from-a declared at a.conf:2");
                ok(b && streq(b->file, tmp_fmt(&t, "%s/b.conf", dir)) && b->line == 1,
                   "drop-ins: from-b declared at b.conf:1");
                ok(m && streq(m->file, path) && m->line == 3 && m->mode == 0640, "drop-ins: main declared at main:3");
                ok(b && b->type == CHANNEL_FIFO, "drop-ins: from-b is a fifo");
        }
        config_free(c);
        tmp_done(&t);

        /* a.conf is read before b.conf: the duplicate is reported in b.conf */
        tmp_new(&t);
        dir = tmp_mkdir(&t, "conf.d");
        tmp_write(&t, "conf.d/b.conf", "\n\n[channel dup]\ntype = mqueue\n");
        tmp_write(&t, "conf.d/a.conf", "[channel dup]\ntype = mqueue\n");
        c = NULL;
        path = tmp_write(&t, "ipcbroker.conf", tmp_fmt(&t, "[broker]\ninclude = %s\n", dir));
        r = config_load(path, &t.defaults, &c, &e);
        is_int(r, -EINVAL, "drop-in order: duplicate rejected");
        if (!is_int(e.n, 1, "drop-in order: one error"))
                dump_errors(&e);
        has_error(&e, tmp_fmt(&t, "%s/b.conf", dir), 3, "drop-in order: a.conf read before b.conf",
                  "duplicate channel 'dup'", tmp_fmt(&t, "%s/a.conf:1", dir));
        config_free(c);
        config_errors_clear(&e);
        tmp_done(&t);

        /* a channel in the main file and a drop-in */
        tmp_new(&t);
        dir = tmp_mkdir(&t, "conf.d");
        tmp_write(&t, "conf.d/z.conf", "[channel m]\ntype = fifo\ncapacity = 100\n");
        c = NULL;
        path = tmp_write(&t, "ipcbroker.conf",
                         tmp_fmt(&t, "[broker]\ninclude = %s\n\n[channel m]\ntype = mqueue\n", dir));
        r = config_load(path, &t.defaults, &c, &e);
        is_int(r, -EINVAL, "main + drop-in duplicate: rejected");
        if (!is_int(e.n, 1, "main + drop-in duplicate: one error"))
                dump_errors(&e);
        has_error(&e, tmp_fmt(&t, "%s/z.conf", dir), 1, "main + drop-in duplicate: names both files",
                  "duplicate channel 'm'", tmp_fmt(&t, "%s:4", path));
        config_free(c);
        config_errors_clear(&e);
        tmp_done(&t);

        /* include inside a drop-in; errors in drop-ins carry the drop-in's name */
        tmp_new(&t);
        dir = tmp_mkdir(&t, "conf.d");
        tmp_write(&t, "conf.d/a.conf", "[broker]\ninclude = /etc\n");
        tmp_write(&t, "conf.d/b.conf", "[channel b]\ntype = fifo\ncolour = red\n");
        tmp_write(&t, "conf.d/c.conf", "mode = 0644\n[channel c]\ntype = mqueue\n");
        c = NULL;
        path = tmp_write(&t, "ipcbroker.conf",
                         tmp_fmt(&t, "[broker]\ninclude = %s\n[channel m]\ntype = mqueue\n", dir));
        r = config_load(path, &t.defaults, &c, &e);
        is_int(r, -EINVAL, "drop-in errors: rejected");
        if (!is_int(e.n, 3, "drop-in errors: three errors"))
                dump_errors(&e);
        has_error(&e, tmp_fmt(&t, "%s/a.conf", dir), 2, "include inside a drop-in is an error", "include");
        has_error(&e, tmp_fmt(&t, "%s/b.conf", dir), 3, "unknown key in a drop-in", "colour");
        has_error(&e, tmp_fmt(&t, "%s/c.conf", dir), 1, "a drop-in starts outside any section",
                  "outside of any section");
        config_free(c);
        config_errors_clear(&e);
        tmp_done(&t);

        /* a missing include directory is fine */
        tmp_new(&t);
        c = load_ok(&t, "missing include directory",
                    tmp_fmt(&t, "[broker]\ninclude = %s/nope.d\n[channel a]\ntype = mqueue\n", t.dir), NULL);
        ok(c && c->n_channels == 1, "missing include directory: main file still read");
        config_free(c);
        tmp_done(&t);

        /* an include that is not a directory is an error at the include line */
        tmp_new(&t);
        dir = tmp_write(&t, "not-a-dir", "");
        check_one_error("include naming a file",
                        tmp_fmt(&t, "[channel a]\ntype = mqueue\n[broker]\ninclude = %s\n", dir), 4, "include", dir);
        tmp_done(&t);
}

/* ---- files others may write -------------------------------------------------------- */

/* Load PATH and expect it refused with an error "FILE: WORDS..." among the errors. */
static void check_refused(struct tmp *t, const char *desc, const char *path, const char *file, int expect_r,
                          const char *const *words) {
        struct config *c = NULL;
        struct config_errors e = {};
        int r = config_load(path, &t->defaults, &c, &e);

        is_int(r, expect_r, "%s: rejected", desc);
        ok(!c, "%s: no config", desc);
        has_error_v(&e, file, 0, words, desc);
        config_free(c);
        config_errors_clear(&e);
}
#define check_refused_w(t, desc, path, file, r, ...)                                                                   \
        check_refused((t), (desc), (path), (file), (r), (const char *const[]){ __VA_ARGS__, NULL })

static void test_file_trust(void) {
        struct passwd *pw = getpwnam("nobody");
        struct tmp t;
        const char *path, *dir, *drop;
        struct config *c;

        /* the main file */
        tmp_new(&t);
        path = tmp_write(&t, "ipcbroker.conf", "[channel a]\ntype = mqueue\n");
        chmod(path, 0664);
        check_refused_w(&t, "a group-writable main file", path, path, -EPERM, "writable by group or others", "0664");
        chmod(path, 0602);
        check_refused_w(&t, "a world-writable main file", path, path, -EPERM, "writable by group or others", "0602");
        chmod(path, 0600);
        c = load_ok(&t, "a 0600 main file", "[channel a]\ntype = mqueue\n", NULL);
        config_free(c);
        tmp_done(&t);

        if (geteuid() == 0 && pw) {
                tmp_new(&t);
                path = tmp_write(&t, "ipcbroker.conf", "[channel a]\ntype = mqueue\n");
                if (chown(path, pw->pw_uid, (gid_t)-1) < 0)
                        BAIL_OUT("chown %s: %s", path, strerror(errno));
                check_refused_w(&t, "a main file owned by another user", path, path, -EPERM,
                                tmp_fmt(&t, "owned by uid %u", (unsigned)pw->pw_uid), "not root or the daemon's user");
                /* a symlink does not help: what is checked is the file opened */
                char *link = tmp_fmt(&t, "%s/link.conf", t.dir);
                if (symlink(path, link) < 0)
                        BAIL_OUT("symlink: %s", strerror(errno));
                check_refused_w(&t, "a symlink to a file owned by another user", link, link, -EPERM, "owned by uid");
                tmp_done(&t);
        } else
                diag("skipped: needs root and a user 'nobody' to own a file");

        /* the include directory and its drop-ins */
        tmp_new(&t);
        dir = tmp_mkdir(&t, "conf.d");
        drop = tmp_write(&t, "conf.d/admin.conf", "[broker]\nadmins = nobody\n");
        path = tmp_write(&t, "ipcbroker.conf",
                         tmp_fmt(&t, "[broker]\ninclude = %s\n[channel a]\ntype = mqueue\n", dir));
        chmod(dir, 0775);
        check_refused_w(&t, "a group-writable include directory", path, dir, -EINVAL, "writable by group or others");
        chmod(dir, 01777);
        check_refused_w(&t, "a sticky world-writable include directory (anyone may add a drop-in)", path, dir, -EINVAL,
                        "writable by group or others");
        chmod(dir, 0755);
        chmod(drop, 0646);
        check_refused_w(&t, "a world-writable drop-in", path, drop, -EINVAL, "writable by group or others");
        chmod(drop, 0644);
        if (geteuid() == 0 && pw) {
                if (chown(drop, pw->pw_uid, (gid_t)-1) < 0)
                        BAIL_OUT("chown %s: %s", drop, strerror(errno));
                check_refused_w(&t, "a drop-in owned by another user", path, drop, -EINVAL, "owned by uid");
                if (chown(drop, 0, (gid_t)-1) < 0)
                        BAIL_OUT("chown %s: %s", drop, strerror(errno));
                if (chown(dir, pw->pw_uid, (gid_t)-1) < 0)
                        BAIL_OUT("chown %s: %s", dir, strerror(errno));
                check_refused_w(&t, "an include directory owned by another user", path, dir, -EINVAL, "owned by uid");
                if (chown(dir, 0, (gid_t)-1) < 0)
                        BAIL_OUT("chown %s: %s", dir, strerror(errno));
        } else
                diag("skipped: needs root and a user 'nobody' to own a file");
        {
                struct config_errors e = {};
                int r;
                c = NULL;
                r = config_load(path, &t.defaults, &c, &e);
                if (!is_int(r, 0, "a 0755 include directory with a 0644 drop-in loads"))
                        dump_errors(&e);
                ok(c && c->admins.n == 1, "and the drop-in is read");
                config_free(c);
                config_errors_clear(&e);
        }
        tmp_done(&t);
}

/* ---- limits ---------------------------------------------------------------------- */

static const struct kernel_limits unprivileged = {
        .msg_max = 10,
        .msgsize_max = 8192,
        .queues_max = 256,
        .pipe_max_size = 1048576,
        .rlimit_msgqueue = { .rlim_cur = 819200, .rlim_max = 819200 },
        .cap_sys_resource = false,
};

static void test_limits(void) {
        struct kernel_limits privileged = unprivileged;
        struct kernel_limits few_queues = unprivileged;
        struct kernel_limits unknown = {
                .msg_max = -1,
                .msgsize_max = -1,
                .queues_max = -1,
                .pipe_max_size = -1,
                .rlimit_msgqueue = { RLIM_INFINITY, RLIM_INFINITY },
        };
        struct config_errors e = {};
        struct tmp t;
        struct config *c;
        const char *path;
        char *conf;

        privileged.cap_sys_resource = true;
        few_queues.queues_max = 2;

        tmp_new(&t);
        c = load_ok(&t, "limits config",
                    "[channel big]\n" /* 1 */
                    "type = mqueue\n"
                    "max_messages = 11\n"
                    "[channel fat]\n" /* 4 */
                    "type = mqueue\n"
                    "message_size = 8193\n"
                    "[channel pipe]\n" /* 7 */
                    "type = fifo\n"
                    "capacity = 2097152\n"
                    "[channel fine]\n" /* 10 */
                    "type = mqueue\n"
                    "max_messages = 10\n"
                    "message_size = 8192\n"
                    "[channel fine-pipe]\n" /* 14 */
                    "type = fifo\n"
                    "capacity = 1048576\n",
                    &path);
        if (c) {
                limits_check(c, &unprivileged, &e);
                if (!is_int(e.n, 3, "limits: three channels over the sysctls"))
                        dump_errors(&e);
                has_error(&e, path, 1, "limits: max_messages 11 over msg_max", "channel 'big'", "fs.mqueue.msg_max");
                has_error(&e, path, 4, "limits: message_size 8193 over msgsize_max", "channel 'fat'",
                          "fs.mqueue.msgsize_max");
                has_error(&e, path, 7, "limits: capacity over pipe-max-size", "channel 'pipe'", "fs.pipe-max-size");
                no_error_mentions(&e, "'fine", "limits: values at the limits are fine");
                config_errors_clear(&e);

                limits_check(c, &privileged, &e);
                if (!is_int(e.n, 0, "limits: no errors with CAP_SYS_RESOURCE"))
                        dump_errors(&e);
                config_errors_clear(&e);

                limits_check(c, &unknown, &e);
                if (!is_int(e.n, 0, "limits: unknown limits (-1, infinity) are not checked"))
                        dump_errors(&e);
                config_errors_clear(&e);

                limits_check(c, &few_queues, &e);
                if (!is_int(e.n, 4, "limits: queues_max 2 adds one error"))
                        dump_errors(&e);
                has_error(&e, path, 0, "limits: 3 queues over queues_max", "3 queues", "fs.mqueue.queues_max");
                config_errors_clear(&e);
        }
        config_free(c);
        tmp_done(&t);

        /* RLIMIT_MSGQUEUE: nine default queues fit in 819200 bytes, the tenth does not. */
        ok(limits_mq_bytes(10, 8192) * 9 <= 819200, "nine default queues fit in 819200 bytes (%llu)",
           limits_mq_bytes(10, 8192) * 9);
        ok(limits_mq_bytes(10, 8192) * 10 > 819200, "ten default queues do not (%llu)", limits_mq_bytes(10, 8192) * 10);
        for (int n = 9; n <= 10; n++) {
                char *q9;

                tmp_new(&t);
                conf = tmp_fmt(&t, "%s", "");
                for (int i = 0; i < n; i++)
                        conf = tmp_fmt(&t, "%s[channel q%d]\ntype = mqueue\n", conf, i);
                c = load_ok(&t, tmp_fmt(&t, "%d default queues", n), conf, &path);
                if (c) {
                        limits_check(c, &unprivileged, &e);
                        if (n == 9) {
                                if (!is_int(e.n, 0, "nine default queues: no errors"))
                                        dump_errors(&e);
                        } else {
                                q9 = tmp_fmt(&t, "%llu", limits_mq_bytes(10, 8192) * 10);
                                if (!is_int(e.n, 2, "ten default queues: the queue and the total"))
                                        dump_errors(&e);
                                has_error(&e, path, 19, "ten default queues: the 10th (q9, line 19) does not fit",
                                          "channel 'q9'", "RLIMIT_MSGQUEUE", q9, "819200");
                                has_error(&e, path, 0, "ten default queues: the total", "RLIMIT_MSGQUEUE", q9);
                                no_error_mentions(&e, "'q8'", "ten default queues: q8 still fits");
                        }
                        config_errors_clear(&e);

                        limits_check(c, &privileged, &e);
                        if (!is_int(e.n, 0, "%d default queues with CAP_SYS_RESOURCE: no errors", n))
                                dump_errors(&e);
                        config_errors_clear(&e);
                }
                config_free(c);
                tmp_done(&t);
        }
}

int main(void) {
        /* the loader refuses files others may write: a developer's umask 002 must not break the tests */
        umask(022);
        test_minimal_mqueue();
        test_minimal_fifo();
        test_broker_keys();
        test_principals();
        test_name_lookups();
        test_explicit_names();
        test_sorting();
        test_continuation();
        test_long_names_and_lines();
        test_section_errors();
        test_key_errors();
        test_value_errors();
        test_shared_kernel_objects();
        test_many_errors();
        test_missing_file();
        test_dropins();
        test_file_trust();
        test_limits();
        return done_testing();
}
