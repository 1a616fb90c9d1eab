/*
 * bridge.c — a bridge's life (create, start its worker thread, stop, free)
 * and what its worker needs from it whatever the direction.
 */
#include "build-config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "bridge.h"
#include "log.h"
#include "util.h"

int64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int bridge_new(const struct config *c, const struct bridge_config *bc, struct link *l, struct bridge **ret) {
        struct bridge *b = calloc(1, sizeof(*b));

        if (!b)
                return -ENOMEM;
        b->cfg = bc;
        b->config = c;
        b->link = l;
        b->direction = bc->direction == DIRECTION_OUT ? &out_direction : &in_direction;
        b->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (b->wake < 0 || link_watch(l, b->wake) < 0) {
                int r = b->wake < 0 ? -errno : -ENOSPC;
                bridge_free(b);
                return r;
        }
        atomic_store(&b->phase, PHASE_CHANNEL);
        *ret = b;
        return 0;
}

void bridge_free(struct bridge *b) {
        if (!b)
                return;
        if (b->dir)
                b->direction->free(b->dir);
        bridge_close_channel(b);
        if (b->wake >= 0)
                close(b->wake);
        free(b);
}

static void *bridge_main(void *arg) {
        struct bridge *b = arg;
        const struct bridge_direction *d = b->direction;
        int r = bridge_open_channel(b, d->channel_flags);

        if (r == 0)
                r = d->start(b);
        if (r == 0)
                r = d->loop(b);
        if (b->dir)
                d->release(b);

        if (r < 0 && r != -ECANCELED) {
                log_error("[bridge %s] stopped: %s", b->cfg->name, strerror(-r));
                bridge_set_phase(b, PHASE_FAILED);
        }
        return NULL;
}

int bridge_start(struct bridge *b) {
        int r;

        bridge_heartbeat(b);
        r = pthread_create(&b->thread, NULL, bridge_main, b);
        if (r != 0)
                return -r;
        b->started = true;
        return 0;
}

static void bridge_kick(struct bridge *b) {
        uint64_t one = 1;

        if (write(b->wake, &one, sizeof(one)) < 0) {
                /* already kicked */
        }
}

void bridge_stop(struct bridge *b) {
        atomic_store(&b->stop, true);
        bridge_kick(b);
}

void bridge_join(struct bridge *b) {
        if (b->started)
                pthread_join(b->thread, NULL);
        b->started = false;
}

void bridge_heartbeat(struct bridge *b) {
        atomic_store(&b->heartbeat_ms, now_ms());
}

bool bridge_stopping(const struct bridge *b) {
        return atomic_load(&b->stop);
}

void bridge_set_phase(struct bridge *b, enum bridge_phase p) {
        atomic_store(&b->phase, p);
        if (p == PHASE_RUNNING)
                atomic_store(&b->ever_ready, true);
}

short bridge_wait(struct bridge *b, int fd, short events, int timeout_ms) {
        struct pollfd p[2] = { { .fd = b->wake, .events = POLLIN }, { .fd = fd, .events = events } };
        uint64_t count;

        bridge_heartbeat(b);
        if (bridge_stopping(b))
                return 0;
        if (poll(p, fd >= 0 ? 2 : 1, timeout_ms < 0 ? 1000 : timeout_ms) < 0)
                return 0;
        if (p[0].revents & POLLIN && read(b->wake, &count, sizeof(count)) < 0) {
                /* another reader emptied it */
        }
        return fd >= 0 ? p[1].revents : 0;
}

void bridge_problem(struct bridge *b, const char *fmt, ...) {
        char text[sizeof(b->problem.last)];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        if (log_repeat_due(&b->problem, text, now_ms(), NULL))
                log_warning("[bridge %s] %s", b->cfg->name, text);
}

void bridge_problem_solved(struct bridge *b, const char *what) {
        if (!b->problem.last[0])
                return;
        if (what)
                log_info("[bridge %s] %s", b->cfg->name, what);
        b->problem.last[0] = '\0';
}

int bridge_try_open(struct bridge *b, int flags) {
        int r;

        bridge_heartbeat(b);
        r = ipcb_open(b->cfg->channel, flags | IPCB_NONBLOCK, &b->ch);
        if (r < 0) {
                b->ch = NULL;
                bridge_problem(b, "cannot open channel %s: %s; retrying", b->cfg->channel, ipcb_strerror(r));
                return r;
        }
        bridge_problem_solved(b, NULL); /* the next line says it */
        log_info("[bridge %s] channel %s open for %s", b->cfg->name, b->cfg->channel,
                 flags & IPCB_RECV ? "receiving" : "sending");
        return 0;
}

int bridge_open_channel(struct bridge *b, int flags) {
        bridge_set_phase(b, PHASE_CHANNEL);
        while (!bridge_stopping(b)) {
                int r = bridge_try_open(b, flags);
                if (r == 0)
                        return 0;
                /* a missing channel: the daemon answers when it appears (a reload); anything else: in a second */
                if (r == -ENOENT) {
                        int w = ipcb_wait(b->cfg->channel, 1000);
                        if (w == 0 || w == -ETIMEDOUT)
                                continue;
                }
                bridge_wait(b, -1, 0, 1000);
        }
        return -ECANCELED;
}

void bridge_close_channel(struct bridge *b) {
        if (b->ch)
                ipcb_close(b->ch);
        b->ch = NULL;
}

bool bridge_wait_connected(struct bridge *b) {
        bridge_set_phase(b, PHASE_NATS);
        while (!bridge_stopping(b) && !link_connected(b->link))
                bridge_wait(b, -1, 0, 1000);
        return !bridge_stopping(b);
}
