/*
 * util.c — helpers shared by the daemon, the library and the CLI.
 */
#include "build-config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

#include "util.h"

int parse_u64(const char *s, int base, uint64_t min, uint64_t max, uint64_t *ret) {
        char *end;
        unsigned long long v;

        if (!s || !*s || !isdigit((unsigned char)s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, base);
        if (*end != '\0')
                return -EINVAL;
        if (errno == ERANGE || v < min || v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}
