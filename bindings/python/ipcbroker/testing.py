"""A throwaway ipcbrokerd for tests and benchmarks, and raw POSIX queues through ctypes.

:class:`Daemon` runs a real ``ipcbrokerd`` on its own temporary socket,
runtime directory and queue-name prefix (as the project's shell tests do),
waits for its ``READY=1`` on its own ``NOTIFY_SOCKET``, and at the end stops
it and removes every queue and file it made::

    from ipcbroker.testing import Daemon

    with Daemon({"jobs": {"type": "mqueue", "max_messages": 8}}) as d:
        with ipcbroker.open("jobs", send=True, socket=d.socket) as ch:
            ch.send(b"hello")

The daemon program is the ``ipcbrokerd`` argument, else ``$IPCBROKERD``,
else ``$IPCBROKER_BUILD_DIR/ipcbrokerd``, else ``ipcbrokerd`` on the PATH
(or in /usr/sbin, /usr/local/sbin). The daemon refuses a configuration file
that others may write, so the files are made 0644 whatever the umask.

:class:`PosixQueue` is a plain ``mq_open``'ed queue driven through ctypes:
the baseline of the Python benchmark and a way to look at a channel's kernel
object directly.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from typing import Dict, Mapping, Optional, Union

__all__ = ["Daemon", "PosixQueue", "find_ipcbrokerd"]

ConfigValue = Union[str, int]


def find_ipcbrokerd() -> str:
    """The ipcbrokerd program to run (see the module's documentation)."""
    if os.environ.get("IPCBROKERD"):
        return os.environ["IPCBROKERD"]
    build = os.environ.get("IPCBROKER_BUILD_DIR")
    if build and os.access(os.path.join(build, "ipcbrokerd"), os.X_OK):
        return os.path.join(build, "ipcbrokerd")
    found = shutil.which("ipcbrokerd", path=os.environ.get("PATH", "") + ":/usr/local/sbin:/usr/sbin:/sbin")
    if not found:
        raise FileNotFoundError("ipcbrokerd not found: set IPCBROKERD or IPCBROKER_BUILD_DIR")
    return found


class Daemon:
    """A real ipcbrokerd on a temporary socket, runtime directory and mq_prefix.

    ``channels`` maps channel names to their keys (``type`` is required);
    ``broker`` adds keys to the ``[broker]`` section. ``wrapper`` runs the
    daemon under a tool (default ``$IPCBROKERD_WRAPPER``, e.g. valgrind, as
    the shell tests do); ``wait`` is how long a start, reload or stop may take
    (default ``$DAEMON_WAIT`` or 10 s). Use it as a context manager, or call
    :meth:`start` and :meth:`stop` (which returns the daemon's exit status).
    """

    def __init__(
        self,
        channels: Mapping[str, Mapping[str, ConfigValue]],
        *,
        ipcbrokerd: Optional[str] = None,
        broker: Optional[Mapping[str, ConfigValue]] = None,
        wrapper: Optional[str] = os.environ.get("IPCBROKERD_WRAPPER"),
        wait: float = float(os.environ.get("DAEMON_WAIT", "10")),
    ) -> None:
        self.channels: Dict[str, Dict[str, ConfigValue]] = {k: dict(v) for k, v in channels.items()}
        self.broker = dict(broker or {})
        self.program = ipcbrokerd or find_ipcbrokerd()
        self.wrapper = shlex.split(wrapper) if wrapper else []
        self.wait = wait
        self.dir = ""
        self.socket = ""
        self.runtime_dir = ""
        self.mq_prefix = ""
        self.config = ""
        self.process: Optional[subprocess.Popen[bytes]] = None
        self._notify: Optional[socket.socket] = None
        self._listener: Optional[threading.Thread] = None
        self._cond = threading.Condition()
        self._ready = 0  # READY=1 received
        self._seen = 0  # READY=1 waited for

    # ---- life ----

    def __enter__(self) -> "Daemon":
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Write the configuration, start the daemon and wait for READY=1."""
        self.dir = tempfile.mkdtemp(prefix="ipcbroker-py.")
        os.chmod(self.dir, 0o755)  # an unprivileged caller must reach the socket and the FIFOs
        self.runtime_dir = os.path.join(self.dir, "run")
        self.socket = os.path.join(self.runtime_dir, "ipcbroker.sock")
        self.mq_prefix = f"/ipcbpy.{os.getpid()}.{time.monotonic_ns()}."
        self.config = os.path.join(self.dir, "ipcbroker.conf")
        self.write_config()
        self._notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        self._notify.bind(os.path.join(self.dir, "notify.sock"))
        # read every notification as it comes: a full socket would block the daemon's sd_notify()
        self._listener = threading.Thread(target=self._listen, args=(self._notify,), daemon=True)
        self._listener.start()
        env = dict(os.environ, NOTIFY_SOCKET=os.path.join(self.dir, "notify.sock"))
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [*self.wrapper, self.program, "-c", self.config],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=env,
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def write_config(self) -> None:
        """(Re)write the configuration file from ``channels`` and ``broker``."""
        broker = {
            "socket": self.socket,
            "runtime_dir": self.runtime_dir,
            "mq_prefix": self.mq_prefix,
            "admins": "root",
            "log_level": "debug",
            **self.broker,
        }
        lines = ["[broker]"] + [f"{k} = {v}" for k, v in broker.items()]
        for name, keys in self.channels.items():
            lines += ["", f"[channel {name}]"] + [f"{k} = {v}" for k, v in keys.items()]
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(self.config, 0o644)

    def reload(self) -> None:
        """Rewrite the configuration, SIGHUP the daemon and wait for the READY=1 that ends the reload."""
        assert self.process is not None
        self.write_config()
        self.process.send_signal(signal.SIGHUP)
        self._wait_ready()

    def stop(self) -> Optional[int]:
        """Stop the daemon (SIGTERM, SIGKILL if it lingers), remove its queues and files; its exit status."""
        rc = None
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(self.wait)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            rc = self.process.returncode
            self.process = None
        if self._notify is not None:
            self._notify.shutdown(socket.SHUT_RDWR)  # ends the listener's recv
            self._notify.close()
            self._notify = None
        if self._listener is not None:
            self._listener.join()
            self._listener = None
        for name in self.queue_names():
            mq_unlink(name)
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = ""
        return rc

    # ---- what it made ----

    @property
    def log_path(self) -> str:
        return os.path.join(self.dir, "daemon.log")

    def log(self) -> str:
        """What the daemon wrote so far."""
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def queue_name(self, channel: str) -> str:
        """The kernel name of a queue channel."""
        keys = self.channels[channel]
        return str(keys.get("mq_name") or self.mq_prefix + channel)

    def queue_names(self) -> list:
        return [self.queue_name(n) for n, k in self.channels.items() if k.get("type", "mqueue") == "mqueue"]

    def env(self) -> Dict[str, str]:
        """The environment for a program that should talk to this daemon."""
        return dict(os.environ, IPCBROKER_SOCKET=self.socket)

    def _listen(self, sock: socket.socket) -> None:
        """Count the READY=1 notifications until the socket is closed."""
        while True:
            try:
                msg = sock.recv(4096).decode(errors="replace")
            except OSError:
                return
            if not msg:
                return
            with self._cond:
                self._ready += msg.split("\n").count("READY=1")
                self._cond.notify_all()

    def _wait_ready(self) -> None:
        """Wait for one more READY=1 than seen before, while the daemon lives."""
        assert self.process is not None
        deadline = time.monotonic() + self.wait
        with self._cond:
            want = self._seen + 1
            while self._ready < want:
                if self.process.poll() is not None:
                    raise RuntimeError(f"ipcbrokerd exited with status {self.process.returncode}:\n{self.log()}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError(f"ipcbrokerd did not become ready within {self.wait} s:\n{self.log()}")
                self._cond.wait(min(left, 0.1))
            self._seen = want


# ---- raw POSIX message queues ---------------------------------------------------------------------


class _MqAttr(ctypes.Structure):
    _fields_ = [
        ("mq_flags", ctypes.c_long),
        ("mq_maxmsg", ctypes.c_long),
        ("mq_msgsize", ctypes.c_long),
        ("mq_curmsgs", ctypes.c_long),
        ("_reserved", ctypes.c_long * 4),
    ]


def _librt() -> ctypes.CDLL:
    """The mq_* functions: in libc since glibc 2.34, in librt before."""
    for name in (None, ctypes.util.find_library("rt"), "librt.so.1"):
        try:
            lib = ctypes.CDLL(name, use_errno=True)
            lib.mq_open  # noqa: B018 (present?)
            return lib
        except (OSError, AttributeError):
            continue
    raise OSError("no mq_open in libc or librt")


_rt = _librt()
_rt.mq_open.restype = ctypes.c_int
_rt.mq_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_uint, ctypes.POINTER(_MqAttr)]
_rt.mq_send.restype = ctypes.c_int
_rt.mq_send.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint]
_rt.mq_receive.restype = ctypes.c_ssize_t
_rt.mq_receive.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_uint)]
_rt.mq_close.argtypes = [ctypes.c_int]
_rt.mq_getattr.argtypes = [ctypes.c_int, ctypes.POINTER(_MqAttr)]
_rt.mq_unlink.argtypes = [ctypes.c_char_p]


def mq_unlink(name: str) -> bool:
    """Remove the queue NAME; False when there was none."""
    if _rt.mq_unlink(os.fsencode(name)) == 0:
        return True
    err = ctypes.get_errno()
    if err == 2:  # ENOENT
        return False
    raise OSError(err, os.strerror(err), name)


class PosixQueue:
    """A plain POSIX message queue through ctypes: raw mq_send/mq_receive, blocking.

    ``create=True`` makes it (O_CREAT|O_EXCL, mode 0600) with MAX_MESSAGES
    and MESSAGE_SIZE, and :meth:`close` then unlinks it too.
    """

    def __init__(self, name: str, *, create: bool = False, max_messages: int = 10, message_size: int = 64) -> None:
        self.name = name
        self.created = create
        flags = os.O_RDWR | ((os.O_CREAT | os.O_EXCL) if create else 0)
        attr = _MqAttr(mq_maxmsg=max_messages, mq_msgsize=message_size)
        self.fd = _rt.mq_open(os.fsencode(name), flags, 0o600, ctypes.byref(attr) if create else None)
        if self.fd < 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err), name)
        got = _MqAttr()
        _rt.mq_getattr(self.fd, ctypes.byref(got))
        self.message_size = got.mq_msgsize
        self._buf = ctypes.create_string_buffer(self.message_size)
        self._prio = ctypes.c_uint()
        self.send = self._send
        self.recv = self._recv

    def _send(self, data: bytes, priority: int = 0) -> None:
        if _rt.mq_send(self.fd, data, len(data), priority) < 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err), self.name)

    def _recv(self) -> tuple:
        n = _rt.mq_receive(self.fd, self._buf, self.message_size, ctypes.byref(self._prio))
        if n < 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err), self.name)
        return self._buf.raw[:n], self._prio.value

    def close(self) -> None:
        if self.fd >= 0:
            _rt.mq_close(self.fd)
            self.fd = -1
            if self.created:
                mq_unlink(self.name)

    def __enter__(self) -> "PosixQueue":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
