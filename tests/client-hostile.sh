#!/bin/bash
# client-hostile.sh — bad bytes on the control socket: garbage, truncated and
# oversized packets, a wrong version, an unknown type, smuggled descriptors,
# silent and flooding clients, and more clients than max_clients. After each,
# the daemon must still be alive and a normal `ipcbroker list` must answer.
# Needs python3 (raw SOCK_SEQPACKET access); runs as root.

. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

test_init
command -v python3 >/dev/null || skip_all "python3 is needed to speak raw bytes on the socket"

sed -i 's/^\[broker\]$/[broker]\nmax_clients = 4/' "$CONF"
add_channel hq type=mqueue max_messages=4 message_size=64 on_stop=remove
add_channel hf type=fifo message_size=64 on_stop=remove

daemon_start || bail_out "the daemon did not start"

B=$IPCBROKER
PY="$T/hostile.py"
cat >"$PY" <<'EOF'
# hostile.py MODE SOCKET [IPCBROKER] — one hostile client; prints what happened.
import array, errno, os, select, socket, struct, subprocess, sys, time

MAGIC, VERSION, REPLY = 0x42435049, 1, 100
STATUS, OPEN, LIST = 6, 1, 3
A_ERROR, A_MESSAGE, A_NAME, A_ACCESS, A_CLIENTS, A_LAST = 1, 2, 3, 4, 34, 42

mode, path = sys.argv[1], sys.argv[2]
cli = sys.argv[3] if len(sys.argv) > 3 else None

def header(typ, length, version=VERSION, serial=1234, magic=MAGIC):
    return struct.pack("=IHHII", magic, version, typ, serial, length)

def attr(typ, data):
    pad = (4 - len(data) % 4) % 4
    return struct.pack("=HH", typ, len(data)) + data + b"\0" * pad

def packet(typ, attrs=b"", **kw):
    return header(typ, len(attrs), **kw) + attrs

def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(5)
    s.connect(path)
    return s

def parse(data):
    """'reply ERRNO serial=S version=V message' for a reply, else a description."""
    if len(data) < 16:
        return "short-reply %d" % len(data)
    magic, version, typ, serial, length = struct.unpack("=IHHII", data[:16])
    if magic != MAGIC or typ != REPLY or length != len(data) - 16:
        return "bad-reply"
    attrs, off, err, msg, extra = data[16:], 0, None, "", {}
    while off + 4 <= len(attrs):
        t, l = struct.unpack("=HH", attrs[off:off + 4])
        v = attrs[off + 4:off + 4 + l]
        if t == A_ERROR:
            err = struct.unpack("=I", v)[0]
        elif t == A_MESSAGE:
            msg = v.rstrip(b"\0").decode(errors="replace")
        elif l == 8:
            extra[t] = struct.unpack("=Q", v)[0]
        off += 4 + l + (4 - l % 4) % 4
    parse.extra = extra
    return "reply %s serial=%d version=%d %s" % (err, serial, version, msg)

def answer(s):
    """The next packet's meaning, 'closed' at EOF, 'timeout' after 5 s."""
    try:
        data = s.recv(65536)
    except socket.timeout:
        return "timeout"
    except (ConnectionResetError, BrokenPipeError):
        return "closed"
    return parse(data) if data else "closed"

def status(s):
    s.send(packet(STATUS, serial=77))
    return answer(s)

def then(s):
    """After an error: is the connection closed, or does it still serve a request?"""
    try:
        r = status(s)
    except (BrokenPipeError, ConnectionResetError):
        return "closed"
    return "closed" if r == "closed" else ("served" if r.startswith("reply 0 serial=77") else r)

out = []
if mode == "garbage":
    s = connect()
    s.send(bytes((i * 37 + 11) & 0xff for i in range(100)))
    out += [answer(s), then(s)]
elif mode == "short":
    s = connect()
    s.send(header(STATUS, 0)[:10])
    out += [answer(s), then(s)]
elif mode == "empty":
    s = connect()
    s.send(b"")
    out += [answer(s), then(s)]
elif mode == "huge":
    s = connect()
    s.send(packet(STATUS, b"\0" * 40000))
    out += [answer(s), then(s)]
