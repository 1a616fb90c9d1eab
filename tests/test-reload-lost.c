/*
 * test-reload-lost.c — reloads after a channel's creation failed.
 *
 * When a reload cannot allocate a new channel (channel_new, out of memory),
 * the channel is declared by the configuration in force but missing from the
 * registry. The next reload must create it (it is kept or changed in the
 * plan) or find nothing to withdraw, never use a channel that is not there.
 *
 * The whole broker runs (broker_new, broker_start, broker_reload) on FIFO
 * channels in a temporary directory; calloc is wrapped (-Wl,--wrap=calloc)
 * so that one channel's allocation fails on demand.
 */
#include "build-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../daemon/broker.h"
#include "../daemon/log.h"
#include "tap.h"
#include "tmpdir.h"

void *__real_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size);

/* Fail the next allocation of a FIFO channel (channel_new: calloc(1, ops->size)). */
static bool fail_next_channel;

void *__wrap_calloc(size_t n, size_t size) {
        if (fail_next_channel && n == 1 && size == channel_fifo_ops.size) {
                fail_next_channel = false;
                errno = ENOMEM;
                return NULL;
        }
        return __real_calloc(n, size);
}

static char dir[256], conf[300];

/* Write the configuration: the [broker] section of this test, then CHANNELS. */
static void write_config(const char *channels) {
        FILE *f = fopen(conf, "we");

        if (!f) {
                printf("Bail out! cannot write %s: %s\n", conf, strerror(errno));
                exit(1);
        }
        fprintf(f, "[broker]\nsocket = %s/s.sock\nruntime_dir = %s/run\nmq_prefix = /lost%d.\n%s", dir, dir,
                (int)getpid(), channels);
        fclose(f);
}

/* Reload; the reload's message goes into the TAP log. */
static int reload(struct broker *b) {
        char *message = NULL;
        int r = broker_reload(b, &message);

        diag("%s", message ? message : "(no message)");
        free(message);
        return r;
}

static bool ready(struct broker *b, const char *name) {
        struct channel *ch = registry_find(&b->registry, name);
        return ch && ch->state == CHANNEL_READY;
}

int main(void) {
        const char *base = getenv("TMPDIR");
        struct config_defaults d = { .uid = geteuid(), .gid = getegid() };
        struct config_errors errors = {};
        struct config *c = NULL;
        struct broker *b = NULL;
        char run[300], sock[300], path[400];
        struct kernel_limits limits;
        struct stat st;

        snprintf(dir, sizeof(dir), "%s/test-reload-lost.XXXXXX", base && *base == '/' ? base : "/tmp");
        if (!mkdtemp(dir)) {
                printf("Bail out! mkdtemp: %s\n", strerror(errno));
                return 1;
        }
        snprintf(conf, sizeof(conf), "%s/ipcbroker.conf", dir);
        snprintf(run, sizeof(run), "%s/run", dir);
        snprintf(sock, sizeof(sock), "%s/s.sock", dir);
        d.runtime_dir = run;
        d.socket = sock;
        log_open();
        kernel_limits_read(&limits);

        write_config("[channel a]\ntype = fifo\n");
        if (broker_load_config(conf, &d, &limits, &c, &errors) < 0) {
                for (size_t i = 0; i < errors.n; i++)
                        diag("%s", errors.lines[i]);
                printf("Bail out! the test configuration does not load\n");
                return 1;
        }
        is_int(broker_new(conf, &d, c, &b), 0, "broker_new");
        is_int(broker_start(b), 0, "broker_start: channel 'a'");
        ok(ready(b, "a"), "'a' is ready");

        /* 'b' is declared, and its allocation fails */
        write_config("[channel a]\ntype = fifo\n[channel b]\ntype = fifo\n");
        fail_next_channel = true;
        is_int(reload(b), 0, "reload adding 'b', whose allocation fails");
        ok(!fail_next_channel, "the allocation of 'b' was the one that failed");
        ok(config_find_channel(b->config, "b") && !registry_find(&b->registry, "b"),
           "'b' is declared in force but missing from the registry");

        /* the same configuration again: 'b' is kept in the plan, and has no channel */
        is_int(reload(b), 0, "reload of the same configuration");
        ok(ready(b, "b"), "the next reload created 'b'");
        ok(ready(b, "a"), "'a' is still ready");

        /* 'c' fails to be made; then it leaves the configuration */
        write_config("[channel a]\ntype = fifo\n[channel b]\ntype = fifo\nmode = 0640\n[channel c]\ntype = fifo\n");
        fail_next_channel = true;
        is_int(reload(b), 0, "reload adding 'c', whose allocation fails (and changing 'b')");
        ok(!registry_find(&b->registry, "c"), "'c' is missing from the registry");
        write_config("[channel a]\ntype = fifo\n[channel b]\ntype = fifo\nmode = 0640\n");
        is_int(reload(b), 0, "reload withdrawing 'c', which has no channel");
        ok(!registry_find(&b->registry, "c") && !config_find_channel(b->config, "c"), "'c' is gone");
        is_int((int)b->registry.n, 2, "two channels: 'a' and 'b'");

        /* 'd' fails to be made; then its declaration changes: it is created from the new one */
        write_config("[channel a]\ntype = fifo\n[channel b]\ntype = fifo\nmode = 0640\n[channel d]\ntype = fifo\n");
        fail_next_channel = true;
        is_int(reload(b), 0, "reload adding 'd', whose allocation fails");
        ok(!registry_find(&b->registry, "d"), "'d' is missing from the registry");
        write_config("[channel a]\ntype = fifo\n[channel b]\ntype = fifo\nmode = 0640\n"
                     "[channel d]\ntype = fifo\nmode = 0604\n");
        is_int(reload(b), 0, "reload changing 'd', which has no channel");
        ok(ready(b, "d"), "the reload created 'd'");
        snprintf(path, sizeof(path), "%s/fifo/d", run);
        ok(stat(path, &st) == 0 && S_ISFIFO(st.st_mode) && (st.st_mode & 07777) == 0604, "with its new mode (0604)");
        is_int((int)b->registry.n, 3, "three channels: 'a', 'b' and 'd'");

        broker_stop(b);
        broker_free(b);
        tmpdir_remove(dir);
        return done_testing();
}
