#!/bin/bash
# security-logflood.sh — a user must not flood the daemon's log (issue 9, attack 5).
#
# Denied opens, refused connections and protocol errors are logged one line
# each; unthrottled, nobody wrote some 130,000 lines a second, enough to push
# real errors out of journald's rate limit. Now each user may cause a few
# lines per interval; the rest are counted and summed up in one line, "N
# similar messages from uid U suppressed". The counters count everything.
. "$top_srcdir/tests/lib.sh"
test_init
command -v "$PYTHON3" >/dev/null || skip_all "python3 is needed"
add_channel secret type=mqueue mode=0600 max_messages=4 message_size=64 on_stop=remove

PY="$T/flood.py"
cat >"$PY" <<'EOF_PY'
# flood.py SOCKET SECONDS MODE: one-shot requests as fast as they go
import socket, sys, time
sys.path.insert(0, sys.argv[4])
import wire

path, seconds, mode = sys.argv[1], float(sys.argv[2]), sys.argv[3]
end, n, denied = time.monotonic() + seconds, 0, 0
while time.monotonic() < end:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    if mode == "denied":
        s.send(wire.open_request("secret", wire.ACCESS_RECV, last=True))
    else:
        s.send(b"\xff" * 40)       # malformed: the daemon logs and hangs up
    try:
        if wire.reply_error(s.recv(65536)) == 13:   # EACCES
            denied += 1
    except ConnectionResetError:
        pass
    s.close()
    n += 1
print("requests %d denied %d" % (n, denied))
EOF_PY
chmod 0644 "$PY"

ok "daemon starts" daemon_start
before=$(count_lines "$DAEMON_LOG" "uid 65534")
out=$($AS_NOBODY "$PYTHON3" "$PY" "$SOCK" 3 denied "$top_srcdir/tests/helpers")
denied=$(echo "$out" | sed -n 's/.* denied \([0-9]*\)$/\1/p')
ok "nobody made hundreds of denied opens in 3 s ($out)" test "${denied:-0}" -gt 200
ok "the summary line comes" wait_until 10 grep -q "similar messages from uid 65534 suppressed" "$DAEMON_LOG"
lines=$(( $(count_lines "$DAEMON_LOG" "uid 65534") - before ))
ok "the flood wrote $lines lines about uid 65534, at most a few dozen" test "$lines" -le 40
suppressed=$(sed -n 's/.*: \([0-9]*\) similar messages from uid 65534 suppressed$/\1/p' "$DAEMON_LOG" |
        awk '{ s += $1 } END { print s + 0 }')
ok "the summaries account for what was suppressed ($suppressed)" test "$suppressed" -gt 150
counted=$("$IPCBROKER" status --json | "$PYTHON3" -c 'import json,sys; print(json.load(sys.stdin)["denied"])')
ok "the denial counter counts every one ($counted >= $denied)" test "$counted" -ge "$denied"

# protocol errors too, and another user keeps its own budget
before=$(count_lines "$DAEMON_LOG" "uid 65534")
$AS_NOBODY "$PYTHON3" "$PY" "$SOCK" 2 garbage "$top_srcdir/tests/helpers" >/dev/null
out=$(setpriv --reuid=4242 --regid=4242 --clear-groups "$IPCBROKER" recv secret --nonblock 2>&1)
like "$out" "permission denied" "uid 4242 is denied"
ok "and its denial is logged, whatever nobody did" grep -q "denied: uid 4242" "$DAEMON_LOG"
ok "malformed requests: a summary again" \
        wait_until 10 sh -c "[ \$(grep -c 'similar messages from uid 65534 suppressed' '$DAEMON_LOG') -ge 2 ]"
lines=$(( $(count_lines "$DAEMON_LOG" "uid 65534") - before ))
ok "malformed requests wrote $lines lines, at most a few dozen" test "$lines" -le 40
ok "clean stop" daemon_stop

done_testing
