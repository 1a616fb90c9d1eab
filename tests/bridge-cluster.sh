#!/bin/bash
# ipcbroker-bridge on a 3-node JetStream cluster, as the docs advise against
# the single server's durability caveat: the bridges know all three URLs, the
# stream they create has 3 replicas; kill -9 of the server a bridge is
# connected to, in the middle of a stream: the bridges move to another server
# and every message arrives exactly once; the stream keeps 3 copies.
. "$top_srcdir/tests/bridge-lib.sh"
bridge_init

N=2000
declare -a PORTS ROUTES PIDS
for i in 0 1 2; do PORTS[i]=$(free_port); ROUTES[i]=$(free_port); done
node_start() { # INDEX
        local i=$1 routes="" j
        for j in 0 1 2; do [ "$j" = "$i" ] || routes="$routes${routes:+,}nats://127.0.0.1:${ROUTES[j]}"; done
        nats-server -js -a 127.0.0.1 -p "${PORTS[i]}" -sd "$T/node$i" -n "node$i" --cluster_name ipcb \
                --cluster "nats://127.0.0.1:${ROUTES[i]}" --routes "$routes" >>"$T/node$i.log" 2>&1 &
        PIDS[i]=$!
}
node_listening() { (exec 3<>"/dev/tcp/127.0.0.1/${PORTS[$1]}") 2>/dev/null; }
cluster_cleanup() {
        local i
        for i in 0 1 2; do [ -n "${PIDS[i]:-}" ] && kill -KILL "${PIDS[i]}" 2>/dev/null; done
}
trap 'rc=$?; cluster_cleanup; (exit $rc); bridge_exit' EXIT
for i in 0 1 2; do node_start "$i"; done
for i in 0 1 2; do ok "cluster node $i listens" wait_until 15 node_listening "$i"; done
# every bridge sees every node; js-consumer asks node 0
NATS_URL="nats://127.0.0.1:${PORTS[0]}"
urls="nats://127.0.0.1:${PORTS[0]}, nats://127.0.0.1:${PORTS[1]}, nats://127.0.0.1:${PORTS[2]}"

add_channel jobs type=mqueue max_messages=10 message_size=128 mode=0666 on_stop=remove
ok "host A's daemon starts" daemon_start
host_b_init
add_channel_b jobs type=mqueue max_messages=10 message_size=128 mode=0666 on_stop=remove
ok "host B's daemon starts" host_b_start
bridge_conf a "$SOCK" hosta
sed -i "s|^url = .*|url = $urls|" "$T/a.conf"
add_bridge a jobs direction=out subject=ipc.jobs replicas=3 ack_wait=5s
bridge_conf b "$B_SOCK" hostb
sed -i "s|^url = .*|url = $urls|" "$T/b.conf"
add_bridge b jobs direction=in subject=ipc.jobs replicas=3 ack_wait=3s
bridge_start a
bridge_start b
ok "A's bridge gets ready (the cluster may take a few seconds to elect its leaders)" bridge_ready a
ok "B's bridge gets ready" bridge_ready b
ok "the stream was created with 3 replicas" grep -q 'created stream IPC for subject ipc.jobs (3 replicas)' "$T/a.log" "$T/b.log"

recv_start "$B_SOCK" jobs "$T/recv.out" "$N"
send_messages "$SOCK" jobs c "$N" 4 100 0.05 &
sender=$!
ok "messages flow" wait_until 30 bridge_count_ge b forwarded 400
port=$(bridge_status a | sed -n 's|^connected to nats://127\.0\.0\.1:\([0-9]*\);.*|\1|p')
victim=
for i in 0 1 2; do [ "${PORTS[i]}" = "$port" ] && victim=$i; done
ok "A's bridge names the node it uses" test -n "$victim"
kill -KILL "${PIDS[victim]}"
wait "${PIDS[victim]}" 2>/dev/null
PIDS[victim]=
diag "killed node $victim (A's bridge's server) after $(bridge_count b forwarded) messages reached B"
ok "A's bridge moves to another node" wait_until 30 grep -q 'reconnected to NATS' "$T/a.log"
ok "the sender finishes" wait_until 90 sh -c "! kill -0 $sender 2>/dev/null"
ok "B's channel yields $N messages" recv_wait 90
is "$(check_messages "$T/recv.out" c "$N")" "missing=0 duplicates=0 badprio=0 other=0" \
        "nothing lost or doubled across the failover"
ok "A's bridge got an acknowledgement for each" wait_fresh 30 a jobs acked "$N" pending 0
[ "$victim" = 0 ] && NATS_URL="nats://127.0.0.1:${PORTS[1]}"
is "$(js_info IPC messages)" "$N" "the stream holds each message once"
is "$(js_info IPC replicas)" 3 "in 3 replicas"
node_start "$victim"
ok "the killed node comes back" wait_until 15 node_listening "$victim"

done_testing
