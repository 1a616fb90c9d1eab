#!/bin/bash
# Hostile state: names squatted by other users, objects with the wrong
# attributes, symlinks, files and directories planted where a FIFO belongs,
# an unsafe runtime directory, and a queue replaced while the daemon runs.
# Each is refused loudly, never handed out, and never touched.
. "$top_srcdir/tests/lib.sh"

test_init

NOBODY_UID=$(id -u nobody)

mq_exists() { "$MQTOOL" attr "$1" >/dev/null 2>&1; }
attr6() { mq_attr "$1" 2>/dev/null | cut -d' ' -f1-6; }
quiet() { "$@" >/dev/null 2>&1; }
stat_json() { # NAME FIELD
        "$IPCBROKER" stat "$1" --json 2>/dev/null |
                python3 -c 'import json,sys; v=json.load(sys.stdin)[sys.argv[1]]; print("null" if v is None else v)' "$2"
}
log_has() { grep -Eq -- "$1" "$DAEMON_LOG"; }
# the daemon's log lines about one channel
log_of() { grep -F -- "channel '$1'" "$DAEMON_LOG"; }

# ---- hostile state prepared before the daemon starts ----

# a queue squatted by another user under a declared name
ok "nobody squats a declared queue name" $AS_NOBODY "$MQTOOL" create "${PREFIX}squat" 10 64 0666
ok "nobody puts a message in the squatted queue" $AS_NOBODY "$MQTOOL" send "${PREFIX}squat" nobodys-own
add_channel squat type=mqueue max_messages=10 message_size=64 mode=0666 on_stop=remove

# a queue of the right owner (root) but with other attributes than declared
ok "a root queue with other attributes exists" "$MQTOOL" create "${PREFIX}wrongattr" 5 64 0600
"$MQTOOL" send "${PREFIX}wrongattr" pre-existing
add_channel wrongattr type=mqueue max_messages=10 message_size=64 on_stop=remove

# a symlink to a precious file where a FIFO belongs
echo precious >"$T/precious"
ln -s "$T/precious" "$T/fifo-symlink"
add_channel fsym type=fifo "path = $T/fifo-symlink" on_stop=remove
# a dangling symlink: following it would create the target
ln -s "$T/dangling-target" "$T/fifo-dangling"
add_channel fdangle type=fifo "path = $T/fifo-dangling" on_stop=remove
# a regular file and a directory where a FIFO belongs
echo regular-content >"$T/fifo-regular"
add_channel freg type=fifo "path = $T/fifo-regular" on_stop=remove
mkdir "$T/fifo-dir"
add_channel fdir type=fifo "path = $T/fifo-dir" on_stop=remove
# a symlink in the directory part of a FIFO's path
mkdir "$T/realdir"
ln -s "$T/realdir" "$T/linkdir"
add_channel flinkdir type=fifo "path = $T/linkdir/f" on_stop=remove

# a FIFO planted by another user at a declared path
mkfifo -m 0666 "$T/fifo-foreign"
chown nobody:nogroup "$T/fifo-foreign"
add_channel fforeign type=fifo "path = $T/fifo-foreign" on_stop=remove

# the channels that must be served anyway
add_channel good type=mqueue max_messages=4 message_size=64 on_stop=remove
add_channel goodfifo type=fifo "path = $T/goodfifo" on_stop=remove
# channels replaced later, while the daemon runs
add_channel replaced type=mqueue max_messages=4 message_size=64 mode=0600 on_stop=remove
add_channel replaced2 type=mqueue max_messages=4 message_size=64 mode=0600 on_stop=remove
add_channel freplaced type=fifo "path = $T/freplaced" on_stop=remove
add_channel fswapped type=fifo "path = $T/fswapped" on_stop=remove

ok "the daemon starts despite the hostile state" daemon_start

# other channels are served
ok "a good queue is served" "$IPCBROKER" send good hello
is "$("$IPCBROKER" recv good --nonblock 2>&1)" hello "and its message comes back"
ok "a good FIFO is served" "$IPCBROKER" send goodfifo hello-fifo
is "$("$IPCBROKER" recv goodfifo --nonblock 2>&1)" hello-fifo "and its message comes back"
like "$(grep 'STATUS=' "$NOTIFY_LOG" | tail -n1)" "[1-9][0-9]* unavailable" "sd_notify STATUS counts the unavailable channels"

