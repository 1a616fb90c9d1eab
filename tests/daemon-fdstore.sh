#!/bin/bash
# FIFO contents across a crash: the daemon keeps every FIFO's descriptor in
# the service manager's file descriptor store (FDSTORE=1, FDNAME=fifo-NAME),
# and every FIFO it keeps open only for its data under a name of its own
# (FDNAME=held-NAME-DEV-INO), and takes them back at start (LISTEN_FDNAMES).
# tests/helpers/fdstore-manager.py
# plays systemd's part: it keeps what is stored, kills the daemon with
# SIGKILL and starts it again with the stored descriptors.
. "$top_srcdir/tests/lib.sh"
test_init

add_channel f type=fifo mode=0666 on_stop=keep
add_channel g type=fifo mode=0666 on_stop=keep
add_channel q type=mqueue on_stop=remove

CTL="$T/manager.ctl"
MLOG="$T/manager.log"
mkfifo "$CTL"
: >"$MLOG"
"$PYTHON3" "$top_srcdir/tests/helpers/fdstore-manager.py" "$CTL" "$T/manager.notify" "$MLOG" -- \
        "$IPCBROKERD" -c "$CONF" >>"$DAEMON_LOG" 2>&1 &
MPID=$!
EXTRA_PIDS="$EXTRA_PIDS $MPID"

# a command for the manager (bounded: a manager that died must not hang the test)
tell() { timeout 5 sh -c "echo $1 >'$CTL'"; }
readies() { grep -c 'READY=1' "$MLOG"; }
ready_count() { [ "$(readies)" -ge "$1" ]; }
service_pid() { sed -n 's/^manager: started pid \([0-9]*\) .*/\1/p' "$MLOG" | tail -n1; }
# SIGHUP, or a kill -9 and a start with what is stored: both end in one more READY=1
reload_service() {
        local n
        n=$(readies)
        kill -HUP "$(service_pid)" && wait_until "$DAEMON_WAIT" ready_count $((n + 1))
}
crash_service() {
        local n
        n=$(readies)
        tell kill && wait_until "$DAEMON_WAIT" ready_count $((n + 1))
}
# what a FIFO holds, read by path without blocking (one packet)
fifo_read() {
        "$PYTHON3" -c 'import os,sys
fd=os.open(sys.argv[1], os.O_RDONLY|os.O_NONBLOCK)
try: sys.stdout.write(os.read(fd, 65536).decode())
except BlockingIOError: pass' "$1" 2>&1
}

ok "the daemon starts under the stand-in manager" wait_until "$DAEMON_WAIT" ready_count 1
ok "it stores FIFO f's descriptor" grep -q 'FDSTORE=1 FDNAME=fifo-f' "$MLOG"
ok "and g's" grep -q 'FDSTORE=1 FDNAME=fifo-g' "$MLOG"
ok "not the queue's (a queue keeps its messages in the kernel)" sh -c "! grep -q 'FDNAME=fifo-q' '$MLOG'"

ok "a message into FIFO f, which nobody else holds" "$IPCBROKER" send f "kept across a crash"
ok "two into g" sh -c "'$IPCBROKER' send g one && '$IPCBROKER' send g two"
tell kill
ok "killed with SIGKILL and started again" wait_until "$DAEMON_WAIT" ready_count 2
like "$(grep 'started pid' "$MLOG" | tail -n1)" 'with 2 stored descriptors' "with the two stored FIFOs"
is "$("$IPCBROKER" recv f --nonblock 2>&1)" "kept across a crash" "the FIFO's message survived the kill"
is "$("$IPCBROKER" recv g -n 2 --nonblock 2>&1 | tr '\n' ' ')" "one two " "both of g's, in order"
like "$(cat "$DAEMON_LOG")" "channel 'f': FIFO .* kept by the service manager, with [0-9]+ bytes" \
        "the log says the daemon took it back"

# the test is worth something only if the message would be lost without the store
ok "a message into f again" "$IPCBROKER" send f "lost without the store"
tell forget
ok "killed and started again, the store dropped" wait_until "$DAEMON_WAIT" ready_count 3
not_ok "without the store the message is gone (a pipe lives only while it is open)" \
        "$IPCBROKER" recv f --nonblock

# a withdrawn FIFO leaves the store
sed -i '/^\[channel g\]/,/^$/d' "$CONF"
add_channel h type=mqueue on_stop=remove
kill -HUP "$(service_pid)"
ok "reload" wait_until "$DAEMON_WAIT" ready_count 4
ok "the withdrawn FIFO is removed from the store" grep -q 'FDSTOREREMOVE=1 FDNAME=fifo-g' "$MLOG"

# ---- FIFOs kept open for their data are stored under names of their own ----------
# (held-CHANNEL-DEV-INO): the entry of the channel's next FIFO must not take
# them out of the store, or a crash loses what they hold.

# a reload moves channel p to another path while its old FIFO holds a message:
# the old FIFO is kept open for it, and stored
add_channel p type=fifo mode=0666 on_stop=keep
ok "reload: FIFO channel p" reload_service
ok "a message into p" "$IPCBROKER" send p "before the move"
sed -i "/^\[channel p\]\$/a path = $T/p-moved" "$CONF"
ok "reload: p moves to another path" reload_service
ok "the old FIFO, still holding the message, is stored under a name of its own" \
        grep -Eq 'FDSTORE=1 FDNAME=held-p-[0-9]+-[0-9]+$' "$MLOG"
