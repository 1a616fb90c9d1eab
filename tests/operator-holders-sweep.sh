#!/bin/bash
# operator-holders-sweep.sh — the daemon forgets the holders of exited
# processes after a minute (HOLDERS_DEAD_KEEP) even with sampling off
# (sample_interval = 0): its housekeeping timer runs whatever the sampler
# does. A holder that still runs is kept. Takes a little over a minute.
# Needs python3 (JSON parsing); runs as root.

. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

test_init
command -v python3 >/dev/null || skip_all "python3 is needed to parse the JSON output"

STREAM="$top_builddir/tests/helpers/stream"
[ -x "$STREAM" ] || bail_out "$STREAM not built"

# what daemon/holders.h says: dead holders are kept 60 s, swept every 5 s
DEAD_KEEP=60
SWEEP_EVERY=5

echo "sample_interval = 0" >>"$CONF"
add_channel sq type=mqueue mode=0600 max_messages=4 message_size=64 on_stop=remove

daemon_start || bail_out "the daemon did not start"

B=$IPCBROKER

listed() { # PID
        $B holders sq --json 2>/dev/null |
                python3 -c 'import json,sys; sys.exit(0 if any(h["pid"]=='"$1"' for h in json.load(sys.stdin)) else 1)'
}
forgotten() { # PID: the daemon logged that it forgot PID's grant
        grep -Eq "^ipcbrokerd: debug: channel 'sq': forgetting holder pid $1 \\([^)]*\\), which exited [0-9]+ s ago$" \
                "$DAEMON_LOG"
}

run $B metrics
like "$OUT" $'\nipcbroker_sample_interval_seconds 0\n' "sampling is off (ipcbroker_sample_interval_seconds 0)"

"$STREAM" hold sq 300 - &
LIVE_PID=$!
"$STREAM" hold sq 300 - &
GONE_PID=$!
# (test_cleanup ends them)
EXTRA_PIDS="$LIVE_PID $GONE_PID"
ok "two holders are listed (bounded wait)" wait_until "$DAEMON_WAIT" eval "listed $LIVE_PID && listed $GONE_PID"

t0=$(now_ms)
kill "$GONE_PID"
wait "$GONE_PID" 2>/dev/null
EXTRA_PIDS=$LIVE_PID
ok "the one that exited is no longer listed as a live grant" wait_until "$DAEMON_WAIT" eval "! listed $GONE_PID"
# detected at a sweep at most SWEEP_EVERY s after its exit, forgotten at the first
# sweep DEAD_KEEP s after that: the bound, with a margin
bound=$((DEAD_KEEP + 2 * SWEEP_EVERY + DAEMON_WAIT))
ok "its entry is forgotten with sample_interval = 0 (bounded wait: $bound s)" wait_until "$bound" forgotten "$GONE_PID"
el=$(($(now_ms) - t0))
diag "forgotten $((el / 1000)) s after it exited"
# (the daemon counts whole seconds)
ok "not before $DEAD_KEEP s (${el} ms)" test "$el" -ge $(((DEAD_KEEP - 1) * 1000))
ok "the holder that still runs is not forgotten" eval "! forgotten $LIVE_PID"
ok "and is still listed" listed "$LIVE_PID"
is "$(count_lines "$DAEMON_LOG" "forgetting holder pid $GONE_PID ")" 1 "forgotten once"

done_testing
