#!/bin/sh
# smoke.sh — the benchmark in smoke mode, as a test (TAP): every part runs
# tiny against the real daemon. Nothing about timings is asserted; this only
# proves that the benchmark builds, runs and cleans up.
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir

n=0
failed=0
result() { # STATUS DESCRIPTION
        n=$((n + 1))
        if [ "$1" = 0 ]; then
                echo "ok $n - $2"
        else
                echo "not ok $n - $2"
                failed=$((failed + 1))
        fi
}

out=$(mktemp /tmp/ipcbroker-bench-smoke.XXXXXX) || { echo "Bail out! mktemp failed"; exit 1; }
trap 'rm -f "$out"' EXIT

TMPDIR=/tmp "$top_srcdir/bench/run-bench.sh" --smoke >"$out" 2>&1
rc=$?
sed 's/^/# /' "$out"
result "$rc" "ipcbroker-bench --smoke runs every part and exits 0"

rows=0
for part in 1 2 3 5 6; do
        grep -Eq "^$part +[a-zA-Z\`]" "$out" && rows=$((rows + 1))
done
[ "$rows" = 5 ]
result $? "the table has rows for parts 1, 2, 3, 5 and 6"

# part 5: the batch API always runs; ZeroMQ only when configure found libzmq
grep -Eq '^5 +batch 64 B one-way throughput .*ipcb_sendv/recvv, batch FIFO +[0-9.]+[kM]?/s .*(all in order|skipped: libzmq not found)' "$out" &&
        grep -Eq '^5 +2 senders.*every message once, in order per sender' "$out"
result $? "the batch rows are measured and every message arrived once, in order"

# part 4 needs dbus-daemon (package dbus); without it the row says so
grep -Eq '^4 +(round trip|D-Bus)' "$out"
result $? "the table has the D-Bus rows (measured or skipped with a reason)"

# part 8 needs the bridge (libnats) and nats-server; without them the row says so
grep -Eq '^8 +(64 B A->B throughput .*all arrived|bridge .*skipped: (ipcbroker-bridge was not built|nats-server is not installed|built without libnats))' "$out"
result $? "the table has the bridge rows (every message arrived, or skipped with a reason)"

! grep -Eq '^[0-9-]+ .*skipped: (ipcbrokerd|cannot|the |a bridge)' "$out"
result $? "no part was skipped for a failure"

dir=$(sed -n 's/^# temporary directory \(.*\) (removed at exit)$/\1/p' "$out" | head -n 1)
[ -n "$dir" ] && [ ! -e "$dir" ]
result $? "the temporary directory ${dir:-?} was removed"

echo "1..$n"
[ "$failed" = 0 ]
