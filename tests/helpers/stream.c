/*
 * stream — a library client for the fault tests: streams numbered messages
 * through a channel with descriptors it keeps, whatever happens to the daemon.
 *
 *   stream send NAME ID COUNT      send "ID:SEQ" for SEQ = 0..COUNT-1 (blocking)
 *   stream recv NAME COUNT SECONDS receive COUNT messages (or stop after SECONDS
 *                                  without one), one a line on stdout
 *   stream hold NAME SECONDS -     open for receiving and never read, for SECONDS
 *
 * It opens the channel once, at the start, and exits 0 when it did all it
 * was asked, 1 otherwise (the reason on stderr).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipcbroker.h"

int main(int argc, char **argv) {
        ipcb_channel *ch;
        int r;

        if (argc < 5) {
                fprintf(stderr, "usage: stream send NAME ID COUNT | stream recv NAME COUNT SECONDS\n");
                return 2;
        }
        if (!strcmp(argv[1], "send")) {
                long count = atol(argv[4]);
                r = ipcb_open(argv[2], IPCB_SEND, &ch);
                if (r < 0) {
                        fprintf(stderr, "stream: %s: %s\n", argv[2], ipcb_strerror(r));
                        return 1;
                }
                for (long i = 0; i < count; i++) {
                        char msg[64];
                        int len = snprintf(msg, sizeof(msg), "%s:%ld", argv[3], i);
                        /* generous: a receiver may be slow, but never silent this long */
                        r = ipcb_timedsend(ch, msg, (size_t)len, 0, 30000);
                        if (r < 0) {
                                fprintf(stderr, "stream: %s: send %ld: %s\n", argv[2], i, ipcb_strerror(r));
                                return 1;
                        }
                }
                ipcb_close(ch);
                return 0;
        }
        if (!strcmp(argv[1], "recv")) {
                long count = atol(argv[3]);
                int timeout = atoi(argv[4]) * 1000;
                ipcb_attr a;
                char *buf;
                r = ipcb_open(argv[2], IPCB_RECV, &ch);
                if (r < 0 || (r = ipcb_getattr(ch, &a)) < 0) {
                        fprintf(stderr, "stream: %s: %s\n", argv[2], ipcb_strerror(r));
                        return 1;
                }
                buf = malloc((size_t)a.message_size + 1);
                for (long i = 0; i < count; i++) {
                        ssize_t n = ipcb_timedrecv(ch, buf, (size_t)a.message_size, NULL, timeout);
                        if (n < 0) {
                                fprintf(stderr, "stream: %s: receive %ld: %s\n", argv[2], i, ipcb_strerror((int)n));
                                return 1;
                        }
                        fwrite(buf, 1, (size_t)n, stdout);
                        putchar('\n');
                }
                fflush(stdout);
                free(buf);
                ipcb_close(ch);
                return 0;
        }
        if (!strcmp(argv[1], "hold")) {
                r = ipcb_open(argv[2], IPCB_RECV, &ch);
                if (r < 0) {
                        fprintf(stderr, "stream: %s: %s\n", argv[2], ipcb_strerror(r));
                        return 1;
                }
                sleep((unsigned)atoi(argv[3]));
                ipcb_close(ch);
                return 0;
        }
        fprintf(stderr, "stream: unknown command %s\n", argv[1]);
        return 2;
}
