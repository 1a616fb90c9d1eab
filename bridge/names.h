/*
 * names.h — the rules for the names a bridge uses: channel and bridge names
 * (as ipcbrokerd's), its origin, NATS subjects, JetStream stream and
 * consumer names; and whether a stream's subject takes a bridge's.
 */
#pragma once

#include <stdbool.h>

/* 1 to BRIDGE_NAME_MAX characters of A-Z a-z 0-9 . _ -, not starting with '.'. */
bool names_channel_valid(const char *s);
/* 1 to ORIGIN_MAX characters of A-Z a-z 0-9 . _ - (no ':', which separates a message id's parts). */
bool names_origin_valid(const char *s);
/*
 * A NATS subject: tokens separated by '.', none empty, no white space or
 * control characters, at most 255 bytes; with WILDCARDS, '*' as a whole
 * token and '>' as the whole last token.
 */
bool names_subject_valid(const char *s, bool wildcards);
/* A stream or consumer name: 1 to 64 characters of A-Z a-z 0-9 _ -. */
bool names_jetstream_valid(const char *s);
/* Of a run's boot id (drawn at random at each start), the bytes a message id shows, in hexadecimal. */
#define MSGID_BOOT_BYTES 8
/*
 * Whether ID is the Nats-Msg-Id of a message a bridge of ORIGIN published:
 * ORIGIN:CHANNEL:BOOTID:SEQUENCE, BOOTID 2 * MSGID_BOOT_BYTES hexadecimal
 * digits, SEQUENCE decimal (an origin has no ':', so the first field is the
 * whole origin).
 */
bool names_msgid_from(const char *id, const char *origin);
/* Whether a stream listening on PATTERN stores every message of SUBJECT (which may hold wildcards). */
bool names_subject_covers(const char *pattern, const char *subject);
