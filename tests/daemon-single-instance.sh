#!/bin/bash
# One daemon per runtime directory: a second ipcbrokerd on the same
# configuration is refused by the lock runtime_dir/ipcbrokerd.lock before it
# touches any kernel object, and its failed start never applies on_stop to
# the running daemon's queues and FIFOs. A lock left by a daemon killed with
# -9 does not block the next start (the kernel drops an flock with its holder).
# An empty runtime_dir/fifo goes at stop, used or not; never through a symlink.
. "$top_srcdir/tests/lib.sh"
test_init

LOCK="$RUNDIR/ipcbrokerd.lock"
add_channel q type=mqueue max_messages=8 message_size=64 on_stop=remove
add_channel f type=fifo message_size=64 on_stop=remove
FIFO="$RUNDIR/fifo/f"
ino_q() { mq_attr "${PREFIX}q" | cut -d' ' -f7; }
depth_q() { mq_attr "${PREFIX}q" | cut -d' ' -f3; }

ok "the daemon starts (it creates its runtime directory)" daemon_start
first=$DAEMON_PID
ok "it holds the lock file $LOCK" test -f "$LOCK"
is "$(cat "$LOCK")" "$first" "the lock file holds its pid"
is "$(stat -c '%a %u' "$LOCK")" "600 0" "mode 0600, owned by the daemon's user"
"$IPCBROKER" send q one && "$IPCBROKER" send q two && "$IPCBROKER" send f hello
is "$(depth_q)" 2 "two messages wait in the queue"
qino=$(ino_q)
fino=$(stat -c %i "$FIFO")

# ---- a second daemon on the same configuration --------------------------------
timeout 10 "$IPCBROKERD" -c "$CONF" >"$T/out" 2>"$T/err"
is "$?" 71 "a second ipcbrokerd on the same configuration exits 71"
like "$(cat "$T/err")" "another ipcbrokerd \\(pid $first\\) holds $LOCK" "it names the lock file and the other daemon's pid"
not_ok "it touched no channel" grep -q "channel '" "$T/err"
is "$(ino_q)" "$qino" "the running daemon's queue is the same kernel object (inode $qino)"
is "$(depth_q)" 2 "and still holds its two messages"
is "$(stat -c %i "$FIFO" 2>&1)" "$fino" "the running daemon's FIFO is the same (inode $fino)"
is "$(cat "$LOCK")" "$first" "the lock file still names the first daemon"
ok "the first daemon is alive" kill -0 "$first"
is "$("$IPCBROKER" status --json | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')" "$first" "and it still answers on the socket"
is "$("$IPCBROKER" recv q -n 2 -t 2 | tr '\n' ' ')" "one two " "the queue's messages are intact"
is "$("$IPCBROKER" recv f -n 1 -t 2)" "hello" "the FIFO's message is intact"

# also with -v and from another directory: the lock is the runtime directory's, not the cwd's
(cd / && timeout 10 "$IPCBROKERD" -v -c "$CONF" >"$T/out" 2>"$T/err")
is "$?" 71 "again with -v: exit 71"
ok "the queue still exists" test "$(ino_q)" = "$qino"

# ---- a clean stop removes the lock file, and the runtime directory it created --
ok "clean stop" daemon_stop
ok "the lock file is gone" test ! -e "$LOCK"
ok "the runtime directory the daemon created is gone too" test ! -e "$RUNDIR"

# ---- kill -9: the stale lock file does not block the next start ---------------
ok "the daemon starts again" daemon_start
"$IPCBROKER" send q kept
daemon_kill
ok "after kill -9 the lock file stays behind" test -f "$LOCK"
stale=$(cat "$LOCK")
ok "a new daemon starts over the stale lock file" daemon_start
is "$(cat "$LOCK")" "$DAEMON_PID" "the lock file now holds the new pid (was $stale)"
is "$("$IPCBROKER" recv q -t 2)" "kept" "the queue's message survived the kill"
timeout 10 "$IPCBROKERD" -c "$CONF" >"$T/out" 2>"$T/err"
is "$?" 71 "and the new daemon's lock holds off a second start"
like "$(cat "$T/err")" "pid $DAEMON_PID" "naming the new pid"

