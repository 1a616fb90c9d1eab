#!/bin/bash
# security-fairness.sh — users take turns, not connections (issue 9, attack 10).
#
# Each loop iteration used to serve one request of every ready connection,
# so 127 flooding connections of one user got 127 turns for every one of
# another user's. Now users are served round-robin and a user's connections
# share its turn. Measured without a clock: between two consecutive replies
# to root's persistent connection, the daemon's own request counter says how
# many requests it served in between (timing is for the benchmark, make bench).
. "$top_srcdir/tests/lib.sh"
test_init
FLOOD="$top_builddir/tests/helpers/flood"
[ -x "$FLOOD" ] || bail_out "$FLOOD not built"
for i in $(seq 1 30); do
        add_channel "c$i" type=mqueue max_messages=2 message_size=64 on_stop=remove
done

ok "daemon starts" daemon_start
$AS_NOBODY "$FLOOD" flood "$SOCK" 127 15 list >"$T/flood.out" 2>"$T/flood.err" &
flooder=$!
ok "nobody floods list on 127 connections" wait_until 10 grep -q "^connected 127" "$T/flood.out"
"$FLOOD" probe "$SOCK" 60 >"$T/probe.out"
is "$?" 0 "root's persistent connection is served under the flood"
median=$(cut -d' ' -f1 "$T/probe.out" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
diag "requests served between two of root's replies: median $median (of $(wc -l <"$T/probe.out") samples)"
ok "between two of root's requests the daemon serves a few of nobody's, not one per connection ($median <= 8)" \
        test "$median" -le 8
kill "$flooder" 2>/dev/null
wait "$flooder" 2>/dev/null
ok "clean stop" daemon_stop

done_testing
