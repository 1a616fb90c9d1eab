#!/bin/bash
# operator-wait.sh — ipcbroker wait against the real daemon: at once for a
# ready channel; a channel that a reload adds ends the wait promptly, well
# before its timeout (the daemon answers, the CLI does not poll); so does a
# channel that recovers (a squatted queue removed: the daemon sets it up on
# its next look), and a wait that starts the daemon through its socket
# (systemd-socket-activate); a timeout exits 1 naming what is missing;
# several names; exit codes.
# Needs setpriv; runs as root; systemd-socket-activate for its part.

. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

test_init
command -v setpriv >/dev/null || skip_all "setpriv is needed for the unprivileged caller"

add_channel wq type=mqueue max_messages=4 message_size=64 on_stop=remove
add_channel wf type=fifo message_size=64 on_stop=remove
# a queue name another user squats before the daemon starts: refused until it is gone
$AS_NOBODY "$MQTOOL" create "${PREFIX}wsquat" 4 64 0666 >/dev/null || bail_out "cannot squat ${PREFIX}wsquat as nobody"
add_channel wsquat type=mqueue max_messages=4 message_size=64 mode=0666 on_stop=remove

daemon_start || bail_out "the daemon did not start"

B=$IPCBROKER
PIDS=
# bounds that grow with DAEMON_WAIT (a daemon under valgrind is slower): 20 s, 2 s and 4 s by default
WAIT_S=$((DAEMON_WAIT * 2))
AT_ONCE_MS=$((DAEMON_WAIT * 200))
PROMPT_MS=$((DAEMON_WAIT * 400))

cleanup_waiters() {
        local rc=$?
        for p in $PIDS; do kill "$p" 2>/dev/null; done
        for p in $PIDS; do wait "$p" 2>/dev/null; done
        (exit $rc)
        test_cleanup
}
trap cleanup_waiters EXIT

gone() { ! kill -0 "$1" 2>/dev/null; }

# ---- ready channels ----------------------------------------------------------------

t0=$(now_ms)
run $B wait wq
el=$(($(now_ms) - t0))
is "$RC/$OUT/$ERR" "0//" "wait for a ready channel: exit 0, silent"
ok "wait for a ready channel returns at once (${el} ms)" test "$el" -lt "$AT_ONCE_MS"
run $B wait wq wf -t 0
is "$RC" 0 "wait for two ready channels with -t 0: exit 0"
run $AS_NOBODY $B wait wq -t 5s
is "$RC" 0 "an unprivileged user may wait too"

# ---- a channel that a reload adds ---------------------------------------------------

t0=$(now_ms)
$B wait newch -t "${WAIT_S}s" 2>"$T/wait1.err" &
W1=$!
# and without a timeout, together with a ready one
$B wait wq newch2 2>"$T/wait2.err" &
W2=$!
PIDS="$W1 $W2"
sleep 0.5
ok "the waits are waiting" eval "! gone $W1 && ! gone $W2"
add_channel newch type=mqueue max_messages=4 message_size=64 on_stop=remove
add_channel newch2 type=fifo message_size=64 on_stop=remove
t1=$(now_ms)
ok "reload adding the channels" daemon_reload
ok "wait newch -t ${WAIT_S}s ends after the reload (bounded)" wait_until "$DAEMON_WAIT" gone "$W1"
el=$(($(now_ms) - t1))
wait "$W1"
is "$?" 0 "wait newch: exit 0 once the channel is there"
ok "it returned promptly: ${el} ms after the reload began, $(($(now_ms) - t0)) ms of its $WAIT_S s" test "$el" -lt "$PROMPT_MS"
ok "wait wq newch2 (no timeout) ends too" wait_until "$DAEMON_WAIT" gone "$W2"
wait "$W2"
is "$?" 0 "wait wq newch2: exit 0"
is "$(cat "$T/wait1.err" "$T/wait2.err")" "" "nothing on standard error"
PIDS=

# ---- a channel that recovers ------------------------------------------------------------