# ---- a reload that moves runtime_dir keeps the lock where it is ---------------
cp "$CONF" "$T/conf.orig"
sed -i "s|^runtime_dir = .*|runtime_dir = $T/run2|" "$CONF"
ok "reload with another runtime_dir" daemon_reload
ok "the daemon says the lock moves only at a restart" grep -q "the lock moves there when the daemon restarts (still $LOCK)" "$DAEMON_LOG"
is "$(cat "$LOCK")" "$DAEMON_PID" "the lock file stays, with the daemon's pid"
# A second daemon on the new configuration gets that lock, adopts the objects,
# and fails on the socket: an aborted start must not apply on_stop either.
"$IPCBROKER" send q again
qino=$(ino_q)
timeout 10 "$IPCBROKERD" -c "$CONF" >"$T/out" 2>"$T/err"
is "$?" 71 "a second daemon with a free lock but the socket in use exits 71"
like "$(cat "$T/err")" "is another ipcbrokerd running" "it says why"
like "$(cat "$T/err")" "start aborted: leaving every channel's kernel object in place" "and that it leaves the objects alone"
is "$(ino_q)" "$qino" "the queue is still the same object"
is "$(depth_q)" 1 "with its message"
ok "its lock file is gone with it" test ! -e "$T/run2/ipcbrokerd.lock"
cp "$T/conf.orig" "$CONF"
ok "reload back" daemon_reload
is "$("$IPCBROKER" recv q -t 2)" "again" "the daemon serves the queue's message"
ok "clean stop" daemon_stop
ok "the lock file is gone" test ! -e "$LOCK"
ok "the runtime directory it did not create stays" test -d "$RUNDIR"

# ---- a symlink planted at the lock path is not followed ------------------------
echo precious >"$T/victim"
chmod 0644 "$T/victim"
ln -s "$T/victim" "$LOCK"
timeout 10 "$IPCBROKERD" -c "$CONF" >"$T/out" 2>"$T/err"
is "$?" 71 "a symlink at the lock path: the daemon refuses to start"
like "$(cat "$T/err")" "lock file $LOCK: it is a symlink" "and says so"
is "$(cat "$T/victim")" "precious" "the symlink's target is untouched"
is "$(stat -c %a "$T/victim")" 644 "its mode too"
rm -f "$LOCK"

# ---- runtime_dir/fifo is the daemon's, used or not ------------------------------
# An empty fifo/ that a crash left goes at stop even when no channel lives in
# it now; one that holds something, and a symlink in its place, stay.
cp "$CONF" "$T/conf.fifo"
broker_header "$SOCK" "$RUNDIR" "$PREFIX" >"$CONF"
add_channel q type=mqueue max_messages=8 message_size=64 on_stop=remove
mkdir -m 0755 "$RUNDIR/fifo"
ok "a daemon with no FIFO in runtime_dir/fifo starts (an empty fifo/ is there)" daemon_start
ok "clean stop" daemon_stop
ok "the empty fifo/ it did not use is removed" test ! -e "$RUNDIR/fifo"
ok "runtime_dir, which it did not create, stays" test -d "$RUNDIR"
mkdir -m 0755 "$RUNDIR/fifo"
touch "$RUNDIR/fifo/someone.else"
daemon_start && daemon_stop
ok "a fifo/ that is not empty stays" test -e "$RUNDIR/fifo/someone.else"
rm -rf "$RUNDIR/fifo"
mkdir -m 0755 "$T/elsewhere"
ln -s "$T/elsewhere" "$RUNDIR/fifo"
daemon_start && daemon_stop
ok "a symlink at runtime_dir/fifo is left alone" test -L "$RUNDIR/fifo"
ok "and so is its target" test -d "$T/elsewhere"
rm -f "$RUNDIR/fifo"
cp "$T/conf.fifo" "$CONF"

done_testing
