/*
 * cli-http.c — one HTTP/1.x exchange on standard input and output, inetd
 * style (for `ipcbroker metrics --http` behind a socket unit with
 * Accept=yes): read one request, bounded in size and time; negotiate the
 * content type from its Accept headers; write one response and close.
 *
 * The request is parsed strictly (RFC 9112): a request line of a token, one
 * space, a target without spaces, one space and HTTP/DIGIT.DIGIT; header
 * lines "name: value" of token names and visible values; CRLF or a bare LF
 * ends a line; empty lines before the request line are skipped. No body is
 * read: the only methods served are GET and HEAD.
 */
#include "build-config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* What is left of the read after the response: at most this much, for this long. */
#define DRAIN_MAX (64 * 1024)
#define DRAIN_MS 1000

static long long now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until FD is readable before DEADLINE (now_ms): 1 readable, 0 timed out, -1 error. */
static int wait_readable(int fd, long long deadline) {
        for (;;) {
                long long left = deadline - now_ms();
                struct pollfd p = { .fd = fd, .events = POLLIN };
                int r;

                if (left <= 0)
                        return 0;
                r = poll(&p, 1, (int)left);
                if (r > 0)
                        return 1;
                if (r == 0)
                        return 0;
                if (errno != EINTR)
                        return -1;
        }
}

