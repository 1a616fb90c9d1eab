/*
 * _ipcbroker.c — the C half of the Python package ipcbroker: libipcbroker's
 * calls for CPython, nothing of the wire protocol.
 *
 * The channel type (_ipcbroker.Channel, subclassed by ipcbroker.Channel)
 * owns one ipcb_channel handle. Data-path calls release the GIL and wait in
 * bounded steps (see channel_run), so that a signal's Python handler runs
 * (KeyboardInterrupt works) and close() from another thread ends the wait;
 * one thread may send while another waits to receive on the same handle.
 *
 * The daemon's calls (open, stat, list, purge, reload, status, metrics,
 * holders, wait, access) take the daemon's socket as their last argument
 * (a per-thread choice, ipcb_set_thread_socket) and return plain dicts and
 * lists; ipcbroker/__init__.py makes dataclasses of them.
 *
 * Errors: a negative errno from the library becomes the built-in exception
 * for it (OSError picks PermissionError, FileNotFoundError, TimeoutError,
 * BlockingIOError, ConnectionRefusedError from the errno), ValueError for
 * -EMSGSIZE, -EINVAL and -ESRCH (an unknown user), with ipcb_strerror()'s
 * explanation as the message.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <ipcbroker.h>

#if PY_VERSION_HEX < 0x030A0000 /* Python 3.9 */
static inline PyObject *Py_NewRef(PyObject *o) {
        Py_INCREF(o);
        return o;
}
static int PyModule_AddObjectRef(PyObject *m, const char *name, PyObject *o) {
        Py_INCREF(o);
        if (PyModule_AddObject(m, name, o) < 0) {
                Py_DECREF(o);
                return -1;
        }
        return 0;
}
#endif

PyMODINIT_FUNC PyInit__ipcbroker(void);

/* A Python exception is set (a signal handler raised, or a conversion failed). */
#define PYERR INT_MIN

/* Received messages are collected in chunks of at most this many, or of this many bytes. */
#define CHUNK_MESSAGES 64
#define CHUNK_BYTES (1024 * 1024)

/* ---- errors ---------------------------------------------------------------------------------- */

/* The exception for ERR (a negative errno) with the text MSG (a str); a new reference, or NULL. */
static PyObject *error_new(int err, PyObject *msg) {
        int e = err < 0 ? -err : err;
        PyObject *type, *exc, *code;

        if (e == EMSGSIZE || e == EINVAL || e == ESRCH) {
                exc = PyObject_CallOneArg(PyExc_ValueError, msg);
                code = exc ? PyLong_FromLong(e) : NULL;
                if (!code || PyObject_SetAttrString(exc, "errno", code) < 0)
                        Py_CLEAR(exc);
                Py_XDECREF(code);
                return exc;
        }
        /* OSError(errno, text) is the subclass for the errno; the broker's impostor check is "unreachable" too */
        type = e == EREMCHG ? PyExc_ConnectionRefusedError : PyExc_OSError;
        return PyObject_CallFunction(type, "iO", e, msg);
}

/* Raise the exception for ERR with TEXT, prefixed by "channel 'NAME': " when NAME is given. */
static PyObject *raise_text(int err, const char *name, const char *text) {
        PyObject *msg, *exc;

        if ((err == -ENOMEM || err == ENOMEM) && !name)
                return PyErr_NoMemory();
        msg = name ? PyUnicode_FromFormat("channel '%s': %s", name, text) : PyUnicode_FromString(text);
        if (!msg)
                return NULL;
        exc = error_new(err, msg);
        Py_DECREF(msg);
        if (exc) {
                PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
                Py_DECREF(exc);
        }
        return NULL;
}

/* Raise the exception for ERR, explained by ipcb_strerror() (read before anything else calls the library). */
static PyObject *raise_error(int err) {
        return raise_text(err, NULL, ipcb_strerror(err));
}

/* _ipcbroker.error(errno, message): the exception the package raises for them (for purge results). */
static PyObject *py_error(PyObject *mod, PyObject *args) {
        int err;
        PyObject *msg;

        if (!PyArg_ParseTuple(args, "iU:error", &err, &msg))
                return NULL;
        return error_new(err, msg);
}

/* ---- timeouts -------------------------------------------------------------------------------- */

/* TIMEOUT (None or seconds) in milliseconds: -1 forever (or 0 when the handle is non-blocking). */
static int parse_timeout(PyObject *timeout, bool nonblock, int *ms) {
        double s;

        if (timeout == Py_None) {
                *ms = nonblock ? 0 : -1;
                return 0;
        }
        s = PyFloat_AsDouble(timeout);
        if (s == -1.0 && PyErr_Occurred())
                return -1;
        if (isnan(s) || s < 0) {
                PyErr_SetString(PyExc_ValueError, "timeout must be None or a number of seconds >= 0");
                return -1;
        }
        if (s * 1000.0 >= (double)INT_MAX) {
                PyErr_SetString(PyExc_OverflowError, "timeout is too large");
                return -1;
        }
        *ms = (int)ceil(s * 1000.0);
        return 0;
}

struct deadline {
        int ms; /* -1: none */
        struct timespec end;
};

static void deadline_init(struct deadline *d, int ms) {
        d->ms = ms;
        if (ms < 0)
                return;
        clock_gettime(CLOCK_MONOTONIC, &d->end);
        d->end.tv_sec += ms / 1000;
        d->end.tv_nsec += (long)(ms % 1000) * 1000000L;
        if (d->end.tv_nsec >= 1000000000L) {
                d->end.tv_sec++;
                d->end.tv_nsec -= 1000000000L;
        }
}

/* Milliseconds left (-1: no deadline), rounded up so that a wait never ends before it. */
static int deadline_left(const struct deadline *d) {
        struct timespec now;
        long long ns;

        if (d->ms < 0)
                return -1;
        clock_gettime(CLOCK_MONOTONIC, &now);
        ns = (long long)(d->end.tv_sec - now.tv_sec) * 1000000000LL + (d->end.tv_nsec - now.tv_nsec);
        if (ns <= 0)
                return 0;
        return ns / 1000000 >= INT_MAX ? INT_MAX : (int)((ns + 999999) / 1000000);
}

/* ---- the channel ----------------------------------------------------------------------------- */

typedef struct {
        PyObject_HEAD ipcb_channel *ch;
        PyThread_type_lock lock; /* held around each attempt on a FIFO handle */
        int fd;
        int flags;         /* IPCB_SEND/RECV/NONBLOCK */
        int type;          /* IPCB_MQUEUE or IPCB_FIFO */
        long message_size; /* receive buffers are at least this big */
        char name[IPCB_NAME_MAX + 1];
        int busy;            /* calls using the handle now (the GIL protects it) */
        atomic_bool closing; /* close() came while busy: the last call closes (read without the GIL) */
        int wakefd;          /* an eventfd that close() signals to end waits, or -1 */
        char *rbuf;          /* receive buffers (one message, or a chunk of recv_many's), or NULL */
        size_t rbuf_size;
        bool rbuf_busy; /* a call uses it */
} ChannelObject;

