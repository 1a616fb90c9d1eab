/*
 * cli-access.c — ipcbroker access NAME [--user USER]: may the caller (or
 * USER) send and receive on a channel, and which rule decided each. A
 * query: it succeeds whether or not access is allowed.
 */
#include "build-config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct option options[] = {
        { "user", required_argument, NULL, 'u' },
        { "json", no_argument, NULL, 'j' },
        {},
};

/* The rule without the verdict the line already gives ("denied: not in the send list" → "not in the send list"). */
static const char *rule_text(const char *rule, bool allowed) {
        static const char denied[] = "denied: ";

        if (!allowed && strncmp(rule, denied, sizeof(denied) - 1) == 0)
                return rule + sizeof(denied) - 1;
        return rule;
}

static void print_text(const ipcb_access *a) {
        printf("channel '%s' for uid %u", a->channel, (unsigned)a->uid);
        if (a->user[0])
                printf(" (%s)", a->user);
        printf(":\n");
        printf("  send: %s (%s)\n", a->send ? "allowed" : "denied", rule_text(a->send_rule, a->send));
        printf("  recv: %s (%s)\n", a->recv ? "allowed" : "denied", rule_text(a->recv_rule, a->recv));
}

static void print_json(const ipcb_access *a) {
        char ub[32];

        printf("{\"channel\": ");
        json_string(stdout, a->channel);
        printf(", \"uid\": %u, \"user\": ", (unsigned)a->uid);
        json_string(stdout, a->user[0] ? a->user : cli_user(a->uid, ub, sizeof(ub)));
        printf(", \"send\": %s, \"recv\": %s, \"send_rule\": ", a->send ? "true" : "false", a->recv ? "true" : "false");
        json_string(stdout, a->send_rule);
        printf(", \"recv_rule\": ");
        json_string(stdout, a->recv_rule);
        printf("}\n");
}

static int run(const struct cli_context *ctx, int argc, char **argv) {
        const char *name = argv[0];
        ipcb_access a;
        int r;

        (void)argc;
        r = ipcb_access_check(name, ctx->user, &a);
        if (r < 0)
                return cli_call_error(name, r);
        if (ctx->json)
                print_json(&a);
        else
                print_text(&a);
        return CLI_OK;
}

const struct cli_verb cli_verb_access = {
        .name = "access",
        .synopsis = "access NAME [--user USER] [--json]",
        .help = "may you (or USER) send and receive on NAME, and which rule decides",
        .options = options,
        .shortopts = "u:j",
        .min_args = 1,
        .max_args = 1,
        .run = run,
};
