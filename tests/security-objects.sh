#!/bin/bash
# Kernel objects the daemon must not adopt or share: one FIFO reached through
# two declared paths (a bind mount), a FIFO with a second hard link, a special
# file at a FIFO's path, a FIFO path under a directory others control; and a
# pipe buffer resized by a send-only holder.
. "$top_srcdir/tests/lib.sh"
test_init
command -v python3 >/dev/null || skip_all "python3 is needed for JSON parsing"
PIPESZ="$top_builddir/tests/helpers/pipesz"

stat_json() { # NAME FIELD
        "$IPCBROKER" stat "$1" --json 2>/dev/null |
                python3 -c 'import json,sys; v=json.load(sys.stdin)[sys.argv[1]]; print("null" if v is None else v)' "$2"
}
log_of() { grep -F -- "channel '$1'" "$DAEMON_LOG"; }
quiet() { "$@" >/dev/null 2>&1; }

BIND=
READER_PID=
cleanup() {
        local rc=$?
        [ -n "$READER_PID" ] && kill "$READER_PID" 2>/dev/null
        [ -n "$BIND" ] && umount "$BIND" 2>/dev/null
        (exit $rc)
        test_cleanup
}
trap cleanup EXIT

# ---- item 7: one FIFO, two paths (a bind mount) --------------------------------
mkdir "$T/d1" "$T/d2"
if mount --bind "$T/d1" "$T/d2" 2>/dev/null; then
        BIND="$T/d2"
        add_channel bind-a type=fifo "path = $T/d1/f" mode=0600 on_stop=remove
        add_channel bind-b type=fifo "path = $T/d2/f" mode=0666 on_stop=remove
        add_channel bind-x type=fifo "path = $T/d1/x" mode=0600 on_stop=remove
else
        diag "mount --bind is not available: the bind-mount cases are skipped"
fi

# ---- item 8: a FIFO with a second hard link (root links a root FIFO) -----------
mkfifo -m 0600 "$T/victim"
ln "$T/victim" "$T/hardlinked"
add_channel hlink type=fifo "path = $T/hardlinked" mode=0666 on_stop=remove
# the same planted by nobody in a sticky directory, with fs.protected_hardlinks=0
# (set only for the ln, and restored)
mkdir -m 1777 "$T/pub"
mkfifo -m 0600 "$T/victim2"
PH=$(sysctl -n fs.protected_hardlinks 2>/dev/null)
if [ -n "$PH" ] && sysctl -qw fs.protected_hardlinks=0 2>/dev/null; then
        $AS_NOBODY ln "$T/victim2" "$T/pub/planted" 2>/dev/null
        sysctl -qw fs.protected_hardlinks="$PH"
        is "$(sysctl -n fs.protected_hardlinks)" "$PH" "fs.protected_hardlinks is restored"
        ok "nobody hard-linked root's FIFO into a sticky directory" test "$(stat -c %h "$T/victim2")" = 2
        add_channel planted type=fifo "path = $T/pub/planted" mode=0666 on_stop=remove
else
        diag "cannot set fs.protected_hardlinks: nobody's hard link case is skipped"
fi
# a reader blocked in open(2) on the victim wakes up if anyone opens it for writing
( exec 3<"$T/victim"; echo opened >"$T/reader.out" ) &
READER_PID=$!
reader_blocked() { [ "$(cat /proc/$READER_PID/wchan 2>/dev/null)" = wait_for_partner ]; }
ok "a reader is blocked opening the victim FIFO" wait_until 5 reader_blocked

# ---- item 8: a device node (/dev/null's numbers) where a FIFO belongs ----------
mknod -m 0666 "$T/devnode" c 1 3
add_channel devnode type=fifo "path = $T/devnode" on_stop=remove

# ---- item 8: directories higher up the path that others control ---------------
NOBODY_UID=$(id -u nobody)
mkdir -p "$T/nobodys/sub"
chown nobody "$T/nobodys"
add_channel up-nobody type=fifo "path = $T/nobodys/sub/f" on_stop=remove
mkdir -p "$T/groupw/sub"
chmod 0775 "$T/groupw"
add_channel up-groupw type=fifo "path = $T/groupw/sub/f" on_stop=remove
mkdir -p "$T/sticky/sub"
chmod 1777 "$T/sticky"
add_channel up-sticky type=fifo "path = $T/sticky/sub/f" on_stop=remove

# ---- item 9: the pipe buffer of a channel any user may send to -----------------
add_channel cap type=fifo mode=0622 capacity=16384 on_stop=remove

ok "the daemon starts" daemon_start

# ---- bind mount --------------------------------------------------------------
if [ -n "$BIND" ]; then
        is "$(stat_json bind-a state)" ready "bind-a, the first to take the FIFO, is ready"
        like "$(stat_json bind-b state)" '^refused$' "bind-b, the same FIFO through the bind mount, is refused"
        like "$(stat_json bind-b problem)" "same kernel object.*channel 'bind-a'" "its problem names the other channel"
        like "$(log_of bind-b)" "same kernel object.*bind-a" "the log says so loudly"
        is "$(stat -c %a "$T/d1/f")" 600 "the shared FIFO keeps bind-a's mode 0600 (not bind-b's 0666)"
        not_ok "nobody cannot open bind-b through the broker" quiet $AS_NOBODY "$IPCBROKER" send bind-b x
        ok "root cannot either: the refused channel is never handed out" \
                sh -c '! "$1" send bind-b x >/dev/null 2>&1' sh "$IPCBROKER"
        ok "bind-a works" "$IPCBROKER" send bind-a hello-a
        is "$("$IPCBROKER" recv bind-a --nonblock 2>&1)" hello-a "and its message comes back"
