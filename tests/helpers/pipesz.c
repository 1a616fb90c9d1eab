/*
 * pipesz — what a holder of a FIFO channel's descriptor can do to its pipe
 * buffer, for the security tests.
 *
 *   pipesz NAME          open NAME for sending through the broker; print the
 *                        pipe buffer size of the descriptor it hands out
 *   pipesz NAME SIZE     the same, after F_SETPIPE_SZ to SIZE on that descriptor
 *   pipesz NAME SIZE N   and then write N one-byte messages through it
 *
 * Exits 0 when it could, 1 otherwise (the reason on stderr).
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipcbroker.h"

int main(int argc, char **argv) {
        ipcb_channel *ch;
        int fd, r, size;

        if (argc < 2 || argc > 4) {
                fprintf(stderr, "usage: pipesz NAME [SIZE [COUNT]]\n");
                return 2;
        }
        r = ipcb_open(argv[1], IPCB_SEND, &ch);
        if (r < 0) {
                fprintf(stderr, "pipesz: %s: %s\n", argv[1], ipcb_strerror(r));
                return 1;
        }
        fd = ipcb_fd(ch);
        if (argc >= 3 && fcntl(fd, F_SETPIPE_SZ, atoi(argv[2])) < 0) {
                fprintf(stderr, "pipesz: F_SETPIPE_SZ %s: %s\n", argv[2], strerror(errno));
                ipcb_close(ch);
                return 1;
        }
        for (long i = 0; argc == 4 && i < atol(argv[3]); i++) {
                r = ipcb_send(ch, "x", 1, 0);
                if (r < 0) {
                        fprintf(stderr, "pipesz: send %ld: %s\n", i, ipcb_strerror(r));
                        ipcb_close(ch);
                        return 1;
                }
        }
        size = fcntl(fd, F_GETPIPE_SZ);
        if (size < 0) {
                fprintf(stderr, "pipesz: F_GETPIPE_SZ: %s\n", strerror(errno));
                ipcb_close(ch);
                return 1;
        }
        printf("%d\n", size);
        ipcb_close(ch);
        return 0;
}
