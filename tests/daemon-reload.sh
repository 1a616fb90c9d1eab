#!/bin/bash
# Reload (SIGHUP and `ipcbroker reload`): new channels appear, changed
# permissions reach the kernel objects, removed channels are withdrawn, queue
# sizes change only when no message is lost, and an invalid configuration
# leaves the running one in force. No reload loses a message.
. "$top_srcdir/tests/lib.sh"

test_init

NOBODY_UID=$(id -u nobody)
NOGROUP_GID=$(getent group nogroup | cut -d: -f3)

mq_exists() { "$MQTOOL" attr "$1" >/dev/null 2>&1; }
attr6() { mq_attr "$1" 2>/dev/null | cut -d' ' -f1-6; }
ino() { mq_attr "$1" 2>/dev/null | cut -d' ' -f7; }
quiet() { "$@" >/dev/null 2>&1; }
log_has() { grep -Eq -- "$1" "$DAEMON_LOG"; }
count_log() { count_lines "$DAEMON_LOG" "$1"; }
# the pid the daemon reports over its socket
served_pid() {
        "$IPCBROKER" status --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])'
}
stat_json() { # NAME FIELD
        "$IPCBROKER" stat "$1" --json 2>/dev/null |
                python3 -c 'import json,sys; v=json.load(sys.stdin)[sys.argv[1]]; print("null" if v is None else v)' "$2"
}

# Every queue this test may create (channels leave $CONF on reload; cleanup must still find them).
for n in perm gone_empty gone_full gone_kept resize_empty resize_full newq never stays newsquat; do
        EXTRA_QUEUES="${EXTRA_QUEUES:-} $PREFIX$n"
done

cp "$CONF" "$T/broker.part"
QOLD="${PREFIX%.}-renamed"     # explicit queue name shared by a channel renamed on reload
EXTRA_QUEUES="$EXTRA_QUEUES $QOLD"
# what a plain reader finds in a FIFO: open O_RDONLY|O_NONBLOCK and read once
fifo_peek() {
        python3 -c 'import os,sys
fd=os.open(sys.argv[1], os.O_RDONLY|os.O_NONBLOCK)
try: sys.stdout.write(os.read(fd, 65536).decode())
except BlockingIOError: pass' "$1" 2>&1
}

# write_conf: the [broker] section followed by the channel sections on stdin
write_conf() {
        { cat "$T/broker.part"; cat; } >"$CONF.new" && mv "$CONF.new" "$CONF"
}

write_conf <<EOF

[channel perm]
type = mqueue
mode = 0600
max_messages = 5
message_size = 64

[channel permfifo]
type = fifo
mode = 0600

[channel gone_empty]
type = mqueue
max_messages = 2
message_size = 32
on_stop = remove

[channel gone_full]
type = mqueue
max_messages = 3
message_size = 32
on_stop = remove

[channel gone_kept]
type = mqueue
max_messages = 2
message_size = 32
on_stop = keep

[channel gonefifo]
type = fifo
on_stop = remove

[channel gonefifo_full]
type = fifo
on_stop = remove

[channel oldname]
type = mqueue
mq_name = $QOLD
max_messages = 2
message_size = 32

[channel resize_empty]
type = mqueue
max_messages = 4
message_size = 64

[channel resize_full]
type = mqueue
max_messages = 4
message_size = 64

[channel stays]
type = mqueue
max_messages = 2
message_size = 32
on_stop = remove
EOF

ok "daemon starts" daemon_start
pid=$DAEMON_PID

"$MQTOOL" send "${PREFIX}perm" perm-1
"$MQTOOL" send "${PREFIX}perm" perm-2
"$MQTOOL" send "${PREFIX}gone_full" full-1
"$MQTOOL" send "${PREFIX}gone_full" full-2
"$MQTOOL" send "${PREFIX}resize_full" rf-1 3
"$MQTOOL" send "${PREFIX}resize_full" rf-2 1
"$MQTOOL" send "${PREFIX}resize_full" rf-3 2
"$MQTOOL" send "$QOLD" renamed-msg
ok "a message waits in permfifo" "$IPCBROKER" send permfifo fifo-across-reload
ok "a message waits in gonefifo_full" "$IPCBROKER" send gonefifo_full fifo-withdrawn
# a name squatted by another user, declared only at the reload
ok "nobody squats a name declared later" quiet $AS_NOBODY "$MQTOOL" create "${PREFIX}newsquat" 2 16 0666
is "$(attr6 "${PREFIX}perm")" "5 64 2 0 0 600" "before: perm is 0600 root:root holding 2 messages"
is "$(attr6 "${PREFIX}resize_empty")" "4 64 0 0 0 600" "before: resize_empty is 4 x 64"
perm_ino=$(ino "${PREFIX}perm")
resize_empty_ino=$(ino "${PREFIX}resize_empty")
resize_full_ino=$(ino "${PREFIX}resize_full")
stays_ino=$(ino "${PREFIX}stays")
ok "before: gonefifo exists" test -p "$RUNDIR/fifo/gonefifo"

