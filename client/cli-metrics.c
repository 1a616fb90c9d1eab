/*
 * cli-metrics.c — ipcbroker metrics [--http]: what the daemon counts, in the
 * Prometheus text format, or answered to one HTTP request (inetd style).
 *
 * Two renderings of the same families:
 *  - the Prometheus text format 0.0.4 that promtool lints, ending in "# EOF"
 *    (read there as a comment): a counter family's HELP and TYPE are named
 *    after its sample (x_total), as promtool wants;
 *  - strict OpenMetrics 1.0, for a scraper that asks for it: a counter
 *    family is named without _total, its samples with it, and the build
 *    information is an info family (ipcbroker_build, sample _info).
 * Each family is printed whole, its header before its first sample; a
 * family without samples (no FIFOs, say) is left out.
 */
#include "build-config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* How long a client may take to send its request's header. */
#define HTTP_REQUEST_MS 5000

#define CONTENT_TYPE_TEXT "text/plain; version=0.0.4; charset=utf-8"
#define CONTENT_TYPE_OPENMETRICS "application/openmetrics-text; version=1.0.0; charset=utf-8"

enum family_type { GAUGE, COUNTER, INFO };

struct family {
        const char *name; /* without the sample's suffix: a counter's _total, an info's _info */
        enum family_type type;
        const char *help;
};

static const char *const sample_suffix[] = { [GAUGE] = "", [COUNTER] = "_total", [INFO] = "_info" };
/* The 0.0.4 text format has no info type: a gauge of value 1 stands for it. */
static const char *const text_type[] = { [GAUGE] = "gauge", [COUNTER] = "counter", [INFO] = "gauge" };
static const char *const openmetrics_type[] = { [GAUGE] = "gauge", [COUNTER] = "counter", [INFO] = "info" };

/* The families in the order printed; F_CHANNEL_FIRST..F_CHANNEL_LAST have one series per channel. */
enum family_id {
        F_MESSAGES,
        F_MAX_MESSAGES,
        F_BYTES,
        F_CAPACITY,
        F_HIGH_WATER_MESSAGES,
        F_HIGH_WATER_BYTES,
        F_FULL,
        F_READY,
        F_FULL_SECONDS,
        F_FULL_EVENTS,
        F_FULL_ALERTS,
        F_OPENS,
        F_HOLDERS,
        F_CLIENTS,
        F_CONNECTIONS,
        F_REQUESTS,
        F_RELOADS,
        F_START_TIME,
        F_SAMPLE_INTERVAL,
        F_BUILD_INFO,
        F_COUNT,
        F_CHANNEL_LAST = F_HOLDERS,
};

