#!/bin/bash
# security-unread.sh — unread replies must not pin descriptors for everyone
# (issue 9, attack 3).
#
# Every open's reply carries a descriptor, charged by the kernel to the
# daemon's user until the client reads it. A client that pipelines requests
# without reading, or that makes one-shot opens and never reads, could keep
# thousands in flight; without CAP_SYS_RESOURCE/CAP_SYS_ADMIN the kernel then
# refuses every other pass with ETOOMANYREFS once more are in flight than the
# daemon's RLIMIT_NOFILE. Now a connection has at most one reply in flight,
# and a connection the daemon is done with stays charged to its user until
# that reply is read.
. "$top_srcdir/tests/lib.sh"
test_init
command -v "$PYTHON3" >/dev/null || skip_all "python3 is needed for raw protocol clients"
sed -i 's/^\[broker\]$/[broker]\nmax_clients_per_user = 8/' "$CONF"
add_channel open type=mqueue mode=0666 max_messages=4 message_size=64 on_stop=remove

PY="$T/unread.py"
cat >"$PY" <<'EOF_PY'
# unread.py SOCKET MODE N HOLD
import array, fcntl, select, socket, struct, sys, termios, time
sys.path.insert(0, sys.argv[5])
import wire

path, mode, n, hold = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])

def take(s):
    """Replies queued on S now: (fds, errors)."""
    fds, errors = 0, []
    s.setblocking(False)
    while True:
        try:
            msg, anc, _, _ = s.recvmsg(65536, socket.CMSG_SPACE(4 * 4))
        except (BlockingIOError, ConnectionResetError):
            break
        if not msg:
            break
        errors.append(wire.reply_error(msg))
        for _, _, data in anc:
            fds += len(data) // 4
    return fds, errors

if mode == "pipeline":
    # N opens back to back on one connection, none read
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    s.setblocking(False)
    sent = 0
    for i in range(n):
        try:
            s.send(wire.open_request("open", wire.ACCESS_SEND, serial=i))
            sent += 1
        except (BlockingIOError, ConnectionResetError, BrokenPipeError):
            break           # full, or the daemon hung up: hold what is in flight
    print("sent %d" % sent, flush=True)
    time.sleep(hold)           # time for the daemon to answer more, if it would
    # what is queued for us before we read anything (FIONREAD sums a
    # SEQPACKET socket's whole queue): once we read, the daemon may rightly
    # send the next reply, and a drain would race it
    queued = struct.unpack("i", fcntl.ioctl(s, termios.FIONREAD, b"\0" * 4))[0]
    s.setblocking(True)
    msg, anc, _, _ = s.recvmsg(65536, socket.CMSG_SPACE(4 * 4))
    fds = sum(len(data) // 4 for _, _, data in anc)
    replies = queued // len(msg) if msg and queued % len(msg) == 0 else -1
    print("pipeline fds %d replies %d" % (fds, replies), flush=True)
elif mode == "oneshot":
    # N one-shot opens on N connections, none read, all kept open
    socks = []
    for i in range(n):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.connect(path)
        try:
            s.send(wire.open_request("open", wire.ACCESS_SEND, last=True, serial=i))
        except (BrokenPipeError, ConnectionResetError):
            pass        # refused before we sent: its refusal is queued for us all the same
        socks.append(s)
    time.sleep(1)
    print("connected %d" % n, flush=True)
    time.sleep(hold)
    total, refused = 0, 0
    for s in socks:
        select.select([s], [], [], 2)
        fds, errors = take(s)
        total += fds
        refused += sum(1 for e in errors if e == 87)   # EUSERS
    print("oneshot fds %d refused %d" % (total, refused), flush=True)
EOF_PY
chmod 0644 "$PY"
run_py() { $AS_NOBODY "$PYTHON3" "$PY" "$SOCK" "$@" "$top_srcdir/tests/helpers"; }

ok "daemon starts" daemon_start

# ---- one reply in flight per connection ------------------------------------------------
out=$(run_py pipeline 200 1.5)
like "$out" "sent [0-9]+" "pipelining: nobody sent its requests ($(echo $out | tr '\n' ' '))"
like "$out" "pipeline fds 1 replies 1$" "pipelining: one reply (one descriptor) in flight, the rest not even read"
ok "the daemon says why it paused the client" grep -q "sent a request before reading the last reply" "$DAEMON_LOG"

# ---- one-shot opens never read: still charged to nobody -------------------------------
run_py oneshot 20 4 >"$T/oneshot.out" &
pypid=$!
ok "nobody made 20 one-shot opens" wait_until 10 grep -q "^connected 20" "$T/oneshot.out"
not_ok "nobody's 21st connection is refused while its replies are unread (max_clients_per_user = 8)" \
        $AS_NOBODY "$IPCBROKER" status
ok "root still opens" "$IPCBROKER" send open "from root"
ok "another user still opens" setpriv --reuid=4242 --regid=4242 --clear-groups "$IPCBROKER" send open "from 4242"
wait "$pypid"
like "$(cat "$T/oneshot.out")" "oneshot fds 8 refused 12" \
        "8 replies with descriptors, 12 connections refused: nobody never had more than 8 in flight"
ok "once nobody's sockets are gone, nobody connects again" \
        wait_until 5 sh -c "$AS_NOBODY '$IPCBROKER' status >/dev/null 2>&1"
daemon_stop

# ---- the descriptor limit: no ETOOMANYREFS for everyone else ---------------------------
# A daemon without CAP_SYS_RESOURCE and CAP_SYS_ADMIN, with RLIMIT_NOFILE 128: the
# kernel refuses to pass descriptors once more than 128 of root's are in flight.
if setpriv --bounding-set=-sys_admin,-sys_resource true 2>/dev/null; then
        saved=$IPCBROKERD_WRAPPER
        IPCBROKERD_WRAPPER="prlimit --nofile=128:128 setpriv --bounding-set=-sys_admin,-sys_resource $saved"
        ok "daemon starts without CAP_SYS_ADMIN and CAP_SYS_RESOURCE, 128 descriptors" daemon_start
        IPCBROKERD_WRAPPER=$saved
        pids=
        for i in 1 2 3; do
                run_py pipeline 400 4 >"$T/pipe$i.out" &
                pids="$pids $!"
        done
        ok "nobody's pipelines are under way" \
                wait_until 10 sh -c "grep -q '^sent' '$T/pipe1.out' && grep -q '^sent' '$T/pipe2.out' && grep -q '^sent' '$T/pipe3.out'"
        ok "while nobody pipelines opens without reading, root still gets a descriptor" \
                "$IPCBROKER" send open "under pressure"
        ok "and other users too" setpriv --reuid=4242 --regid=4242 --clear-groups "$IPCBROKER" recv open --nonblock
        wait $pids
        ok "clean stop" daemon_stop
fi

done_testing
