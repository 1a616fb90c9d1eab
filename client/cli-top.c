/*
 * cli-top.c — ipcbroker top: the channels' depth, fill, high-water mark,
 * time full and holders, refreshed every second (or -d). On a terminal, a
 * full-screen view (raw mode and the alternate screen, restored on every
 * way out); with -n COUNT, COUNT plain snapshots for scripts, like top -b,
 * or with --json one JSON document a line per snapshot.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static const struct option options[] = {
        { "count", required_argument, NULL, 'n' },
        { "delay", required_argument, NULL, 'd' },
        { "sort", required_argument, NULL, 's' },
        { "json", no_argument, NULL, 'j' },
        {},
};

#define BAR_WIDE 20   /* the fill bar, in snapshots and on terminals of 100 columns or more */
#define BAR_NARROW 10 /* on terminals of 80 columns or more */
#define BAR_TINY 5    /* on narrower ones */
#define NAME_MIN 12   /* the narrowest name column on a terminal */

/* ---- one frame: the header and a row per channel ---- */

/* Where a frame goes: a stream, and on a terminal its size (0: no limits). */
struct frame {
        FILE *f;
        int rows, cols;
        bool screen; /* clear each line's rest (full-screen redraws) */
        int lines;   /* written so far */
};

/* One line of the frame, cut to the terminal's width; false once the terminal is full. */
__attribute__((format(printf, 2, 3))) static bool frame_line(struct frame *fr, const char *fmt, ...) {
        char buf[1024];
        va_list ap;
        int n;

        if (fr->rows > 0 && fr->lines >= fr->rows)
                return false;
        va_start(ap, fmt);
        n = vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        if (n < 0)
                n = 0;
        if (n >= (int)sizeof(buf))
                n = (int)sizeof(buf) - 1;
        if (fr->cols > 0 && n > fr->cols)
                n = fr->cols;
        fwrite(buf, 1, (size_t)n, fr->f);
        /* on the screen, the last line has no newline: it would scroll (the terminal adds the \r) */
        fputs(fr->screen ? "\033[K" : "", fr->f);
        if (!fr->screen || fr->rows <= 0 || fr->lines + 1 < fr->rows)
                fputc('\n', fr->f);
        fr->lines++;
        return true;
}

/* How full C is, 0 to 1 (queues: messages of mq_maxmsg; FIFOs: bytes of the pipe's capacity); -1 unknown. */
static double fill_of(const ipcb_channel_metrics *c) {
        double v;

        if (c->type == IPCB_FIFO) {
                if (c->bytes < 0 || c->capacity <= 0)
                        return -1;
                v = (double)c->bytes / (double)c->capacity;
        } else {
                if (c->messages < 0 || c->max_messages <= 0)
                        return -1;
                v = (double)c->messages / (double)c->max_messages;
        }
        return v > 1 ? 1 : v;
}

static int by_name(const void *a, const void *b) {
        return strcmp(((const ipcb_channel_metrics *)a)->name, ((const ipcb_channel_metrics *)b)->name);
}

/* fullest first; unknown last; then by name */
static int by_fill(const void *a, const void *b) {
        double fa = fill_of(a), fb = fill_of(b);

        if (fa != fb)
                return fa < fb ? 1 : -1;
        return by_name(a, b);
}

/* A depth: messages for queues, bytes ("B") for FIFOs; "-" unknown. */
static const char *depth(char *buf, size_t size, long long v, int type) {
        if (v < 0)
                snprintf(buf, size, "-");
        else
                snprintf(buf, size, "%lld%s", v, type == IPCB_FIFO ? "B" : "");
        return buf;
}

