/*
 * config.c — load and validate ipcbroker.conf and its drop-ins.
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
 * loading goes on after an error so that one run reports them all.
 */
#include "build-config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "str-index.h"

#ifndef RUNSTATEDIR
#define RUNSTATEDIR "/run"
#endif

/* ---- error list ---------------------------------------------------------- */

void config_errors_add(struct config_errors *e, const char *file, unsigned line, const char *fmt, ...) {
        char msg[1024];
        char *s = NULL;
        char **n;
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (line > 0) {
                if (asprintf(&s, "%s:%u: %s", file, line, msg) < 0)
                        s = NULL;
        } else if (asprintf(&s, "%s: %s", file, msg) < 0)
                s = NULL;
        if (!s)
                return;
        n = realloc(e->lines, (e->n + 1) * sizeof(*n));
        if (!n) {
                free(s);
                return;
        }
        e->lines = n;
        e->lines[e->n++] = s;
}

void config_errors_clear(struct config_errors *e) {
        for (size_t i = 0; i < e->n; i++)
                free(e->lines[i]);
        free(e->lines);
        e->lines = NULL;
        e->n = 0;
}

/* ---- small value parsers --------------------------------------------------- */

const char *channel_type_to_string(enum channel_type t) {
        return t == CHANNEL_FIFO ? "fifo" : "mqueue";
}

const char *on_stop_to_string(enum on_stop s) {
        return s == ON_STOP_REMOVE ? "remove" : "keep";
}

const char *framing_to_string(enum fifo_framing f) {
        return f == FRAMING_BATCH ? "batch" : "packet";
}

bool channel_name_valid(const char *name) {
        size_t n = strlen(name);

        if (n < 1 || n > CHANNEL_NAME_MAX || name[0] == '.')
                return false;
        for (const char *p = name; *p; p++)
                if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
                        return false;
        return true;
}

static int parse_mode(const char *s, mode_t *ret) {
        uint64_t v;
        int r;

        for (const char *p = s; *p; p++)
                if (*p < '0' || *p > '7')
                        return -EINVAL;
        r = parse_u64(s, 8, 0, 0777, &v);
        if (r < 0)
                return r;
        *ret = (mode_t)v;
        return 0;
}

/* ---- keys ----------------------------------------------------------------- */

enum key_scope {
        SCOPE_BROKER,
        SCOPE_CHANNEL,
};

enum key_id {
        /* [broker] */
        KEY_SOCKET,
        KEY_SOCKET_MODE,
        KEY_RUNTIME_DIR,
        KEY_MQ_PREFIX,
        KEY_ADMINS,
        KEY_MAX_CLIENTS,
        KEY_MAX_CLIENTS_PER_USER,
        KEY_IDLE_TIMEOUT,
        KEY_MAX_CONNECTION_AGE,
        KEY_INCLUDE,
        KEY_LOG_LEVEL,
        /* [channel NAME] */
        KEY_TYPE,
        KEY_OWNER,
        KEY_GROUP,
        KEY_MODE,
        KEY_SEND,
        KEY_RECV,
        KEY_MAX_MESSAGES,
        KEY_MESSAGE_SIZE,
        KEY_CAPACITY,
        KEY_MQ_NAME,
        KEY_PATH,
        KEY_ON_STOP,
        KEY_FRAMING,
        _KEY_MAX,
};

/* Which channel types a channel key applies to. */
#define FOR_MQ (1u << CHANNEL_MQUEUE)
#define FOR_FIFO (1u << CHANNEL_FIFO)
#define FOR_ALL (FOR_MQ | FOR_FIFO)

