/*
 * spool.c — the out direction's spool file: a header page, then one slot
 * per message in flight, mapped shared so that a receive writes its message
 * straight into the page cache (see spool.h).
 *
 * A slot is FREE, TAKING (a receive into it is under way) or FULL (a
 * message, with its checksum). The state is stored last, with release
 * order, so a FULL slot always has its length, sequence and checksum. At
 * open: FULL slots whose checksum holds are replayed; a FULL slot whose
 * checksum fails was torn by an OS crash before spool_sync() (it may have
 * been published: the sync comes at most sync_interval later) and is
 * reported; a TAKING slot whose priority the kernel
 * wrote held a message received at the instant of a kill, whose length is
 * unknown: reported as lost.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "crc32.h"
#include "spool.h"
#include "statefile.h"
#include "util.h"

#define SPOOL_MAGIC "IPCBSPL1"
#define SPOOL_VERSION 1
#define HEADER_SIZE 4096
#define SLOT_MAGIC 0x544f4c53u /* "SLOT" */
#define PRIO_UNSET 0xffffffffu /* a receive that returns always writes a smaller one */
#define SPOOL_MAX_BYTES (1ULL << 30)

enum { SLOT_FREE = 0, SLOT_TAKING = 1, SLOT_FULL = 2 };

struct file_header {
        char magic[8];
        uint32_t version;
        uint32_t header_size;
        uint64_t slot_size;
        uint64_t slots;
        uint32_t crc; /* of the fields above */
        uint32_t reserved;
        uint64_t next_seq; /* the next message's sequence (not in the checksum: it moves) */
};

struct slot_header {
        uint32_t magic;
        uint32_t state;
        /* the checksum covers prio to boot, then the payload */
        uint32_t prio;
        uint32_t len;
        uint64_t seq;
        uint8_t boot[SPOOL_BOOT_ID_SIZE];
        uint32_t crc;
        uint32_t reserved[5];
};
_Static_assert(sizeof(struct slot_header) == 64, "a slot header is 64 bytes");

struct spool {
        int fd;
        char *path;
        uint8_t *map;
        size_t map_size;
        size_t slots;
        size_t slot_size;
        uint64_t next_seq;
        uint8_t boot[SPOOL_BOOT_ID_SIZE];
        uint32_t *replay;
        size_t n_replay;
};

/* ---- checksums ------------------------------------------------------------------ */

static uint32_t header_crc(const struct file_header *h) {
        return crc32_add(0, h, offsetof(struct file_header, crc));
}

static uint32_t slot_crc(const struct slot_header *h) {
        uint32_t c = crc32_add(0, &h->prio, offsetof(struct slot_header, crc) - offsetof(struct slot_header, prio));
        return crc32_add(c, h + 1, h->len);
}

/* ---- the file's shape -------------------------------------------------------------- */

static size_t slot_size_for(size_t payload) {
        return (sizeof(struct slot_header) + payload + 63) & ~(size_t)63;
}

static struct slot_header *slot_at(const struct spool *sp, uint32_t i) {
        return (struct slot_header *)(sp->map + HEADER_SIZE + (size_t)i * sp->slot_size);
}

static uint32_t slot_state(const struct slot_header *h) {
        if (h->magic != SLOT_MAGIC)
                return SLOT_FREE; /* never used: the file was extended with zeros */
        return __atomic_load_n(&h->state, __ATOMIC_ACQUIRE);
}

static void slot_set_state(struct slot_header *h, uint32_t state) {
        __atomic_store_n(&h->state, state, __ATOMIC_RELEASE);
}

