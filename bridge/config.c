/*
 * config.c — reading ipcbroker-bridge.conf.
 *
 * inih parses the INI syntax. Debian builds it with fixed options (a
 * 200-byte line buffer, 50-byte section and key buffers, indented lines
 * continuing the previous value, no line numbers for the handler), so the
 * file reaches ini_parse_stream() through our own line reader: it counts
 * lines, refuses lines too long for inih's buffer instead of letting it split
 * them, refuses continuation lines (no value here spans lines), and keeps the
 * full section name and key of each line. Every problem is reported as
 * "FILE:LINE: message" and reading goes on, so one run shows them all.
 */
#include "build-config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config-internal.h"
#include "names.h"
#include "util.h"

#define DEFAULT_MAX_INFLIGHT 256
#define DEFAULT_ACK_WAIT_MS 30000
#define DEFAULT_SYNC_INTERVAL_MS 1000

const char *direction_to_string(enum direction d) {
        return d == DIRECTION_OUT ? "out" : d == DIRECTION_IN ? "in" : "none";
}

/* ---- the keys ------------------------------------------------------------- */

static struct bridge_config *current(struct reader *r) {
        return &r->c->bridges[r->bridge];
}

static bool subject_valid(const char *s) {
        return names_subject_valid(s, true); /* wildcards: an out bridge's are refused in config-check.c */
}

static void set_url(struct reader *r, const char *v) {
        value_urls(r, "url", v, &r->c->urls, &r->c->n_urls);
}

static void set_direction(struct reader *r, const char *v) {
        if (streq(v, "out") || streq(v, "in"))
                current(r)->direction = streq(v, "out") ? DIRECTION_OUT : DIRECTION_IN;
        else
                rerr(r, "direction: '%s' is not out or in", v);
}

/* What a key's value is, and so which parser checks it. */
enum value_kind {
        VALUE_TEXT,     /* printable, at most MAX bytes */
        VALUE_PATH,     /* absolute and canonical, shorter than MAX */
        VALUE_NAME,     /* as VALID says, described by WHAT */
        VALUE_COUNT,    /* MIN to MAX */
        VALUE_DURATION, /* MIN to MAX milliseconds */
        VALUE_BOOL,
        VALUE_OTHER, /* SET does it */
};

#define IN_NATS(field) SECTION_NATS, offsetof(struct config, field)
#define IN_LOCAL(field) SECTION_LOCAL, offsetof(struct config, field)
#define IN_BRIDGE(field) SECTION_BRIDGE, offsetof(struct bridge_config, field)

static const struct key_info {
        const char *name;
        enum section section;
        size_t offset; /* in struct config ([nats], [local]) or struct bridge_config */
        enum value_kind kind;
        unsigned long min, max;
        bool (*valid)(const char *s);
        const char *what;
        void (*set)(struct reader *r, const char *value);
} keys[_KEY_MAX] = {
        [KEY_URL] = { "url", SECTION_NATS, 0, VALUE_OTHER, .set = set_url },
        [KEY_USER] = { "user", IN_NATS(user), VALUE_TEXT, .max = 256 },
        [KEY_PASSWORD] = { "password", IN_NATS(password), VALUE_TEXT, .max = 256 },
        [KEY_TOKEN] = { "token", IN_NATS(token), VALUE_TEXT, .max = 1024 },
        [KEY_CREDS] = { "creds", IN_NATS(creds), VALUE_PATH, .max = PATH_MAX },
        [KEY_TLS_CA] = { "tls_ca", IN_NATS(tls_ca), VALUE_PATH, .max = PATH_MAX },
        [KEY_TLS_CERT] = { "tls_cert", IN_NATS(tls_cert), VALUE_PATH, .max = PATH_MAX },
        [KEY_TLS_KEY] = { "tls_key", IN_NATS(tls_key), VALUE_PATH, .max = PATH_MAX },
        [KEY_NAME] = { "name", IN_NATS(name), VALUE_TEXT, .max = 128 },
        [KEY_SOCKET] = { "socket", IN_LOCAL(socket), VALUE_PATH, .max = 108 /* sun_path */ },
        [KEY_SPOOL_DIR] = { "spool_dir", IN_LOCAL(spool_dir), VALUE_PATH, .max = PATH_MAX },
        /* checked once expanded (config-check.c) */
        [KEY_ORIGIN] = { "origin", IN_LOCAL(origin), VALUE_TEXT, .max = ORIGIN_MAX * 4 },
        /* an addition to issue 12's keys: how often the spool and the delivery record reach the disk */
        [KEY_SYNC_INTERVAL] = { "sync_interval", IN_LOCAL(sync_interval_ms), VALUE_DURATION, 0, 3600UL * 1000 },
        [KEY_CHANNEL] = { "channel", IN_BRIDGE(channel), VALUE_NAME, .valid = names_channel_valid,
                          .what = "a channel name (1 to 128 characters of A-Z a-z 0-9 . _ -, not starting with '.')" },
        [KEY_DIRECTION] = { "direction", SECTION_BRIDGE, 0, VALUE_OTHER, .set = set_direction },
        [KEY_SUBJECT] = { "subject", IN_BRIDGE(subject), VALUE_NAME, .valid = subject_valid,
                          .what = "a NATS subject (tokens separated by '.', no spaces; '*' and '>' only as whole "
                                  "tokens, '>' last)" },
        [KEY_STREAM] = { "stream", IN_BRIDGE(stream), VALUE_NAME, .valid = names_jetstream_valid,
                         .what = "a stream name (1 to 64 characters of A-Z a-z 0-9 _ -)" },
        [KEY_CREATE_STREAM] = { "create_stream", IN_BRIDGE(create_stream), VALUE_BOOL },
        [KEY_DURABLE] = { "durable", IN_BRIDGE(durable), VALUE_NAME, .valid = names_jetstream_valid,
                          .what = "a consumer name (1 to 64 characters of A-Z a-z 0-9 _ -)" },
        [KEY_MAX_INFLIGHT] = { "max_inflight", IN_BRIDGE(max_inflight), VALUE_COUNT, 1, MAX_INFLIGHT_MAX },
        [KEY_ACK_WAIT] = { "ack_wait", IN_BRIDGE(ack_wait_ms), VALUE_DURATION, 1000, 12UL * 3600 * 1000 },
        /* an addition to issue 12's keys: a stream the bridge creates in a cluster wants copies on 3 servers */
        [KEY_REPLICAS] = { "replicas", IN_BRIDGE(replicas), VALUE_COUNT, 1, 5 },
};

