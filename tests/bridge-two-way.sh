#!/bin/bash
# ipcbroker-bridge both ways on one subject: each host publishes its
# channel's messages on ipc.both and consumes ipc.both into another channel.
# Each host gets exactly the other's messages; its own are recognised by
# their origin and dropped, never echoed back.
. "$top_srcdir/tests/bridge-lib.sh"
bridge_init

N=200
for c in to-b from-b; do add_channel "$c" type=mqueue max_messages=10 message_size=128 mode=0666 on_stop=remove; done
ok "host A's daemon starts" daemon_start
host_b_init
for c in to-a from-a; do add_channel_b "$c" type=mqueue max_messages=10 message_size=128 mode=0666 on_stop=remove; done
ok "host B's daemon starts" host_b_start
ok "nats-server starts" nats_start

bridge_conf a "$SOCK" hosta
add_bridge a out channel=to-b direction=out subject=ipc.both
add_bridge a in channel=from-b direction=in subject=ipc.both
bridge_conf b "$B_SOCK" hostb
add_bridge b out channel=to-a direction=out subject=ipc.both
add_bridge b in channel=from-a direction=in subject=ipc.both
bridge_start a
bridge_start b
ok "A's bridges get ready" bridge_ready a
ok "B's bridges get ready" bridge_ready b
like "$(bridge_status a)" '2/2 bridges running' "both of A's bridges run"

recv_start "$SOCK" from-b "$T/at-a.out" "$N"
recv_a=$RECV_PID
recv_start "$B_SOCK" from-a "$T/at-b.out" "$N"
ok "A sends $N" send_messages "$SOCK" to-b fromA "$N" 3
ok "B sends $N" send_messages "$B_SOCK" to-a fromB "$N" 3
ok "B's channel yields $N" recv_wait 60
RECV_PID=$recv_a
ok "A's channel yields $N" recv_wait 60
is "$(check_messages "$T/at-b.out" fromA "$N")" "missing=0 duplicates=0 badprio=0 other=0" \
        "B got every message of A's, once, and none of its own"
is "$(check_messages "$T/at-a.out" fromB "$N")" "missing=0 duplicates=0 badprio=0 other=0" \
        "A got every message of B's, once, and none of its own"
ok "A's in bridge dropped its own $N as echoes" wait_fresh 20 a in echoes "$N" forwarded "$N" pending 0
ok "B's in bridge too" wait_fresh 20 b in echoes "$N" forwarded "$N" pending 0
run "$IPCBROKER" -s "$SOCK" recv from-b --nonblock
like "$ERR" 'empty \(receive\)' "nothing else waits in A's incoming channel"
is "$(js_info IPC messages)" $((2 * N)) "the one stream holds both hosts' messages"

# An earlier bridge of A's named its origin in a header of its own (its id here not of a bridge's shape):
# that one is still A's own.
run "$JS_CONSUMER" "$NATS_URL" ipc.both --publish old-a Ipcbroker-Origin=hosta Nats-Msg-Id=legacy-1
is "$RC" 0 "a message with an Ipcbroker-Origin header, as earlier bridges sent it, is published"
ok "A's in bridge drops it as its own" wait_fresh 20 a in echoes $((N + 1)) forwarded "$N"
ok "B's delivers it" wait_fresh 20 b in echoes "$N" forwarded $((N + 1))
run "$IPCBROKER" -s "$B_SOCK" recv from-a -t 10s
is "$OUT" "old-a" "into B's channel"
# and another program's message, with an id of its own that starts like A's origin, is nobody's echo
run "$JS_CONSUMER" "$NATS_URL" ipc.both --publish other Nats-Msg-Id=hosta:order-17
ok "another program's message reaches both hosts" wait_fresh 20 a in echoes $((N + 1)) forwarded $((N + 1))
run "$IPCBROKER" -s "$SOCK" recv from-b -t 10s
is "$OUT" "other" "A's channel has it"
run "$IPCBROKER" -s "$B_SOCK" recv from-a -t 10s
is "$OUT" "other" "and B's"

done_testing
