"""Fixtures: a real ipcbrokerd on a temporary socket, runtime directory and mq_prefix.

The daemon is the build tree's (IPCBROKER_BUILD_DIR, set by tests/python.sh)
or IPCBROKERD, started once for the session with the channels below;
IPCBROKER_SOCKET points at it for the whole session, and every test starts
with every channel empty (purge --all). Tests that change the configuration
start their own daemon (``make_daemon``).
"""
import os
import subprocess
import sys

import pytest

import ipcbroker
from ipcbroker.testing import Daemon

# small queues: the tests share RLIMIT_MSGQUEUE with whatever else root runs
CHANNELS = {
    "jobs": {"type": "mqueue", "mode": "0600", "max_messages": 8, "message_size": 128, "on_stop": "remove"},
    "tiny": {"type": "mqueue", "max_messages": 2, "message_size": 16, "on_stop": "remove"},
    "fanout": {"type": "mqueue", "max_messages": 10, "message_size": 32, "on_stop": "remove"},
    "public": {"type": "mqueue", "mode": "0666", "max_messages": 4, "message_size": 64, "on_stop": "remove"},
    "pipe": {"type": "fifo", "message_size": 256, "on_stop": "remove"},
    "batched": {"type": "fifo", "framing": "batch", "message_size": 64, "on_stop": "remove"},
}

# how much slower the daemon is than usual (DAEMON_WAIT grows under valgrind): bounds on time grow with it
SLOW = max(1.0, float(os.environ.get("DAEMON_WAIT", "10")) / 10)

# a python3 that other users may run (root's may be a pyenv shim under /root)
PYTHON3 = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
AS_NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


@pytest.fixture(scope="session")
def daemon():
    if os.geteuid() != 0:
        pytest.skip("the tests run as root (they create queues and run a caller as nobody)")
    d = Daemon(CHANNELS)
    d.start()
    old = os.environ.get("IPCBROKER_SOCKET")
    os.environ["IPCBROKER_SOCKET"] = d.socket
    try:
        yield d
    finally:
        if old is None:
            os.environ.pop("IPCBROKER_SOCKET", None)
        else:
            os.environ["IPCBROKER_SOCKET"] = old
        log = d.log()
        rc = d.stop()
    # a clean stop (under valgrind: no error it found)
    assert rc == 0, f"ipcbrokerd exited with status {rc}:\n{log}"


@pytest.fixture
def broker(daemon):
    """The session's daemon, every channel empty."""
    ipcbroker.purge(all=True)
    return daemon


@pytest.fixture
def make_daemon():
    """Start a daemon of one's own: make_daemon(channels) -> Daemon (stopped at the end)."""
    started = []

    def make(channels, **kw):
        d = Daemon(channels, **kw)
        d.start()
        started.append(d)
        return d

    yield make
    for d in started:
        log = d.log()
        rc = d.stop()
        assert rc == 0, f"ipcbrokerd exited with status {rc}:\n{log}"


@pytest.fixture
def as_nobody(daemon):
    """Run Python code as nobody against the daemon: as_nobody(code) -> CompletedProcess (text)."""

    def run(code):
        # the package under test, wherever it was imported from
        env = dict(daemon.env(), PYTHONPATH=os.path.dirname(os.path.dirname(ipcbroker.__file__)))
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        return subprocess.run(
            AS_NOBODY + [PYTHON3, "-c", code], env=env, capture_output=True, text=True, timeout=60, cwd="/"
        )

    if subprocess.run(["setpriv", "--version"], capture_output=True).returncode != 0:
        pytest.skip("setpriv is missing (util-linux)")
    return run
