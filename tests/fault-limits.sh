#!/bin/bash
# Resource limits: per-user connection quota, idle timeout, descriptor
# exhaustion at accept (no spinning, recovery), and a full queue with
# blocked senders (the daemon itself never blocks on a channel).
. "$top_srcdir/tests/lib.sh"
test_init
command -v python3 >/dev/null || skip_all "python3 is needed to hold raw connections"

sed -i 's/^admins = root$/admins = root\nmax_clients_per_user = 3\nidle_timeout = 2/' "$CONF"
add_channel q type=mqueue max_messages=4 message_size=64 mode=0666 on_stop=remove
ok "daemon starts" daemon_start

# hold N raw connections as the calling user until the file $2 is removed;
# with "keepalive", each sends a status request every 0.5 s so that
# idle_timeout never closes it, however slow the machine
hold() { # N FLAGFILE [keepalive]
        python3 - "$SOCK" "$1" "$2" "${3:-}" <<'EOF'
import os, socket, struct, sys, time
path, n, flag, keepalive = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4] == "keepalive"
STATUS_REQUEST = struct.pack("=IHHII", 0x42435049, 1, 6, 1, 0)
conns = []
for _ in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    conns.append(s)
open(flag + ".ready", "w").close()
deadline = time.time() + 60
next_ping = 0
while os.path.exists(flag) and time.time() < deadline:
    if keepalive and time.time() >= next_ping:
        for s in conns:
            try:
                s.send(STATUS_REQUEST, socket.MSG_DONTWAIT)
                while s.recv(65536, socket.MSG_DONTWAIT):
                    pass
            except OSError:
                pass
        next_ping = time.time() + 0.5
    time.sleep(0.05)
EOF
}

# ---- per-user quota -------------------------------------------------------------
mkdir -m 1777 "$T/flags" # nobody writes its ready flag here
touch "$T/flags/hold1"
$AS_NOBODY bash -c "$(declare -f hold); SOCK='$SOCK' hold 3 '$T/flags/hold1' keepalive" &
holder=$!
ok "nobody holds 3 connections" wait_until 10 test -e "$T/flags/hold1.ready"
out=$($AS_NOBODY "$IPCBROKER" list 2>&1)
is "$?" 1 "a 4th connection from nobody is refused"
like "$out" "too many connections from this user" "with the reason"
ok "root is still served" "$IPCBROKER" list
ok "another user is still served" setpriv --reuid=daemon --regid=daemon --clear-groups "$IPCBROKER" list
rm -f "$T/flags/hold1"
wait "$holder"
ok "nobody is served again once its connections are gone" wait_until 5 $AS_NOBODY "$IPCBROKER" list
ok "the refusal was logged" grep -q "refusing a connection from uid 65534" "$DAEMON_LOG"

# ---- idle timeout ----------------------------------------------------------------
out=$(python3 - "$SOCK" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.settimeout(10)
t = time.time()
try:
    data = s.recv(100)
except socket.timeout:
    print("still open")
    sys.exit()
print("closed after %.1f s" % (time.time() - t))
EOF
)
like "$out" '^closed after [1-4]\.' "a silent connection is closed after idle_timeout (2 s)"

# ---- max_connection_age: a busy connection gives its slot back too --------------
sed -i 's/^idle_timeout = 2$/idle_timeout = 2\nmax_connection_age = 3/' "$CONF"
ok "reload with max_connection_age = 3" daemon_reload
out=$(python3 - "$SOCK" <<'EOF'
import socket, struct, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.settimeout(5)
t = time.time()
while time.time() - t < 20:
    try:
        s.send(struct.pack("=IHHII", 0x42435049, 1, 6, 1, 0))
        if not s.recv(65536):
            break
    except OSError:
        break
    time.sleep(0.3)
print("closed after %.1f s" % (time.time() - t))
EOF
)
like "$out" '^closed after ([2-9]|1[0-9])\.' "a connection busy every 0.3 s is still closed after max_connection_age ($out)"

# ---- descriptor exhaustion at accept --------------------------------------------
daemon_stop
sed -i 's/^max_clients_per_user = 3$/max_clients_per_user = 1000/; s/^idle_timeout = 2$/idle_timeout = 60/; /^max_connection_age = 3$/d' "$CONF"
ok "daemon starts with 32 descriptors" daemon_start
prlimit --pid "$DAEMON_PID" --nofile=32:32
touch "$T/hold2"
hold 60 "$T/hold2" &
holder=$!
ok "60 connections are made (more than the daemon can accept)" wait_until 10 test -e "$T/hold2.ready"
ok "the daemon pauses accepting instead of failing" wait_until 5 grep -q "cannot accept connections: .*pausing" "$DAEMON_LOG"
ticks() { awk '{print $14 + $15}' "/proc/$DAEMON_PID/stat"; }
t0=$(ticks)
sleep 1 # measuring CPU use over a second is the point here
t1=$(ticks)
hz=$(getconf CLK_TCK)
ok "it does not spin while out of descriptors ($((t1 - t0)) ticks of $hz in 1 s)" test $((t1 - t0)) -lt $((hz / 4))
ok "the daemon is alive" kill -0 "$DAEMON_PID"
rm -f "$T/hold2"
wait "$holder"
ok "it recovers as soon as descriptors free up" wait_until 10 "$IPCBROKER" list
prlimit --pid "$DAEMON_PID" --nofile=1024:1024

# ---- a full queue, blocked senders, a receiver that never reads ------------------
for i in 1 2 3 4; do "$IPCBROKER" send q "m$i"; done
pids=
for i in 1 2 3; do
        "$IPCBROKER" send q "blocked$i" &
        pids="$pids $!"
done
# a receiver that holds the channel open and never reads
"$top_builddir/tests/helpers/stream" hold q 60 - &
sleeper=$!
ok "list answers promptly with the queue full and senders blocked" timeout 5 "$IPCBROKER" list
like "$(timeout 5 "$IPCBROKER" stat q --json)" '"mq_curmsgs": 4' "stat sees the full queue"
ok "status answers" timeout 5 "$IPCBROKER" status
out=$(timeout 5 "$IPCBROKER" purge q)
like "$out" "purged [4-9] messages" "purge drains the full queue without blocking"
status=0
for p in $pids; do
        wait_until 10 sh -c "! kill -0 $p 2>/dev/null" || status=1
done
is "$status" 0 "the blocked senders got through after the purge"
kill "$sleeper" 2>/dev/null
ok "clean stop" daemon_stop

done_testing
