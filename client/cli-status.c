/*
 * cli-status.c — ipcbroker status: the daemon's version, pid, uptime and counters.
 */
#include "build-config.h"

#include <getopt.h>
#include <stdio.h>

#include "cli.h"

int cli_status(int argc, char **argv) {
        static const struct option options[] = {
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        ipcb_status st;
        bool json = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "jh", options, NULL)) >= 0) {
                switch (c) {
                case 'j':
                        json = true;
                        break;
                case 'h':
                        cli_verb_help("status");
                        return CLI_OK;
                default:
                        return CLI_USAGE;
                }
        }
        if (optind < argc)
                return cli_usage("status", "unexpected argument '%s'", argv[optind]);
        r = ipcb_status_get(&st);
        if (r < 0)
                return cli_call_error(NULL, r);
        if (json) {
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
