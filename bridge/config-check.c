/*
 * config-check.c — after the file is read: the defaults it left out, the
 * origin with %H expanded, and what no single key can check (credentials
 * that exclude each other, a bridge's direction and its keys, two bridges
 * that would fight over one channel or one consumer).
 */
#include "build-config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config-internal.h"
#include "names.h"
#include "util.h"

#define DEFAULT_URL "nats://127.0.0.1:4222"
#define DEFAULT_STREAM "IPC"
#define DEFAULT_SUBJECT_PREFIX "ipc."

#define cerr(c, e, line, ...) config_errors_add((e), (c)->file, (line), __VA_ARGS__)

static int set_default(char **slot, const char *value) {
        if (*slot)
                return 0;
        *slot = strdup(value);
        return *slot ? 0 : -ENOMEM;
}

static void check_credentials(struct config *c, struct config_errors *e) {
        const unsigned *at = c->key_line;

        if (!c->user != !c->password)
                cerr(c, e, at[c->user ? KEY_USER : KEY_PASSWORD], "%s",
                     c->user ? "user needs a password" : "password needs a user");
        if (c->token && c->user)
                cerr(c, e, at[KEY_TOKEN], "token and user/password exclude each other: use one");
        if (c->creds && (c->user || c->token))
                cerr(c, e, at[KEY_CREDS], "creds and %s exclude each other: use one",
                     c->token ? "token" : "user/password");
        if (!c->tls_cert != !c->tls_key)
                cerr(c, e, at[c->tls_cert ? KEY_TLS_CERT : KEY_TLS_KEY], "%s",
                     c->tls_cert ? "tls_cert needs tls_key" : "tls_key needs tls_cert");
}

/* ORIGIN with %H (the host name) and %% expanded into OUT (ORIGIN_MAX + 1 bytes); -EINVAL names the bad specifier. */
static int origin_expand(const char *origin, char *out, char *bad) {
        char host[256] = "";
        size_t n = 0;

        for (const char *p = origin; *p; p++) {
                const char *add = p;
                size_t len = 1;
                if (*p == '%') {
                        if (p[1] == 'H') {
                                if (gethostname(host, sizeof(host) - 1) < 0)
                                        return -errno;
                                add = host;
                                len = strlen(host);
                        } else if (p[1] != '%') {
                                *bad = p[1];
                                return -EINVAL;
                        }
                        p++;
                }
                if (n + len > ORIGIN_MAX)
                        return -ENAMETOOLONG;
                memcpy(out + n, add, len);
                n += len;
        }
        out[n] = '\0';
        return 0;
}

static void resolve_origin(struct config *c, struct config_errors *e) {
        char expanded[ORIGIN_MAX + 1], bad = 0;
        unsigned line = c->key_line[KEY_ORIGIN];
        int r;

        if (set_default(&c->origin, "%H") < 0)
                return;
        r = origin_expand(c->origin, expanded, &bad);
        if (r == -EINVAL)
                cerr(c, e, line, "origin: unknown specifier '%%%c' (%%H is the host name, %%%% a '%%')",
                     bad ? bad : ' ');
        else if (r == -ENAMETOOLONG)
                cerr(c, e, line, "origin: '%s' is longer than %d characters once expanded", c->origin, ORIGIN_MAX);
        else if (r < 0)
                cerr(c, e, line, "origin: cannot read the host name: %s", strerror(-r));
        else if (!names_origin_valid(expanded))
                cerr(c, e, line, "origin: '%s' is not 1 to %d characters of A-Z a-z 0-9 . _ -%s", expanded, ORIGIN_MAX,
                     line ? "" : " (the host name; set origin = in [local])");
        else {
                free(c->origin);
                c->origin = strdup(expanded);
        }
}

static void resolve_spool_dir(struct config *c) {
        const char *state = getenv("STATE_DIRECTORY");

        if (c->spool_dir)
                return;
        /* systemd's StateDirectory=: the first directory it names */
        if (state && state[0] == '/')
                c->spool_dir = strndup(state, strcspn(state, ":"));
        else
                c->spool_dir = strdup(LOCALSTATEDIR "/lib/ipcbroker-bridge");
}