static const struct family families[F_COUNT] = {
        [F_MESSAGES] = { "ipcbroker_channel_messages", GAUGE,
                         "Messages queued in the channel (FIFOs: only where known: 0 when empty)." },
        [F_MAX_MESSAGES] = { "ipcbroker_channel_max_messages", GAUGE,
                             "Messages the channel holds when full (a queue's mq_maxmsg, the packets a FIFO holds)." },
        [F_BYTES] = { "ipcbroker_channel_bytes", GAUGE,
                      "Bytes queued in the channel (queues: only where /dev/mqueue is mounted)." },
        [F_CAPACITY] = { "ipcbroker_channel_capacity_bytes", GAUGE, "The pipe buffer size of a FIFO channel." },
        [F_HIGH_WATER_MESSAGES] = { "ipcbroker_channel_high_water_messages", GAUGE,
                                    "Most messages queued at one sample since the daemon started (queues)." },
        [F_HIGH_WATER_BYTES] = { "ipcbroker_channel_high_water_bytes", GAUGE,
                                 "Most bytes queued at one sample since the daemon started (FIFOs)." },
        [F_FULL] = { "ipcbroker_channel_full", GAUGE, "1 if the channel was full at the last sample, else 0." },
        [F_READY] = { "ipcbroker_channel_ready", GAUGE,
                      "1 if the daemon holds the channel's verified kernel object and hands it out, else 0." },
        [F_FULL_SECONDS] = { "ipcbroker_channel_full_seconds", COUNTER,
                             "Seconds the channel spent full since the daemon started." },
        [F_FULL_EVENTS] = { "ipcbroker_channel_full_events", COUNTER, "Times the channel became full." },
        [F_FULL_ALERTS] = { "ipcbroker_channel_full_alerts", COUNTER,
                            "Warnings logged because the channel stayed full for alert_full_after." },
        [F_OPENS] = { "ipcbroker_channel_opens", COUNTER,
                      "Open requests by the access asked for (an open for both counts in each) and the result." },
        [F_HOLDERS] = { "ipcbroker_channel_holders", GAUGE,
                        "Live grants: processes given a descriptor of the channel that still run." },
        [F_CLIENTS] = { "ipcbroker_clients", GAUGE, "Clients connected to the daemon now." },
        [F_CONNECTIONS] = { "ipcbroker_connections", COUNTER, "Connections the daemon accepted since it started." },
        [F_REQUESTS] = { "ipcbroker_requests", COUNTER, "Requests the daemon served since it started." },
        [F_RELOADS] = { "ipcbroker_reloads", COUNTER, "Configuration reloads, applied (ok) or refused (failed)." },
        [F_START_TIME] = { "ipcbroker_start_time_seconds", GAUGE,
                           "When the daemon started, in seconds since the Unix epoch." },
        [F_SAMPLE_INTERVAL] = { "ipcbroker_sample_interval_seconds", GAUGE,
                                "Seconds between two samples of the channels' depth; 0: sampling is off." },
        [F_BUILD_INFO] = { "ipcbroker_build", INFO, "The daemon's version, in the label version; always 1." },
};

/* Where the samples go, and whose header is out. */
struct exposition {
        FILE *f;
        bool openmetrics;
        const struct family *family;
        bool header_done;
};

struct label {
        const char *name, *value;
};
/* A list of labels, ended by one without a name. */
#define LABELS(...) ((const struct label[]){ __VA_ARGS__, { NULL, NULL } })

/* A sample's value, formatted. */
struct value {
        char s[32];
};

static struct value uint_value(unsigned long long v) {
        struct value x;

        snprintf(x.s, sizeof(x.s), "%llu", v);
        return x;
}

/* The shortest form that reads back as V. */
static struct value real_value(double v) {
        struct value x;

        snprintf(x.s, sizeof(x.s), "%.15g", v);
        if (strtod(x.s, NULL) != v)
                snprintf(x.s, sizeof(x.s), "%.17g", v);
        return x;
}

static struct value flag_value(bool v) {
        return uint_value(v ? 1 : 0);
}

/* A label value: backslash, double quote and newline escaped. */
static void label_value(FILE *f, const char *s) {
        fputc('"', f);
        for (; *s; s++) {
                if (*s == '\\')
                        fputs("\\\\", f);
                else if (*s == '"')
                        fputs("\\\"", f);
                else if (*s == '\n')
                        fputs("\\n", f);
                else
                        fputc(*s, f);
        }
        fputc('"', f);
}

static void sample(struct exposition *e, const struct label *labels, struct value v) {
        const struct family *fam = e->family;
        const char *suffix = sample_suffix[fam->type];

        if (!e->header_done) {
                /* promtool (0.0.4) wants the header named after the sample; OpenMetrics after the family */
                const char *hsuffix = e->openmetrics ? "" : suffix;
                fprintf(e->f, "# HELP %s%s %s\n", fam->name, hsuffix, fam->help);
                fprintf(e->f, "# TYPE %s%s %s\n", fam->name, hsuffix,
                        (e->openmetrics ? openmetrics_type : text_type)[fam->type]);
                e->header_done = true;
        }
        fprintf(e->f, "%s%s", fam->name, suffix);
        for (const struct label *l = labels; l && l->name; l++) {
                fprintf(e->f, "%s%s=", l == labels ? "{" : ",", l->name);
                label_value(e->f, l->value);
        }
        fprintf(e->f, "%s %s\n", labels && labels->name ? "}" : "", v.s);
}

