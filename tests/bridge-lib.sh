# bridge-lib.sh — shared by the tests of ipcbroker-bridge (tests/bridge-*.sh):
# on top of lib.sh (whose daemon is host A), a nats-server per test on a free
# loopback port with its own store, a second ipcbrokerd standing for host B
# (its own socket, runtime directory and mq_prefix), and bridges run under a
# notify listener each.
#
#   . "$top_srcdir/tests/bridge-lib.sh"
#   bridge_init                       # skips without nats-server or the bridge
#   two_hosts jobs type=mqueue ...    # or step by step:
#   add_channel jobs type=mqueue ...  # host A, as in lib.sh; daemon_start
#   host_b_init; add_channel_b jobs ...; host_b_start
#   nats_start
#   bridge_conf a "$SOCK" hosta; add_bridge a jobs direction=out subject=ipc.jobs
#   bridge_start a; bridge_ready a    # (bridge_pair jobs ipc.jobs "A-KEYS" "B-KEYS": both)
#   send_messages "$SOCK" jobs TAG COUNT PRIOS [CHUNK PAUSE]
#   recv_start "$B_SOCK" jobs FILE COUNT; recv_wait SECONDS
#   check_messages FILE TAG COUNT     # prints missing=N duplicates=N badprio=N other=N
#   bridge_count a forwarded          # a count from the bridge's last STATUS=
#   wait_fresh 20 a jobs pending 0    # until the counts it logs on SIGUSR1 are so
#
# Every wait is bounded; every process started here is ended by the EXIT trap.

. "$top_srcdir/tests/lib.sh"

BRIDGE="$top_builddir/ipcbroker-bridge"
JS_CONSUMER="$top_builddir/tests/helpers/js-consumer"
# how long a bridge may take to get ready (more under valgrind: DAEMON_WAIT grows)
BRIDGE_WAIT=${BRIDGE_WAIT:-$((3 * DAEMON_WAIT))}

NATS_PID=
NATS_PORT=
NATS_URL=
B_PID=
RECV_PID=
declare -A BRIDGE_PIDS=() BRIDGE_LISTENERS=()

# NEED: "nats" (a nats-server is started) or "config" (the bridge alone)
bridge_init() {
        local need=${1:-nats}
        if [ ! -x "$BRIDGE" ]; then
                skip_all "ipcbroker-bridge was not built (configure found no libnats; Debian: libnats-dev)"
        fi
        if [ "$need" = nats ] && ! command -v nats-server >/dev/null; then
                skip_all "nats-server is not installed (Debian package nats-server): the bridge is not tested against NATS"
        fi
        test_init
        trap bridge_exit EXIT
        NATS_PORT=$(free_port)
        NATS_URL="nats://127.0.0.1:$NATS_PORT"
        "$BRIDGE" --version >/dev/null 2>&1 || true # a libtool wrapper relinks on first run: as root
}

