#!/bin/bash
# operator-alert.sh — alert_full_after against the real daemon: a live process
# holds the receive side of a queue and does not read, the queue fills, and
# once it has been full for alert_full_after the daemon logs exactly one
# warning naming the channel and that holder (pid, command, unit), not the
# channel's senders nor a receiver that has exited; one notice when it drains;
# the alert is counted in the metrics and re-armed for the next full period.
# Needs python3 (JSON parsing); runs as root.

. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

test_init
command -v python3 >/dev/null || skip_all "python3 is needed to parse the JSON output"

STREAM="$top_builddir/tests/helpers/stream"
[ -x "$STREAM" ] || bail_out "$STREAM not built"

echo "sample_interval = 50ms" >>"$CONF"
add_channel aq type=mqueue mode=0600 max_messages=2 message_size=64 alert_full_after=300ms on_stop=remove
# full as well, but without alert_full_after: never a warning
add_channel quiet type=mqueue mode=0600 max_messages=1 message_size=64 on_stop=remove

daemon_start || bail_out "the daemon did not start"

B=$IPCBROKER

# Is PID listed by `holders NAME` with ACCESS?
holds() { # NAME PID ACCESS
        $B holders "$1" --json 2>/dev/null |
                python3 -c 'import json,sys; sys.exit(0 if any(h["pid"]=='"$2"' and h["access"]=="'"$3"'" for h in json.load(sys.stdin)) else 1)'
}
warnings() { count_lines "$DAEMON_LOG" "^ipcbrokerd: warning: channel '$1' has been full for"; }
notices() { count_lines "$DAEMON_LOG" "^ipcbrokerd: notice: channel '$1' is no longer full"; }
# (re-evaluated on each try of wait_until)
warned() { [ "$(warnings aq)" -ge "$1" ]; }
noticed() { [ "$(notices aq)" -ge "$1" ]; }
depth_is() { [ "$(metric ipcbroker_channel_messages)" = "$1" ]; }
# the value of a metric series of channel aq (OpenMetrics text)
metric() { # NAME
        $B metrics | sed -n "s/^$1{channel=\"aq\"[^}]*} //p"
}
full_for() { # SECONDS: aq has been full at least that long (its full time so far)
        python3 -c 'import sys; sys.exit(not float(sys.argv[1] or 0) >= float(sys.argv[2]))' \
                "$(metric ipcbroker_channel_full_seconds_total)" "$1"
}

# ---- a receiver that holds the queue and never reads; a sender; a receiver that left ----

"$STREAM" hold aq 120 - &
HOLD_PID=$!
# a sender that keeps its end open while it waits for standard input (until fd 8 closes)
mkfifo "$T/sender.in"
$B send aq <"$T/sender.in" >/dev/null 2>&1 &
SEND_PID=$!
# (test_cleanup ends them)
EXTRA_PIDS="$HOLD_PID $SEND_PID"
exec 8>"$T/sender.in"
# a receiver that exits before the queue fills
"$STREAM" hold aq 0 - &
GONE_PID=$!
ok "the holder is listed as receiving (bounded wait)" wait_until "$DAEMON_WAIT" holds aq "$HOLD_PID" recv
ok "the sender is listed as sending" wait_until "$DAEMON_WAIT" holds aq "$SEND_PID" send
wait "$GONE_PID"
HOLD_COMM=$(cat "/proc/$HOLD_PID/comm")
run $B holders aq --json
HOLD_UNIT=$(json '[h["unit"] for h in j if h["pid"] == '"$HOLD_PID"'][0]')
diag "holder: pid $HOLD_PID, command '$HOLD_COMM', unit '${HOLD_UNIT:-}'"

is "$(warnings aq)" 0 "no warning while the queue is not full"

# ---- it fills --------------------------------------------------------------------------

