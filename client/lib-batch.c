/*
 * lib-batch.c — libipcbroker's batches: ipcb_sendv/ipcb_recvv (many messages
 * per call, on every channel type), ipcb_pending, and batch framing on FIFOs:
 * each packet holds records of a u16 length (host order) and the bytes, so
 * one atomic write carries many messages; a receiver holds the packet in its
 * handle and hands it out record by record.
 */
#include "build-config.h"

#include <errno.h>
#include <limits.h>
#include <mqueue.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib-internal.h"
#include "util.h"

_Static_assert(WIRE_RECORD_HEADER == sizeof(uint16_t), "a record's length is a u16");

/* The next record of the held batch packet, or -EAGAIN when none is left. */
static ssize_t batch_next(ipcb_channel *ch, void *buf, size_t size) {
        uint16_t len;

        if (ch->roff >= ch->rlen)
                return -EAGAIN;
        if (ch->rlen - ch->roff < WIRE_RECORD_HEADER) {
                ch->roff = ch->rlen = 0;
                return -EBADMSG;
        }
        memcpy(&len, ch->rbuf + ch->roff, sizeof(len));
        if ((size_t)len > ch->rlen - ch->roff - WIRE_RECORD_HEADER || (long)len > ch->message_size) {
                /* not a packet of ours (a plain writer on a batch channel): drop it whole */
                ch->roff = ch->rlen = 0;
                return -EBADMSG;
        }
        if ((size_t)len > size)
                return -EMSGSIZE;
        memcpy(buf, ch->rbuf + ch->roff + WIRE_RECORD_HEADER, len);
        ch->roff += WIRE_RECORD_HEADER + len;
        return len;
}

/* Read the next batch packet into the handle. */
static int batch_fill(ipcb_channel *ch, bool wait, int timeout_ms, const struct timespec *end) {
        ssize_t n;

        if (lib_hold_rbuf(ch) < 0)
                return -ENOMEM;
        ch->roff = ch->rlen = 0;
        n = lib_fifo_read_packet(ch, ch->rbuf, LIB_PACKET_MAX, wait, timeout_ms, end);
        if (n < 0)
                return (int)n;
        ch->rlen = (size_t)n;
        return 0;
}

/* Append one record to PACKET at OFF; the offset after it. */
static size_t put_record(uint8_t *packet, size_t off, const void *msg, size_t len) {
        uint16_t l = (uint16_t)len;

        memcpy(packet + off, &l, sizeof(l));
        if (l)
                memcpy(packet + off + WIRE_RECORD_HEADER, msg, l);
        return off + WIRE_RECORD_HEADER + l;
}

int lib_batch_send_one(ipcb_channel *ch, const void *msg, size_t len, int timeout_ms, const struct timespec *end) {
        uint8_t packet[LIB_PACKET_MAX];

        return lib_fifo_write_packet(ch, packet, put_record(packet, 0, msg, len), timeout_ms, end);
}

ssize_t lib_batch_recv_one(ipcb_channel *ch, void *buf, size_t size, int timeout_ms, const struct timespec *end) {
        for (;;) {
                ssize_t n = batch_next(ch, buf, size);
                int r;
                if (n != -EAGAIN)
                        return n;
                r = batch_fill(ch, true, timeout_ms, end);
                if (r < 0)
                        return r;
        }
}

_public_ int ipcb_pending(const ipcb_channel *ch) {
        size_t off;
        int n = 0;

        if (!ch)
                return -EINVAL;
        if (ch->type != IPCB_FIFO || ch->framing != IPCB_FRAMING_BATCH)
                return 0;
        for (off = ch->roff; off + WIRE_RECORD_HEADER <= ch->rlen; n++) {
                uint16_t len;
                memcpy(&len, ch->rbuf + off, sizeof(len));
                off += WIRE_RECORD_HEADER + len;
                if (off > ch->rlen)
                        break;
        }
        return n;
}

