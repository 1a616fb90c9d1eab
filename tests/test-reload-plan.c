/*
 * test-reload-plan.c — the reload plan (daemon/reload-plan.c) and the
 * channel registry (daemon/registry.c), without the kernel: configurations
 * are loaded from files in a temporary directory, and no channel is set up.
 */
#include "build-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../daemon/config.h"
#include "../daemon/registry.h"
#include "../daemon/reload-plan.h"
#include "tap.h"
#include "tmpdir.h"

static char dir[256];

/* Load the channels CHANNELS under a [broker] section of this test's own paths. */
static struct config *load(const char *channels) {
        struct config_defaults d = { .uid = geteuid(), .gid = getegid() };
        struct config_errors errors = {};
        struct config *c = NULL;
        char path[300], sock[300], run[300];
        FILE *f;

        snprintf(path, sizeof(path), "%s/ipcbroker.conf", dir);
        snprintf(sock, sizeof(sock), "%s/run/s.sock", dir);
        snprintf(run, sizeof(run), "%s/run", dir);
        d.socket = sock;
        d.runtime_dir = run;
        f = fopen(path, "we");
        if (!f) {
                printf("Bail out! cannot write %s: %s\n", path, strerror(errno));
                exit(1);
        }
        fprintf(f, "[broker]\nmq_prefix = /plan.\n%s", channels);
        fclose(f);
        if (config_load(path, &d, &c, &errors) < 0) {
                for (size_t i = 0; i < errors.n; i++)
                        diag("%s", errors.lines[i]);
                printf("Bail out! the test configuration does not load\n");
                exit(1);
        }
        config_errors_clear(&errors);
        return c;
}

static const struct reload_step *step(const struct reload_plan *p, enum reload_action a, const char *name) {
        for (size_t i = 0; i < p->n; i++) {
                const struct channel_config *c = p->steps[i].next ? p->steps[i].next : p->steps[i].old;
                if (p->steps[i].action == a && streq(c->name, name))
                        return &p->steps[i];
        }
        return NULL;
}

#define BASE                                                                                                           \
        "[channel jobs]\ntype = mqueue\nmode = 0600\nmax_messages = 5\n"                                               \
        "[channel log]\ntype = fifo\nframing = packet\nmessage_size = 1024\n"                                          \
        "[channel old]\ntype = mqueue\non_stop = remove\n"

static void test_same(void) {
        struct config *a = load(BASE), *b = load(BASE);
        struct reload_plan p;

        is_int(reload_plan_make(a, b, &p), 0, "plan for an unchanged configuration");
        is_int((int)p.n, 3, "one step per channel");
        is_int((int)p.n_keep, 3, "every channel is kept");
        ok(p.n_change == 0 && p.n_create == 0 && p.n_withdraw == 0, "nothing changes, is created or withdrawn");
        ok(step(&p, RELOAD_KEEP, "jobs") && step(&p, RELOAD_KEEP, "jobs")->changes == 0, "'jobs' is kept as it is");
        reload_plan_free(&p);
        config_free(a);
        config_free(b);
}

static void test_changes(void) {
        struct config *a = load(BASE);
        struct config *b = load("[channel jobs]\ntype = mqueue\nmode = 0640\nmax_messages = 7\nsend = root\n"
                                "[channel log]\ntype = fifo\nframing = batch\ncapacity = 131072\nmessage_size = 1024\n"
                                "[channel old]\ntype = mqueue\non_stop = keep\n");
        const struct reload_step *s;
        struct reload_plan p;

        is_int(reload_plan_make(a, b, &p), 0, "plan for changed settings");
        is_int((int)p.n_change, 3, "three channels change");
        s = step(&p, RELOAD_CHANGE, "jobs");
        ok(s && s->changes == (RELOAD_MODE | RELOAD_MAX_MESSAGES | RELOAD_ACCESS),
           "'jobs': mode, max_messages and the send list changed (%#x)", s ? s->changes : 0);
        ok(s && s->old == config_find_channel(a, "jobs") && s->next == config_find_channel(b, "jobs"),
           "the step points at both declarations");
        s = step(&p, RELOAD_CHANGE, "log");
        ok(s && s->changes == (RELOAD_FRAMING | RELOAD_CAPACITY), "'log': framing and capacity changed (%#x)",
           s ? s->changes : 0);
        s = step(&p, RELOAD_CHANGE, "old");
        ok(s && s->changes == RELOAD_ON_STOP, "'old': on_stop changed");
        is_str(reload_action_to_string(RELOAD_CHANGE), "change", "the action's name");
        reload_plan_free(&p);
        config_free(a);
        config_free(b);
}

static void test_create_withdraw(void) {
        struct config *a = load(BASE);
        /* 'old' goes; 'jobs' is renamed 'work' on the same queue; 'log' moves to another path; 'new' is new */
        struct config *b = load("[channel work]\ntype = mqueue\nmq_name = /plan.jobs\nmode = 0600\nmax_messages = 5\n"
                                "[channel log]\ntype = fifo\npath = /tmp/plan-elsewhere.fifo\n"
                                "[channel new]\ntype = fifo\n");
        const struct reload_step *s;
        struct reload_plan p;
        size_t first_create;

        is_int(reload_plan_make(a, b, &p), 0, "plan with channels coming and going");
        is_int((int)p.n_withdraw, 3, "three withdrawals: jobs, log, old");
        is_int((int)p.n_create, 3, "three creations: work, log, new");
        is_int((int)p.n_keep + (int)p.n_change, 0, "nothing kept");
        s = step(&p, RELOAD_WITHDRAW, "jobs");
        ok(s && s->taken_over && !s->remove && !s->name_kept, "'jobs': its queue is taken over by 'work'");
        s = step(&p, RELOAD_WITHDRAW, "old");
        ok(s && s->remove && !s->taken_over && !s->name_kept, "'old': removed (on_stop = remove)");
        s = step(&p, RELOAD_WITHDRAW, "log");
        ok(s && s->name_kept && !s->taken_over && !s->remove, "'log': the name stays with another object");
        ok(step(&p, RELOAD_CREATE, "log") != NULL, "'log' is created at its new path");
        first_create = p.n;
        for (size_t i = 0; i < p.n; i++)
                if (p.steps[i].action != RELOAD_WITHDRAW && first_create == p.n)
                        first_create = i;
        ok(first_create == 3, "every withdrawal comes before the rest");
        ok(p.steps[3].next == b->channels[0] && p.steps[5].next == b->channels[2],
           "the rest follow the new configuration's (sorted) order");
        reload_plan_free(&p);
        config_free(a);
        config_free(b);
}

