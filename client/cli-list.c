/*
 * cli-list.c — ipcbroker list: one row per channel, like lsipc.
 */
#include "build-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void num(char *buf, size_t size, long long v) {
        if (v < 0)
                snprintf(buf, size, "-");
        else
                snprintf(buf, size, "%lld", v);
}

static void print_json(const ipcb_info *infos, size_t n) {
        char ub[32], gb[32];

        printf("[");
        for (size_t i = 0; i < n; i++) {
                const ipcb_info *x = &infos[i];
                printf("%s\n  {\"name\": ", i ? "," : "");
                json_string(stdout, x->name);
                printf(", \"type\": \"%s\", \"state\": \"%s\", \"owner\": ", cli_type(x->type), cli_state(x->state));
                json_string(stdout, cli_user(x->owner, ub, sizeof(ub)));
                printf(", \"uid\": %u, \"group\": ", (unsigned)x->owner);
                json_string(stdout, cli_group(x->group, gb, sizeof(gb)));
                printf(", \"gid\": %u, \"mode\": \"%04o\", \"messages\": ", (unsigned)x->group, x->mode);
                json_number_or_null(stdout, x->messages);
                printf(", \"max_messages\": ");
                json_number_or_null(stdout, x->max_messages);
                printf(", \"message_size\": ");
                json_number_or_null(stdout, x->message_size);
                printf(", \"bytes\": ");
                json_number_or_null(stdout, x->bytes);
                printf("}");
        }
        printf("%s]\n", n ? "\n" : "");
}

static void print_table(const ipcb_info *infos, size_t n) {
        int wname = 4, wowner = 5, wgroup = 5;
        char ub[32], gb[32];

        for (size_t i = 0; i < n; i++) {
                int l = (int)strlen(infos[i].name);
                if (l > wname)
                        wname = l;
                l = (int)strlen(cli_user(infos[i].owner, ub, sizeof(ub)));
                if (l > wowner)
                        wowner = l;
                l = (int)strlen(cli_group(infos[i].group, gb, sizeof(gb)));
                if (l > wgroup)
                        wgroup = l;
        }
        printf("%-*s %-6s %-*s %-*s %4s %8s %8s %8s %10s %s\n", wname, "NAME", "TYPE", wowner, "OWNER", wgroup, "GROUP",
               "MODE", "MESSAGES", "MAXMSGS", "MSGSIZE", "BYTES", "STATE");
        for (size_t i = 0; i < n; i++) {
                const ipcb_info *x = &infos[i];
                char m[24], mm[24], ms[24], b[24];
                num(m, sizeof(m), x->messages);
                num(mm, sizeof(mm), x->max_messages);
                num(ms, sizeof(ms), x->message_size);
                num(b, sizeof(b), x->bytes);
                printf("%-*s %-6s %-*s %-*s %04o %8s %8s %8s %10s %s\n", wname, x->name, cli_type(x->type), wowner,
                       cli_user(x->owner, ub, sizeof(ub)), wgroup, cli_group(x->group, gb, sizeof(gb)), x->mode, m, mm,
                       ms, b, cli_state(x->state));
        }
}

static int run(const struct cli_context *ctx, int argc, char **argv) {
        ipcb_info *infos = NULL;
        size_t n = 0;
        int r;

        (void)argc;
        (void)argv;
        r = ipcb_list(&infos, &n);
        if (r < 0)
                return cli_call_error(NULL, r);
        if (ctx->json)
                print_json(infos, n);
        else
                print_table(infos, n);
        free(infos);
        return CLI_OK;
}

const struct cli_verb cli_verb_list = {
        .name = "list",
        .synopsis = "list [--json]",
        .help = "one row per channel: type, owner, mode, depth and sizes",
        .options = cli_json_options,
        .shortopts = "+j",
        .max_args = 0,
        .run = run,
};