# ---- a valid reload ----
write_conf <<EOF

[channel perm]
type = mqueue
owner = nobody
group = nogroup
mode = 0640
max_messages = 5
message_size = 64

[channel permfifo]
type = fifo
owner = nobody
group = nogroup
mode = 0660
capacity = 16384

[channel newname]
type = mqueue
mq_name = $QOLD
max_messages = 2
message_size = 32

[channel newsquat]
type = mqueue
max_messages = 2
message_size = 16

[channel resize_empty]
type = mqueue
max_messages = 6
message_size = 64

[channel resize_full]
type = mqueue
max_messages = 6
message_size = 64

[channel stays]
type = mqueue
max_messages = 2
message_size = 32
on_stop = remove

[channel newq]
type = mqueue
max_messages = 3
message_size = 100
mode = 0604

[channel newfifo]
type = fifo
mode = 0620
capacity = 8192
EOF
ok "reload via SIGHUP" daemon_reload
is "$(served_pid)" "$pid" "the same daemon process answers"
ok "the daemon is still alive" kill -0 "$DAEMON_PID"
like "$(grep 'reloaded:' "$DAEMON_LOG" | tail -n1)" "reloaded: 9 channels \\(4 new" "log summarizes the reload"

# new channels
is "$(attr6 "${PREFIX}newq")" "3 100 0 0 0 604" "new queue newq exists with its attributes and mode"
ok "new FIFO newfifo exists" test -p "$RUNDIR/fifo/newfifo"
is "$(stat -c %a "$RUNDIR/fifo/newfifo" 2>&1)" 620 "newfifo has mode 0620"
is "$(stat_json newfifo capacity)" 8192 "newfifo has capacity 8192"
ok "ipcbroker send newq works" "$IPCBROKER" send newq hello-new
is "$("$MQTOOL" recv "${PREFIX}newq" 2>&1)" hello-new "the new queue carries messages"

# changed owner, group and mode, applied to the same kernel object, messages kept
is "$(attr6 "${PREFIX}perm")" "5 64 2 $NOBODY_UID $NOGROUP_GID 640" "perm: owner nobody, group nogroup, mode 0640 applied; 2 messages kept"
is "$(ino "${PREFIX}perm")" "$perm_ino" "perm: the same kernel object (not recreated)"
is "$(stat -c '%u:%g %a' "$RUNDIR/fifo/permfifo" 2>&1)" "$NOBODY_UID:$NOGROUP_GID 660" "permfifo: owner, group and mode applied"
is "$(stat_json perm mode)" 0640 "stat perm reports the new mode"
is "$(stat_json permfifo capacity)" 16384 "permfifo: the new capacity is applied"
is "$("$IPCBROKER" recv permfifo --nonblock 2>&1)" fifo-across-reload "permfifo: the queued message survived the reload"
ok "nobody may now receive from perm directly (kernel permissions changed)" quiet $AS_NOBODY "$MQTOOL" recv "${PREFIX}perm"
is "$("$IPCBROKER" recv perm --nonblock 2>&1)" perm-2 "the other queued message is still there"

# removed channels
ok "gone_empty (on_stop=remove, empty) is removed" test "$(mq_exists "${PREFIX}gone_empty" && echo yes)" = ""
ok "gonefifo (on_stop=remove) is removed" test ! -e "$RUNDIR/fifo/gonefifo"
is "$(attr6 "${PREFIX}gone_full" | cut -d' ' -f1-3)" "3 32 2" "gone_full (on_stop=remove, 2 messages) is kept with its messages"
ok "a warning says gone_full still holds messages" log_has "warning: channel 'gone_full' .*still holds messages"
is "$("$MQTOOL" recv "${PREFIX}gone_full" 2>&1)" full-1 "gone_full's first message is intact"
ok "gone_kept (on_stop=keep) stays" mq_exists "${PREFIX}gone_kept"
ok "gonefifo_full (on_stop=remove, holding a message) is kept" test -p "$RUNDIR/fifo/gonefifo_full"
is "$(fifo_peek "$RUNDIR/fifo/gonefifo_full")" fifo-withdrawn "the message in the withdrawn FIFO is not lost"

