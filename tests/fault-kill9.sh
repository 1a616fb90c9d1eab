#!/bin/bash
# kill -9 of the daemon while several senders stream messages into queues:
# the senders and the receiver keep their descriptors and keep going while
# the daemon is down, new opens work again as soon as it is back, and every
# message arrives exactly once.
. "$top_srcdir/tests/lib.sh"
test_init
STREAM="$top_builddir/tests/helpers/stream"

SENDERS=4
PER_SENDER=3000
add_channel q1 type=mqueue max_messages=10 message_size=64 mode=0600 on_stop=remove
add_channel q2 type=mqueue max_messages=10 message_size=64 mode=0600 on_stop=remove
ok "daemon starts" daemon_start

for q in q1 q2; do
        "$STREAM" recv "$q" $((SENDERS * PER_SENDER)) 30 >"$T/$q.out" 2>"$T/$q.err" &
        eval "recv_$q=\$!"
        for s in $(seq 1 $SENDERS); do
                "$STREAM" send "$q" "$q-$s" "$PER_SENDER" 2>>"$T/senders.err" &
                eval "send_${q}_$s=\$!"
        done
done

# every sender has opened its channel (one of its messages arrived) and traffic flows:
# then crash the daemon in the middle of it
all_flowing() {
        for q in q1 q2; do
                for s in $(seq 1 $SENDERS); do
                        grep -q "^$q-$s:" "$T/$q.out" || return 1
                done
        done
        [ "$(wc -l <"$T/q1.out")" -ge 500 ]
}
ok "traffic is flowing from every sender before the crash" wait_until 20 all_flowing
daemon_kill
before=$(wc -l <"$T/q1.out")
ok "messages keep flowing with the daemon down" \
        wait_until 10 sh -c "[ \$(wc -l <'$T/q1.out') -gt $((before + 500)) ] || [ \$(wc -l <'$T/q1.out') -ge $((SENDERS * PER_SENDER)) ]"
not_ok "no new open while the daemon is down" "$IPCBROKER" send q1 x
ok "daemon restarts" daemon_start
ok "a new open works at once after the restart" "$IPCBROKER" stat q1
like "$(grep -c adopted "$DAEMON_LOG")" '^[2-9]' "the restarted daemon adopted both queues"

status=0
for q in q1 q2; do
        for s in $(seq 1 $SENDERS); do
                eval "wait \$send_${q}_$s" || status=1
        done
done
is "$status" 0 "every sender finished with its original descriptor"
for q in q1 q2; do
        eval "wait \$recv_$q"
        is "$?" 0 "the receiver of $q got every message"
        is "$(wc -l <"$T/$q.out")" $((SENDERS * PER_SENDER)) "$q: $((SENDERS * PER_SENDER)) messages received"
        is "$(sort -u "$T/$q.out" | wc -l)" $((SENDERS * PER_SENDER)) "$q: each exactly once"
        # per sender, in order
        bad=0
        for s in $(seq 1 $SENDERS); do
                grep "^$q-$s:" "$T/$q.out" | cut -d: -f2 | awk -v n=$PER_SENDER '$1 != NR-1 {bad=1} END {exit bad || NR != n}' || bad=1
        done
        is "$bad" 0 "$q: each sender's messages arrive complete and in order"
done
[ -s "$T/senders.err" ] && diag "$(cat "$T/senders.err")"
is "$(mq_attr "${PREFIX}q1" | cut -d' ' -f3)" 0 "nothing left behind in q1"
ok "clean stop" daemon_stop

done_testing
