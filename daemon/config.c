/*
 * config.c — the configuration model: the names of the enums, channel names,
 * the built-in defaults, finding a channel, freeing it all. Loading is
 * config-load.c's; the list of problems a load finds is common/config-errors.c's.
 */
#include "build-config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

#ifndef RUNSTATEDIR
#define RUNSTATEDIR "/run"
#endif

const char *const channel_type_names[_CHANNEL_TYPE_MAX] = { [CHANNEL_MQUEUE] = "mqueue", [CHANNEL_FIFO] = "fifo" };
const char *const on_stop_names[_ON_STOP_MAX] = { [ON_STOP_KEEP] = "keep", [ON_STOP_REMOVE] = "remove" };
const char *const framing_names[_FRAMING_MAX] = { [FRAMING_PACKET] = "packet", [FRAMING_BATCH] = "batch" };

static const char *name_of(const char *const *names, size_t n, int value) {
        return value >= 0 && (size_t)value < n && names[value] ? names[value] : "?";
}

const char *channel_type_to_string(enum channel_type t) {
        return name_of(channel_type_names, ARRAY_SIZE(channel_type_names), (int)t);
}

const char *on_stop_to_string(enum on_stop s) {
        return name_of(on_stop_names, ARRAY_SIZE(on_stop_names), (int)s);
}

const char *framing_to_string(enum fifo_framing f) {
        return name_of(framing_names, ARRAY_SIZE(framing_names), (int)f);
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

/* ---- the model ------------------------------------------------------------ */

void channel_config_free(struct channel_config *c) {
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
