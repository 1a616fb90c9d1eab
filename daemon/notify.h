/*
 * notify.h — the systemd notification protocol (sd_notify), watchdog included.
 * Without NOTIFY_SOCKET every call is a no-op.
 */
#pragma once

#include <stdint.h>

void notify_ready(void);
void notify_reloading(void);
void notify_stopping(void);
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void notify_watchdog(void);
/* The watchdog interval in microseconds, or 0 when systemd set none for us. */
uint64_t notify_watchdog_usec(void);
