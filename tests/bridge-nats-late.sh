#!/bin/bash
# ipcbroker-bridge started before everything it needs: NATS is down and host
# B's daemon is not running yet. The bridges wait (no READY=1, STATUS= says
# so), B's bridge retries its channel until the daemon appears, A's channel
# fills while nothing can be forwarded; once nats-server comes up both get
# ready and every message arrives. The watchdog is pinged meanwhile.
. "$top_srcdir/tests/bridge-lib.sh"
bridge_init

N=500
add_channel jobs type=mqueue max_messages=10 message_size=128 mode=0666 on_stop=remove
ok "host A's daemon starts" daemon_start
host_b_init
add_channel_b jobs type=mqueue max_messages=10 message_size=128 mode=0666 on_stop=remove

bridge_conf a "$SOCK" hosta
add_bridge a jobs direction=out subject=ipc.jobs
bridge_conf b "$B_SOCK" hostb
add_bridge b jobs direction=in subject=ipc.jobs
bridge_start a env WATCHDOG_USEC=400000
bridge_start b
status_waiting() { bridge_status "$1" | grep -q '^waiting for NATS; 0/1 bridges running'; }
pings() { [ "$(count_lines "$T/a.notify.log" 'WATCHDOG=1')" -ge "$1" ]; }
ok "A's bridge pings the watchdog while it waits (WATCHDOG_USEC set)" wait_until 10 pings 5
ok "A's bridge says it waits for NATS" wait_until 10 status_waiting a
ok "B's too" wait_until 10 status_waiting b
ok "B's bridge retries its channel while B's daemon is down" \
        wait_until 10 grep -q 'cannot open channel jobs: cannot reach ipcbrokerd' "$T/b.log"
send_messages "$SOCK" jobs late "$N" 4 &
sender=$!
ok "A's channel fills: nothing is taken before NATS is there" wait_until 10 queue_full "${PREFIX}jobs"
sleep 1
ok "no READY=1 while NATS is down" test "$(count_lines "$T/a.notify.log" 'READY=1')$(count_lines "$T/b.notify.log" 'READY=1')" = 00
ok "both bridges are alive, waiting" sh -c "kill -0 $(bridge_pid a) && kill -0 $(bridge_pid b)"

ok "host B's daemon starts" host_b_start
ok "B's bridge opens its channel once the daemon is there" wait_until 10 grep -q 'channel jobs open for sending' "$T/b.log"
ok "nats-server starts, late" nats_start
ok "A's bridge connects and gets ready" bridge_ready a
ok "B's bridge connects and gets ready" bridge_ready b
recv_start "$B_SOCK" jobs "$T/recv.out" "$N"
ok "the sender finishes" wait_until 60 sh -c "! kill -0 $sender 2>/dev/null"
ok "B's channel yields $N messages" recv_wait 60
is "$(check_messages "$T/recv.out" late "$N")" "missing=0 duplicates=0 badprio=0 other=0" "every message arrived once"
is "$(count_lines "$T/a.notify.log" 'READY=1')" 1 "READY=1 exactly once"
ok "no watchdog pings without WATCHDOG_USEC" test "$(count_lines "$T/b.notify.log" 'WATCHDOG=1')" = 0

done_testing
