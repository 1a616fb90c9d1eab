#!/usr/bin/python3
"""A stand-in for systemd's file descriptor store, for tests.

    fdstore-manager.py CONTROL_FIFO NOTIFY_SOCKET LOG -- COMMAND...

Runs COMMAND with NOTIFY_SOCKET set, keeps every descriptor it stores
(FDSTORE=1 with FDNAME=), drops those it removes (FDSTOREREMOVE=1: every
one of that name), and logs every notification to LOG, one line each. As
systemd does, it keeps one open file description once, under the name it
was first stored with, and suppresses a duplicate; like systemd without
kcmp(2) it takes two descriptors of one FIFO with the same flags for the
same (stricter than systemd with kcmp). Commands, one a line, read
from CONTROL_FIFO:
    kill      SIGKILL the service, start it again with the stored
              descriptors (LISTEN_FDS, LISTEN_FDNAMES, LISTEN_PID), as
              systemd does after a crash or a watchdog kill
    forget    the same, but drop the stored descriptors first (what happens
              without a store)
    stop      SIGTERM the service and exit
"""
import array
import fcntl
import os
import select
import signal
import socket
import sys


def same_fd(a, b):
    """systemd's same_fd() without kcmp(2): one inode, and the same status flags."""
    sa, sb = os.fstat(a), os.fstat(b)
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino) and fcntl.fcntl(a, fcntl.F_GETFL) == fcntl.fcntl(
        b, fcntl.F_GETFL)


def main():
    control, notify_path, log_path = sys.argv[1:4]
    command = sys.argv[sys.argv.index("--") + 1:]
    store = []  # (name, fd), in the order stored
    log = open(log_path, "a", buffering=1)

    if os.path.exists(notify_path):
        os.unlink(notify_path)
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(notify_path)
    # read-write: a writer always exists, so the FIFO never reads as closed
    ctl = os.open(control, os.O_RDWR | os.O_NONBLOCK)
    child = None

    def start(pass_fds):
        names = [n for n, _ in store] if pass_fds else []
        fds = [fd for _, fd in store] if pass_fds else []
        pid = os.fork()
        if pid == 0:
            # the stored descriptors become 3, 4, ... as systemd passes them
            dups = [os.dup(fd) for fd in fds]
            for i, fd in enumerate(dups):
                os.dup2(fd, 3 + i)
            env = dict(os.environ, NOTIFY_SOCKET=notify_path)
            if fds:
                env.update(LISTEN_FDS=str(len(fds)), LISTEN_PID=str(os.getpid()), LISTEN_FDNAMES=":".join(names))
            os.closerange(3 + len(fds), 1024)
            os.execve(command[0], command, env)
        log.write("manager: started pid %d with %d stored descriptors\n" % (pid, len(fds)))
        return pid

    def read_notify():
        fds = array.array("i")
        msg, anc, _, _ = notify.recvmsg(4096, socket.CMSG_LEN(64 * fds.itemsize))
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
        text = msg.decode(errors="replace")
        fields = dict(line.split("=", 1) for line in text.split("\n") if "=" in line)
        log.write(text.replace("\n", " ") + "\n")
        name = fields.get("FDNAME", "stored")
        if fields.get("FDSTOREREMOVE") == "1":
            for n, fd in [e for e in store if e[0] == name]:
                os.close(fd)
                store.remove((n, fd))
        if fields.get("FDSTORE") == "1":
            for fd in fds:
                dup = next((n for n, kept in store if same_fd(kept, fd)), None)
                if dup is not None:
                    log.write("manager: duplicate of stored %s suppressed (FDNAME=%s)\n" % (dup, name))
                    os.close(fd)
                else:
                    store.append((name, fd))
        elif fds:
            for fd in fds:
                os.close(fd)

    child = start(True)
    buf = b""
    while True:
        ready, _, _ = select.select([notify, ctl], [], [], 0.5)
        if notify in ready:
            read_notify()
        if ctl in ready:
            buf += os.read(ctl, 4096)
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                word = line.decode().strip()
                if word in ("kill", "forget"):
                    os.kill(child, signal.SIGKILL)
                    os.waitpid(child, 0)
                    log.write("manager: killed pid %d\n" % child)
                    if word == "forget":
                        for _, fd in store:
                            os.close(fd)
                        store.clear()
                    child = start(True)
                elif word == "stop":
                    os.kill(child, signal.SIGTERM)
                    _, status = os.waitpid(child, 0)
                    log.write("manager: stopped, status %d\n" % status)
                    return 0
        pid, status = os.waitpid(child, os.WNOHANG)
        if pid:
            log.write("manager: the service exited, status %d\n" % status)
            return 1


if __name__ == "__main__":
    sys.exit(main())
