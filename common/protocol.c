/*
 * protocol.c — encoding and validating ipcbroker wire messages.
 *
 * The decoder trusts nothing: every length is checked against what is left
 * before it is used, every attribute against the message type's policy.
 */
#include "build-config.h"

#include <errno.h>
#include <string.h>

#include "protocol.h"

#define ALIGN4(n) (((n) + 3u) & ~(size_t)3u)
#define ATTR_HDR 4u

/* ---- policies ------------------------------------------------------------------- */

/* What every request may carry. */
#define REQUEST_ATTRS [WIRE_ATTR_LAST] = { WIRE_KIND_FLAG, false, false }

static const struct wire_policy_entry policy_open[_WIRE_ATTR_MAX] = {
        REQUEST_ATTRS,
        [WIRE_ATTR_NAME] = { WIRE_KIND_STRING, true, false },
        [WIRE_ATTR_ACCESS] = { WIRE_KIND_U32, true, false },
};

static const struct wire_policy_entry policy_info[_WIRE_ATTR_MAX] = {
        REQUEST_ATTRS,
        [WIRE_ATTR_NAME] = { WIRE_KIND_STRING, true, false },
};

static const struct wire_policy_entry policy_list[_WIRE_ATTR_MAX] = {
        REQUEST_ATTRS,
        [WIRE_ATTR_CURSOR] = { WIRE_KIND_STRING, false, false },
};

static const struct wire_policy_entry policy_purge[_WIRE_ATTR_MAX] = {
        REQUEST_ATTRS,
        [WIRE_ATTR_NAME] = { WIRE_KIND_STRING, false, true },
        [WIRE_ATTR_ALL] = { WIRE_KIND_FLAG, false, false },
        [WIRE_ATTR_CURSOR] = { WIRE_KIND_STRING, false, false },
};

static const struct wire_policy_entry policy_plain_request[_WIRE_ATTR_MAX] = {
        REQUEST_ATTRS,
};

static const struct wire_policy_entry policy_metrics[_WIRE_ATTR_MAX] = {
        REQUEST_ATTRS,
        [WIRE_ATTR_CURSOR] = { WIRE_KIND_STRING, false, false },
};

static const struct wire_policy_entry policy_holders[_WIRE_ATTR_MAX] = {
        REQUEST_ATTRS,
        [WIRE_ATTR_NAME] = { WIRE_KIND_STRING, false, false },
        [WIRE_ATTR_CURSOR] = { WIRE_KIND_STRING, false, false },
};

static const struct wire_policy_entry policy_wait[_WIRE_ATTR_MAX] = {
        REQUEST_ATTRS,
        [WIRE_ATTR_NAME] = { WIRE_KIND_STRING, true, true },
        [WIRE_ATTR_TIMEOUT_MS] = { WIRE_KIND_U64, false, false },
};

static const struct wire_policy_entry policy_access[_WIRE_ATTR_MAX] = {
        REQUEST_ATTRS,
        [WIRE_ATTR_NAME] = { WIRE_KIND_STRING, true, false },
        [WIRE_ATTR_UID] = { WIRE_KIND_U32, false, false },
        [WIRE_ATTR_GID] = { WIRE_KIND_U32, false, false },
        [WIRE_ATTR_GROUPS] = { WIRE_KIND_U32, false, true },
};

