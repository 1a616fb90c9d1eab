"""The daemon's calls: list, stat, purge, status, reload, metrics, holders, wait, access."""
import os
import threading
import time

import ipcbroker

from conftest import CHANNELS


def test_list(broker):
    channels = ipcbroker.list()
    assert [c.name for c in channels] == sorted(CHANNELS)
    jobs = next(c for c in channels if c.name == "jobs")
    assert isinstance(jobs, ipcbroker.ChannelInfo)
    assert (jobs.type, jobs.state, jobs.max_messages, jobs.message_size, jobs.messages) == ("mqueue", "ready", 8, 128, 0)
    assert jobs.kernel_name is None  # stat only
    pipe = next(c for c in channels if c.name == "pipe")
    assert (pipe.type, pipe.framing, pipe.messages, pipe.bytes) == ("fifo", "packet", None, 0)


def test_stat(broker):
    with ipcbroker.open("jobs", send=True) as ch:
        ch.send(b"12345")
    s = ipcbroker.stat("jobs")
    assert s.kernel_name == broker.queue_name("jobs")
    assert (s.mode, s.uid, s.owner, s.group, s.on_stop) == (0o600, 0, "root", "root", "remove")
    assert (s.messages, s.max_messages, s.message_size) == (1, 8, 128)
    assert s.opens >= 1 and s.denials >= 0 and s.problem is None
    b = ipcbroker.stat("batched")
    assert b.framing == "batch" and b.kernel_name.endswith("/batched")


def test_purge(broker):
    with ipcbroker.open("jobs", send=True) as ch:
        ch.send(b"abc")
        ch.send(b"defg")
    with ipcbroker.open("pipe", send=True) as ch:
        ch.send(b"xy")
    (r,) = ipcbroker.purge("jobs")
    assert (r.name, r.messages, r.bytes, r.error) == ("jobs", 2, 7, None)
    results = {r.name: r for r in ipcbroker.purge(all=True)}
    assert set(results) == set(CHANNELS)
    assert results["pipe"].bytes == 2 and results["jobs"].messages == 0


def test_status(broker):
    s = ipcbroker.status()
    assert s.pid == broker.pid
    assert s.channels == s.channels_ready == len(CHANNELS)
    assert s.socket == broker.socket and s.config_file == broker.config
    assert s.version == ipcbroker.library_version()
    assert s.requests > 0


def test_metrics(broker):
    before = {c.name: c for c in ipcbroker.metrics().channels}["jobs"].opens_send
    with ipcbroker.open("jobs", send=True):
        pass
    m = ipcbroker.metrics()
    assert isinstance(m, ipcbroker.Metrics) and m.requests > 0
    jobs = {c.name: c for c in m.channels}["jobs"]
    assert jobs.opens_send == before + 1
    assert (jobs.type, jobs.state, jobs.max_messages) == ("mqueue", "ready", 8)


def test_holders(broker):
    with ipcbroker.open("public", send=True, recv=True):
        hs = [h for h in ipcbroker.holders("public") if h.pid == os.getpid()]
        assert len(hs) == 1
        h = hs[0]
        assert (h.channel, h.send, h.recv, h.uid, h.user) == ("public", True, True, 0, "root")
        assert h.since <= time.time() + 1 and h.opens >= 1
        assert any(x.channel == "public" and x.pid == os.getpid() for x in ipcbroker.holders())


def test_wait_for_ready_channels(broker):
    ipcbroker.wait("jobs", "pipe", timeout=5)
    ipcbroker.wait("jobs")


def test_reload_and_wait(make_daemon):
    d = make_daemon({"first": {"type": "mqueue", "max_messages": 2, "message_size": 16}})
    done = []

    def waiter():
        ipcbroker.wait("later", timeout=20, socket=d.socket)
        done.append(time.monotonic())

    t = threading.Thread(target=waiter)
    t.start()
    time.sleep(0.2)
    assert not done
    d.channels["later"] = {"type": "fifo"}
    d.write_config()
    answer = ipcbroker.reload(socket=d.socket)
    t.join(20)
    assert done, "wait() did not return after the reload"
    assert isinstance(answer, str)
    assert ipcbroker.stat("later", socket=d.socket).type == "fifo"
    assert ipcbroker.status(socket=d.socket).reloads == 1
