"""Errors are the built-in exceptions, with the daemon's explanation as the message."""
import errno

import pytest

import ipcbroker


def test_no_such_channel(broker):
    with pytest.raises(FileNotFoundError) as e:
        ipcbroker.open("nosuch", recv=True)
    assert e.value.errno == errno.ENOENT
    assert "nosuch" in str(e.value)
    with pytest.raises(FileNotFoundError):
        ipcbroker.stat("nosuch")


def test_message_too_large(broker):
    with ipcbroker.open("jobs", send=True) as ch:
        with pytest.raises(ValueError) as e:
            ch.send(b"x" * 129)
        assert e.value.errno == errno.EMSGSIZE
        assert "129" in str(e.value) and "128" in str(e.value) and "jobs" in str(e.value)
        ch.send(b"x" * 128)  # the largest fits
        assert ch.attrs.depth == 1


def test_bad_arguments(broker):
    with pytest.raises(ValueError):
        ipcbroker.open("jobs")  # neither send nor recv
    with pytest.raises(ValueError) as e:
        ipcbroker.open("not a name!", send=True)
    assert e.value.errno == errno.EINVAL and "not a valid channel name" in str(e.value)
    with pytest.raises(ValueError):
        ipcbroker.open("x" * 129, send=True)
    with pytest.raises(TypeError):
        ipcbroker.open(None, send=True)
    with pytest.raises(ValueError):
        ipcbroker.open("jobs", send=True, socket="")


def test_wrong_direction(broker):
    with ipcbroker.open("jobs", recv=True) as ch:
        with pytest.raises(OSError) as e:
            ch.send(b"x")
        assert e.value.errno == errno.EBADF and "not open for this direction" in str(e.value)


def test_daemon_unreachable(broker, tmp_path):
    sock = str(tmp_path / "none.sock")
    for call in (lambda: ipcbroker.open("jobs", send=True, socket=sock), lambda: ipcbroker.status(socket=sock)):
        with pytest.raises(ConnectionRefusedError) as e:
            call()
        assert e.value.errno == errno.ECONNREFUSED and sock in str(e.value)


def test_purge_refuses_no_names(broker):
    with pytest.raises(ValueError, match="all=True"):
        ipcbroker.purge()
    with pytest.raises(ValueError):
        ipcbroker.purge("jobs", all=True)


def test_purge_of_a_missing_channel(broker):
    with ipcbroker.open("jobs", send=True) as ch:
        ch.send(b"1")
    with pytest.raises(FileNotFoundError) as e:
        ipcbroker.purge("jobs", "nosuch")
    # the other channel was purged all the same; every result comes with the exception
    results = {r.name: r for r in e.value.results}
    assert results["jobs"].messages == 1 and results["jobs"].error is None
    assert isinstance(results["nosuch"].error, FileNotFoundError)
    assert ipcbroker.stat("jobs").messages == 0


def test_wait_times_out(broker):
    with pytest.raises(TimeoutError) as e:
        ipcbroker.wait("jobs", "nosuch", timeout=0.3)
    assert "nosuch" in str(e.value)
    with pytest.raises(ValueError):
        ipcbroker.wait()
