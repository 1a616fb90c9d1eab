/*
 * lib-error.c — libipcbroker's error texts: the per-thread explanation of
 * the last failure (what the daemon said, or what the library found) and
 * ipcb_strerror(), which prefers it and otherwise explains the errno.
 */
#include "build-config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib-internal.h"
#include "util.h"

/* Per thread: the daemon's explanation of the last error, and a buffer for messages. */
static __thread struct {
        int err;
        char msg[IPCB_TEXT_MAX];
} detail;
static __thread char strerror_buf[IPCB_TEXT_MAX + 128];

void lib_set_detail(int err, const char *fmt, ...) {
        va_list ap;

        detail.err = err < 0 ? -err : err;
        va_start(ap, fmt);
        vsnprintf(detail.msg, sizeof(detail.msg), fmt, ap);
        va_end(ap);
}

void lib_clear_detail(void) {
        detail.err = 0;
        detail.msg[0] = '\0';
}

_public_ const char *ipcb_strerror(int err) {
        const char *s;

        if (err < 0)
                err = -err;
        if (err == 0)
                return "success";
        if (detail.err == err && detail.msg[0])
                return detail.msg;
        switch (err) {
        case ECONNREFUSED:
                snprintf(strerror_buf, sizeof(strerror_buf),
                         "cannot reach ipcbrokerd at %s: the daemon is not running (start it with "
                         "'systemctl start ipcbroker' or 'ipcbrokerd'), or IPCBROKER_SOCKET points elsewhere",
                         ipcb_socket_path());
                return strerror_buf;
        case EACCES:
                return "permission denied";
        case ENOENT:
                return "no such channel";
        case EMSGSIZE:
                return "message too large for the channel, or buffer smaller than the channel's message size";
        case EAGAIN:
                return "channel full (send) or empty (receive) and the handle is non-blocking";
        case ETIMEDOUT:
                return "timed out";
        case EPIPE:
                return "the FIFO has no reader or writer left (is the daemon running?)";
        case EPROTONOSUPPORT:
                return "the daemon speaks another protocol version";
        case EPERM:
                return "operation not permitted: administrators only";
        case EBADF:
                return "the handle is not open for this direction";
        case EREMCHG:
                snprintf(strerror_buf, sizeof(strerror_buf),
                         "the server at %s runs as neither root, you, nor IPCBROKER_DAEMON_UID: not ipcbrokerd? "
                         "(nothing was sent to it)",
                         ipcb_socket_path());
                return strerror_buf;
        default:
                s = strerror_r(err, strerror_buf, sizeof(strerror_buf));
                return s;
        }
}
