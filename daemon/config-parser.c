/*
 * config-parser.c — the INI reader: ipcbroker.conf and its drop-ins, line by
 * line, into the configuration and the channel drafts.
 *
 * The INI syntax is parsed by inih. Debian builds inih with fixed options: a
 * 200-byte line buffer, 50-byte section and key buffers, and no line number in
 * the handler. So the file is fed to ini_parse_stream() through our own line
 * reader, which counts lines, rejects lines too long for the parser instead of
 * letting inih split them, reports syntax errors with a precise message, and
 * remembers the full section name and key of the current line (inih would
 * truncate long channel names silently).
 *
 * Every problem becomes one "FILE:LINE: message" in struct config_errors;
 * reading goes on after an error so that one run reports them all.
 */
#include "build-config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config-internal.h"
#include "log.h"
#include "util.h"

/* ---- lines and sections ------------------------------------------------------ */

static char *strip(char *s) {
        char *e;

        while (isspace((unsigned char)*s))
                s++;
        e = s + strlen(s);
        while (e > s && isspace((unsigned char)e[-1]))
                *--e = '\0';
        return s;
}

/* Where does an inline comment start? inih: ';' at the start or after whitespace. */
static char *find_comment(char *s) {
        for (char *p = s; *p; p++)
                if (*p == ';' && (p == s || isspace((unsigned char)p[-1])))
                        return p;
        return NULL;
}

/*
 * A section header was rejected: its keys must not land in the previous
 * section. Also where every header starts, until it is found good.
 */
static void parser_section_invalid(struct parser *p) {
        free(p->section);
        p->section = NULL;
        p->current = NULL;
        p->section_bad = true;
        p->key_seen = false;
}

static void parser_section_begin(struct parser *p, const char *raw) {
        _cleanup_free_ char *copy = strdup(raw);
        char *name, *s;

        parser_section_invalid(p);
        if (!copy)
                return;
        s = strip(copy);
        p->section = strdup(s);

        if (streq(s, "broker")) {
                p->section_bad = false;
                return;
        }
        if (strncmp(s, "channel", 7) != 0 || (s[7] && !isspace((unsigned char)s[7]))) {
                perr(p, "unknown section [%s] (expected [broker] or [channel NAME])", s);
                return;
        }
        name = strip(s + 7);
        if (!*name) {
                perr(p, "[channel] needs a name: [channel NAME]");
                return;
        }
        if (!channel_name_valid(name)) {
                perr(p, "invalid channel name '%s': 1 to %d characters of A-Z a-z 0-9 . _ -, not starting with '.'",
                     name, CHANNEL_NAME_MAX);
                return;
        }
        size_t first;
        if (str_index_get(&p->by_name, name, &first)) {
                perr(p, "duplicate channel '%s' (already declared at %s:%u)", name, p->drafts[first]->c.file,
                     p->drafts[first]->c.line);
                return;
        }

        struct channel_draft *d = calloc(1, sizeof(*d));
        struct channel_draft **n = realloc(p->drafts, (p->n_drafts + 1) * sizeof(*n));
        if (!d || !n) {
                free(d);
                if (n)
                        p->drafts = n;
                perr(p, "out of memory");
                return;
        }
        p->drafts = n;
        d->c.name = strdup(name);
        d->c.file = strdup(p->file);
        d->c.line = p->line;
        d->c.owner = p->defaults->uid;
        d->c.group = p->defaults->gid;
        d->c.mode = DEFAULT_MODE;
        d->c.max_messages = -1;
        d->c.message_size = -1;
        d->c.capacity = -1;
        d->c.on_stop = ON_STOP_KEEP;
        if (!d->c.name || str_index_put(&p->by_name, d->c.name, p->n_drafts) < 0)
                perr(p, "out of memory");
        p->drafts[p->n_drafts++] = d;
        p->current = d;
        p->section_bad = false;
}