ok "and the new one as p's" sh -c "[ \$(grep -c 'FDSTORE=1 FDNAME=fifo-p\$' '$MLOG') = 2 ]"
ok "killed with SIGKILL and started again" crash_service
is "$("$IPCBROKER" recv p --nonblock 2>&1)" "before the move" "the old FIFO's message survived the kill, delivered through p"
like "$(cat "$DAEMON_LOG")" "channel 'p': the service manager kept a FIFO it held over, with [0-9]+ bytes in it; moving its contents into $T/p-moved" \
        "the log says where it went"

# a withdrawn FIFO that holds a message is kept open, and stored, until it is empty
add_channel w type=fifo mode=0666 on_stop=keep
ok "reload: FIFO channel w" reload_service
ok "a message into w" "$IPCBROKER" send w "withdrawn, kept"
sed -i '/^\[channel w\]/,/^$/d' "$CONF"
ok "reload: w is withdrawn" reload_service
ok "w's FIFO is stored under a name of its own" grep -Eq 'FDSTORE=1 FDNAME=held-w-[0-9]+-[0-9]+$' "$MLOG"
ok "killed with SIGKILL and started again" crash_service
like "$(cat "$DAEMON_LOG")" "kept a FIFO of channel 'w', which is no longer a declared FIFO, with [0-9]+ bytes in it; it is kept open \\(and stored\\) until it is empty" \
        "the daemon holds it again"
is "$(fifo_read "$RUNDIR/fifo/w")" "withdrawn, kept" "its message is still there, at its path"
ok "emptied, it leaves the store" wait_until 5 grep -Eq 'FDSTOREREMOVE=1 FDNAME=held-w-[0-9]+-[0-9]+$' "$MLOG"

# at start the stored FIFO of c is not the one at its path (replaced while the
# daemon ran), and the one there is full: the stored one is held over, and stored
add_channel c type=fifo mode=0666 capacity=4096 on_stop=keep
ok "reload: FIFO channel c, room for one message" reload_service
ok "a message into c" "$IPCBROKER" send c older
rm -f "$RUNDIR/fifo/c"
mkfifo -m 0666 "$RUNDIR/fifo/c"
# another holder keeps one message in the new FIFO
(exec 7<>"$RUNDIR/fifo/c" && printf newer >&7 && exec sleep 60) &
holder=$!
EXTRA_PIDS="$EXTRA_PIDS $holder"
ok "killed with SIGKILL and started again" crash_service
like "$(cat "$DAEMON_LOG")" "channel 'c': the FIFO the service manager kept \\([0-9]+ bytes\\) is not the one at" \
        "the daemon finds the stored FIFO is not the one at c's path"
ok "it stores it under a name of its own" grep -Eq 'FDSTORE=1 FDNAME=held-c-[0-9]+-[0-9]+$' "$MLOG"
like "$(grep 'FDNAME=fifo-c$' "$MLOG" | tail -n1)" '^FDSTORE=1 ' "and the new FIFO as c's"
# now only the daemon and the store hold the new FIFO
kill "$holder"
wait "$holder" 2>/dev/null
ok "killed with SIGKILL again, before it could move the message" crash_service
is "$("$IPCBROKER" recv c --nonblock 2>&1)" newer "c serves the new FIFO's message"
is "$("$IPCBROKER" recv c --nonblock 2>&1)" older "then the one of the FIFO held over, which survived both kills"
not_ok "the store never suppressed a descriptor stored twice" grep -q 'duplicate of stored' "$MLOG"

tell stop
ok "the manager stops the daemon" wait_until "$DAEMON_WAIT" pid_gone "$MPID"
wait "$MPID"
is "$?" 0 "and exits 0"
like "$(tail -n1 "$MLOG")" 'stopped, status 0' "the daemon stopped cleanly"

# ---- stored FIFOs are not socket activation ---------------------------------------
# After a crash the service manager passes the stored FIFOs (LISTEN_FDS) with
# no socket when the unit is not socket-activated: an invalid configuration
# then exits 78, as without systemd, instead of staying up on no socket.
: >"$MLOG"
"$PYTHON3" "$top_srcdir/tests/helpers/fdstore-manager.py" "$CTL" "$T/manager.notify" "$MLOG" -- \
        "$IPCBROKERD" -c "$CONF" >>"$DAEMON_LOG" 2>&1 &
MPID=$!
EXTRA_PIDS="$EXTRA_PIDS $MPID"
ok "the daemon starts under a new manager" wait_until "$DAEMON_WAIT" ready_count 1
printf '\n[channel broken]\ntype = pipe\n' >>"$CONF"
tell kill
ok "started again with only stored FIFOs and an invalid configuration, it exits" \
        wait_until "$DAEMON_WAIT" pid_gone "$MPID"
like "$(grep 'started pid' "$MLOG" | tail -n1)" 'with [1-9][0-9]* stored descriptors' "it was given the stored FIFOs"
like "$(tail -n1 "$MLOG")" "the service exited, status $((78 << 8))\$" "with status 78 (configuration error)"
not_ok "it did not take the stored FIFOs for socket activation" \
        grep -q 'socket-activated with an invalid configuration' "$DAEMON_LOG"
done_testing