t0=$(now_ms)
echo "one" >&8
echo "two" >&8
$B send quiet "only" || diag "cannot fill 'quiet'"
ok "the queue fills (2 of 2)" wait_until "$DAEMON_WAIT" depth_is 2
ok "after alert_full_after (300 ms) a warning is logged (bounded wait)" wait_until "$DAEMON_WAIT" warned 1
el=$(($(now_ms) - t0))
ok "not before alert_full_after: ${el} ms after the sends" test "$el" -ge 300
# stay full well past the alert: still exactly one warning
ok "the queue stays full for 1.5 s (bounded wait)" wait_until "$DAEMON_WAIT" full_for 1.5
is "$(warnings aq)" 1 "exactly one warning for one full period"
line=$(grep -m1 "channel 'aq' has been full for" "$DAEMON_LOG")
diag "$line"
like "$line" "^ipcbrokerd: warning: channel 'aq' has been full for [0-9.]+ s \\(alert_full_after\\)" \
        "the warning names the channel and alert_full_after"
if [ -n "$HOLD_UNIT" ]; then who="pid $HOLD_PID \\($HOLD_COMM, $HOLD_UNIT\\)"; else who="pid $HOLD_PID \\($HOLD_COMM\\)"; fi
like "$line" "receiving holders: $who\$" "it names the holder: its pid, command and unit, and nothing more"
ok "not the sender (pid $SEND_PID)" eval "! printf '%s' \"\$line\" | grep -q 'pid $SEND_PID '"
ok "not the receiver that exited (pid $GONE_PID)" eval "! printf '%s' \"\$line\" | grep -q 'pid $GONE_PID '"
is "$(notices aq)" 0 "no notice while it is full"
is "$(metric ipcbroker_channel_full_alerts_total)" 1 "the alert is counted (ipcbroker_channel_full_alerts_total 1)"
is "$(count_lines "$DAEMON_LOG" "channel 'quiet' has been full")" 0 "a full channel without alert_full_after: no warning"

# ---- it drains ---------------------------------------------------------------------------

run $B recv aq -n 2 --nonblock
is "$RC/$OUT" "0/one
two" "drain the queue"
ok "one notice once it drained (bounded wait)" wait_until "$DAEMON_WAIT" noticed 1
line=$(grep -m1 "channel 'aq' is no longer full" "$DAEMON_LOG")
like "$line" "^ipcbrokerd: notice: channel 'aq' is no longer full \\(it was full for [0-9.]+ s\\)$" \
        "the notice names the channel and how long it was full"
ok "empty for a while (bounded wait)" wait_until "$DAEMON_WAIT" depth_is 0
is "$(warnings aq)/$(notices aq)" "1/1" "still one warning and one notice"

# ---- the next full period alerts again ------------------------------------------------------

echo "three" >&8
echo "four" >&8
ok "a second full period: a second warning (bounded wait)" wait_until "$DAEMON_WAIT" warned 2
is "$(metric ipcbroker_channel_full_alerts_total)" 2 "two alerts counted"
ok "the holder is still named" eval "grep \"channel 'aq' has been full for\" \"\$DAEMON_LOG\" | tail -n 1 | grep -q 'receiving holders: pid $HOLD_PID '"
run $B recv aq -n 2 --nonblock
ok "a second notice once drained again (bounded wait)" wait_until "$DAEMON_WAIT" noticed 2
is "$(warnings aq)/$(notices aq)" "2/2" "one warning and one notice per full period"

# ---- the holder gone: the next alert says nobody receives ----------------------------------

kill "$HOLD_PID"
wait "$HOLD_PID" 2>/dev/null
EXTRA_PIDS=$SEND_PID
ok "the holder is no longer listed" wait_until "$DAEMON_WAIT" eval "! holds aq $HOLD_PID recv"
echo "five" >&8
echo "six" >&8
ok "a third full period: a third warning (bounded wait)" wait_until "$DAEMON_WAIT" warned 3
like "$(grep "channel 'aq' has been full for" "$DAEMON_LOG" | tail -n 1)" "no live process was given it for receiving\$" \
        "with the holder gone, it says that no live process receives"

done_testing
