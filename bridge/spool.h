/*
 * spool.h — the out direction's spool: every message taken from the channel
 * is in this file before it is published, until JetStream acknowledges it.
 *
 * The file is a fixed array of slots, one per message in flight (at most
 * max_inflight), each big enough for the channel's largest message, and it
 * is mapped into memory. A message is received from the kernel straight into
 * its slot, so from the moment the receive returns its bytes are in the page
 * cache: a kill -9 loses nothing the receive returned (the one exception is
 * a kill inside the receive's own return path, which is detected and
 * reported at the next start). spool_sync() makes the slots durable before
 * they are published; an acknowledged message frees its slot. At start the
 * slots still full are published again, in the order they were taken; a
 * slot torn by an OS crash fails its checksum and is reported.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SPOOL_BOOT_ID_SIZE 16

struct spool;

/* One full slot. */
struct spool_record {
        uint64_t seq;        /* increases by one per message taken, across runs */
        const uint8_t *boot; /* the id of the run that took it (SPOOL_BOOT_ID_SIZE bytes) */
        unsigned prio;
        size_t len;
        const void *data;
};

/*
 * Open (or create) DIR/NAME.spool with SLOTS slots of PAYLOAD bytes each,
 * locked against a second bridge; an existing spool of another shape is
 * rewritten to fit, keeping its messages. 0, or a negative errno (logged).
 */
int spool_open(const char *dir, const char *name, size_t slots, size_t payload, struct spool **ret);
void spool_close(struct spool *sp);

size_t spool_slots(const struct spool *sp);
size_t spool_payload_size(const struct spool *sp);
/* This run's boot id: a new random one each start. */
const uint8_t *spool_boot_id(const struct spool *sp);
/* The slots full at open, in the order their messages were taken; *SLOTS stays valid until spool_close(). */
size_t spool_replay(const struct spool *sp, const uint32_t **slots);

/*
 * Taking a message into free slot SLOT: take_begin() returns the slot's
 * buffer (spool_payload_size() bytes) and where the receive writes the
 * priority; then commit with the received length, or abort (nothing came).
 */
void *spool_take_begin(struct spool *sp, uint32_t slot, unsigned **prio);
void spool_take_commit(struct spool *sp, uint32_t slot, size_t len);
void spool_take_abort(struct spool *sp, uint32_t slot);
/* Make every committed slot durable (fdatasync). */
int spool_sync(struct spool *sp);
/* The message in full slot SLOT. */
void spool_get(const struct spool *sp, uint32_t slot, struct spool_record *rec);
/* The message in SLOT was acknowledged: the slot is free again. */
void spool_release(struct spool *sp, uint32_t slot);
