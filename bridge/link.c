/*
 * link.c — the connection to NATS (options, background connect, reconnect
 * forever, state callbacks) and the JetStream objects behind each bridge:
 * its stream (found, created or extended by one subject) and, for the in
 * direction, its durable pull consumer and the subscription bound to it.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "link.h"
#include "log.h"
#include "names.h"
#include "util.h"

#define LINK_MAX_WATCHERS 1024
#define API_WAIT_MS 5000 /* how long a JetStream API request may take */

struct link {
        natsOptions *opts;
        /* set by link_connect() or, when it comes first, by the connected callback */
        _Atomic(natsConnection *) nc;
        const struct config *c;
        atomic_bool connected;
        atomic_bool closing;
        atomic_uint_fast64_t generation;
        /* the client's asynchronous errors, logged as log_repeat_due() says (from the client's threads) */
        pthread_mutex_t error_lock;
        struct log_repeat error;
        int watchers[LINK_MAX_WATCHERS];
        size_t n_watchers;
};

/* Two bridges on one stream must not both extend it from the same old subject list. */
static pthread_mutex_t stream_lock = PTHREAD_MUTEX_INITIALIZER;

void link_error(natsStatus s, jsErrCode jerr, char *buf, size_t size) {
        const char *detail = nats_GetLastError(NULL);
        int n = snprintf(buf, size, "%s", natsStatus_GetText(s));

        if (detail && *detail && n >= 0 && (size_t)n < size && !strstr(buf, detail))
                n += snprintf(buf + n, size - (size_t)n, ": %s", detail);
        if (jerr && n >= 0 && (size_t)n < size)
                snprintf(buf + n, size - (size_t)n, " (JetStream error %d)", (int)jerr);
}

/* ---- the connection's state, from the client's threads --------------------------------------- */

static void link_kick(struct link *l) {
        uint64_t one = 1;

        for (size_t i = 0; i < l->n_watchers; i++)
                if (write(l->watchers[i], &one, sizeof(one)) < 0) {
                        /* the counter is full: the watcher has a wake-up pending anyway */
                }
}

static void link_up(struct link *l, natsConnection *nc, const char *how) {
        char url[256] = "";

        natsConnection_GetConnectedUrl(nc, url, sizeof(url));
        atomic_fetch_add(&l->generation, 1);
        atomic_store(&l->connected, true);
        log_info("%s NATS at %s", how, url);
        link_kick(l);
}

static void on_connected(natsConnection *nc, void *closure) {
        struct link *l = closure;

        atomic_store(&l->nc, nc); /* the callback can come before natsConnection_Connect() returns */
        link_up(l, nc, "connected to");
}

static void on_reconnected(natsConnection *nc, void *closure) {
        link_up(closure, nc, "reconnected to");
}

static void on_disconnected(natsConnection *nc, void *closure) {
        struct link *l = closure;

        if (atomic_exchange(&l->connected, false) && !atomic_load(&l->closing))
                log_warning("disconnected from NATS; reconnecting");
        link_kick(l);
}

static void on_closed(natsConnection *nc, void *closure) {
        struct link *l = closure;

        atomic_store(&l->connected, false);
        link_kick(l);
}

/*
 * An error the server reports asynchronously (a permission violation, a slow
 * consumer): it comes again with every request that meets it, so it is
 * logged once a minute while it lasts, saying how many times it came.
 */
static void on_error(natsConnection *nc, natsSubscription *sub, natsStatus err, void *closure) {
        struct link *l = closure;
        const char *text = natsStatus_GetText(err);
        uint64_t held = 0;
        bool due;

        pthread_mutex_lock(&l->error_lock);
        due = log_repeat_due(&l->error, text, nats_Now(), &held);
        pthread_mutex_unlock(&l->error_lock);
        if (!due)
                return;
        if (held)
                log_warning("NATS: %s (and %" PRIu64 " times more in the %d s after it was last logged)", text, held,
                            LOG_REPEAT_MS / 1000);
        else
                log_warning("NATS: %s", text);
}

/* ---- options ------------------------------------------------------------------------------------- */

#define opt_error(c, e, key, ...) config_errors_add((e), (c)->file, (c)->key_line[key], __VA_ARGS__)

static bool urls_want_tls(const struct config *c) {
        for (size_t i = 0; i < c->n_urls; i++)
                if (strncmp(c->urls[i], "tls://", 6) == 0)
                        return true;
        return c->tls_ca || c->tls_cert;
}