run $B wait wsquat -t 300ms
is "$RC" 1 "wait for a squatted (refused) channel: exit 1 on timeout"
like "$ERR" "channel 'wsquat' is unavailable: " "the message says it is unavailable, and why"
t0=$(now_ms)
$B wait wsquat -t "${WAIT_S}s" 2>"$T/wait3.err" &
W3=$!
PIDS=$W3
sleep 0.5
ok "the wait for the squatted channel is waiting" eval "! gone $W3"
ok "the squatter's queue is removed" "$MQTOOL" unlink "${PREFIX}wsquat"
t1=$(now_ms)
# the daemon looks at an unready channel that is waited for once a second
ok "wait wsquat ends once the channel recovered (bounded)" wait_until "$DAEMON_WAIT" gone "$W3"
el=$(($(now_ms) - t1))
wait "$W3"
is "$?" 0 "wait wsquat: exit 0"
ok "promptly: ${el} ms after the queue was removed, $(($(now_ms) - t0)) ms of its $WAIT_S s" \
        test "$el" -lt $((PROMPT_MS + 1000))
is "$(cat "$T/wait3.err")" "" "nothing on standard error"
is "$(mq_attr "${PREFIX}wsquat" | cut -d' ' -f1,2,4,6)" "4 64 0 666" "the daemon made the queue: its size, root's, mode 0666"
ok "the recovered channel is served" $B send wsquat recovered
PIDS=

# ---- timeouts ------------------------------------------------------------------------------

t0=$(now_ms)
run $B wait nope -t 1s
el=$(($(now_ms) - t0))
is "$RC" 1 "wait for a missing channel: exit 1 on timeout"
like "$ERR" "nope" "the message names the channel"
like "$ERR" "1 s" "the message says how long it waited"
is "$(printf '%s\n' "$ERR" | wc -l)" 1 "the message is one line"
ok "it waited the timeout (${el} ms)" test "$el" -ge 900 -a "$el" -lt $((1000 + PROMPT_MS))

run $B wait wq nope1 wf nope2 -t 300ms
is "$RC" 1 "several names, two missing: exit 1"
like "$ERR" "nope1" "the message names the first missing channel"
like "$ERR" "nope2" "the message names the second missing channel"
run $B wait nope -t 0
is "$RC" 1 "-t 0 for a missing channel: exit 1 at once"

# ---- usage and an unreachable daemon ----------------------------------------------------

run $B wait
is "$RC" 2 "no name: usage error"
run $B wait wq -t abc
is "$RC" 2 "a bad timeout: usage error"
run env IPCBROKER_SOCKET="$T/missing.sock" $B wait wq -t 1s
is "$RC" 69 "daemon unreachable: exit 69"
like "$ERR" "missing.sock" "the message names the socket"

# ---- at a socket-activated start ------------------------------------------------------------

if command -v systemd-socket-activate >/dev/null; then
        ok "the daemon stops" daemon_stop
        ASOCK="$T/activated.sock"
        # the first connection starts the daemon on the inherited socket ($CONF's socket is ignored)
        systemd-socket-activate --seqpacket -l "$ASOCK" "$IPCBROKERD" -c "$CONF" >"$T/activated.log" 2>&1 &
        APID=$!
        PIDS=$APID
        ok "systemd-socket-activate listens" wait_until 10 test -S "$ASOCK"
        # systemd-socket-activate execs the daemon at the first connection, in its own process
        ok "no daemon runs yet" eval "! grep -q ipcbrokerd /proc/$APID/comm"
        t0=$(now_ms)
        run $B -s "$ASOCK" wait wq wf wsquat -t "${WAIT_S}s"
        el=$(($(now_ms) - t0))
        is "$RC/$OUT/$ERR" "0//" "wait through the activation socket: the daemon starts, the channels are ready, exit 0"
        ok "answered at the start: ${el} ms (of $WAIT_S s)" test "$el" -lt "$((DAEMON_WAIT * 1000))"
        like "$(cat "/proc/$APID/comm")" "ipcbrokerd" "the connection started the daemon"
        like "$(grep 'ready: ' "$T/activated.log")" "^ipcbrokerd: info: ready: [0-9]+ channels, control socket $ASOCK\$" \
                "it was the activated daemon, on the inherited socket, that answered"
        run $B -s "$ASOCK" wait nope -t 300ms
        is "$RC" 1 "and a wait for a channel it does not have times out (exit 1)"
        kill -TERM "$APID"
        ok "the activated daemon stops" wait_until "$DAEMON_WAIT" gone "$APID"
        wait "$APID"
        PIDS=
else
        skip "wait at a socket-activated start" "systemd-socket-activate is not installed"
fi

done_testing