# squatted queue
like "$(log_of squat)" "refus" "log: the squatted channel 'squat' is refused by name"
like "$(log_of squat)" "uid $NOBODY_UID" "log: says who owns the squatted queue"
like "$(stat_json squat state)" '^(refused|failed)$' "stat squat: state refused"
not_ok "ipcbroker send squat fails" quiet "$IPCBROKER" send squat x
"$IPCBROKER" send squat x >/dev/null 2>"$T/err"
is "$?" 1 "ipcbroker send squat exits 1"
like "$(cat "$T/err")" "squat" "the CLI error names the channel"
not_ok "ipcbroker recv squat fails" quiet "$IPCBROKER" recv squat --nonblock
"$IPCBROKER" purge squat >/dev/null 2>"$T/err"
is "$?" 1 "ipcbroker purge squat exits 1"
like "$(cat "$T/err")" "^ipcbroker: channel 'squat': queue ${PREFIX}squat already exists and belongs to uid $NOBODY_UID.*refusing" \
        "purge squat: the channel's problem says why it is refused"
is "$(attr6 "${PREFIX}squat")" "10 64 1 $NOBODY_UID $NOBODY_UID 666" "the squatted queue is untouched (owner, mode, nobody's message)"

# same owner, other attributes
like "$(log_of wrongattr)" "refus" "log: 'wrongattr' with different attributes is refused"
like "$(stat_json wrongattr state)" '^(refused|failed)$' "stat wrongattr: refused"
not_ok "ipcbroker send wrongattr fails" quiet "$IPCBROKER" send wrongattr x
is "$(attr6 "${PREFIX}wrongattr")" "5 64 1 0 0 600" "the mismatching queue is untouched, its message still there"

# planted paths
for spec in fsym:fifo-symlink fdangle:fifo-dangling freg:fifo-regular fdir:fifo-dir flinkdir:linkdir/f fforeign:fifo-foreign; do
        name=${spec%%:*}
        like "$(log_of "$name")" "refus" "log: '$name' ($T/${spec#*:}) is refused"
        like "$(stat_json "$name" state)" '^(refused|failed)$' "stat $name: refused"
        not_ok "ipcbroker send $name fails" quiet "$IPCBROKER" send "$name" x
done
like "$(log_of fsym)" "symlink" "log: says the FIFO path is a symlink"
like "$(log_of freg)" "regular file" "log: says the FIFO path is a regular file"
like "$(log_of fdir)" "directory" "log: says the FIFO path is a directory"
like "$(log_of flinkdir)" "symlink" "log: says a directory in the path is a symlink"
ok "the planted symlink is still a symlink" test -L "$T/fifo-symlink"
is "$(cat "$T/precious")" precious "the symlink's target is untouched"
ok "the symlink's target is still a regular file" test -f "$T/precious" -a ! -p "$T/precious"
ok "the dangling symlink's target was not created" test ! -e "$T/dangling-target"
is "$(cat "$T/fifo-regular")" regular-content "the regular file is untouched"
ok "the directory is still a directory" test -d "$T/fifo-dir" -a ! -L "$T/fifo-dir"
is "$(ls -A "$T/fifo-dir")" "" "nothing created inside the directory"
is "$(ls -A "$T/realdir")" "" "nothing created through the symlinked directory"
like "$(log_of fforeign)" "uid $NOBODY_UID" "log: says who owns the foreign FIFO"
is "$(stat -c '%U:%G %a' "$T/fifo-foreign")" "nobody:nogroup 666" "the foreign FIFO is untouched"

# once the stale object is cleared away, the channel recovers on its next use
ok "the mismatching queue is removed by the admin" "$MQTOOL" unlink "${PREFIX}wrongattr"
ok "ipcbroker send wrongattr now works" "$IPCBROKER" send wrongattr recovered
is "$(attr6 "${PREFIX}wrongattr")" "10 64 1 0 0 600" "wrongattr now has the declared attributes"

