#!/bin/bash
# The daemon creates the declared queues and FIFOs exactly as declared, plain
# programs interoperate with them by kernel name, messages survive a kill -9,
# on_stop works both ways, and objects deleted behind the daemon's back come
# back with their messages.
. "$top_srcdir/tests/lib.sh"

test_init

NOBODY_UID=$(id -u nobody)
NOGROUP_GID=$(getent group nogroup | cut -d: -f3)
QX="${PREFIX%.}-explicit"      # an explicit mq_name, unique to this run
FX="$T/somefifo"               # an explicit FIFO path

add_channel q1 type=mqueue owner=nobody group=nogroup mode=0640 max_messages=7 message_size=300 on_stop=keep
add_channel qr type=mqueue max_messages=5 message_size=64 on_stop=remove
add_channel qd type=mqueue
add_channel ex type=mqueue "mq_name = $QX" mode=0666 max_messages=3 message_size=128 on_stop=keep
add_channel f1 type=fifo owner=nobody group=nogroup mode=0640 capacity=131072 on_stop=remove
add_channel fk type=fifo "path = $FX" mode=0620 message_size=128 capacity=16384 on_stop=keep

# quiet helpers that return a status only
mq_exists() { "$MQTOOL" attr "$1" >/dev/null 2>&1; }
mq_gone() { ! mq_exists "$1"; }
# the first six fields of mqtool attr: maxmsg msgsize curmsgs uid gid mode
attr6() { mq_attr "$1" 2>/dev/null | cut -d' ' -f1-6; }
ino() { mq_attr "$1" 2>/dev/null | cut -d' ' -f7; }
# a field of `ipcbroker stat NAME --json`
stat_json() { # NAME FIELD
        "$IPCBROKER" stat "$1" --json 2>/dev/null |
                python3 -c 'import json,sys; v=json.load(sys.stdin)[sys.argv[1]]; print("null" if v is None else v)' "$2"
}
quiet() { "$@" >/dev/null 2>&1; }
log_has() { grep -Eq -- "$1" "$DAEMON_LOG"; }

ok "daemon starts" daemon_start

# ---- queues exactly as declared ----
is "$(attr6 "${PREFIX}q1")" "7 300 0 $NOBODY_UID $NOGROUP_GID 640" "q1: mq_maxmsg, mq_msgsize, owner nobody, group nogroup, mode 0640"
is "$(attr6 "${PREFIX}qr")" "5 64 0 0 0 600" "qr: 5 x 64, root-owned, default mode 0600"
is "$(attr6 "${PREFIX}qd")" "10 8192 0 0 0 600" "qd (type only): sensible defaults 10 x 8192, mode 0600"
is "$(attr6 "$QX")" "3 128 0 0 0 666" "ex: created under its explicit mq_name with mode 0666 (umask not applied)"
not_ok "ex: no queue under the prefixed name" mq_exists "${PREFIX}ex"
is "$(stat_json ex mq_name)" "$QX" "stat ex reports the explicit kernel name"
is "$(stat_json q1 mq_maxmsg) $(stat_json q1 mq_msgsize)" "7 300" "stat q1 reports the kernel attributes"

# ---- FIFOs exactly as declared ----
ok "f1 is a FIFO at runtime_dir/fifo/f1" test -p "$RUNDIR/fifo/f1"
is "$(stat -c '%u:%g %a' "$RUNDIR/fifo/f1" 2>&1)" "$NOBODY_UID:$NOGROUP_GID 640" "f1: owner nobody, group nogroup, mode 0640"
is "$(stat_json f1 capacity)" 131072 "f1: capacity 131072 in effect"
ok "fk is a FIFO at its explicit path" test -p "$FX"
is "$(stat -c '%u:%g %a' "$FX" 2>&1)" "0:0 620" "fk: root-owned, mode 0620"
is "$(stat_json fk capacity)" 16384 "fk: capacity 16384 in effect"
is "$(stat_json fk path)" "$FX" "stat fk reports the explicit path"
not_ok "fk: nothing at the default path" test -e "$RUNDIR/fifo/fk"