static PyTypeObject ChannelType;

static void channel_release(ChannelObject *self) {
        if (self->ch) {
                ipcb_close(self->ch);
                self->ch = NULL;
        }
        if (self->wakefd >= 0) {
                close(self->wakefd);
                self->wakefd = -1;
        }
        PyMem_RawFree(self->rbuf);
        self->rbuf = NULL;
        self->rbuf_size = 0;
        self->fd = -1;
}

/* Start a call on the handle (GIL held): 0, or -1 with ValueError when it is closed. */
static int channel_enter(ChannelObject *self) {
        if (!self->ch || self->closing) {
                PyErr_SetString(PyExc_ValueError, "I/O operation on closed channel");
                return -1;
        }
        self->busy++;
        return 0;
}

static void channel_leave(ChannelObject *self) {
        if (--self->busy == 0 && self->closing)
                channel_release(self);
}

/* Before a call waits: the eventfd that close() will signal. */
static int channel_wakefd(ChannelObject *self) {
        if (self->wakefd < 0) {
                self->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
                if (self->wakefd < 0) {
                        PyErr_SetFromErrno(PyExc_OSError);
                        return -1;
                }
        }
        return 0;
}

/*
 * One operation. ATTEMPT(self, arg, wait_ms) is one library call that waits
 * at most WAIT_MS: it returns a result >= 0, -EAGAIN/-ETIMEDOUT when the
 * channel was not ready, or another negative errno. MS is how long the
 * operation may wait (-1: no limit, 0: not at all). Returns the result;
 * -EAGAIN when MS is 0, -ETIMEDOUT when the deadline passed, -ECANCELED
 * when the channel was closed meanwhile, or PYERR. The GIL is released
 * throughout, taken back only to run signal handlers.
 *
 * Two ways to wait. A blocking queue handle waits in the kernel's own call
 * (mq_timedsend/mq_timedreceive: a sender hands its message straight to a
 * waiting receiver, as fast as raw mq_receive), in slices of
 * KERNEL_WAIT_SLICE_MS so that signals and close() are seen; queue handles
 * keep no state, so calls from several threads need no lock. FIFO handles
 * (their state is not for two threads at once) and non-blocking handles
 * make non-blocking attempts, under the handle's lock, and wait in poll()
 * on the descriptor and the eventfd that close() signals.
 */
#define KERNEL_WAIT_SLICE_MS 100

typedef int (*attempt_fn)(ChannelObject *self, void *arg, int wait_ms);

static bool channel_waits_in_kernel(const ChannelObject *self) {
        return self->type == IPCB_MQUEUE && !(self->flags & IPCB_NONBLOCK);
}

/* One slice of waiting in the kernel's call: -EINTR when the caller should look at signals and go on. */
static int run_in_kernel(ChannelObject *self, int ms, const struct deadline *d, attempt_fn attempt, void *arg) {
        int left = deadline_left(d);
        int r = attempt(self, arg, ms == 0 ? 0 : left < 0 || left > KERNEL_WAIT_SLICE_MS ? KERNEL_WAIT_SLICE_MS : left);

        if (r != -EAGAIN && r != -ETIMEDOUT)
                return r;
        if (ms == 0)
                return -EAGAIN;
        if (deadline_left(d) == 0)
                return -ETIMEDOUT;
        if (atomic_load(&self->closing))
                return -ECANCELED;
        return -EINTR;
}

/* Non-blocking attempts and poll() until done, the deadline, close() or a signal (-EINTR). */
static int run_polling(ChannelObject *self, short events, int ms, const struct deadline *d, attempt_fn attempt,
                       void *arg) {
        bool lock = self->type == IPCB_FIFO;
        int r;

        for (;;) {
                struct pollfd p[2] = { { .fd = self->fd, .events = events }, { .fd = self->wakefd, .events = POLLIN } };
                int left;

                if (lock)
                        PyThread_acquire_lock(self->lock, WAIT_LOCK);
                r = attempt(self, arg, 0);
                if (lock)
                        PyThread_release_lock(self->lock);
                if (r != -EAGAIN && r != -ETIMEDOUT)
                        return r;
                if (ms == 0)
                        return -EAGAIN;
                left = deadline_left(d);
                if (left == 0)
                        return -ETIMEDOUT;
                /* ready, or the deadline: either way the next attempt tells */
                if (poll(p, 2, left) < 0)
                        return -errno;
                if (p[1].revents)
                        return -ECANCELED;
        }
}

static int channel_run(ChannelObject *self, short events, int ms, attempt_fn attempt, void *arg) {
        PyThreadState *ts;
        struct deadline d;
        int r;

        deadline_init(&d, ms);
        for (;;) {
                /* again each time: another thread may have closed the channel or switched nonblock */
                bool in_kernel = channel_waits_in_kernel(self);
                if (self->closing)
                        return -ECANCELED;
                if (ms != 0 && !in_kernel && channel_wakefd(self) < 0)
                        return PYERR;
                ts = PyEval_SaveThread();
                r = in_kernel ? run_in_kernel(self, ms, &d, attempt, arg)
                              : run_polling(self, events, ms, &d, attempt, arg);
                PyEval_RestoreThread(ts);
                if (r != -EINTR)
                        return r;
                if (PyErr_CheckSignals() < 0)
                        return PYERR;
        }
}

/* Raise the exception for the result R of a data-path call (R < 0). */
static PyObject *channel_error(ChannelObject *self, int r, bool sending, int ms) {
        char text[128];

        if (r == PYERR)
                return NULL;
        if (r == -ECANCELED) {
                PyErr_SetString(PyExc_ValueError, "I/O operation on closed channel");
                return NULL;
        }
        if (r == -EAGAIN) {
                return raise_text(r, self->name,
                                  sending ? "full: no room for a message without waiting"
                                          : "empty: no message without waiting");
        }
        if (r == -ETIMEDOUT) {
                snprintf(text, sizeof(text), "%s within %.3g s", sending ? "no room for a message" : "no message",
                         ms / 1000.0);
                return raise_text(r, self->name, text);
        }
        return raise_text(r, self->name, ipcb_strerror(r));
}

