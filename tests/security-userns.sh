#!/bin/bash
# security-userns.sh — one user must not lock everyone out with its
# subordinate uids (issue 9, attack 2).
#
# A real user with a subordinate uid range (/etc/subuid, newuidmap) appears
# to the daemon as many uids. Each used to get its own max_clients_per_user,
# so together they filled max_clients and root and everyone else were
# refused. Now a peer inside a user namespace is charged to the namespace's
# owner (NS_GET_OWNER_UID through its process), or, where /proc is closed to
# the daemon (no CAP_SYS_PTRACE), to the owner of the /etc/subuid range its
# uid is in; and root and admins have connections beyond max_clients.
. "$top_srcdir/tests/lib.sh"
test_init
command -v "$PYTHON3" >/dev/null || skip_all "python3 is needed"
command -v newuidmap >/dev/null || skip_all "newuidmap (Debian package uidmap) is needed"
command -v useradd >/dev/null || skip_all "useradd is needed"

# users left by a run that was killed before its cleanup (named after its pid)
for stale in $(sed -n 's/^\(ipcbt[0-9][0-9]*\):.*/\1/p' /etc/passwd); do
        kill -0 "${stale#ipcbt}" 2>/dev/null && continue
        userdel "$stale" >/dev/null 2>&1
        sed -i "/^$stale:/d" /etc/subuid /etc/subgid 2>/dev/null
done
SUBUSER="ipcbt$$"
SUBSTART=$((400000 + ($$ % 1000) * 70000))
useradd --system --no-create-home --shell /bin/sh --user-group "$SUBUSER" 2>"$T/useradd.err" ||
        skip_all "cannot create a user: $(cat "$T/useradd.err")"
userns_cleanup() {
        userdel "$SUBUSER" >/dev/null 2>&1
        sed -i "/^$SUBUSER:/d" /etc/subuid /etc/subgid 2>/dev/null
}
trap 'userns_cleanup; test_cleanup' EXIT
echo "$SUBUSER:$SUBSTART:65536" >>/etc/subuid
echo "$SUBUSER:$SUBSTART:65536" >>/etc/subgid
SUBUID=$(id -u "$SUBUSER")
SUBGID=$(id -g "$SUBUSER")
# the user may not even run unshare --user here
setpriv --reuid="$SUBUID" --regid="$SUBGID" --clear-groups \
        unshare --map-users="$SUBSTART,0,65536" --map-groups="$SUBSTART,0,65536" true 2>"$T/unshare.err" ||
        skip_all "user namespaces with subordinate uids do not work here: $(cat "$T/unshare.err")"

sed -i 's/^\[broker\]$/[broker]\nmax_clients = 40\nmax_clients_per_user = 4/' "$CONF"
add_channel q type=mqueue mode=0666 max_messages=4 message_size=64 on_stop=remove

PY="$T/many.py"
cat >"$PY" <<'EOF_PY'
# many.py SOCKET UIDS PER_UID STOPFILE: inside the namespace, UIDS uids hold PER_UID connections each
import os, socket, sys, time
sys.path.insert(0, sys.argv[5])
import wire

path, uids, per, stop = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
if len(sys.argv) > 6:
    # as root: a namespace of our own whose uids START.. root maps from outside
    import ctypes
    start = int(sys.argv[6])
    go_r, go_w = os.pipe()
    ready_r, ready_w = os.pipe()
    child = os.fork()
    if child:
        os.read(ready_r, 1)
        for f in ("uid_map", "gid_map"):
            with open("/proc/%d/%s" % (child, f), "w") as m:
                m.write("0 %d 65536\n" % start)
        os.write(go_w, b"x")
        _, st = os.waitpid(child, 0)
        sys.exit(os.waitstatus_to_exitcode(st))
    if ctypes.CDLL(None, use_errno=True).unshare(0x10000000) != 0:   # CLONE_NEWUSER
        sys.exit("unshare: %s" % os.strerror(ctypes.get_errno()))
    os.write(ready_w, b"x")
    os.read(go_r, 1)
    os.setgid(0)
    os.setuid(0)
r, w = os.pipe()
kids = []
for k in range(1, uids + 1):
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.setgid(k)
        os.setuid(k)
        held, served = [], 0
        for i in range(per):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            s.settimeout(5)
            try:
                s.connect(path)
                s.send(wire.status_request())
                if wire.reply_error(s.recv(65536)) == 0:
                    served += 1
                    held.append(s)
            except OSError:
                pass
        os.write(w, b"%d\n" % served)
        os.close(w)
        while not os.path.exists(stop):
            time.sleep(0.05)
        os._exit(0)
    kids.append(pid)