/* Give FD a fresh header and SLOTS empty slots of SLOT_SIZE bytes, durably. */
static int file_init(int fd, size_t slots, size_t slot_size, uint64_t next_seq) {
        struct file_header h = { .magic = SPOOL_MAGIC,
                                 .version = SPOOL_VERSION,
                                 .header_size = HEADER_SIZE,
                                 .slot_size = slot_size,
                                 .slots = slots,
                                 .next_seq = next_seq };

        h.crc = header_crc(&h);
        if (ftruncate(fd, 0) < 0 || ftruncate(fd, (off_t)(HEADER_SIZE + slots * slot_size)) < 0)
                return -errno;
        if (pwrite(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
                return errno ? -errno : -EIO;
        return fdatasync(fd) < 0 ? -errno : 0;
}

/* Read FD's header: 0 with *H, -EBADMSG when it is not a spool header this version wrote. */
static int file_header_read(int fd, struct file_header *h) {
        struct stat st;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (pread(fd, h, sizeof(*h), 0) != (ssize_t)sizeof(*h))
                return -EBADMSG;
        if (memcmp(h->magic, SPOOL_MAGIC, 8) != 0 || h->version != SPOOL_VERSION || h->header_size != HEADER_SIZE ||
            h->crc != header_crc(h) || h->slot_size < sizeof(struct slot_header) || h->slot_size % 64 ||
            h->slots == 0 || h->slots > SPOOL_MAX_BYTES / h->slot_size ||
            (uint64_t)st.st_size < HEADER_SIZE + h->slots * h->slot_size)
                return -EBADMSG;
        return 0;
}

static int spool_map(struct spool *sp, size_t slots, size_t slot_size) {
        sp->slots = slots;
        sp->slot_size = slot_size;
        sp->map_size = HEADER_SIZE + slots * slot_size;
        sp->map = mmap(NULL, sp->map_size, PROT_READ | PROT_WRITE, MAP_SHARED, sp->fd, 0);
        if (sp->map == MAP_FAILED) {
                sp->map = NULL;
                return -errno;
        }
        return 0;
}

static void spool_unmap(struct spool *sp) {
        if (sp->map)
                munmap(sp->map, sp->map_size);
        sp->map = NULL;
}

/* ---- what the file holds at start ------------------------------------------------------ */

static int cmp_seq(const void *a, const void *b, void *arg) {
        const struct spool *sp = arg;
        uint64_t x = slot_at(sp, *(const uint32_t *)a)->seq, y = slot_at(sp, *(const uint32_t *)b)->seq;
        return x < y ? -1 : x > y;
}

/* Find the messages to replay and free what cannot be replayed, reporting it. */
static int spool_scan(struct spool *sp) {
        size_t torn = 0, lost = 0;

        free(sp->replay);
        sp->n_replay = 0;
        sp->replay = calloc(sp->slots, sizeof(*sp->replay));
        if (!sp->replay)
                return -ENOMEM;
        for (uint32_t i = 0; i < sp->slots; i++) {
                struct slot_header *h = slot_at(sp, i);
                uint32_t state = slot_state(h);
                if (state == SLOT_FULL && h->len <= sp->slot_size - sizeof(*h) && h->crc == slot_crc(h)) {
                        sp->replay[sp->n_replay++] = i;
                        if (h->seq >= sp->next_seq)
                                sp->next_seq = h->seq + 1;
                        continue;
                }
                if (state == SLOT_FULL)
                        torn++;
                else if (state == SLOT_TAKING && h->prio != PRIO_UNSET)
                        lost++;
                if (state != SLOT_FREE)
                        slot_set_state(h, SLOT_FREE);
        }
        qsort_r(sp->replay, sp->n_replay, sizeof(*sp->replay), cmp_seq, sp);
        if (torn)
                log_warning("spool %s: %zu message(s) torn by a crash before they reached the disk were dropped "
                            "(they may have been published before the crash)",
                            sp->path, torn);
        if (lost)
                log_error("spool %s: %zu message(s) were being received from the channel when the bridge was killed; "
                          "their length is unknown and they are lost",
                          sp->path, lost);
        return 0;
}

/* ---- a spool of another shape ------------------------------------------------------------ */

/* Copy the messages to replay into a new file of SLOTS x SLOT_SIZE, which replaces the old one. */
static int spool_reshape(struct spool *sp, size_t slots, size_t slot_size) {
        struct spool n = { .fd = statefile_begin(sp->path), .next_seq = sp->next_seq };
        int r = n.fd < 0 ? n.fd : 0;

        if (r == 0)
                r = file_init(n.fd, slots, slot_size, sp->next_seq);
        if (r == 0)
                r = spool_map(&n, slots, slot_size);
        for (size_t i = 0; r == 0 && i < sp->n_replay; i++) {
                struct slot_header *from = slot_at(sp, sp->replay[i]), *to = slot_at(&n, (uint32_t)i);
                memcpy(to, from, sizeof(*from) + from->len);
                sp->replay[i] = (uint32_t)i;
        }
        if (r == 0)
                r = statefile_commit(sp->path, n.fd);
        else if (n.fd >= 0)
                close(n.fd);
        if (r < 0) {
                spool_unmap(&n);
                return r;
        }
        spool_unmap(sp);
        close(sp->fd);
        sp->fd = n.fd;
        sp->map = n.map;
        sp->map_size = n.map_size;
        sp->slots = slots;
        sp->slot_size = slot_size;
        return 0;
}

/* The shape the spool must have: the one asked for, but room for every message it holds. */
static int spool_fit(struct spool *sp, size_t slots, size_t slot_size) {
        if (sp->n_replay > slots)
                slots = sp->n_replay;
        for (size_t i = 0; i < sp->n_replay; i++)
                if (slot_size_for(slot_at(sp, sp->replay[i])->len) > slot_size)
                        slot_size = slot_size_for(slot_at(sp, sp->replay[i])->len);
        if (slots == sp->slots && slot_size == sp->slot_size)
                return 0;
        if (sp->n_replay == 0) {
                int r;
                spool_unmap(sp);
                r = file_init(sp->fd, slots, slot_size, sp->next_seq);
                return r < 0 ? r : spool_map(sp, slots, slot_size);
        }
        log_info("spool %s: reshaping from %zu slots of %zu bytes to %zu of %zu, keeping %zu message(s)", sp->path,
                 sp->slots, sp->slot_size, slots, slot_size, sp->n_replay);
        return spool_reshape(sp, slots, slot_size);
}

/* ---- opening -------------------------------------------------------------------------------- */

/* A header that is not ours: keep the file for a person to look at, and start afresh. */
static int spool_set_aside(struct spool *sp) {
        char aside[PATH_MAX];

        snprintf(aside, sizeof(aside), "%s.unreadable.%lld", sp->path, (long long)time(NULL));
        if (rename(sp->path, aside) < 0)
                return -errno;
        log_error("spool %s: not a spool this version can read; moved aside to %s (its messages are not replayed)",
                  sp->path, aside);
        close(sp->fd);
        sp->fd = open(sp->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (sp->fd < 0 || flock(sp->fd, LOCK_EX | LOCK_NB) < 0)
                return -errno;
        return 0;
}

static int spool_open_file(struct spool *sp, size_t slots, size_t slot_size) {
        struct file_header h;
        struct stat st;
        int r;

        if (fstat(sp->fd, &st) < 0)
                return -errno;
        r = st.st_size == 0 ? -ENODATA : file_header_read(sp->fd, &h);
        if (r == -EBADMSG)
                r = spool_set_aside(sp) ?: -ENODATA;
        if (r == -ENODATA) {
                r = file_init(sp->fd, slots, slot_size, 1);
                h = (struct file_header){ .slots = slots, .slot_size = slot_size, .next_seq = 1 };
        }
        if (r < 0)
                return r;
        sp->next_seq = h.next_seq ? h.next_seq : 1;
        return spool_map(sp, h.slots, h.slot_size);
}

int spool_open(const char *dir, const char *name, size_t slots, size_t payload, struct spool **ret) {
        struct spool *sp = calloc(1, sizeof(*sp));
        size_t slot_size = slot_size_for(payload);
        int r;

        if (!sp)
                return -ENOMEM;
        sp->fd = -1;
        if (slots == 0 || slots > SPOOL_MAX_BYTES / slot_size) {
                log_error("spool for %s: %zu slots of %zu bytes exceed %llu MiB: lower max_inflight", name, slots,
                          slot_size, SPOOL_MAX_BYTES >> 20);
                free(sp);
                return -EFBIG;
        }
        r = statefile_open(dir, name, "spool", &sp->path, &sp->fd);
        if (r < 0) {
                free(sp);
                return r;
        }
        r = spool_open_file(sp, slots, slot_size);
        if (r == 0)
                r = spool_scan(sp);
        if (r == 0)
                r = spool_fit(sp, slots, slot_size);
        if (r == 0 && getrandom(sp->boot, sizeof(sp->boot), 0) != (ssize_t)sizeof(sp->boot))
                r = -errno;
        if (r == 0)
                r = spool_sync(sp);
        if (r < 0) {
                log_error("spool %s: %s", sp->path, strerror(-r));
                spool_close(sp);
                return r;
        }
        *ret = sp;
        return 0;
}

void spool_close(struct spool *sp) {
        if (!sp)
                return;
        spool_unmap(sp);
        if (sp->fd >= 0)
                close(sp->fd);
        free(sp->replay);
        free(sp->path);
        free(sp);
}

/* ---- use ---------------------------------------------------------------------------------------- */

size_t spool_slots(const struct spool *sp) {
        return sp->slots;
}

size_t spool_payload_size(const struct spool *sp) {
        return sp->slot_size - sizeof(struct slot_header);
}

const uint8_t *spool_boot_id(const struct spool *sp) {
        return sp->boot;
}

size_t spool_replay(const struct spool *sp, const uint32_t **slots) {
        *slots = sp->replay;
        return sp->n_replay;
}

void *spool_take_begin(struct spool *sp, uint32_t slot, unsigned **prio) {
        struct slot_header *h = slot_at(sp, slot);

        h->magic = SLOT_MAGIC;
        h->seq = sp->next_seq;
        memcpy(h->boot, sp->boot, sizeof(h->boot));
        h->prio = PRIO_UNSET;
        h->len = 0;
        slot_set_state(h, SLOT_TAKING);
        *prio = (unsigned *)&h->prio;
        return h + 1;
}

void spool_take_commit(struct spool *sp, uint32_t slot, size_t len) {
        struct slot_header *h = slot_at(sp, slot);

        h->len = (uint32_t)len;
        if (h->prio == PRIO_UNSET)
                h->prio = 0;
        h->crc = slot_crc(h);
        slot_set_state(h, SLOT_FULL);
        sp->next_seq++;
        __atomic_store_n(&((struct file_header *)sp->map)->next_seq, sp->next_seq, __ATOMIC_RELEASE);
}

void spool_take_abort(struct spool *sp, uint32_t slot) {
        slot_set_state(slot_at(sp, slot), SLOT_FREE);
}

int spool_sync(struct spool *sp) {
        return fdatasync(sp->fd) < 0 ? -errno : 0;
}

void spool_get(const struct spool *sp, uint32_t slot, struct spool_record *rec) {
        const struct slot_header *h = slot_at(sp, slot);

        *rec = (struct spool_record){ .seq = h->seq, .boot = h->boot, .prio = h->prio, .len = h->len, .data = h + 1 };
}

void spool_release(struct spool *sp, uint32_t slot) {
        slot_set_state(slot_at(sp, slot), SLOT_FREE);
}