/* A section header "[...]" (S stripped, starting with '['): begins the section, or reports why not. */
static bool parser_section_header(struct parser *p, char *s) {
        char *c = find_comment(s);
        char *end;

        if (c)
                *c = '\0';
        end = strchr(s + 1, ']');
        if (!end) {
                perr(p, "unterminated section header (missing ']')");
                parser_section_invalid(p);
                return false;
        }
        if (*strip(end + 1)) {
                perr(p, "unexpected text after section header");
                parser_section_invalid(p);
                return false;
        }
        *end = '\0';
        parser_section_begin(p, s + 1);
        /* inih would truncate the name; we keep ours. */
        return true;
}

/*
 * Classify a line the way inih will, to give precise errors: S is a copy of
 * it to take apart. Remembers the full key of a key line. Returns whether
 * inih may have the line.
 */
static bool parser_classify_line(struct parser *p, char *s) {
        bool indented;
        char *c;

        if (p->line == 1 && (unsigned char)s[0] == 0xEF && (unsigned char)s[1] == 0xBB && (unsigned char)s[2] == 0xBF)
                s += 3;
        indented = isspace((unsigned char)s[0]);
        s = strip(s);
        if (!*s || *s == ';' || *s == '#')
                return true;
        if (*s == '[')
                return parser_section_header(p, s);
        if (indented && p->section && p->key_seen) {
                /* inih treats an indented line after a key as a continuation of its value */
                p->continuation = true;
                return true;
        }
        c = s + strcspn(s, "=:");
        if (!*c || (find_comment(s) && find_comment(s) < c)) {
                perr(p, "expected 'key = value', '[section]' or a comment");
                return false;
        }
        *c = '\0';
        p->key = strdup(strip(s));
        if (!p->section) {
                if (!p->section_bad)
                        perr(p, "key '%s' outside of any section", p->key);
                return false;
        }
        p->key_seen = true;
        return true;
}

/* Check one line of LEN characters (its newline removed) against inih's buffer of NUM bytes, then classify it. */
static bool parser_check_line(struct parser *p, char *line, ssize_t len, int num) {
        _cleanup_free_ char *copy = NULL;

        if (memchr(line, '\0', (size_t)len)) {
                perr(p, "line contains a NUL byte");
                return false;
        }
        /* inih needs room for the newline and the terminator. */
        if (len > num - 2) {
                perr(p, "line too long (%zd characters; at most %d fit the parser's line buffer)", len, num - 2);
                if (*strip(line) == '[')
                        parser_section_invalid(p);
                return false;
        }
        copy = strdup(line);
        return copy && parser_classify_line(p, copy);
}

/*
 * The line reader handed to ini_parse_stream(). It returns each physical line
 * (up to inih's buffer), after checking it; a line we reject is replaced by an
 * empty comment so that inih neither parses nor splits it.
 */
static char *parser_reader(char *str, int num, void *stream) {
        struct parser *p = stream;
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        ssize_t len;

        p->max_line = num;
        len = getline(&line, &cap, p->f);
        if (len < 0)
                return NULL;
        p->line++;
        p->line_handled_error = false;
        p->continuation = false;
        free(p->key);
        p->key = NULL;

        if (len > 0 && line[len - 1] == '\n')
                line[--len] = '\0';
        if (len > 0 && line[len - 1] == '\r')
                line[--len] = '\0';

        if (!parser_check_line(p, line, len, num)) {
                p->line_handled_error = true;
                /* an empty comment: inih skips it */
                str[0] = ';';
                str[1] = '\n';
                str[2] = '\0';
                return str;
        }
        memcpy(str, line, (size_t)len);
        str[len] = '\n';
        str[len + 1] = '\0';
        return str;
}

/* ---- the keys and what each sets -------------------------------------------- */

/* [broker] */

static void set_socket(struct parser *p, const char *v) {
        char *s = NULL;

        path_value(p, "socket", v, false, &s);
        if (!s)
                return;
        if (strlen(s) >= 108) {
                perr(p, "socket path is too long for a Unix socket (at most 107 bytes)");
                free(s);
                return;
        }
        free(p->config->socket);
        p->config->socket = s;
}