elif mode == "maxsize":
    s = connect()
    # exactly WIRE_PACKET_MAX bytes of valid framing, but attributes a STATUS may not carry
    s.send(packet(STATUS, attr(A_NAME, b"x" * (32768 - 16 - 4 - 1) + b"\0")[:32768 - 16]))
    out += [answer(s), then(s)]
elif mode == "version":
    s = connect()
    s.send(packet(STATUS, version=2))
    out += [answer(s), then(s)]
elif mode == "type":
    s = connect()
    s.send(packet(50))
    out += [answer(s), then(s)]
elif mode == "replytype":
    s = connect()
    s.send(packet(REPLY, attr(A_ERROR, struct.pack("=I", 0))))
    out += [answer(s), then(s)]
elif mode == "badattr":
    s = connect()
    s.send(packet(OPEN, attr(A_NAME, b"hq") + attr(A_ACCESS, struct.pack("=I", 1))))  # NAME without NUL
    out += [answer(s), then(s)]
elif mode == "badaccess":
    s = connect()
    s.send(packet(OPEN, attr(A_NAME, b"hq\0") + attr(A_ACCESS, struct.pack("=I", 0xff))))
    out += [answer(s), then(s)]
elif mode == "fd":
    s = connect()
    r, w = os.pipe()
    fds = array.array("i", [w, w, r])
    try:
        s.sendmsg([packet(STATUS)], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])
        os.close(w)
        out.append(answer(s))
        out.append(then(s))
    except PermissionError:
        # Linux 6.16+: the daemon's socket refuses descriptors (SO_PASSRIGHTS = 0)
        os.close(w)
        out += ["refused-at-send", then(s)]
    # the daemon must not keep our descriptors: the pipe's write end is closed everywhere
    ready, _, _ = select.select([r], [], [], 5)
    out.append("fd-closed" if ready and os.read(r, 1) == b"" else "fd-kept")
elif mode == "silent":
    s = connect()
    t0 = time.monotonic()
    p = subprocess.run([cli, "list"], capture_output=True, timeout=20)
    out.append("list rc=%d %.1fs" % (p.returncode, time.monotonic() - t0))
    out.append(then(s))
elif mode == "flood":
    # requests without ever reading a reply: the daemon must not block on us,
    # and (client.c) it reads no request of ours while a reply is unread
    s = connect()
    s.setblocking(False)
    sent, closed = 0, False
    while sent < 5000:
        try:
            s.send(packet(STATUS, serial=sent))
            sent += 1
        except BlockingIOError:
            break
        except (BrokenPipeError, ConnectionResetError):
            closed = True
            break
    t0 = time.monotonic()
    p = subprocess.run([cli, "list"], capture_output=True, timeout=20)
    out.append("sent>1" if sent > 1 else "sent=%d" % sent)
    out.append("list rc=%d %.1fs" % (p.returncode, time.monotonic() - t0))
    # give the daemon time to answer more, if it would (the old code answered all)
    select.select([s], [], [], 2)
    time.sleep(0.5)
    queued = 0
    while True:
        try:
            if not s.recv(65536):
                break
            queued += 1
        except (BlockingIOError, ConnectionResetError):
            break
    out.append("flood-conn %s (sent %d, replies queued %d)" % ("closed" if closed else "open", sent, queued))
elif mode == "last":
    # without LAST the connection serves request after request; with it, the
    # daemon hangs up right after the reply (also after an open's reply)
    s = connect()
    out.append("plain " + status(s))
    out.append("plain-then " + then(s))
    s.send(packet(STATUS, attr(A_LAST, b""), serial=78))
    out.append("last " + answer(s))
    out.append("last-then " + answer(s))
    s = connect()
    s.send(packet(OPEN, attr(A_NAME, b"hq\0") + attr(A_ACCESS, struct.pack("=I", 1)) + attr(A_LAST, b""), serial=79))
    msg, anc, _, _ = s.recvmsg(65536, socket.CMSG_SPACE(4))
    out.append("open-last " + parse(msg) + (" fd" if anc else " no-fd"))
    for level, typ, data in anc:
        for fd in array.array("i", data[:len(data) - len(data) % 4]):
            os.close(fd)
    out.append("open-last-then " + answer(s))
    s = connect()
    s.send(packet(STATUS, attr(A_LAST, struct.pack("=I", 1))))  # a flag carries no data
    out.append("badlast " + answer(s))
