/*
 * sampler.c — depth sampling, full periods and their alerts (see sampler.h).
 */
#include "build-config.h"

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "sampler.h"

uint64_t sampler_full_ms(const struct channel *ch, double now) {
        const struct channel_stats *s = &ch->stats;

        return s->full_ms + (s->full && now > s->full_since ? (uint64_t)((now - s->full_since) * 1000) : 0);
}

/* "pid 123 (worker, app.service), pid 456 (...)": the live holders that may receive, into BUF; how many. */
static size_t receivers(struct channel *ch, char *text, size_t size, char *pids, size_t pids_size) {
        size_t n = 0, len = 0, plen = 0;

        text[0] = pids[0] = '\0';
        for (size_t i = 0; i < ch->holders.n; i++) {
                struct holder *h = &ch->holders.v[i];
                if (!(h->access & CHANNEL_ACCESS_RECV) || !holder_alive(h))
                        continue;
                if (len < size)
                        len += (size_t)snprintf(text + len, size - len, "%spid %d (%s%s%s)", n ? ", " : "", (int)h->pid,
                                                h->command, h->unit ? ", " : "", h->unit ? h->unit : "");
                if (plen < pids_size)
                        plen += (size_t)snprintf(pids + plen, pids_size - plen, "%s%d", n ? " " : "", (int)h->pid);
                n++;
        }
        return n;
}

/* CH has been full for alert_full_after: say so once, naming who should be reading. */
static void sampler_alert(struct channel *ch, double now) {
        char who[1024], pids[512], field_channel[200], field_pids[600];
        size_t n = receivers(ch, who, sizeof(who), pids, sizeof(pids));
        const char *fields[] = { field_channel, field_pids };

        snprintf(field_channel, sizeof(field_channel), "IPCBROKER_CHANNEL=%s", ch->config->name);
        snprintf(field_pids, sizeof(field_pids), "IPCBROKER_HOLDER_PIDS=%s", pids);
        ch->stats.alerted = true;
        ch->stats.full_alerts++;
        log_fields(LOG_WARNING, fields, n ? 2 : 1,
                   "channel '%s' has been full for %.1f s (alert_full_after): its receivers are not keeping up; %s%s",
                   ch->config->name, now - ch->stats.full_since,
                   n ? "receiving holders: " : "no live process was given it for receiving", who);
}

static void sampler_channel(struct channel *ch, double now) {
        struct channel_stats *s = &ch->stats;
        long messages = -1;
        long long bytes = -1, depth;
        bool full = false;

        if (ch->fd >= 0)
                ch->ops->sample(ch, &messages, &bytes, &full);
        s->messages = messages;
        s->bytes = bytes;
        depth = messages >= 0 ? messages : bytes;
        if (depth > s->high_water)
                s->high_water = depth;
        if (full && !s->full) {
                s->full = true;
                s->full_since = now;
                s->full_events++;
        } else if (!full && s->full) {
                s->full_ms = sampler_full_ms(ch, now);
                s->full = false;
                if (s->alerted)
                        log_notice("channel '%s' is no longer full (it was full for %.1f s)", ch->config->name,
                                   now - s->full_since);
                s->alerted = false;
        }
        if (s->full && !s->alerted && ch->config->alert_full_after_ms > 0 &&
            (now - s->full_since) * 1000 >= (double)ch->config->alert_full_after_ms)
                sampler_alert(ch, now);
}

void sampler_run(struct registry *r, double now) {
        for (size_t i = 0; i < r->n; i++)
                sampler_channel(r->channels[i], now);
}