/* What describes a channel: in a CHANNEL entry and at the top of open and stat replies. */
#define CHANNEL_ATTRS                                                                                                  \
        [WIRE_ATTR_MESSAGE] = { WIRE_KIND_STRING, false, false }, [WIRE_ATTR_TYPE] = { WIRE_KIND_U32, false, false },  \
        [WIRE_ATTR_OWNER] = { WIRE_KIND_U32, false, false }, [WIRE_ATTR_GROUP] = { WIRE_KIND_U32, false, false },      \
        [WIRE_ATTR_MODE] = { WIRE_KIND_U32, false, false },                                                            \
        [WIRE_ATTR_MAX_MESSAGES] = { WIRE_KIND_I64, false, false },                                                    \
        [WIRE_ATTR_MESSAGE_SIZE] = { WIRE_KIND_I64, false, false },                                                    \
        [WIRE_ATTR_MESSAGES] = { WIRE_KIND_I64, false, false }, [WIRE_ATTR_BYTES] = { WIRE_KIND_I64, false, false },   \
        [WIRE_ATTR_CAPACITY] = { WIRE_KIND_I64, false, false },                                                        \
        [WIRE_ATTR_MQ_FLAGS] = { WIRE_KIND_I64, false, false },                                                        \
        [WIRE_ATTR_KERNEL_NAME] = { WIRE_KIND_STRING, false, false },                                                  \
        [WIRE_ATTR_STATE] = { WIRE_KIND_U32, false, false }, [WIRE_ATTR_PROBLEM] = { WIRE_KIND_STRING, false, false }, \
        [WIRE_ATTR_ON_STOP] = { WIRE_KIND_STRING, false, false },                                                      \
        [WIRE_ATTR_SEND_LIST] = { WIRE_KIND_STRING, false, false },                                                    \
        [WIRE_ATTR_RECV_LIST] = { WIRE_KIND_STRING, false, false },                                                    \
        [WIRE_ATTR_OPENS] = { WIRE_KIND_U64, false, false }, [WIRE_ATTR_DENIALS] = { WIRE_KIND_U64, false, false },    \
        [WIRE_ATTR_PURGED_MESSAGES] = { WIRE_KIND_U64, false, false },                                                 \
        [WIRE_ATTR_PURGED_BYTES] = { WIRE_KIND_U64, false, false },                                                    \
        [WIRE_ATTR_FRAMING] = { WIRE_KIND_U32, false, false },                                                         \
        [WIRE_ATTR_HIGH_WATER] = { WIRE_KIND_I64, false, false }, [WIRE_ATTR_FULL] = { WIRE_KIND_U32, false, false },  \
        [WIRE_ATTR_FULL_MS] = { WIRE_KIND_U64, false, false },                                                         \
        [WIRE_ATTR_FULL_EVENTS] = { WIRE_KIND_U64, false, false },                                                     \
        [WIRE_ATTR_FULL_ALERTS] = { WIRE_KIND_U64, false, false },                                                     \
        [WIRE_ATTR_OPENS_SEND] = { WIRE_KIND_U64, false, false },                                                      \
        [WIRE_ATTR_OPENS_RECV] = { WIRE_KIND_U64, false, false },                                                      \
        [WIRE_ATTR_DENIED_SEND] = { WIRE_KIND_U64, false, false },                                                     \
        [WIRE_ATTR_DENIED_RECV] = { WIRE_KIND_U64, false, false },                                                     \
        [WIRE_ATTR_HOLDERS] = { WIRE_KIND_U64, false, false }

const struct wire_policy_entry wire_policy_channel[_WIRE_ATTR_MAX] = {
        CHANNEL_ATTRS,
        [WIRE_ATTR_ERROR] = { WIRE_KIND_U32, false, false },
        [WIRE_ATTR_NAME] = { WIRE_KIND_STRING, true, false },
};

/* One grant in a HOLDERS reply. */
const struct wire_policy_entry wire_policy_holder[_WIRE_ATTR_MAX] = {
        [WIRE_ATTR_NAME] = { WIRE_KIND_STRING, true, false },     [WIRE_ATTR_ACCESS] = { WIRE_KIND_U32, true, false },
        [WIRE_ATTR_UID] = { WIRE_KIND_U32, true, false },         [WIRE_ATTR_PID] = { WIRE_KIND_U32, true, false },
        [WIRE_ATTR_COMMAND] = { WIRE_KIND_STRING, false, false }, [WIRE_ATTR_UNIT] = { WIRE_KIND_STRING, false, false },
        [WIRE_ATTR_SINCE] = { WIRE_KIND_U64, false, false },      [WIRE_ATTR_ALIVE] = { WIRE_KIND_U32, false, false },
        [WIRE_ATTR_OPENS] = { WIRE_KIND_U64, false, false },
};