/* "[#####.....]  50%", or an empty bar and "-" when the fill is unknown. */
static const char *bar(char *buf, size_t size, double fill, int width) {
        int full = fill < 0 ? 0 : (int)(fill * width + 0.5), n = 0;

        n += snprintf(buf + n, size - (size_t)n, "[");
        for (int i = 0; i < width && (size_t)n + 1 < size; i++)
                buf[n++] = i < full ? '#' : '.';
        if (fill < 0)
                snprintf(buf + n, size - (size_t)n, "]    -");
        else
                snprintf(buf + n, size - (size_t)n, "] %3d%%", (int)(fill * 100 + 0.5));
        return buf;
}

/* A duration: "42s", "3m05s", "2h07m", "3d04h". */
static const char *duration(char *buf, size_t size, double seconds) {
        unsigned long long s = seconds > 0 ? (unsigned long long)(seconds + 0.5) : 0;

        if (s < 60)
                snprintf(buf, size, "%llus", s);
        else if (s < 3600)
                snprintf(buf, size, "%llum%02llus", s / 60, s % 60);
        else if (s < 86400)
                snprintf(buf, size, "%lluh%02llum", s / 3600, s / 60 % 60);
        else
                snprintf(buf, size, "%llud%02lluh", s / 86400, s / 3600 % 24);
        return buf;
}

/* Sort M's channels the way the view shows them. */
static void sort_channels(ipcb_metrics *m, bool sort_name) {
        qsort(m->channels, m->n_channels, sizeof(*m->channels), sort_name ? by_name : by_fill);
}

static void header(struct frame *fr, const ipcb_metrics *m, bool sort_name) {
        char up[32], clock[16];
        time_t now = time(NULL);
        struct tm tm;

        if (!localtime_r(&now, &tm) || strftime(clock, sizeof(clock), "%H:%M:%S", &tm) == 0)
                snprintf(clock, sizeof(clock), "-");
        frame_line(fr, "ipcbrokerd %s, up %s, %zu channels, %llu clients, %llu requests, by %s, %s", m->version,
                   duration(up, sizeof(up), m->start_time > 0 ? (double)(now - m->start_time) : 0), m->n_channels,
                   m->clients, m->requests, sort_name ? "name" : "fill", clock);
}

/* Draw one frame of M (sorted in place) into FR; ERROR, if not NULL, replaces the rows. */
static void draw(struct frame *fr, ipcb_metrics *m, bool sort_name, const char *error) {
        int wname = 4, wbar = fr->cols <= 0 || fr->cols >= 100 ? BAR_WIDE : fr->cols >= 80 ? BAR_NARROW : BAR_TINY;
        /* everything after the name: TYPE DEPTH FILL ("[bar] 100%") HIGH FULL HOLDERS STATE */
        int rest = 1 + 6 + 1 + 8 + 1 + (wbar + 7) + 1 + 8 + 1 + 6 + 1 + 7 + 1 + 7;
        char d[32], h[32], b[64], full[32], name[IPCB_NAME_MAX + 1];

        header(fr, m, sort_name);
        if (fr->screen)
                frame_line(fr, "q quit   f sort by fill   n sort by name");
        if (error) {
                frame_line(fr, "%s", "");
                frame_line(fr, "ipcbroker: %s", error);
                return;
        }
        sort_channels(m, sort_name);
        for (size_t i = 0; i < m->n_channels; i++) {
                int l = (int)strlen(m->channels[i].name);
                if (l > wname)
                        wname = l;
        }
        /* on a terminal, a long name must not push the numbers off the screen */
        if (fr->cols > 0 && wname > fr->cols - rest)
                wname = fr->cols - rest > NAME_MIN ? fr->cols - rest : NAME_MIN;
        frame_line(fr, "%-*s %-6s %8s %-*s %8s %6s %7s %s", wname, "NAME", "TYPE", "DEPTH", wbar + 7, "FILL", "HIGH",
                   "FULL", "HOLDERS", "STATE");
        for (size_t i = 0; i < m->n_channels; i++) {
                const ipcb_channel_metrics *c = &m->channels[i];
                bool last_row = fr->rows > 0 && fr->lines == fr->rows - 1 && i + 1 < m->n_channels;

                if (last_row) {
                        frame_line(fr, "... %zu more channels", m->n_channels - i);
                        break;
                }
                snprintf(name, sizeof(name), "%s", c->name);
                if ((int)strlen(name) > wname)
                        snprintf(name + wname - 1, sizeof(name) - (size_t)wname + 1, "~");
                frame_line(fr, "%-*s %-6s %8s %s %8s %6s %7llu %s", wname, name, cli_type(c->type),
                           depth(d, sizeof(d), c->type == IPCB_FIFO ? c->bytes : c->messages, c->type),
                           bar(b, sizeof(b), fill_of(c), wbar), depth(h, sizeof(h), c->high_water, c->type),
                           duration(full, sizeof(full), c->full_seconds), c->holders, cli_state(c->state));
        }
}