elif mode == "maxclients":
    held = []
    for i in range(4):
        s = connect()
        r = status(s)          # make sure the daemon accepted and serves it
        held.append(s)
        out.append("held%d %s" % (i, "ok" if r.startswith("reply 0 ") else r))
    out.append("clients=%s" % parse.extra.get(A_CLIENTS))
    # a 5th raw connection: one error packet, then the daemon hangs up
    s5 = connect()
    out.append("fifth " + answer(s5))
    out.append("fifth-then " + then(s5))
    p = subprocess.run([cli, "list"], capture_output=True, timeout=20)
    out.append("cli rc=%d err=%s" % (p.returncode, p.stderr.decode(errors="replace").strip()))
    # the held ones still work
    out.append("held-still " + ("ok" if all(status(s).startswith("reply 0 ") for s in held) else "broken"))
    for s in held:
        s.close()
else:
    sys.exit("unknown mode " + mode)
print("\n".join(out))
EOF

# alive_and_serving: the daemon process exists and `ipcbroker list` answers within 5 s
alive_and_serving() {
        kill -0 "$DAEMON_PID" 2>/dev/null || return 1
        timeout 5 "$B" list >/dev/null 2>&1
}

hostile() { # MODE [AS...]: $R gets the helper's output (one line per observation)
        local mode=$1
        shift
        R=$(timeout 60 "$@" "$PYTHON3" "$PY" "$mode" "$SOCK" "$B" 2>"$T/py.err")
        local rc=$?
        [ $rc = 0 ] || diag "hostile.py $mode failed ($rc): $(cat "$T/py.err")"
}

line() { printf '%s\n' "$R" | sed -n "${1}p"; }

EBADMSG=74 EMSGSIZE=90 EPROTONOSUPPORT=93 EOPNOTSUPP=95 EINVAL=22 EUSERS=87

hostile garbage
like "$(line 1)" "^(reply $EBADMSG |closed)" "garbage: an EBADMSG reply or a closed connection"
is "$(line 2)" closed "garbage: the connection is closed afterwards"
ok "garbage: the daemon is alive and serves list" alive_and_serving

hostile short
like "$(line 1)" "^(reply $EBADMSG |closed)" "truncated header: an EBADMSG reply or a closed connection"
is "$(line 2)" closed "truncated header: the connection is closed afterwards"
ok "truncated header: the daemon is alive and serves list" alive_and_serving

hostile empty
like "$(line 1)" "^(reply $EBADMSG |closed|timeout)" "empty packet: rejected, closed or ignored ($(line 1))"
ok "empty packet: the daemon is alive and serves list" alive_and_serving

hostile huge
like "$(line 1)" "^(reply $EMSGSIZE |closed)" "40000-byte packet: an EMSGSIZE reply or a closed connection"
is "$(line 2)" closed "40000-byte packet: the connection is closed afterwards"
ok "40000-byte packet: the daemon is alive and serves list" alive_and_serving

hostile maxsize
like "$(line 1)" "^reply ($EINVAL|$EBADMSG) " "a 32768-byte packet with a forbidden attribute: an error reply"
ok "32768-byte packet: the daemon is alive and serves list" alive_and_serving

hostile version
like "$(line 1)" "^reply $EPROTONOSUPPORT serial=1234 version=1 " "version 2: EPROTONOSUPPORT, echoing the serial, in the daemon's version 1"
like "$(line 1)" "version" "version 2: the message mentions the version"
like "$(line 2)" "^(served|closed)$" "version 2: afterwards the connection is served or closed, not hung"
ok "version 2: the daemon is alive and serves list" alive_and_serving

hostile type
like "$(line 1)" "^reply $EOPNOTSUPP serial=1234 " "unknown type: EOPNOTSUPP with the serial"
like "$(line 2)" "^(served|closed)$" "unknown type: afterwards served or closed"
ok "unknown type: the daemon is alive and serves list" alive_and_serving

