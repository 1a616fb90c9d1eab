/*
 * reload-plan.c — comparing two configurations into the steps of a reload
 * (see reload-plan.h).
 */
#include "build-config.h"

#include <errno.h>
#include <stdlib.h>

#include "reload-plan.h"

static bool config_names_object(const struct config *c, const struct channel_config *ch) {
        for (size_t i = 0; i < c->n_channels; i++)
                if (channel_config_same_object(c->channels[i], ch))
                        return true;
        return false;
}

/* What differs between two declarations of one channel and object (a key a type does not use never differs). */
static unsigned reload_changes(const struct channel_config *a, const struct channel_config *b) {
        const struct {
                bool differs;
                unsigned change;
        } keys[] = {
                { a->owner != b->owner || a->group != b->group, RELOAD_OWNER },
                { a->mode != b->mode, RELOAD_MODE },
                { !principal_list_equal(&a->send, &b->send) || !principal_list_equal(&a->recv, &b->recv),
                  RELOAD_ACCESS },
                { a->max_messages != b->max_messages, RELOAD_MAX_MESSAGES },
                { a->message_size != b->message_size, RELOAD_MESSAGE_SIZE },
                { a->capacity != b->capacity, RELOAD_CAPACITY },
                { a->framing != b->framing, RELOAD_FRAMING },
                { a->on_stop != b->on_stop, RELOAD_ON_STOP },
                { a->alert_full_after_ms != b->alert_full_after_ms, RELOAD_ALERT },
        };
        unsigned changes = 0;

        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
                if (keys[i].differs)
                        changes |= keys[i].change;
        return changes;
}

int reload_plan_make(const struct config *old, const struct config *next, struct reload_plan *plan) {
        size_t max = old->n_channels + next->n_channels;

        *plan = (struct reload_plan){};
        plan->steps = calloc(max ? max : 1, sizeof(*plan->steps));
        if (!plan->steps)
                return -ENOMEM;
        for (size_t i = 0; i < old->n_channels; i++) {
                const struct channel_config *o = old->channels[i];
                const struct channel_config *n = config_find_channel(next, o->name);

                if (n && channel_config_same_object(n, o))
                        continue;
                struct reload_step *s = &plan->steps[plan->n++];
                s->action = RELOAD_WITHDRAW;
                s->old = o;
                s->taken_over = config_names_object(next, o);
                s->remove = o->on_stop == ON_STOP_REMOVE && !s->taken_over;
                s->name_kept = n != NULL;
                plan->n_withdraw++;
        }
        for (size_t i = 0; i < next->n_channels; i++) {
                const struct channel_config *n = next->channels[i];
                const struct channel_config *o = config_find_channel(old, n->name);
                struct reload_step *s = &plan->steps[plan->n++];

                s->next = n;
                if (!o || !channel_config_same_object(n, o)) {
                        s->action = RELOAD_CREATE;
                        plan->n_create++;
                        continue;
                }
                s->old = o;
                s->changes = reload_changes(o, n);
                s->action = s->changes ? RELOAD_CHANGE : RELOAD_KEEP;
                if (s->changes)
                        plan->n_change++;
                else
                        plan->n_keep++;
        }
        return 0;
}

void reload_plan_lost(struct reload_plan *plan, size_t i) {
        struct reload_step *s = &plan->steps[i];

        switch (s->action) {
        case RELOAD_KEEP:
                plan->n_keep--;
                break;
        case RELOAD_CHANGE:
                plan->n_change--;
                break;
        case RELOAD_WITHDRAW:
                plan->n_withdraw--;
                s->action = RELOAD_NOTHING;
                return;
        default:
                return; /* a creation or nothing: no old channel was needed */
        }
        s->action = RELOAD_CREATE;
        s->old = NULL;
        s->changes = 0;
        plan->n_create++;
}

void reload_plan_free(struct reload_plan *plan) {
        free(plan->steps);
        *plan = (struct reload_plan){};
}

const char *reload_action_to_string(enum reload_action a) {
        static const char *const names[] = {
                [RELOAD_KEEP] = "keep",         [RELOAD_CHANGE] = "change",   [RELOAD_CREATE] = "create",
                [RELOAD_WITHDRAW] = "withdraw", [RELOAD_NOTHING] = "nothing",
        };

        return (unsigned)a < sizeof(names) / sizeof(names[0]) ? names[a] : "?";
}
