/*
 * config-load.c — config_load(): the defaults, then the main file and its
 * drop-ins (config-files.c) are read (config-parser.c, config-keys.c) into
 * channel drafts, then every channel is resolved once all files are read (required
 * keys, per-type checks, derived kernel names and paths, no two channels on
 * one kernel object) and the channels are sorted by name.
 *
 * Every problem becomes one "FILE:LINE: message" in struct config_errors;
 * loading goes on after an error so that one run reports them all.
 */
#include "build-config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "config-internal.h"
#include "config.h"
#include "str-index.h"

/* ---- resolution ------------------------------------------------------------- */

/* The kernel object's name: the one the file gave (*EXPLICIT), else PREFIX, SEP and the channel's name. */
static void object_name(struct channel_config *c, char **explicit, const char *prefix, const char *sep, char **ret) {
        c->explicit_name = *explicit != NULL;
        if (*explicit)
                *ret = TAKE_PTR(*explicit);
        else if (asprintf(ret, "%s%s%s", prefix, sep, c->name) < 0)
                *ret = NULL;
}

static void finish_mqueue(struct parser *p, struct channel_draft *d) {
        struct channel_config *c = &d->c;

        if (c->max_messages < 0)
                c->max_messages = DEFAULT_MQ_MAX_MESSAGES;
        if (c->message_size < 0)
                c->message_size = DEFAULT_MQ_MESSAGE_SIZE;
        object_name(c, &d->explicit_mq_name, p->config->mq_prefix, "", &c->mq_name);
}

