/*
 * ipcbroker.h — libipcbroker, the client library of ipcbrokerd.
 *
 * Open a channel by name; the daemon checks who you are and passes back the
 * kernel descriptor of the channel's POSIX message queue or FIFO. Messages
 * then go straight through the kernel: the daemon is not on the data path.
 *
 * Every call returns 0 (or a non-negative count) on success and a negative
 * errno on failure; ipcb_strerror() explains it. The library keeps no global
 * state and raises no signals; distinct handles may be used from distinct
 * threads at the same time. The daemon's socket is the one the thread chose
 * (ipcb_set_thread_socket), else IPCBROKER_SOCKET from the environment, else
 * the compiled-in default (see ipcb_socket_path()); the library talks only
 * to a server run by root, the caller, or the uid in IPCBROKER_DAEMON_UID.
 */
#ifndef IPCBROKER_H
#define IPCBROKER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IPCB_NAME_MAX 128 /* longest channel name */
#define IPCB_PATH_MAX 512 /* longest kernel name or FIFO path reported */
#define IPCB_TEXT_MAX 512 /* longest free text in a report */

typedef struct ipcb_channel ipcb_channel;

/* ipcb_open() flags */
enum {
        IPCB_SEND = 1,
        IPCB_RECV = 2,
        IPCB_NONBLOCK = 4,
};

/* Channel types */
enum {
        IPCB_MQUEUE = 1,
        IPCB_FIFO = 2,
};

/* FIFO framing (see ipcbroker.conf(5), framing=) */
enum {
        IPCB_FRAMING_PACKET = 0, /* one pipe packet per message; plain programs can share the FIFO */
        IPCB_FRAMING_BATCH = 1,  /* several length-prefixed messages per packet: ipcb_sendv packs them */
};

/* Channel states reported by ipcb_stat()/ipcb_list() */
enum {
        IPCB_STATE_READY = 0,   /* the kernel object exists and is verified */
        IPCB_STATE_REFUSED = 1, /* its name is taken by an object the daemon does not trust */
        IPCB_STATE_FAILED = 2,  /* the daemon could not create it */
};

/* ---- data path ---------------------------------------------------------- */

/* Open channel NAME for IPCB_SEND and/or IPCB_RECV (plus IPCB_NONBLOCK). */
int ipcb_open(const char *name, int flags, ipcb_channel **out);
/* Send one message; prio orders messages on queues (0..31 portable), FIFOs ignore it. */
int ipcb_send(ipcb_channel *ch, const void *msg, size_t len, unsigned prio);
/* As ipcb_send, waiting at most timeout_ms (-1: forever, 0: not at all) for room. */
int ipcb_timedsend(ipcb_channel *ch, const void *msg, size_t len, unsigned prio, int timeout_ms);
/* Receive one whole message into buf; returns its length. size must be at least the message size. */
ssize_t ipcb_recv(ipcb_channel *ch, void *buf, size_t size, unsigned *prio);
ssize_t ipcb_timedrecv(ipcb_channel *ch, void *buf, size_t size, unsigned *prio, int timeout_ms);
/* One message of a batch. */
typedef struct ipcb_msg {
        void *data;    /* send: the message; receive: a buffer at least the channel's message size */
        size_t len;    /* send: its length; receive: in, the buffer's size; out, the message's length */
        unsigned prio; /* send: its priority; receive: the priority it had (0 on FIFOs) */
} ipcb_msg;

/*
 * Send up to N messages with as few system calls as the channel allows: on a
 * batch-framed FIFO, as many as fit in one atomic pipe packet per write; on
 * queues and packet-framed FIFOs, one call each. Waits for room within
 * timeout_ms (-1 forever). Returns how many were sent (N unless the wait ran
 * out after some were sent), or a negative errno if none was.
 */
int ipcb_sendv(ipcb_channel *ch, const ipcb_msg *msgs, size_t n, int timeout_ms);
/*
 * Receive up to N messages: waits within timeout_ms for the first, then takes
 * what is already there without waiting. Returns how many were received.
 * On a batch-framed FIFO a packet's messages go to one receiver; messages
 * it has read but not yet returned are returned first by the next call, so
 * drain with ipcb_recv/ipcb_recvv until -EAGAIN before waiting in poll().
 */
int ipcb_recvv(ipcb_channel *ch, ipcb_msg *msgs, size_t n, int timeout_ms);
/* Messages already read from the kernel and held in the handle (batch-framed FIFOs). */
int ipcb_pending(const ipcb_channel *ch);

/* The descriptor, for poll/epoll in the caller's own loop (POLLIN: a message waits; POLLOUT: room). */
int ipcb_fd(const ipcb_channel *ch);
int ipcb_close(ipcb_channel *ch);
/* Switch the handle between blocking and non-blocking operation. */
int ipcb_set_nonblock(ipcb_channel *ch, int nonblock);

