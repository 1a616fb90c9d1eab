/*
 * lib-open.c — libipcbroker's channel handles: ipcb_open asks the daemon for
 * a channel by name and sets up the descriptor it passes back (a message
 * queue, or a FIFO in packet mode); ipcb_close, ipcb_fd, ipcb_name, and the
 * handle's attributes (ipcb_getattr, ipcb_set_nonblock).
 */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib-internal.h"
#include "util.h"

static bool name_ok(const char *name) {
        size_t n;

        if (!name)
                return false;
        n = strnlen(name, IPCB_NAME_MAX + 1);
        return n >= 1 && n <= IPCB_NAME_MAX;
}

/* Check NAME and FLAGS; the access to ask the daemon for. */
static int open_access(const char *name, int flags, uint32_t *access) {
        if (!name_ok(name)) {
                lib_set_detail(EINVAL, "invalid channel name");
                return -EINVAL;
        }
        if (!(flags & (IPCB_SEND | IPCB_RECV)) || (flags & ~(IPCB_SEND | IPCB_RECV | IPCB_NONBLOCK))) {
                lib_set_detail(EINVAL, "channel '%s': open flags must include IPCB_SEND and/or IPCB_RECV", name);
                return -EINVAL;
        }
        *access = 0;
        if (flags & IPCB_SEND)
                *access |= WIRE_ACCESS_SEND;
        if (flags & IPCB_RECV)
                *access |= WIRE_ACCESS_RECV;
        return 0;
}

/* Ask the daemon to open NAME; a reply that grants it carries the descriptor. */
static int open_ask(const char *name, uint32_t access, struct lib_reply *reply) {
        struct wire_writer *w = malloc(sizeof(*w));
        int r;

        if (!w)
                return -ENOMEM;
        wire_writer_init(w, WIRE_REQ_OPEN, 1);
        wire_put_string(w, WIRE_ATTR_NAME, name);
        wire_put_u32(w, WIRE_ATTR_ACCESS, access);
        r = lib_call(w, reply);
        free(w);
        if (r < 0)
                return r;
        if (reply->fd < 0) {
                lib_set_detail(EPROTO, "channel '%s': the daemon granted access but passed no descriptor", name);
                return -EPROTO;
        }
        return 0;
}

/* The handle for the descriptor and attributes of the reply (which gives up its descriptor). */
static void open_take(ipcb_channel *ch, struct lib_reply *reply, const char *name, int flags) {
        ch->fd = reply->fd;
        reply->fd = -1;
        ch->type = reply->attrs.v[WIRE_ATTR_TYPE].u == WIRE_CHANNEL_FIFO ? IPCB_FIFO : IPCB_MQUEUE;
        ch->flags = flags;
        ch->message_size =
                reply->attrs.v[WIRE_ATTR_MESSAGE_SIZE].present ? (long)reply->attrs.v[WIRE_ATTR_MESSAGE_SIZE].i : 0;
        if (ch->type == IPCB_FIFO)
                ch->framing = reply->attrs.v[WIRE_ATTR_FRAMING].u == WIRE_FRAMING_BATCH ? IPCB_FRAMING_BATCH
                                                                                        : IPCB_FRAMING_PACKET;
        snprintf(ch->name, sizeof(ch->name), "%s", name);
}

static int open_mqueue(ipcb_channel *ch) {
        /* the reply carries the queue's kernel attributes; ask the kernel only if it did not */
        if (ch->message_size <= 0) {
                struct mq_attr a;
                if (mq_getattr((mqd_t)ch->fd, &a) < 0) {
                        lib_set_detail(EPROTO, "channel '%s': the passed descriptor is not a message queue", ch->name);
                        return -EPROTO;
                }
                ch->message_size = a.mq_msgsize;
        }
        if (ch->flags & IPCB_NONBLOCK) {
                struct mq_attr a = { .mq_flags = O_NONBLOCK };
                if (mq_setattr((mqd_t)ch->fd, &a, NULL) < 0)
                        return -errno;
        }
        return 0;
}

