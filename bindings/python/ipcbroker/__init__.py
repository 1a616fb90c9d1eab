"""ipcbroker: open the POSIX message queues and FIFOs that ipcbrokerd owns, by name.

The daemon checks who you are against the channel's policy and passes back
the kernel descriptor; messages then go straight through the kernel (this
package wraps libipcbroker, the daemon is not on the data path)::

    import ipcbroker

    with ipcbroker.open("jobs", send=True) as ch:
        ch.send(b"hello", priority=1)

    with ipcbroker.open("jobs", recv=True) as ch:
        data, priority = ch.recv(timeout=5)

asyncio (``loop.add_reader``/``add_writer`` on the descriptor)::

    async def main():
        with ipcbroker.open("jobs", recv=True) as ch:
            data, priority = await ch.recv_async()

Your own loop with ``selectors`` (or poll/epoll): register ``ch.fileno()``
for reading (a message waits) or writing (there is room), and on readiness
call ``recv(timeout=0)``/``send(..., timeout=0)`` until they raise
``BlockingIOError``; a batch-framed FIFO can hold messages in the handle
(``ch.pending``) that the descriptor does not show, so always drain first::

    sel = selectors.DefaultSelector()
    sel.register(ch.fileno(), selectors.EVENT_READ)
    while True:
        try:
            data, priority = ch.recv(timeout=0)
        except BlockingIOError:
            sel.select()
            continue
        handle(data)

Errors are the built-in exceptions, with the daemon's (or the library's)
explanation as the message: PermissionError (denied), FileNotFoundError (no
such channel), TimeoutError, BlockingIOError (non-blocking, full or empty),
ConnectionRefusedError (the daemon cannot be reached), ValueError (a message
too large, bad arguments; its ``errno`` attribute says which), OSError with
``errno`` otherwise.

The daemon's socket is ``IPCBROKER_SOCKET`` from the environment, else the
compiled-in default; every call that asks the daemon takes ``socket=`` to
use another one for that call only (libipcbroker's per-thread
``ipcb_set_thread_socket``: the environment is not touched, other threads
are not affected).
"""
from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import grp
import os
import pwd
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple, Union

from . import _ipcbroker as _c

__all__ = [
    "Access",
    "Attrs",
    "Channel",
    "ChannelInfo",
    "ChannelMetrics",
    "Holder",
    "Metrics",
    "PurgeResult",
    "Status",
    "access",
    "holders",
    "library_version",
    "list",
    "metrics",
    "open",
    "purge",
    "reload",
    "socket_path",
    "stat",
    "status",
    "wait",
]

__version__ = "0.1.0"

#: One received message: (payload, priority). FIFOs report priority 0.
Message = Tuple[bytes, int]
#: What send() takes: bytes, bytearray, memoryview or any other buffer.
Data = Union[bytes, bytearray, memoryview]
#: A socket path.
SocketPath = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]

# ---- channels ------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Attrs:
    """What an open channel is, and how full it is now (read from the kernel)."""

    type: str  #: "mqueue" or "fifo"
    max_messages: Optional[int]  #: a queue's mq_maxmsg; a FIFO: packets its pipe holds
    message_size: int  #: the largest message, in bytes
    depth: Optional[int]  #: messages queued now (None: the kernel cannot tell, FIFOs)
    bytes: Optional[int]  #: bytes queued now (None: the kernel cannot tell, queues)
    capacity: Optional[int]  #: a FIFO's pipe buffer in bytes (None for queues)
    framing: Optional[str]  #: a FIFO's "packet" or "batch" (None for queues)
    send: bool  #: opened for sending
    recv: bool  #: opened for receiving
    nonblock: bool  #: calls without a timeout do not wait


class _Waiters:
    """The coroutines of one event loop waiting for one channel to become readable (or writable).

    Waiters queue in order. When the descriptor is ready the first one is
    woken and tries itself (a wake-up carries no message, so a cancelled
    waiter loses nothing); whoever finishes wakes the next one, which tries
    and waits again if there was nothing for it.
    """

    __slots__ = ("loop", "fd", "reading", "queue", "armed")

    def __init__(self, loop: asyncio.AbstractEventLoop, fd: int, reading: bool) -> None:
        self.loop = loop
        self.fd = fd
        self.reading = reading
        self.queue: Deque[asyncio.Future[None]] = collections.deque()
        self.armed = False

    def arm(self) -> None:
        if self.queue and not self.armed:
            if self.reading:
                self.loop.add_reader(self.fd, self.wake)
            else:
                self.loop.add_writer(self.fd, self.wake)
            self.armed = True

    def disarm(self) -> None:
        if self.armed:
            if self.reading:
                self.loop.remove_reader(self.fd)
            else:
                self.loop.remove_writer(self.fd)
            self.armed = False

    def wake(self) -> None:
        self.disarm()
        for fut in self.queue:
            if not fut.done():
                fut.set_result(None)
                return

    def wake_all(self) -> None:
        self.disarm()
        for fut in self.queue:
            if not fut.done():
                fut.set_result(None)