/* Replies carry any of the channel attributes, the status ones, and repeated CHANNEL entries. */
static const struct wire_policy_entry policy_reply[_WIRE_ATTR_MAX] = {
        CHANNEL_ATTRS,
        [WIRE_ATTR_ERROR] = { WIRE_KIND_U32, true, false },
        [WIRE_ATTR_NAME] = { WIRE_KIND_STRING, false, false },
        [WIRE_ATTR_ACCESS] = { WIRE_KIND_U32, false, false },
        [WIRE_ATTR_CHANNEL] = { WIRE_KIND_NESTED, false, true },
        [WIRE_ATTR_CURSOR] = { WIRE_KIND_STRING, false, false },
        [WIRE_ATTR_VERSION] = { WIRE_KIND_STRING, false, false },
        [WIRE_ATTR_PID] = { WIRE_KIND_U32, false, false },
        [WIRE_ATTR_UPTIME] = { WIRE_KIND_U64, false, false },
        [WIRE_ATTR_CONFIG_FILE] = { WIRE_KIND_STRING, false, false },
        [WIRE_ATTR_CHANNELS] = { WIRE_KIND_U64, false, false },
        [WIRE_ATTR_CHANNELS_READY] = { WIRE_KIND_U64, false, false },
        [WIRE_ATTR_CLIENTS] = { WIRE_KIND_U64, false, false },
        [WIRE_ATTR_CONNECTIONS] = { WIRE_KIND_U64, false, false },
        [WIRE_ATTR_REQUESTS] = { WIRE_KIND_U64, false, false },
        [WIRE_ATTR_OPENS_TOTAL] = { WIRE_KIND_U64, false, false },
        [WIRE_ATTR_DENIED] = { WIRE_KIND_U64, false, false },
        [WIRE_ATTR_RELOADS] = { WIRE_KIND_U64, false, false },
        [WIRE_ATTR_SOCKET] = { WIRE_KIND_STRING, false, false },
        [WIRE_ATTR_START_TIME] = { WIRE_KIND_U64, false, false },
        [WIRE_ATTR_RELOAD_FAILURES] = { WIRE_KIND_U64, false, false },
        [WIRE_ATTR_SAMPLE_INTERVAL] = { WIRE_KIND_U64, false, false },
        [WIRE_ATTR_HOLDER] = { WIRE_KIND_NESTED, false, true },
        [WIRE_ATTR_UID] = { WIRE_KIND_U32, false, false },
        [WIRE_ATTR_SEND_RULE] = { WIRE_KIND_STRING, false, false },
        [WIRE_ATTR_RECV_RULE] = { WIRE_KIND_STRING, false, false },
};

const struct wire_policy_entry *wire_policy_for(uint16_t type) {
        switch (type) {
        case WIRE_REQ_OPEN:
                return policy_open;
        case WIRE_REQ_INFO:
                return policy_info;
        case WIRE_REQ_LIST:
                return policy_list;
        case WIRE_REQ_PURGE:
                return policy_purge;
        case WIRE_REQ_RELOAD:
        case WIRE_REQ_STATUS:
                return policy_plain_request;
        case WIRE_REQ_METRICS:
                return policy_metrics;
        case WIRE_REQ_HOLDERS:
                return policy_holders;
        case WIRE_REQ_WAIT:
                return policy_wait;
        case WIRE_REQ_ACCESS:
                return policy_access;
        case WIRE_REPLY:
                return policy_reply;
        default:
                return NULL;
        }
}

const char *wire_type_to_string(uint16_t type) {
        switch (type) {
        case WIRE_REQ_OPEN:
                return "open";
        case WIRE_REQ_INFO:
                return "stat";
        case WIRE_REQ_LIST:
                return "list";
        case WIRE_REQ_PURGE:
                return "purge";
        case WIRE_REQ_RELOAD:
                return "reload";
        case WIRE_REQ_STATUS:
                return "status";
        case WIRE_REQ_METRICS:
                return "metrics";
        case WIRE_REQ_HOLDERS:
                return "holders";
        case WIRE_REQ_WAIT:
                return "wait";
        case WIRE_REQ_ACCESS:
                return "access";
        case WIRE_REPLY:
                return "reply";
        default:
                return "unknown";
        }
}