static const struct key_info {
        const char *name;
        enum key_scope scope;
        unsigned types;
        bool list; /* value may continue on indented lines */
} keys[_KEY_MAX] = {
        [KEY_SOCKET] = { "socket", SCOPE_BROKER, 0, false },
        [KEY_SOCKET_MODE] = { "socket_mode", SCOPE_BROKER, 0, false },
        [KEY_RUNTIME_DIR] = { "runtime_dir", SCOPE_BROKER, 0, false },
        [KEY_MQ_PREFIX] = { "mq_prefix", SCOPE_BROKER, 0, false },
        [KEY_ADMINS] = { "admins", SCOPE_BROKER, 0, true },
        [KEY_MAX_CLIENTS] = { "max_clients", SCOPE_BROKER, 0, false },
        [KEY_MAX_CLIENTS_PER_USER] = { "max_clients_per_user", SCOPE_BROKER, 0, false },
        [KEY_IDLE_TIMEOUT] = { "idle_timeout", SCOPE_BROKER, 0, false },
        [KEY_MAX_CONNECTION_AGE] = { "max_connection_age", SCOPE_BROKER, 0, false },
        [KEY_INCLUDE] = { "include", SCOPE_BROKER, 0, false },
        [KEY_LOG_LEVEL] = { "log_level", SCOPE_BROKER, 0, false },
        [KEY_TYPE] = { "type", SCOPE_CHANNEL, FOR_ALL, false },
        [KEY_OWNER] = { "owner", SCOPE_CHANNEL, FOR_ALL, false },
        [KEY_GROUP] = { "group", SCOPE_CHANNEL, FOR_ALL, false },
        [KEY_MODE] = { "mode", SCOPE_CHANNEL, FOR_ALL, false },
        [KEY_SEND] = { "send", SCOPE_CHANNEL, FOR_ALL, true },
        [KEY_RECV] = { "recv", SCOPE_CHANNEL, FOR_ALL, true },
        [KEY_MAX_MESSAGES] = { "max_messages", SCOPE_CHANNEL, FOR_MQ, false },
        [KEY_MESSAGE_SIZE] = { "message_size", SCOPE_CHANNEL, FOR_ALL, false },
        [KEY_CAPACITY] = { "capacity", SCOPE_CHANNEL, FOR_FIFO, false },
        [KEY_MQ_NAME] = { "mq_name", SCOPE_CHANNEL, FOR_MQ, false },
        [KEY_PATH] = { "path", SCOPE_CHANNEL, FOR_FIFO, false },
        [KEY_ON_STOP] = { "on_stop", SCOPE_CHANNEL, FOR_ALL, false },
        [KEY_FRAMING] = { "framing", SCOPE_CHANNEL, FOR_FIFO, false },
};

static int key_lookup(const char *name) {
        for (int i = 0; i < _KEY_MAX; i++)
                if (streq(keys[i].name, name))
                        return i;
        return -1;
}

/* ---- parse state ------------------------------------------------------------ */

/* A channel while its sections are being read: the values plus where each key was set. */
struct channel_draft {
        struct channel_config c;
        bool has_type;
        bool bad; /* an error was reported: skip further checks */
        const char *key_file[_KEY_MAX];
        unsigned key_line[_KEY_MAX];
        char *explicit_mq_name;
        char *explicit_path;
};

struct parser {
        struct config *config;
        struct config_errors *errors;
        const struct config_defaults *defaults;

        /* all drafts, in declaration order */
        struct channel_draft **drafts;
        size_t n_drafts;

        /* [broker] keys: where each was last set */
        const char *broker_key_file[_KEY_MAX];
        unsigned broker_key_line[_KEY_MAX];

        /* the file being read */
        FILE *f;
        const char *file; /* owned by the config (stable for messages) */
        bool is_dropin;
        unsigned line;
        int max_line;                  /* inih's buffer size */
        bool line_handled_error;       /* the reader already reported this line */
        bool continuation;             /* this line continues the previous key's value */
        char *section;                 /* full section name of the current line, NULL before the first */
        char *key;                     /* full key of the current line */
        bool section_bad;              /* the current section is invalid: ignore its keys */
        bool key_seen;                 /* a key line since the section header (continuations need one) */
        struct channel_draft *current; /* the channel section being read */
        struct str_index by_name;      /* draft index by channel name */
};

