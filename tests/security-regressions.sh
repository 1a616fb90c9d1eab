#!/bin/bash
# Regressions for defects found in review: a symlink planted at the socket
# path, callers with more than 256 groups, FIFO packets longer than the
# channel's messages, and senders that still hold a replaced queue.
. "$top_srcdir/tests/lib.sh"
test_init
command -v python3 >/dev/null || skip_all "python3 is needed for raw FIFO writes"
STREAM="$top_builddir/tests/helpers/stream"

# the socket in a directory of its own (one others can write to, even a sticky
# one, is refused: tests/security-impostor.sh)
mkdir -m 0755 "$T/sockdir"
SOCK="$T/sockdir/broker.sock"
export IPCBROKER_SOCKET="$SOCK"
sed -i "s|^socket = .*|socket = $SOCK|" "$CONF"
add_channel grp type=mqueue group=5000 mode=0604 max_messages=4 message_size=64 on_stop=remove
add_channel small type=fifo mode=0666 message_size=16 on_stop=remove
add_channel q type=mqueue max_messages=10 message_size=64 on_stop=remove
ok "daemon starts" daemon_start

# ---- a symlink at the socket path is never followed by a reload --------------
# Others cannot write to the socket's directory any more; whoever swaps the
# socket for a symlink (here root, as a stand-in), the reload's chmod must
# not follow it.
echo secret >"$T/victim"
chmod 0600 "$T/victim"
rm -f "$SOCK"
ln -s "$T/victim" "$SOCK"
ok "reload with a symlink planted at the socket path" daemon_reload
is "$(stat -c %a "$T/victim")" 600 "the symlink's target keeps its mode"
ok "the daemon says the socket is no longer its own" grep -q "is no longer the daemon's" "$DAEMON_LOG"
rm -f "$SOCK"
daemon_stop
ok "daemon starts again" daemon_start

# ---- more than 256 supplementary groups ---------------------------------------
"$IPCBROKER" send grp hello
groups=$(seq -s, 5000 5299)
out=$(setpriv --reuid=nobody --regid=nogroup --groups=5000 "$IPCBROKER" recv grp --nonblock 2>&1)
like "$out" "permission denied" "a member of the channel's group gets the group class (no access), not 'other'"
out=$(setpriv --reuid=nobody --regid=nogroup --groups="$groups" "$IPCBROKER" recv grp --nonblock 2>&1)
like "$out" "permission denied" "also with 300 supplementary groups"
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$IPCBROKER" recv grp --nonblock 2>&1)
is "$out" "hello" "a non-member gets the 'other' class (read)"

# ---- a FIFO packet longer than the channel's messages ------------------------
path=$("$IPCBROKER" stat small --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["path"])')
python3 - "$path" <<'EOF'
import os, sys
import fcntl
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_NONBLOCK)
fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_DIRECT)
os.write(fd, b"x" * 100)
os.write(fd, b"fits")
os.close(fd)
EOF
out=$("$IPCBROKER" recv small --nonblock 2>&1)
is "$?" 1 "a 100-byte packet on a 16-byte channel is refused"
like "$out" "message too large" "with -EMSGSIZE, not cut short"
is "$("$IPCBROKER" recv small --nonblock)" "fits" "the next message is whole"

# ---- a sender that still holds a queue deleted behind the daemon's back -------
"$STREAM" send q old 30 2>"$T/send.err" &
sender=$!
ok "the sender fills the queue" wait_until 10 sh -c "[ \$('$MQTOOL' attr '${PREFIX}q' | cut -d' ' -f3) = 10 ]"
"$MQTOOL" unlink "${PREFIX}q"
ok "stat recreates the queue" "$IPCBROKER" stat q
"$STREAM" recv q 30 10 >"$T/recv.out" 2>"$T/recv.err"
is "$?" 0 "a new receiver gets all 30 messages, including those sent to the old queue"
wait "$sender"
is "$?" 0 "the sender finished on its old descriptor"
is "$(cut -d: -f2 "$T/recv.out" | tr '\n' ' ')" "$(seq -s ' ' 0 29) " "every message once, in order"
ok "clean stop" daemon_stop

done_testing