/* The files the options name are read here, so that -t finds what cannot be read. */
static void link_options_files(natsOptions *o, const struct config *c, struct config_errors *e) {
        char why[512];
        natsStatus s;
        int fd;

        if (c->tls_ca && (s = natsOptions_LoadCATrustedCertificates(o, c->tls_ca)) != NATS_OK) {
                link_error(s, 0, why, sizeof(why));
                opt_error(c, e, KEY_TLS_CA, "tls_ca: cannot load %s: %s", c->tls_ca, why);
        }
        if (c->tls_cert && (s = natsOptions_LoadCertificatesChain(o, c->tls_cert, c->tls_key)) != NATS_OK) {
                link_error(s, 0, why, sizeof(why));
                opt_error(c, e, KEY_TLS_CERT, "tls_cert/tls_key: cannot load %s and %s: %s", c->tls_cert, c->tls_key,
                          why);
        }
        if (c->creds) {
                /* the client reads it at each connect: check now that it can */
                fd = open(c->creds, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        opt_error(c, e, KEY_CREDS, "creds: cannot read %s: %s", c->creds, strerror(errno));
                else
                        close(fd);
                if (fd >= 0 && (s = natsOptions_SetUserCredentialsFromFiles(o, c->creds, NULL)) != NATS_OK) {
                        link_error(s, 0, why, sizeof(why));
                        opt_error(c, e, KEY_CREDS, "creds: %s", why);
                }
        }
}

static natsStatus link_options_connection(natsOptions *o, struct link *l) {
        const struct config *c = l->c;
        char name[256];
        natsStatus s;

        snprintf(name, sizeof(name), "ipcbroker-bridge %s", c->origin);
        s = natsOptions_SetServers(o, (const char **)c->urls, (int)c->n_urls);
        if (s == NATS_OK && c->user)
                s = natsOptions_SetUserInfo(o, c->user, c->password);
        if (s == NATS_OK && c->token)
                s = natsOptions_SetToken(o, c->token);
        if (s == NATS_OK && urls_want_tls(c))
                s = natsOptions_SetSecure(o, true);
        if (s == NATS_OK)
                s = natsOptions_SetName(o, c->name ? c->name : name);
        /* wait for the servers as long as it takes, and notice a dead one within half a minute */
        if (s == NATS_OK)
                s = natsOptions_SetMaxReconnect(o, -1);
        if (s == NATS_OK)
                s = natsOptions_SetReconnectWait(o, 1000);
        if (s == NATS_OK)
                s = natsOptions_SetReconnectJitter(o, 250, 1000);
        if (s == NATS_OK)
                s = natsOptions_SetPingInterval(o, 10000);
        if (s == NATS_OK)
                s = natsOptions_SetMaxPingsOut(o, 3);
        if (s == NATS_OK)
                s = natsOptions_SetRetryOnFailedConnect(o, true, on_connected, l);
        /* a JetStream request made while disconnected fails at once rather than at its timeout */
        if (s == NATS_OK)
                s = natsOptions_SetFailRequestsOnDisconnect(o, true);
        if (s == NATS_OK)
                s = natsOptions_SetDisconnectedCB(o, on_disconnected, l);
        if (s == NATS_OK)
                s = natsOptions_SetReconnectedCB(o, on_reconnected, l);
        if (s == NATS_OK)
                s = natsOptions_SetClosedCB(o, on_closed, l);
        if (s == NATS_OK)
                s = natsOptions_SetErrorHandler(o, on_error, l);
        return s;
}

int link_new(const struct config *c, struct config_errors *errors, struct link **ret) {
        struct link *l = calloc(1, sizeof(*l));
        char why[512];
        natsStatus s;

        if (!l)
                return -ENOMEM;
        l->c = c;
        pthread_mutex_init(&l->error_lock, NULL);
        s = natsOptions_Create(&l->opts);
        if (s == NATS_OK)
                s = link_options_connection(l->opts, l);
        if (s != NATS_OK) {
                link_error(s, 0, why, sizeof(why));
                config_errors_add(errors, c->file, c->key_line[KEY_URL], "[nats]: %s", why);
        }
        if (s == NATS_OK)
                link_options_files(l->opts, c, errors);
        if (errors->n) {
                link_free(l);
                return -EINVAL;
        }
        *ret = l;
        return 0;
}

void link_free(struct link *l) {
        if (!l)
                return;
        link_close(l);
        pthread_mutex_destroy(&l->error_lock);
        free(l);
}

int link_watch(struct link *l, int fd) {
        if (l->n_watchers == LINK_MAX_WATCHERS)
                return -ENOSPC;
        l->watchers[l->n_watchers++] = fd;
        return 0;
}

int link_connect(struct link *l) {
        natsConnection *nc = NULL;
        char why[512];
        natsStatus s = natsConnection_Connect(&nc, l->opts);

        if (s == NATS_OK) {
                atomic_store(&l->nc, nc);
                link_up(l, nc, "connected to");
                return 0;
        }
        if (s == NATS_NOT_YET_CONNECTED) {
                atomic_store(&l->nc, nc);
                log_notice("waiting for NATS at %s%s", l->c->urls[0], l->c->n_urls > 1 ? " and the other URLs" : "");
                return 0;
        }
        link_error(s, 0, why, sizeof(why));
        log_error("cannot connect to NATS: %s", why);
        return -ECONNREFUSED;
}

void link_close(struct link *l) {
        natsConnection *nc = atomic_exchange(&l->nc, NULL);

        if (nc) {
                atomic_store(&l->closing, true);
                natsConnection_Close(nc);
                natsConnection_Destroy(nc);
        }
        /* the connection took a copy; the library wants every object gone before nats_Close() */
        natsOptions_Destroy(l->opts);
        l->opts = NULL;
}

bool link_connected(const struct link *l) {
        return atomic_load(&l->connected);
}

uint64_t link_generation(const struct link *l) {
        return atomic_load(&l->generation);
}

natsConnection *link_connection(struct link *l) {
        return atomic_load(&l->nc);
}

int64_t link_max_payload(const struct link *l) {
        natsConnection *nc = atomic_load(&((struct link *)l)->nc);

        return nc && link_connected(l) ? natsConnection_GetMaxPayload(nc) : 0;
}

void link_server(const struct link *l, char *buf, size_t size) {
        natsConnection *nc = atomic_load(&((struct link *)l)->nc);

        buf[0] = '\0';
        if (nc && link_connected(l) && natsConnection_GetConnectedUrl(nc, buf, size) != NATS_OK)
                buf[0] = '\0';
}

int link_jetstream(struct link *l, jsCtx **ret) {
        natsConnection *nc = atomic_load(&l->nc);
        jsOptions jo;
        natsStatus s;

        if (!nc)
                return -ENOTCONN;
        jsOptions_Init(&jo);
        jo.Wait = API_WAIT_MS;
        s = natsConnection_JetStream(ret, nc, &jo);
        return s == NATS_OK ? 0 : -ENOMEM;
}

/* ---- the stream ------------------------------------------------------------------------------------ */

static bool stream_takes(const jsStreamInfo *si, const char *subject) {
        for (int i = 0; si->Config && i < si->Config->SubjectsLen; i++)
                if (names_subject_covers(si->Config->Subjects[i], subject))
                        return true;
        return false;
}

static natsStatus stream_create(jsCtx *js, const struct bridge_config *b, jsStreamInfo **si, jsErrCode *jerr) {
        const char *subjects[] = { b->subject };
        jsStreamConfig sc;
        natsStatus s;

        jsStreamConfig_Init(&sc);
        sc.Name = b->stream;
        sc.Subjects = subjects;
        sc.SubjectsLen = 1;
        sc.Storage = js_FileStorage;
        sc.Replicas = b->replicas;
        s = js_AddStream(si, js, &sc, NULL, jerr);
        if (s == NATS_OK)
                log_notice("[bridge %s] created stream %s for subject %s (%u %s)", b->name, b->stream, b->subject,
                           b->replicas, b->replicas == 1 ? "replica" : "replicas");
        return s;
}

static natsStatus stream_add_subject(jsCtx *js, const struct bridge_config *b, jsStreamInfo **si, jsErrCode *jerr) {
        jsStreamConfig sc = *(*si)->Config;
        const char **subjects = calloc((size_t)sc.SubjectsLen + 1, sizeof(*subjects));
        jsStreamInfo *updated = NULL;
        natsStatus s;

        if (!subjects)
                return NATS_NO_MEMORY;
        for (int i = 0; i < sc.SubjectsLen; i++)
                subjects[i] = sc.Subjects[i];
        subjects[sc.SubjectsLen++] = b->subject;
        sc.Subjects = subjects;
        s = js_UpdateStream(&updated, js, &sc, NULL, jerr);
        free(subjects);
        if (s != NATS_OK)
                return s;
        log_notice("[bridge %s] added subject %s to stream %s", b->name, b->subject, b->stream);
        jsStreamInfo_Destroy(*si);
        *si = updated;
        return NATS_OK;
}

natsStatus link_stream_ensure(jsCtx *js, const struct bridge_config *b, int64_t *created, char *why, size_t size) {
        jsStreamInfo *si = NULL;
        jsErrCode jerr = 0;
        natsStatus s;

        pthread_mutex_lock(&stream_lock);
        s = js_GetStreamInfo(&si, js, b->stream, NULL, &jerr);
        if (s == NATS_NOT_FOUND && b->create_stream) {
                s = stream_create(js, b, &si, &jerr);
                if (s != NATS_OK && jerr == JSStreamNameExistErr) /* another host was first */
                        s = js_GetStreamInfo(&si, js, b->stream, NULL, &jerr);
        } else if (s == NATS_NOT_FOUND)
                snprintf(why, size, "stream %s does not exist (create_stream = no)", b->stream);
        if (s == NATS_OK && !stream_takes(si, b->subject)) {
                if (b->create_stream)
                        s = stream_add_subject(js, b, &si, &jerr);
                else {
                        snprintf(why, size, "stream %s does not store subject %s (create_stream = no)", b->stream,
                                 b->subject);
                        s = NATS_NOT_FOUND;
                }
        }
        pthread_mutex_unlock(&stream_lock);
        if (s == NATS_OK)
                *created = si->Created;
        else if (!(s == NATS_NOT_FOUND && !b->create_stream))
                link_error(s, jerr, why, size);
        jsStreamInfo_Destroy(si);
        return s;
}

/* ---- the in direction's consumer ------------------------------------------------------------------ */

static void consumer_config(const struct bridge_config *b, jsConsumerConfig *cc) {
        jsConsumerConfig_Init(cc);
        cc->Durable = b->durable;
        cc->DeliverPolicy = js_DeliverAll;
        cc->AckPolicy = js_AckExplicit;
        cc->AckWait = (int64_t)b->ack_wait_ms * 1000000;
        cc->MaxAckPending = b->max_inflight;
        cc->FilterSubject = b->subject;
        cc->MaxDeliver = -1;
}

/* Whether the existing consumer CI can serve B, perhaps after an update; *UPDATE when it needs one. */
static bool consumer_fits(const struct bridge_config *b, const jsConsumerInfo *ci, bool *update, char *why,
                          size_t size) {
        const jsConsumerConfig *cc = ci->Config;

        if (cc->DeliverSubject && *cc->DeliverSubject) {
                snprintf(why, size, "durable %s on stream %s is a push consumer; name another durable", b->durable,
                         b->stream);
                return false;
        }
        if (!cc->FilterSubject || !streq(cc->FilterSubject, b->subject)) {
                snprintf(why, size,
                         "durable %s on stream %s takes subject '%s', not %s: delete it or name another durable",
                         b->durable, b->stream, cc->FilterSubject ? cc->FilterSubject : "", b->subject);
                return false;
        }
        if (cc->AckPolicy != js_AckExplicit) {
                snprintf(why, size, "durable %s on stream %s does not take explicit acknowledgements", b->durable,
                         b->stream);
                return false;
        }
        *update = cc->AckWait != (int64_t)b->ack_wait_ms * 1000000 || cc->MaxAckPending != (int64_t)b->max_inflight;
        return true;
}

static natsStatus consumer_ensure(jsCtx *js, const struct bridge_config *b, char *why, size_t size) {
        jsConsumerInfo *ci = NULL;
        jsConsumerConfig cc;
        jsErrCode jerr = 0;
        bool update = false;
        natsStatus s;

        consumer_config(b, &cc);
        s = js_GetConsumerInfo(&ci, js, b->stream, b->durable, NULL, &jerr);
        if (s == NATS_NOT_FOUND) {
                s = js_AddConsumer(NULL, js, b->stream, &cc, NULL, &jerr);
                if (s == NATS_OK)
                        log_notice("[bridge %s] created durable consumer %s on stream %s", b->name, b->durable,
                                   b->stream);
        } else if (s == NATS_OK && !consumer_fits(b, ci, &update, why, size)) {
                jsConsumerInfo_Destroy(ci);
                return NATS_MISMATCH;
        } else if (s == NATS_OK && update) {
                s = js_UpdateConsumer(NULL, js, b->stream, &cc, NULL, &jerr);
                if (s == NATS_OK)
                        log_notice("[bridge %s] updated durable consumer %s: ack_wait %lu ms, %u pending at most",
                                   b->name, b->durable, b->ack_wait_ms, b->max_inflight);
        }
        jsConsumerInfo_Destroy(ci);
        if (s != NATS_OK)
                link_error(s, jerr, why, size);
        return s;
}

natsStatus link_subscribe(jsCtx *js, const struct bridge_config *b, natsSubscription **sub, char *why, size_t size) {
        jsSubOptions so;
        jsErrCode jerr = 0;
        natsStatus s = consumer_ensure(js, b, why, size);

        if (s != NATS_OK)
                return s;
        jsSubOptions_Init(&so);
        so.Stream = b->stream;
        so.Consumer = b->durable;
        s = js_PullSubscribe(sub, js, b->subject, b->durable, NULL, &so, &jerr);
        if (s != NATS_OK)
                link_error(s, jerr, why, size);
        return s;
}