/* ---- writer --------------------------------------------------------------------- */

void wire_writer_init(struct wire_writer *w, uint16_t type, uint32_t serial) {
        struct wire_header h = {
                .magic = WIRE_MAGIC,
                .version = WIRE_VERSION,
                .type = type,
                .serial = serial,
                .length = 0,
        };

        memcpy(w->buf, &h, sizeof(h));
        w->len = sizeof(h);
        w->depth = 0;
        w->overflow = false;
}

size_t wire_writer_room(const struct wire_writer *w) {
        /* leave room for closing every open nest (nothing to add) */
        return w->overflow || w->len > WIRE_PACKET_MAX ? 0 : WIRE_PACKET_MAX - w->len;
}

static void put(struct wire_writer *w, uint16_t attr, const void *data, size_t len) {
        uint16_t hdr[2] = { attr, (uint16_t)len };
        size_t need = ATTR_HDR + ALIGN4(len);

        if (w->overflow || len > UINT16_MAX || need > WIRE_PACKET_MAX - w->len) {
                w->overflow = true;
                return;
        }
        memcpy(w->buf + w->len, hdr, sizeof(hdr));
        if (len)
                memcpy(w->buf + w->len + ATTR_HDR, data, len);
        memset(w->buf + w->len + ATTR_HDR + len, 0, ALIGN4(len) - len);
        w->len += need;
}

void wire_put_u32(struct wire_writer *w, uint16_t attr, uint32_t v) {
        put(w, attr, &v, sizeof(v));
}

void wire_put_u64(struct wire_writer *w, uint16_t attr, uint64_t v) {
        put(w, attr, &v, sizeof(v));
}

void wire_put_i64(struct wire_writer *w, uint16_t attr, int64_t v) {
        put(w, attr, &v, sizeof(v));
}

void wire_put_string(struct wire_writer *w, uint16_t attr, const char *s) {
        size_t n = strnlen(s, WIRE_STRING_MAX);

        if (n >= WIRE_STRING_MAX) {
                w->overflow = true;
                return;
        }
        put(w, attr, s, n + 1);
}

void wire_put_flag(struct wire_writer *w, uint16_t attr) {
        put(w, attr, NULL, 0);
}

void wire_nest_begin(struct wire_writer *w, uint16_t attr) {
        if (w->depth >= WIRE_NEST_DEPTH_MAX) {
                w->overflow = true;
                return;
        }
        w->nest_start[w->depth++] = w->len;
        put(w, attr, NULL, 0);
}

void wire_nest_end(struct wire_writer *w) {
        size_t start, len;
        uint16_t l;

        if (w->depth <= 0) {
                w->overflow = true;
                return;
        }
        start = w->nest_start[--w->depth];
        if (w->overflow)
                return;
        len = w->len - start - ATTR_HDR;
        if (len > UINT16_MAX) {
                w->overflow = true;
                return;
        }
        l = (uint16_t)len;
        memcpy(w->buf + start + 2, &l, sizeof(l));
}

int wire_writer_finish(struct wire_writer *w) {
        struct wire_header h;

        if (w->overflow || w->depth != 0)
                return -EMSGSIZE;
        memcpy(&h, w->buf, sizeof(h));
        h.length = (uint32_t)(w->len - sizeof(h));
        memcpy(w->buf, &h, sizeof(h));
        return (int)w->len;
}

/* ---- decoder -------------------------------------------------------------------- */

static int decode_attrs(const uint8_t *p, size_t size, const struct wire_policy_entry *policy, struct wire_attrs *attrs,
                        int depth, const char **why);