/* The channel's receive buffer of at least SIZE bytes (GIL held), or a temporary one while another call uses it. */
static char *rbuf_take(ChannelObject *self, size_t size, bool *own) {
        char *b;

        if (!self->rbuf_busy) {
                if (self->rbuf_size < size) {
                        b = PyMem_RawRealloc(self->rbuf, size);
                        if (b) {
                                self->rbuf = b;
                                self->rbuf_size = size;
                        }
                }
                if (self->rbuf_size >= size) {
                        self->rbuf_busy = true;
                        *own = false;
                        return self->rbuf;
                }
        }
        b = PyMem_RawMalloc(size);
        *own = true;
        if (!b)
                PyErr_NoMemory();
        return b;
}

static void rbuf_give(ChannelObject *self, char *b, bool own) {
        if (own)
                PyMem_RawFree(b);
        else
                self->rbuf_busy = false;
}

/* How many messages a chunk of receive buffers holds. */
static size_t chunk_messages(const ChannelObject *self) {
        size_t n = CHUNK_BYTES / (size_t)self->message_size;

        return n < 1 ? 1 : n > CHUNK_MESSAGES ? CHUNK_MESSAGES : n;
}

/* ---- send ---- */

struct send_op {
        const void *data;
        size_t len;
        unsigned prio;
};

static int attempt_send(ChannelObject *self, void *arg, int wait_ms) {
        struct send_op *op = arg;

        return ipcb_timedsend(self->ch, op->data, op->len, op->prio, wait_ms);
}

static int parse_priority(PyObject *o, unsigned *prio) {
        unsigned long v;

        if (!o) {
                *prio = 0;
                return 0;
        }
        v = PyLong_AsUnsignedLong(o);
        if (v == (unsigned long)-1 && PyErr_Occurred()) {
                if (PyErr_ExceptionMatches(PyExc_OverflowError)) {
                        PyErr_Clear();
                        PyErr_SetString(PyExc_ValueError, "priority must be an integer >= 0");
                }
                return -1;
        }
        if (v > UINT_MAX) {
                PyErr_SetString(PyExc_ValueError, "priority is too large");
                return -1;
        }
        *prio = (unsigned)v;
        return 0;
}

/* A message too large for the channel, explained with both sizes. */
static PyObject *too_large(ChannelObject *self, size_t len) {
        char text[128];

        snprintf(text, sizeof(text), "a message of %zu bytes is larger than the channel's message size (%ld bytes)",
                 len, self->message_size);
        return raise_text(-EMSGSIZE, self->name, text);
}

/* send/try_send: TRY returns True or False (full) instead of waiting or raising BlockingIOError. */
static PyObject *channel_send_common(ChannelObject *self, PyObject *args, PyObject *kw, bool once) {
        static char *kwlist[] = { "data", "priority", "timeout", NULL };
        static char *kwlist_once[] = { "data", "priority", NULL };
        PyObject *prio_o = NULL, *timeout = Py_None, *res = NULL;
        Py_buffer data;
        struct send_op op;
        int ms = 0, r;

        if (once ? !PyArg_ParseTupleAndKeywords(args, kw, "y*|O:_try_send", kwlist_once, &data, &prio_o)
                 : !PyArg_ParseTupleAndKeywords(args, kw, "y*|OO:send", kwlist, &data, &prio_o, &timeout))
                return NULL;
        if (parse_priority(prio_o, &op.prio) < 0 ||
            (!once && parse_timeout(timeout, self->flags & IPCB_NONBLOCK, &ms) < 0))
                goto out;
        if (channel_enter(self) < 0)
                goto out;
        op.data = data.buf;
        op.len = (size_t)data.len;
        if ((self->flags & IPCB_SEND) && op.len > (size_t)self->message_size) {
                too_large(self, op.len);
                channel_leave(self);
                goto out;
        }
        r = channel_run(self, POLLOUT, ms, attempt_send, &op);
        channel_leave(self);
        if (r >= 0)
                res = once ? Py_NewRef(Py_True) : Py_NewRef(Py_None);
        else if (once && r == -EAGAIN)
                res = Py_NewRef(Py_False);
        else
                channel_error(self, r, true, ms);
out:
        PyBuffer_Release(&data);
        return res;
}

static PyObject *channel_send(ChannelObject *self, PyObject *args, PyObject *kw) {
        return channel_send_common(self, args, kw, false);
}

static PyObject *channel_try_send(ChannelObject *self, PyObject *args, PyObject *kw) {
        return channel_send_common(self, args, kw, true);
}

/* ---- receive ---- */

struct recv_op {
        ipcb_msg *msgs;
        size_t n;
};

static int attempt_recv(ChannelObject *self, void *arg, int wait_ms) {
        struct recv_op *op = arg;

        if (op->n == 1) {
                ssize_t m = ipcb_timedrecv(self->ch, op->msgs[0].data, op->msgs[0].len, &op->msgs[0].prio, wait_ms);
                if (m < 0)
                        return (int)m;
                op->msgs[0].len = (size_t)m;
                return 1;
        }
        return ipcb_recvv(self->ch, op->msgs, op->n, wait_ms);
}

/* Up to N messages into BUF (N buffers of message_size bytes), waiting MS for the first: the count or an error. */
static int recv_into(ChannelObject *self, char *buf, ipcb_msg *msgs, size_t n, int ms) {
        struct recv_op op = { .msgs = msgs, .n = n };

        for (size_t i = 0; i < n; i++)
                msgs[i] = (ipcb_msg){ .data = buf + i * (size_t)self->message_size, .len = (size_t)self->message_size };
        return channel_run(self, POLLIN, ms, attempt_recv, &op);
}

static PyObject *message_tuple(const ipcb_msg *m) {
        return Py_BuildValue("(y#I)", (const char *)m->data, (Py_ssize_t)m->len, m->prio);
}

/* recv/try_recv: TRY returns None (empty) instead of waiting or raising BlockingIOError. */
static PyObject *channel_recv_common(ChannelObject *self, PyObject *args, PyObject *kw, bool once) {
        static char *kwlist[] = { "timeout", NULL };
        PyObject *timeout = Py_None, *res = NULL;
        ipcb_msg msg;
        char *buf;
        bool own;
        int ms = 0, r;

        if (!once && (!PyArg_ParseTupleAndKeywords(args, kw, "|O:recv", kwlist, &timeout) ||
                      parse_timeout(timeout, self->flags & IPCB_NONBLOCK, &ms) < 0))
                return NULL;
        if (channel_enter(self) < 0)
                return NULL;
        buf = rbuf_take(self, (size_t)self->message_size, &own);
        if (buf) {
                r = recv_into(self, buf, &msg, 1, ms);
                if (r >= 0)
                        res = message_tuple(&msg);
                else if (once && r == -EAGAIN)
                        res = Py_NewRef(Py_None);
                else
                        channel_error(self, r, false, ms);
                rbuf_give(self, buf, own);
        }
        channel_leave(self);
        return res;
}