# a channel renamed with the same explicit queue: the object and its message move over
is "$(attr6 "$QOLD" | cut -d' ' -f1-3)" "2 32 1" "the renamed channel's queue still holds its message"
is "$("$IPCBROKER" recv newname --nonblock 2>&1)" renamed-msg "the new name serves the old queue's message"
not_ok "the old name is gone" quiet "$IPCBROKER" stat oldname

# a new channel whose name is squatted is refused; the daemon goes on
like "$(stat_json newsquat state)" '^(refused|failed)$' "newsquat (squatted before the reload) is refused"
ok "the log names the refused new channel" log_has "channel 'newsquat': .*refusing"
is "$(attr6 "${PREFIX}newsquat")" "2 16 0 $NOBODY_UID $NOBODY_UID 666" "the squatter's queue is untouched"
"$IPCBROKER" send gone_full x >/dev/null 2>"$T/err"
is "$?" 1 "a withdrawn channel is no longer served (exit 1)"
like "$(cat "$T/err")" "gone_full" "the error names the channel"

# changed size
is "$(attr6 "${PREFIX}resize_empty")" "6 64 0 0 0 600" "resize_empty (empty): recreated as 6 x 64"
ok "resize_empty is a new kernel object" test "$(ino "${PREFIX}resize_empty")" != "$resize_empty_ino"
is "$(attr6 "${PREFIX}resize_full")" "4 64 3 0 0 600" "resize_full (3 messages): keeps 4 x 64 and all 3 messages"
is "$(ino "${PREFIX}resize_full")" "$resize_full_ino" "resize_full is the same kernel object"
ok "a warning says resize_full keeps its size" log_has "warning: channel 'resize_full'.*holds 3 messages"
is "$("$IPCBROKER" recv resize_full -n 3 --nonblock -v 2>&1)" "$(printf '3\trf-1\n2\trf-3\n1\trf-2')" \
        "all 3 messages of resize_full come out, in priority order"
is "$(ino "${PREFIX}stays")" "$stays_ino" "stays is untouched (same kernel object)"

# once empty, a later reload applies the new size
ok "reload again (resize_full is empty now)" daemon_reload
is "$(attr6 "${PREFIX}resize_full")" "6 64 0 0 0 600" "resize_full is recreated as 6 x 64 once empty"

# ---- an invalid configuration on reload ----
cp "$CONF" "$T/good.conf"
{
        cat "$T/good.conf"
        echo
        echo "[channel never]"
        echo "type = mqueue"
        echo "max_messages = 10abc"
} >"$CONF"
bad_line=$(grep -n '^max_messages = 10abc' "$CONF" | cut -d: -f1)
# and a change that must not be applied either
sed -i 's/^mode = 0604$/mode = 0666/' "$CONF"
errors_before=$(count_log "reload failed")
ok "SIGHUP with an invalid config: the daemon answers (READY again)" daemon_reload
is "$(count_log "reload failed")" "$((errors_before + 1))" "the log says the reload failed"
ok "the log names FILE:LINE of the error" log_has "$CONF:$bad_line: max_messages: '10abc' is not a number"
is "$(served_pid)" "$pid" "the same daemon process answers"
ok "the daemon is still alive" kill -0 "$DAEMON_PID"
ok "nothing of the invalid config is applied: no queue 'never'" test "$(mq_exists "${PREFIX}never" && echo yes)" = ""
is "$(attr6 "${PREFIX}newq" | cut -d' ' -f6)" 604 "nothing of the invalid config is applied: newq keeps mode 0604"
ok "channels still work: send" "$IPCBROKER" send newq still-works
is "$("$IPCBROKER" recv newq --nonblock 2>&1)" still-works "channels still work: recv"
ok "the FIFO channels still work" "$IPCBROKER" send newfifo fifo-still-works
is "$("$IPCBROKER" recv newfifo --nonblock 2>&1)" fifo-still-works "the FIFO message comes back"

# a configuration file that vanished
mv "$CONF" "$T/moved.conf"
errors_before=$(count_log "reload failed")
ok "SIGHUP with the config file missing: the daemon answers" daemon_reload
is "$(count_log "reload failed")" "$((errors_before + 1))" "the log says the reload failed"
ok "the log names the missing file" log_has "$CONF.*(No such file|cannot open)"
ok "the daemon is still alive" kill -0 "$DAEMON_PID"
ok "channels still work" "$IPCBROKER" send newq after-missing
is "$("$MQTOOL" recv "${PREFIX}newq" 2>&1)" after-missing "and carry messages"
mv "$T/moved.conf" "$CONF"

