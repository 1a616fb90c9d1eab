#!/bin/bash
# ipcbroker-bridge when the NATS server dies: kill -9 of nats-server in the
# middle of a stream, a restart on the same store, and nothing is lost or
# doubled in B's channel. While the server is down A's bridge takes at most
# max_inflight messages and then stops reading: A's channel fills and its
# sender waits (back-pressure); its memory stays bounded.
. "$top_srcdir/tests/bridge-lib.sh"
bridge_init

N=3000
two_hosts jobs type=mqueue max_messages=10 message_size=128 mode=0666 on_stop=remove
bridge_pair jobs ipc.jobs "max_inflight=50 ack_wait=5s" "ack_wait=3s"

recv_start "$B_SOCK" jobs "$T/recv.out" "$N"
send_messages "$SOCK" jobs k "$N" 4 100 0.05 &
sender=$!
ok "messages flow" wait_until 30 bridge_count_ge b forwarded 500
nats_kill
diag "nats-server killed after $(bridge_count b forwarded) messages reached B"

ok "A's bridge stops taking at max_inflight (50 pending)" wait_until 20 bridge_counts_are a pending 50
ok "A's channel fills up: its sender waits" wait_until 10 queue_full "${PREFIX}jobs"
rss_before=$(bridge_rss a)
sleep 2
ok "the pending count stays at 50" counts_match "$(bridge_fresh a jobs)" pending 50
rss_after=$(bridge_rss a)
ok "A's bridge holds its memory meanwhile (${rss_before} kB -> ${rss_after} kB resident)" \
        test $((rss_after - rss_before)) -lt 1024

ok "nats-server restarts on the same store" nats_start
ok "A's bridge reconnects" wait_until 20 grep -q 'reconnected to NATS' "$T/a.log"
ok "the sender finishes" wait_until 90 sh -c "! kill -0 $sender 2>/dev/null"
wait "$sender"
is "$?" 0 "every send succeeded"
ok "B's channel yields $N messages" recv_wait 90
is "$(check_messages "$T/recv.out" k "$N")" "missing=0 duplicates=0 badprio=0 other=0" \
        "nothing lost, nothing doubled, priorities kept"
ok "A's bridge got JetStream's acknowledgement of each of the $N, none pending" \
        wait_until 20 bridge_counts_are a acked "$N" pending 0
ok "B's bridge delivered each of the $N once, none pending" wait_until 20 bridge_counts_are b forwarded "$N" pending 0
diag "A: $(bridge_fresh a jobs)"
diag "B: $(bridge_fresh b jobs)"
ok "the stream holds each message at most once" test "$(js_info IPC messages)" -le "$N"

done_testing