static PyObject *channel_recv(ChannelObject *self, PyObject *args, PyObject *kw) {
        return channel_recv_common(self, args, kw, false);
}

static PyObject *channel_try_recv(ChannelObject *self, PyObject *noargs) {
        return channel_recv_common(self, NULL, NULL, true);
}

/* ---- batches ---- */

struct sendv_op {
        ipcb_msg *msgs;
        size_t n, sent;
};

/* Some messages sent, not all: -EAGAIN, so that the next attempt waits for room within what time is left. */
static int attempt_sendv(ChannelObject *self, void *arg, int wait_ms) {
        struct sendv_op *op = arg;
        int r = ipcb_sendv(self->ch, op->msgs + op->sent, op->n - op->sent, wait_ms);

        if (r < 0)
                return r;
        op->sent += (size_t)r;
        return op->sent < op->n ? -EAGAIN : (int)op->sent;
}

/* One message of send_many: DATA, or (DATA, PRIORITY). */
static int parse_message(ChannelObject *self, PyObject *item, Py_buffer *view, ipcb_msg *msg) {
        PyObject *data = item;

        msg->prio = 0;
        if (PyTuple_Check(item)) {
                if (PyTuple_GET_SIZE(item) != 2) {
                        PyErr_SetString(PyExc_TypeError, "send_many: a message is bytes or a (bytes, priority) tuple");
                        return -1;
                }
                data = PyTuple_GET_ITEM(item, 0);
                if (parse_priority(PyTuple_GET_ITEM(item, 1), &msg->prio) < 0)
                        return -1;
        }
        if (PyObject_GetBuffer(data, view, PyBUF_SIMPLE) < 0)
                return -1;
        msg->data = view->buf;
        msg->len = (size_t)view->len;
        if ((self->flags & IPCB_SEND) && msg->len > (size_t)self->message_size) {
                too_large(self, msg->len);
                PyBuffer_Release(view);
                return -1;
        }
        return 0;
}

static PyObject *channel_send_many(ChannelObject *self, PyObject *args, PyObject *kw) {
        static char *kwlist[] = { "messages", "timeout", NULL };
        PyObject *messages, *timeout = Py_None, *seq, *res = NULL;
        struct sendv_op op = { 0 };
        Py_buffer *views = NULL;
        size_t got = 0;
        int ms, r;

        if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O:send_many", kwlist, &messages, &timeout) ||
            parse_timeout(timeout, self->flags & IPCB_NONBLOCK, &ms) < 0)
                return NULL;
        seq = PySequence_Fast(messages, "send_many: messages must be an iterable");
        if (!seq)
                return NULL;
        op.n = (size_t)PySequence_Fast_GET_SIZE(seq);
        if (op.n == 0) {
                Py_DECREF(seq);
                return PyLong_FromLong(0);
        }
        op.msgs = PyMem_Calloc(op.n, sizeof(*op.msgs));
        views = PyMem_Calloc(op.n, sizeof(*views));
        if (!op.msgs || !views) {
                PyErr_NoMemory();
                goto out;
        }
        for (; got < op.n; got++)
                if (parse_message(self, PySequence_Fast_GET_ITEM(seq, (Py_ssize_t)got), &views[got], &op.msgs[got]) < 0)
                        goto out;
        if (channel_enter(self) < 0)
                goto out;
        r = channel_run(self, POLLOUT, ms, attempt_sendv, &op);
        channel_leave(self);
        /* some were sent before the time ran out, or before an error that the next call meets again */
        if (r >= 0 || (op.sent > 0 && r != PYERR))
                res = PyLong_FromSize_t(op.sent);
        else
                channel_error(self, r, true, ms);
out:
        for (size_t i = 0; i < got; i++)
                PyBuffer_Release(&views[i]);
        PyMem_Free(views);
        PyMem_Free(op.msgs);
        Py_DECREF(seq);
        return res;
}

/* Append the N messages of MSGS to LIST as (bytes, priority). */
static int append_messages(PyObject *list, const ipcb_msg *msgs, size_t n) {
        for (size_t i = 0; i < n; i++) {
                PyObject *t = message_tuple(&msgs[i]);
                if (!t || PyList_Append(list, t) < 0) {
                        Py_XDECREF(t);
                        return -1;
                }
                Py_DECREF(t);
        }
        return 0;
}

static PyObject *channel_recv_many(ChannelObject *self, PyObject *args, PyObject *kw) {
        static char *kwlist[] = { "max", "timeout", NULL };
        ipcb_msg msgs[CHUNK_MESSAGES];
        PyObject *timeout = Py_None, *list = NULL;
        Py_ssize_t max = CHUNK_MESSAGES;
        size_t chunk, total = 0;
        char *buf;
        bool own;
        int ms, r;

        if (!PyArg_ParseTupleAndKeywords(args, kw, "|nO:recv_many", kwlist, &max, &timeout) ||
            parse_timeout(timeout, self->flags & IPCB_NONBLOCK, &ms) < 0)
                return NULL;
        if (max < 1) {
                PyErr_SetString(PyExc_ValueError, "recv_many: max must be at least 1");
                return NULL;
        }
        if (channel_enter(self) < 0)
                return NULL;
        chunk = chunk_messages(self);
        buf = rbuf_take(self, chunk * (size_t)self->message_size, &own);
        list = buf ? PyList_New(0) : NULL;
        /* the first chunk waits as asked; the next ones take only what is there */
        while (list && total < (size_t)max) {
                size_t want = (size_t)max - total < chunk ? (size_t)max - total : chunk;
                r = recv_into(self, buf, msgs, want, total ? 0 : ms);
                if (r < 0) {
                        if (total == 0 || r == PYERR) {
                                channel_error(self, r, false, ms);
                                Py_CLEAR(list);
                        }
                        break;
                }
                if (append_messages(list, msgs, (size_t)r) < 0) {
                        Py_CLEAR(list);
                        break;
                }
                total += (size_t)r;
                if ((size_t)r < want)
                        break;
        }
        if (buf)
                rbuf_give(self, buf, own);
        channel_leave(self);
        return list;
}

/* ---- the rest of the channel ---- */

static PyObject *channel_fileno(ChannelObject *self, PyObject *noargs) {
        if (!self->ch || self->closing) {
                PyErr_SetString(PyExc_ValueError, "I/O operation on closed channel");
                return NULL;
        }
        return PyLong_FromLong(self->fd);
}

