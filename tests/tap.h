/*
 * tap.h — a tiny header-only TAP (Test Anything Protocol) producer for the C
 * unit tests, read by automake's tap-driver.sh.
 *
 *      plan(3);                        optional: "1..3" up front
 *      ok(x > 0, "x is positive");
 *      is_int(r, 0, "load succeeds");
 *      is_str(name, "foo", "name is %s", "foo");
 *      diag("got %d errors", n);       a "# ..." comment line
 *      return done_testing();          "1..N" if no plan; exit status
 *
 * Every check prints "ok N - desc" or "not ok N - desc" (with the location
 * and the values compared as comments) and evaluates to true when it passed.
 * done_testing() returns nonzero if any check failed or the number run does
 * not match the plan.
 */
#pragma once

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct {
        int planned; /* -1: no plan yet */
        int run;
        int failed;
} tap_state __attribute__((unused)) = { -1, 0, 0 };

__attribute__((format(printf, 1, 2))) static inline void diag(const char *fmt, ...) {
        va_list ap;

        fflush(stdout);
        fputs("# ", stdout);
        va_start(ap, fmt);
        vfprintf(stdout, fmt, ap);
        va_end(ap);
        fputc('\n', stdout);
        fflush(stdout);
}

static inline void plan(int n) {
        tap_state.planned = n;
        printf("1..%d\n", n);
        fflush(stdout);
}

static inline bool tap_vresult(bool pass, const char *file, int line, const char *fmt, va_list ap) {
        tap_state.run++;
        if (!pass)
                tap_state.failed++;
        printf("%sok %d - ", pass ? "" : "not ", tap_state.run);
        vprintf(fmt, ap);
        putchar('\n');
        if (!pass)
                printf("#   failed at %s:%d\n", file, line);
        fflush(stdout);
        return pass;
}

__attribute__((format(printf, 4, 5))) static inline bool tap_ok(bool pass, const char *file, int line, const char *fmt,
                                                                ...) {
        va_list ap;
        bool r;

        va_start(ap, fmt);
        r = tap_vresult(pass, file, line, fmt, ap);
        va_end(ap);
        return r;
}

__attribute__((format(printf, 5, 6))) static inline bool tap_is_int(intmax_t got, intmax_t expected, const char *file,
                                                                    int line, const char *fmt, ...) {
        va_list ap;
        bool r;

        va_start(ap, fmt);
        r = tap_vresult(got == expected, file, line, fmt, ap);
        va_end(ap);
        if (!r)
                diag("       got: %jd\n#  expected: %jd", got, expected);
        return r;
}

__attribute__((format(printf, 5, 6))) static inline bool tap_is_str(const char *got, const char *expected,
                                                                    const char *file, int line, const char *fmt, ...) {
        va_list ap;
        bool r;

        va_start(ap, fmt);
        r = tap_vresult(got == expected || (got && expected && strcmp(got, expected) == 0), file, line, fmt, ap);
        va_end(ap);
        if (!r)
                diag("       got: %s%s%s\n#  expected: %s%s%s", got ? "'" : "", got ? got : "NULL", got ? "'" : "",
                     expected ? "'" : "", expected ? expected : "NULL", expected ? "'" : "");
        return r;
}

/* The checks; each evaluates to true when it passed. Descriptions are printf formats. */
#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, expected, ...) tap_is_int((intmax_t)(got), (intmax_t)(expected), __FILE__, __LINE__, __VA_ARGS__)
#define is_str(got, expected, ...) tap_is_str((got), (expected), __FILE__, __LINE__, __VA_ARGS__)
#define pass(...) tap_ok(true, __FILE__, __LINE__, __VA_ARGS__)
#define fail(...) tap_ok(false, __FILE__, __LINE__, __VA_ARGS__)

/* Stop the whole test run: tap-driver.sh reports it as an error. */
#define BAIL_OUT(...)                                                                                                  \
        do {                                                                                                           \
                fflush(stdout);                                                                                        \
                printf("Bail out! ");                                                                                  \
                printf(__VA_ARGS__);                                                                                   \
                putchar('\n');                                                                                         \
                fflush(stdout);                                                                                        \
                exit(EXIT_FAILURE);                                                                                    \
        } while (0)

/* Print the plan if none was given; returns the process exit status. */
static inline int done_testing(void) {
        if (tap_state.planned < 0)
                printf("1..%d\n", tap_state.run);
        else if (tap_state.planned != tap_state.run)
                diag("planned %d tests but ran %d", tap_state.planned, tap_state.run);
        if (tap_state.failed > 0)
                diag("%d of %d tests failed", tap_state.failed, tap_state.run);
        fflush(stdout);
        return tap_state.failed > 0 || (tap_state.planned >= 0 && tap_state.planned != tap_state.run) ? EXIT_FAILURE
                                                                                                      : EXIT_SUCCESS;
}
