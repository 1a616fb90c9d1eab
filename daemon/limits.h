/*
 * limits.h — the kernel's limits on queues and pipes, and the check of a
 * configuration against them at load time (so `ipcbrokerd -t` can say what
 * the kernel would refuse, before anything is created).
 */
#pragma once

#include <stdbool.h>
#include <sys/resource.h>

#include "config.h"

struct kernel_limits {
        long msg_max;       /* fs.mqueue.msg_max */
        long msgsize_max;   /* fs.mqueue.msgsize_max */
        long queues_max;    /* fs.mqueue.queues_max */
        long pipe_max_size; /* fs.pipe-max-size */
        struct rlimit rlimit_msgqueue;
        bool cap_sys_resource; /* may exceed the sysctls and raise RLIMIT_MSGQUEUE */
};

/* Read the limits in force for this process. Unknown values are -1. */
void kernel_limits_read(struct kernel_limits *k);

/* Bytes the kernel charges to RLIMIT_MSGQUEUE for one queue (ipc/mqueue.c). */
unsigned long long limits_mq_bytes(long max_messages, long message_size);

/* Add an error for every channel the kernel would refuse; warnings are logged. */
void limits_check(const struct config *c, const struct kernel_limits *k, struct config_errors *errors);

/*
 * Raise RLIMIT_MSGQUEUE to what the configured queues need: beyond the hard
 * limit with CAP_SYS_RESOURCE, else the soft limit up to the hard one.
 * A failure is logged (the queues that do not fit then fail, each saying why).
 */
void limits_raise_msgqueue(const struct config *c, const struct kernel_limits *k);