/* A channel's series: channel="NAME", and type="mqueue|fifo" with TYPED. */
static void channel_sample(struct exposition *e, const ipcb_channel_metrics *c, bool typed, struct value v) {
        if (typed)
                sample(e, LABELS({ "channel", c->name }, { "type", cli_type(c->type) }), v);
        else
                sample(e, LABELS({ "channel", c->name }), v);
}

/* Family F's series of channel C, where C has them. */
static void channel_family(struct exposition *e, enum family_id f, const ipcb_channel_metrics *c) {
        bool fifo = c->type == IPCB_FIFO;

        switch (f) {
        case F_MESSAGES:
                if (c->messages >= 0)
                        channel_sample(e, c, true, uint_value((unsigned long long)c->messages));
                break;
        case F_MAX_MESSAGES:
                if (c->max_messages >= 0)
                        channel_sample(e, c, true, uint_value((unsigned long long)c->max_messages));
                break;
        case F_BYTES:
                if (c->bytes >= 0)
                        channel_sample(e, c, true, uint_value((unsigned long long)c->bytes));
                break;
        case F_CAPACITY:
                if (fifo && c->capacity >= 0)
                        channel_sample(e, c, false, uint_value((unsigned long long)c->capacity));
                break;
        case F_HIGH_WATER_MESSAGES:
        case F_HIGH_WATER_BYTES:
                /* a queue's mark counts messages, a FIFO's bytes */
                if (c->high_water >= 0 && fifo == (f == F_HIGH_WATER_BYTES))
                        channel_sample(e, c, false, uint_value((unsigned long long)c->high_water));
                break;
        case F_FULL:
                channel_sample(e, c, false, flag_value(c->full));
                break;
        case F_READY:
                channel_sample(e, c, false, flag_value(c->state == IPCB_STATE_READY));
                break;
        case F_FULL_SECONDS:
                channel_sample(e, c, false, real_value(c->full_seconds));
                break;
        case F_FULL_EVENTS:
                channel_sample(e, c, false, uint_value(c->full_events));
                break;
        case F_FULL_ALERTS:
                channel_sample(e, c, false, uint_value(c->full_alerts));
                break;
        case F_OPENS: {
                const struct {
                        const char *access, *result;
                        unsigned long long n;
                } opens[] = {
                        { "send", "granted", c->opens_send },
                        { "send", "denied", c->denied_send },
                        { "recv", "granted", c->opens_recv },
                        { "recv", "denied", c->denied_recv },
                };
                for (size_t i = 0; i < sizeof(opens) / sizeof(opens[0]); i++)
                        sample(e,
                               LABELS({ "channel", c->name }, { "access", opens[i].access },
                                      { "result", opens[i].result }),
                               uint_value(opens[i].n));
                break;
        }
        case F_HOLDERS:
                channel_sample(e, c, false, uint_value(c->holders));
                break;
        default:
                break;
        }
}

/* Family F's daemon-wide series. */
static void daemon_family(struct exposition *e, enum family_id f, const ipcb_metrics *m) {
        switch (f) {
        case F_CLIENTS:
                sample(e, NULL, uint_value(m->clients));
                break;
        case F_CONNECTIONS:
                sample(e, NULL, uint_value(m->connections));
                break;
        case F_REQUESTS:
                sample(e, NULL, uint_value(m->requests));
                break;
        case F_RELOADS:
                sample(e, LABELS({ "result", "ok" }), uint_value(m->reloads));
                sample(e, LABELS({ "result", "failed" }), uint_value(m->reload_failures));
                break;
        case F_START_TIME:
                sample(e, NULL, uint_value(m->start_time > 0 ? (unsigned long long)m->start_time : 0));
                break;
        case F_SAMPLE_INTERVAL:
                sample(e, NULL, real_value(m->sample_interval));
                break;
        case F_BUILD_INFO:
                sample(e, LABELS({ "version", m->version }), uint_value(1));
                break;
        default:
                break;
        }
}

/* M as a whole exposition, "# EOF" last. */
static void render(FILE *f, const ipcb_metrics *m, bool openmetrics) {
        struct exposition e = { .f = f, .openmetrics = openmetrics };

        for (int id = 0; id < F_COUNT; id++) {
                e.family = &families[id];
                e.header_done = false;
                if (id <= F_CHANNEL_LAST)
                        for (size_t i = 0; i < m->n_channels; i++)
                                channel_family(&e, (enum family_id)id, &m->channels[i]);
                else
                        daemon_family(&e, (enum family_id)id, m);
        }
        fputs("# EOF\n", f);
}