/* ---- snapshots: -n COUNT ---- */

/*
 * One snapshot of M (sorted in place) as one JSON document on one line: what
 * the header and the rows show, the numbers unformatted (null: unknown).
 */
static void print_json(FILE *f, ipcb_metrics *m, bool sort_name) {
        long long now = (long long)time(NULL);

        sort_channels(m, sort_name);
        fprintf(f, "{\"time\": %lld, \"version\": ", now);
        json_string(f, m->version);
        fprintf(f, ", \"uptime\": %lld, \"clients\": %llu, \"requests\": %llu, \"sort\": \"%s\", \"channels\": [",
                m->start_time > 0 && now > m->start_time ? now - m->start_time : 0, m->clients, m->requests,
                sort_name ? "name" : "fill");
        for (size_t i = 0; i < m->n_channels; i++) {
                const ipcb_channel_metrics *c = &m->channels[i];
                double fill = fill_of(c);

                fprintf(f, "%s{\"name\": ", i ? ", " : "");
                json_string(f, c->name);
                fprintf(f, ", \"type\": \"%s\", \"state\": \"%s\", \"messages\": ", cli_type(c->type),
                        cli_state(c->state));
                json_number_or_null(f, c->messages);
                fprintf(f, ", \"max_messages\": ");
                json_number_or_null(f, c->max_messages);
                fprintf(f, ", \"bytes\": ");
                json_number_or_null(f, c->bytes);
                fprintf(f, ", \"capacity\": ");
                json_number_or_null(f, c->capacity);
                if (fill < 0)
                        fprintf(f, ", \"fill\": null");
                else
                        fprintf(f, ", \"fill\": %.4f", fill);
                fprintf(f, ", \"high_water\": ");
                json_number_or_null(f, c->high_water);
                fprintf(f, ", \"full\": %s, \"full_seconds\": %.3f, \"holders\": %llu}", c->full ? "true" : "false",
                        c->full_seconds, c->holders);
        }
        fprintf(f, "]}\n");
}

/* Move the CLOCK_MONOTONIC time T on by MS milliseconds. */
static void advance(struct timespec *t, int ms) {
        t->tv_sec += ms / 1000;
        t->tv_nsec += (long)(ms % 1000) * 1000000L;
        if (t->tv_nsec >= 1000000000L) {
                t->tv_sec++;
                t->tv_nsec -= 1000000000L;
        }
}

/* Milliseconds from now until the CLOCK_MONOTONIC time T (0 when past). */
static int ms_until(const struct timespec *t) {
        struct timespec now;
        long long ms;

        clock_gettime(CLOCK_MONOTONIC, &now);
        ms = (long long)(t->tv_sec - now.tv_sec) * 1000 + (t->tv_nsec - now.tv_nsec) / 1000000;
        return ms <= 0 ? 0 : ms > 1000000000 ? 1000000000 : (int)ms;
}

