#!/bin/bash
# Kernel limits the daemon cannot meet are reported at check time, clearly,
# naming the channel and the limit: fs.mqueue.msg_max / msgsize_max for a
# daemon without CAP_SYS_RESOURCE, RLIMIT_MSGQUEUE for the sum of the queues,
# fs.pipe-max-size for FIFOs. Run as nobody, and as root with or without
# CAP_SYS_RESOURCE (root here may lack it; a production root has it).
. "$top_srcdir/tests/lib.sh"

test_init

mq_exists() { "$MQTOOL" attr "$1" >/dev/null 2>&1; }

# What this machine allows, and whether root here may exceed it.
MSG_MAX=$(cat /proc/sys/fs/mqueue/msg_max)
MSGSIZE_MAX=$(cat /proc/sys/fs/mqueue/msgsize_max)
PIPE_MAX=$(cat /proc/sys/fs/pipe-max-size)
capeff=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status)
if (( (0x$capeff >> 24) & 1 )); then ROOT_HAS_SYS_RESOURCE=1; else ROOT_HAS_SYS_RESOURCE=0; fi
diag "root has CAP_SYS_RESOURCE: $ROOT_HAS_SYS_RESOURCE (CapEff $capeff); fs.mqueue.msg_max $MSG_MAX, msgsize_max $MSGSIZE_MAX"

# A fixed RLIMIT_MSGQUEUE for every run (soft = hard): the current hard limit, or the kernel's default.
RL=$(ulimit -Hq)
[ "$RL" = unlimited ] && RL=819200
RUN_LIMITED="prlimit --msgqueue=$RL:$RL"

# Runtime paths inside a directory that nobody owns; the configs are readable by nobody.
NBDIR="$T/nobody"
mkdir -m 0755 "$NBDIR"
chown nobody:nogroup "$NBDIR"

broker_section() { # RUNTIME_DIR
        cat <<EOF
[broker]
socket = $1/ipcbroker.sock
runtime_dir = $1
mq_prefix = $PREFIX
log_level = debug
EOF
}

# check_as WHO CONF: ipcbrokerd -t as nobody or root, bounded; sets $rc, $out, $err
check_as() {
        local who=$1 conf=$2
        if [ "$who" = nobody ]; then
                timeout 10 $RUN_LIMITED $AS_NOBODY "$IPCBROKERD" -t -c "$conf" >"$T/out" 2>"$T/err"
        else
                timeout 10 $RUN_LIMITED "$IPCBROKERD" -t -c "$conf" >"$T/out" 2>"$T/err"
        fi
        rc=$?
        out=$(cat "$T/out")
        err=$(cat "$T/err")
}

# ---- max_messages above fs.mqueue.msg_max ----
big=$((MSG_MAX + 1))
CONF_MSGMAX="$T/msgmax.conf"
{
        broker_section "$NBDIR/run"
        echo                               # line 6
        echo "[channel big]"               # line 7
        echo "type = mqueue"
        echo "max_messages = $big"
        echo "message_size = 64"
        echo
        echo "[channel small]"
        echo "type = mqueue"
        echo "max_messages = 2"
        echo "message_size = 64"
} >"$CONF_MSGMAX"
EXTRA_QUEUES="${PREFIX}big ${PREFIX}small"

ok "the config is readable by nobody" $AS_NOBODY test -r "$CONF_MSGMAX"
ok "the runtime directory's parent is writable by nobody" $AS_NOBODY test -w "$NBDIR"
check_as nobody "$CONF_MSGMAX"
is "$rc" 78 "nobody -t, max_messages = $big: exit 78"
like "$err" "^$CONF_MSGMAX:7: channel 'big': max_messages $big exceeds fs\\.mqueue\\.msg_max \\($MSG_MAX\\)" \
        "the error names FILE:LINE, the channel and fs.mqueue.msg_max"
like "$err" "CAP_SYS_RESOURCE" "the error says which privilege would allow it"
not_ok "the valid channel is not blamed" grep -q "channel 'small'" "$T/err"
is "$out" "" "no summary on stdout"

