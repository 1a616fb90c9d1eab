"""Channels: sending and receiving, priorities, timeouts, non-blocking, FIFOs, batches, attributes."""
import errno
import gc
import os
import pathlib
import select
import selectors
import signal
import subprocess
import threading
import time

import pytest

import ipcbroker
from conftest import PYTHON3, SLOW
from ipcbroker.testing import PosixQueue


def test_priorities_order_a_queue(broker):
    with ipcbroker.open("jobs", send=True, recv=True) as ch:
        for data, prio in ((b"low", 1), (b"high", 9), (b"mid", 5), (b"low2", 1)):
            ch.send(data, priority=prio)
        assert [ch.recv() for _ in range(4)] == [(b"high", 9), (b"mid", 5), (b"low", 1), (b"low2", 1)]


def test_separate_senders_and_receivers(broker):
    with ipcbroker.open("jobs", send=True) as tx, ipcbroker.open("jobs", recv=True) as rx:
        tx.send(b"hello")
        assert rx.recv(timeout=5) == (b"hello", 0)
        assert tx.name == rx.name == "jobs"


def test_bytes_like_data(broker):
    with ipcbroker.open("jobs", send=True, recv=True) as ch:
        ch.send(bytearray(b"ba"))
        ch.send(memoryview(b"xmvx")[1:3])
        ch.send(b"")
        assert [ch.recv()[0] for _ in range(3)] == [b"ba", b"mv", b""]
        with pytest.raises(TypeError):
            ch.send("text is not bytes")


def test_context_manager_closes(broker):
    with ipcbroker.open("jobs", send=True) as ch:
        assert not ch.closed
        assert ch.fileno() >= 0
    assert ch.closed
    assert "closed" in repr(ch)
    for call in (lambda: ch.send(b"x"), ch.fileno, lambda: ch.attrs):
        with pytest.raises(ValueError, match="closed"):
            call()
    ch.close()  # again: nothing happens


def test_an_unclosed_channel_warns(broker):
    ch = ipcbroker.open("jobs", send=True)
    with pytest.warns(ResourceWarning, match="unclosed channel 'jobs'"):
        del ch
        gc.collect()


def test_channels_cannot_be_made_directly():
    with pytest.raises(TypeError):
        ipcbroker.Channel()


def test_recv_timeout(broker):
    with ipcbroker.open("jobs", recv=True) as ch:
        start = time.monotonic()
        with pytest.raises(TimeoutError) as e:
            ch.recv(timeout=0.2)
        took = time.monotonic() - start
    assert 0.2 <= took < 3
    assert e.value.errno == errno.ETIMEDOUT
    assert "jobs" in str(e.value)


def test_send_timeout_when_full(broker):
    with ipcbroker.open("tiny", send=True) as ch:
        ch.send(b"1")
        ch.send(b"2")
        start = time.monotonic()
        with pytest.raises(TimeoutError):
            ch.send(b"3", timeout=0.1)
        assert 0.1 <= time.monotonic() - start < 3
        assert ch.attrs.depth == 2


def test_nonblocking_handle(broker):
    with ipcbroker.open("tiny", send=True, recv=True, nonblock=True) as ch:
        assert ch.nonblock and ch.attrs.nonblock
        with pytest.raises(BlockingIOError) as e:
            ch.recv()
        assert e.value.errno == errno.EAGAIN and "tiny" in str(e.value)
        ch.send(b"1")
        ch.send(b"2")
        with pytest.raises(BlockingIOError):
            ch.send(b"3")
        # an explicit timeout still waits
        start = time.monotonic()
        with pytest.raises(TimeoutError):
            ch.send(b"3", timeout=0.1)
        assert time.monotonic() - start >= 0.1
        assert ch.recv() == (b"1", 0)
        ch.nonblock = False
        assert not ch.attrs.nonblock


def test_timeout_zero_never_waits(broker):
    with ipcbroker.open("tiny", send=True, recv=True) as ch:
        with pytest.raises(BlockingIOError):
            ch.recv(timeout=0)
        ch.send(b"1", timeout=0)
        assert ch.recv(timeout=0) == (b"1", 0)


def test_bad_timeouts_and_priorities(broker):
    with ipcbroker.open("jobs", send=True, recv=True) as ch:
        for bad in (-1, float("nan")):
            with pytest.raises(ValueError):
                ch.recv(timeout=bad)
        with pytest.raises(OverflowError):
            ch.recv(timeout=1e12)
        with pytest.raises(TypeError):
            ch.recv(timeout="1")
        with pytest.raises(ValueError):
            ch.send(b"x", priority=-1)
        with pytest.raises(ValueError):
            ch.send(b"x", priority=1 << 40)
        with pytest.raises(ValueError) as e:
            ch.send(b"x", priority=1 << 20)  # beyond MQ_PRIO_MAX: the kernel's EINVAL
        assert e.value.errno == errno.EINVAL
        assert ch.attrs.depth == 0