class Channel(_c.Channel):
    """A channel opened through ipcbrokerd: a POSIX message queue or a FIFO.

    Made by :func:`open`; a context manager that closes it. One send is one
    message and one receive returns one whole message, with any number of
    senders and receivers. Calls that wait release the GIL, can be
    interrupted by signals (KeyboardInterrupt), and end with ValueError when
    another thread closes the channel. Methods of the C type:

    - ``send(data, priority=0, timeout=None)``: send one message.
    - ``recv(timeout=None) -> (bytes, int)``: receive one message and its priority.
    - ``send_many(messages, timeout=None) -> int``: messages are bytes or
      (bytes, priority); returns how many were sent.
    - ``recv_many(max=64, timeout=None) -> list[(bytes, int)]``: waits for the
      first, then takes only what is there.
    - ``fileno()``, ``close()``, ``name``, ``closed``, ``nonblock`` (settable),
      ``pending``.

    ``timeout``: None waits as the channel was opened (forever, or not at
    all with ``nonblock=True``), 0 never waits (BlockingIOError when full or
    empty), a number of seconds waits that long (then TimeoutError).
    """

    __slots__ = ("_waiters", "__weakref__")

    def __enter__(self) -> "Channel":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        if self.closed:
            return f"<ipcbroker.Channel {self.name!r} closed>"
        a = self.attrs
        how = ",".join(d for d, on in (("send", a.send), ("recv", a.recv), ("nonblock", a.nonblock)) if on)
        return f"<ipcbroker.Channel {self.name!r} {a.type} {how} fd={self.fileno()}>"

    @property
    def attrs(self) -> Attrs:
        """The channel's type, limits and current depth (read from the kernel now)."""
        return Attrs(**self._getattr())

    def close(self) -> None:
        """Close the channel. Coroutines waiting on it (in this loop's thread) raise ValueError."""
        for waiters in getattr(self, "_waiters", {}).values():
            waiters.wake_all()
        super().close()

    async def send_async(self, data: Data, priority: int = 0) -> None:
        """Send one message, waiting in the running event loop while the channel is full.

        Bound it with ``asyncio.wait_for(ch.send_async(data), seconds)``.
        """
        await self._when_ready(False, lambda: self._try_send(data, priority) or None)

    async def recv_async(self) -> Message:
        """Receive one message, waiting in the running event loop while the channel is empty.

        Any number of coroutines may wait on one channel: they are served in
        order, each message goes to exactly one of them, and a cancelled
        waiter loses no message.
        """
        return await self._when_ready(True, self._try_recv)

    async def _when_ready(self, reading: bool, attempt: Callable[[], Any]) -> Any:
        result = attempt()
        if result is not None:
            return result
        loop = asyncio.get_running_loop()
        table: Dict[Tuple[asyncio.AbstractEventLoop, bool], _Waiters] = getattr(self, "_waiters", None) or {}
        self._waiters = table
        waiters = table.get((loop, reading))
        if waiters is None:
            waiters = table[(loop, reading)] = _Waiters(loop, self.fileno(), reading)
        fut: asyncio.Future[None] = loop.create_future()
        waiters.queue.append(fut)
        try:
            while True:
                waiters.arm()
                await fut
                waiters.queue.remove(fut)
                result = attempt()
                if result is not None:
                    return result
                # nothing for us after all: first in line again
                fut = loop.create_future()
                waiters.queue.appendleft(fut)
        finally:
            with contextlib.suppress(ValueError):
                waiters.queue.remove(fut)
            if waiters.queue:
                # there may be more (or a wake-up we took): the next one tries
                waiters.wake()
            else:
                waiters.disarm()
                if table.get((loop, reading)) is waiters:
                    del table[(loop, reading)]