static void set_socket_mode(struct parser *p, const char *v) {
        mode_value(p, "socket_mode", v, &p->config->socket_mode);
}

static void set_runtime_dir(struct parser *p, const char *v) {
        path_value(p, "runtime_dir", v, false, &p->config->runtime_dir);
}

static void set_mq_prefix(struct parser *p, const char *v) {
        if (v[0] != '/' || strchr(v + 1, '/')) {
                perr(p, "mq_prefix must start with '/' and contain no other '/': '%s'", v);
                return;
        }
        if (strlen(v) + CHANNEL_NAME_MAX > CONFIG_MQ_NAME_MAX + 1) {
                perr(p, "mq_prefix '%s' is too long: with a %d-character channel name it must fit in %d characters", v,
                     CHANNEL_NAME_MAX, CONFIG_MQ_NAME_MAX);
                return;
        }
        free(p->config->mq_prefix);
        p->config->mq_prefix = strdup(v);
}

static void set_admins(struct parser *p, const char *v) {
        list_value(p, "admins", v, &p->config->admins);
}

static void set_max_clients(struct parser *p, const char *v) {
        count_value(p, "max_clients", v, 1000000, &p->config->max_clients);
}

static void set_max_clients_per_user(struct parser *p, const char *v) {
        count_value(p, "max_clients_per_user", v, 1000000, &p->config->max_clients_per_user);
}

static void set_idle_timeout(struct parser *p, const char *v) {
        count_value(p, "idle_timeout", v, 86400, &p->config->idle_timeout);
}

static void set_max_connection_age(struct parser *p, const char *v) {
        count_value(p, "max_connection_age", v, 86400, &p->config->max_connection_age);
}

static void set_include(struct parser *p, const char *v) {
        if (p->is_dropin)
                perr(p, "include is only allowed in the main configuration file");
        else
                path_value(p, "include", v, true, &p->config->include);
}

static void set_log_level(struct parser *p, const char *v) {
        int l = log_level_from_string(v);

        if (l < 0)
                perr(p, "log_level: '%s' is not one of error, warning, notice, info, debug", v);
        else
                p->config->log_level = l;
}

/* [channel NAME]: P->current is the channel */

static void set_type(struct parser *p, const char *v) {
        int i = choice_value(p, "type", v, channel_type_names, ARRAY_SIZE(channel_type_names));

        if (i < 0) {
                p->current->bad = true;
                return;
        }
        p->current->c.type = (enum channel_type)i;
        p->current->has_type = true;
}

static void set_owner(struct parser *p, const char *v) {
        if (user_from_string(&p->names, v, &p->current->c.owner) < 0)
                perr(p, "owner: unknown user '%s'", v);
}

static void set_group(struct parser *p, const char *v) {
        if (group_from_string(&p->names, v, &p->current->c.group) < 0)
                perr(p, "group: unknown group '%s'", v);
}

static void set_mode(struct parser *p, const char *v) {
        mode_value(p, "mode", v, &p->current->c.mode);
}

static void set_send(struct parser *p, const char *v) {
        list_value(p, "send", v, &p->current->c.send);
}

static void set_recv(struct parser *p, const char *v) {
        list_value(p, "recv", v, &p->current->c.recv);
}

static void set_max_messages(struct parser *p, const char *v) {
        number_value(p, "max_messages", v, 1, MQ_HARD_MSGMAX, &p->current->c.max_messages);
}

static void set_message_size(struct parser *p, const char *v) {
        /* the per-type upper bound is checked once the type is known */
        number_value(p, "message_size", v, 1, MQ_HARD_MSGSIZEMAX, &p->current->c.message_size);
}

static void set_capacity(struct parser *p, const char *v) {
        number_value(p, "capacity", v, 1, FIFO_CAPACITY_MAX, &p->current->c.capacity);
}

static void set_mq_name(struct parser *p, const char *v) {
        if (!mq_name_valid(v)) {
                perr(p, "mq_name: '%s' is not a queue name: '/' followed by 1 to %d characters without '/'", v,
                     CONFIG_MQ_NAME_MAX);
                return;
        }
        free(p->current->explicit_mq_name);
        p->current->explicit_mq_name = strdup(v);
}