/* Check VALUE as key K says and store it. */
static void key_set(struct reader *r, const struct key_info *k, const char *v) {
        char *at = (k->section == SECTION_BRIDGE ? (char *)current(r) : (char *)r->c) + k->offset;

        switch (k->kind) {
        case VALUE_TEXT:
                value_text(r, k->name, v, k->max, (char **)at);
                break;
        case VALUE_PATH:
                value_path(r, k->name, v, k->max, (char **)at);
                break;
        case VALUE_NAME:
                if (k->valid(v))
                        value_text(r, k->name, v, 255, (char **)at);
                else
                        rerr(r, "%s: '%s' is not %s", k->name, v, k->what);
                break;
        case VALUE_COUNT:
                value_count(r, k->name, v, (unsigned)k->min, (unsigned)k->max, (unsigned *)at);
                break;
        case VALUE_DURATION:
                value_duration(r, k->name, v, k->min, k->max, (unsigned long *)at);
                break;
        case VALUE_BOOL:
                value_bool(r, k->name, v, (bool *)at);
                break;
        case VALUE_OTHER:
                k->set(r, v);
                break;
        }
}

static const char *const section_names[] = {
        [SECTION_NATS] = "[nats]", [SECTION_LOCAL] = "[local]", [SECTION_BRIDGE] = "[bridge NAME]"
};

static int key_find(const char *name) {
        for (int k = 0; k < _KEY_MAX; k++)
                if (streq(keys[k].name, name))
                        return k;
        return -1;
}

/* inih calls this for each key line it parsed; the reader knows which line that was. */
static int on_key(void *user, const char *section, const char *name, const char *value) {
        struct reader *r = user;
        const char *key = r->key ? r->key : name;
        unsigned *seen;
        int k;

        (void)section; /* inih's copy may be cut short: ours is whole */
        if (r->line_rejected || r->section == SECTION_BAD)
                return 1;
        k = key_find(key);
        if (k < 0) {
                rerr(r, "unknown key '%s' in [%s]", key, r->section_name);
                return 1;
        }
        if (keys[k].section != r->section) {
                rerr(r, "key '%s' belongs in the %s section, not in [%s]", key, section_names[keys[k].section],
                     r->section_name);
                return 1;
        }
        seen = r->section == SECTION_BRIDGE ? &current(r)->key_line[k] : &r->c->key_line[k];
        if (*seen) {
                rerr(r, "duplicate key '%s' (already set at line %u)", key, *seen);
                return 1;
        }
        *seen = r->line;
        if (!*value) {
                rerr(r, "%s: empty value", key);
                return 1;
        }
        key_set(r, &keys[k], value);
        return 1;
}

