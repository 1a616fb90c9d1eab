/*
 * cli-status.c — ipcbroker status: the daemon's version, pid, uptime and counters.
 */
#include "build-config.h"

#include <stdio.h>

#include "cli.h"

static int run(const struct cli_context *ctx, int argc, char **argv) {
        ipcb_status st;
        int r;

        (void)argc;
        (void)argv;
        r = ipcb_status_get(&st);
        if (r < 0)
                return cli_call_error(NULL, r);
        if (ctx->json) {
                printf("{\"version\": ");
                json_string(stdout, st.version);
                printf(", \"pid\": %d, \"uptime\": %llu, \"config_file\": ", (int)st.pid, st.uptime);
                json_string(stdout, st.config_file);
                printf(", \"socket\": ");
                json_string(stdout, st.socket);
                printf(", \"channels\": %llu, \"channels_ready\": %llu, \"clients\": %llu, \"connections\": %llu, "
                       "\"requests\": %llu, \"opens\": %llu, \"denied\": %llu, \"reloads\": %llu}\n",
                       st.channels, st.channels_ready, st.clients, st.connections, st.requests, st.opens, st.denied,
                       st.reloads);
                return CLI_OK;
        }
        printf("%-16s %s\n", "version:", st.version);
        printf("%-16s %d\n", "pid:", (int)st.pid);
        printf("%-16s %llud %02lluh %02llum %02llus\n", "uptime:", st.uptime / 86400, st.uptime / 3600 % 24,
               st.uptime / 60 % 60, st.uptime % 60);
        printf("%-16s %s\n", "config file:", st.config_file);
        printf("%-16s %s\n", "socket:", st.socket);
        printf("%-16s %llu (%llu ready)\n", "channels:", st.channels, st.channels_ready);
        printf("%-16s %llu connected, %llu since start\n", "clients:", st.clients, st.connections);
        printf("%-16s %llu served, %llu denied\n", "requests:", st.requests, st.denied);
        printf("%-16s %llu\n", "opens:", st.opens);
        printf("%-16s %llu\n", "reloads:", st.reloads);
        return CLI_OK;
}

const struct cli_verb cli_verb_status = {
        .name = "status",
        .synopsis = "status [--json]",
        .help = "version, pid, uptime, config file, counters",
        .options = cli_json_options,
        .shortopts = "j",
        .max_args = 0,
        .run = run,
};