/* RFC 9110 tchar */
static bool is_tchar(unsigned char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* A field value's characters: visible ASCII, obs-text, space and tab. */
static bool is_field_char(unsigned char c) {
        return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* The offset just past the blank line that ends the header, or 0 while there is none in BUF[0..LEN). */
static size_t header_end(const char *buf, size_t len) {
        size_t i = 0;

        /* empty lines before the request line do not count */
        while (i < len && (buf[i] == '\r' || buf[i] == '\n'))
                i++;
        for (; i < len; i++) {
                if (buf[i] != '\n')
                        continue;
                if (i + 1 < len && buf[i + 1] == '\n')
                        return i + 2;
                if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
                        return i + 3;
        }
        return 0;
}

/*
 * The next line of *P (up to END), without its CRLF or LF, NUL-terminated in
 * place; *P moves past it. NULL when a CR stands alone or a NUL byte is in it.
 */
static char *next_line(char **p, char *end) {
        char *line = *p, *nl = memchr(line, '\n', (size_t)(end - line));
        char *stop;

        if (!nl)
                return NULL;
        stop = nl > line && nl[-1] == '\r' ? nl - 1 : nl;
        if (memchr(line, '\r', (size_t)(stop - line)) || memchr(line, '\0', (size_t)(stop - line)))
                return NULL;
        *stop = '\0';
        *p = nl + 1;
        return line;
}

/* Parse the request line LINE into R: 0, or the status to answer. */
static int parse_request_line(char *line, struct http_request *r) {
        char *p = line, *target, *version;
        size_t n;

        while (is_tchar((unsigned char)*p))
                p++;
        if (p == line || *p != ' ' || (size_t)(p - line) >= sizeof(r->method))
                return 400;
        memcpy(r->method, line, (size_t)(p - line));
        r->method[p - line] = '\0';
        target = ++p;
        while (*p > ' ' && *p != 0x7f)
                p++;
        if (p == target || *p != ' ')
                return 400;
        *p++ = '\0';
        version = p;
        if (strncmp(version, "HTTP/", 5) != 0 || version[5] < '0' || version[5] > '9' || version[6] != '.' ||
            version[7] < '0' || version[7] > '9' || version[8] != '\0')
                return 400;
        if (version[5] != '1')
                return 505;
        r->minor = version[7] - '0';

        /* absolute-form: http://host:port/path → /path */
        if (strncasecmp(target, "http://", 7) == 0 || strncasecmp(target, "https://", 8) == 0) {
                target = strchr(target + (target[4] == ':' ? 7 : 8), '/');
                if (!target)
                        target = "/";
        } else if (target[0] != '/' && strcmp(target, "*") != 0) {
                return 400;
        }
        n = strcspn(target, "?#");
        if (n >= sizeof(r->path))
                return 414;
        memcpy(r->path, target, n);
        r->path[n] = '\0';
        return 0;
}

/* Parse one header line into R: 0, or the status to answer. */
static int parse_header(char *line, struct http_request *r, size_t *accept_len) {
        char *p = line, *value, *end;
        size_t n;

        while (is_tchar((unsigned char)*p))
                p++;
        /* no name, whitespace before the colon, or a folded line (RFC 9112 5.1, 5.2) */
        if (p == line || *p != ':')
                return 400;
        *p++ = '\0';
        while (*p == ' ' || *p == '\t')
                p++;
        value = p;
        for (end = p; *end; end++)
                if (!is_field_char((unsigned char)*end))
                        return 400;
        while (end > value && (end[-1] == ' ' || end[-1] == '\t'))
                *--end = '\0';
        if (strcasecmp(line, "Host") == 0) {
                if (r->has_host)
                        return 400;
                r->has_host = true;
        } else if (strcasecmp(line, "Accept") == 0) {
                /* several Accept lines are one list */
                n = strlen(value);
                if (*accept_len + n + 2 > sizeof(r->accept))
                        return 431;
                if (*accept_len)
                        r->accept[(*accept_len)++] = ',';
                memcpy(r->accept + *accept_len, value, n + 1);
                *accept_len += n;
                r->has_accept = true;
        }
        return 0;
}

/* Parse the header block BUF[0..LEN) into R: 0, or the status to answer. */
static int parse_request(char *buf, size_t len, struct http_request *r) {
        char *p = buf, *end = buf + len, *line;
        size_t accept_len = 0;
        int status;

        while (p < end && (*p == '\r' || *p == '\n'))
                p++;
        line = next_line(&p, end);
        if (!line)
                return 400;
        status = parse_request_line(line, r);
        if (status)
                return status;
        while ((line = next_line(&p, end)) && *line) {
                status = parse_header(line, r, &accept_len);
                if (status)
                        return status;
        }
        if (!line)
                return 400;
        /* RFC 9112 3.2: a 1.1 request without exactly one Host is refused */
        if (r->minor >= 1 && !r->has_host)
                return 400;
        return 0;
}

int http_read_request(int fd, int timeout_ms, struct http_request *r) {
        char buf[HTTP_HEADER_MAX + 1];
        long long deadline = now_ms() + timeout_ms;
        size_t len = 0, end = 0;

        memset(r, 0, sizeof(*r));
        r->minor = 1;
        while (!(end = header_end(buf, len))) {
                ssize_t n;
                int w;

                if (len == HTTP_HEADER_MAX)
                        return r->status = 431;
                w = wait_readable(fd, deadline);
                if (w == 0)
                        return r->status = len ? 408 : -1;
                if (w < 0)
                        return r->status = -1;
                n = read(fd, buf + len, HTTP_HEADER_MAX - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return r->status = -1;
                if (n == 0) {
                        /* the client closed its side: nothing asked, nothing to answer */
                        size_t i = 0;
                        while (i < len && (buf[i] == '\r' || buf[i] == '\n'))
                                i++;
                        return r->status = i < len ? 400 : -1;
                }
                len += (size_t)n;
        }
        return r->status = parse_request(buf, end, r);
}

/* The weight Q ("0.5", "1", "0.125") in thousandths, or -1 when it is not one (RFC 9110 12.4.2). */
static int parse_q(const char *q) {
        int v, scale = 100;

        if (*q != '0' && *q != '1')
                return -1;
        v = (*q++ - '0') * 1000;
        if (*q == '.')
                for (q++; *q >= '0' && *q <= '9' && scale > 0; q++, scale /= 10)
                        v += (*q - '0') * scale;
        return *q || v > 1000 ? -1 : v;
}

/* Copy [S, E) into BUF without surrounding whitespace (and quotes when QUOTES). */
static void trim_copy(char *buf, size_t size, const char *s, const char *e, bool quotes) {
        while (s < e && (*s == ' ' || *s == '\t'))
                s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
                e--;
        if (quotes && e - s >= 2 && *s == '"' && e[-1] == '"') {
                s++;
                e--;
        }
        snprintf(buf, size, "%.*s", (int)(e - s), s);
}

int http_accept(const struct http_request *r, const char *type, const char *version, bool *explicit) {
        const char *p = r->accept, *slash = strchr(type, '/');
        int best = -1, best_rank = -1;

        *explicit = false;
        if (!r->has_accept)
                return 1000;
        while (*p) {
                const char *item_end = p + strcspn(p, ","), *params = p + strcspn(p, ";,");
                char range[128], key[32], val[64];
                int q = 1000, rank;
                bool version_ok = true;

                trim_copy(range, sizeof(range), p, params, false);
                /* its parameters: q (the weight) and version (which must be ours) */
                for (const char *s = params; s < item_end && *s == ';';) {
                        const char *next = s + 1 + strcspn(s + 1, ";,"), *eq = memchr(s, '=', (size_t)(next - s));
                        if (eq) {
                                trim_copy(key, sizeof(key), s + 1, eq, false);
                                trim_copy(val, sizeof(val), eq + 1, next, true);
                                if (strcasecmp(key, "q") == 0)
                                        q = parse_q(val);
                                else if (strcasecmp(key, "version") == 0)
                                        version_ok = version && strcmp(val, version) == 0;
                        }
                        s = next;
                }
                if (strcmp(range, "*/*") == 0)
                        rank = 0;
                else if (strlen(range) == (size_t)(slash - type) + 2 &&
                         strncasecmp(range, type, (size_t)(slash - type + 1)) == 0 && range[slash - type + 1] == '*')
                        rank = 1;
                else if (strcasecmp(range, type) == 0)
                        rank = 2;
                else
                        rank = -1;
                /* the most specific range that matches decides (RFC 9110 12.5.1) */
                if (rank >= 0 && version_ok && q >= 0 && rank > best_rank) {
                        best_rank = rank;
                        best = q;
                }
                p = *item_end ? item_end + 1 : item_end;
        }
        *explicit = best_rank == 2;
        return best < 0 ? 0 : best;
}

const char *http_reason(int status) {
        switch (status) {
        case 200:
                return "OK";
        case 400:
                return "Bad Request";
        case 404:
                return "Not Found";
        case 405:
                return "Method Not Allowed";
        case 408:
                return "Request Timeout";
        case 414:
                return "URI Too Long";
        case 431:
                return "Request Header Fields Too Large";
        case 503:
                return "Service Unavailable";
        case 505:
                return "HTTP Version Not Supported";
        default:
                return "Internal Server Error";
        }
}

static int write_all(int fd, const char *p, size_t len) {
        while (len) {
                ssize_t n = write(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

int http_respond(int in, int out, const struct http_request *r, int status, const char *content_type, const char *body,
                 size_t len) {
        char head[512], date[64];
        bool is_head = strcmp(r->method, "HEAD") == 0;
        time_t t = time(NULL);
        struct tm tm;
        int n, e;

        gmtime_r(&t, &tm);
        strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        n = snprintf(head, sizeof(head),
                     "HTTP/1.%d %d %s\r\n"
                     "Date: %s\r\n"
                     "Content-Type: %s\r\n"
                     "Content-Length: %zu\r\n"
                     "%s"
                     "Cache-Control: no-store\r\n"
                     "Connection: close\r\n"
                     "\r\n",
                     r->minor == 0 ? 0 : 1, status, http_reason(status), date, content_type, len,
                     status == 405 ? "Allow: GET, HEAD\r\n" : "");
        e = write_all(out, head, (size_t)n);
        if (e == 0 && !is_head)
                e = write_all(out, body, len);
        /*
         * Close our side, then read what the client may still send (for a
         * little while), so that unread input does not make the kernel reset
         * the connection before the client has read the answer.
         */
        if (shutdown(out, SHUT_WR) == 0) {
                long long deadline = now_ms() + DRAIN_MS;
                size_t drained = 0;
                char sink[4096];
                ssize_t got;

                while (drained < DRAIN_MAX && wait_readable(in, deadline) > 0 &&
                       (got = read(in, sink, sizeof(sink))) > 0)
                        drained += (size_t)got;
        }
        return e;
}