/* ---- sections --------------------------------------------------------------- */

static char *strip(char *s) {
        char *e;

        while (isspace((unsigned char)*s))
                s++;
        e = s + strlen(s);
        while (e > s && isspace((unsigned char)e[-1]))
                *--e = '\0';
        return s;
}

static void bridge_begin(struct reader *r, const char *name) {
        struct bridge_config *grown;

        if (!*name) {
                rerr(r, "[bridge] needs a name: [bridge NAME]");
                return;
        }
        if (!names_channel_valid(name)) {
                rerr(r, "invalid bridge name '%s': 1 to %d characters of A-Z a-z 0-9 . _ -, not starting with '.'",
                     name, BRIDGE_NAME_MAX);
                return;
        }
        for (size_t i = 0; i < r->c->n_bridges; i++)
                if (streq(r->c->bridges[i].name, name)) {
                        rerr(r, "duplicate bridge '%s' (already declared at line %u)", name, r->c->bridges[i].line);
                        return;
                }
        grown = realloc(r->c->bridges, (r->c->n_bridges + 1) * sizeof(*grown));
        if (!grown)
                return;
        r->c->bridges = grown;
        r->bridge = r->c->n_bridges++;
        grown[r->bridge] = (struct bridge_config){
                .name = strdup(name),
                .create_stream = true,
                .max_inflight = DEFAULT_MAX_INFLIGHT,
                .ack_wait_ms = DEFAULT_ACK_WAIT_MS,
                .replicas = 1,
                .line = r->line,
        };
        r->section = SECTION_BRIDGE;
}

/* A header that inih will see too: NAME is what stands between the brackets. */
static void section_begin(struct reader *r, char *name) {
        name = strip(name);
        free(r->section_name);
        r->section_name = strdup(name);
        r->section = SECTION_BAD;
        if (streq(name, "nats") || streq(name, "local")) {
                enum section s = streq(name, "nats") ? SECTION_NATS : SECTION_LOCAL;
                if (r->section_line[s]) {
                        rerr(r, "duplicate section [%s] (already begun at line %u)", name, r->section_line[s]);
                        return;
                }
                r->section_line[s] = r->line;
                r->section = s;
        } else if (strncmp(name, "bridge", 6) == 0 && (!name[6] || isspace((unsigned char)name[6])))
                bridge_begin(r, strip(name + 6));
        else
                rerr(r, "unknown section [%s] (expected [nats], [local] or [bridge NAME])", name);
}

/* ---- lines ---------------------------------------------------------------------- */

/* Where an inline comment starts (inih: ';' at the start or after white space), or NULL. */
static char *comment_start(char *s) {
        for (char *p = s; *p; p++)
                if (*p == ';' && (p == s || isspace((unsigned char)p[-1])))
                        return p;
        return NULL;
}

