# lib.sh — shared by the shell integration tests: TAP output and a real
# ipcbrokerd on a temporary socket, runtime directory and queue prefix.
#
#   . "$top_srcdir/tests/lib.sh"
#   test_init                     # temp dir $T, unique $PREFIX, config $CONF with [broker]
#   cat >>"$CONF" <<EOF ... EOF   # add channels
#   daemon_start                  # waits for READY=1 on a test NOTIFY_SOCKET
#   ok "description" command...   # passes when the command exits 0
#   is "$got" "$expected" "description"
#   like "$got" 'regex' "description"
#   run command...                # $OUT (stdout), $ERR (stderr), $RC (exit status)
#   json 'expr'                   # a python3 expression on the JSON document in $OUT (as j)
#   skip "description" "reason"   # a test that cannot run here: automake counts a SKIP
#   done_testing                  # prints the plan; cleanup runs on exit
#
# Everything is bounded: waits poll with a deadline, never sleep blindly.

set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir

IPCBROKERD="$top_builddir/ipcbrokerd"
IPCBROKER="$top_builddir/ipcbroker"
MQTOOL="$top_builddir/tests/helpers/mqtool"
NOTIFY_LISTEN="$top_builddir/tests/helpers/notify-listen"
# IPCBROKERD_WRAPPER runs the daemon under a tool, e.g. valgrind (CI does);
# DAEMON_WAIT is how long a start, reload or stop may take (longer under a tool)
IPCBROKERD_WRAPPER=${IPCBROKERD_WRAPPER:-}
DAEMON_WAIT=${DAEMON_WAIT:-10}
# an unprivileged caller, as in the spec
AS_NOBODY="setpriv --reuid=nobody --regid=nogroup --clear-groups"
# a python3 that other users may run too (not one under root's home)
if [ -x /usr/bin/python3 ]; then PYTHON3=/usr/bin/python3; else PYTHON3=python3; fi

TAP_N=0
TAP_FAILED=0
DAEMON_PID=
LISTEN_PID=
# other background processes a test started: killed (and reaped) at cleanup
EXTRA_PIDS=
T=

tap_result() { # STATUS DESCRIPTION
        TAP_N=$((TAP_N + 1))
        if [ "$1" = 0 ]; then
                echo "ok $TAP_N - $2"
        else
                echo "not ok $TAP_N - $2"
                TAP_FAILED=$((TAP_FAILED + 1))
        fi
}

diag() { echo "# $*"; }

ok() { # DESCRIPTION COMMAND...
        local desc=$1
        shift
        if "$@"; then tap_result 0 "$desc"; else tap_result 1 "$desc"; diag "command failed: $*"; fi
}

not_ok() { # DESCRIPTION COMMAND... : passes when the command fails
        local desc=$1
        shift
        if "$@"; then tap_result 1 "$desc"; diag "command unexpectedly succeeded: $*"; else tap_result 0 "$desc"; fi
}

is() { # GOT EXPECTED DESCRIPTION
        if [ "$1" = "$2" ]; then
                tap_result 0 "$3"
        else
                tap_result 1 "$3"
                diag "got:      '$1'"
                diag "expected: '$2'"
        fi
}

like() { # GOT REGEX DESCRIPTION
        if printf '%s' "$1" | grep -Eq -- "$2"; then
                tap_result 0 "$3"
        else
                tap_result 1 "$3"
                diag "got:      '$1'"
                diag "expected to match: '$2'"
        fi
}

skip() { # DESCRIPTION REASON
        TAP_N=$((TAP_N + 1))
        echo "ok $TAP_N - $1 # SKIP $2"
}

skip_all() {
        echo "1..0 # SKIP $*"
        exit 0
}

bail_out() {
        echo "Bail out! $*"
        exit 1
}

done_testing() {
        echo "1..$TAP_N"
        [ "$TAP_FAILED" = 0 ]
}

# Run COMMAND: its standard output in $OUT, standard error in $ERR, exit status in $RC.
run() {
        OUT=$("$@" 2>"$T/stderr")
        RC=$?
        ERR=$(cat "$T/stderr")
}

# Evaluate the python3 expression EXPR on the JSON document in $OUT (as j) and print it.
json() { # EXPR
        printf '%s' "$OUT" | python3 -c 'import json,sys; j=json.load(sys.stdin); print('"$1"')'
}

# Milliseconds on the clock, for measuring how long something took.
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# Poll until COMMAND succeeds, for at most SECONDS (decimal allowed).
wait_until() { # SECONDS COMMAND...
        local deadline=$(( $(date +%s%N) + ${1%.*} * 1000000000 ))
        shift
        while :; do
                "$@" && return 0
                [ "$(date +%s%N)" -ge "$deadline" ] && return 1
                sleep 0.02
        done
}

# Count the lines of FILE that match REGEX.
count_lines() { # FILE REGEX
        grep -Ec -- "$2" "$1" 2>/dev/null || true
}

