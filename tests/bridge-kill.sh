#!/bin/bash
# ipcbroker-bridge killed: kill -9 of A's bridge in the middle of a stream,
# while the server is frozen (SIGSTOP) so that its spool surely holds
# messages whose acknowledgement never came, some of which the server stores
# once it runs again; then a restart: the spool is published again under the
# same Nats-Msg-Id, the stream's duplicate window drops the copies, and B's
# channel gets every message exactly once. Then kill -9 of B's bridge while
# its channel is full and it holds fetched messages: after the restart
# JetStream delivers them again and each arrives exactly once.
. "$top_srcdir/tests/bridge-lib.sh"
bridge_init

N=3000
two_hosts jobs type=mqueue max_messages=10 message_size=128 mode=0666 on_stop=remove
bridge_pair jobs ipc.jobs "ack_wait=5s" "ack_wait=2s max_inflight=64"

# ---- A's bridge --------------------------------------------------------------------------------------------
recv_start "$B_SOCK" jobs "$T/recv1.out" "$N"
send_messages "$SOCK" jobs a "$N" 4 100 0.05 &
sender=$!
ok "messages flow" wait_until 30 bridge_count_ge b forwarded 800
kill -STOP "$NATS_PID"
ok "with the server frozen, A's bridge has messages in flight" wait_until 20 bridge_count_ge a pending 100
bridge_kill a
diag "A's bridge killed with $(bridge_count a pending) messages unacknowledged, after $(bridge_count b forwarded) reached B"
kill -CONT "$NATS_PID"
bridge_start a
ok "A's bridge, restarted, gets ready" bridge_ready a 2
ok "the sender finishes" wait_until 90 sh -c "! kill -0 $sender 2>/dev/null"
wait "$sender"
is "$?" 0 "every send succeeded"
ok "B's channel yields $N messages" recv_wait 90
is "$(check_messages "$T/recv1.out" a "$N")" "missing=0 duplicates=0 badprio=0 other=0" \
        "nothing lost, nothing doubled in B's channel"
like "$(grep 'will be published again' "$T/a.log")" '[1-9][0-9]* message\(s\) from the spool will be published again' \
        "the restarted bridge published its spool again"
ok "A's bridge ends with nothing pending" wait_fresh 20 a jobs pending 0
is "$(js_info IPC messages)" "$N" "the stream's duplicate window dropped every second copy: $N messages stored"
ok "B's bridge delivered each once" wait_fresh 20 b jobs forwarded "$N" pending 0
diag "A after its restart: $(bridge_fresh a jobs)"

# ---- B's bridge --------------------------------------------------------------------------------------------
# B's channel filled (its receiver frozen), then B's bridge frozen while the stream fills: thawed, it
# fetches a batch that its full channel cannot take, and holds it. Then kill -9.
recv_start "$B_SOCK" jobs "$T/recv2.out" "$N"
kill -STOP "$RECV_PID"
ok "10 messages fill B's channel" send_messages "$SOCK" jobs b 10 1
ok "B's channel is full" wait_until 20 queue_full "${B_PREFIX}jobs"
ok "B's bridge has delivered them" wait_fresh 20 b jobs forwarded $((N + 10)) pending 0
kill -STOP "$(bridge_pid b)"
# its pull request (a fetch waits 500 ms) expires empty: thawed, it fetches a full batch
sleep 1
# the rest, numbered on from 11
ok "the other messages go out while B's bridge is frozen" sh -c "
        awk 'BEGIN { for (i = 11; i <= $N; i++) printf \"b-%d-p0\\n\", i }' |
        '$IPCBROKER' -s '$SOCK' send jobs -p 0 -t 60s"
ok "the stream has them" wait_until 30 stream_has $((2 * N))
kill -CONT "$(bridge_pid b)"
holding() { ! counts_match "$(bridge_fresh b jobs)" pending 0; }
ok "with its channel full, B's bridge holds fetched messages" wait_until 20 holding
diag "B's bridge is killed holding $(bridge_fresh b jobs | grep -oE 'pending [0-9]+' | grep -oE '[0-9]+') messages"
bridge_kill b
kill -CONT "$RECV_PID"
bridge_start b
ok "B's bridge, restarted, gets ready" bridge_ready b 2
ok "B's channel yields $N messages" recv_wait 90
is "$(check_messages "$T/recv2.out" b "$N" | sed 's/ badprio=[0-9]*//')" "missing=0 duplicates=0 other=0" \
        "nothing lost, nothing doubled after B's bridge was killed"
ok "B's bridge ends with nothing pending" wait_fresh 20 b jobs pending 0
diag "B after its restart: $(bridge_fresh b jobs)"
counts_match "$(bridge_fresh b jobs)" redelivered 0
ok "JetStream delivered again what the killed bridge held" test $? != 0

done_testing
