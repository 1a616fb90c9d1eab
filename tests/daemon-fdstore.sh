#!/bin/bash
# FIFO contents across a crash: the daemon keeps every FIFO's descriptor in
# the service manager's file descriptor store (FDSTORE=1, FDNAME=fifo-NAME)
# and takes it back at start (LISTEN_FDNAMES). tests/helpers/fdstore-manager.py
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

tell stop
ok "the manager stops the daemon" wait_until "$DAEMON_WAIT" pid_gone "$MPID"
wait "$MPID"
is "$?" 0 "and exits 0"
like "$(tail -n1 "$MLOG")" 'stopped, status 0' "the daemon stopped cleanly"
done_testing