# ---- a queue replaced while the daemon runs ----
ok "ipcbroker send replaced works before the swap" "$IPCBROKER" send replaced before
ok "the queue is unlinked behind the daemon's back" "$MQTOOL" unlink "${PREFIX}replaced"
ok "nobody re-creates it" $AS_NOBODY "$MQTOOL" create "${PREFIX}replaced" 4 64 0666
"$IPCBROKER" send replaced hijack >/dev/null 2>"$T/err"
is "$?" 1 "ipcbroker send replaced fails with exit 1"
like "$(cat "$T/err")" "replaced" "the CLI error names the channel"
not_ok "ipcbroker recv replaced fails" quiet "$IPCBROKER" recv replaced --nonblock
ok "log: the queue was replaced" log_has "channel 'replaced': .*replaced"
like "$(stat_json replaced state)" '^(refused|failed)$' "stat replaced: refused"
is "$(attr6 "${PREFIX}replaced")" "4 64 0 $NOBODY_UID $NOBODY_UID 666" "the foreign queue is untouched: nothing sent into it, owner and mode kept"

# the daemon's own queue, unlinked and replaced, still holds what was sent before:
# when the foreign queue goes away, the channel comes back with that message
ok "ipcbroker send replaced2 before the swap" "$IPCBROKER" send replaced2 before-swap
"$MQTOOL" unlink "${PREFIX}replaced2"
quiet $AS_NOBODY "$MQTOOL" create "${PREFIX}replaced2" 4 64 0666
not_ok "replaced2 is refused while the foreign queue is there" quiet "$IPCBROKER" send replaced2 x
ok "the foreign queue goes away" "$MQTOOL" unlink "${PREFIX}replaced2"
is "$("$IPCBROKER" recv replaced2 --nonblock 2>&1)" before-swap "replaced2 recovers with the message sent before the swap"
is "$(attr6 "${PREFIX}replaced2" | cut -d' ' -f4-6)" "0 0 600" "replaced2 is the daemon's again (root, 0600)"

# ---- a FIFO replaced by another object, or by a symlink, while the daemon runs ----
ok "ipcbroker send freplaced works before the swap" "$IPCBROKER" send freplaced before
rm -f "$T/freplaced"
mkfifo -m 0666 "$T/freplaced" && chown nobody "$T/freplaced"
not_ok "ipcbroker send freplaced fails after the swap" quiet "$IPCBROKER" send freplaced x
not_ok "ipcbroker recv freplaced fails after the swap" quiet "$IPCBROKER" recv freplaced --nonblock
like "$(stat_json freplaced state)" '^(refused|failed)$' "stat freplaced: refused"
is "$(stat -c '%U %a' "$T/freplaced")" "nobody 666" "the foreign FIFO is untouched"
echo precious2 >"$T/precious2"
rm -f "$T/fswapped"
ln -s "$T/precious2" "$T/fswapped"
not_ok "ipcbroker send fswapped fails once its FIFO is a symlink" quiet "$IPCBROKER" send fswapped x
like "$(stat_json fswapped state)" '^(refused|failed)$' "stat fswapped: refused"
is "$(cat "$T/precious2")" precious2 "the symlink's target is untouched"

# ---- at stop, on_stop=remove never removes what is not ours ----
ok "clean stop" daemon_stop
ok "the squatted queue still exists after stop" mq_exists "${PREFIX}squat"
ok "wrongattr, the daemon's own since it recovered, is removed (on_stop=remove)" test "$(mq_exists "${PREFIX}wrongattr" && echo yes)" = ""
is "$(attr6 "${PREFIX}replaced")" "4 64 0 $NOBODY_UID $NOBODY_UID 666" "the foreign replacement queue still exists after stop"
not_ok "the log does not claim the foreign queue was removed" log_has "channel 'replaced': removed"
not_ok "the log does not claim the foreign FIFOs were removed" log_has "channel '(freplaced|fswapped)': removed"
ok "the planted symlink still exists after stop" test -L "$T/fifo-symlink"
ok "the regular file still exists after stop" test -f "$T/fifo-regular"
ok "the foreign FIFO still exists after stop" test -p "$T/freplaced"
ok "the planted foreign FIFO still exists after stop" test -p "$T/fifo-foreign"
ok "the swapped-in symlink still exists after stop" test -L "$T/fswapped"
ok "the good queue was removed (on_stop=remove)" test "$(mq_exists "${PREFIX}good" && echo yes)" = ""

