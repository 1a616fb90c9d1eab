#!/bin/bash
# ipcbroker-bridge when the destination channel stays full for longer than
# ack_wait: B's bridge stops fetching, keeps the messages it holds alive with
# "in progress" instead of letting JetStream redeliver them (no redelivery
# storm: JetStream's own count and the bridge's stay at 0), its memory stays
# put, and once the channel drains every message arrives exactly once.
. "$top_srcdir/tests/bridge-lib.sh"
bridge_init

N=300
ACK_WAIT=2
two_hosts jobs type=mqueue max_messages=10 message_size=1024 mode=0666 on_stop=remove
# B's bridge starts once the stream holds everything, so that its first fetch takes a full batch
bridge_conf a "$SOCK" hosta
add_bridge a jobs direction=out subject=ipc.jobs
bridge_conf b "$B_SOCK" hostb
add_bridge b jobs direction=in subject=ipc.jobs ack_wait=${ACK_WAIT}s max_inflight=40
bridge_start a
ok "A's bridge gets ready" bridge_ready a
ok "$N messages go into A's channel; nobody reads B's" send_messages "$SOCK" jobs f "$N" 8
ok "the stream has them" wait_until 30 stream_has "$N"
bridge_start b
ok "B's bridge gets ready" bridge_ready b
ok "B's channel is full" wait_until 20 queue_full "${B_PREFIX}jobs"
holding() { counts_match "$(bridge_fresh b jobs)" forwarded 10 && ! counts_match "$(bridge_fresh b jobs)" pending 0; }
ok "B's bridge delivered 10 and holds the rest of its batch" wait_until 20 holding
held=$(bridge_fresh b jobs | grep -oE 'pending [0-9]+' | grep -oE '[0-9]+')
ok "JetStream has those $held waiting for an acknowledgement" wait_until 10 js_info_is IPC jobs-hostb ack_pending "$held"
rss_before=$(bridge_rss b)

sleep $((3 * ACK_WAIT + 1)) # three times ack_wait with the channel full
is "$(js_info IPC jobs-hostb redelivered)" 0 "after 3 x ack_wait full, JetStream has redelivered nothing"
is "$(js_info IPC jobs-hostb ack_pending)" "$held" "the same $held wait, no more fetched"
# A pull consumer redelivers only to a fetch: a second client fetching one now would get a held message
# again had its deadline run out (redeliveries go first); kept alive, it gets the next new one.
"$JS_CONSUMER" "$NATS_URL" IPC jobs-hostb peek >"$T/peek"
is "$(sed -n 's/^delivered=//p' "$T/peek")" 1 "the held messages' deadline was kept alive: a second client gets a new message (seq $(sed -n 's/^seq=//p' "$T/peek")), not a redelivery"
fresh=$(bridge_fresh b jobs)
ok "B's bridge fetched nothing more and saw no redelivery" counts_match "$fresh" forwarded 10 pending "$held" redelivered 0
rss_after=$(bridge_rss b)
ok "its memory stayed put (${rss_before} kB -> ${rss_after} kB resident)" test $((rss_after - rss_before)) -lt 1024

recv_start "$B_SOCK" jobs "$T/recv.out" "$N"
ok "B's channel drains: $N messages" recv_wait 60
is "$(check_messages "$T/recv.out" f "$N")" "missing=0 duplicates=0 badprio=0 other=0" \
        "every message arrived once, priorities kept"
ok "B's bridge delivered each once, nothing pending, no redelivery but the peeked message" \
        wait_fresh 20 b jobs forwarded "$N" pending 0 redelivered 1 duplicates 0
is "$(js_info IPC jobs-hostb ack_floor)" "$N" "JetStream's acknowledgement floor is the last message"

done_testing