def open(
    name: str, send: bool = False, recv: bool = False, nonblock: bool = False, socket: Optional[SocketPath] = None
) -> Channel:
    """Ask ipcbrokerd for channel NAME, for sending and/or receiving.

    ``nonblock=True``: calls without a timeout raise BlockingIOError instead
    of waiting. ``socket``: the daemon's socket (a path) for this call
    instead of ``IPCBROKER_SOCKET`` (the channel, once open, no longer needs
    the daemon).
    Raises PermissionError, FileNotFoundError, ConnectionRefusedError or
    ValueError (a bad name, neither send nor recv).
    """
    if not (send or recv):
        raise ValueError(f"channel '{name}': open it for send=True and/or recv=True")
    flags = (_c.SEND if send else 0) | (_c.RECV if recv else 0) | (_c.NONBLOCK if nonblock else 0)
    return _c.open(Channel, name, flags, socket)


# ---- the daemon's reports ------------------------------------------------------------------------


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


@dataclasses.dataclass(frozen=True)
class ChannelInfo:
    """A channel as the daemon reports it (:func:`stat`, :func:`list`).

    The fields marked "stat only" are None in :func:`list`'s results.
    """

    name: str
    type: str  #: "mqueue" or "fifo"
    state: str  #: "ready", "refused" (its name is taken by an untrusted object) or "failed"
    problem: Optional[str]  #: why it is not ready
    uid: int  #: the kernel object's owner
    gid: int  #: its group
    mode: int  #: its permission bits, e.g. 0o660
    max_messages: Optional[int]  #: mq_maxmsg; a FIFO: packets its pipe holds
    message_size: int  #: mq_msgsize; a FIFO: the largest message
    messages: Optional[int]  #: mq_curmsgs (None: unknown, FIFOs)
    bytes: Optional[int]  #: bytes queued (None: unknown, queues)
    capacity: Optional[int]  #: a FIFO's pipe size (None for queues)
    mq_flags: Optional[int]  #: mq_flags of the daemon's descriptor (None for FIFOs)
    framing: Optional[str]  #: a FIFO's "packet" or "batch" (None for queues)
    kernel_name: Optional[str]  #: the queue's kernel name or the FIFO's path (stat only)
    on_stop: Optional[str]  #: "keep" or "remove" (stat only)
    send: Optional[str]  #: extra senders, e.g. "alice @loggers" (stat only)
    recv: Optional[str]  #: extra receivers (stat only)
    opens: Optional[int]  #: opens granted (stat only)
    denials: Optional[int]  #: opens denied (stat only)

    @property
    def owner(self) -> str:
        """The owner's user name (the uid as text when it has none)."""
        return _user_name(self.uid)

    @property
    def group(self) -> str:
        """The group's name (the gid as text when it has none)."""
        return _group_name(self.gid)


@dataclasses.dataclass(frozen=True)
class PurgeResult:
    """What purging one channel dropped, or why it failed (``error``: the exception, else None)."""

    name: str
    messages: int
    bytes: int
    error: Optional[Exception] = None


@dataclasses.dataclass(frozen=True)
class Status:
    """The daemon's status (:func:`status`)."""

    version: str
    pid: int
    uptime: int  #: seconds
    config_file: Optional[str]
    socket: Optional[str]
    channels: int
    channels_ready: int
    clients: int  #: connected now
    connections: int  #: accepted since start
    requests: int  #: served since start
    opens: int  #: granted since start
    denied: int  #: refused since start
    reloads: int


@dataclasses.dataclass(frozen=True)
class ChannelMetrics:
    """One channel's statistics, kept by the daemon (depth sampled every sample_interval)."""

    name: str
    type: str
    state: str
    messages: Optional[int]  #: queued at the last sample (None: unknown, a FIFO that holds something)
    bytes: Optional[int]  #: bytes queued at the last sample (None: unknown)
    max_messages: Optional[int]
    capacity: Optional[int]  #: a FIFO's pipe size (None for queues)
    high_water: Optional[int]  #: most queued since start: messages (FIFOs: bytes)
    full: bool  #: full at the last sample
    full_seconds: float  #: time spent full since start
    full_events: int  #: times it became full
    full_alerts: int  #: alert_full_after warnings
    opens_send: int
    opens_recv: int
    denied_send: int
    denied_recv: int
    holders: int  #: live grants (see holders())


