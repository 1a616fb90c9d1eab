#!/bin/bash
# The stream deleted under running bridges: A's publishes meet "no
# responders", its bridge makes the stream again (create_stream) and
# publishes what was not stored; B's bridge finds its consumer gone, makes it
# again on the new stream (its record of deliveries starts over) and
# delivers. Nothing is lost.
. "$top_srcdir/tests/bridge-lib.sh"
bridge_init

N=100
two_hosts jobs type=mqueue max_messages=10 message_size=128 mode=0666 on_stop=remove
bridge_pair jobs ipc.jobs "ack_wait=5s" "ack_wait=5s"

recv_start "$B_SOCK" jobs "$T/first.out" "$N"
ok "$N messages go into A's channel" send_messages "$SOCK" jobs first "$N" 3
ok "B's channel yields $N" recv_wait 60
is "$(check_messages "$T/first.out" first "$N")" "missing=0 duplicates=0 badprio=0 other=0" "every one, once"
ok "A's bridge has nothing pending" wait_fresh 20 a jobs pending 0 forwarded "$N"

# B's bridge frozen meanwhile, so that it is A's that meets the missing stream (B's would make it again too)
kill -STOP "$(bridge_pid b)"
run "$JS_CONSUMER" "$NATS_URL" IPC --delete
is "$RC" 0 "the stream is deleted under both bridges"

ok "$N more go into A's channel" send_messages "$SOCK" jobs second "$N" 3
ok "A's bridge makes the stream again" wait_until 30 grep -q 'created stream IPC' "$T/a.log"
kill -CONT "$(bridge_pid b)"
recv_start "$B_SOCK" jobs "$T/second.out" "$N"
ok "B's channel yields them" recv_wait 90
is "$(check_messages "$T/second.out" second "$N")" "missing=0 duplicates=0 badprio=0 other=0" \
        "every one arrived, once, through the stream made anew"
like "$(cat "$T/a.log")" 'no stream answers \(no responders\)' "A's bridge said why its publishes failed"
ok "A's bridge ends with nothing pending" wait_fresh 20 a jobs pending 0
is "$(js_info IPC messages)" "$N" "the new stream holds the second $N"
ok "both bridges still run" sh -c "kill -0 $(bridge_pid a) && kill -0 $(bridge_pid b)"

done_testing
