/*
 * cli-holders.c — ipcbroker holders [NAME]: who the daemon gave which end
 * of a channel, one row per live grant.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

/* The holder's user: its name, or its uid when it has none. */
static const char *holder_user(const ipcb_holder *h, char *buf, size_t size) {
        return h->user[0] ? h->user : cli_user(h->uid, buf, size);
}

static void print_json(const ipcb_holder *hs, size_t n) {
        char ub[32];

        printf("[");
        for (size_t i = 0; i < n; i++) {
                const ipcb_holder *h = &hs[i];
                printf("%s\n  {\"channel\": ", i ? "," : "");
                json_string(stdout, h->channel);
                printf(", \"access\": \"%s\", \"uid\": %u, \"user\": ", cli_access(h->access), (unsigned)h->uid);
                json_string(stdout, holder_user(h, ub, sizeof(ub)));
                printf(", \"pid\": %d, \"command\": ", (int)h->pid);
                json_string(stdout, h->command);
                printf(", \"unit\": ");
                json_string(stdout, h->unit);
                printf(", \"since\": %lld, \"opens\": %llu}", h->since, h->opens);
        }
        printf("%s]\n", n ? "\n" : "");
}

/* The time of the first grant, local. */
static void since(char *buf, size_t size, long long t) {
        time_t tt = (time_t)t;
        struct tm tm;

        if (t <= 0 || !localtime_r(&tt, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
                snprintf(buf, size, "-");
}

static int widest(int w, const char *s) {
        int l = (int)strlen(s);
        return l > w ? l : w;
}

static void print_table(const ipcb_holder *hs, size_t n) {
        int wch = 7, wuser = 4, wunit = 4, wcmd = 7;
        char ub[32], unit[sizeof(hs->unit)], cmd[sizeof(hs->command)], when[32];

        for (size_t i = 0; i < n; i++) {
                wch = widest(wch, hs[i].channel);
                wuser = widest(wuser, holder_user(&hs[i], ub, sizeof(ub)));
                wunit = widest(wunit, hs[i].unit[0] ? hs[i].unit : "-");
                wcmd = widest(wcmd, hs[i].command);
        }
        printf("%-*s %-9s %7s %-*s %-*s %-*s %-19s %s\n", wch, "CHANNEL", "ACCESS", "PID", wuser, "USER", wunit, "UNIT",
               wcmd, "COMMAND", "SINCE", "OPENS");
        for (size_t i = 0; i < n; i++) {
                const ipcb_holder *h = &hs[i];
                since(when, sizeof(when), h->since);
                printf("%-*s %-9s %7d %-*s %-*s %-*s %-19s %llu\n", wch, h->channel, cli_access(h->access), (int)h->pid,
                       wuser, holder_user(h, ub, sizeof(ub)), wunit,
                       h->unit[0] ? cli_printable(h->unit, unit, sizeof(unit)) : "-", wcmd,
                       cli_printable(h->command, cmd, sizeof(cmd)), when, h->opens);
        }
}

static int run(const struct cli_context *ctx, int argc, char **argv) {
        const char *name = argc > 0 ? argv[0] : NULL;
        ipcb_holder *hs = NULL;
        size_t n = 0;
        int r;

        r = ipcb_holders(name, &hs, &n);
        if (r < 0)
                return cli_call_error(name, r);
        if (ctx->json)
                print_json(hs, n);
        else
                print_table(hs, n);
        free(hs);
        return CLI_OK;
}

const struct cli_verb cli_verb_holders = {
        .name = "holders",
        .synopsis = "holders [NAME] [--json]",
        .help = "who was given which end of each channel, one row per live grant",
        .options = cli_json_options,
        .shortopts = "j",
        .max_args = 1,
        .run = run,
};