/* A declaration in force whose channel is missing (its creation failed): made anew, or nothing to withdraw. */
static void test_lost(void) {
        struct config *a = load(BASE);
        struct config *b = load("[channel jobs]\ntype = mqueue\nmode = 0640\nmax_messages = 5\n"
                                "[channel log]\ntype = fifo\nframing = packet\nmessage_size = 1024\n");
        struct reload_plan p;
        size_t i_jobs = 0, i_log = 0, i_old = 0;

        is_int(reload_plan_make(a, b, &p), 0, "plan: 'jobs' changes, 'log' is kept, 'old' goes");
        for (size_t i = 0; i < p.n; i++) {
                const char *name = (p.steps[i].old ? p.steps[i].old : p.steps[i].next)->name;
                if (streq(name, "jobs"))
                        i_jobs = i;
                else if (streq(name, "log"))
                        i_log = i;
                else if (streq(name, "old"))
                        i_old = i;
        }
        ok(p.steps[i_jobs].action == RELOAD_CHANGE && p.steps[i_log].action == RELOAD_KEEP &&
                   p.steps[i_old].action == RELOAD_WITHDRAW,
           "as planned from the configurations alone");
        reload_plan_lost(&p, i_jobs);
        reload_plan_lost(&p, i_log);
        reload_plan_lost(&p, i_old);
        ok(step(&p, RELOAD_CREATE, "jobs") && !step(&p, RELOAD_CREATE, "jobs")->old &&
                   step(&p, RELOAD_CREATE, "jobs")->next == config_find_channel(b, "jobs"),
           "a changed channel that has none is created, from its new declaration only");
        ok(step(&p, RELOAD_CREATE, "log") && !step(&p, RELOAD_CREATE, "log")->old,
           "a kept channel that has none is created");
        ok(p.steps[i_old].action == RELOAD_NOTHING && !step(&p, RELOAD_WITHDRAW, "old"),
           "a withdrawn channel that has none: nothing to withdraw");
        ok(p.n_create == 2 && p.n_keep == 0 && p.n_change == 0 && p.n_withdraw == 0, "the counts follow");
        reload_plan_lost(&p, i_jobs);
        ok(p.n_create == 2 && p.steps[i_jobs].action == RELOAD_CREATE, "a creation stays one");
        is_str(reload_action_to_string(RELOAD_NOTHING), "nothing", "the action's name");
        reload_plan_free(&p);
        config_free(a);
        config_free(b);
}

static void test_registry(void) {
        struct config *c = load("[channel b]\ntype = mqueue\n[channel a]\ntype = fifo\n[channel c]\ntype = mqueue\n");
        struct registry r = {};
        struct channel **v = calloc(c->n_channels, sizeof(*v));

        ok(v != NULL, "memory");
        for (size_t i = 0; i < c->n_channels; i++)
                is_int(channel_new(c->channels[i], &v[i]), 0, "channel_new %s (not set up)", c->channels[i]->name);
        registry_set(&r, v, c->n_channels);
        ok(registry_find(&r, "a") == v[0] && registry_find(&r, "b") == v[1] && registry_find(&r, "c") == v[2],
           "find by name");
        ok(!registry_find(&r, "") && !registry_find(&r, "bb") && !registry_find(&r, "d"),
           "unknown names are not found");
        is_int((int)registry_after(&r, NULL), 0, "no cursor: from the start");
        is_int((int)registry_after(&r, "a"), 1, "after 'a'");
        is_int((int)registry_after(&r, "aa"), 1, "after a name between 'a' and 'b'");
        is_int((int)registry_after(&r, "c"), 3, "after the last: the end");
        is_int((int)registry_count(&r, CHANNEL_FAILED), 3, "never set up: all counted as failed");
        v[1]->state = CHANNEL_READY;
        is_int((int)registry_count(&r, CHANNEL_READY), 1, "one ready");
        ok(v[0]->ops == &channel_fifo_ops && v[1]->ops == &channel_mq_ops, "each channel has its type's operations");
        for (size_t i = 0; i < r.n; i++)
                channel_free(r.channels[i]);
        registry_clear(&r);
        ok(r.n == 0 && r.channels == NULL, "cleared");
        config_free(c);
}

int main(void) {
        const char *base = getenv("TMPDIR");

        snprintf(dir, sizeof(dir), "%s/test-reload-plan.XXXXXX", base && *base == '/' ? base : "/tmp");
        if (!mkdtemp(dir)) {
                printf("Bail out! mkdtemp: %s\n", strerror(errno));
                return 1;
        }
        test_same();
        test_changes();
        test_create_withdraw();
        test_lost();
        test_registry();
        tmpdir_remove(dir);
        return done_testing();
}
