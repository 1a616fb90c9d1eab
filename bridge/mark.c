/*
 * mark.c — the in direction's delivery record (see mark.h). The file is a
 * 64-byte header, "ipcbroker-bridge-mark 2 CREATED FLOOR" as text, then the
 * sequences delivered above the floor, 8 bytes each. The entries are mapped
 * shared and the file is made longer ahead of them (blocks reserved),
 * MARK_GROW entries at a time, so recording a delivery is a store into the
 * page cache (which a kill of the bridge does not lose) and no system call;
 * the room not yet used is zeros, and 0 is no stream sequence. Entries at or
 * below the floor are dead; once they are most of the file it is rewritten
 * (a new file, then rename) without them.
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "mark.h"
#include "statefile.h"
#include "util.h"

#define MARK_HEADER 64
#define MARK_COMPACT_MIN 4096 /* dead entries before the file is worth rewriting */
#define MARK_GROW 4096        /* entries the file grows by */

struct mark {
        int fd;
        char *path;
        int64_t created;
        uint64_t floor;
        uint64_t *seqs; /* above the floor, sorted */
        size_t n, cap;
        size_t entries; /* in the file, dead ones included */
        uint8_t *map;   /* the file, MARK_HEADER + room entries */
        size_t room;    /* entries the file has room for */
};

static void mark_unmap(struct mark *m) {
        if (m->map)
                munmap(m->map, MARK_HEADER + m->room * sizeof(uint64_t));
        m->map = NULL;
        m->room = 0;
}

/*
 * Room for at least ENTRIES + 1 entries in the file and the map. The blocks are reserved first: a store into
 * a hole of a full disk would be a SIGBUS, not an error. On failure the mapping there was stays.
 */
static int mark_map(struct mark *m, size_t entries) {
        size_t room = (entries / MARK_GROW + 1) * MARK_GROW;
        size_t bytes = MARK_HEADER + room * sizeof(uint64_t);
        void *p;
        int r;

        if (m->map && room <= m->room)
                return 0;
        r = posix_fallocate(m->fd, 0, (off_t)bytes);
        if (r != 0)
                return -r;
        p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
        if (p == MAP_FAILED)
                return -errno;
        mark_unmap(m);
        m->map = p;
        m->room = room;
        return 0;
}

static int mark_write_header(int fd, int64_t created, uint64_t floor) {
        char h[MARK_HEADER + 1];
        int n = snprintf(h, sizeof(h), "ipcbroker-bridge-mark 2 %" PRId64 " %" PRIu64, created, floor);

        memset(h + n, ' ', MARK_HEADER - 1 - (size_t)n);
        h[MARK_HEADER - 1] = '\n';
        return pwrite(fd, h, MARK_HEADER, 0) == MARK_HEADER ? 0 : errno ? -errno : -EIO;
}