os.close(w)
total = sum(int(x) for x in os.fdopen(r).read().split())  # EOF once every child wrote
print("served %d" % total, flush=True)
for pid in kids:
    os.waitpid(pid, 0)
EOF_PY
chmod 0644 "$PY"

scenario() { # LABEL: the subordinate uids try 10 x 6 connections
        local label=$1 pid
        rm -f "$T/stop"
        : >"$T/many.out"
        setpriv --reuid="$SUBUID" --regid="$SUBGID" --clear-groups \
                unshare --map-users="$SUBSTART,0,65536" --map-groups="$SUBSTART,0,65536" --setuid 0 --setgid 0 \
                "$PYTHON3" "$PY" "$SOCK" 10 6 "$T/stop" "$top_srcdir/tests/helpers" >"$T/many.out" 2>"$T/many.err" &
        pid=$!
        ok "$label: the subordinate uids made their connections" wait_until 20 grep -q '^served' "$T/many.out"
        like "$(cat "$T/many.out")" "^served 4$" \
                "$label: 60 connections from 10 subordinate uids: 4 served, all charged to $SUBUSER"
        ok "$label: root's status answers" "$IPCBROKER" status
        ok "$label: another user still connects" $AS_NOBODY "$IPCBROKER" send q "nobody, $label"
        ok "$label: the refusal names the owner the connection was charged to" \
                grep -q "charged to uid $SUBUID" "$DAEMON_LOG"
        if [ "$label" = "/etc/subuid" ]; then
                ok "$label: the daemon used /etc/subuid" grep -q "whose subordinate range in /etc/subuid" "$DAEMON_LOG"
        else
                not_ok "$label: the daemon asked the namespace, not /etc/subuid" \
                        grep -q "whose subordinate range in /etc/subuid" "$DAEMON_LOG"
        fi
        touch "$T/stop"
        wait "$pid"
        "$IPCBROKER" recv q --nonblock >/dev/null
}

ok "daemon starts" daemon_start
scenario "namespace owner"
daemon_stop

# without CAP_SYS_PTRACE the daemon cannot read /proc/PID/ns of other users: /etc/subuid
if setpriv --bounding-set=-sys_ptrace true 2>/dev/null; then
        saved=$IPCBROKERD_WRAPPER
        IPCBROKERD_WRAPPER="setpriv --bounding-set=-sys_ptrace $saved"
        ok "daemon starts without CAP_SYS_PTRACE" daemon_start
        IPCBROKERD_WRAPPER=$saved
        scenario "/etc/subuid"
        daemon_stop
fi

# ---- a namespace root made (a system container): its uids count one by one -----------------
ok "daemon starts" daemon_start
rm -f "$T/stop"
"$PYTHON3" "$PY" "$SOCK" 5 6 "$T/stop" "$top_srcdir/tests/helpers" $((SUBSTART + 100000)) >"$T/many.out" 2>"$T/many.err" &
pid=$!
ok "root's container made its connections" wait_until 20 grep -q '^served' "$T/many.out"
like "$(cat "$T/many.out")" "^served 20$" "5 uids of a namespace root made: 4 connections each, not 4 in all"
touch "$T/stop"
wait "$pid"
daemon_stop

# ---- root and admins always get in -------------------------------------------------------
sed -i 's/^max_clients = 40$/max_clients = 3/; s/^max_clients_per_user = 4$/max_clients_per_user = 10/' "$CONF"
ok "daemon starts with max_clients = 3" daemon_start
hold() { # N AS...: hold N connections for a while
        local n=$1
        shift
        "$@" "$PYTHON3" - "$SOCK" "$n" "$top_srcdir/tests/helpers" <<'EOF_PY' &
import socket, sys, time
sys.path.insert(0, sys.argv[3])
import wire
held = []
for i in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(sys.argv[1])
    s.send(wire.status_request())
    s.recv(65536)
    held.append(s)
print("holding", flush=True)
time.sleep(6)
EOF_PY
}
hold 3 $AS_NOBODY >"$T/hold.out"
holder=$!
ok "nobody holds all 3 connections" wait_until 5 grep -q holding "$T/hold.out"
out=$(setpriv --reuid=4242 --regid=4242 --clear-groups "$IPCBROKER" status 2>&1)
like "$out" "too many clients" "another user is refused: max_clients is reached"
ok "root still gets in (connections reserved for root and admins)" "$IPCBROKER" status
ok "and can reload" "$IPCBROKER" reload
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
ok "clean stop" daemon_stop

done_testing
