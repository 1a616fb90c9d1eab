/*
 * report.c — the bridge's account of itself, for systemd (STATUS=), the log
 * and a person checking the configuration.
 */
#include "build-config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "report.h"

struct totals {
        uint64_t forwarded, pending, acked, duplicates, echoes, redelivered, republished, rejected;
};

static void totals_add(struct totals *t, const struct bridge *b) {
        const struct bridge_counters *n = &b->n;
        int64_t pending = atomic_load(&n->pending);

        t->forwarded += atomic_load(&n->forwarded);
        t->pending += pending > 0 ? (uint64_t)pending : 0;
        t->acked += atomic_load(&n->acked);
        t->duplicates += atomic_load(&n->duplicates);
        t->echoes += atomic_load(&n->echoes);
        t->redelivered += atomic_load(&n->redelivered);
        t->republished += atomic_load(&n->republished);
        t->rejected += atomic_load(&n->rejected);
}

static int totals_print(const struct totals *t, char *buf, size_t size) {
        return snprintf(buf, size,
                        "forwarded %" PRIu64 ", pending %" PRIu64 ", acked %" PRIu64 ", duplicates dropped %" PRIu64
                        ", echoes dropped %" PRIu64 ", redelivered %" PRIu64 ", republished %" PRIu64
                        ", rejected %" PRIu64,
                        t->forwarded, t->pending, t->acked, t->duplicates, t->echoes, t->redelivered, t->republished,
                        t->rejected);
}

void report_status(struct bridge *const *bridges, size_t n, const struct link *l, char *buf, size_t size) {
        struct totals t = { 0 };
        char server[256];
        size_t running = 0;
        int len;

        for (size_t i = 0; i < n; i++) {
                totals_add(&t, bridges[i]);
                running += atomic_load(&bridges[i]->phase) == PHASE_RUNNING;
        }
        link_server(l, server, sizeof(server));
        len = snprintf(buf, size, "%s%s; %zu/%zu bridges running; ",
                       server[0]            ? "connected to "
                       : link_generation(l) ? "reconnecting to NATS"
                                            : "waiting for NATS",
                       server, running, n);
        if (len > 0 && (size_t)len < size)
                totals_print(&t, buf + len, size - (size_t)len);
}

void report_log_counts(const struct bridge *b) {
        static const char *const phases[] = { [PHASE_CHANNEL] = "opening the channel",
                                              [PHASE_NATS] = "waiting for NATS",
                                              [PHASE_SETUP] = "setting up the stream",
                                              [PHASE_RUNNING] = "running",
                                              [PHASE_FAILED] = "failed" };
        struct totals t = { 0 };
        char counts[512];

        totals_add(&t, b);
        totals_print(&t, counts, sizeof(counts));
        log_info("[bridge %s] %s: %s", b->cfg->name, phases[atomic_load(&b->phase)], counts);
}

void report_summary(const struct config *c, FILE *f) {
        fprintf(f, "nats: ");
        for (size_t i = 0; i < c->n_urls; i++)
                fprintf(f, "%s%s", i ? ", " : "", c->urls[i]);
        fprintf(f, "%s%s%s%s\n", c->user ? " (user " : "", c->user ? c->user : "", c->user ? ")" : "",
                c->creds   ? " (creds)"
                : c->token ? " (token)"
                           : "");
        fprintf(f, "local: socket %s, spool_dir %s, origin %s, sync_interval %lu%s\n",
                c->socket ? c->socket : "(the library's default)", c->spool_dir, c->origin,
                c->sync_interval_ms % 1000 ? c->sync_interval_ms : c->sync_interval_ms / 1000,
                c->sync_interval_ms % 1000 ? "ms" : "s");
        for (size_t i = 0; i < c->n_bridges; i++) {
                const struct bridge_config *b = &c->bridges[i];
                if (b->direction == DIRECTION_OUT)
                        fprintf(f, "bridge %s: out, channel %s -> subject %s", b->name, b->channel, b->subject);
                else
                        fprintf(f, "bridge %s: in, subject %s (durable %s) -> channel %s", b->name, b->subject,
                                b->durable, b->channel);
                fprintf(f, ", stream %s%s, max_inflight %u, ack_wait %lu%s\n", b->stream,
                        !b->create_stream ? " (must exist)"
                        : b->replicas > 1 ? " (created with replicas)"
                                          : "",
                        b->max_inflight, b->ack_wait_ms % 1000 ? b->ack_wait_ms : b->ack_wait_ms / 1000,
                        b->ack_wait_ms % 1000 ? "ms" : "s");
        }
}