#define perr(p, ...) config_errors_add((p)->errors, (p)->file, (p)->line, __VA_ARGS__)

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

static void parser_section_begin(struct parser *p, const char *raw) {
        _cleanup_free_ char *copy = strdup(raw);
        char *name, *s;

        free(p->section);
        p->section = NULL;
        p->current = NULL;
        p->section_bad = true;
        p->key_seen = false;
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

/* A section header was rejected: its keys must not land in the previous section. */
static void parser_section_invalid(struct parser *p) {
        free(p->section);
        p->section = NULL;
        p->current = NULL;
        p->section_bad = true;
        p->key_seen = false;
}

/*
 * The line reader handed to ini_parse_stream(). It returns each physical line
 * (up to inih's buffer), after checking it; a line we reject is replaced by an
 * empty comment so that inih neither parses nor splits it.
 */
static char *parser_reader(char *str, int num, void *stream) {
        struct parser *p = stream;
        char *line = NULL;
        size_t cap = 0;
        ssize_t len;

        p->max_line = num;
        len = getline(&line, &cap, p->f);
        if (len < 0) {
                free(line);
                return NULL;
        }
        p->line++;
        p->line_handled_error = false;
        p->continuation = false;
        free(p->key);
        p->key = NULL;

        if (len > 0 && line[len - 1] == '\n')
                line[--len] = '\0';
        if (len > 0 && line[len - 1] == '\r')
                line[--len] = '\0';

        if (memchr(line, '\0', (size_t)len)) {
                perr(p, "line contains a NUL byte");
                goto reject;
        }
        /* inih needs room for the newline and the terminator. */
        if (len > num - 2) {
                perr(p, "line too long (%zd characters; at most %d fit the parser's line buffer)", len, num - 2);
                if (*strip(line) == '[')
                        parser_section_invalid(p);
                goto reject;
        }

        /* Classify the line the way inih will, to give precise errors. */
        {
                _cleanup_free_ char *copy = strdup(line);
                char *s, *c;

                if (!copy)
                        goto reject;
                s = copy;
                if (p->line == 1 && (unsigned char)s[0] == 0xEF && (unsigned char)s[1] == 0xBB &&
                    (unsigned char)s[2] == 0xBF)
                        s += 3;
                bool indented = isspace((unsigned char)s[0]);
                s = strip(s);
                if (!*s || *s == ';' || *s == '#')
                        goto accept;
                if (*s == '[') {
                        char *end;
                        c = find_comment(s);
                        if (c)
                                *c = '\0';
                        end = strchr(s + 1, ']');
                        if (!end) {
                                perr(p, "unterminated section header (missing ']')");
                                parser_section_invalid(p);
                                goto reject;
                        }
                        if (*strip(end + 1)) {
                                perr(p, "unexpected text after section header");
                                parser_section_invalid(p);
                                goto reject;
                        }
                        *end = '\0';
                        parser_section_begin(p, s + 1);
                        /* inih would truncate the name; we keep ours. */
                        goto accept;
                }
                if (indented && p->section && p->key_seen) {
                        /* inih treats an indented line after a key as a continuation of its value */
                        p->continuation = true;
                        goto accept;
                }
                c = s + strcspn(s, "=:");
                if (!*c || (find_comment(s) && find_comment(s) < c)) {
                        perr(p, "expected 'key = value', '[section]' or a comment");
                        goto reject;
                }
                *c = '\0';
                p->key = strdup(strip(s));
                if (!p->section) {
                        if (!p->section_bad)
                                perr(p, "key '%s' outside of any section", p->key);
                        goto reject;
                }
                p->key_seen = true;
        }

accept:
        memcpy(str, line, (size_t)len);
        str[len] = '\n';
        str[len + 1] = '\0';
        free(line);
        return str;

reject:
        p->line_handled_error = true;
        free(line);
        /* an empty comment: inih skips it */
        str[0] = ';';
        str[1] = '\n';
        str[2] = '\0';
        return str;
}

/*
 * Why V is not the one canonical spelling of its path (NULL when it is): the
 * daemon compares paths as strings to keep two channels from sharing a kernel
 * object, so "/run/x//f", "/run/x/./f" and "/run/x/f" must not all be accepted.
 */
static const char *path_noncanonical(const char *v) {
        for (const char *s = v; *s; s++) {
                if (*s != '/')
                        continue;
                if (s[1] == '/')
                        return "it contains '//'";
                if (s[1] == '.' && (s[2] == '/' || !s[2]))
                        return "it contains a '.' component";
                if (s[1] == '.' && s[2] == '.' && (s[3] == '/' || !s[3]))
                        return "it contains a '..' component";
                if (!s[1] && s != v)
                        return "it ends in '/' (name the file or directory without it)";
        }
        return NULL;
}

/* An absolute, canonical path; "/" itself only where ALLOW_ROOT. */
static char *path_value(struct parser *p, const char *key, const char *v, bool allow_root) {
        const char *why;

        if (v[0] != '/') {
                perr(p, "%s must be an absolute path, not '%s'", key, v);
                return NULL;
        }
        if (strlen(v) >= PATH_MAX) {
                perr(p, "%s is too long", key);
                return NULL;
        }
        if ((why = path_noncanonical(v))) {
                perr(p, "%s: '%s' is not a canonical path: %s", key, v, why);
                return NULL;
        }
        if (!v[1] && !allow_root) {
                perr(p, "%s must not be the root directory '/'", key);
                return NULL;
        }
        return strdup(v);
}

static bool number_value(struct parser *p, const char *key, const char *v, long min, long max, long *ret) {
        uint64_t n;
        int r = parse_u64(v, 10, (uint64_t)min, (uint64_t)max, &n);

        if (r == -EINVAL) {
                perr(p, "%s: '%s' is not a number", key, v);
                return false;
        }
        if (r == -ERANGE) {
                perr(p, "%s: %s is out of range (%ld to %ld)", key, v, min, max);
                return false;
        }
        *ret = (long)n;
        return true;
}

static bool mq_name_valid(const char *s) {
        size_t n = strlen(s);
        return n >= 2 && n <= CONFIG_MQ_NAME_MAX + 1 && s[0] == '/' && !strchr(s + 1, '/');
}

static void handle_broker_key(struct parser *p, enum key_id k, const char *v) {
        struct config *c = p->config;
        char *s;

        switch (k) {
        case KEY_SOCKET:
                if ((s = path_value(p, "socket", v, false))) {
                        if (strlen(s) >= 108) {
                                perr(p, "socket path is too long for a Unix socket (at most 107 bytes)");
                                free(s);
                                break;
                        }
                        free(c->socket);
                        c->socket = s;
                }
                break;
        case KEY_SOCKET_MODE:
                if (parse_mode(v, &c->socket_mode) < 0)
                        perr(p, "socket_mode: '%s' is not an octal mode between 0000 and 0777", v);
                break;
        case KEY_RUNTIME_DIR:
                if ((s = path_value(p, "runtime_dir", v, false))) {
                        free(c->runtime_dir);
                        c->runtime_dir = s;
                }
                break;
        case KEY_MQ_PREFIX:
                if (v[0] != '/' || strchr(v + 1, '/')) {
                        perr(p, "mq_prefix must start with '/' and contain no other '/': '%s'", v);
                        break;
                }
                if (strlen(v) + CHANNEL_NAME_MAX > CONFIG_MQ_NAME_MAX + 1) {
                        perr(p,
                             "mq_prefix '%s' is too long: with a %d-character channel name it must fit in %d "
                             "characters",
                             v, CHANNEL_NAME_MAX, CONFIG_MQ_NAME_MAX);
                        break;
                }
                free(c->mq_prefix);
                c->mq_prefix = strdup(v);
                break;
        case KEY_ADMINS: {
                _cleanup_free_ char *error = NULL;
                if (!p->continuation)
                        principal_list_free(&c->admins);
                if (principal_list_parse(v, &c->admins, &error) < 0)
                        perr(p, "admins: %s", error ? error : "out of memory");
                break;
        }
        case KEY_MAX_CLIENTS: {
                long n;
                if (number_value(p, "max_clients", v, 1, 1000000, &n))
                        c->max_clients = (unsigned)n;
                break;
        }
        case KEY_MAX_CLIENTS_PER_USER: {
                long n;
                if (number_value(p, "max_clients_per_user", v, 1, 1000000, &n))
                        c->max_clients_per_user = (unsigned)n;
                break;
        }
        case KEY_IDLE_TIMEOUT: {
                long n;
                if (number_value(p, "idle_timeout", v, 1, 86400, &n))
                        c->idle_timeout = (unsigned)n;
                break;
        }
        case KEY_MAX_CONNECTION_AGE: {
                long n;
                if (number_value(p, "max_connection_age", v, 1, 86400, &n))
                        c->max_connection_age = (unsigned)n;
                break;
        }
        case KEY_INCLUDE:
                if (p->is_dropin) {
                        perr(p, "include is only allowed in the main configuration file");
                        break;
                }
                if ((s = path_value(p, "include", v, true))) {
                        free(c->include);
                        c->include = s;
                }
                break;
        case KEY_LOG_LEVEL: {
                int l = log_level_from_string(v);
                if (l < 0)
                        perr(p, "log_level: '%s' is not one of error, warning, notice, info, debug", v);
                else
                        c->log_level = l;
                break;
        }
        default:
                break;
        }
}

static void handle_channel_key(struct parser *p, struct channel_draft *d, enum key_id k, const char *v) {
        struct channel_config *c = &d->c;
        _cleanup_free_ char *error = NULL;

        switch (k) {
        case KEY_TYPE:
                if (streq(v, "mqueue"))
                        c->type = CHANNEL_MQUEUE;
                else if (streq(v, "fifo"))
                        c->type = CHANNEL_FIFO;
                else {
                        perr(p, "type: '%s' is not one of mqueue, fifo", v);
                        d->bad = true;
                        break;
                }
                d->has_type = true;
                break;
        case KEY_OWNER:
                if (user_from_string(v, &c->owner) < 0)
                        perr(p, "owner: unknown user '%s'", v);
                break;
        case KEY_GROUP:
                if (group_from_string(v, &c->group) < 0)
                        perr(p, "group: unknown group '%s'", v);
                break;
        case KEY_MODE:
                if (parse_mode(v, &c->mode) < 0)
                        perr(p, "mode: '%s' is not an octal mode between 0000 and 0777", v);
                break;
        case KEY_SEND:
        case KEY_RECV: {
                struct principal_list *l = k == KEY_SEND ? &c->send : &c->recv;
                if (!p->continuation)
                        principal_list_free(l);
                if (principal_list_parse(v, l, &error) < 0)
                        perr(p, "%s: %s", keys[k].name, error ? error : "out of memory");
                break;
        }
        case KEY_MAX_MESSAGES:
                number_value(p, "max_messages", v, 1, MQ_HARD_MSGMAX, &c->max_messages);
                break;
        case KEY_MESSAGE_SIZE:
                /* the per-type upper bound is checked once the type is known */
                number_value(p, "message_size", v, 1, MQ_HARD_MSGSIZEMAX, &c->message_size);
                break;
        case KEY_CAPACITY:
                number_value(p, "capacity", v, 1, FIFO_CAPACITY_MAX, &c->capacity);
                break;
        case KEY_MQ_NAME:
                if (!mq_name_valid(v)) {
                        perr(p, "mq_name: '%s' is not a queue name: '/' followed by 1 to %d characters without '/'", v,
                             CONFIG_MQ_NAME_MAX);
                        break;
                }
                free(d->explicit_mq_name);
                d->explicit_mq_name = strdup(v);
                break;
        case KEY_PATH: {
                char *s = path_value(p, "path", v, false);
                if (s) {
                        free(d->explicit_path);
                        d->explicit_path = s;
                }
                break;
        }
        case KEY_FRAMING:
                if (streq(v, "packet"))
                        c->framing = FRAMING_PACKET;
                else if (streq(v, "batch"))
                        c->framing = FRAMING_BATCH;
                else
                        perr(p, "framing: '%s' is not one of packet, batch", v);
                break;
        case KEY_ON_STOP:
                if (streq(v, "keep"))
                        c->on_stop = ON_STOP_KEEP;
                else if (streq(v, "remove"))
                        c->on_stop = ON_STOP_REMOVE;
                else
                        perr(p, "on_stop: '%s' is not one of keep, remove", v);
                break;
        default:
                break;
        }
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
        if (k < 0 || keys[k].scope != (broker ? SCOPE_BROKER : SCOPE_CHANNEL)) {
                if (k >= 0 && broker)
                        perr(p, "key '%s' belongs in a [channel NAME] section, not [broker]", key);
                else if (k >= 0)
                        perr(p, "key '%s' belongs in the [broker] section, not in a channel", key);
                else
                        perr(p, "unknown key '%s' in [%s]", key, p->section);
                return 1;
        }
        if (p->continuation && !keys[k].list) {
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
                if (!*value && !keys[k].list) {
                        perr(p, "%s: empty value", key);
                        return 1;
                }
                *kfile = p->file;
                *kline = p->line;
        }

        if (broker)
                handle_broker_key(p, k, value);
        else
                handle_channel_key(p, p->current, k, value);
        (void)section_trunc;
        return 1;
}

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

/* Read PATH (opened relative to DIRFD as NAME, when DIRFD >= 0). */
static int parser_read_file(struct parser *p, int dirfd, const char *name, const char *path, bool dropin) {
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

static void parser_read_dropins(struct parser *p, char ***owned, size_t *n_owned) {
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
                char **no = realloc(*owned, (*n_owned + 1) * sizeof(*no));
                if (!no) {
                        free(names[i]);
                        continue;
                }
                *owned = no;
                (*owned)[(*n_owned)++] = names[i];
                /* opened in the directory checked above, not by its name again */
                parser_read_file(p, dirfd(d), names[i] + strlen(dir) + 1, names[i], true);
        }
        closedir(d);
        free(names);
}

/* After all files: required keys, per-type checks and defaults, derived names. */
static void parser_finish_channel(struct parser *p, struct channel_draft *d) {
        struct channel_config *c = &d->c;
        const char *file = c->file;

        c->send_text = principal_list_format(&c->send);
        c->recv_text = principal_list_format(&c->recv);
        if (!d->has_type) {
                if (!d->bad)
                        config_errors_add(p->errors, file, c->line, "channel '%s': missing 'type' (mqueue or fifo)",
                                          c->name);
                d->bad = true;
                return;
        }
        for (int k = 0; k < _KEY_MAX; k++)
                if (d->key_line[k] && keys[k].scope == SCOPE_CHANNEL && !(keys[k].types & (1u << c->type))) {
                        config_errors_add(p->errors, d->key_file[k], d->key_line[k],
                                          "channel '%s': key '%s' does not apply to type %s", c->name, keys[k].name,
                                          channel_type_to_string(c->type));
                        d->bad = true;
                }

        if (c->type == CHANNEL_MQUEUE) {
                if (c->max_messages < 0)
                        c->max_messages = DEFAULT_MQ_MAX_MESSAGES;
                if (c->message_size < 0)
                        c->message_size = DEFAULT_MQ_MESSAGE_SIZE;
                c->explicit_name = d->explicit_mq_name != NULL;
                if (d->explicit_mq_name)
                        c->mq_name = TAKE_PTR(d->explicit_mq_name);
                else if (asprintf(&c->mq_name, "%s%s", p->config->mq_prefix, c->name) < 0)
                        c->mq_name = NULL;
        } else {
                /* a batch record carries a length header inside the packet */
                long max = c->framing == FRAMING_BATCH ? PIPE_BUF - FIFO_RECORD_HEADER : PIPE_BUF;
                if (c->message_size < 0)
                        c->message_size = max;
                else if (c->message_size > max) {
                        if (c->framing == FRAMING_BATCH)
                                config_errors_add(p->errors, d->key_file[KEY_MESSAGE_SIZE],
                                                  d->key_line[KEY_MESSAGE_SIZE],
                                                  "channel '%s': message_size %ld is larger than %ld, the largest "
                                                  "message a batch-framed FIFO packet holds (PIPE_BUF - %d)",
                                                  c->name, c->message_size, max, FIFO_RECORD_HEADER);
                        else
                                config_errors_add(p->errors, d->key_file[KEY_MESSAGE_SIZE],
                                                  d->key_line[KEY_MESSAGE_SIZE],
                                                  "channel '%s': message_size %ld is larger than PIPE_BUF (%d), the "
                                                  "largest message a FIFO delivers whole",
                                                  c->name, c->message_size, PIPE_BUF);
                        d->bad = true;
                }
                if (c->capacity < 0)
                        c->capacity = DEFAULT_FIFO_CAPACITY;
                else if (c->capacity < PIPE_BUF) {
                        config_errors_add(p->errors, d->key_file[KEY_CAPACITY], d->key_line[KEY_CAPACITY],
                                          "channel '%s': capacity %ld is below the smallest pipe buffer (%d)", c->name,
                                          c->capacity, PIPE_BUF);
                        d->bad = true;
                }
                c->explicit_name = d->explicit_path != NULL;
                if (d->explicit_path)
                        c->path = TAKE_PTR(d->explicit_path);
                else if (asprintf(&c->path, "%s/fifo/%s", p->config->runtime_dir, c->name) < 0)
                        c->path = NULL;
        }
}

static int cmp_channel(const void *a, const void *b) {
        const struct channel_config *x = *(const struct channel_config *const *)a;
        const struct channel_config *y = *(const struct channel_config *const *)b;
        return strcmp(x->name, y->name);
}

static void channel_config_free(struct channel_config *c) {
        if (!c)
                return;
        free(c->name);
        free(c->file);
        free(c->mq_name);
        free(c->path);
        free(c->send_text);
        free(c->recv_text);
        principal_list_free(&c->send);
        principal_list_free(&c->recv);
}

void config_defaults_init(struct config_defaults *d) {
        d->socket = RUNSTATEDIR "/ipcbroker/ipcbroker.sock";
        d->runtime_dir = RUNSTATEDIR "/ipcbroker";
        d->uid = geteuid();
        d->gid = getegid();
}

void config_free(struct config *c) {
        if (!c)
                return;
        free(c->file);
        free(c->socket);
        free(c->runtime_dir);
        free(c->mq_prefix);
        free(c->include);
        principal_list_free(&c->admins);
        for (size_t i = 0; i < c->n_channels; i++) {
                channel_config_free(c->channels[i]);
                free(c->channels[i]);
        }
        free(c->channels);
        free(c);
}

int config_load(const char *path, const struct config_defaults *defaults, struct config **ret,
                struct config_errors *errors) {
        struct config_defaults local_defaults;
        _cleanup_config_ struct config *c = NULL;
        struct parser p = {};
        char **dropin_names = NULL;
        size_t n_dropins = 0;
        size_t errors_before = errors->n;
        int r;

        if (!defaults) {
                config_defaults_init(&local_defaults);
                defaults = &local_defaults;
        }
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->file = strdup(path);
        c->socket = strdup(defaults->socket);
        c->runtime_dir = strdup(defaults->runtime_dir);
        c->mq_prefix = strdup(DEFAULT_MQ_PREFIX);
        c->socket_mode = DEFAULT_SOCKET_MODE;
        c->max_clients = DEFAULT_MAX_CLIENTS;
        c->max_clients_per_user = DEFAULT_MAX_CLIENTS_PER_USER;
        c->idle_timeout = DEFAULT_IDLE_TIMEOUT;
        c->max_connection_age = DEFAULT_MAX_CONNECTION_AGE;
        c->log_level = LOG_INFO;
        if (!c->file || !c->socket || !c->runtime_dir || !c->mq_prefix)
                return -ENOMEM;

        p.config = c;
        p.errors = errors;
        p.defaults = defaults;

        r = parser_read_file(&p, -1, NULL, c->file, false);
        if (r >= 0)
                parser_read_dropins(&p, &dropin_names, &n_dropins);

        if (r >= 0) {
                for (size_t i = 0; i < p.n_drafts; i++)
                        parser_finish_channel(&p, p.drafts[i]);

                /* Two channels must not share a kernel object (queue names and paths apart). */
                struct str_index objects[2] = {};
                for (size_t i = 0; i < p.n_drafts; i++) {
                        struct channel_config *a = &p.drafts[i]->c;
                        const char *ka = a->type == CHANNEL_MQUEUE ? a->mq_name : a->path;
                        size_t j;
                        if (p.drafts[i]->bad || !p.drafts[i]->has_type || !ka)
                                continue;
                        if (str_index_get(&objects[a->type], ka, &j)) {
                                struct channel_config *b = &p.drafts[j]->c;
                                config_errors_add(errors, a->file, a->line,
                                                  "channel '%s' uses the same %s '%s' as channel '%s' (%s:%u)", a->name,
                                                  a->type == CHANNEL_MQUEUE ? "queue" : "path", ka, b->name, b->file,
                                                  b->line);
                        } else if (str_index_put(&objects[a->type], ka, i) < 0)
                                config_errors_add(errors, a->file, a->line, "out of memory");
                }
                str_index_free(&objects[0]);
                str_index_free(&objects[1]);
        }

        /* Move the drafts into the config. */
        c->channels = calloc(p.n_drafts ? p.n_drafts : 1, sizeof(*c->channels));
        for (size_t i = 0; i < p.n_drafts; i++) {
                struct channel_draft *d = p.drafts[i];
                if (c->channels) {
                        struct channel_config *cc = malloc(sizeof(*cc));
                        if (cc) {
                                *cc = d->c;
                                c->channels[c->n_channels++] = cc;
                        } else
                                channel_config_free(&d->c);
                } else
                        channel_config_free(&d->c);
                free(d->explicit_mq_name);
                free(d->explicit_path);
                free(d);
        }
        free(p.drafts);
        str_index_free(&p.by_name);
        free(p.section);
        free(p.key);
        if (c->channels)
                qsort(c->channels, c->n_channels, sizeof(*c->channels), cmp_channel);
        for (size_t i = 0; i < n_dropins; i++)
                free(dropin_names[i]);
        free(dropin_names);

        if (r < 0)
                return r;
        if (!c->channels)
                return -ENOMEM;
        if (errors->n > errors_before)
                return -EINVAL;
        *ret = TAKE_PTR(c);
        return 0;
}

const struct channel_config *config_find_channel(const struct config *c, const char *name) {
        size_t lo = 0, hi = c->n_channels;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int r = strcmp(name, c->channels[mid]->name);
                if (r == 0)
                        return c->channels[mid];
                if (r < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        return NULL;
}
