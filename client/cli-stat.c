/*
 * cli-stat.c — ipcbroker stat NAME: everything known about one channel.
 */
#include "build-config.h"

#include <stdio.h>

#include "cli.h"

static void line_num(const char *key, long long v) {
        if (v < 0)
                printf("%-14s -\n", key);
        else
                printf("%-14s %lld\n", key, v);
}

static void print_text(const ipcb_info *x) {
        char ub[32], gb[32];

        printf("%-14s %s\n", "name:", x->name);
        printf("%-14s %s\n", "type:", cli_type(x->type));
        printf("%-14s %s\n", "state:", cli_state(x->state));
        if (x->problem[0])
                printf("%-14s %s\n", "problem:", x->problem);
        printf("%-14s %s\n", x->type == IPCB_FIFO ? "path:" : "mq_name:", x->kernel_name);
        printf("%-14s %s (%u)\n", "owner:", cli_user(x->owner, ub, sizeof(ub)), (unsigned)x->owner);
        printf("%-14s %s (%u)\n", "group:", cli_group(x->group, gb, sizeof(gb)), (unsigned)x->group);
        printf("%-14s %04o\n", "mode:", x->mode);
        printf("%-14s %s\n", "send:", x->send[0] ? x->send : "-");
        printf("%-14s %s\n", "recv:", x->recv[0] ? x->recv : "-");
        printf("%-14s %s\n", "on_stop:", x->on_stop);
        if (x->type == IPCB_MQUEUE) {
                line_num("mq_flags:", x->mq_flags);
                line_num("mq_maxmsg:", x->max_messages);
                line_num("mq_msgsize:", x->message_size);
                line_num("mq_curmsgs:", x->messages);
        } else {
                printf("%-14s %s\n", "framing:", x->framing == IPCB_FRAMING_BATCH ? "batch" : "packet");
                line_num("capacity:", x->capacity);
                line_num("max_messages:", x->max_messages);
                line_num("message_size:", x->message_size);
        }
        line_num("bytes:", x->bytes);
        line_num("opens:", (long long)x->opens);
        line_num("denials:", (long long)x->denials);
}

static void print_json(const ipcb_info *x) {
        char ub[32], gb[32];

        printf("{\"name\": ");
        json_string(stdout, x->name);
        printf(", \"type\": \"%s\", \"state\": \"%s\", \"problem\": ", cli_type(x->type), cli_state(x->state));
        if (x->problem[0])
                json_string(stdout, x->problem);
        else
                printf("null");
        printf(", \"%s\": ", x->type == IPCB_FIFO ? "path" : "mq_name");
        json_string(stdout, x->kernel_name);
        printf(", \"owner\": ");
        json_string(stdout, cli_user(x->owner, ub, sizeof(ub)));
        printf(", \"uid\": %u, \"group\": ", (unsigned)x->owner);
        json_string(stdout, cli_group(x->group, gb, sizeof(gb)));
        printf(", \"gid\": %u, \"mode\": \"%04o\", \"send\": ", (unsigned)x->group, x->mode);
        json_string(stdout, x->send);
        printf(", \"recv\": ");
        json_string(stdout, x->recv);
        printf(", \"on_stop\": ");
        json_string(stdout, x->on_stop);
        if (x->type == IPCB_MQUEUE)
                printf(", \"mq_flags\": %ld, \"mq_maxmsg\": %ld, \"mq_msgsize\": %ld, \"mq_curmsgs\": ", x->mq_flags,
                       x->max_messages, x->message_size);
        else {
                printf(", \"framing\": \"%s\", \"capacity\": %ld, \"max_messages\": ",
                       x->framing == IPCB_FRAMING_BATCH ? "batch" : "packet", x->capacity);
                json_number_or_null(stdout, x->max_messages);
                printf(", \"message_size\": %ld, \"messages\": ", x->message_size);
        }
        json_number_or_null(stdout, x->messages);
        printf(", \"bytes\": ");
        json_number_or_null(stdout, x->bytes);
        printf(", \"opens\": %llu, \"denials\": %llu}\n", x->opens, x->denials);
}

static int run(const struct cli_context *ctx, int argc, char **argv) {
        ipcb_info info;
        int r;

        (void)argc;
        r = ipcb_stat(argv[0], &info);
        if (r < 0)
                return cli_call_error(argv[0], r);
        if (ctx->json)
                print_json(&info);
        else
                print_text(&info);
        return CLI_OK;
}

const struct cli_verb cli_verb_stat = {
        .name = "stat",
        .synopsis = "stat NAME [--json]",
        .help = "everything known about one channel, kernel attributes included",
        .options = cli_json_options,
        .shortopts = "j",
        .min_args = 1,
        .max_args = 1,
        .too_many = "exactly one channel name expected",
        .run = run,
};