static PyObject *channel_close(ChannelObject *self, PyObject *noargs) {
        if (!self->ch || self->closing)
                Py_RETURN_NONE;
        if (self->busy) {
                /* calls in other threads: wake their waits; the last one to leave closes the handle */
                uint64_t one = 1;
                atomic_store(&self->closing, true);
                if (self->wakefd >= 0 && write(self->wakefd, &one, sizeof(one)) < 0) {
                        /* the counter is already non-zero: the waits are woken */
                }
                Py_RETURN_NONE;
        }
        channel_release(self);
        Py_RETURN_NONE;
}

static const char *type_name(int type) {
        return type == IPCB_FIFO ? "fifo" : "mqueue";
}

static const char *framing_name(int type, int framing) {
        if (type != IPCB_FIFO)
                return NULL;
        return framing == IPCB_FRAMING_BATCH ? "batch" : "packet";
}

/* A count the kernel may not know (-1): None then. */
static PyObject *maybe(long long v) {
        if (v < 0)
                Py_RETURN_NONE;
        return PyLong_FromLongLong(v);
}

static PyObject *channel_getattr(ChannelObject *self, PyObject *noargs) {
        ipcb_attr a;
        int r;

        if (channel_enter(self) < 0)
                return NULL;
        PyThread_acquire_lock(self->lock, WAIT_LOCK);
        r = ipcb_getattr(self->ch, &a);
        PyThread_release_lock(self->lock);
        channel_leave(self);
        if (r < 0)
                return raise_text(r, self->name, ipcb_strerror(r));
        return Py_BuildValue("{s:s,s:N,s:l,s:N,s:N,s:N,s:z,s:O,s:O,s:O}", "type", type_name(a.type), "max_messages",
                             maybe(a.max_messages), "message_size", a.message_size, "depth", maybe(a.messages), "bytes",
                             maybe(a.bytes), "capacity", maybe(a.capacity), "framing", framing_name(a.type, a.framing),
                             "send", a.flags & IPCB_SEND ? Py_True : Py_False, "recv",
                             a.flags & IPCB_RECV ? Py_True : Py_False, "nonblock",
                             a.flags & IPCB_NONBLOCK ? Py_True : Py_False);
}

static PyObject *channel_get_pending(ChannelObject *self, void *closure) {
        int n;

        if (channel_enter(self) < 0)
                return NULL;
        PyThread_acquire_lock(self->lock, WAIT_LOCK);
        n = ipcb_pending(self->ch);
        PyThread_release_lock(self->lock);
        channel_leave(self);
        return n < 0 ? raise_text(n, self->name, ipcb_strerror(n)) : PyLong_FromLong(n);
}

static PyObject *channel_get_name(ChannelObject *self, void *closure) {
        return PyUnicode_FromString(self->name);
}

static PyObject *channel_get_closed(ChannelObject *self, void *closure) {
        return PyBool_FromLong(!self->ch || self->closing);
}

static PyObject *channel_get_nonblock(ChannelObject *self, void *closure) {
        return PyBool_FromLong(self->flags & IPCB_NONBLOCK);
}

static int channel_set_nonblock(ChannelObject *self, PyObject *value, void *closure) {
        int on, r;

        if (!value) {
                PyErr_SetString(PyExc_AttributeError, "cannot delete nonblock");
                return -1;
        }
        on = PyObject_IsTrue(value);
        if (on < 0 || channel_enter(self) < 0)
                return -1;
        PyThread_acquire_lock(self->lock, WAIT_LOCK);
        r = ipcb_set_nonblock(self->ch, on);
        PyThread_release_lock(self->lock);
        channel_leave(self);
        if (r < 0) {
                raise_text(r, self->name, ipcb_strerror(r));
                return -1;
        }
        self->flags = on ? self->flags | IPCB_NONBLOCK : self->flags & ~IPCB_NONBLOCK;
        return 0;
}

static void channel_finalize(PyObject *obj) {
        ChannelObject *self = (ChannelObject *)obj;
        PyObject *type, *value, *tb;

        if (!self->ch || self->closing)
                return;
        PyErr_Fetch(&type, &value, &tb);
        if (PyErr_ResourceWarning(obj, 1, "unclosed channel '%s'", self->name) < 0)
                PyErr_WriteUnraisable(obj);
        channel_release(self);
        PyErr_Restore(type, value, tb);
}

/* A static type: a subclass's dealloc (subtype_dealloc) drops the reference to its heap type. */
static void channel_dealloc(ChannelObject *self) {
        if (PyObject_CallFinalizerFromDealloc((PyObject *)self) < 0)
                return; /* resurrected */
        channel_release(self);
        if (self->lock)
                PyThread_free_lock(self->lock);
        Py_TYPE(self)->tp_free((PyObject *)self);
}

#define KW_METHOD(f) (PyCFunction)(void (*)(void))(f), METH_VARARGS | METH_KEYWORDS

static PyMethodDef channel_methods[] = {
        { "send", KW_METHOD(channel_send),
          "send(data, priority=0, timeout=None)\n--\n\n"
          "Send one message (bytes-like). priority orders a queue's messages (higher first; FIFOs ignore it).\n"
          "timeout: None waits for room as the channel was opened (forever, or not at all when non-blocking);\n"
          "0 does not wait (BlockingIOError when full); else seconds (TimeoutError when they pass)." },
        { "recv", KW_METHOD(channel_recv),
          "recv(timeout=None)\n--\n\n"
          "Receive one whole message: (payload, priority). timeout as for send() (empty: BlockingIOError)." },
        { "send_many", KW_METHOD(channel_send_many),
          "send_many(messages, timeout=None)\n--\n\n"
          "Send an iterable of messages (bytes, or (bytes, priority) tuples) with as few system calls as the\n"
          "channel allows (ipcb_sendv). Returns how many were sent: all of them, or fewer when the time ran out\n"
          "after some were sent." },
        { "recv_many", KW_METHOD(channel_recv_many),
          "recv_many(max=64, timeout=None)\n--\n\n"
          "Receive up to max messages (ipcb_recvv): waits for the first as recv() does, then takes only what\n"
          "is there already. Returns a list of (payload, priority)." },
        { "_try_send", KW_METHOD(channel_try_send),
          "_try_send(data, priority=0)\n--\n\nOne attempt without waiting: True when sent, False when full." },
        { "_try_recv", (PyCFunction)channel_try_recv, METH_NOARGS,
          "_try_recv()\n--\n\nOne attempt without waiting: (payload, priority), or None when empty." },
        { "fileno", (PyCFunction)channel_fileno, METH_NOARGS,
          "fileno()\n--\n\nThe kernel descriptor, for select/poll/epoll (readable: a message waits; writable: room)." },
        { "close", (PyCFunction)channel_close, METH_NOARGS,
          "close()\n--\n\nClose the channel (calls waiting in other threads raise ValueError)." },
        { "_getattr", (PyCFunction)channel_getattr, METH_NOARGS,
          "_getattr()\n--\n\nThe handle's attributes (ipcb_getattr) as a dict." },
        {},
};

