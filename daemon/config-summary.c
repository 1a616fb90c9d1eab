/*
 * config-summary.c — a loaded configuration described for a person
 * (`ipcbrokerd -t`).
 */
#include "build-config.h"

#include <stdio.h>

#include "config.h"

void config_print_summary(const struct config *c, FILE *f) {
        size_t queues = 0, fifos = 0;

        for (size_t i = 0; i < c->n_channels; i++)
                if (c->channels[i]->type == CHANNEL_MQUEUE)
                        queues++;
                else
                        fifos++;
        fprintf(f, "%s: configuration OK: %zu channels (%zu queues, %zu FIFOs)\n", c->file, c->n_channels, queues,
                fifos);
        fprintf(f, "  socket %s (mode %04o), runtime directory %s, queue prefix %s\n", c->socket, c->socket_mode,
                c->runtime_dir, c->mq_prefix);
        for (size_t i = 0; i < c->n_channels; i++) {
                const struct channel_config *ch = c->channels[i];
                if (ch->type == CHANNEL_MQUEUE)
                        fprintf(f, "  mqueue %-24s %s  %ld x %ld bytes  %u:%u %04o  on_stop=%s\n", ch->name,
                                ch->mq_name, ch->max_messages, ch->message_size, ch->owner, ch->group, ch->mode,
                                on_stop_to_string(ch->on_stop));
                else
                        fprintf(f,
                                "  fifo   %-24s %s  capacity %ld, messages up to %ld bytes, %s framing  %u:%u %04o  "
                                "on_stop=%s\n",
                                ch->name, ch->path, ch->capacity, ch->message_size, framing_to_string(ch->framing),
                                ch->owner, ch->group, ch->mode, on_stop_to_string(ch->on_stop));
        }
}