static void set_path(struct parser *p, const char *v) {
        path_value(p, "path", v, false, &p->current->explicit_path);
}

static void set_on_stop(struct parser *p, const char *v) {
        int i = choice_value(p, "on_stop", v, on_stop_names, ARRAY_SIZE(on_stop_names));

        if (i >= 0)
                p->current->c.on_stop = (enum on_stop)i;
}

static void set_sample_interval(struct parser *p, const char *v) {
        duration_value(p, "sample_interval", v, 3600000, &p->config->sample_interval_ms);
}

static void set_alert_full_after(struct parser *p, const char *v) {
        duration_value(p, "alert_full_after", v, 7UL * 86400000, &p->current->c.alert_full_after_ms);
}

static void set_framing(struct parser *p, const char *v) {
        int i = choice_value(p, "framing", v, framing_names, ARRAY_SIZE(framing_names));

        if (i >= 0)
                p->current->c.framing = (enum fifo_framing)i;
}

const struct key_info config_keys[_KEY_MAX] = {
        [KEY_SOCKET] = { "socket", SCOPE_BROKER, 0, false, set_socket },
        [KEY_SOCKET_MODE] = { "socket_mode", SCOPE_BROKER, 0, false, set_socket_mode },
        [KEY_RUNTIME_DIR] = { "runtime_dir", SCOPE_BROKER, 0, false, set_runtime_dir },
        [KEY_MQ_PREFIX] = { "mq_prefix", SCOPE_BROKER, 0, false, set_mq_prefix },
        [KEY_ADMINS] = { "admins", SCOPE_BROKER, 0, true, set_admins },
        [KEY_MAX_CLIENTS] = { "max_clients", SCOPE_BROKER, 0, false, set_max_clients },
        [KEY_MAX_CLIENTS_PER_USER] = { "max_clients_per_user", SCOPE_BROKER, 0, false, set_max_clients_per_user },
        [KEY_IDLE_TIMEOUT] = { "idle_timeout", SCOPE_BROKER, 0, false, set_idle_timeout },
        [KEY_MAX_CONNECTION_AGE] = { "max_connection_age", SCOPE_BROKER, 0, false, set_max_connection_age },
        [KEY_INCLUDE] = { "include", SCOPE_BROKER, 0, false, set_include },
        [KEY_LOG_LEVEL] = { "log_level", SCOPE_BROKER, 0, false, set_log_level },
        [KEY_SAMPLE_INTERVAL] = { "sample_interval", SCOPE_BROKER, 0, false, set_sample_interval },
        [KEY_TYPE] = { "type", SCOPE_CHANNEL, FOR_ALL, false, set_type },
        [KEY_OWNER] = { "owner", SCOPE_CHANNEL, FOR_ALL, false, set_owner },
        [KEY_GROUP] = { "group", SCOPE_CHANNEL, FOR_ALL, false, set_group },
        [KEY_MODE] = { "mode", SCOPE_CHANNEL, FOR_ALL, false, set_mode },
        [KEY_SEND] = { "send", SCOPE_CHANNEL, FOR_ALL, true, set_send },
        [KEY_RECV] = { "recv", SCOPE_CHANNEL, FOR_ALL, true, set_recv },
        [KEY_MAX_MESSAGES] = { "max_messages", SCOPE_CHANNEL, FOR_MQ, false, set_max_messages },
        [KEY_MESSAGE_SIZE] = { "message_size", SCOPE_CHANNEL, FOR_ALL, false, set_message_size },
        [KEY_CAPACITY] = { "capacity", SCOPE_CHANNEL, FOR_FIFO, false, set_capacity },
        [KEY_MQ_NAME] = { "mq_name", SCOPE_CHANNEL, FOR_MQ, false, set_mq_name },
        [KEY_PATH] = { "path", SCOPE_CHANNEL, FOR_FIFO, false, set_path },
        [KEY_ON_STOP] = { "on_stop", SCOPE_CHANNEL, FOR_ALL, false, set_on_stop },
        [KEY_FRAMING] = { "framing", SCOPE_CHANNEL, FOR_FIFO, false, set_framing },
        [KEY_ALERT_FULL_AFTER] = { "alert_full_after", SCOPE_CHANNEL, FOR_ALL, false, set_alert_full_after },
};