/*
 * The header of the attribute at P, with LEFT bytes left in its area: within
 * bounds, not one too many (COUNT so far), of a type POLICY allows and not a
 * second time unless repeated, with zero padding. Sets *TYPE and *LEN.
 */
static int decode_attr_header(const uint8_t *p, size_t left, const struct wire_policy_entry *policy,
                              const struct wire_attrs *attrs, unsigned *count, uint16_t *type, uint16_t *len,
                              const char **why) {
        if (left < ATTR_HDR) {
                *why = "truncated attribute header";
                return -EBADMSG;
        }
        memcpy(type, p, 2);
        memcpy(len, p + 2, 2);
        if (ALIGN4((size_t)*len) > left - ATTR_HDR) {
                *why = "attribute longer than the message";
                return -EBADMSG;
        }
        if (++*count > WIRE_ATTRS_MAX) {
                *why = "too many attributes";
                return -EBADMSG;
        }
        if (*type == 0 || *type >= _WIRE_ATTR_MAX || policy[*type].kind == WIRE_KIND_NONE) {
                *why = "attribute not allowed in this message";
                return -EINVAL;
        }
        if (attrs->v[*type].present && !policy[*type].repeated) {
                *why = "duplicate attribute";
                return -EINVAL;
        }
        /* padding must be zero: one encoding per message */
        for (size_t i = *len; i < ALIGN4((size_t)*len); i++)
                if (p[ATTR_HDR + i] != 0) {
                        *why = "non-zero padding";
                        return -EBADMSG;
                }
        return 0;
}

/* A nested attribute's payload: a channel entry or a holder entry, one level deeper. */
static int decode_nested(uint16_t attr, const uint8_t *data, uint16_t len, struct wire_value *v, int depth,
                         const char **why) {
        struct wire_attrs inner;
        int r;

        if (depth + 1 >= WIRE_NEST_DEPTH_MAX) {
                *why = "attributes nested too deep";
                return -EBADMSG;
        }
        r = decode_attrs(data, len, attr == WIRE_ATTR_HOLDER ? wire_policy_holder : wire_policy_channel, &inner,
                         depth + 1, why);
        if (r < 0)
                return r;
        if (!v->present) {
                v->data = data;
                v->len = len;
        }
        return 0;
}

/*
 * The LEN bytes of DATA as the KIND of value the policy says, into V; a
 * repeated attribute keeps its first occurrence in V.
 */
static int decode_value(uint16_t attr, enum wire_kind kind, const uint8_t *data, uint16_t len, struct wire_value *v,
                        int depth, const char **why) {
        int r;

        switch (kind) {
        case WIRE_KIND_U32:
                if (len != 4) {
                        *why = "wrong size for a 32-bit attribute";
                        return -EINVAL;
                }
                if (!v->present) {
                        uint32_t u;
                        memcpy(&u, data, 4);
                        v->u = u;
                }
                break;
        case WIRE_KIND_U64:
        case WIRE_KIND_I64:
                if (len != 8) {
                        *why = "wrong size for a 64-bit attribute";
                        return -EINVAL;
                }
                if (!v->present) {
                        memcpy(&v->u, data, 8);
                        memcpy(&v->i, data, 8);
                }
                break;
        case WIRE_KIND_STRING:
                if (len == 0 || len > WIRE_STRING_MAX || data[len - 1] != '\0' || memchr(data, '\0', len - 1u)) {
                        *why = "malformed string";
                        return -EINVAL;
                }
                if (!v->present)
                        v->s = (const char *)data;
                break;
        case WIRE_KIND_FLAG:
                if (len != 0) {
                        *why = "a flag carries no data";
                        return -EINVAL;
                }
                break;
        case WIRE_KIND_NESTED:
                r = decode_nested(attr, data, len, v, depth, why);
                if (r < 0)
                        return r;
                break;
        default:
                *why = "attribute not allowed in this message";
                return -EINVAL;
        }
        if (!v->present && kind != WIRE_KIND_NESTED)
                v->len = len;
        v->present = true;
        v->kind = kind;
        return 0;
}

