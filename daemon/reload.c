/*
 * reload.c — applying a new configuration: load and check it, make the plan
 * (reload-plan.c), withdraw, create and reconfigure channels, swap the
 * registry and the configuration, tell the service manager.
 */
#include "build-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "fdstore.h"
#include "listener.h"
#include "log.h"
#include "notify.h"
#include "reload-plan.h"

/* The reload did not happen: say why, and go on with the configuration in force. */
static int reload_failed(struct broker *b, int r, const struct config_errors *errors, char **message) {
        for (size_t i = 0; i < errors->n; i++)
                log_error("%s", errors->lines[i]);
        if (errors->n)
                log_error("reload failed: the configuration is invalid (%zu errors); the running configuration "
                          "stays in force",
                          errors->n);
        else
                log_error("reload failed: %s; the running configuration stays in force", strerror(-r));
        if (message && asprintf(message, "reload failed: %s%s", errors->n ? errors->lines[0] : strerror(-r),
                                errors->n > 1 ? " (and more, see the daemon's log)" : "") < 0)
                *message = NULL;
        b->counters.reload_failures++;
        notify_ready();
        broker_update_status(b);
        return r;
}

/*
 * A channel leaves the configuration: withdraw it per on_stop, but never lose
 * a message: an object that still holds some is not removed, and one whose
 * data lives only while it is open (a FIFO) stays held (channel-holdover.c).
 */
static void reload_withdraw(struct channel *ch, const struct reload_step *s) {
        bool empty = channel_is_empty(ch);
        bool remove = s->remove && empty;

        if (s->remove && !empty)
                log_warning("channel '%s' was removed from the configuration but still holds messages; keeping its "
                            "kernel object",
                            ch->config->name);
        if (!remove && s->name_kept && !s->taken_over && !empty)
                log_warning("channel '%s' now uses another kernel object; the old one, %s, still holds messages and "
                            "is left in place: move them by hand or purge it",
                            ch->config->name, channel_config_object(ch->config));
        /*
         * The channel's entry in the service's store goes (a channel of the
         * same name may store its own next); a FIFO kept for its data is
         * stored again under a name of its own as it is retired, so that a
         * crash does not lose it either.
         */
        if (ch->ops->data_needs_holder)
                fdstore_remove(ch->config->name);
        if (!remove)
                channel_holdover_retire(ch);
        log_info("channel '%s': withdrawn%s", ch->config->name, remove ? " and removed" : "");
        channel_stop(ch, remove);
        channel_free(ch);
}

/*
 * The channel a step keeps, changes or creates. NULL when it could not be
 * made (out of memory): the new configuration then declares a channel the
 * registry does not hold, and the next reload creates it (reload_plan_lost).
 */
static struct channel *reload_step_apply(struct channel *ch, const struct reload_step *s, size_t *failed) {
        if (s->action == RELOAD_CREATE) {
                if (channel_new(s->next, &ch) < 0) {
                        log_error("channel '%s': out of memory", s->next->name);
                        (*failed)++;
                        return NULL;
                }
                if (channel_setup(ch) != 0)
                        (*failed)++;
                return ch;
        }
        if (s->action == RELOAD_CHANGE)
                log_info("channel '%s': changed%s%s%s%s%s%s%s%s%s", s->next->name,
                         s->changes & RELOAD_OWNER ? " owner" : "", s->changes & RELOAD_MODE ? " mode" : "",
                         s->changes & RELOAD_ACCESS ? " access" : "",
                         s->changes & RELOAD_MAX_MESSAGES ? " max_messages" : "",
                         s->changes & RELOAD_MESSAGE_SIZE ? " message_size" : "",
                         s->changes & RELOAD_CAPACITY ? " capacity" : "", s->changes & RELOAD_FRAMING ? " framing" : "",
                         s->changes & RELOAD_ON_STOP ? " on_stop" : "",
                         s->changes & RELOAD_ALERT ? " alert_full_after" : "");
        /* unchanged ones too: this repairs owner, mode and capacity that drifted, and resizes that waited */
        if (channel_reconfigure(ch, s->next) != 0)
                (*failed)++;
        return ch;
}