static int key_lookup(const char *name) {
        for (int i = 0; i < _KEY_MAX; i++)
                if (streq(config_keys[i].name, name))
                        return i;
        return -1;
}

static int parser_handler(void *user, const char *section_trunc, const char *name_trunc, const char *value) {
        struct parser *p = user;
        const char *key = p->key;
        const char **kfile;
        unsigned *kline;
        int k;

        if (p->line_handled_error || p->section_bad)
                return 1;
        if (p->continuation) {
                /* inih passes the previous key's name for a continuation line */
                key = name_trunc;
        }
        if (!key)
                key = name_trunc;

        k = key_lookup(key);
        bool broker = p->current == NULL;
        if (k < 0 || config_keys[k].scope != (broker ? SCOPE_BROKER : SCOPE_CHANNEL)) {
                if (k >= 0 && broker)
                        perr(p, "key '%s' belongs in a [channel NAME] section, not [broker]", key);
                else if (k >= 0)
                        perr(p, "key '%s' belongs in the [broker] section, not in a channel", key);
                else
                        perr(p, "unknown key '%s' in [%s]", key, p->section);
                return 1;
        }
        if (p->continuation && !config_keys[k].list) {
                perr(p, "unexpected indented line: only lists (admins, send, recv) may continue on the next line");
                return 1;
        }

        if (broker) {
                kfile = &p->broker_key_file[k];
                kline = &p->broker_key_line[k];
        } else {
                kfile = &p->current->key_file[k];
                kline = &p->current->key_line[k];
        }
        if (!p->continuation) {
                /* The same key twice in one place is a mistake; a drop-in may override [broker] keys. */
                if (*kline && (!broker || *kfile == p->file)) {
                        perr(p, "duplicate key '%s' (already set at line %u)", key, *kline);
                        return 1;
                }
                if (!*value && !config_keys[k].list) {
                        perr(p, "%s: empty value", key);
                        return 1;
                }
                *kfile = p->file;
                *kline = p->line;
        }

        config_keys[k].set(p, value);
        (void)section_trunc;
        return 1;
}

/* ---- files ------------------------------------------------------------------ */

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

        p->file = path;
        p->is_dropin = dropin;
        p->line = 0;
        free(p->section);
        p->section = NULL;
        p->current = NULL;
        p->section_bad = false;

        r = ini_parse_stream(parser_reader, p, parser_handler, p);
        if (r > 0 && (unsigned)r <= p->line) {
                /*
                 * inih saw an error our reader did not classify; our reader
                 * already reported every syntax error it knows, so this is a
                 * rare form (for example a key with an empty name).
                 */
                bool reported = false;
                for (size_t i = 0; i < p->errors->n; i++) {
                        char prefix[PATH_MAX + 32];
                        snprintf(prefix, sizeof(prefix), "%s:%d:", path, r);
                        if (strncmp(p->errors->lines[i], prefix, strlen(prefix)) == 0)
                                reported = true;
                }
                if (!reported)
                        config_errors_add(p->errors, path, (unsigned)r, "syntax error");
        } else if (r == -2)
                config_errors_add(p->errors, path, 0, "out of memory");
        if (ferror(p->f))
                config_errors_add(p->errors, path, 0, "read error");
        fclose(p->f);
        p->f = NULL;
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

void parser_done(struct parser *p) {
        name_cache_free(&p->names);
        str_index_free(&p->by_name);
        free(p->section);
        p->section = NULL;
        free(p->key);
        p->key = NULL;
        for (size_t i = 0; i < p->n_dropins; i++)
                free(p->dropins[i]);
        free(p->dropins);
        p->dropins = NULL;
        p->n_dropins = 0;
}
