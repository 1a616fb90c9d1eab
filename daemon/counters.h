/*
 * counters.h — what the daemon counts as a whole, for status (and metrics).
 * Each count is kept where its event happens; nothing is computed later.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct counters {
        uint64_t connections; /* accepted and admitted */
        uint64_t requests;
        uint64_t opens;
        uint64_t denials;
        uint64_t reloads;
        uint64_t reload_failures;
        size_t clients; /* connected now */
};