check_as root "$CONF_MSGMAX"
if [ "$ROOT_HAS_SYS_RESOURCE" = 1 ]; then
        is "$rc" 0 "root with CAP_SYS_RESOURCE: -t accepts max_messages = $big"
        like "$out" "mqueue +big .* $big x 64 bytes" "the summary shows the queue above msg_max"
else
        is "$rc" 78 "root without CAP_SYS_RESOURCE: -t refuses max_messages = $big too (exit 78)"
        like "$err" "$CONF_MSGMAX:7: channel 'big': max_messages $big exceeds fs\\.mqueue\\.msg_max" \
                "root without CAP_SYS_RESOURCE gets the same clear message"
fi

# the real unprivileged daemon refuses to start the same way, creating nothing
timeout 10 $RUN_LIMITED $AS_NOBODY "$IPCBROKERD" -c "$CONF_MSGMAX" >"$T/out" 2>"$T/err"
is "$?" 78 "the nobody daemon (not -t) exits 78 on max_messages = $big"
like "$(cat "$T/err")" "fs\\.mqueue\\.msg_max" "and names fs.mqueue.msg_max"
ok "it created no queue" test "$(mq_exists "${PREFIX}small" && echo yes)" = ""

# what fits is accepted, and an unprivileged daemon really runs it
CONF_OK="$T/ok.conf"
{
        broker_section "$NBDIR/run"
        echo
        echo "[channel small]"
        echo "type = mqueue"
        echo "max_messages = 2"
        echo "message_size = 64"
        echo "on_stop = remove"
} >"$CONF_OK"
check_as nobody "$CONF_OK"
is "$rc" 0 "nobody -t on a config within the limits: exit 0"
$RUN_LIMITED $AS_NOBODY "$IPCBROKERD" -c "$CONF_OK" >"$T/nobody.log" 2>&1 &
nb_pid=$!
ok "the nobody daemon starts and listens" wait_until 10 test -S "$NBDIR/run/ipcbroker.sock"
is "$(mq_attr "${PREFIX}small" 2>&1 | cut -d' ' -f1-4)" "2 64 0 $(id -u nobody)" "its queue exists, owned by nobody"
# Clients trust a daemon run by root or by themselves; one run by a dedicated
# user must be named in IPCBROKER_DAEMON_UID (an impostor check, see
# tests/security-impostor.sh).
NB_SOCK="$NBDIR/run/ipcbroker.sock"
out=$(env -u IPCBROKER_DAEMON_UID "$IPCBROKER" -s "$NB_SOCK" status 2>&1)
is "$?" 69 "root's client does not trust the daemon run by nobody by default (69)"
like "$out" "uid $(id -u nobody).*IPCBROKER_DAEMON_UID" "it names the uid and the way to trust it"
out=$(IPCBROKER_DAEMON_UID=$(id -u nobody) "$IPCBROKER" -s "$NB_SOCK" status 2>&1)
is "$?" 0 "with IPCBROKER_DAEMON_UID=$(id -u nobody), root's client talks to it"
like "$out" "$CONF_OK" "and gets its status"
ok "nobody's own client trusts its own daemon" $AS_NOBODY env -u IPCBROKER_DAEMON_UID "$IPCBROKER" -s "$NB_SOCK" status
kill -TERM "$nb_pid" 2>/dev/null
wait_until 10 eval '! kill -0 $nb_pid 2>/dev/null' || kill -KILL "$nb_pid"
wait "$nb_pid"
is "$?" 0 "the nobody daemon stops cleanly"
ok "its on_stop=remove queue is gone" test "$(mq_exists "${PREFIX}small" && echo yes)" = ""

# ---- message_size above fs.mqueue.msgsize_max ----
CONF_MSGSIZE="$T/msgsize.conf"
{
        broker_section "$NBDIR/run"
        echo
        echo "[channel wide]"              # line 7
        echo "type = mqueue"
        echo "max_messages = 2"
        echo "message_size = $((MSGSIZE_MAX + 1))"
} >"$CONF_MSGSIZE"
EXTRA_QUEUES="$EXTRA_QUEUES ${PREFIX}wide"
check_as nobody "$CONF_MSGSIZE"
is "$rc" 78 "nobody -t, message_size = $((MSGSIZE_MAX + 1)): exit 78"
like "$err" "^$CONF_MSGSIZE:7: channel 'wide': message_size $((MSGSIZE_MAX + 1)) exceeds fs\\.mqueue\\.msgsize_max" \
        "the error names FILE:LINE, the channel and fs.mqueue.msgsize_max"