static int open_fifo(ipcb_channel *ch) {
        struct stat st;
        int fl;

        if (fstat(ch->fd, &st) < 0 || !S_ISFIFO(st.st_mode) || ch->message_size < 0 ||
            ch->message_size > PIPE_BUF - (ch->framing == IPCB_FRAMING_BATCH ? WIRE_RECORD_HEADER : 0)) {
                lib_set_detail(EPROTO, "channel '%s': the passed descriptor is not a FIFO", ch->name);
                return -EPROTO;
        }
        /* blocking unless asked: an untimed receive is then one read(2) */
        if (ch->flags & IPCB_NONBLOCK) {
                fl = fcntl(ch->fd, F_GETFL);
                if (fl < 0 || fcntl(ch->fd, F_SETFL, fl | O_NONBLOCK) < 0)
                        return -errno;
                ch->fd_nonblock = true;
        }
        return 0;
}

_public_ int ipcb_open(const char *name, int flags, ipcb_channel **out) {
        struct lib_reply *reply = NULL;
        ipcb_channel *ch = NULL;
        uint32_t access;
        int r;

        if (!out)
                return -EINVAL;
        *out = NULL;
        r = open_access(name, flags, &access);
        if (r < 0)
                return r;
        reply = malloc(sizeof(*reply));
        ch = calloc(1, sizeof(*ch));
        if (!reply || !ch) {
                r = -ENOMEM;
                goto out;
        }
        ch->fd = -1;
        r = open_ask(name, access, reply);
        if (r < 0)
                goto out;
        open_take(ch, reply, name, flags);
        r = ch->type == IPCB_MQUEUE ? open_mqueue(ch) : open_fifo(ch);
        if (r < 0)
                goto out;
        lib_clear_detail();
        *out = TAKE_PTR(ch);
out:
        if (ch) {
                if (ch->fd >= 0)
                        close(ch->fd);
                free(ch);
        }
        if (reply && reply->fd >= 0)
                close(reply->fd);
        free(reply);
        return r;
}

_public_ int ipcb_close(ipcb_channel *ch) {
        int r = 0;

        if (!ch)
                return -EINVAL;
        if (close(ch->fd) < 0)
                r = -errno;
        free(ch->rbuf);
        free(ch);
        return r == -EINTR ? 0 : r;
}

_public_ int ipcb_fd(const ipcb_channel *ch) {
        return ch ? ch->fd : -EINVAL;
}

_public_ const char *ipcb_name(const ipcb_channel *ch) {
        return ch ? ch->name : NULL;
}

_public_ int ipcb_set_nonblock(ipcb_channel *ch, int nonblock) {
        if (!ch)
                return -EINVAL;
        if (ch->type == IPCB_MQUEUE) {
                struct mq_attr a = { .mq_flags = nonblock ? O_NONBLOCK : 0 };
                if (mq_setattr((mqd_t)ch->fd, &a, NULL) < 0)
                        return -errno;
        }
        /* a FIFO descriptor's O_NONBLOCK follows each call's needs (fifo_mode) */
        if (nonblock)
                ch->flags |= IPCB_NONBLOCK;
        else
                ch->flags &= ~IPCB_NONBLOCK;
        return 0;
}

_public_ int ipcb_getattr(const ipcb_channel *ch, ipcb_attr *attr) {
        if (!ch || !attr)
                return -EINVAL;
        memset(attr, 0, sizeof(*attr));
        attr->type = ch->type;
        attr->flags = ch->flags;
        if (ch->type == IPCB_MQUEUE) {
                struct mq_attr a;
                if (mq_getattr((mqd_t)ch->fd, &a) < 0)
                        return -errno;
                attr->max_messages = a.mq_maxmsg;
                attr->message_size = a.mq_msgsize;
                attr->messages = a.mq_curmsgs;
                attr->bytes = -1;
                attr->capacity = -1;
        } else {
                int r = pipe_fill(ch->fd, ch->framing == IPCB_FRAMING_BATCH, &attr->capacity, &attr->bytes,
                                  &attr->max_messages);
                if (r < 0)
                        return r;
                attr->framing = ch->framing;
                attr->message_size = ch->message_size;
                attr->messages = -1;
        }
        return 0;
}
