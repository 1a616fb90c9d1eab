"""An unprivileged caller (nobody): denials are PermissionError with the daemon's explanation."""
import json

import ipcbroker

CODE = r"""
import json, ipcbroker
out = {}
def attempt(key, call):
    try:
        out[key] = ["ok", repr(call())]
    except Exception as e:
        out[key] = [type(e).__name__, str(e), getattr(e, "errno", None)]
def send_public():
    with ipcbroker.open("public", send=True) as ch:
        ch.send(b"from nobody", priority=2)
attempt("open_jobs", lambda: ipcbroker.open("jobs", recv=True))
attempt("send_public", send_public)
attempt("purge", lambda: ipcbroker.purge("public"))
attempt("reload", ipcbroker.reload)
attempt("access", lambda: ipcbroker.access("jobs"))
attempt("access_other", lambda: ipcbroker.access("jobs", user="root"))
print(json.dumps(out))
"""


def test_denied_as_nobody(broker, as_nobody):
    p = as_nobody(CODE)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    kind, message, err = out["open_jobs"]
    assert kind == "PermissionError" and err == 13
    assert "jobs" in message and "denied" in message
    assert out["send_public"][0] == "ok"
    assert out["purge"][0] == "PermissionError" and "administrator" in out["purge"][1]
    assert out["reload"][0] == "PermissionError"
    assert out["access"][0] == "ok" and "send=False" in out["access"][1] and "recv=False" in out["access"][1]
    assert out["access_other"][0] == "PermissionError"
    # what nobody sent arrived
    with ipcbroker.open("public", recv=True) as ch:
        assert ch.recv(timeout=5) == (b"from nobody", 2)


def test_access_for_another_user(broker):
    a = ipcbroker.access("jobs", user="nobody")
    assert (a.channel, a.user, a.send, a.recv) == ("jobs", "nobody", False, False)
    assert a.send_rule and a.recv_rule
    me = ipcbroker.access("jobs")
    assert me.uid == 0 and me.send and me.recv
    assert ipcbroker.access("public", user=65534).send