# ---- the CLI verb ----
out=$("$IPCBROKER" reload 2>&1)
rc=$?
is "$rc" 1 "ipcbroker reload with an invalid config exits 1"
like "$out" "$CONF:$bad_line: max_messages: '10abc' is not a number" "ipcbroker reload prints the error with FILE:LINE"
ok "the daemon is still alive" kill -0 "$DAEMON_PID"

cp "$T/good.conf" "$CONF"
add_channel cliq type=mqueue max_messages=2 message_size=16 on_stop=remove
# the withdrawn channel that kept its message comes back
add_channel gone_full type=mqueue max_messages=3 message_size=32 on_stop=remove
EXTRA_QUEUES="$EXTRA_QUEUES ${PREFIX}cliq"
out=$("$IPCBROKER" reload 2>&1)
rc=$?
is "$rc" 0 "ipcbroker reload exits 0"
like "$out" "^reloaded: 11 channels \\(2 new" "ipcbroker reload prints the daemon's answer"
is "$(attr6 "${PREFIX}cliq" | cut -d' ' -f1-3)" "2 16 0" "the channel added before 'ipcbroker reload' exists"
ok "the log says who asked for the reload" log_has "reload requested by uid 0"
ok "the squatter's queue goes away" "$MQTOOL" unlink "${PREFIX}newsquat"
ok "the re-declared gone_full adopts its kept queue" log_has "channel 'gone_full': adopted queue ${PREFIX}gone_full with 1 queued messages"
is "$("$IPCBROKER" recv gone_full --nonblock 2>&1)" full-2 "the message kept since the withdrawal is served again"
ok "reload (SIGHUP) once the squatter is gone" daemon_reload
is "$(stat_json newsquat state)" ready "newsquat is ready"
is "$(attr6 "${PREFIX}newsquat")" "2 16 0 0 0 600" "newsquat is now the daemon's queue"
out=$($AS_NOBODY "$IPCBROKER" reload 2>&1)
rc=$?
is "$rc" 1 "ipcbroker reload by a non-admin fails with exit 1"
like "$out" "[Pp]ermission|denied|admin" "and says it is not allowed"

# ---- a FIFO's framing changes only while it is empty ----------------------------------
add_channel fr type=fifo message_size=64 framing=packet on_stop=remove
ok "reload with a new FIFO channel" daemon_reload
ok "a message waits in it" "$IPCBROKER" send fr keep-me
sed -i 's/^framing=packet$/framing=batch/' "$CONF"
ok "reload with framing = batch while the FIFO holds a message" daemon_reload
ok "the log says the framing stays until the FIFO is empty" log_has "channel 'fr': FIFO holds [0-9]+ bytes; keeping packet framing"
is "$(stat_json fr framing)" packet "stat: the framing handed out is still packet"
is "$("$IPCBROKER" recv fr --nonblock 2>&1)" keep-me "the queued message is read whole with the framing it was sent in"
ok "reload again, now that it is empty" daemon_reload
is "$(stat_json fr framing)" batch "stat: the framing is batch now"
ok "send with batch framing" "$IPCBROKER" send fr after-switch
is "$("$IPCBROKER" recv fr --nonblock 2>&1)" after-switch "and receive"

# ---- and its message size shrinks only while it is empty ------------------------------
add_channel fs type=fifo message_size=64 on_stop=remove
ok "reload with another FIFO channel" daemon_reload
long_msg=$(printf 'L%.0s' $(seq 40))
ok "a 40-byte message waits in it" "$IPCBROKER" send fs "$long_msg"
sed -i '/^\[channel fs\]$/,$ s/^message_size=64$/message_size=16/' "$CONF"
ok "reload with message_size = 16 while the FIFO holds it" daemon_reload
ok "the log says the size stays until the FIFO is empty" log_has "channel 'fs': FIFO holds [0-9]+ bytes; keeping messages of up to 64 bytes instead of 16"
is "$(stat_json fs message_size)" 64 "stat: the message size handed out is still 64"
is "$("$IPCBROKER" recv fs --nonblock 2>&1)" "$long_msg" "the queued 40-byte message is received whole"
ok "reload again, now that it is empty" daemon_reload
is "$(stat_json fs message_size)" 16 "stat: the message size is 16 now"
not_ok "a 40-byte message is refused now" quiet "$IPCBROKER" send fs "$long_msg"

ok "clean stop" daemon_stop

done_testing