static int decode_attrs(const uint8_t *p, size_t size, const struct wire_policy_entry *policy, struct wire_attrs *attrs,
                        int depth, const char **why) {
        size_t off = 0;
        unsigned count = 0;

        memset(attrs, 0, sizeof(*attrs));
        while (off < size) {
                uint16_t type, len;
                int r = decode_attr_header(p + off, size - off, policy, attrs, &count, &type, &len, why);

                if (r < 0)
                        return r;
                r = decode_value(type, policy[type].kind, p + off + ATTR_HDR, len, &attrs->v[type], depth, why);
                if (r < 0)
                        return r;
                off += ATTR_HDR + ALIGN4((size_t)len);
        }
        for (int t = 1; t < _WIRE_ATTR_MAX; t++)
                if (policy[t].required && !attrs->v[t].present) {
                        *why = "a required attribute is missing";
                        return -EINVAL;
                }
        return 0;
}

int wire_decode(const void *packet, size_t size, struct wire_header *hdr, struct wire_attrs *attrs, const char **why) {
        const struct wire_policy_entry *policy;
        const char *dummy;

        if (!why)
                why = &dummy;
        if (size < sizeof(*hdr)) {
                *why = "message shorter than a header";
                return -EBADMSG;
        }
        if (size > WIRE_PACKET_MAX) {
                *why = "message larger than the protocol allows";
                return -EBADMSG;
        }
        memcpy(hdr, packet, sizeof(*hdr));
        if (hdr->magic != WIRE_MAGIC) {
                *why = "not an ipcbroker message (bad magic)";
                return -EBADMSG;
        }
        if (hdr->version != WIRE_VERSION) {
                *why = "unsupported protocol version";
                return -EPROTONOSUPPORT;
        }
        if (hdr->length != size - sizeof(*hdr)) {
                *why = "length field does not match the message size";
                return -EBADMSG;
        }
        policy = wire_policy_for(hdr->type);
        if (!policy) {
                *why = "unknown message type";
                return -EOPNOTSUPP;
        }
        return decode_attrs((const uint8_t *)packet + sizeof(*hdr), hdr->length, policy, attrs, 0, why);
}

int wire_decode_nested(const struct wire_value *nested, const struct wire_policy_entry *policy,
                       struct wire_attrs *attrs, const char **why) {
        const char *dummy;

        if (!why)
                why = &dummy;
        return decode_attrs(nested->data, nested->len, policy, attrs, 1, why);
}

void wire_iter_init(struct wire_iter *it, const void *packet, size_t size) {
        if (size < sizeof(struct wire_header)) {
                it->p = it->end = NULL;
                return;
        }
        it->p = (const uint8_t *)packet + sizeof(struct wire_header);
        it->end = (const uint8_t *)packet + size;
}

void wire_iter_init_nested(struct wire_iter *it, const struct wire_value *nested) {
        it->p = nested->data;
        it->end = nested->data + nested->len;
}

bool wire_iter_next(struct wire_iter *it, uint16_t attr, struct wire_value *v) {
        while (it->p && it->end - it->p >= (ptrdiff_t)ATTR_HDR) {
                uint16_t type, len;
                const uint8_t *data;

                memcpy(&type, it->p, 2);
                memcpy(&len, it->p + 2, 2);
                data = it->p + ATTR_HDR;
                if ((size_t)(it->end - data) < ALIGN4((size_t)len)) {
                        it->p = it->end;
                        return false;
                }
                it->p = data + ALIGN4((size_t)len);
                if (type != attr)
                        continue;
                memset(v, 0, sizeof(*v));
                v->present = true;
                v->data = data;
                v->len = len;
                v->s = (const char *)data;
                if (len == 4) {
                        uint32_t u;
                        memcpy(&u, data, 4);
                        v->u = u;
                } else if (len == 8) {
                        memcpy(&v->u, data, 8);
                        memcpy(&v->i, data, 8);
                }
                return true;
        }
        return false;
}