@dataclasses.dataclass(frozen=True)
class Metrics:
    """Everything the daemon counts (:func:`metrics`)."""

    version: str
    start_time: int  #: Unix seconds
    sample_interval: float  #: seconds between depth samples; 0: sampling is off
    clients: int
    connections: int
    requests: int
    opens: int
    denied: int
    reloads: int
    reload_failures: int
    channels: List[ChannelMetrics]  #: sorted by name


@dataclasses.dataclass(frozen=True)
class Holder:
    """A grant the daemon made whose process still lives (:func:`holders`)."""

    channel: str
    send: bool
    recv: bool
    uid: int
    user: Optional[str]  #: the uid's name, None when it has none
    pid: int
    command: Optional[str]  #: the process's command name when it was granted
    unit: Optional[str]  #: its systemd unit, None when not in one
    since: int  #: the first such grant, Unix seconds
    opens: int  #: grants to this process, channel and access


@dataclasses.dataclass(frozen=True)
class Access:
    """What a user may do on a channel, and the rule that decided each (:func:`access`)."""

    channel: str
    uid: int
    user: Optional[str]
    send: bool
    recv: bool
    send_rule: Optional[str]  #: e.g. "owner class of mode 0640", or why not
    recv_rule: Optional[str]


# ---- the daemon's calls --------------------------------------------------------------------------


def stat(name: str, *, socket: Optional[SocketPath] = None) -> ChannelInfo:
    """Everything the daemon knows about channel NAME, its kernel attributes included."""
    return ChannelInfo(**_c.stat(name, socket))


def list(*, socket: Optional[SocketPath] = None) -> List[ChannelInfo]:  # noqa: A001 (the API's name)
    """Every channel, sorted by name (the stat-only fields are None)."""
    return [ChannelInfo(**d) for d in _c.list(socket)]


def purge(*names: str, all: bool = False, socket: Optional[SocketPath] = None) -> List[PurgeResult]:  # noqa: A002
    """Drop the queued messages of the named channels, or of every one with ``all=True`` (admins only).

    Returns one result per channel. When a channel could not be purged, the
    others still are and the first failure is raised, with every result in
    its ``results`` attribute.
    """
    if all and names:
        raise ValueError("purge: give channel names or all=True, not both")
    if not all and not names:
        raise ValueError("purge: no channel named (to drop the messages of every channel, pass all=True)")
    rows = _c.purge(None if all else names, socket)
    results = [
        PurgeResult(r["name"], r["messages"], r["bytes"], _c.error(r["errno"], r["message"]) if r["errno"] else None)
        for r in rows
    ]
    for r in results:
        if r.error is not None:
            r.error.results = results  # type: ignore[attr-defined]
            raise r.error
    return results


def reload(*, socket: Optional[SocketPath] = None) -> str:
    """Ask the daemon to reload its configuration (admins only); returns its answer."""
    return _c.reload(socket)


def status(*, socket: Optional[SocketPath] = None) -> Status:
    """The daemon's version, pid, uptime, configuration file, channel and client counts."""
    return Status(**_c.status(socket))


def metrics(*, socket: Optional[SocketPath] = None) -> Metrics:
    """Everything the daemon counts, and each channel's statistics."""
    m = _c.metrics(socket)
    m["channels"] = [ChannelMetrics(**c) for c in m["channels"]]
    return Metrics(**m)


def holders(name: Optional[str] = None, *, socket: Optional[SocketPath] = None) -> List[Holder]:
    """The live grants on channel NAME (or on every channel): everyone's for an admin, else the caller's own."""
    return [Holder(**h) for h in _c.holders(name, socket)]


def wait(*names: str, timeout: Optional[float] = None, socket: Optional[SocketPath] = None) -> None:
    """Wait until every named channel exists and is ready (TimeoutError after ``timeout`` seconds).

    The daemon answers when a channel's state changes; nothing polls.
    """
    if not names:
        raise ValueError("wait: name at least one channel")
    _c.wait(names, timeout, socket)


def access(name: str, user: Union[str, int, None] = None, *, socket: Optional[SocketPath] = None) -> Access:
    """What the caller (or USER, a name or uid: admins only) may do on channel NAME, and why."""
    return Access(**_c.access(name, None if user is None else str(user), socket))


def socket_path() -> str:
    """The daemon socket the library uses now: IPCBROKER_SOCKET, else the compiled-in default."""
    return _c.socket_path()


def library_version() -> str:
    """The version of libipcbroker this package runs on."""
    return _c.library_version()

