/*
 * run-regressions.c — run a fuzz target once on every file of its seed corpus
 * and of its regression directory, without libFuzzer, as a TAP test.
 *
 * Linked with one fuzz-*.c target (which defines LLVMFuzzerTestOneInput) and
 * built with the project's normal compiler and flags, so `make check` re-runs
 * every input that ever crashed, and the ASan+UBSan build runs them under the
 * sanitizers. Each input runs in a child process, from a heap buffer of
 * exactly its size: a crash, a trap (a broken invariant), a sanitizer report
 * or a leak fails that input's test line and the run goes on.
 *
 *      fuzz/fuzz-protocol-regressions [DIR|FILE]...
 *
 * Without arguments the directories are $top_srcdir/fuzz/corpus/TARGET and
 * $top_srcdir/fuzz/regressions/TARGET (top_srcdir from the environment, as
 * `make check` sets it, else "."), TARGET being FUZZ_TARGET_NAME.
 */
#include "build-config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../tests/tap.h"

#ifndef FUZZ_TARGET_NAME
#error "FUZZ_TARGET_NAME must name the target (protocol, config)"
#endif

/* Seconds one input may take before it counts as a hang. */
#define INPUT_TIMEOUT 20

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static uint8_t *read_file(const char *path, size_t *size) {
        FILE *f = fopen(path, "re");
        uint8_t *buf = NULL;
        size_t cap = 0, n = 0;

        if (!f)
                return NULL;
        for (;;) {
                if (n == cap) {
                        uint8_t *nb;
                        cap = cap ? cap * 2 : 4096;
                        nb = realloc(buf, cap);
                        if (!nb) {
                                free(buf);
                                fclose(f);
                                return NULL;
                        }
                        buf = nb;
                }
                size_t r = fread(buf + n, 1, cap - n, f);
                n += r;
                if (r == 0)
                        break;
        }
        if (ferror(f)) {
                free(buf);
                fclose(f);
                return NULL;
        }
        fclose(f);
        *size = n;
        return buf;
}

/* Run the target on PATH in a child. Returns true when it returned normally. */
static bool run_one(const char *path, const char *label) {
        size_t size = 0;
        uint8_t *data;
        pid_t pid;
        int status;

        data = read_file(path, &size);
        if (!data)
                return fail("%s: cannot read: %s", label, strerror(errno));

        fflush(stdout);
        fflush(stderr);
        pid = fork();
        if (pid < 0) {
                free(data);
                return fail("%s: fork: %s", label, strerror(errno));
        }
        if (pid == 0) {
                /* exactly its size, so ASan sees a read one byte past the end */
                uint8_t *copy = malloc(size ? size : 1);
                if (!copy)
                        _exit(99);
                memcpy(copy, data, size);
                free(data);
                alarm(INPUT_TIMEOUT);
                LLVMFuzzerTestOneInput(copy, size);
                free(copy);
                exit(0); /* not _exit: LeakSanitizer checks at exit */
        }
        free(data);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return fail("%s: waitpid: %s", label, strerror(errno));
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return pass("%s (%zu bytes)", label, size);
        if (WIFSIGNALED(status))
                return fail("%s: killed by signal %d (%s)%s", label, WTERMSIG(status), strsignal(WTERMSIG(status)),
                            WTERMSIG(status) == SIGILL || WTERMSIG(status) == SIGTRAP ? ": an invariant broke" : "");
        return fail("%s: exit status %d (a sanitizer report?)", label, WEXITSTATUS(status));
}

/* LABEL names DIR in the test lines (a path relative to the source tree). */
static void run_dir(const char *dir, const char *label) {
        DIR *d = opendir(dir);
        struct dirent *de;
        char **names = NULL;
        size_t n = 0;

        if (!d) {
                fail("%s: cannot open: %s", label, strerror(errno));
                return;
        }
        while ((de = readdir(d))) {
                char **nn;
                if (de->d_name[0] == '.')
                        continue; /* ., .., .gitkeep */
                nn = realloc(names, (n + 1) * sizeof(*nn));
                if (!nn)
                        BAIL_OUT("out of memory");
                names = nn;
                if (asprintf(&names[n], "%s/%s", dir, de->d_name) < 0)
                        BAIL_OUT("out of memory");
                n++;
        }
        closedir(d);
        if (n > 0) /* names is NULL then, and qsort's base must not be */
                qsort(names, n, sizeof(*names), cmp_str);
        if (n == 0)
                diag("%s: no inputs", label);
        for (size_t i = 0; i < n; i++) {
                struct stat st;
                if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
                        char *l = NULL;
                        if (asprintf(&l, "%s/%s", label, names[i] + strlen(dir) + 1) < 0)
                                BAIL_OUT("out of memory");
                        run_one(names[i], l);
                        free(l);
                }
                free(names[i]);
        }
        free(names);
}

static void run_path(const char *path) {
        struct stat st;

        if (stat(path, &st) < 0) {
                fail("%s: %s", path, strerror(errno));
                return;
        }
        if (S_ISDIR(st.st_mode))
                run_dir(path, path);
        else
                run_one(path, path);
}

int main(int argc, char **argv) {
        if (argc > 1) {
                for (int i = 1; i < argc; i++)
                        run_path(argv[i]);
        } else {
                const char *top = getenv("top_srcdir");
                char dir[PATH_MAX];

                if (!top || !*top)
                        top = ".";
                diag("fuzz target %s: seed corpus and regressions under %s/fuzz", FUZZ_TARGET_NAME, top);
                snprintf(dir, sizeof(dir), "%s/fuzz/corpus/%s", top, FUZZ_TARGET_NAME);
                run_dir(dir, "corpus/" FUZZ_TARGET_NAME);
                snprintf(dir, sizeof(dir), "%s/fuzz/regressions/%s", top, FUZZ_TARGET_NAME);
                run_dir(dir, "regressions/" FUZZ_TARGET_NAME);
        }
        return done_testing();
}