/* The in direction's consumer, unless named: CHANNEL-ORIGIN with the dots consumer names cannot have made '_'. */
static void default_durable(struct config *c, struct bridge_config *b, struct config_errors *e) {
        char *d;

        if (asprintf(&d, "%s-%s", b->channel, c->origin) < 0)
                return;
        for (char *p = d; *p; p++)
                if (*p == '.')
                        *p = '_';
        if (!names_jetstream_valid(d)) {
                cerr(c, e, b->line,
                     "the default durable name '%s' is longer than a consumer name can be (64): set durable =", d);
                free(d);
                return;
        }
        b->durable = d;
}

static void resolve_bridge(struct config *c, struct bridge_config *b, struct config_errors *e) {
        char *subject = NULL;

        if (b->direction == DIRECTION_NONE && !b->key_line[KEY_DIRECTION])
                cerr(c, e, b->line, "[bridge %s] needs direction = out or in", b->name);
        if (set_default(&b->channel, b->name) < 0 || set_default(&b->stream, DEFAULT_STREAM) < 0)
                return;
        if (!b->subject) {
                if (asprintf(&subject, DEFAULT_SUBJECT_PREFIX "%s", b->channel) < 0)
                        return;
                if (!names_subject_valid(subject, false))
                        cerr(c, e, b->line, "the default subject '%s' is not a NATS subject: set subject =", subject);
                b->subject = subject;
        }
        if (b->direction == DIRECTION_OUT && !names_subject_valid(b->subject, false) &&
            names_subject_valid(b->subject, true))
                cerr(c, e, b->key_line[KEY_SUBJECT],
                     "subject: an out bridge publishes on one subject: '%s' has wildcards", b->subject);
        if (b->direction == DIRECTION_OUT && b->durable)
                cerr(c, e, b->key_line[KEY_DURABLE], "durable applies to direction = in only");
        if (!b->create_stream && b->key_line[KEY_REPLICAS])
                cerr(c, e, b->key_line[KEY_REPLICAS],
                     "replicas applies to a stream the bridge creates: not with create_stream = no");
        if (b->direction == DIRECTION_IN && !b->durable && c->origin && names_origin_valid(c->origin))
                default_durable(c, b, e);
}

/* Two bridges that cannot both work: one channel taken by two out bridges, or bridged both ways; one consumer twice. */
static void check_pair(struct config *c, const struct bridge_config *a, const struct bridge_config *b,
                       struct config_errors *e) {
        if (streq(a->channel, b->channel) && a->direction == DIRECTION_OUT && b->direction == DIRECTION_OUT)
                cerr(c, e, b->line,
                     "channel '%s' is already bridged out by [bridge %s] (line %u): the two would share its messages",
                     b->channel, a->name, a->line);
        else if (streq(a->channel, b->channel) && a->direction != b->direction)
                cerr(c, e, b->line,
                     "channel '%s' is bridged both ways (with [bridge %s], line %u): what comes in would go straight "
                     "back out; use one channel for each direction",
                     b->channel, a->name, a->line);
        if (a->direction == DIRECTION_IN && b->direction == DIRECTION_IN && a->durable && b->durable &&
            streq(a->durable, b->durable) && streq(a->stream, b->stream))
                cerr(c, e, b->line, "durable '%s' on stream %s is already used by [bridge %s] (line %u)", b->durable,
                     b->stream, a->name, a->line);
}

int config_resolve(struct config *c, struct config_errors *e) {
        if (!c->urls) {
                c->urls = calloc(1, sizeof(*c->urls));
                if (!c->urls || !(c->urls[0] = strdup(DEFAULT_URL)))
                        return -ENOMEM;
                c->n_urls = 1;
        }
        check_credentials(c, e);
        resolve_spool_dir(c);
        resolve_origin(c, e);
        if (!c->spool_dir)
                return -ENOMEM;
        if (c->n_bridges == 0)
                cerr(c, e, 0, "no [bridge NAME] section: nothing to forward");
        for (size_t i = 0; i < c->n_bridges; i++)
                resolve_bridge(c, &c->bridges[i], e);
        for (size_t i = 0; i < c->n_bridges; i++)
                for (size_t j = 0; j < i; j++)
                        check_pair(c, &c->bridges[j], &c->bridges[i], e);
        return e->n ? -EINVAL : 0;
}
