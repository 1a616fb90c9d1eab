/*
 * config-parser.c — the INI reader: one open file, line by line, through
 * inih into the key table (config-keys.c), the configuration and the channel
 * drafts. Opening the files, their trust and the drop-ins are config-files.c's.
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
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-internal.h"
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

/* ---- key lines ---------------------------------------------------------------- */

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

/* ---- one file ---------------------------------------------------------------- */

void parser_parse(struct parser *p, const char *path, bool dropin) {
        int r;

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