/* Look at one line before inih does. Returns whether inih may have it. */
static bool line_check(struct reader *r, char *line, size_t len, int inih_max) {
        bool indented = isspace((unsigned char)line[0]);
        char *s, *c, *eq;

        if (memchr(line, '\0', len)) {
                rerr(r, "line contains a NUL byte");
                return false;
        }
        if ((int)len > inih_max - 2) {
                rerr(r, "line too long (%zu characters; at most %d fit the parser's line buffer)", len, inih_max - 2);
                return false;
        }
        s = line;
        if (r->line == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
                s += 3;
        s = strip(s);
        if (!*s || *s == ';' || *s == '#')
                return true;
        if (indented && r->inih_has_key) {
                rerr(r, "unexpected indented line: values do not continue on the next line");
                return false;
        }
        if (*s == '[') {
                if ((c = comment_start(s)))
                        *c = '\0';
                c = strchr(s, ']');
                if (!c || *strip(c + 1)) {
                        rerr(r,
                             c ? "unexpected text after section header" : "unterminated section header (missing ']')");
                        r->section = SECTION_BAD;
                        return false;
                }
                *c = '\0';
                section_begin(r, s + 1);
                r->inih_has_key = false;
                return true;
        }
        eq = s + strcspn(s, "=:");
        if (!*eq || ((c = comment_start(s)) && c < eq) || eq == s) {
                rerr(r, "expected 'key = value', '[section]' or a comment");
                return false;
        }
        *eq = '\0';
        r->key = strdup(strip(s));
        if (r->section == SECTION_NONE) {
                rerr(r, "key '%s' outside of any section", r->key);
                return false;
        }
        r->inih_has_key = true;
        return true;
}

/* inih's line source: each physical line, checked; a refused one reaches inih as an empty comment. */
static char *line_read(char *str, int num, void *stream) {
        struct reader *r = stream;
        _cleanup_free_ char *line = NULL, *copy = NULL;
        size_t cap = 0;
        ssize_t len = getline(&line, &cap, r->f);

        if (len < 0)
                return NULL;
        r->line++;
        free(r->key);
        r->key = NULL;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
                line[--len] = '\0';
        copy = strdup(line);
        r->line_rejected = !copy || !line_check(r, copy, (size_t)len, num);
        if (r->line_rejected) {
                strcpy(str, ";\n");
                return str;
        }
        memcpy(str, line, (size_t)len);
        memcpy(str + len, "\n", 2);
        return str;
}

/* ---- the file ------------------------------------------------------------------ */

/*
 * A configuration that someone else could change would let them redirect
 * the bridge's messages: like ipcbrokerd, read only files owned by root or
 * by us and not writable by group or others. Checked on the open descriptor.
 */
static int file_open(struct reader *r, const char *path) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        struct stat st;

        if (fd < 0 || fstat(fd, &st) < 0) {
                int e = -errno;
                config_errors_add(r->errors, path, 0, "cannot open: %s", strerror(-e));
                return e;
        }
        if (!S_ISREG(st.st_mode)) {
                config_errors_add(r->errors, path, 0, "not a regular file");
                return -EINVAL;
        }
        if (st.st_uid != 0 && st.st_uid != geteuid()) {
                config_errors_add(r->errors, path, 0, "is owned by uid %u, not root or uid %u; refusing to read it",
                                  (unsigned)st.st_uid, (unsigned)geteuid());
                return -EPERM;
        }
        if (st.st_mode & (S_IWGRP | S_IWOTH)) {
                config_errors_add(r->errors, path, 0,
                                  "is writable by group or others (mode %04o); refusing to read it (chmod go-w)",
                                  (unsigned)(st.st_mode & 07777));
                return -EPERM;
        }
        r->f = fdopen(fd, "r");
        if (!r->f)
                return -errno;
        fd = -1;
        return 0;
}

/* Whether a message about LINE of PATH was given already (inih reports the first line it could not parse). */
static bool errors_at_line(const struct config_errors *e, const char *path, unsigned line) {
        char prefix[64];
        size_t n = strlen(path);

        snprintf(prefix, sizeof(prefix), ":%u:", line);
        for (size_t i = 0; i < e->n; i++)
                if (strncmp(e->lines[i], path, n) == 0 && strncmp(e->lines[i] + n, prefix, strlen(prefix)) == 0)
                        return true;
        return false;
}

static int file_read(struct reader *r, const char *path) {
        int e = file_open(r, path);

        if (e < 0)
                return e;
        e = ini_parse_stream(line_read, r, on_key, r);
        if (e > 0 && !errors_at_line(r->errors, path, (unsigned)e))
                config_errors_add(r->errors, path, (unsigned)e, "syntax error");
        else if (e == -2)
                config_errors_add(r->errors, path, 0, "out of memory");
        if (ferror(r->f))
                config_errors_add(r->errors, path, 0, "read error");
        fclose(r->f);
        r->f = NULL;
        return 0;
}

void config_free(struct config *c) {
        if (!c)
                return;
        for (size_t i = 0; i < c->n_urls; i++)
                free(c->urls[i]);
        free(c->urls);
        char **strings[] = { &c->file,     &c->user,    &c->password, &c->token,  &c->creds,     &c->tls_ca,
                             &c->tls_cert, &c->tls_key, &c->name,     &c->socket, &c->spool_dir, &c->origin };
        for (size_t i = 0; i < ARRAY_SIZE(strings); i++)
                free(*strings[i]);
        for (size_t i = 0; i < c->n_bridges; i++) {
                struct bridge_config *b = &c->bridges[i];
                free(b->name);
                free(b->channel);
                free(b->subject);
                free(b->stream);
                free(b->durable);
        }
        free(c->bridges);
        free(c);
}

int config_load(const char *path, struct config **ret, struct config_errors *errors) {
        struct config *c = calloc(1, sizeof(*c));
        struct reader r = { .c = c, .errors = errors, .file = path };
        int e;

        if (!c || !(c->file = strdup(path))) {
                config_free(c);
                return -ENOMEM;
        }
        c->sync_interval_ms = DEFAULT_SYNC_INTERVAL_MS;
        e = file_read(&r, path);
        free(r.section_name);
        free(r.key);
        if (e == 0)
                e = config_resolve(c, errors);
        if (e == 0 && errors->n > 0)
                e = -EINVAL;
        if (e < 0) {
                config_free(c);
                return e;
        }
        *ret = c;
        return 0;
}