/*
 * The metrics for REQ into *BODY (to free) and *CONTENT_TYPE: 200; or, when
 * the daemon does not answer, the reason in ERR and 503.
 */
static int metrics_body(const struct http_request *req, char **body, size_t *len, const char **content_type, char *err,
                        size_t errsize) {
        ipcb_metrics *m;
        bool text_explicit, om_explicit, openmetrics;
        int r, q_text, q_om;
        FILE *f;

        r = ipcb_metrics_get(&m);
        if (r < 0) {
                fprintf(stderr, "ipcbroker: %s\n", ipcb_strerror(r));
                snprintf(err, errsize, "503 Service Unavailable: %s\n", ipcb_strerror(r));
                return 503;
        }
        /* OpenMetrics only for a client that names it and prefers it to the text format */
        q_text = http_accept(req, "text/plain", "0.0.4", &text_explicit);
        q_om = http_accept(req, "application/openmetrics-text", "1.0.0", &om_explicit);
        openmetrics = om_explicit && q_om > 0 && q_om >= q_text;
        f = open_memstream(body, len);
        if (f) {
                render(f, m, openmetrics);
                if (fclose(f) != 0) {
                        free(*body);
                        f = NULL;
                }
        }
        ipcb_metrics_free(m);
        if (!f) {
                *body = NULL;
                snprintf(err, errsize, "503 Service Unavailable: out of memory\n");
                return 503;
        }
        *content_type = openmetrics ? CONTENT_TYPE_OPENMETRICS : CONTENT_TYPE_TEXT;
        return 200;
}

/* Answer the request on standard input (see cli-http.c). */
static int serve_http(void) {
        struct http_request req;
        char *body = NULL, text[IPCB_TEXT_MAX + 64];
        const char *content_type = "text/plain; charset=utf-8";
        size_t len = 0;
        int status, r;

        /* a client that hangs up is an error from write(), not a signal */
        signal(SIGPIPE, SIG_IGN);
        status = http_read_request(STDIN_FILENO, HTTP_REQUEST_MS, &req);
        if (status < 0)
                return CLI_OK; /* nothing was asked */
        if (status == 0 && strcmp(req.path, "/metrics") != 0 && strcmp(req.path, "/") != 0)
                status = 404;
        else if (status == 0 && strcmp(req.method, "GET") != 0 && strcmp(req.method, "HEAD") != 0)
                status = 405;
        if (status == 0)
                status = metrics_body(&req, &body, &len, &content_type, text, sizeof(text));
        else
                snprintf(text, sizeof(text), "%d %s%s\n", status, http_reason(status),
                         status == 404   ? ": the metrics are at /metrics"
                         : status == 405 ? ": GET or HEAD only"
                                         : "");
        r = http_respond(STDIN_FILENO, STDOUT_FILENO, &req, status, content_type, body ? body : text,
                         body ? len : strlen(text));
        free(body);
        if (r < 0)
                return cli_error(NULL, r);
        return CLI_OK;
}

static int run(const struct cli_context *ctx, int argc, char **argv) {
        ipcb_metrics *m;
        int r;

        (void)argc;
        (void)argv;
        if (ctx->http)
                return serve_http();
        r = ipcb_metrics_get(&m);
        if (r < 0)
                return cli_call_error(NULL, r);
        render(stdout, m, false);
        ipcb_metrics_free(m);
        if (fflush(stdout) != 0)
                return cli_error(NULL, -errno);
        if (ferror(stdout))
                return cli_error(NULL, -EIO);
        return CLI_OK;
}

static const struct option options[] = {
        { "http", no_argument, NULL, 'H' },
        {},
};

const struct cli_verb cli_verb_metrics = {
        .name = "metrics",
        .synopsis = "metrics [--http]",
        .help = "the daemon's counters for Prometheus; --http: answer one HTTP request on stdin",
        .options = options,
        .shortopts = "",
        .max_args = 0,
        .run = run,
};
