/*
 * limits.c — what the kernel will allow, checked before we ask it.
 *
 * Without CAP_SYS_RESOURCE, mq_open() refuses mq_maxmsg above
 * fs.mqueue.msg_max and mq_msgsize above fs.mqueue.msgsize_max (EINVAL), a
 * queue beyond fs.mqueue.queues_max (ENOSPC), and F_SETPIPE_SZ above
 * fs.pipe-max-size (EPERM). With it, only the hard maxima apply. Whatever the
 * privilege, every queue is charged to RLIMIT_MSGQUEUE of the user that
 * creates it, and overflowing it fails with a misleading EMFILE; only
 * CAP_SYS_RESOURCE may raise the hard limit.
 */
#include "build-config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <linux/capability.h>

#include "limits.h"
#include "log.h"

static long read_sysctl(const char *path) {
        FILE *f = fopen(path, "re");
        long v = -1;

        if (!f)
                return -1;
        if (fscanf(f, "%ld", &v) != 1)
                v = -1;
        fclose(f);
        return v;
}

static bool have_cap(int cap) {
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
        struct __user_cap_data_struct d[2] = {};

        if (syscall(SYS_capget, &h, d) < 0)
                return false;
        return d[cap / 32].effective & (1u << (cap % 32));
}

void kernel_limits_read(struct kernel_limits *k) {
        k->msg_max = read_sysctl("/proc/sys/fs/mqueue/msg_max");
        k->msgsize_max = read_sysctl("/proc/sys/fs/mqueue/msgsize_max");
        k->queues_max = read_sysctl("/proc/sys/fs/mqueue/queues_max");
        k->pipe_max_size = read_sysctl("/proc/sys/fs/pipe-max-size");
        if (getrlimit(RLIMIT_MSGQUEUE, &k->rlimit_msgqueue) < 0)
                k->rlimit_msgqueue.rlim_cur = k->rlimit_msgqueue.rlim_max = RLIM_INFINITY;
        k->cap_sys_resource = have_cap(CAP_SYS_RESOURCE);
}

unsigned long long limits_mq_bytes(long max_messages, long message_size) {
        /*
         * mq_treesize = maxmsg * sizeof(struct msg_msg)
         *             + min(maxmsg, MQ_PRIO_MAX) * sizeof(struct posix_msg_tree_node)
         * both 48 bytes on 64-bit kernels; the charge is that plus maxmsg * msgsize.
         */
        unsigned long long m = (unsigned long long)max_messages;
        unsigned long long prio = m < 32768 ? m : 32768;
        return m * 48 + prio * 48 + m * (unsigned long long)message_size;
}

static unsigned long long total_mq_bytes(const struct config *c) {
        unsigned long long total = 0;

        for (size_t i = 0; i < c->n_channels; i++)
                if (c->channels[i]->type == CHANNEL_MQUEUE)
                        total += limits_mq_bytes(c->channels[i]->max_messages, c->channels[i]->message_size);
        return total;
}

void limits_check(const struct config *c, const struct kernel_limits *k, struct config_errors *errors) {
        unsigned long long total = 0;
        size_t n_queues = 0;
        bool over = false;

        for (size_t i = 0; i < c->n_channels; i++) {
                const struct channel_config *ch = c->channels[i];

                if (ch->type == CHANNEL_MQUEUE) {
                        unsigned long long bytes = limits_mq_bytes(ch->max_messages, ch->message_size);

                        n_queues++;
                        if (!k->cap_sys_resource && k->msg_max > 0 && ch->max_messages > k->msg_max)
                                config_errors_add(errors, ch->file, ch->line,
                                                  "channel '%s': max_messages %ld exceeds fs.mqueue.msg_max (%ld) and "
                                                  "the daemon lacks CAP_SYS_RESOURCE; lower it or raise the sysctl",
                                                  ch->name, ch->max_messages, k->msg_max);
                        if (!k->cap_sys_resource && k->msgsize_max > 0 && ch->message_size > k->msgsize_max)
                                config_errors_add(errors, ch->file, ch->line,
                                                  "channel '%s': message_size %ld exceeds fs.mqueue.msgsize_max (%ld) "
                                                  "and the daemon lacks CAP_SYS_RESOURCE; lower it or raise the sysctl",
                                                  ch->name, ch->message_size, k->msgsize_max);
                        total += bytes;
                        if (!k->cap_sys_resource && k->rlimit_msgqueue.rlim_max != RLIM_INFINITY &&
                            total > k->rlimit_msgqueue.rlim_max) {
                                config_errors_add(
                                        errors, ch->file, ch->line,
                                        "channel '%s' does not fit in RLIMIT_MSGQUEUE: the queues up to this "
                                        "one need %llu bytes of kernel memory, the hard limit is %llu and the "
                                        "daemon lacks CAP_SYS_RESOURCE to raise it (this queue: %llu bytes)",
                                        ch->name, total, (unsigned long long)k->rlimit_msgqueue.rlim_max, bytes);
                                over = true;
                        }
                } else {
                        if (!k->cap_sys_resource && k->pipe_max_size > 0 && ch->capacity > k->pipe_max_size)
                                config_errors_add(errors, ch->file, ch->line,
                                                  "channel '%s': capacity %ld exceeds fs.pipe-max-size (%ld) and the "
                                                  "daemon lacks CAP_SYS_RESOURCE",
                                                  ch->name, ch->capacity, k->pipe_max_size);
                }
        }
        if (over)
                config_errors_add(
                        errors, c->file, 0,
                        "the declared queues need %llu bytes of RLIMIT_MSGQUEUE in all; lower max_messages or "
                        "message_size, or run the daemon with CAP_SYS_RESOURCE (LimitMSGQUEUE= in the unit)",
                        total);
        if (!k->cap_sys_resource && k->queues_max > 0 && (long)n_queues > k->queues_max)
                config_errors_add(errors, c->file, 0,
                                  "%zu queues declared but fs.mqueue.queues_max is %ld and the daemon lacks "
                                  "CAP_SYS_RESOURCE",
                                  n_queues, k->queues_max);
}

void limits_raise_msgqueue(const struct config *c, const struct kernel_limits *k) {
        unsigned long long need = total_mq_bytes(c);
        struct rlimit rl = k->rlimit_msgqueue;

        if (need == 0 || rl.rlim_cur == RLIM_INFINITY)
                return;
        /* headroom for queues recreated on reload while the old ones still exist */
        need += need / 4 + 819200;
        if (rl.rlim_cur >= need)
                return;
        if (rl.rlim_max != RLIM_INFINITY && need > rl.rlim_max) {
                if (k->cap_sys_resource)
                        rl.rlim_max = need;
                else
                        need = rl.rlim_max; /* anyone may raise the soft limit up to the hard one */
        }
        if (need <= rl.rlim_cur)
                return;
        rl.rlim_cur = need;
        if (setrlimit(RLIMIT_MSGQUEUE, &rl) < 0) {
                log_warning("cannot raise RLIMIT_MSGQUEUE to %llu bytes: %s", need, strerror(errno));
                return;
        }
        log_debug("RLIMIT_MSGQUEUE raised to %llu bytes", need);
}
