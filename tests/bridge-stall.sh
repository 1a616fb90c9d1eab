#!/bin/bash
# A consumer whose pull requests the server does not serve: B's bridge
# fetches and gets nothing while JetStream holds messages for it and has room
# under max_ack_pending. Here the server denies B's user the pull requests
# (a permission it lacks); a server frozen or overloaded can leave requests
# unserved the same way. B's bridge notices the stall, says so and
# subscribes again, every 5 s while it lasts (the server's error, repeated
# with every request, logged once a minute); once the server serves it (the
# permission given, the configuration reloaded), every message arrives.
. "$top_srcdir/tests/bridge-lib.sh"
bridge_init

N=20
nats_conf() { # DENY: what B's user may not publish
        cat >"$T/nats.conf" <<EON
listen: "127.0.0.1:$NATS_PORT"
jetstream { store_dir: "$T/jetstream" }
accounts {
  HOSTS {
    jetstream: enabled
    users: [
      { user: a, password: pa }
      { user: b, password: pb, permissions: { publish: { allow: [">"], deny: [$1] } } }
    ]
  }
}
EON
}
nats_conf '"$JS.API.CONSUMER.MSG.NEXT.>"'
NATS_CONF="$T/nats.conf"
two_hosts jobs type=mqueue max_messages=10 message_size=128 mode=0666 on_stop=remove
bridge_conf a "$SOCK" hosta
sed -i 's/^\[nats\]$/&\nuser = a\npassword = pa/' "$T/a.conf"
add_bridge a jobs direction=out subject=ipc.jobs
bridge_conf b "$B_SOCK" hostb
sed -i 's/^\[nats\]$/&\nuser = b\npassword = pb/' "$T/b.conf"
add_bridge b jobs direction=in subject=ipc.jobs ack_wait=5s
chmod 600 "$T/a.conf" "$T/b.conf"
bridge_start a
bridge_start b
ok "A's bridge gets ready" bridge_ready a
ok "B's bridge gets ready" bridge_ready b
NATS_URL="nats://a:pa@127.0.0.1:$NATS_PORT" # for js-consumer, which has no other way to log in

ok "$N messages go into A's channel" send_messages "$SOCK" jobs m "$N" 1
ok "the stream has them" wait_until 30 stream_has "$N"
ok "B's bridge notices that no fetch brings them" \
        wait_until 30 grep -q "consumer jobs-hostb has $N messages waiting, 0 unacknowledged, but no fetch brought any for 5 s; subscribing again" "$T/b.log"
is "$(queue_depth "${B_PREFIX}jobs")" 0 "nothing came into B's channel meanwhile"
ok "and says so again while it lasts" wait_until 30 sh -c "[ \$(grep -c 'subscribing again' '$T/b.log') -ge 2 ]"
# each pull request meets the violation (two a second): the client's error is logged once a minute
is "$(grep -c 'NATS: Not Permitted' "$T/b.log")" 1 "the server's refusal, repeated with every request, is logged once"

# the server serves B's pull requests from now on
nats_conf '"nothing.denied"'
kill -HUP "$NATS_PID"
recv_start "$B_SOCK" jobs "$T/recv.out" "$N"
ok "B's channel yields the $N messages" recv_wait 60
is "$(check_messages "$T/recv.out" m "$N")" "missing=0 duplicates=0 badprio=0 other=0" "each once"
ok "B's bridge ends with nothing pending" wait_fresh 20 b jobs pending 0 forwarded "$N"
before=$(grep -c 'subscribing again' "$T/b.log")
sleep 6 # longer than the stall check's 5 s: an idle consumer with nothing waiting is no stall
is "$(grep -c 'subscribing again' "$T/b.log")" "$before" "an idle consumer with nothing waiting is not taken for a stall"
ok "B's bridge still runs" bridge_alive b

done_testing