fi

# ---- hard link ---------------------------------------------------------------
like "$(stat_json hlink state)" '^refused$' "a FIFO with two hard links is refused"
like "$(stat_json hlink problem)" "2 hard links" "the problem says why"
is "$(stat -c '%a %U' "$T/victim")" "600 root" "the victim FIFO keeps its mode (not chmod'ed to 0666)"
not_ok "the refused FIFO is not handed out" quiet "$IPCBROKER" send hlink x
if grep -q '^\[channel planted\]' "$CONF"; then
        like "$(stat_json planted state)" '^refused$' "nobody's hard link to a root FIFO is refused"
        like "$(stat_json planted problem)" "hard links" "the problem says why"
        is "$(stat -c '%a %U' "$T/victim2")" "600 root" "root's FIFO keeps its mode and owner"
fi
# the daemon checked it through an O_PATH descriptor and never opened it
not_ok "the blocked reader never saw a writer: the daemon did not open the FIFO" \
        wait_until 1 test -e "$T/reader.out"
ok "the reader is still blocked" reader_blocked
kill "$READER_PID" 2>/dev/null
wait "$READER_PID" 2>/dev/null
READER_PID=

# ---- device node -------------------------------------------------------------
like "$(stat_json devnode state)" '^refused$' "a device node at a FIFO path is refused"
like "$(stat_json devnode problem)" "special file, not a FIFO" "the problem says what it is"
is "$(stat -c '%F %a %t:%T' "$T/devnode")" "character special file 666 1:3" "the device node is untouched"

# ---- directories on the way --------------------------------------------------
like "$(stat_json up-nobody state)" '^refused$' "a FIFO under a directory owned by nobody (two levels up) is refused"
like "$(stat_json up-nobody problem)" "directory $T/nobodys on the path.*owned by another user" \
        "the problem names the directory and why"
ok "nothing was created below it" test ! -e "$T/nobodys/sub/f"
like "$(stat_json up-groupw state)" '^refused$' "a FIFO under a group-writable, non-sticky directory is refused"
like "$(stat_json up-groupw problem)" "directory $T/groupw on the path.*writable by other users" \
        "the problem names the directory and why"
ok "nothing was created below it" test ! -e "$T/groupw/sub/f"
is "$(stat_json up-sticky state)" ready "a sticky world-writable directory on the way (like /tmp) is allowed"
ok "the sticky case works" "$IPCBROKER" send up-sticky hi

# ---- pipe buffer resized by a send-only holder --------------------------------
is "$(stat_json cap capacity)" 16384 "cap starts with its declared capacity"
is "$($AS_NOBODY "$PIPESZ" cap 4096 2>&1)" 4096 "nobody shrinks the pipe through a send-only handle"
is "$($AS_NOBODY "$PIPESZ" cap 2>&1)" 16384 "the next open through the broker restores the declared capacity"
is "$(stat_json cap capacity)" 16384 "stat reports it"
list_max_messages() { # NAME: list's max_messages, which for a FIFO is capacity / page size
        "$IPCBROKER" list --json 2>/dev/null |
                python3 -c 'import json,sys; print([c["max_messages"] for c in json.load(sys.stdin) if c["name"] == sys.argv[1]][0])' "$1"
}
is "$(list_max_messages cap)" $((16384 / $(getconf PAGESIZE))) "list reports the slots of the declared capacity"
is "$($AS_NOBODY "$PIPESZ" cap 262144 2>&1)" 262144 "nobody grows the pipe at the daemon's expense"
is "$(stat_json cap capacity)" 16384 "the daemon's check (stat) restores it too"
like "$(log_of cap)" "capacity was 4096 bytes, not the declared 16384; set it back" "the log says the capacity was set back"
is "$(log_of cap | grep -c 'capacity was 262144')" 0 "a second restore within a minute is counted, not logged (a holder cannot flood the log)"
# the pipe grown and filled beyond the declared capacity: it cannot shrink now
is "$($AS_NOBODY "$PIPESZ" cap 65536 16 2>&1)" 65536 "nobody grows the pipe and fills it with 16 packets"
for i in 1 2 3; do quiet "$IPCBROKER" stat cap; quiet $AS_NOBODY "$PIPESZ" cap; done
is "$(log_of cap | grep -c 'capacity stays at')" 1 "the capacity that cannot shrink while full is logged once, not per open"
ok "the channel keeps working meanwhile" quiet "$IPCBROKER" recv cap --nonblock
ok "purge empties it" quiet "$IPCBROKER" purge cap
is "$($AS_NOBODY "$PIPESZ" cap 2>&1)" 16384 "once empty, the next open restores the declared capacity"

# ---- reload applies the same rules -------------------------------------------
if [ -n "$BIND" ]; then
        add_channel bind-y type=fifo "path = $T/d2/x" mode=0666 on_stop=remove
        ok "reload with bind-y, bind-x's FIFO through the bind mount" daemon_reload
        like "$(stat_json bind-y state)" '^refused$' "bind-y is refused at reload"
        like "$(stat_json bind-y problem)" "channel 'bind-x'" "its problem names bind-x"
        is "$(stat -c %a "$T/d1/x")" 600 "bind-x's FIFO keeps its mode"
        is "$(stat_json bind-x state)" ready "bind-x is still served"
fi

ok "clean stop" daemon_stop
ok "the victim FIFO is still there" test -p "$T/victim"
ok "the device node is still there" test -c "$T/devnode"
done_testing