static int snapshots(const struct cli_context *ctx) {
        struct frame fr = { .f = stdout };
        struct timespec deadline;

        clock_gettime(CLOCK_MONOTONIC, &deadline);
        for (uint64_t i = 0; ctx->count == 0 || i < ctx->count; i++) {
                ipcb_metrics *m = NULL;
                int r;

                if (i > 0) {
                        advance(&deadline, ctx->delay_ms);
                        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL) == EINTR)
                                ;
                        if (!ctx->json)
                                putchar('\n');
                }
                r = ipcb_metrics_get(&m);
                if (r < 0)
                        return cli_call_error(NULL, r);
                fr.lines = 0;
                if (ctx->json)
                        print_json(stdout, m, ctx->sort_name);
                else
                        draw(&fr, m, ctx->sort_name, NULL);
                ipcb_metrics_free(m);
                if (fflush(stdout) != 0)
                        return CLI_FAILURE;
        }
        return CLI_OK;
}

/* ---- the full-screen view ---- */

/* Signals reach the loop through a pipe: the handler only writes the number. */
static int signal_pipe[2] = { -1, -1 };

static void on_signal(int sig) {
        unsigned char c = (unsigned char)sig;
        int saved = errno;

        (void)!write(signal_pipe[1], &c, 1);
        errno = saved;
}

static const int quit_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

static void catch_signals(void (*handler)(int)) {
        struct sigaction sa = { .sa_handler = handler };

        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < sizeof(quit_signals) / sizeof(quit_signals[0]); i++)
                sigaction(quit_signals[i], &sa, NULL);
        sigaction(SIGWINCH, &sa, NULL);
        sigaction(SIGTSTP, &sa, NULL);
}

struct screen {
        bool keys; /* standard input is the terminal: raw mode for the keys */
        struct termios saved;
        struct frame fr;
        char *buf; /* the frame, written at once */
        size_t size;
        bool sort_name;
};

static void screen_enter(struct screen *s) {
        if (s->keys) {
                struct termios raw = s->saved;
                raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
                raw.c_cc[VMIN] = 1;
                raw.c_cc[VTIME] = 0;
                tcsetattr(STDIN_FILENO, TCSANOW, &raw);
        }
        /* the alternate screen, cursor hidden */
        fputs("\033[?1049h\033[?25l", stdout);
        fflush(stdout);
}

static void screen_leave(struct screen *s) {
        fputs("\033[?25h\033[?1049l", stdout);
        fflush(stdout);
        if (s->keys)
                tcsetattr(STDIN_FILENO, TCSANOW, &s->saved);
}

static void screen_draw(struct screen *s, ipcb_metrics *m, const char *error) {
        struct winsize ws;
        FILE *f;

        s->fr.rows = 24;
        s->fr.cols = 80;
        if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
                s->fr.rows = ws.ws_row;
                s->fr.cols = ws.ws_col;
        }
        f = open_memstream(&s->buf, &s->size);
        if (!f)
                return;
        s->fr.f = f;
        s->fr.lines = 0;
        fputs("\033[H", f);
        draw(&s->fr, m, s->sort_name, error);
        fputs("\033[J", f);
        if (fclose(f) == 0) {
                fwrite(s->buf, 1, s->size, stdout);
                fflush(stdout);
        }
        free(s->buf);
        s->buf = NULL;
}

/* What a key does: false to quit. */
static bool screen_key(struct screen *s, unsigned char c) {
        switch (c) {
        case 'q':
        case 'Q':
                return false;
        case 'f':
                s->sort_name = false;
                return true;
        case 'n':
                s->sort_name = true;
                return true;
        default:
                return true;
        }
}

/* Stopped by ^Z: give the terminal back, stop, and take it again when continued. */
static void screen_suspend(struct screen *s) {
        screen_leave(s);
        signal(SIGTSTP, SIG_DFL);
        raise(SIGTSTP);
        /* continued */
        catch_signals(on_signal);
        if (s->keys)
                tcgetattr(STDIN_FILENO, &s->saved);
        screen_enter(s);
}

