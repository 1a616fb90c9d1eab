/*
 * closer.c — helper threads that close descriptors for the loop.
 *
 * A queue guarded by a mutex carries (descriptor, owner) pairs to the
 * threads; closed owners come back on a second list and an ev_async wakes
 * the loop, which reports them. Threads are started when something is queued
 * and none is idle, up to CLOSER_THREADS_MAX, so that a close stuck for an
 * hour holds up one thread, not every close after it.
 */
#include "build-config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "closer.h"
#include "log.h"

#define CLOSER_THREADS_MAX 16

struct closer_item {
        struct closer_item *next;
        int fd;
        void *owner;
};

struct closer_shared {
        pthread_mutex_t lock;
        pthread_cond_t wake;
        struct closer_item *todo, *todo_last; /* to close, oldest first */
        struct closer_item *done;             /* closed, to report */
        struct ev_loop *loop;
        ev_async *async;  /* NULL once the loop stopped listening */
        unsigned threads; /* started */
        unsigned idle;    /* waiting for work */
        unsigned queued;  /* in todo */
};

struct closer {
        struct ev_loop *loop;
        ev_async async;
        closer_done_fn done;
        void *userdata;
        struct closer_shared *shared; /* outlives the closer while the thread runs */
};

static void *closer_thread(void *arg) {
        struct closer_shared *s = arg;

        pthread_mutex_lock(&s->lock);
        for (;;) {
                struct closer_item *it;

                s->idle++;
                while (!s->todo)
                        pthread_cond_wait(&s->wake, &s->lock);
                s->idle--;
                it = s->todo;
                s->todo = it->next;
                if (!s->todo)
                        s->todo_last = NULL;
                s->queued--;
                pthread_mutex_unlock(&s->lock);

                close(it->fd); /* may take as long as the file's owner likes */

                pthread_mutex_lock(&s->lock);
                it->next = s->done;
                s->done = it;
                if (s->async)
                        ev_async_send(s->loop, s->async);
        }
        return NULL;
}

static void closer_on_async(struct ev_loop *loop, ev_async *w, int revents) {
        struct closer *c = container_of(w, struct closer, async);
        struct closer_item *done;

        pthread_mutex_lock(&c->shared->lock);
        done = c->shared->done;
        c->shared->done = NULL;
        pthread_mutex_unlock(&c->shared->lock);
        while (done) {
                struct closer_item *next = done->next;
                c->done(done->owner, c->userdata);
                free(done);
                done = next;
        }
}

int closer_new(struct ev_loop *loop, closer_done_fn done, void *userdata, struct closer **ret) {
        struct closer *c = calloc(1, sizeof(*c));
        struct closer_shared *s = calloc(1, sizeof(*s));

        if (!c || !s) {
                free(c);
                free(s);
                return -ENOMEM;
        }
        pthread_mutex_init(&s->lock, NULL);
        pthread_cond_init(&s->wake, NULL);
        s->loop = loop;
        s->async = &c->async;
        c->loop = loop;
        c->done = done;
        c->userdata = userdata;
        c->shared = s;
        ev_async_init(&c->async, closer_on_async);
        ev_async_start(loop, &c->async);
        *ret = c;
        return 0;
}

static int closer_start_thread(struct closer_shared *s) {
        pthread_attr_t attr;
        sigset_t all, old;
        pthread_t t;
        int r;

        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 64 * 1024);
        /* signals are the loop's: the thread blocks them all */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        r = pthread_create(&t, &attr, closer_thread, s);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        pthread_attr_destroy(&attr);
        if (r == 0)
                s->threads++;
        return -r;
}

int closer_close(struct closer *c, int fd, void *owner) {
        struct closer_shared *s = c->shared;
        struct closer_item *it = malloc(sizeof(*it));
        int r = 0;

        if (!it) {
                log_error("cannot hand a descriptor to a closing thread: out of memory; closing it on the loop");
                close(fd);
                return -ENOMEM;
        }
        *it = (struct closer_item){ .fd = fd, .owner = owner };
        pthread_mutex_lock(&s->lock);
        /* a thread for it, unless one is idle (the others may be stuck) */
        if (s->idle <= s->queued && s->threads < CLOSER_THREADS_MAX)
                r = closer_start_thread(s);
        if (r == 0 || s->threads > 0) {
                if (s->todo_last)
                        s->todo_last->next = it;
                else
                        s->todo = it;
                s->todo_last = it;
                s->queued++;
                pthread_cond_signal(&s->wake);
                r = 0;
        }
        pthread_mutex_unlock(&s->lock);
        if (r < 0) {
                log_error("cannot start a closing thread: %s; closing a descriptor on the loop", strerror(-r));
                free(it);
                close(fd);
                return r;
        }
        return 0;
}

void closer_free(struct closer *c) {
        struct closer_shared *s;
        bool running;

        if (!c)
                return;
        s = c->shared;
        pthread_mutex_lock(&s->lock);
        s->async = NULL; /* before the watcher stops: no thread may send to it */
        running = s->threads > 0;
        /* what was closed and not reported: nobody listens any more */
        while (s->done) {
                struct closer_item *next = s->done->next;
                free(s->done);
                s->done = next;
        }
        pthread_mutex_unlock(&s->lock);
        ev_async_stop(c->loop, &c->async);
        if (!running) {
                pthread_mutex_destroy(&s->lock);
                pthread_cond_destroy(&s->wake);
                free(s);
        }
        /* else the threads keep S (and what is queued) until the process ends */
        free(c);
}