static PyGetSetDef channel_getset[] = {
        { "name", (getter)channel_get_name, NULL, "The channel's name.", NULL },
        { "closed", (getter)channel_get_closed, NULL, "True once close() was called.", NULL },
        { "nonblock", (getter)channel_get_nonblock, (setter)channel_set_nonblock,
          "Whether calls without a timeout fail at once (BlockingIOError) instead of waiting.", NULL },
        { "pending", (getter)channel_get_pending, NULL,
          "Messages already read from the kernel and held in the handle (batch-framed FIFOs): receive them\n"
          "before waiting for the descriptor to become readable.",
          NULL },
        {},
};

static PyTypeObject ChannelType = {
        PyVarObject_HEAD_INIT(NULL, 0).tp_name = "ipcbroker._ipcbroker.Channel",
        .tp_basicsize = sizeof(ChannelObject),
        .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
        .tp_doc = "A channel opened through ipcbrokerd (use ipcbroker.open()).",
        .tp_dealloc = (destructor)channel_dealloc,
        .tp_finalize = channel_finalize,
        .tp_methods = channel_methods,
        .tp_getset = channel_getset,
};

/* ---- the daemon's calls ---------------------------------------------------------------------- */

/*
 * Every call that asks the daemon takes the daemon's socket as its last
 * argument: None for the thread's default (IPCBROKER_SOCKET, else the
 * compiled-in path), else a path, used by this thread for this call only
 * (ipcb_set_thread_socket), error messages included.
 */
static int socket_begin(PyObject *sock) {
        PyObject *b = NULL;
        int r;

        if (sock == Py_None)
                return 0;
        if (!PyUnicode_FSConverter(sock, &b))
                return -1;
        r = ipcb_set_thread_socket(PyBytes_AS_STRING(b));
        Py_DECREF(b);
        if (r < 0) {
                PyErr_SetString(PyExc_ValueError, r == -EINVAL ? "socket must be a non-empty path"
                                                               : "socket: the path is too long for a Unix socket");
                return -1;
        }
        return 0;
}

/* Ask the daemon with CALL (a library call) without the GIL; on failure raise its error and return NULL. */
#define ASK_DAEMON(call)                                                                                               \
        do {                                                                                                           \
                PyThreadState *ts_ = PyEval_SaveThread();                                                              \
                int r_ = (call);                                                                                       \
                PyEval_RestoreThread(ts_);                                                                             \
                if (r_ < 0)                                                                                            \
                        return raise_error(r_);                                                                        \
        } while (0)

/* IMPL with the NARGS arguments before the socket (it parses them itself). */
static PyObject *with_socket(PyObject *args, Py_ssize_t nargs, PyObject *(*impl)(PyObject *args)) {
        Py_ssize_t n = PyTuple_GET_SIZE(args);
        PyObject *sock, *rest, *res = NULL;

        if (n != nargs + 1) {
                PyErr_Format(PyExc_TypeError, "%zd arguments and the daemon's socket (None: the default) expected",
                             nargs);
                return NULL;
        }
        sock = PyTuple_GET_ITEM(args, n - 1);
        rest = PyTuple_GetSlice(args, 0, n - 1);
        if (rest && socket_begin(sock) == 0) {
                res = impl(rest);
                if (sock != Py_None)
                        ipcb_set_thread_socket(NULL);
        }
        Py_XDECREF(rest);
        return res;
}

/* _ipcbroker.open(cls, name, flags, socket): the channel from the daemon, as an instance of CLS (a Channel). */
static PyObject *open_impl(PyObject *args) {
        PyTypeObject *cls;
        const char *name;
        ChannelObject *self;
        ipcb_channel *ch = NULL;
        PyThreadState *ts;
        ipcb_attr a;
        int flags, r;

        if (!PyArg_ParseTuple(args, "O!si:open", &PyType_Type, &cls, &name, &flags))
                return NULL;
        if (!PyType_IsSubtype(cls, &ChannelType)) {
                PyErr_SetString(PyExc_TypeError, "open: cls must be a subclass of Channel");
                return NULL;
        }
        ts = PyEval_SaveThread();
        r = ipcb_open(name, flags, &ch);
        if (r >= 0)
                r = ipcb_getattr(ch, &a);
        PyEval_RestoreThread(ts);
        if (r < 0) {
                raise_error(r);
                if (ch)
                        ipcb_close(ch);
                return NULL;
        }
        self = (ChannelObject *)cls->tp_alloc(cls, 0);
        if (!self) {
                ipcb_close(ch);
                return NULL;
        }
        self->fd = self->wakefd = -1;
        self->lock = PyThread_allocate_lock();
        if (!self->lock) {
                ipcb_close(ch);
                Py_DECREF(self);
                return PyErr_NoMemory();
        }
        self->ch = ch;
        self->fd = ipcb_fd(ch);
        self->flags = flags;
        self->type = a.type;
        self->message_size = a.message_size > 0 ? a.message_size : 1;
        snprintf(self->name, sizeof(self->name), "%s", ipcb_name(ch));
        return (PyObject *)self;
}

/* ---- the daemon's reports ------------------------------------------------------------------------ */

static const char *state_name(int state) {
        return state == IPCB_STATE_READY ? "ready" : state == IPCB_STATE_REFUSED ? "refused" : "failed";
}

/* A report's text, None when empty. */
static PyObject *text(const char *s) {
        if (!s[0])
                Py_RETURN_NONE;
        return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "replace");
}

/* A channel of ipcb_stat (FULL) or ipcb_list (the stat-only fields None). */
static PyObject *info_dict(const ipcb_info *x, bool full) {
        bool mq = x->type == IPCB_MQUEUE;
        PyObject *d = Py_BuildValue(
                "{s:s,s:s,s:s,s:N,s:I,s:I,s:I,s:N,s:l,s:N,s:N,s:N,s:N,s:z}", "name", x->name, "type",
                type_name(x->type), "state", state_name(x->state), "problem", text(x->problem), "uid",
                (unsigned)x->owner, "gid", (unsigned)x->group, "mode", x->mode, "max_messages", maybe(x->max_messages),
                "message_size", x->message_size, "messages", maybe(x->messages), "bytes", maybe(x->bytes), "capacity",
                maybe(x->capacity), "mq_flags", mq ? PyLong_FromLong(x->mq_flags) : Py_NewRef(Py_None), "framing",
                framing_name(x->type, x->framing));
        PyObject *more;

        if (!d)
                return NULL;
        if (full)
                more = Py_BuildValue("{s:N,s:s,s:s,s:s,s:K,s:K}", "kernel_name", text(x->kernel_name), "on_stop",
                                     x->on_stop, "send", x->send, "recv", x->recv, "opens", x->opens, "denials",
                                     x->denials);
        else
                more = Py_BuildValue("{s:O,s:O,s:O,s:O,s:O,s:O}", "kernel_name", Py_None, "on_stop", Py_None, "send",
                                     Py_None, "recv", Py_None, "opens", Py_None, "denials", Py_None);
        if (!more || PyDict_Update(d, more) < 0)
                Py_CLEAR(d);
        Py_XDECREF(more);
        return d;
}