# ---- an unsafe runtime directory: the daemon refuses to start ----
# start_refused CONF: runs the daemon on CONF, expects it to exit on its own
start_refused() {
        timeout 5 "$IPCBROKERD" -c "$1" >"$T/out" 2>"$T/err"
        rc=$?
}
# a config with one queue and the given runtime_dir (socket inside it)
write_conf() { # FILE RUNTIME_DIR
        cat >"$1" <<EOF
[broker]
socket = $2/ipcbroker.sock
runtime_dir = $2
mq_prefix = ${PREFIX}rt.
log_level = debug

[channel q]
type = mqueue
max_messages = 2
message_size = 16
on_stop = remove

[channel f]
type = fifo
on_stop = remove
EOF
}
EXTRA_QUEUES="${PREFIX}rt.q"

# the symlink's target holds an (empty) fifo directory: neither used nor removed
mkdir -p "$T/realrun/fifo"
ln -s "$T/realrun" "$T/linkrun"
write_conf "$T/symlink.conf" "$T/linkrun"
start_refused "$T/symlink.conf"
ok "runtime_dir is a symlink: the daemon refuses to start (exit $rc)" test "$rc" != 0 -a "$rc" != 124
like "$(cat "$T/err")" "runtime directory $T/linkrun.*symlink" "the message names the runtime directory and the symlink"
is "$(find "$T/realrun" -mindepth 1 ! -path "$T/realrun/fifo")" "" "nothing created through the symlink"
ok "nothing removed through the symlink (the target's fifo directory is still there)" test -d "$T/realrun/fifo"
ok "the symlink itself is left alone" test -L "$T/linkrun"
ok "no queue created" test "$(mq_exists "${PREFIX}rt.q" && echo yes)" = ""

mkdir -p "$T/rundir/run/fifo"
ln -s "$T/rundir" "$T/linkparent"
write_conf "$T/symlink2.conf" "$T/linkparent/run"
start_refused "$T/symlink2.conf"
ok "a symlink in runtime_dir's parents: refused (exit $rc)" test "$rc" != 0 -a "$rc" != 124
like "$(cat "$T/err")" "symlink" "the message says a symlink is in the way"
is "$(find "$T/rundir" -mindepth 1 ! -path "$T/rundir/run" ! -path "$T/rundir/run/fifo")" "" "nothing created through the symlinked parent"
ok "nothing removed through the symlinked parent (run/fifo still there)" test -d "$T/rundir/run/fifo"

mkdir -m 0777 "$T/open-run"
chmod 0777 "$T/open-run"
write_conf "$T/open.conf" "$T/open-run"
start_refused "$T/open.conf"
ok "runtime_dir writable by others (0777): refused (exit $rc)" test "$rc" != 0 -a "$rc" != 124
like "$(cat "$T/err")" "$T/open-run.*writable by other" "the message names the directory and why"
is "$(stat -c '%F %a' "$T/open-run" 2>&1)" "directory 777" "the refused directory is left alone (not removed, mode kept)"
is "$(find "$T/open-run" -mindepth 1 2>/dev/null)" "" "nothing created in it"
ok "no queue created" test "$(mq_exists "${PREFIX}rt.q" && echo yes)" = ""

mkdir -m 0755 "$T/nobody-run"
chown nobody "$T/nobody-run"
write_conf "$T/owned.conf" "$T/nobody-run"
start_refused "$T/owned.conf"
ok "runtime_dir owned by another user: refused (exit $rc)" test "$rc" != 0 -a "$rc" != 124
like "$(cat "$T/err")" "$T/nobody-run.*another user" "the message names the directory and why"
ok "the refused directory is left alone (not removed)" test -d "$T/nobody-run"

# the FIFO directory inside a good runtime_dir, planted as a symlink
mkdir -m 0755 "$T/run2" "$T/elsewhere"
ln -s "$T/elsewhere" "$T/run2/fifo"
write_conf "$T/fifodir.conf" "$T/run2"
start_refused "$T/fifodir.conf"
ok "runtime_dir/fifo is a symlink: refused (exit $rc)" test "$rc" != 0 -a "$rc" != 124
like "$(cat "$T/err")" "$T/run2/fifo.*symlink" "the message names the FIFO directory"
is "$(ls -A "$T/elsewhere")" "" "nothing created through it"

done_testing
