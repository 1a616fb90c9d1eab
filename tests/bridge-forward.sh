#!/bin/bash
# ipcbroker-bridge, the plain path across two hosts: 10,000 messages with
# priorities sent into host A's channel arrive in host B's channel, every one
# exactly once with its priority, through a real nats-server; both bridges run
# unprivileged (nobody), allowed by the channels' recv/send lists. JetStream's
# own view agrees (stream, consumer), the published messages carry the
# Nats-Msg-Id and headers, and a clean stop exits 0 with STOPPING=1. FIFO
# channels are bridged too, one message per packet.
. "$top_srcdir/tests/bridge-lib.sh"
bridge_init

N=10000
add_channel jobs type=mqueue max_messages=10 message_size=128 mode=0600 'recv = nobody' on_stop=remove
add_channel pipe type=fifo message_size=256 mode=0600 'recv = nobody' on_stop=remove
ok "host A's daemon starts" daemon_start
host_b_init
add_channel_b jobs type=mqueue max_messages=10 message_size=128 mode=0600 'send = nobody' on_stop=remove
add_channel_b pipe type=fifo message_size=256 mode=0600 'send = nobody' on_stop=remove
ok "host B's daemon starts" host_b_start
ok "nats-server starts" nats_start

bridge_conf a "$SOCK" hosta
add_bridge a jobs direction=out subject=ipc.jobs stream=IPC ack_wait=5s
add_bridge a pipe direction=out subject=ipc.pipe stream=IPC
bridge_conf b "$B_SOCK" hostb
add_bridge b jobs direction=in subject=ipc.jobs stream=IPC ack_wait=5s
add_bridge b pipe direction=in subject=ipc.pipe stream=IPC
chown nobody "$T/a.spool" "$T/b.spool"
bridge_start a $AS_NOBODY
bridge_start b $AS_NOBODY
ok "A's bridge, run as nobody, sends READY=1" bridge_ready a
ok "B's bridge, run as nobody, sends READY=1" bridge_ready b
like "$(bridge_status a)" '^connected to nats://127\.0\.0\.1:[0-9]+; 2/2 bridges running; forwarded 0, pending 0' \
        "STATUS= names the server and the counts"

recv_start "$B_SOCK" jobs "$T/recv.out" "$N"
start=$(now_ms)
ok "$N messages go into A's channel (10 priorities)" send_messages "$SOCK" jobs m "$N" 10
ok "B's channel yields $N messages" recv_wait 120
took=$(($(now_ms) - start))
is "$(check_messages "$T/recv.out" m "$N")" "missing=0 duplicates=0 badprio=0 other=0" \
        "every message arrived once, with its priority"
diag "$N messages A -> NATS -> B in $took ms"

ok "A's bridge counts $N forwarded, none pending" wait_until 10 bridge_counts_are a forwarded "$N" pending 0
ok "B's bridge counts $N forwarded and acknowledged" wait_until 10 bridge_counts_are b forwarded "$N" acked "$N" pending 0
ok "nothing was published twice" counts_match "$(bridge_fresh a jobs)" republished 0 duplicates 0
ok "nothing was delivered twice" counts_match "$(bridge_fresh b jobs)" redelivered 0 duplicates 0

# a FIFO: one message per packet, its bytes whole
recv_start "$B_SOCK" pipe "$T/pipe.out" 1000
ok "1000 messages go into A's FIFO" send_messages "$SOCK" pipe fifo 1000 1
ok "B's FIFO yields 1000" recv_wait 60
is "$(check_messages "$T/pipe.out" fifo 1000)" "missing=0 duplicates=0 badprio=0 other=0" \
        "every FIFO message arrived once, whole (FIFOs have priority 0)"
is "$(js_info IPC messages)" $((N + 1000)) "the stream holds the $((N + 1000)) messages"
ok "the consumer has nothing pending" wait_until 10 js_info_is IPC jobs-hostb ack_pending 0
is "$(js_info IPC jobs-hostb redelivered)" 0 "JetStream redelivered nothing"

# one message as it sits in the stream
"$JS_CONSUMER" "$NATS_URL" IPC @1 >"$T/msg1"
like "$(grep '^header Nats-Msg-Id=' "$T/msg1")" '^header Nats-Msg-Id=hosta:jobs:[0-9a-f]{16}:1$' \
        "Nats-Msg-Id is origin:channel:boot id:sequence"
is "$(grep -c '^header Ipcbroker-Origin=' "$T/msg1")" 0 "the origin travels as the id's first field, no header of its own"
# the priority: a header when it is not 0 (the channel hands messages out by priority, so look at several)
prio_ok=0 prio_bad=0 seen0=0 seen_n=0
for seq in $(seq 1 40) $(seq 1001 1040) $(seq 9960 10000); do
        "$JS_CONSUMER" "$NATS_URL" IPC "@$seq" >"$T/msg" || { prio_bad=$((prio_bad + 1)); continue; }
        want=$(sed -n 's/^data=m-[0-9]*-p//p' "$T/msg")
        got=$(sed -n 's/^header Ipcbroker-Priority=//p' "$T/msg")
        if [ "$want" = 0 ] && [ -z "$got" ]; then prio_ok=$((prio_ok + 1)) seen0=1
        elif [ "$want" != 0 ] && [ "$got" = "$want" ]; then prio_ok=$((prio_ok + 1)) seen_n=1
        else prio_bad=$((prio_bad + 1)); diag "seq $seq: data priority '$want', header '$got'"; fi
done
is "$prio_bad $seen0 $seen_n" "0 1 1" "the priority travels in a header, left out when it is 0 ($prio_ok messages looked at)"
like "$(grep '^subject=' "$T/msg1")" '=ipc\.jobs$' "on the configured subject"

ok "A's bridge stops cleanly (exit 0)" bridge_stop a
ok "B's bridge stops cleanly (exit 0)" bridge_stop b
ok "STOPPING=1 was sent" grep -q 'STOPPING=1' "$T/a.notify.log"
ok "the spool and the record are in spool_dir" test -f "$T/a.spool/jobs.spool" -a -f "$T/b.spool/jobs.mark"
is "$(stat -c %U "$T/a.spool/jobs.spool")" nobody "owned by the bridge's user"

done_testing