def test_blocking_recv_releases_the_gil(broker):
    """A receiver blocked in recv() lets another Python thread run and send to it."""
    with ipcbroker.open("jobs", send=True, recv=True) as ch:
        t = threading.Timer(0.1, ch.send, (b"from the thread", 3))
        t.start()
        try:
            assert ch.recv(timeout=10) == (b"from the thread", 3)
        finally:
            t.join()


def test_close_from_another_thread_ends_a_wait(broker):
    with ipcbroker.open("jobs", recv=True) as ch:
        t = threading.Timer(0.1, ch.close)
        t.start()
        start = time.monotonic()
        with pytest.raises(ValueError, match="closed"):
            ch.recv()
        t.join()
        assert time.monotonic() - start < 5
        assert ch.closed


@pytest.mark.parametrize("name", ["jobs", "pipe"])
def test_ctrl_c_interrupts_a_blocked_recv(broker, name):
    """SIGINT reaches Python's handler while recv() waits: KeyboardInterrupt, at once."""
    code = (
        "import ipcbroker, signal, sys\n"
        # a shell without job control starts background jobs with SIGINT ignored,
        # and Python then leaves it ignored: install the handler a terminal gives
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        f"ch = ipcbroker.open({name!r}, recv=True)\n"
        "print('waiting', flush=True)\n"
        "try:\n"
        "    ch.recv()\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', flush=True)\n"
    )
    env = dict(broker.env(), PYTHONPATH=os.path.dirname(os.path.dirname(ipcbroker.__file__)))
    p = subprocess.Popen([PYTHON3, "-c", code], env=env, stdout=subprocess.PIPE, text=True)

    def line(seconds):
        """The child's next line, or '' when none comes within SECONDS."""
        ready, _, _ = select.select([p.stdout], [], [], seconds * SLOW)
        return p.stdout.readline() if ready else ""

    try:
        assert line(10) == "waiting\n"
        time.sleep(0.3)
        start = time.monotonic()
        p.send_signal(signal.SIGINT)
        assert line(10) == "interrupted\n"
        assert time.monotonic() - start < 2 * SLOW
        assert p.wait(10) == 0
    finally:
        p.kill()
        p.wait()


def test_threads_share_a_channel(broker):
    """Many threads sending and receiving on one handle: every message once."""
    got, lock = [], threading.Lock()
    with ipcbroker.open("fanout", send=True, recv=True) as ch:

        def receive():
            while True:
                data, _ = ch.recv(timeout=10)
                if data == b"end":
                    return
                with lock:
                    got.append(data)

        def send(k):
            for i in range(200):
                ch.send(b"%d.%d" % (k, i))

        receivers = [threading.Thread(target=receive) for _ in range(4)]
        senders = [threading.Thread(target=send, args=(k,)) for k in range(4)]
        for t in receivers + senders:
            t.start()
        for t in senders:
            t.join()
        for _ in receivers:
            ch.send(b"end")
        for t in receivers:
            t.join()
    assert sorted(got) == sorted(b"%d.%d" % (k, i) for k in range(4) for i in range(200))


def test_attrs(broker):
    with ipcbroker.open("jobs", send=True) as ch:
        a = ch.attrs
        assert (a.type, a.max_messages, a.message_size, a.depth) == ("mqueue", 8, 128, 0)
        assert (a.send, a.recv, a.nonblock, a.framing, a.capacity) == (True, False, False, None, None)
        ch.send(b"1")
        ch.send(b"22")
        assert ch.attrs.depth == 2


def test_fifo_channel(broker):
    with ipcbroker.open("pipe", send=True, recv=True) as ch:
        a = ch.attrs
        assert (a.type, a.message_size, a.framing, a.depth) == ("fifo", 256, "packet", None)
        messages = [b"a", b"b" * 200, b"c" * 256, b"\0\n\r"]
        for m in messages:
            ch.send(m, priority=7)  # FIFOs ignore priorities
        assert ch.attrs.bytes == sum(map(len, messages))
        # message boundaries hold: one receive, one whole message
        assert [ch.recv(timeout=5) for _ in messages] == [(m, 0) for m in messages]
        with pytest.raises(BlockingIOError):
            ch.recv(timeout=0)
        with pytest.raises(ValueError):
            ch.send(b"x" * 257)
        with pytest.raises(ValueError):
            ch.send(b"")  # a pipe cannot carry an empty packet


def test_send_many_recv_many_queue(broker):
    with ipcbroker.open("fanout", send=True, recv=True) as ch:
        ch.send(b"first")
        assert ch.recv() == (b"first", 0)  # a one-message buffer first, then recv_many's larger ones
        assert ch.send_many([b"a", (b"b", 3), bytearray(b"c"), (memoryview(b"d"), 1)]) == 4
        assert ch.recv_many(max=3) == [(b"b", 3), (b"d", 1), (b"a", 0)]
        assert ch.recv_many() == [(b"c", 0)]
        assert ch.send_many([]) == 0
        assert ch.send_many(b"%d" % i for i in range(10)) == 10  # any iterable
        assert ch.recv_many(max=1000) == [(b"%d" % i, 0) for i in range(10)]
        with pytest.raises(BlockingIOError):
            ch.recv_many(timeout=0)
        with pytest.raises(TimeoutError):
            ch.recv_many(timeout=0.05)
        with pytest.raises(ValueError):
            ch.recv_many(max=0)
        with pytest.raises(ValueError):
            ch.send_many([b"ok", b"x" * 33])  # too large: nothing is sent
        with pytest.raises(TypeError):
            ch.send_many([(b"a", 1, 2)])
        assert ch.attrs.depth == 0