/* Where SEQ is, or would go, in the sorted set. */
static size_t mark_find(const struct mark *m, uint64_t seq) {
        size_t lo = 0, hi = m->n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (m->seqs[mid] < seq)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

static int mark_insert(struct mark *m, uint64_t seq) {
        size_t at;

        if (seq <= m->floor)
                return 0;
        at = m->n && m->seqs[m->n - 1] < seq ? m->n : mark_find(m, seq);
        if (at < m->n && m->seqs[at] == seq)
                return 0;
        if (m->n == m->cap) {
                size_t cap = m->cap ? m->cap * 2 : 256;
                uint64_t *grown = realloc(m->seqs, cap * sizeof(*grown));
                if (!grown)
                        return -ENOMEM;
                m->seqs = grown;
                m->cap = cap;
        }
        memmove(m->seqs + at + 1, m->seqs + at, (m->n - at) * sizeof(*m->seqs));
        m->seqs[at] = seq;
        m->n++;
        return 0;
}

static void mark_load(struct mark *m) {
        char h[MARK_HEADER + 1] = "";
        struct stat st;
        int version = 0;
        uint64_t seq;

        if (fstat(m->fd, &st) < 0 || st.st_size == 0 || pread(m->fd, h, MARK_HEADER, 0) != MARK_HEADER)
                goto fresh;
        if (sscanf(h, "ipcbroker-bridge-mark %d %" SCNd64 " %" SCNu64, &version, &m->created, &m->floor) != 3 ||
            version != 2) {
                log_warning("%s: unreadable; starting with no record of delivered messages (some may come again)",
                            m->path);
                goto fresh;
        }
        /* the entries end at the first zero (room made ahead); a torn last one was never acknowledged: it goes */
        for (m->entries = 0; MARK_HEADER + (m->entries + 1) * sizeof(seq) <= (size_t)st.st_size; m->entries++) {
                ssize_t n = pread(m->fd, &seq, sizeof(seq), MARK_HEADER + (off_t)(m->entries * sizeof(seq)));
                if (n != sizeof(seq)) {
                        /* the record ends here: this run appends after what could be read */
                        log_warning("%s: cannot read entry %zu: %s; messages delivered before may come again", m->path,
                                    m->entries, n < 0 ? strerror(errno) : "short read");
                        break;
                }
                if (seq == 0)
                        break;
                mark_insert(m, seq);
        }
        if (ftruncate(m->fd, MARK_HEADER + (off_t)(m->entries * sizeof(seq))) < 0)
                log_warning("%s: cannot truncate: %s", m->path, strerror(errno));
        return;
fresh:
        m->created = 0;
        m->floor = 0;
        m->entries = 0;
        if (ftruncate(m->fd, 0) < 0 || mark_write_header(m->fd, 0, 0) < 0)
                log_warning("%s: cannot write: %s", m->path, strerror(errno));
}

int mark_open(const char *dir, const char *name, struct mark **ret) {
        struct mark *m = calloc(1, sizeof(*m));
        int r;

        if (!m)
                return -ENOMEM;
        r = statefile_open(dir, name, "mark", &m->path, &m->fd);
        if (r < 0) {
                free(m);
                return r;
        }
        mark_load(m);
        r = mark_map(m, m->entries);
        if (r < 0) {
                log_error("%s: cannot map: %s", m->path, strerror(-r));
                mark_close(m);
                return r;
        }
        *ret = m;
        return 0;
}

void mark_close(struct mark *m) {
        if (!m)
                return;
        mark_unmap(m);
        if (m->fd >= 0)
                close(m->fd);
        free(m->seqs);
        free(m->path);
        free(m);
}

/* Replace the file by one holding only the header and the live entries. */
static int mark_rewrite(struct mark *m) {
        size_t bytes = m->n * sizeof(*m->seqs);
        int fd = statefile_begin(m->path), r;

        if (fd < 0)
                return fd;
        r = mark_write_header(fd, m->created, m->floor);
        if (r == 0 && bytes && pwrite(fd, m->seqs, bytes, MARK_HEADER) != (ssize_t)bytes)
                r = errno ? -errno : -EIO;
        if (r < 0) {
                close(fd);
                return r;
        }
        r = statefile_commit(m->path, fd);
        if (r < 0)
                return r;
        mark_unmap(m);
        close(m->fd);
        m->fd = fd;
        m->entries = m->n;
        return mark_map(m, m->entries);
}

bool mark_bind_stream(struct mark *m, int64_t created) {
        bool reset = m->created != 0 || m->floor != 0 || m->n != 0;

        if (m->created == created)
                return false;
        m->created = created;
        m->floor = 0;
        m->n = 0;
        if (mark_rewrite(m) < 0)
                log_warning("%s: cannot write: %s", m->path, strerror(errno));
        return reset;
}

bool mark_delivered(const struct mark *m, uint64_t seq) {
        size_t at;

        if (seq <= m->floor)
                return true;
        at = mark_find(m, seq);
        return at < m->n && m->seqs[at] == seq;
}

int mark_add(struct mark *m, uint64_t seq) {
        int r;

        if (seq == 0)
                return -EINVAL; /* no stream sequence, and the end of the entries in the file */
        r = mark_insert(m, seq);
        if (r < 0)
                return r;
        /* out of room, or a grow that failed before (a full disk): try again */
        if ((!m->map || m->entries >= m->room) && (r = mark_map(m, m->entries)) < 0)
                return r;
        memcpy(m->map + MARK_HEADER + m->entries * sizeof(seq), &seq, sizeof(seq));
        m->entries++;
        return 0;
}

int mark_sync(struct mark *m) {
        return fdatasync(m->fd) < 0 ? -errno : 0;
}

int mark_floor(struct mark *m, uint64_t floor) {
        size_t below;

        if (floor <= m->floor)
                return 0;
        below = mark_find(m, floor + 1);
        memmove(m->seqs, m->seqs + below, (m->n - below) * sizeof(*m->seqs));
        m->n -= below;
        m->floor = floor;
        if (m->entries - m->n >= MARK_COMPACT_MIN && m->entries > 2 * m->n)
                return mark_rewrite(m);
        return mark_write_header(m->fd, m->created, m->floor);
}

size_t mark_pending(const struct mark *m) {
        return m->n;
}
