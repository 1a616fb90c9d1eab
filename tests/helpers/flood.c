/*
 * flood — many busy connections, and a probe of one connection's latency.
 *
 *   flood flood SOCKET CONNECTIONS SECONDS [status|list]
 *       keep CONNECTIONS connections busy for SECONDS: each sends its request
 *       again as soon as the reply came; prints "replies N".
 *   flood probe SOCKET COUNT
 *       one connection sends COUNT status requests, one after the other;
 *       prints one line per reply: "SERVED LATENCY_US", SERVED being how many
 *       requests the daemon served since the previous reply (its own counter).
 *
 * Speaks the wire protocol directly (common/protocol.h) so that connections
 * stay open across requests, as the library's one-shot calls do not.
 */
#include "build-config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "protocol.h"

static double now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int connect_to(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

        if (fd < 0 || strlen(path) >= sizeof(sa.sun_path))
                return -1;
        memcpy(sa.sun_path, path, strlen(path) + 1);
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                close(fd);
                return -1;
        }
        return fd;
}

static struct wire_writer request;

static int send_request(int fd, uint16_t type, uint32_t serial) {
        int n;

        wire_writer_init(&request, type, serial);
        n = wire_writer_finish(&request);
        return n > 0 && send(fd, request.buf, (size_t)n, MSG_NOSIGNAL) == n ? 0 : -1;
}

/* Read one reply; returns its error code, or -1. Stores the status's request counter in *requests. */
static int read_reply(int fd, uint64_t *requests) {
        static uint8_t buf[WIRE_PACKET_MAX];
        struct wire_header hdr;
        struct wire_attrs attrs;
        ssize_t n = recv(fd, buf, sizeof(buf), 0);

        if (n <= 0 || wire_decode(buf, (size_t)n, &hdr, &attrs, NULL) < 0)
                return -1;
        if (requests)
                *requests = attrs.v[WIRE_ATTR_REQUESTS].u;
        return (int)attrs.v[WIRE_ATTR_ERROR].u;
}

static int do_flood(const char *path, int n, double seconds, uint16_t type) {
        struct pollfd *p = calloc((size_t)n, sizeof(*p));
        unsigned long replies = 0;
        double end = now() + seconds;

        if (!p)
                return 1;
        for (int i = 0; i < n; i++) {
                p[i].fd = connect_to(path);
                p[i].events = POLLIN;
                if (p[i].fd < 0 || send_request(p[i].fd, type, (uint32_t)i) < 0) {
                        fprintf(stderr, "flood: connection %d: %s\n", i, strerror(errno));
                        return 1;
                }
        }
        printf("connected %d\n", n);
        fflush(stdout);
        while (now() < end) {
                int r = poll(p, (nfds_t)n, 100);
                if (r < 0 && errno != EINTR)
                        return 1;
                for (int i = 0; i < n && r > 0; i++) {
                        if (!p[i].revents)
                                continue;
                        if (read_reply(p[i].fd, NULL) < 0 || send_request(p[i].fd, type, (uint32_t)i) < 0) {
                                fprintf(stderr, "flood: connection %d lost\n", i);
                                return 1;
                        }
                        replies++;
                }
        }
        printf("replies %lu\n", replies);
        return 0;
}

static int do_probe(const char *path, int count) {
        int fd = connect_to(path);
        uint64_t before = 0, after = 0;

        if (fd < 0 || send_request(fd, WIRE_REQ_STATUS, 0) < 0 || read_reply(fd, &before) != 0) {
                fprintf(stderr, "probe: cannot talk to %s\n", path);
                return 1;
        }
        for (int i = 0; i < count; i++) {
                double t0 = now();
                if (send_request(fd, WIRE_REQ_STATUS, (uint32_t)i + 1) < 0 || read_reply(fd, &after) != 0) {
                        fprintf(stderr, "probe: request %d failed\n", i);
                        return 1;
                }
                printf("%llu %.0f\n", (unsigned long long)(after - before), (now() - t0) * 1e6);
                before = after;
        }
        return 0;
}

int main(int argc, char **argv) {
        if (argc >= 5 && strcmp(argv[1], "flood") == 0)
                return do_flood(argv[2], atoi(argv[3]), atof(argv[4]),
                                argc > 5 && strcmp(argv[5], "list") == 0 ? WIRE_REQ_LIST : WIRE_REQ_STATUS);
        if (argc == 4 && strcmp(argv[1], "probe") == 0)
                return do_probe(argv[2], atoi(argv[3]));
        fprintf(stderr, "usage: flood flood SOCKET CONNECTIONS SECONDS [status|list]\n"
                        "       flood probe SOCKET COUNT\n");
        return 2;
}
