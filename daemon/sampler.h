/*
 * sampler.h — every channel's depth, sampled every sample_interval on the
 * daemon's own descriptor (mq_getattr; FIONREAD and a poll for FIFOs): the
 * current depth, the high-water mark, the time spent full and how often it
 * became full, and the alert_full_after warnings (with the receiving
 * holders) and the notice when a channel drains again.
 */
#pragma once

#include <stdint.h>

#include "registry.h"

/* Sample every channel of R at NOW (the loop's clock, seconds). */
void sampler_run(struct registry *r, double now);
/* Time CH spent full since start, up to NOW. */
uint64_t sampler_full_ms(const struct channel *ch, double now);