/* What an open channel is, and how full it is now (read from the kernel). */
typedef struct ipcb_attr {
        int type;          /* IPCB_MQUEUE or IPCB_FIFO */
        int flags;         /* IPCB_SEND/IPCB_RECV/IPCB_NONBLOCK of this handle */
        long max_messages; /* queue: mq_maxmsg; FIFO: packets the pipe holds */
        long message_size; /* largest message */
        long messages;     /* queued now; -1 when the kernel cannot tell (FIFO) */
        long long bytes;   /* bytes queued now; -1 when the kernel cannot tell (queue) */
        long capacity;     /* FIFO: pipe buffer size; -1 for queues */
        int framing;       /* FIFO: IPCB_FRAMING_PACKET or IPCB_FRAMING_BATCH */
} ipcb_attr;

int ipcb_getattr(const ipcb_channel *ch, ipcb_attr *attr);
const char *ipcb_name(const ipcb_channel *ch);

/* ---- inspection and administration (through the daemon) ---------------- */

typedef struct ipcb_info {
        char name[IPCB_NAME_MAX + 1];
        int type;  /* IPCB_MQUEUE or IPCB_FIFO */
        int state; /* IPCB_STATE_* */
        uid_t owner;
        gid_t group;
        unsigned mode;
        long max_messages;               /* mq_maxmsg (FIFO: packets the pipe holds) */
        long message_size;               /* mq_msgsize (FIFO: largest message) */
        long messages;                   /* mq_curmsgs; -1 unknown */
        long long bytes;                 /* bytes queued; -1 unknown */
        long capacity;                   /* FIFO pipe size; -1 for queues */
        long mq_flags;                   /* mq_flags of the daemon's descriptor */
        char kernel_name[IPCB_PATH_MAX]; /* queue name or FIFO path (ipcb_stat only) */
        char on_stop[16];                /* keep | remove (ipcb_stat only) */
        char send[IPCB_TEXT_MAX];        /* extra senders (ipcb_stat only) */
        char recv[IPCB_TEXT_MAX];        /* extra receivers (ipcb_stat only) */
        char problem[IPCB_TEXT_MAX];     /* why it is not ready, if it is not */
        unsigned long long opens;        /* opens granted (ipcb_stat only) */
        unsigned long long denials;      /* opens denied (ipcb_stat only) */
        int framing;                     /* FIFO: IPCB_FRAMING_PACKET or IPCB_FRAMING_BATCH */
} ipcb_info;

int ipcb_stat(const char *name, ipcb_info *info);
/* All channels, sorted by name; free *infos with free(). Returns the count. */
int ipcb_list(ipcb_info **infos, size_t *n);

typedef struct ipcb_purge_result {
        char name[IPCB_NAME_MAX + 1];
        int error;                   /* 0 or a negative errno */
        char message[IPCB_TEXT_MAX]; /* why it failed */
        unsigned long long messages; /* dropped */
        unsigned long long bytes;    /* dropped */
} ipcb_purge_result;

/*
 * Drop the queued messages of the N channels in NAMES, or of every channel
 * when NAMES is NULL. One result per channel in *results (free with free()).
 * Returns 0 when the request was carried out (see each result's error) or a
 * negative errno (e.g. -EPERM for a caller who is not an admin).
 */
int ipcb_purge(const char *const *names, size_t n, ipcb_purge_result **results, size_t *n_results);

/* Ask the daemon to reload its configuration; *message (free()) gets its answer. */
int ipcb_reload(char **message);

typedef struct ipcb_status {
        char version[32];
        pid_t pid;
        unsigned long long uptime; /* seconds */
        char config_file[IPCB_PATH_MAX];
        char socket[IPCB_PATH_MAX];
        unsigned long long channels;
        unsigned long long channels_ready;
        unsigned long long clients;     /* connected now */
        unsigned long long connections; /* accepted since start */
        unsigned long long requests;    /* served since start */
        unsigned long long opens;       /* granted since start */
        unsigned long long denied;      /* refused since start */
        unsigned long long reloads;
} ipcb_status;

int ipcb_status_get(ipcb_status *status);

/* ---- the operators' view: metrics, holders, wait, access ----------------- */