# ---- FIFO capacity above fs.pipe-max-size ----
CONF_PIPE="$T/pipe.conf"
{
        broker_section "$NBDIR/run"
        echo
        echo "[channel bigpipe]"           # line 7
        echo "type = fifo"
        echo "capacity = $((PIPE_MAX * 2))"
} >"$CONF_PIPE"
check_as nobody "$CONF_PIPE"
is "$rc" 78 "nobody -t, capacity = $((PIPE_MAX * 2)): exit 78"
like "$err" "^$CONF_PIPE:7: channel 'bigpipe': capacity $((PIPE_MAX * 2)) exceeds fs\\.pipe-max-size" \
        "the error names FILE:LINE, the channel and fs.pipe-max-size"

# ---- RLIMIT_MSGQUEUE: queues that fit one by one, but not all together ----
# each queue within msg_max/msgsize_max; enough of them to overflow the limit by one
QM=$(( MSG_MAX < 10 ? MSG_MAX : 10 ))
QS=$(( MSGSIZE_MAX < 8192 ? MSGSIZE_MAX : 8192 ))
PER_QUEUE=$(( QM * 48 + QM * 48 + QM * QS ))   # what the kernel charges on 64-bit
NQ=$(( RL / PER_QUEUE + 1 ))
LAST=$(printf 'q%03d' $((NQ - 1)))
diag "RLIMIT_MSGQUEUE $RL: $NQ queues of $QM x $QS overflow it; the last is $LAST"
CONF_RL="$T/rlimit.conf"
{
        broker_section "$NBDIR/run"
        for i in $(seq 0 $((NQ - 1))); do
                echo
                printf '[channel q%03d]\n' "$i"
                echo "type = mqueue"
                echo "max_messages = $QM"
                echo "message_size = $QS"
                echo "on_stop = remove"
        done
} >"$CONF_RL"
last_line=$(grep -n "^\\[channel $LAST\\]" "$CONF_RL" | cut -d: -f1)
for i in $(seq 0 $((NQ - 1))); do EXTRA_QUEUES="$EXTRA_QUEUES $(printf "${PREFIX}q%03d" "$i")"; done

check_as nobody "$CONF_RL"
is "$rc" 78 "nobody -t, $NQ queues of $QM x $QS: exit 78"
like "$err" "^$CONF_RL:$last_line: channel '$LAST' does not fit in RLIMIT_MSGQUEUE" \
        "the error names FILE:LINE and the channel that does not fit"
is "$(grep -c "does not fit" "$T/err")" 1 "only the overflowing channel is blamed"
like "$err" "RLIMIT_MSGQUEUE in all" "a summary gives the total need"
check_as root "$CONF_RL"
if [ "$ROOT_HAS_SYS_RESOURCE" = 1 ]; then
        is "$rc" 0 "root with CAP_SYS_RESOURCE: -t accepts $NQ queues (it raises its own limit)"
else
        is "$rc" 78 "root without CAP_SYS_RESOURCE: -t refuses $NQ queues too (exit 78)"
        like "$err" "channel '$LAST' does not fit in RLIMIT_MSGQUEUE" "root without CAP_SYS_RESOURCE gets the same message"
fi