/*
 * Wait for the time of the next refresh (NEXT), a key or a signal: 1
 * refresh, 0 redraw what was fetched, -1 quit, or the number of a signal
 * that ends it.
 */
static int screen_wait(struct screen *s, const struct timespec *next) {
        struct pollfd p[2] = { { .fd = signal_pipe[0], .events = POLLIN }, { .fd = STDIN_FILENO, .events = POLLIN } };
        unsigned char c;
        int r;

        r = poll(p, s->keys ? 2 : 1, ms_until(next));
        if (r < 0 && errno == EINTR)
                return 0;
        if (r <= 0)
                return 1;
        if (p[0].revents & POLLIN) {
                if (read(signal_pipe[0], &c, 1) != 1)
                        return 0;
                if (c == SIGWINCH)
                        return 0;
                if (c == SIGTSTP) {
                        screen_suspend(s);
                        return 0;
                }
                return c;
        }
        if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
                if (read(STDIN_FILENO, &c, 1) != 1) {
                        s->keys = false; /* the terminal is gone */
                        return -1;
                }
                return screen_key(s, c) ? 0 : -1;
        }
        return 0;
}

static int full_screen(const struct cli_context *ctx) {
        struct screen s = { .fr = { .screen = true }, .sort_name = ctx->sort_name };
        struct timespec next;
        ipcb_metrics *m = NULL;
        char error[IPCB_TEXT_MAX + 64] = "";
        int r, sig = 0;

        /* a daemon that cannot be reached is said before the screen is taken */
        r = ipcb_metrics_get(&m);
        if (r < 0)
                return cli_call_error(NULL, r);
        if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
                ipcb_metrics_free(m);
                return cli_error(NULL, -errno);
        }
        s.keys = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &s.saved) == 0;
        catch_signals(on_signal);
        screen_enter(&s);
        clock_gettime(CLOCK_MONOTONIC, &next);
        advance(&next, ctx->delay_ms);
        for (;;) {
                screen_draw(&s, m, error[0] ? error : NULL);
                r = screen_wait(&s, &next);
                if (r < 0)
                        break;
                if (r > 1) {
                        sig = r;
                        break;
                }
                if (r == 1) {
                        ipcb_metrics *fresh = NULL;
                        int e = ipcb_metrics_get(&fresh);

                        clock_gettime(CLOCK_MONOTONIC, &next);
                        advance(&next, ctx->delay_ms);
                        if (e < 0) {
                                /* keep showing the last numbers' header, and why there are no new ones */
                                snprintf(error, sizeof(error), "%s (retrying every %d ms)", ipcb_strerror(e),
                                         ctx->delay_ms);
                        } else {
                                ipcb_metrics_free(m);
                                m = fresh;
                                error[0] = '\0';
                        }
                }
        }
        screen_leave(&s);
        ipcb_metrics_free(m);
        catch_signals(SIG_DFL);
        close(signal_pipe[0]);
        close(signal_pipe[1]);
        if (sig) {
                /* end the way the signal would have, now that the terminal is back */
                raise(sig);
                return 128 + sig;
        }
        return CLI_OK;
}

static int run(const struct cli_context *ctx, int argc, char **argv) {
        (void)argc;
        (void)argv;
        if (ctx->json && !ctx->count_set)
                return cli_usage("top", "--json prints snapshots: use it with -n COUNT");
        if (ctx->count_set)
                return snapshots(ctx);
        if (!isatty(STDOUT_FILENO))
                return cli_usage("top", "standard output is not a terminal: use -n COUNT for plain snapshots");
        return full_screen(ctx);
}

const struct cli_verb cli_verb_top = {
        .name = "top",
        .synopsis = "top [-n COUNT [--json]] [-d SECONDS] [-s fill|name]",
        .help = "live view of the channels' depth, fill, high-water mark and holders",
        .options = options,
        .shortopts = "n:d:s:j",
        .max_args = 0,
        .run = run,
};