static int sendv_check(const ipcb_channel *ch, const ipcb_msg *msgs, size_t n) {
        int r;

        if (!ch || (!msgs && n) || n > INT_MAX)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                if (!msgs[i].data && msgs[i].len)
                        return -EINVAL;
                r = lib_check_send(ch, msgs[i].len);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A batch-framed FIFO: as many whole records as fit in each packet; each write is one atomic packet. */
static int batch_sendv(ipcb_channel *ch, const ipcb_msg *msgs, size_t n, int timeout_ms) {
        uint8_t packet[LIB_PACKET_MAX];
        struct timespec end;
        size_t sent = 0;
        int r;

        if (timeout_ms >= 0)
                lib_deadline(CLOCK_MONOTONIC, timeout_ms, &end);
        while (sent < n) {
                size_t len = 0, first = sent;
                while (sent < n && len + WIRE_RECORD_HEADER + msgs[sent].len <= sizeof(packet)) {
                        len = put_record(packet, len, msgs[sent].data, msgs[sent].len);
                        sent++;
                }
                r = lib_fifo_write_packet(ch, packet, len, timeout_ms, &end);
                if (r < 0)
                        return first > 0 ? (int)first : r;
        }
        return (int)sent;
}

static int do_sendv(ipcb_channel *ch, const ipcb_msg *msgs, size_t n, int timeout_ms) {
        struct timespec end;
        size_t sent = 0;
        int r;

        r = sendv_check(ch, msgs, n);
        if (r < 0 || n == 0)
                return r;
        if (timeout_ms < 0)
                timeout_ms = -1;
        if (ch->type == IPCB_FIFO && ch->framing == IPCB_FRAMING_BATCH)
                return batch_sendv(ch, msgs, n, timeout_ms);

        /* queues and packet-framed FIFOs: one message per call, all within one deadline */
        if (timeout_ms >= 0)
                lib_deadline(CLOCK_MONOTONIC, timeout_ms, &end);
        for (; sent < n; sent++) {
                r = lib_do_send(ch, msgs[sent].data, msgs[sent].len, msgs[sent].prio,
                                timeout_ms < 0 ? -1 : lib_remaining_ms(&end));
                if (r < 0)
                        return sent > 0 ? (int)sent : r;
        }
        return (int)sent;
}

/* A message after the first of ipcb_recvv: only one that is there already, never waiting. */
static ssize_t recv_ready(ipcb_channel *ch, ipcb_msg *msg) {
        ssize_t m;

        if (ch->type == IPCB_MQUEUE) {
                /* an absolute deadline in the past: take what is there, never wait */
                static const struct timespec past = { 0, 0 };
                do
                        m = mq_timedreceive((mqd_t)ch->fd, msg->data, msg->len, &msg->prio, &past);
                while (m < 0 && errno == EINTR);
                return m < 0 ? -errno : m;
        }
        msg->prio = 0;
        if (ch->framing == IPCB_FRAMING_BATCH) {
                m = batch_next(ch, msg->data, msg->len);
                if (m == -EAGAIN) {
                        if (batch_fill(ch, false, 0, NULL) < 0)
                                return -EAGAIN;
                        m = batch_next(ch, msg->data, msg->len);
                }
                return m;
        }
        return lib_fifo_read_message(ch, msg->data, msg->len, false, 0, NULL);
}

static int do_recvv(ipcb_channel *ch, ipcb_msg *msgs, size_t n, int timeout_ms) {
        size_t got;
        ssize_t m;

        if (!ch || (!msgs && n) || n > INT_MAX)
                return -EINVAL;
        if (!(ch->flags & IPCB_RECV))
                return -EBADF;
        for (size_t i = 0; i < n; i++)
                if (!msgs[i].data || ch->message_size < 0 || msgs[i].len < (size_t)ch->message_size)
                        return msgs[i].data ? -EMSGSIZE : -EINVAL;
        if (n == 0)
                return 0;

        /* the first message as a plain receive: waits as asked */
        m = lib_do_recv(ch, msgs[0].data, msgs[0].len, &msgs[0].prio, timeout_ms < 0 ? -1 : timeout_ms);
        if (m < 0)
                return (int)m;
        msgs[0].len = (size_t)m;
        for (got = 1; got < n; got++) {
                m = recv_ready(ch, &msgs[got]);
                if (m < 0)
                        break;
                msgs[got].len = (size_t)m;
        }
        return (int)got;
}

_public_ int ipcb_sendv(ipcb_channel *ch, const ipcb_msg *msgs, size_t n, int timeout_ms) {
        return (int)lib_data_error(do_sendv(ch, msgs, n, timeout_ms));
}

_public_ int ipcb_recvv(ipcb_channel *ch, ipcb_msg *msgs, size_t n, int timeout_ms) {
        return (int)lib_data_error(do_recvv(ch, msgs, n, timeout_ms));
}
