#!/bin/bash
# Configuration files others can write: a main file, include directory or
# drop-in writable by group or others, or owned by a user other than root or
# the daemon's, is refused (exit 78 for -t and at start; the running
# configuration stays at reload). The attack: nobody adds a drop-in to a
# writable include directory, makes itself an admin and has the daemon chown
# a root FIFO to it.
. "$top_srcdir/tests/lib.sh"
test_init
NOBODY_UID=$(id -u nobody)
quiet() { "$@" >/dev/null 2>&1; }

check_conf() { # FILE: run -t, leave the exit status in $RC and stderr in $T/err
        "$IPCBROKERD" -t -c "$1" >/dev/null 2>"$T/err"
        RC=$?
}

add_channel good type=mqueue max_messages=4 message_size=64 on_stop=remove
check_conf "$CONF"
is "$RC" 0 "a root-owned 0644 configuration passes -t"

# ---- the main file ----------------------------------------------------------
chmod 0664 "$CONF"
check_conf "$CONF"
is "$RC" 78 "a group-writable configuration file: -t exits 78"
like "$(cat "$T/err")" "^$CONF: is writable by group or others" "the error names the file and why"
chmod 0646 "$CONF"
check_conf "$CONF"
is "$RC" 78 "a world-writable configuration file: -t exits 78"
timeout "$DAEMON_WAIT" "$IPCBROKERD" -c "$CONF" >"$T/start.out" 2>&1
is "$?" 78 "the daemon does not start on it either (exit 78)"
like "$(cat "$T/start.out")" "$CONF: is writable by group or others" "and says why"
chmod 0644 "$CONF"
chown nobody "$CONF"
check_conf "$CONF"
is "$RC" 78 "a configuration file owned by nobody: -t exits 78"
like "$(cat "$T/err")" "$CONF: is owned by uid $NOBODY_UID, not root or the daemon's user" "the error names the owner"
ln -s "$CONF" "$T/link.conf"
check_conf "$T/link.conf"
is "$RC" 78 "a symlink to it is refused just the same (checked on the opened file)"
# a daemon running as nobody may read its own user's file
cp "$CONF" "$T/nobodys.conf"
chown nobody "$T/nobodys.conf"
$AS_NOBODY "$IPCBROKERD" -t -c "$T/nobodys.conf" >/dev/null 2>"$T/err"
is "$?" 0 "a daemon running as nobody reads a file owned by nobody (the daemon's user)"
chown root "$CONF"

# ---- the attack: nobody's drop-in in a writable include directory ----------------
mkfifo -m 0600 "$T/rootfifo"
mkdir -m 0777 "$T/conf.d"
sed -i "/^admins = root$/a include = $T/conf.d" "$CONF"
$AS_NOBODY sh -c "cat >'$T/conf.d/evil.conf'" <<EOF
[broker]
admins = nobody
[channel evil]
type = fifo
owner = nobody
mode = 0666
path = $T/rootfifo
EOF
check_conf "$CONF"
is "$RC" 78 "an include directory writable by others: -t exits 78"
like "$(cat "$T/err")" "^$T/conf.d: is writable by group or others" "the error names the directory"
timeout "$DAEMON_WAIT" "$IPCBROKERD" -c "$CONF" >"$T/start.out" 2>&1
is "$?" 78 "the daemon does not start on it (exit 78)"
is "$(stat -c '%U %a' "$T/rootfifo")" "root 600" "the root FIFO was not chown'ed to nobody"
chmod 1777 "$T/conf.d"
check_conf "$CONF"
is "$RC" 78 "sticky does not help (anyone may still add a drop-in): exit 78"
chmod 0775 "$T/conf.d"
check_conf "$CONF"
is "$RC" 78 "a group-writable include directory: exit 78"
chmod 0755 "$T/conf.d"
check_conf "$CONF"
is "$RC" 78 "a 0755 include directory with nobody's drop-in: exit 78"
like "$(cat "$T/err")" "^$T/conf.d/evil.conf: is owned by uid $NOBODY_UID" "the error names the drop-in and its owner"
chown root "$T/conf.d/evil.conf"
chmod 0666 "$T/conf.d/evil.conf"
check_conf "$CONF"
is "$RC" 78 "a world-writable drop-in: exit 78"
like "$(cat "$T/err")" "^$T/conf.d/evil.conf: is writable by group or others" "the error names the drop-in"
rm -f "$T/conf.d/evil.conf"
printf '[channel fromdropin]\ntype = mqueue\nmax_messages = 4\nmessage_size = 64\non_stop = remove\n' \
        >"$T/conf.d/ok.conf"
check_conf "$CONF"
is "$RC" 0 "a root-owned 0755 directory with a 0644 drop-in passes"

# ---- reload keeps the running configuration ------------------------------------
ok "the daemon starts" daemon_start
add_channel added type=mqueue max_messages=4 message_size=64 on_stop=remove
chmod 0666 "$CONF"
ok "reload with a world-writable configuration file: the daemon answers" daemon_reload
ok "the log says the reload failed" grep -q "reload failed" "$DAEMON_LOG"
ok "and why" grep -q "$CONF: is writable by group or others" "$DAEMON_LOG"
not_ok "the new channel was not added" quiet "$IPCBROKER" stat added
ok "the running configuration is still served" "$IPCBROKER" send good hello
ok "including its drop-in's channel" quiet "$IPCBROKER" stat fromdropin
chmod 0644 "$CONF"
chmod 0777 "$T/conf.d"
ok "reload with a writable include directory: the daemon answers" daemon_reload
ok "the log names the directory" grep -q "$T/conf.d: is writable by group or others" "$DAEMON_LOG"
not_ok "the new channel was still not added" quiet "$IPCBROKER" stat added
ok "the drop-in's channel is still served" quiet "$IPCBROKER" stat fromdropin
chmod 0755 "$T/conf.d"
ok "reload once the modes are fixed" daemon_reload
ok "the new channel is there now" quiet "$IPCBROKER" stat added
ok "clean stop" daemon_stop
done_testing