free_port() {
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---- nats-server ----------------------------------------------------------------------------------

nats_listening() {
        kill -0 "$NATS_PID" 2>/dev/null && (exec 3<>"/dev/tcp/127.0.0.1/$NATS_PORT") 2>/dev/null
}

# Start nats-server with JetStream on $NATS_PORT and the store in $T/jetstream (the same one each time).
# With NATS_CONF set, that file is the server's configuration (it names the port and the store itself).
nats_start() {
        if [ -n "${NATS_CONF:-}" ]; then
                nats-server -c "$NATS_CONF" >>"$T/nats.log" 2>&1 &
        else
                nats-server -js -a 127.0.0.1 -p "$NATS_PORT" -sd "$T/jetstream" >>"$T/nats.log" 2>&1 &
        fi
        NATS_PID=$!
        wait_until 15 nats_listening || { diag "nats-server did not start:"; tail -n 20 "$T/nats.log" | sed 's/^/# /'; return 1; }
}

nats_kill() { # kill -9
        [ -n "$NATS_PID" ] || return 0
        kill -KILL "$NATS_PID" 2>/dev/null
        wait "$NATS_PID" 2>/dev/null
        NATS_PID=
}

nats_stop() {
        [ -n "$NATS_PID" ] || return 0
        kill -TERM "$NATS_PID" 2>/dev/null
        wait_until 10 sh -c "! kill -0 $NATS_PID 2>/dev/null" || kill -KILL "$NATS_PID" 2>/dev/null
        wait "$NATS_PID" 2>/dev/null
        NATS_PID=
}

# What JetStream says: js_info STREAM [DURABLE] KEY (messages, ack_pending, redelivered, pending, delivered, ack_floor)
js_info() {
        local key=${*: -1}
        "$JS_CONSUMER" "$NATS_URL" "${@:1:$#-1}" | sed -n "s/^$key=//p"
}

stream_has() { [ "$(js_info IPC messages)" -ge "$1" ]; } # stream IPC holds at least N messages
js_info_is() { [ "$(js_info "${@:1:$#-1}")" = "${*: -1}" ]; } # js_info_is STREAM [DURABLE] KEY VALUE (for wait_until)

# ---- host B: a second ipcbrokerd ---------------------------------------------------------------------

host_b_init() {
        B_DIR="$T/b"
        B_RUN="$B_DIR/run"
        B_SOCK="$B_RUN/ipcbroker.sock"
        B_CONF="$B_DIR/ipcbroker.conf"
        B_PREFIX="${PREFIX}b."
        mkdir -p "$B_DIR"
        broker_header "$B_SOCK" "$B_RUN" "$B_PREFIX" >"$B_CONF"
}

add_channel_b() { # NAME key=value...
        local name=$1
        shift
        { echo; echo "[channel $name]"; for kv in "$@"; do echo "$kv"; done; } >>"$B_CONF"
}

host_b_start() {
        "$IPCBROKERD" -c "$B_CONF" >>"$B_DIR/daemon.log" 2>&1 &
        B_PID=$!
        wait_until "$DAEMON_WAIT" sh -c "kill -0 $B_PID && '$IPCBROKER' -s '$B_SOCK' status >/dev/null 2>&1" ||
                { diag "host B's daemon did not start:"; tail -n 20 "$B_DIR/daemon.log" | sed 's/^/# /'; return 1; }
}

# The kernel's count of messages in a queue: queue_depth KERNEL-NAME
queue_depth() { "$MQTOOL" attr "$1" | cut -d' ' -f3; }
queue_full() { [ "$(queue_depth "$1")" = 10 ]; } # the tests' queues hold 10 (fs.mqueue.msg_max)

# ---- bridges ----------------------------------------------------------------------------------------------

# Write $T/NAME.conf: [nats] on this test's server, [local] with SOCKET, its own spool and ORIGIN.
bridge_conf() { # NAME SOCKET ORIGIN
        mkdir -p "$T/$1.spool"
        cat >"$T/$1.conf" <<EOB
[nats]
url = $NATS_URL

[local]
socket = $2
spool_dir = $T/$1.spool
origin = $3
EOB
}

add_bridge() { # CONF-NAME BRIDGE key=value...
        local conf=$1 name=$2
        shift 2
        { echo; echo "[bridge $name]"; for kv in "$@"; do echo "$kv"; done; } >>"$T/$conf.conf"
}

# Start bridge NAME (its config $T/NAME.conf), prefixed by COMMAND... (e.g. $AS_NOBODY); log in $T/NAME.log.
bridge_start() { # NAME [COMMAND...]
        local name=$1 sock="$T/$1.notify"
        shift
        if [ -z "${BRIDGE_LISTENERS[$name]:-}" ]; then
                : >"$T/$name.notify.log"
                "$NOTIFY_LISTEN" "$sock" "$T/$name.notify.log" 600 &
                BRIDGE_LISTENERS[$name]=$!
                wait_until 5 test -S "$sock" || return 1
                chmod 0666 "$sock" # a bridge run as another user must reach it
        fi
        # under a tool (IPCBROKERD_WRAPPER, e.g. valgrind) the program itself, not its libtool wrapper script
        if [ -n "$IPCBROKERD_WRAPPER" ]; then
                NOTIFY_SOCKET="$sock" "$@" "$top_builddir/libtool" --mode=execute $IPCBROKERD_WRAPPER "$BRIDGE" \
                        -v -c "$T/$name.conf" >>"$T/$name.log" 2>&1 &
        else
                NOTIFY_SOCKET="$sock" "$@" "$BRIDGE" -v -c "$T/$name.conf" >>"$T/$name.log" 2>&1 &
        fi
        BRIDGE_PIDS[$name]=$!
}

bridge_pid() { echo "${BRIDGE_PIDS[$1]:-}"; }

bridge_alive() { local p; p=$(bridge_pid "$1"); [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }

# READY=1 seen (COUNT times, default 1) while the bridge lives
bridge_ready_n() { bridge_alive "$1" && [ "$(count_lines "$T/$1.notify.log" 'READY=1')" -ge "${2:-1}" ]; }
bridge_ready() { # NAME [COUNT]
        wait_until "$BRIDGE_WAIT" bridge_ready_n "$1" "${2:-1}" ||
                { diag "bridge $1 did not get ready:"; tail -n 20 "$T/$1.log" | sed 's/^/# /'; return 1; }
}

bridge_status() { grep 'STATUS=' "$T/$1.notify.log" 2>/dev/null | tail -n1 | sed 's/.*STATUS=//'; }

# One count from the last STATUS= (forwarded, pending, acked, duplicates, echoes, redelivered, republished, rejected)
bridge_count() { # NAME WORD
        bridge_status "$1" | grep -oE "$2( dropped)? [0-9]+" | grep -oE '[0-9]+$' || echo -1
}
bridge_count_ge() { [ "$(bridge_count "$1" "$2")" -ge "$3" ]; }
# Whether the counts in LINE are WORD VALUE...
counts_match() { # LINE WORD VALUE [WORD VALUE...]
        local line=$1
        shift
        while [ $# -ge 2 ]; do
                printf '%s' "$line" | grep -qE "(^|, |; |: )$1( dropped)? $2(,|$)" || return 1
                shift 2
        done
}
# The counts summed in NAME's last STATUS= (sent once a second: up to a second old; for wait_until)
bridge_counts_are() { # NAME WORD VALUE [WORD VALUE...]
        local name=$1
        shift
        counts_match "$(bridge_status "$name")" "$@"
}
# BRIDGE's counts in process NAME now: SIGUSR1 has it log them at once.
bridge_fresh() { # NAME BRIDGE
        local log="$T/$1.log" re="^ipcbroker-bridge: info: \[bridge $2\] [a-z ]+: forwarded" before
        before=$(count_lines "$log" "$re")
        kill -USR1 "$(bridge_pid "$1")" 2>/dev/null || return 1
        wait_until 5 sh -c "[ \$(grep -cE '$re' '$log') -gt $before ]" || return 1
        grep -E "$re" "$log" | tail -n1 | sed 's/^[^]]*\] //'
}
# Until BRIDGE's fresh counts are WORD VALUE..., for at most SECONDS (asking four times a second).
wait_fresh() { # SECONDS NAME BRIDGE WORD VALUE [WORD VALUE...]
        local deadline=$(($(date +%s) + $1)) name=$2 bridge=$3
        shift 3
        while :; do
                counts_match "$(bridge_fresh "$name" "$bridge")" "$@" && return 0
                [ "$(date +%s)" -ge "$deadline" ] && return 1
                sleep 0.25
        done
}

bridge_kill() { # NAME: kill -9
        local p
        p=$(bridge_pid "$1")
        [ -n "$p" ] || return 0
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
        BRIDGE_PIDS[$1]=
}

bridge_stop() { # NAME: SIGTERM; returns its exit status
        local p rc
        p=$(bridge_pid "$1")
        [ -n "$p" ] || return 0
        kill -TERM "$p" 2>/dev/null
        wait_until 20 sh -c "! kill -0 $p 2>/dev/null" || kill -KILL "$p" 2>/dev/null
        wait "$p"
        rc=$?
        BRIDGE_PIDS[$1]=
        return $rc
}

# Resident memory of bridge NAME in kB
bridge_rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$(bridge_pid "$1")/status" 2>/dev/null; }

# ---- the usual set-up --------------------------------------------------------------------------------------

# Both hosts' daemons, each with channel NAME (key=value...), and nats-server: each checked.
two_hosts() { # NAME key=value...
        add_channel "$@"
        ok "host A's daemon starts" daemon_start
        host_b_init
        add_channel_b "$@"
        ok "host B's daemon starts" host_b_start
        ok "nats-server starts" nats_start
}

# Bridge a (origin hosta) takes CHANNEL out to SUBJECT, bridge b (hostb) brings it into B's CHANNEL,
# with A-KEYS and B-KEYS (key=value, space-separated) besides; both started and ready.
bridge_pair() { # CHANNEL SUBJECT A-KEYS B-KEYS
        bridge_conf a "$SOCK" hosta
        add_bridge a "$1" direction=out subject="$2" $3
        bridge_conf b "$B_SOCK" hostb
        add_bridge b "$1" direction=in subject="$2" $4
        bridge_start a
        bridge_start b
        ok "A's bridge gets ready" bridge_ready a
        ok "B's bridge gets ready" bridge_ready b
}

# ---- messages ---------------------------------------------------------------------------------------------------

# Send COUNT messages "TAG-I-pP" (I from 1, priority P = I mod PRIOS) into CHANNEL through SOCKET,
# CHUNK at a time (all by default) with PAUSE seconds between chunks.
send_messages() { # SOCKET CHANNEL TAG COUNT PRIOS [CHUNK PAUSE]
        local sock=$1 ch=$2 tag=$3 count=$4 prios=$5 chunk=${6:-$4} pause=${7:-0} first=1 last p
        while [ "$first" -le "$count" ]; do
                last=$((first + chunk - 1))
                [ "$last" -gt "$count" ] && last=$count
                for p in $(seq 0 $((prios - 1))); do
                        awk -v f="$first" -v l="$last" -v p="$p" -v n="$prios" -v t="$tag" \
                                'BEGIN { for (i = f; i <= l; i++) if (i % n == p) printf "%s-%d-p%d\n", t, i, p }' |
                                "$IPCBROKER" -s "$sock" send "$ch" -p "$p" -t 60s || return 1
                done
                first=$((last + 1))
                [ "$pause" = 0 ] || sleep "$pause"
        done
}

# Receive COUNT messages from CHANNEL through SOCKET into FILE ("PRIO<tab>message" lines), in the background.
recv_start() { # SOCKET CHANNEL FILE COUNT
        "$IPCBROKER" -s "$1" recv "$2" -v -n "$4" -t 60s >"$3" 2>"$3.err" &
        RECV_PID=$!
}

recv_wait() { # SECONDS: until the receiver has its count
        wait_until "$1" sh -c "! kill -0 $RECV_PID 2>/dev/null" || { kill "$RECV_PID" 2>/dev/null; wait "$RECV_PID"; RECV_PID=; return 1; }
        wait "$RECV_PID"
        local rc=$?
        RECV_PID=
        return $rc
}

# Compare FILE with the COUNT messages of TAG: "missing=N duplicates=N badprio=N other=N"
check_messages() { # FILE TAG COUNT
        awk -F'\t' -v t="$2" -v n="$3" '
                { m = split($2, a, "-"); if (m != 3 || a[1] != t) { other++; next }
                  if ("p" $1 != a[3]) badprio++; seen[a[2]]++ }
                END { for (i = 1; i <= n; i++) { if (!(i in seen)) missing++; else if (seen[i] > 1) dup += seen[i] - 1 }
                      printf "missing=%d duplicates=%d badprio=%d other=%d\n", missing, dup, badprio, other }' "$1"
}

# ---- the end --------------------------------------------------------------------------------------------------------

# On a failure, while everything still runs: each bridge's state and what JetStream says of each in
# bridge's consumer (printed last, after the logs, so that a cut report keeps it).
bridge_failure_state() {
        local name conf durable
        for name in "${!BRIDGE_PIDS[@]}"; do
                if bridge_alive "$name"; then
                        echo "# bridge $name (pid ${BRIDGE_PIDS[$name]}): $(bridge_status "$name")"
                else
                        echo "# bridge $name: not running"
                fi
                conf="$T/$name.conf"
                [ -n "$NATS_PID" ] && [ -f "$conf" ] || continue
                # each in bridge's consumer: durable = CHANNEL-ORIGIN unless the file names one
                for durable in $(awk -F' *= *' '
                                function flush() { if (b != "" && dir == "in") print (d != "" ? d : (c != "" ? c : b) "-" o) }
                                /^\[/ { flush(); b = d = c = dir = "" }
                                /^\[bridge / { b = $0; sub(/^\[bridge /, "", b); sub(/\]$/, "", b) }
                                /^origin *=/ { o = $2 } /^durable *=/ { d = $2 } /^channel *=/ { c = $2 }
                                /^direction *=/ { dir = $2 }
                                END { flush() }' "$conf"); do
                        echo "# consumer $durable: $(timeout 10 "$JS_CONSUMER" "$NATS_URL" IPC "$durable" 2>&1 | tr '\n' ' ')"
                done
        done
}

bridge_cleanup() {
        local name state=
        [ "$TAP_FAILED" != 0 ] && [ -n "$T" ] && state=$(bridge_failure_state 2>&1)
        [ -n "$RECV_PID" ] && kill "$RECV_PID" 2>/dev/null
        for name in "${!BRIDGE_PIDS[@]}"; do
                [ -n "${BRIDGE_PIDS[$name]}" ] && kill -KILL "${BRIDGE_PIDS[$name]}" 2>/dev/null
        done
        for name in "${!BRIDGE_LISTENERS[@]}"; do
                kill "${BRIDGE_LISTENERS[$name]}" 2>/dev/null
        done
        nats_kill
        if [ -n "$B_PID" ]; then
                kill -KILL "$B_PID" 2>/dev/null
                wait "$B_PID" 2>/dev/null
        fi
        if [ -n "${B_CONF:-}" ] && [ -f "$B_CONF" ]; then
                "$MQTOOL" unlink $(sed -n 's/^\[channel \(.*\)\]$/\1/p' "$B_CONF" | sed "s|^|$B_PREFIX|") >/dev/null 2>&1
        fi
        if [ "$TAP_FAILED" != 0 ] && [ -n "$T" ]; then
                for name in "$T"/*.log; do
                        case $name in *notify.log | */daemon.log) continue ;; esac
                        [ -f "$name" ] || continue
                        diag "---- $(basename "$name") ----"
                        tail -n 40 "$name" | sed 's/^/# /'
                done
                # the daemons' logs, then the state above: last, where a report cut short still has them
                for name in "$DAEMON_LOG" "${B_DIR:-/nonexistent}/daemon.log"; do
                        [ -f "$name" ] || continue
                        diag "---- ${name#"$T"/} ----"
                        tail -n 30 "$name" | sed 's/^/# /'
                done
                DAEMON_LOG_SHOWN=1
                diag "---- state at the failure ----"
                printf '%s\n' "$state"
        fi
}

# BRIDGE_KEEP=DIR keeps a copy of the test's directory there, to look at afterwards.
bridge_exit() {
        local rc=$?
        bridge_cleanup
        [ -n "${BRIDGE_KEEP:-}" ] && [ -n "$T" ] && rm -rf "$BRIDGE_KEEP" && cp -a "$T" "$BRIDGE_KEEP"
        (exit $rc)
        test_cleanup
}
