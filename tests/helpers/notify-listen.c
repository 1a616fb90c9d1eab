/*
 * notify-listen — stands in for systemd's NOTIFY_SOCKET in the tests.
 *
 *   notify-listen SOCKET LOGFILE [SECONDS]
 *
 * Binds a datagram Unix socket at SOCKET and appends each notification it
 * receives to LOGFILE as one line (newlines inside become spaces), prefixed
 * with a CLOCK_MONOTONIC timestamp in milliseconds. Exits after SECONDS
 * (default 300) or on SIGTERM, removing SOCKET.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_term(int sig) {
        (void)sig;
        stop = 1;
}

int main(int argc, char **argv) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd, seconds = argc > 3 ? atoi(argv[3]) : 300;
        FILE *log;
        struct timespec start, now;

        if (argc < 3 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
                fprintf(stderr, "usage: notify-listen SOCKET LOGFILE [SECONDS]\n");
                return 2;
        }
        signal(SIGTERM, on_term);
        signal(SIGINT, on_term);
        strcpy(sa.sun_path, argv[1]);
        unlink(argv[1]);
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                perror("notify-listen: bind");
                return 1;
        }
        log = fopen(argv[2], "a");
        if (!log) {
                perror("notify-listen: log");
                return 1;
        }
        clock_gettime(CLOCK_MONOTONIC, &start);
        while (!stop) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                char buf[4096];
                ssize_t n;

                clock_gettime(CLOCK_MONOTONIC, &now);
                if (now.tv_sec - start.tv_sec >= seconds)
                        break;
                if (poll(&p, 1, 200) <= 0)
                        continue;
                n = recv(fd, buf, sizeof(buf) - 1, 0);
                if (n < 0)
                        continue;
                buf[n] = '\0';
                for (ssize_t i = 0; i < n; i++)
                        if (buf[i] == '\n')
                                buf[i] = ' ';
                clock_gettime(CLOCK_MONOTONIC, &now);
                fprintf(log, "%lld %s\n", (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000, buf);
                fflush(log);
        }
        unlink(argv[1]);
        return 0;
}
