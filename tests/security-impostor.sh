#!/bin/bash
# Impersonating the daemon: another user who binds the socket path first
# must get nothing from root's client, not one byte; and the daemon refuses a
# socket directory that others can write to, sticky or not, so that nobody
# can take the path from it.
. "$top_srcdir/tests/lib.sh"
test_init
# the fake server runs as nobody: a python3 that nobody may run (not one under /root)
PY=
for p in /usr/bin/python3 /usr/local/bin/python3 "$(command -v python3)"; do
        [ -n "$p" ] && $AS_NOBODY "$p" -c pass 2>/dev/null && { PY=$p; break; }
done
[ -n "$PY" ] || skip_all "no python3 that nobody can run, for the fake server"

NOBODY_UID=$(id -u nobody)

# ---- a fake server as nobody --------------------------------------------------
# It accepts connections one after the other until it sees the file "$IMP/stop",
# and records every byte a client sends: "$IMP/received" holds them all,
# "$IMP/conns" one line per finished connection.
IMP="$T/impostor"
mkdir -m 0755 "$IMP"
chown nobody:nogroup "$IMP"
FAKE="$IMP/ipcbroker.sock"
$AS_NOBODY "$PY" - "$IMP" <<'EOF' 2>"$T/fake.err" &
import os, select, socket, sys
d = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(d + "/ipcbroker.sock")
s.listen(8)
open(d + "/received", "wb").close()
open(d + "/listening", "w").close()
n = 0
while not os.path.exists(d + "/stop") and n < 50:
    r, _, _ = select.select([s], [], [], 0.1)
    if not r:
        continue
    c, _ = s.accept()
    got = b""
    # read until the client hangs up (or 10 s pass): everything it ever sends
    while True:
        r, _, _ = select.select([c], [], [], 10)
        if not r:
            break
        b = c.recv(65536)
        if not b:
            break
        got += b
    c.close()
    n += 1
    with open(d + "/received", "ab") as f:
        f.write(got)
    with open(d + "/conns", "a") as f:
        f.write("%d\n" % len(got))
EOF
fake_pid=$!
ok "a fake server runs as nobody at $FAKE" wait_until 10 test -e "$IMP/listening"
conns() { [ -f "$IMP/conns" ] && wc -l <"$IMP/conns" || echo 0; }
wait_conns() { wait_until 10 eval '[ "$(conns)" -ge '"$1"' ]'; }

# root sends a secret to it, through IPCBROKER_SOCKET
out=$(IPCBROKER_SOCKET="$FAKE" "$IPCBROKER" send secret "the password" 2>&1)
rc=$?
is "$rc" 69 "root's 'send secret' to a server run by nobody exits 69 (not the daemon)"
like "$out" "uid $NOBODY_UID" "the message names the uid that runs the server"
like "$out" "$FAKE" "and the socket path"
like "$out" "not ipcbrokerd" "and says it is not ipcbrokerd"
is "$(printf '%s\n' "$out" | wc -l)" 1 "in one line"
ok "the fake server saw the connection end" wait_conns 1
is "$(stat -c %s "$IMP/received")" 0 "the fake server received not one byte"

# the same through -s, with the secret on standard input, and the admin verbs
n=1
for cmd in "send secret" "recv secret" "status" "list" "stat secret" "purge --all" "reload"; do
        out=$(echo "the password" | "$IPCBROKER" -s "$FAKE" $cmd 2>&1)
        rc=$?
        n=$((n + 1))
        is "$rc" 69 "-s FAKE $cmd: exit 69"
        like "$out" "uid $NOBODY_UID" "-s FAKE $cmd: the message names uid $NOBODY_UID"
done
ok "the fake server saw every connection end" wait_conns $n
is "$(stat -c %s "$IMP/received")" 0 "still not one byte received"

# an IPCBROKER_DAEMON_UID that is not a number trusts nobody else
out=$(IPCBROKER_DAEMON_UID=nobody "$IPCBROKER" -s "$FAKE" send secret x 2>&1)
is "$?" 69 "IPCBROKER_DAEMON_UID=nobody (not a number): still refused"
like "$out" "IPCBROKER_DAEMON_UID" "and the message says why"
n=$((n + 1))
# another uid named there does not help either
out=$(IPCBROKER_DAEMON_UID=4242 "$IPCBROKER" -s "$FAKE" send secret x 2>&1)
is "$?" 69 "IPCBROKER_DAEMON_UID=4242 (another uid): still refused"
n=$((n + 1))
ok "the fake server saw those end too" wait_conns $n
is "$(stat -c %s "$IMP/received")" 0 "not one byte"

# nobody's own client talks to nobody's server (it can only fool itself)
$AS_NOBODY env IPCBROKER_SOCKET="$FAKE" "$IPCBROKER" -s "$FAKE" status >"$T/out" 2>&1
is "$?" 69 "nobody's client reaches nobody's server (which hangs up without answering: 69)"
like "$(cat "$T/out")" "without answering" "it was trusted: the request went out, no answer came"
n=$((n + 1))
ok "that connection ended" wait_conns $n
ok "the fake server received nobody's request" test "$(stat -c %s "$IMP/received")" -gt 0
: >"$IMP/received"

# the explicit opt-in: IPCBROKER_DAEMON_UID names the daemon's dedicated user
IPCBROKER_DAEMON_UID=$NOBODY_UID "$IPCBROKER" -s "$FAKE" status >"$T/out" 2>&1
like "$(cat "$T/out")" "without answering" "IPCBROKER_DAEMON_UID=$NOBODY_UID: root trusts it (the request goes out)"
n=$((n + 1))
ok "that connection ended" wait_conns $n
ok "with the opt-in the server got the request" test "$(stat -c %s "$IMP/received")" -gt 0

touch "$IMP/stop"
wait_until 10 eval '! kill -0 $fake_pid 2>/dev/null' || kill "$fake_pid" 2>/dev/null
wait "$fake_pid" 2>/dev/null

# ---- the daemon refuses a socket directory others can write to ----------------
add_channel rq type=mqueue on_stop=remove
for mode in 1777 0777 0775; do
        d="$T/sock-$mode"
        mkdir "$d"
        chmod "$mode" "$d"
        [ "$mode" = 0775 ] && chgrp nogroup "$d"
        sed "s|^socket = .*|socket = $d/broker.sock|" "$CONF" >"$T/sock-$mode.conf"
        timeout 10 "$IPCBROKERD" -c "$T/sock-$mode.conf" >"$T/out" 2>"$T/err"
        is "$?" 71 "socket in a directory of mode $mode: the daemon refuses to start (71)"
        like "$(cat "$T/err")" "its directory $d is writable by other users" "it names the directory ($mode)"
        ok "no socket was bound there ($mode)" test ! -e "$d/broker.sock"
done
# a directory owned by another user
d="$T/sock-nobody"
mkdir -m 0755 "$d"
chown nobody "$d"
sed "s|^socket = .*|socket = $d/broker.sock|" "$CONF" >"$T/sock-nobody.conf"
timeout 10 "$IPCBROKERD" -c "$T/sock-nobody.conf" >"$T/out" 2>"$T/err"
is "$?" 71 "socket in a directory owned by nobody: refused (71)"
like "$(cat "$T/err")" "its directory $d is owned by another user" "it names the directory"

# and the normal case still works
ok "the daemon starts with its socket in a directory only root writes" daemon_start
ok "root's client trusts it" "$IPCBROKER" status
ok "clean stop" daemon_stop

done_testing