hostile replytype
like "$(line 1)" "^reply $EINVAL " "a client sending a reply: EINVAL"
ok "reply from a client: the daemon is alive and serves list" alive_and_serving

hostile badattr
like "$(line 1)" "^reply $EINVAL serial=1234 " "open with a NAME lacking its NUL: EINVAL"
ok "bad attribute: the daemon is alive and serves list" alive_and_serving

hostile badaccess
like "$(line 1)" "^reply $EINVAL serial=1234 .*access" "open with unknown access bits: EINVAL naming the access mode"
ok "bad access: the daemon is alive and serves list" alive_and_serving

hostile fd
like "$(line 1)" "^(refused-at-send|reply 1 serial=0 .*descriptors may not be passed)" \
        "descriptors are refused: by the kernel at send, or with EPERM and a hang-up ($(line 1))"
is "$(line 2)" "$(test "$(line 1)" = refused-at-send && echo served || echo closed)" \
        "after refused descriptors: still served (refused at send) or disconnected"
is "$(line 3)" "fd-closed" "the daemon does not keep the descriptors it was sent"
ok "fd passing: the daemon is alive and serves list" alive_and_serving

hostile silent
like "$(line 1)" "^list rc=0 " "a connected client that never speaks does not stop others ($(line 1))"
is "$(line 2)" "served" "the silent client is still served when it finally speaks"
ok "silent client: the daemon is alive and serves list" alive_and_serving

hostile flood
is "$(line 1)" "sent>1" "flood: requests were sent"
like "$(line 2)" "^list rc=0 " "flood: a client that never reads its replies does not block others ($(line 2))"
like "$(line 3)" "replies queued 1\)$" "flood: one reply at a time for a client that does not read them ($(line 3))"
ok "flood: the daemon is alive and serves list" alive_and_serving

hostile last
like "$(line 1)" "^plain reply 0 serial=77 " "a request without LAST is answered"
is "$(line 2)" "plain-then served" "without LAST the connection serves another request"
like "$(line 3)" "^last reply 0 serial=78 " "a request with LAST is answered"
is "$(line 4)" "last-then closed" "after the reply to a LAST request the daemon hangs up"
like "$(line 5)" "^open-last reply 0 serial=79 .* fd$" "an open with LAST gets its reply and descriptor"
is "$(line 6)" "open-last-then closed" "and then the daemon hangs up"
like "$(line 7)" "^badlast reply $EINVAL " "a LAST flag carrying data is rejected with EINVAL"
ok "LAST: the daemon is alive and serves list" alive_and_serving

# ---- max_clients = 4 -------------------------------------------------------------------
clients_is() { # N: status --json (itself one client) reports N clients
        [ "$($B status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["clients"])')" = "$1" ]
}
wait_until 5 clients_is 1 || diag "earlier connections are still counted"
# as nobody: root and admins may go beyond max_clients (tests/security-*.sh)
chmod 0644 "$PY"
hostile maxclients $AS_NOBODY
is "$(printf '%s\n' "$R" | grep -c '^held[0-3] ok$')" 4 "max_clients = 4: four connections are served"
is "$(printf '%s\n' "$R" | grep '^clients=')" "clients=4" "status counts 4 clients"
like "$(printf '%s\n' "$R" | grep '^fifth ')" "^fifth (reply $EUSERS .*too many clients|closed)" \
        "a 5th connection gets a clean refusal"
is "$(printf '%s\n' "$R" | grep '^fifth-then ')" "fifth-then closed" "the 5th connection is closed"
like "$(printf '%s\n' "$R" | grep '^cli ')" "^cli rc=1 err=.*too many clients" \
        "ipcbroker list as a 5th client: exit 1 and 'too many clients'"
is "$(printf '%s\n' "$R" | grep '^held-still ')" "held-still ok" "the four held connections are still served"
ok "max_clients: the daemon is alive" kill -0 "$DAEMON_PID"
ok "after the four close, clients are served again" wait_until 5 alive_and_serving
ok "status: the held connections are gone, only the asking client is counted" wait_until 5 clients_is 1

# data still flows after all of this
$B send hq survived
is "$($B recv hq -t 5)" "survived" "messages still go through"

daemon_stop
is "$?" 0 "the daemon stops cleanly (exit 0)"

done_testing