# ---- interop: plain mq_open programs and the broker see the same queue ----
ok "a plain program sends to q1 by kernel name" "$MQTOOL" send "${PREFIX}q1" plain-hello 5
is "$("$IPCBROKER" recv q1 --nonblock -v 2>&1)" "$(printf '5\tplain-hello')" "ipcbroker recv gets it, with its priority"
ok "ipcbroker send q1" "$IPCBROKER" send q1 from-broker
is "$("$MQTOOL" recv "${PREFIX}q1" 2>&1)" "from-broker" "a plain program receives it by kernel name"
ok "the declared owner (nobody) sends directly: the kernel object's owner and mode are real" \
        $AS_NOBODY "$MQTOOL" send "${PREFIX}q1" by-nobody
not_ok "another user may not open a 0600 root queue directly" quiet $AS_NOBODY "$MQTOOL" send "${PREFIX}qr" x
ok "a plain program sends to the explicit queue" "$MQTOOL" send "$QX" explicit-hello
is "$("$IPCBROKER" recv ex --nonblock 2>&1)" "explicit-hello" "ipcbroker recv ex reads it"
is "$("$IPCBROKER" recv q1 --nonblock 2>&1)" "by-nobody" "ipcbroker recv q1 reads nobody's message"
# a plain open() writer on the explicit FIFO path never blocks: the daemon holds a reader
ok "a plain writer opens the FIFO without a reader and writes" timeout 5 sh -c "printf plain-fifo > '$FX'"
is "$("$IPCBROKER" recv fk --nonblock 2>&1)" "plain-fifo" "ipcbroker recv fk reads what the plain writer wrote"
ok "ipcbroker send f1" "$IPCBROKER" send f1 fifo-one
is "$("$IPCBROKER" recv f1 --nonblock 2>&1)" "fifo-one" "ipcbroker recv f1 gets the message"

# ---- messages survive kill -9 and restart ----
"$MQTOOL" send "${PREFIX}q1" survivor-1 1
"$MQTOOL" send "${PREFIX}q1" survivor-2 2
ino_before=$(ino "${PREFIX}q1")
daemon_kill
is "$(attr6 "${PREFIX}q1" | cut -d' ' -f3)" 2 "after kill -9 the queue still holds its 2 messages"
# drift while the daemon is down: the FIFO's mode is changed; the restart fixes it
chmod 0666 "$FX"
ok "daemon restarts after kill -9 (stale socket handled)" daemon_start
ok "the killed daemon's stale socket was detected and replaced" log_has "stale control socket $SOCK"
ok "log says q1 was adopted with its 2 messages" log_has "channel 'q1': adopted queue ${PREFIX}q1 with 2 queued messages"
ok "log says fk was adopted" log_has "channel 'fk': adopted FIFO $FX"
is "$(ino "${PREFIX}q1")" "$ino_before" "q1 is the same kernel object (same inode), not a new one"
is "$(stat -c %a "$FX")" 620 "mode drift on an adopted FIFO is fixed (0666 -> 0620)"
is "$("$IPCBROKER" recv q1 -n 2 --nonblock -v 2>&1)" "$(printf '2\tsurvivor-2\n1\tsurvivor-1')" \
        "both messages are received after the restart, in priority order"

# ---- a queue deleted behind the daemon's back comes back with its messages ----
"$MQTOOL" send "${PREFIX}q1" moved-1
"$MQTOOL" send "${PREFIX}q1" moved-2
ino_before=$(ino "${PREFIX}q1")
# the daemon's own descriptor keeps the unlinked queue (and its messages) alive
ok "q1 unlinked by a plain program" "$MQTOOL" unlink "${PREFIX}q1"
ok "q1 is gone from the namespace" mq_gone "${PREFIX}q1"
ok "ipcbroker stat q1 succeeds" quiet "$IPCBROKER" stat q1
ok "stat made the daemon recreate q1" mq_exists "${PREFIX}q1"
is "$(attr6 "${PREFIX}q1")" "7 300 2 $NOBODY_UID $NOGROUP_GID 640" \
        "recreated q1 has its declared attributes, owner, mode and both messages moved over"