/* A list of N dicts, one per element of ARR (SIZE bytes each), made by MAKE. */
static PyObject *dict_list(const void *arr, size_t n, size_t size, PyObject *(*make)(const void *)) {
        PyObject *list = PyList_New((Py_ssize_t)n);

        for (size_t i = 0; list && i < n; i++) {
                PyObject *d = make((const char *)arr + i * size);
                if (!d)
                        Py_CLEAR(list);
                else
                        PyList_SET_ITEM(list, (Py_ssize_t)i, d);
        }
        return list;
}

static PyObject *list_entry(const void *p) {
        return info_dict(p, false);
}

static PyObject *stat_impl(PyObject *args) {
        const char *name;
        ipcb_info info;

        if (!PyArg_ParseTuple(args, "s:stat", &name))
                return NULL;
        ASK_DAEMON(ipcb_stat(name, &info));
        return info_dict(&info, true);
}

static PyObject *list_impl(PyObject *args) {
        ipcb_info *infos = NULL;
        PyObject *res;
        size_t n = 0;

        ASK_DAEMON(ipcb_list(&infos, &n));
        res = dict_list(infos, n, sizeof(*infos), list_entry);
        free(infos);
        return res;
}

/* NAMES (a sequence of str) as a C array pointing into SEQ (kept by the caller): 0 or -1. */
static int names_array(PyObject *names, PyObject **seq, const char ***arr, size_t *n) {
        *seq = PySequence_Fast(names, "names must be a sequence of str");
        if (!*seq)
                return -1;
        *n = (size_t)PySequence_Fast_GET_SIZE(*seq);
        *arr = PyMem_Calloc(*n ? *n : 1, sizeof(**arr));
        if (!*arr) {
                PyErr_NoMemory();
                return -1;
        }
        for (size_t i = 0; i < *n; i++) {
                (*arr)[i] = PyUnicode_AsUTF8(PySequence_Fast_GET_ITEM(*seq, (Py_ssize_t)i));
                if (!(*arr)[i])
                        return -1;
        }
        return 0;
}

static PyObject *purge_entry(const void *p) {
        const ipcb_purge_result *x = p;

        return Py_BuildValue("{s:s,s:i,s:z,s:K,s:K}", "name", x->name, "errno", -x->error, "message",
                             x->error < 0 ? (x->message[0] ? x->message : ipcb_strerror(x->error)) : NULL, "messages",
                             x->messages, "bytes", x->bytes);
}

/* _ipcbroker.purge(names or None): one dict per channel (errno 0 when it was purged). */
static PyObject *purge_impl(PyObject *args) {
        PyObject *names, *seq = NULL, *res = NULL;
        const char **arr = NULL;
        ipcb_purge_result *results = NULL;
        size_t n = 0, n_results = 0;
        PyThreadState *ts;
        int r;

        if (!PyArg_ParseTuple(args, "O:purge", &names))
                return NULL;
        if (names != Py_None && names_array(names, &seq, &arr, &n) < 0)
                goto out;
        ts = PyEval_SaveThread();
        r = ipcb_purge(names == Py_None ? NULL : arr, n, &results, &n_results);
        PyEval_RestoreThread(ts);
        if (r < 0)
                raise_error(r);
        else
                res = dict_list(results, n_results, sizeof(*results), purge_entry);
        free(results);
out:
        PyMem_Free(arr);
        Py_XDECREF(seq);
        return res;
}

static PyObject *reload_impl(PyObject *args) {
        char *message = NULL;
        PyObject *res;

        ASK_DAEMON(ipcb_reload(&message));
        res = PyUnicode_DecodeUTF8(message ? message : "", message ? (Py_ssize_t)strlen(message) : 0, "replace");
        free(message);
        return res;
}

static PyObject *status_impl(PyObject *args) {
        ipcb_status st;

        ASK_DAEMON(ipcb_status_get(&st));
        return Py_BuildValue("{s:s,s:i,s:K,s:N,s:N,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K}", "version", st.version, "pid",
                             (int)st.pid, "uptime", st.uptime, "config_file", text(st.config_file), "socket",
                             text(st.socket), "channels", st.channels, "channels_ready", st.channels_ready, "clients",
                             st.clients, "connections", st.connections, "requests", st.requests, "opens", st.opens,
                             "denied", st.denied, "reloads", st.reloads);
}

static PyObject *metrics_entry(const void *p) {
        const ipcb_channel_metrics *c = p;

        return Py_BuildValue(
                "{s:s,s:s,s:s,s:N,s:N,s:N,s:N,s:N,s:O,s:d,s:K,s:K,s:K,s:K,s:K,s:K,s:K}", "name", c->name, "type",
                type_name(c->type), "state", state_name(c->state), "messages", maybe(c->messages), "bytes",
                maybe(c->bytes), "max_messages", maybe(c->max_messages), "capacity", maybe(c->capacity), "high_water",
                maybe(c->high_water), "full", c->full ? Py_True : Py_False, "full_seconds", c->full_seconds,
                "full_events", c->full_events, "full_alerts", c->full_alerts, "opens_send", c->opens_send, "opens_recv",
                c->opens_recv, "denied_send", c->denied_send, "denied_recv", c->denied_recv, "holders", c->holders);
}

static PyObject *metrics_impl(PyObject *args) {
        ipcb_metrics *m = NULL;
        PyObject *res;

        ASK_DAEMON(ipcb_metrics_get(&m));
        res = Py_BuildValue("{s:s,s:L,s:d,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:N}", "version", m->version, "start_time",
                            m->start_time, "sample_interval", m->sample_interval, "clients", m->clients, "connections",
                            m->connections, "requests", m->requests, "opens", m->opens, "denied", m->denied, "reloads",
                            m->reloads, "reload_failures", m->reload_failures, "channels",
                            dict_list(m->channels, m->n_channels, sizeof(*m->channels), metrics_entry));
        ipcb_metrics_free(m);
        return res;
}

