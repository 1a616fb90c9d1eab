/*
 * config-keys.c — every key of the configuration file, in one table
 * (config_keys): its name, its section, the channel types it applies to,
 * whether it is a list, and what it sets, checked by the value parsers of
 * config-values.c.
 */
#include "build-config.h"

#include <stdlib.h>
#include <string.h>

#include "config-internal.h"
#include "log.h"
#include "util.h"

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