def test_send_many_partial_when_full(broker):
    with ipcbroker.open("tiny", send=True, recv=True) as ch:
        assert ch.send_many([b"1", b"2", b"3", b"4"], timeout=0.1) == 2
        with pytest.raises(TimeoutError):
            ch.send_many([b"5"], timeout=0.05)
        with pytest.raises(BlockingIOError):
            ch.send_many([b"5"], timeout=0)
        assert ch.recv_many() == [(b"1", 0), (b"2", 0)]


def test_batch_fifo(broker):
    with ipcbroker.open("batched", send=True) as tx, ipcbroker.open("batched", recv=True) as rx:
        messages = [b"%03d" % i + b"." * (i % 60) for i in range(300)]
        assert tx.send_many(messages) == 300
        got = []
        while len(got) < 300:
            got += [m for m, _ in rx.recv_many(max=128, timeout=5)]
        assert got == messages
        assert rx.pending == 0
        tx.send_many([b"x", b"y", b"z"])
        assert rx.recv(timeout=5) == (b"x", 0)
        assert rx.pending == 2  # held in the handle: the descriptor is not readable for them
        assert rx.recv_many(timeout=0) == [(b"y", 0), (b"z", 0)]


def test_selectors(broker):
    """fileno() in a selectors loop: readable when a message waits, writable when there is room."""
    with ipcbroker.open("tiny", send=True, recv=True) as ch, selectors.DefaultSelector() as sel:
        sel.register(ch.fileno(), selectors.EVENT_READ | selectors.EVENT_WRITE)
        assert [e for _, e in sel.select(0)] == [selectors.EVENT_WRITE]
        ch.send(b"1")
        ch.send(b"2")
        assert [e for _, e in sel.select(0)] == [selectors.EVENT_READ]
        got = []
        while True:
            try:
                got.append(ch.recv(timeout=0)[0])
            except BlockingIOError:
                break
        assert got == [b"1", b"2"]


def test_the_descriptor_is_the_kernel_queue(broker):
    """What goes through the channel is in the kernel queue: a plain mq_open'ed reader sees it."""
    with ipcbroker.open("jobs", send=True) as ch:
        ch.send(b"straight through the kernel", priority=4)
    raw = PosixQueue(ipcbroker.stat("jobs").kernel_name)
    try:
        assert raw.recv() == (b"straight through the kernel", 4)
    finally:
        raw.close()


def test_socket_argument(broker, monkeypatch):
    """socket= for one call; the environment is as it was afterwards."""
    monkeypatch.setenv("IPCBROKER_SOCKET", "/nonexistent/ipcbroker.sock")
    with pytest.raises(ConnectionRefusedError) as e:
        ipcbroker.open("jobs", send=True)
    assert "/nonexistent/ipcbroker.sock" in str(e.value)
    with ipcbroker.open("jobs", send=True, socket=broker.socket) as ch:
        ch.send(b"via socket=")
    assert ipcbroker.stat("jobs", socket=pathlib.Path(broker.socket)).messages == 1
    assert os.environ["IPCBROKER_SOCKET"] == "/nonexistent/ipcbroker.sock"
    assert ipcbroker.socket_path() == "/nonexistent/ipcbroker.sock"
    monkeypatch.delenv("IPCBROKER_SOCKET")
    ipcbroker.status(socket=broker.socket)
    assert "IPCBROKER_SOCKET" not in os.environ


def test_socket_argument_with_threads(broker, monkeypatch):
    """Calls with and without socket= in many threads at once: each reaches the socket it asked for,
    and a long wait() with socket= holds up nobody."""
    monkeypatch.setenv("IPCBROKER_SOCKET", "/nonexistent/ipcbroker.sock")
    errors = []

    def with_socket():
        for _ in range(50):
            try:
                ipcbroker.status(socket=broker.socket)
            except Exception as e:  # noqa: BLE001 (collected for the assertion)
                errors.append(e)

    def without():
        for _ in range(50):
            try:
                ipcbroker.status()
                errors.append("reached the daemon without socket=")
            except ConnectionRefusedError:
                pass

    def long_wait():
        with pytest.raises(TimeoutError):
            ipcbroker.wait("nosuch", timeout=1.5 * SLOW, socket=broker.socket)

    waiting = threading.Thread(target=long_wait)
    waiting.start()
    start = time.monotonic()
    threads = [threading.Thread(target=f) for f in (with_socket, without) * 4]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert time.monotonic() - start < 1.4 * SLOW
    waiting.join()
    assert errors == []