/* One channel's statistics, kept by the daemon (depth sampled every sample_interval). */
typedef struct ipcb_channel_metrics {
        char name[IPCB_NAME_MAX + 1];
        int type;                       /* IPCB_MQUEUE or IPCB_FIFO */
        int state;                      /* IPCB_STATE_* */
        long messages;                  /* queued at the last sample; -1 unknown (a FIFO that holds something) */
        long long bytes;                /* bytes queued at the last sample; -1 unknown */
        long max_messages;              /* queue: mq_maxmsg; FIFO: packets the pipe holds, -1 unknown */
        long capacity;                  /* FIFO: pipe size in bytes; -1 for queues */
        long long high_water;           /* most queued since start: messages (FIFO: bytes); -1 unknown */
        int full;                       /* full at the last sample */
        double full_seconds;            /* time spent full since start */
        unsigned long long full_events; /* times it became full */
        unsigned long long full_alerts; /* alert_full_after warnings */
        unsigned long long opens_send;  /* opens granted that include send */
        unsigned long long opens_recv;  /* opens granted that include receive */
        unsigned long long denied_send; /* opens denied that asked for send */
        unsigned long long denied_recv; /* opens denied that asked for receive */
        unsigned long long holders;     /* live grants (see ipcb_holders) */
} ipcb_channel_metrics;

typedef struct ipcb_metrics {
        char version[32];
        long long start_time;   /* the daemon's start, Unix seconds */
        double sample_interval; /* seconds between depth samples; 0: sampling is off */
        unsigned long long clients;
        unsigned long long connections;
        unsigned long long requests;
        unsigned long long opens;
        unsigned long long denied;
        unsigned long long reloads;
        unsigned long long reload_failures;
        size_t n_channels;
        ipcb_channel_metrics *channels; /* sorted by name */
} ipcb_metrics;

/* Everything the daemon counts; free *out with ipcb_metrics_free(). */
int ipcb_metrics_get(ipcb_metrics **out);
void ipcb_metrics_free(ipcb_metrics *m);

/*
 * A grant the daemon made and whose process still lives: who was given a
 * descriptor on which channel. A descriptor can be passed on (SCM_RIGHTS,
 * fork): this is who the broker gave it to, not every process that holds it.
 */
typedef struct ipcb_holder {
        char channel[IPCB_NAME_MAX + 1];
        int access; /* IPCB_SEND | IPCB_RECV */
        uid_t uid;
        char user[64]; /* the uid's name, empty when it has none */
        pid_t pid;
        char command[32];         /* the process's command name when it was granted */
        char unit[256];           /* its systemd unit, empty when not in one */
        long long since;          /* the first such grant, Unix seconds */
        unsigned long long opens; /* grants to this process, channel and access */
} ipcb_holder;

/*
 * The live grants on NAME, or on every channel (NAME NULL), sorted by
 * channel: everyone's for an admin, the caller's own for anyone else. Free
 * *out with free(). Returns the count.
 */
int ipcb_holders(const char *name, ipcb_holder **out, size_t *n);

/*
 * Wait until channel NAME exists and is ready, for at most TIMEOUT_MS (-1:
 * no limit). The daemon answers when the state changes; the caller does not
 * poll. 0, -ETIMEDOUT, or another negative errno.
 */
int ipcb_wait(const char *name, int timeout_ms);
/* The same for N channels at once: 0 once every one is ready. */
int ipcb_wait_many(const char *const *names, size_t n, int timeout_ms);

/* What a user may do on a channel, and the rule that decided each. */
typedef struct ipcb_access {
        char channel[IPCB_NAME_MAX + 1];
        uid_t uid;
        char user[64];
        int send; /* 1 allowed, 0 denied */
        int recv;
        char send_rule[IPCB_TEXT_MAX]; /* e.g. "owner class of mode 0640" or why not */
        char recv_rule[IPCB_TEXT_MAX];
} ipcb_access;

/* What the caller may do on NAME; with USER (a name or uid), what that user may (admins only). */
int ipcb_access_check(const char *name, const char *user, ipcb_access *out);

/* ---- errors and environment ---------------------------------------------- */

/*
 * Explain an error returned by any call. -ECONNREFUSED means the daemon
 * could not be reached (the text names the socket path). -EREMCHG means the
 * server at the socket path runs as a uid that is neither 0, the caller's
 * effective uid, nor IPCBROKER_DAEMON_UID: not ipcbrokerd, and nothing was
 * sent to it (the text names the path and the uid). The string is valid
 * until the next call in the same thread.
 */
const char *ipcb_strerror(int err);
/* The socket path the library uses: this thread's choice, else IPCBROKER_SOCKET, else the default. */
const char *ipcb_socket_path(void);
/*
 * Talk to the daemon at PATH in the calls this thread makes from now on,
 * instead of IPCBROKER_SOCKET or the default; NULL goes back to them. PATH is
 * copied. For a program that talks to several daemons, or chooses one per
 * call, without changing the process's environment. 0, -EINVAL (empty) or
 * -ENAMETOOLONG.
 */
int ipcb_set_thread_socket(const char *path);
/* The library's version string. */
const char *ipcb_version(void);

#ifdef __cplusplus
}
#endif

#endif
