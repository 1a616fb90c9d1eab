#!/bin/bash
# security-fdpass.sh — one packet must not freeze the daemon (issue 9, attack 1).
#
# As nobody: a TCP connection on loopback whose peer never reads, its send
# buffer full, SO_LINGER one hour; pass it to the daemon in SCM_RIGHTS and
# close our copy. The daemon would hold the last reference, and its close()
# would wait for the linger time. Variants: the descriptor with a request;
# the descriptor unread behind a LAST request (the daemon closes the socket
# after its reply); behind empty packets; hundreds of copies on many
# connections. Root's `ipcbroker status` must answer within 1 s, both
# where the kernel refuses descriptors at the socket (SO_PASSRIGHTS, Linux
# 6.16) and on the older kernels' path (IPCBROKERD_NO_PASSRIGHTS=1).
. "$top_srcdir/tests/lib.sh"
test_init
command -v "$PYTHON3" >/dev/null || skip_all "python3 is needed to pass descriptors"
add_channel q type=mqueue max_messages=4 message_size=64 on_stop=remove
add_channel pub type=mqueue mode=0666 max_messages=4 message_size=64 on_stop=remove

ATTACK="$T/linger.py"
cat >"$ATTACK" <<'EOF_PY'
# linger.py SOCKET VARIANT SECONDS: pass a lingering TCP socket, then hold on
import array, os, socket, struct, sys, time
sys.path.insert(0, sys.argv[4])
import wire

path, variant, hold = sys.argv[1], sys.argv[2], float(sys.argv[3])
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
srv.bind(("127.0.0.1", 0))
srv.listen(1)
c = socket.create_connection(srv.getsockname())
peer, _ = srv.accept()          # never reads
c.setblocking(False)
try:
    while True:
        c.send(b"x" * 65536)
except BlockingIOError:
    pass
c.setblocking(True)
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 3600))
fds = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [c.fileno()]))]
u = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
u.connect(path)
try:
    if variant == "with-request":
        u.sendmsg([wire.status_request()], fds)
    elif variant in ("unread", "unread-read"):
        # a last request whose reply carries a descriptor: the daemon keeps the
        # connection until that reply is read, then closes it
        u.send(wire.open_request("pub", wire.ACCESS_SEND, last=True))
        u.sendmsg([wire.status_request()], fds)
    elif variant == "empty":
        # a request whose reply we leave unread, so that the daemon reads no
        # more until we do; then empty packets: one reads as a hang-up, the
        # next as the end of the data, and the descriptor comes after them
        u.send(wire.status_request())
        u.send(b"")
        u.send(b"")
        u.sendmsg([b"x"], fds)
    elif variant == "many":
        # the lingering socket first, to keep a closing thread busy; then 253
        # copies of a pipe a packet on 3 connections (the kernel lets nobody
        # have about as many in flight as its RLIMIT_NOFILE)
        u.sendmsg([wire.status_request()], fds)
        r, w = os.pipe()
        many = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [w] * 253))]
        held = []
        for i in range(3):
            v = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            v.connect(path)
            v.sendmsg([wire.status_request()], many)
            held.append(v)
    print("sent", flush=True)
except PermissionError:
    print("refused", flush=True)
c.close()                       # the daemon would hold the last reference
if variant in ("unread-read", "empty"):
    u.recv(65536)               # the reply: now the daemon reads on, or lets go of the socket
time.sleep(hold)
EOF_PY
chmod 0644 "$ATTACK"

status_fast() { timeout 1 "$IPCBROKER" status >/dev/null 2>&1; }

attack() { # LABEL VARIANT: run one attack as nobody, then probe root's status
        local label=$1 variant=$2 out
        $AS_NOBODY "$PYTHON3" "$ATTACK" "$SOCK" "$variant" 8 "$top_srcdir/tests/helpers" >"$T/attack.out" 2>"$T/attack.err" &
        local pid=$!
        wait_until 30 grep -qE '^(sent|refused)$' "$T/attack.out" ||
                diag "the attacker did not report: $(cat "$T/attack.err")"
        out=$(cat "$T/attack.out")
        if [ "$EXPECT" = refused ]; then
                is "$out" refused "$label, $variant: the kernel refuses the descriptor (EPERM at send)"
        else
                is "$out" sent "$label, $variant: the descriptor reaches the daemon"
        fi
        ok "$label, $variant: root's status answers within 1 s" status_fast
        ok "$label, $variant: and again" status_fast
        if [ "$variant" = many ]; then
                local fds
                fds=$(ls "/proc/$DAEMON_PID/fd" | wc -l)
                ok "$label, $variant: the daemon holds $fds descriptors, not the 759 sent" test "$fds" -lt 200
        fi
        ok "$label, $variant: a channel still opens" timeout 2 "$IPCBROKER" send q "after $variant"
        is "$(timeout 2 "$IPCBROKER" recv q --nonblock)" "after $variant" "$label, $variant: and carries a message"
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
}

# ---- Linux 6.16+: SO_PASSRIGHTS = 0 on the listening socket ---------------------------
if "$PYTHON3" -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.setsockopt(socket.SOL_SOCKET, 83, 0)' 2>/dev/null; then
        ok "daemon starts" daemon_start
        EXPECT=refused
        attack passrights with-request
        attack passrights unread
        attack passrights empty
        daemon_stop
else
        diag "this kernel has no SO_PASSRIGHTS: only the fallback path is tested"
fi

# ---- older kernels: descriptors closed on a helper thread ------------------------------
# valgrind runs one thread at a time, and its close() does not let go: a helper
# thread stuck in close() would stop the whole daemon. This part runs it bare.
saved=$IPCBROKERD_WRAPPER
case "$IPCBROKERD_WRAPPER" in
*valgrind*)
        diag "the fallback path runs without valgrind (it serialises threads)"
        IPCBROKERD_WRAPPER=
        ;;
esac
export IPCBROKERD_NO_PASSRIGHTS=1
ok "daemon starts on the fallback path" daemon_start
unset IPCBROKERD_NO_PASSRIGHTS
IPCBROKERD_WRAPPER=$saved
ok "the daemon says it takes the fallback path" grep -q "IPCBROKERD_NO_PASSRIGHTS=1" "$DAEMON_LOG"
EXPECT=sent
attack fallback with-request
ok "fallback: the client that passed a descriptor was disconnected, and logged" \
        grep -q "passed descriptors to the daemon; disconnecting" "$DAEMON_LOG"
attack fallback unread-read
attack fallback unread
attack fallback empty
attack fallback many
# the passed descriptors stay charged to nobody until closed; once the attacker is gone they are
ok "fallback: nobody can connect again once its descriptors are closed" \
        wait_until 10 sh -c "$AS_NOBODY '$IPCBROKER' status >/dev/null 2>&1"
ok "clean stop" daemon_stop

done_testing