test_init() {
        [ "$(id -u)" = 0 ] || skip_all "the integration tests run as root (they create queues for other users)"
        [ -x "$IPCBROKERD" ] || bail_out "$IPCBROKERD not built"
        # the daemon refuses configuration files writable by group or others:
        # what the tests write must not depend on the developer's umask (002)
        umask 022
        T=$(mktemp -d /tmp/ipcbroker-test.XXXXXX) || bail_out "mktemp failed"
        # nobody must reach the socket and FIFOs inside
        chmod 0755 "$T"
        PREFIX="/ipcbt.$$.$(date +%N)."
        CONF="$T/ipcbroker.conf"
        SOCK="$T/run/ipcbroker.sock"
        RUNDIR="$T/run"
        NOTIFY_SOCK="$T/notify.sock"
        NOTIFY_LOG="$T/notify.log"
        DAEMON_LOG="$T/daemon.log"
        export IPCBROKER_SOCKET="$SOCK"
        broker_header "$SOCK" "$RUNDIR" "$PREFIX" >"$CONF"
        trap test_cleanup EXIT
        # the first run of a libtool wrapper may relink: do it as root, not as nobody
        "$IPCBROKER" --version >/dev/null 2>&1 || true
}

# The tests' [broker] section: SOCKET, RUNTIME_DIR, MQ_PREFIX, root an admin, debug logs.
broker_header() {
        cat <<EOF
[broker]
socket = $1
runtime_dir = $2
mq_prefix = $3
admins = root
log_level = debug
EOF
}

# Every queue name the tests may have created: the prefix is unique per test run.
test_queues() {
        sed -n 's/^\[channel \(.*\)\]$/\1/p' "$CONF" 2>/dev/null | sed "s|^|$PREFIX|"
        sed -n 's/^mq_name *= *//p' "$CONF" 2>/dev/null
}

test_cleanup() {
        local rc=$?
        daemon_kill
        for pid in $EXTRA_PIDS; do
                kill "$pid" 2>/dev/null
                wait_until 10 pid_gone "$pid" || kill -KILL "$pid" 2>/dev/null
                wait "$pid" 2>/dev/null
        done
        if [ -n "$LISTEN_PID" ]; then
                kill "$LISTEN_PID" 2>/dev/null
                wait "$LISTEN_PID" 2>/dev/null
        fi
        if [ -n "$T" ] && [ -d "$T" ]; then
                "$MQTOOL" unlink $(test_queues) ${EXTRA_QUEUES:-} >/dev/null 2>&1
                # and whatever else carries this run's prefix (configs of its
                # own, names a step made up): root's queue budget is shared
                "$MQTOOL" unlink-prefix "$PREFIX" >/dev/null 2>&1
                if [ "$TAP_FAILED" != 0 ] && [ -f "$DAEMON_LOG" ] && [ -z "${DAEMON_LOG_SHOWN:-}" ]; then
                        diag "---- daemon log ----"
                        sed 's/^/# /' "$DAEMON_LOG" | tail -n 60
                fi
                rm -rf "$T"
        fi
        exit $rc
}

start_notify_listener() {
        if [ -z "$LISTEN_PID" ]; then
                : >"$NOTIFY_LOG"
                "$NOTIFY_LISTEN" "$NOTIFY_SOCK" "$NOTIFY_LOG" 600 &
                LISTEN_PID=$!
                wait_until 5 test -S "$NOTIFY_SOCK" || bail_out "notify listener did not start"
        fi
}

# Start the daemon on $CONF (extra arguments are passed on) and wait for READY=1.
# Returns non-zero (with the log shown) when it exits or does not get ready.
daemon_start() {
        local ready_before
        start_notify_listener
        ready_before=$(count_lines "$NOTIFY_LOG" 'READY=1')
        NOTIFY_SOCKET="$NOTIFY_SOCK" $IPCBROKERD_WRAPPER "$IPCBROKERD" -c "$CONF" "$@" >>"$DAEMON_LOG" 2>&1 &
        DAEMON_PID=$!
        if ! wait_until "$DAEMON_WAIT" daemon_ready_after "$ready_before"; then
                diag "daemon did not become ready; log:"
                sed 's/^/# /' "$DAEMON_LOG" | tail -n 30
                return 1
        fi
}

daemon_ready_after() { # N: more than N READY=1 lines, daemon alive
        kill -0 "$DAEMON_PID" 2>/dev/null || return 2
        [ "$(count_lines "$NOTIFY_LOG" 'READY=1')" -gt "$1" ]
}

# SIGHUP, then wait for the READY=1 that ends the reload.
daemon_reload() {
        local ready_before
        ready_before=$(count_lines "$NOTIFY_LOG" 'READY=1')
        kill -HUP "$DAEMON_PID" || return 1
        wait_until "$DAEMON_WAIT" daemon_ready_after "$ready_before"
}

# Clean stop; returns the daemon's exit status.
daemon_stop() {
        local rc
        [ -n "$DAEMON_PID" ] || return 0
        kill -TERM "$DAEMON_PID" 2>/dev/null
        if ! wait_until "$DAEMON_WAIT" daemon_gone; then
                kill -KILL "$DAEMON_PID" 2>/dev/null
        fi
        wait "$DAEMON_PID"
        rc=$?
        DAEMON_PID=
        return $rc
}

daemon_gone() { pid_gone "$DAEMON_PID"; }
pid_gone() { ! kill -0 "$1" 2>/dev/null; }

# kill -9: what a crash looks like.
daemon_kill() {
        [ -n "$DAEMON_PID" ] || return 0
        kill -KILL "$DAEMON_PID" 2>/dev/null
        wait "$DAEMON_PID" 2>/dev/null
        DAEMON_PID=
}

# Add a channel section: add_channel NAME key=value...
add_channel() {
        local name=$1
        shift
        {
                echo
                echo "[channel $name]"
                for kv in "$@"; do echo "$kv"; done
        } >>"$CONF"
}

# The kernel's view of a queue: "maxmsg msgsize curmsgs uid gid mode ino"
mq_attr() { "$MQTOOL" attr "$1"; }
