/*
 * report.h — what ipcbroker-bridge says about itself: the STATUS= line
 * (counts summed over the bridges), one line of counts per bridge (logged
 * at stop and on SIGUSR1), and the summary that -t prints.
 */
#pragma once

#include <stddef.h>
#include <stdio.h>

#include "bridge.h"
#include "config.h"
#include "link.h"

void report_status(struct bridge *const *bridges, size_t n, const struct link *l, char *buf, size_t size);
void report_log_counts(const struct bridge *b);
void report_summary(const struct config *c, FILE *f);