ok "recreated q1 is a new object" test "$(ino "${PREFIX}q1")" != "$ino_before"
ok "the log says q1 was deleted behind the daemon's back" log_has "channel 'q1': queue ${PREFIX}q1 was deleted behind the daemon's back"
is "$("$IPCBROKER" recv q1 -n 2 --nonblock 2>&1)" "$(printf 'moved-1\nmoved-2')" "the moved messages are received in order"
is "$(stat_json q1 state)" ready "q1 is ready again"

# an open is also a moment to notice
ok "qr unlinked by a plain program" "$MQTOOL" unlink "${PREFIX}qr"
ok "ipcbroker send qr succeeds although its queue was deleted" "$IPCBROKER" send qr after-delete
is "$(attr6 "${PREFIX}qr")" "5 64 1 0 0 600" "qr recreated by the open, holding the message just sent"
is "$("$MQTOOL" recv "${PREFIX}qr" 2>&1)" "after-delete" "the message went to the new (named) queue"

# and a reload too
"$MQTOOL" send "$QX" through-reload
ok "ex unlinked by a plain program" "$MQTOOL" unlink "$QX"
ok "reload (SIGHUP)" daemon_reload
is "$(attr6 "$QX")" "3 128 1 0 0 666" "reload recreated ex under its explicit name with its message"

# ---- a FIFO deleted behind the daemon's back comes back ----
ok "f1 removed by someone" rm -f "$RUNDIR/fifo/f1"
ok "ipcbroker stat f1 succeeds" quiet "$IPCBROKER" stat f1
ok "stat made the daemon recreate f1" test -p "$RUNDIR/fifo/f1"
is "$(stat -c '%u:%g %a' "$RUNDIR/fifo/f1" 2>&1)" "$NOBODY_UID:$NOGROUP_GID 640" "recreated f1 has its owner, group and mode"
is "$(stat_json f1 capacity)" 131072 "recreated f1 has its capacity"
ok "ipcbroker send fk" "$IPCBROKER" send fk queued-in-fifo
ok "fk removed by someone while holding a message" rm -f "$FX"
is "$("$IPCBROKER" recv fk --nonblock 2>&1)" "queued-in-fifo" "the open recreates fk and its message was moved over"
ok "fk is a FIFO again" test -p "$FX"
ok "f1 removed again" rm -f "$RUNDIR/fifo/f1"
ok "reload (SIGHUP)" daemon_reload
ok "the reload recreated f1" test -p "$RUNDIR/fifo/f1"
ok "the log says the FIFO was deleted behind the daemon's back" \
        log_has "channel 'f1': FIFO $RUNDIR/fifo/f1 was deleted behind the daemon's back"

# ---- on_stop at a clean stop ----
"$MQTOOL" send "${PREFIX}q1" kept-1
"$MQTOOL" send "${PREFIX}qr" dropped-with-queue
daemon_stop
is "$?" 0 "clean stop exits 0"
ok "on_stop=remove: qr is unlinked" mq_gone "${PREFIX}qr"
ok "on_stop=remove: f1 is unlinked" test ! -e "$RUNDIR/fifo/f1"
is "$(attr6 "${PREFIX}q1")" "7 300 1 $NOBODY_UID $NOGROUP_GID 640" "on_stop=keep: q1 stays, with its message"
is "$(attr6 "$QX" | cut -d' ' -f1-3)" "3 128 1" "on_stop=keep: ex stays, with its message"
ok "on_stop=keep: fk stays" test -p "$FX"
ok "the control socket is removed at stop" test ! -e "$SOCK"
ok "the log says f1 was removed" log_has "channel 'f1': removed"

# the kept queue is adopted by the next run, with its message
ok "daemon starts again" daemon_start
ok "log says q1 adopted with 1 message" log_has "adopted queue ${PREFIX}q1 with 1 queued messages"
is "$("$IPCBROKER" recv q1 --nonblock 2>&1)" "kept-1" "the message kept at stop is received"
daemon_stop

done_testing