static PyObject *holder_entry(const void *p) {
        const ipcb_holder *h = p;

        return Py_BuildValue("{s:s,s:O,s:O,s:I,s:N,s:i,s:N,s:N,s:L,s:K}", "channel", h->channel, "send",
                             h->access & IPCB_SEND ? Py_True : Py_False, "recv",
                             h->access & IPCB_RECV ? Py_True : Py_False, "uid", (unsigned)h->uid, "user", text(h->user),
                             "pid", (int)h->pid, "command", text(h->command), "unit", text(h->unit), "since", h->since,
                             "opens", h->opens);
}

static PyObject *holders_impl(PyObject *args) {
        const char *name = NULL;
        ipcb_holder *holders = NULL;
        PyObject *res;
        size_t n = 0;

        if (!PyArg_ParseTuple(args, "z:holders", &name))
                return NULL;
        ASK_DAEMON(ipcb_holders(name, &holders, &n));
        res = dict_list(holders, n, sizeof(*holders), holder_entry);
        free(holders);
        return res;
}

/* One round of wait: short, so that signals are seen (ipcb_wait_many retries EINTR itself). */
#define WAIT_ROUND_MS 1000

static PyObject *wait_impl(PyObject *args) {
        PyObject *names, *timeout, *seq = NULL, *res = NULL;
        const char **arr = NULL;
        struct deadline d;
        size_t n = 0;
        int ms, r;

        if (!PyArg_ParseTuple(args, "OO:wait", &names, &timeout) || parse_timeout(timeout, false, &ms) < 0 ||
            names_array(names, &seq, &arr, &n) < 0)
                goto out;
        deadline_init(&d, ms);
        for (;;) {
                int left = deadline_left(&d), round = left < 0 || left > WAIT_ROUND_MS ? WAIT_ROUND_MS : left;
                PyThreadState *ts = PyEval_SaveThread();
                r = ipcb_wait_many(arr, n, round);
                PyEval_RestoreThread(ts);
                if (r != -ETIMEDOUT || deadline_left(&d) == 0)
                        break;
                if (PyErr_CheckSignals() < 0)
                        goto out;
        }
        res = r < 0 ? raise_error(r) : Py_NewRef(Py_None);
out:
        PyMem_Free(arr);
        Py_XDECREF(seq);
        return res;
}

static PyObject *access_impl(PyObject *args) {
        const char *name, *user = NULL;
        ipcb_access a;

        if (!PyArg_ParseTuple(args, "sz:access", &name, &user))
                return NULL;
        ASK_DAEMON(ipcb_access_check(name, user, &a));
        return Py_BuildValue("{s:s,s:I,s:N,s:O,s:O,s:N,s:N}", "channel", a.channel, "uid", (unsigned)a.uid, "user",
                             text(a.user), "send", a.send ? Py_True : Py_False, "recv", a.recv ? Py_True : Py_False,
                             "send_rule", text(a.send_rule), "recv_rule", text(a.recv_rule));
}

static PyObject *py_socket_path(PyObject *mod, PyObject *noargs) {
        return PyUnicode_DecodeFSDefault(ipcb_socket_path());
}

static PyObject *py_library_version(PyObject *mod, PyObject *noargs) {
        return PyUnicode_FromString(ipcb_version());
}

#define DAEMON_CALL(name, nargs)                                                                                       \
        static PyObject *py_##name(PyObject *mod, PyObject *args) {                                                    \
                return with_socket(args, nargs, name##_impl);                                                          \
        }
DAEMON_CALL(open, 3)
DAEMON_CALL(stat, 1)
DAEMON_CALL(list, 0)
DAEMON_CALL(purge, 1)
DAEMON_CALL(reload, 0)
DAEMON_CALL(status, 0)
DAEMON_CALL(metrics, 0)
DAEMON_CALL(holders, 1)
DAEMON_CALL(wait, 2)
DAEMON_CALL(access, 2)

static PyMethodDef module_methods[] = {
        { "open", py_open, METH_VARARGS, "open(cls, name, flags, socket)\n--\n\nipcb_open: an instance of cls." },
        { "stat", py_stat, METH_VARARGS, "stat(name, socket)\n--\n\nipcb_stat as a dict." },
        { "list", py_list, METH_VARARGS, "list(socket)\n--\n\nipcb_list as a list of dicts." },
        { "purge", py_purge, METH_VARARGS,
          "purge(names, socket)\n--\n\nipcb_purge (names None: all) as a list of dicts." },
        { "reload", py_reload, METH_VARARGS, "reload(socket)\n--\n\nipcb_reload: the daemon's answer." },
        { "status", py_status, METH_VARARGS, "status(socket)\n--\n\nipcb_status_get as a dict." },
        { "metrics", py_metrics, METH_VARARGS, "metrics(socket)\n--\n\nipcb_metrics_get as a dict." },
        { "holders", py_holders, METH_VARARGS, "holders(name, socket)\n--\n\nipcb_holders (name None: all) as dicts." },
        { "wait", py_wait, METH_VARARGS, "wait(names, timeout, socket)\n--\n\nipcb_wait_many." },
        { "access", py_access, METH_VARARGS, "access(name, user, socket)\n--\n\nipcb_access_check as a dict." },
        { "error", py_error, METH_VARARGS, "error(errno, message)\n--\n\nThe exception raised for them." },
        { "socket_path", py_socket_path, METH_NOARGS, "socket_path()\n--\n\nipcb_socket_path()." },
        { "library_version", py_library_version, METH_NOARGS, "library_version()\n--\n\nipcb_version()." },
        {},
};

static struct PyModuleDef module = {
        PyModuleDef_HEAD_INIT,
        .m_name = "ipcbroker._ipcbroker",
        .m_doc = "libipcbroker for Python (use the package ipcbroker).",
        .m_size = -1,
        .m_methods = module_methods,
};

PyMODINIT_FUNC PyInit__ipcbroker(void) {
        PyObject *m;

        if (PyType_Ready(&ChannelType) < 0)
                return NULL;
        m = PyModule_Create(&module);
        if (!m)
                return NULL;
        if (PyModule_AddObjectRef(m, "Channel", (PyObject *)&ChannelType) < 0 ||
            PyModule_AddIntConstant(m, "SEND", IPCB_SEND) < 0 || PyModule_AddIntConstant(m, "RECV", IPCB_RECV) < 0 ||
            PyModule_AddIntConstant(m, "NONBLOCK", IPCB_NONBLOCK) < 0 ||
            PyModule_AddIntConstant(m, "NAME_MAX", IPCB_NAME_MAX) < 0) {
                Py_DECREF(m);
                return NULL;
        }
        return m;
}