static void finish_fifo(struct parser *p, struct channel_draft *d) {
        struct channel_config *c = &d->c;
        /* a batch record carries a length header inside the packet */
        long max = c->framing == FRAMING_BATCH ? PIPE_BUF - WIRE_RECORD_HEADER : PIPE_BUF;

        if (c->message_size < 0)
                c->message_size = max;
        else if (c->message_size > max) {
                if (c->framing == FRAMING_BATCH)
                        config_errors_add(p->errors, d->key_file[KEY_MESSAGE_SIZE], d->key_line[KEY_MESSAGE_SIZE],
                                          "channel '%s': message_size %ld is larger than %ld, the largest "
                                          "message a batch-framed FIFO packet holds (PIPE_BUF - %d)",
                                          c->name, c->message_size, max, WIRE_RECORD_HEADER);
                else
                        config_errors_add(p->errors, d->key_file[KEY_MESSAGE_SIZE], d->key_line[KEY_MESSAGE_SIZE],
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
        object_name(c, &d->explicit_path, p->config->runtime_dir, "/fifo/", &c->path);
}

/* After all files: required keys, per-type checks and defaults, derived names. */
static void finish_channel(struct parser *p, struct channel_draft *d) {
        struct channel_config *c = &d->c;

        c->send_text = principal_list_format_cached(&c->send, &p->names);
        c->recv_text = principal_list_format_cached(&c->recv, &p->names);
        if (!d->has_type) {
                if (!d->bad)
                        config_errors_add(p->errors, c->file, c->line, "channel '%s': missing 'type' (mqueue or fifo)",
                                          c->name);
                d->bad = true;
                return;
        }
        for (int k = 0; k < _KEY_MAX; k++)
                if (d->key_line[k] && config_keys[k].scope == SCOPE_CHANNEL &&
                    !(config_keys[k].types & (1u << c->type))) {
                        config_errors_add(p->errors, d->key_file[k], d->key_line[k],
                                          "channel '%s': key '%s' does not apply to type %s", c->name,
                                          config_keys[k].name, channel_type_to_string(c->type));
                        d->bad = true;
                }
        if (c->type == CHANNEL_MQUEUE)
                finish_mqueue(p, d);
        else
                finish_fifo(p, d);
}

/* Two channels must not share a kernel object (queue names and paths apart). */
static void check_shared_objects(struct parser *p) {
        struct str_index objects[_CHANNEL_TYPE_MAX] = {};

        for (size_t i = 0; i < p->n_drafts; i++) {
                struct channel_config *a = &p->drafts[i]->c;
                const char *ka = channel_config_object(a);
                size_t j;

                if (p->drafts[i]->bad || !p->drafts[i]->has_type || !ka)
                        continue;
                if (str_index_get(&objects[a->type], ka, &j)) {
                        struct channel_config *b = &p->drafts[j]->c;
                        config_errors_add(p->errors, a->file, a->line,
                                          "channel '%s' uses the same %s '%s' as channel '%s' (%s:%u)", a->name,
                                          a->type == CHANNEL_MQUEUE ? "queue" : "path", ka, b->name, b->file, b->line);
                } else if (str_index_put(&objects[a->type], ka, i) < 0)
                        config_errors_add(p->errors, a->file, a->line, "out of memory");
        }
        for (size_t t = 0; t < _CHANNEL_TYPE_MAX; t++)
                str_index_free(&objects[t]);
}

static int cmp_channel(const void *a, const void *b) {
        const struct channel_config *x = *(const struct channel_config *const *)a;
        const struct channel_config *y = *(const struct channel_config *const *)b;
        return strcmp(x->name, y->name);
}

/* ---- loading -------------------------------------------------------------- */

/* A configuration holding the defaults, before any file is read; NULL when out of memory. */
static struct config *config_new(const char *path, const struct config_defaults *defaults) {
        _cleanup_config_ struct config *c = calloc(1, sizeof(*c));

        if (!c)
                return NULL;
        c->file = strdup(path);
        c->socket = strdup(defaults->socket);
        c->runtime_dir = strdup(defaults->runtime_dir);
        c->mq_prefix = strdup(DEFAULT_MQ_PREFIX);
        c->socket_mode = DEFAULT_SOCKET_MODE;
        c->max_clients = DEFAULT_MAX_CLIENTS;
        c->max_clients_per_user = DEFAULT_MAX_CLIENTS_PER_USER;
        c->idle_timeout = DEFAULT_IDLE_TIMEOUT;
        c->sample_interval_ms = DEFAULT_SAMPLE_INTERVAL_MS;
        c->max_connection_age = DEFAULT_MAX_CONNECTION_AGE;
        c->log_level = LOG_INFO;
        if (!c->file || !c->socket || !c->runtime_dir || !c->mq_prefix)
                return NULL;
        return TAKE_PTR(c);
}

struct config *config_new_default(const char *path, const struct config_defaults *defaults) {
        struct config *c = config_new(path, defaults);

        if (c && !(c->channels = calloc(1, sizeof(*c->channels)))) {
                config_free(c);
                return NULL;
        }
        return c;
}

/* Move the drafts' channels into C, sorted by name, and free the drafts; false when out of memory. */
static bool take_channels(struct config *c, struct parser *p) {
        c->channels = calloc(p->n_drafts ? p->n_drafts : 1, sizeof(*c->channels));
        for (size_t i = 0; i < p->n_drafts; i++) {
                struct channel_draft *d = p->drafts[i];
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
        free(p->drafts);
        p->drafts = NULL;
        p->n_drafts = 0;
        if (!c->channels)
                return false;
        qsort(c->channels, c->n_channels, sizeof(*c->channels), cmp_channel);
        return true;
}

int config_load(const char *path, const struct config_defaults *defaults, struct config **ret,
                struct config_errors *errors) {
        struct config_defaults local_defaults;
        _cleanup_config_ struct config *c = NULL;
        struct parser p = {};
        size_t errors_before = errors->n;
        bool taken;
        int r;

        if (!defaults) {
                config_defaults_init(&local_defaults);
                defaults = &local_defaults;
        }
        c = config_new(path, defaults);
        if (!c)
                return -ENOMEM;

        p.config = c;
        p.errors = errors;
        p.defaults = defaults;
        r = parser_read_file(&p, -1, NULL, c->file, false);
        if (r >= 0) {
                parser_read_dropins(&p);
                for (size_t i = 0; i < p.n_drafts; i++)
                        finish_channel(&p, p.drafts[i]);
                check_shared_objects(&p);
        }
        taken = take_channels(c, &p);
        parser_done(&p);

        if (r < 0)
                return r;
        if (!taken)
                return -ENOMEM;
        if (errors->n > errors_before)
                return -EINVAL;
        *ret = TAKE_PTR(c);
        return 0;
}