# ---- the real root daemon with the default-sized queues ----
CONF_DEF="$T/default.conf"
{
        broker_section "$T/run-default"
        for i in $(seq 0 $((NQ - 1))); do
                echo
                printf '[channel q%03d]\n' "$i"
                echo "type = mqueue"
                echo "on_stop = remove"
        done
} >"$CONF_DEF"
if [ "$MSG_MAX" -ge 10 ] && [ "$MSGSIZE_MAX" -ge 8192 ]; then
        if [ "$ROOT_HAS_SYS_RESOURCE" = 1 ]; then
                # a production root raises its own limit: all queues are created
                cp "$CONF_DEF" "$CONF"
                ok "root with CAP_SYS_RESOURCE starts with $NQ default queues" daemon_start
                ok "every queue exists, the last one too" mq_exists "${PREFIX}$LAST"
                ok "clean stop" daemon_stop
        else
                timeout 10 $RUN_LIMITED "$IPCBROKERD" -c "$CONF_DEF" >"$T/out" 2>"$T/err"
                is "$?" 78 "root without CAP_SYS_RESOURCE, $NQ default queues: the daemon exits 78 at check time"
                like "$(cat "$T/err")" "channel '$LAST' does not fit in RLIMIT_MSGQUEUE" "and names the channel and RLIMIT_MSGQUEUE"
                not_ok "not an obscure EMFILE" grep -Eq "EMFILE|Too many open files" "$T/err"
                ok "no queue was created" test "$(mq_exists "${PREFIX}q000" && echo yes)" = ""
                ok "no runtime directory was created" test ! -e "$T/run-default"
        fi
else
        tap_result 0 "# SKIP default queues exceed this machine's fs.mqueue limits"
fi

# ---- a soft RLIMIT_MSGQUEUE below the hard one ----
# What -t accepts, the daemon must be able to create (or refuse at check time):
# never start with channels that then fail on EMFILE.
# The kernel charges queues to the creating user across all its processes, so
# this daemon runs as a uid of its own (no passwd entry, nothing else runs as
# it): root's budget is shared with whatever else root runs, parallel tests too.
SOFT_UID=$(( 3000000 + $$ % 100000 ))
SOFT=$(( PER_QUEUE * 2 ))
NS=3                             # overflows the soft limit, fits the hard one
SOFT_DIR="$T/soft"
mkdir -m 0755 "$SOFT_DIR"
chown "$SOFT_UID:$SOFT_UID" "$SOFT_DIR"
CONF_SOFT="$T/soft.conf"
{
        broker_section "$SOFT_DIR/run"
        for i in $(seq 0 $((NS - 1))); do
                echo
                printf '[channel s%03d]\n' "$i"
                echo "type = mqueue"
                echo "max_messages = $QM"
                echo "message_size = $QS"
                echo "on_stop = remove"
        done
} >"$CONF_SOFT"
for i in $(seq 0 $((NS - 1))); do EXTRA_QUEUES="$EXTRA_QUEUES $(printf "${PREFIX}s%03d" "$i")"; done
SOFT_LOG="$T/soft.log"
prlimit --msgqueue="$SOFT:$RL" setpriv --reuid="$SOFT_UID" --regid="$SOFT_UID" --clear-groups \
        "$IPCBROKERD" -c "$CONF_SOFT" >"$SOFT_LOG" 2>&1 &
soft_pid=$!
soft_settled() { ! kill -0 "$soft_pid" 2>/dev/null || grep -q "ready:" "$SOFT_LOG"; }
wait_until 10 soft_settled
if kill -0 "$soft_pid" 2>/dev/null; then
        all=yes
        for i in $(seq 0 $((NS - 1))); do
                [ "$(mq_attr "$(printf "${PREFIX}s%03d" "$i")" 2>/dev/null | cut -d' ' -f4)" = "$SOFT_UID" ] || all=no
        done
        is "$all" yes "soft RLIMIT_MSGQUEUE $SOFT < hard $RL: the started daemon created all $NS queues (owned by uid $SOFT_UID)"
        not_ok "no channel failed on EMFILE" grep -q "EMFILE" "$SOFT_LOG"
        kill -TERM "$soft_pid"
        wait_until 10 eval '! kill -0 $soft_pid 2>/dev/null' || kill -KILL "$soft_pid"
        wait "$soft_pid"
else
        wait "$soft_pid"
        is "$?" 78 "soft RLIMIT_MSGQUEUE $SOFT < hard $RL: refused at check time (exit 78)"
        like "$(cat "$SOFT_LOG")" "RLIMIT_MSGQUEUE" "and says RLIMIT_MSGQUEUE"
fi
[ "$TAP_FAILED" != 0 ] && sed 's/^/# soft: /' "$SOFT_LOG" | tail -n 12

done_testing