/* Carry out PLAN; OLD[i] is the channel of step i's old declaration. Returns the new channels, sorted. */
static void reload_apply(struct broker *b, const struct reload_plan *plan, struct channel **old,
                         const struct config *next, struct channel **channels, size_t *n, size_t *failed) {
        /* First withdraw what goes away, so that a renamed channel can take its object over. */
        for (size_t i = 0; i < plan->n; i++)
                if (plan->steps[i].action == RELOAD_WITHDRAW)
                        reload_withdraw(old[i], &plan->steps[i]);
        /* the runtime directory may have changed */
        if (rundir_setup(&b->rundir, next, NULL) < 0)
                log_error("the runtime directory is unusable; FIFO channels in it will fail");
        rundir_note_moved(&b->rundir, next);
        for (size_t i = 0; i < plan->n; i++) {
                if (plan->steps[i].action == RELOAD_WITHDRAW || plan->steps[i].action == RELOAD_NOTHING)
                        continue;
                struct channel *ch = reload_step_apply(old[i], &plan->steps[i], failed);
                if (ch)
                        channels[(*n)++] = ch;
        }
}

int broker_reload(struct broker *b, char **message) {
        struct config_errors errors = {};
        struct reload_plan plan = {};
        struct config *next = NULL;
        struct channel **channels = NULL, **old = NULL;
        size_t n = 0, failed = 0;
        int r;

        notify_reloading();
        log_info("reloading configuration from %s", b->config_path);
        kernel_limits_read(&b->limits);
        r = broker_load_config(b->config_path, &b->defaults, &b->limits, &next, &errors);
        /* the first valid configuration after an invalid start: the instance is claimed now */
        if (r >= 0 && b->config_problem && b->rundir.lock_fd < 0 && (r = broker_claim_instance(b, next)) < 0)
                config_errors_add(&errors, next->file, 0, "cannot take the runtime directory %s and its lock: %s",
                                  next->runtime_dir, strerror(-r));
        if (r >= 0)
                r = reload_plan_make(b->config, next, &plan);
        if (r >= 0) {
                channels = calloc(next->n_channels ? next->n_channels : 1, sizeof(*channels));
                old = calloc(plan.n ? plan.n : 1, sizeof(*old));
                if (!channels || !old)
                        r = -ENOMEM;
        }
        if (r < 0) {
                if (b->config_problem && broker_set_config_problem(b, &errors, r) < 0)
                        log_error("out of memory: the reasons of the invalid configuration are not updated");
                r = reload_failed(b, r, &errors, message);
                config_errors_clear(&errors);
                config_free(next);
                reload_plan_free(&plan);
                free(channels);
                free(old);
                return r;
        }
        limits_raise_msgqueue(next, &b->limits);
        /* every old channel is found before anything is freed; one that is missing is made anew */
        for (size_t i = 0; i < plan.n; i++)
                if (plan.steps[i].old && !(old[i] = registry_find(&b->registry, plan.steps[i].old->name)))
                        reload_plan_lost(&plan, i);
        reload_apply(b, &plan, old, next, channels, &n, &failed);
        registry_set(&b->registry, channels, n);
        channel_holdovers_run();
        config_free(b->config);
        b->config = next;
        b->env.config = next;
        if (b->config_problem) {
                log_notice("the configuration is valid again: serving its %zu channels", n);
                free(b->config_problem);
                b->config_problem = NULL;
                b->env.config_problem = NULL;
        }
        if (!b->verbose)
                log_set_level(next->log_level);
        if (b->listener)
                listener_config_changed(b->listener, next);
        b->counters.reloads++;
        broker_schedule_sampling(b);
        broker_channels_changed(b);
        log_info("reloaded: %zu channels (%zu new, %zu kept, %zu withdrawn, %zu unavailable)", n, plan.n_create,
                 plan.n_keep + plan.n_change, plan.n_withdraw, failed);
        if (message && asprintf(message, "reloaded: %zu channels (%zu new, %zu kept, %zu withdrawn, %zu unavailable)",
                                n, plan.n_create, plan.n_keep + plan.n_change, plan.n_withdraw, failed) < 0)
                *message = NULL;
        reload_plan_free(&plan);
        free(old);
        broker_update_status(b);
        notify_ready();
        return 0;
}
