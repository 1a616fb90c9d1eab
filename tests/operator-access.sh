#!/bin/bash
# operator-access.sh — ipcbroker access against the real daemon: the verdict
# and the deciding rule for root, the owner, a group member (primary and
# supplementary group), others, and the send/recv lists; --user for admins
# only; the JSON keys; a query exits 0 even when access is denied; a denied
# open points to this command.
# Needs python3 (JSON parsing) and setpriv; runs as root.

. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

test_init
command -v python3 >/dev/null || skip_all "python3 is needed to parse the JSON output"
command -v setpriv >/dev/null || skip_all "setpriv is needed for the unprivileged caller"
for u in nobody daemon bin; do
        getent passwd "$u" >/dev/null || skip_all "user $u is needed"
done
getent group daemon >/dev/null || skip_all "group daemon is needed"

# owner nobody may send (-w-), group daemon may receive (r--), others nothing
add_channel acc type=mqueue owner=nobody group=daemon mode=0240 max_messages=4 message_size=64 on_stop=remove
add_channel lists type=mqueue mode=0600 'send = nobody' 'recv = @nogroup' max_messages=4 message_size=64 on_stop=remove
add_channel closed type=mqueue mode=0600 max_messages=4 message_size=64 on_stop=remove
add_channel openf type=fifo mode=0606 message_size=64 on_stop=remove

daemon_start || bail_out "the daemon did not start"

B=$IPCBROKER
AS_DAEMON="setpriv --reuid=daemon --regid=daemon --clear-groups"
AS_BIN_IN_DAEMON="setpriv --reuid=bin --regid=bin --groups=daemon"
AS_BIN="setpriv --reuid=bin --regid=bin --clear-groups"

# verdict: "send recv" as true/false from `access --json` in $OUT
verdict() { json '"%s %s" % (j["send"], j["recv"])'; }

# ---- each class of the mode --------------------------------------------------------

run $B access acc
is "$RC" 0 "root: exit 0"
is "$(printf '%s\n' "$OUT" | sed -n 1p)" "channel 'acc' for uid 0 (root):" "text: the first line names the channel and the user"
like "$(printf '%s\n' "$OUT" | sed -n 2p)" '^  send: allowed \(.*uid 0.*\)$' "root: send allowed by uid 0"
like "$(printf '%s\n' "$OUT" | sed -n 3p)" '^  recv: allowed \(.*uid 0.*\)$' "root: recv allowed by uid 0"

run $AS_NOBODY $B access acc --json
is "$RC" 0 "the owner: exit 0"
is "$(verdict)" "True False" "the owner (-w-): may send, not receive"
like "$(json 'j["send_rule"]')" 'owner' "the owner: the send rule is the owner class"
like "$(json 'j["send_rule"]')" '0240' "the owner: the rule names the mode"
like "$(json 'j["recv_rule"]')" 'owner' "the owner: the recv denial names the owner class too"
run $AS_NOBODY $B access acc
like "$(printf '%s\n' "$OUT" | sed -n 2p)" '^  send: allowed \(owner' "text: send allowed (owner ...)"
like "$(printf '%s\n' "$OUT" | sed -n 3p)" '^  recv: denied \(' "text: recv denied (...)"

run $AS_DAEMON $B access acc --json
is "$RC/$(verdict)" "0/False True" "a member of the group (primary): may receive, not send"
like "$(json 'j["recv_rule"]')" 'group' "primary group: the group class decided"
like "$(json 'j["recv_rule"]')" 'daemon|gid 1\b' "primary group: the rule names the group"

run $AS_BIN_IN_DAEMON $B access acc --json
is "$RC/$(verdict)" "0/False True" "a member of the group (supplementary): may receive, not send"
like "$(json 'j["recv_rule"]')" 'group' "supplementary group: the group class decided"

run $AS_BIN $B access acc --json
is "$RC/$(verdict)" "0/False False" "others (---): neither, and still exit 0"
like "$(json 'j["send_rule"] + " | " + j["recv_rule"]')" 'other.*\|.*other' "others: the other class decided both"

run $AS_BIN $B access openf --json
is "$(verdict)" "True True" "mode 0606: others may send and receive"
like "$(json 'j["send_rule"]')" 'other' "0606: the other class"

# ---- the send and recv lists -----------------------------------------------------------

run $AS_NOBODY $B access lists --json
is "$RC/$(verdict)" "0/True True" "lists: nobody may send (send = nobody) and receive (recv = @nogroup)"
like "$(json 'j["send_rule"]')" 'send list.*nobody' "the send rule names the send list's entry"
like "$(json 'j["recv_rule"]')" 'recv list.*@nogroup' "the recv rule names the recv list's entry"
run $AS_BIN $B access lists --json
is "$(verdict)" "False False" "lists: bin is in neither list"

# ---- the JSON document -------------------------------------------------------------------

run $AS_NOBODY $B access acc --json
is "$(json 'list(j.keys())')" "['channel', 'uid', 'user', 'send', 'recv', 'send_rule', 'recv_rule']" "--json: exactly these keys"
is "$(json '(j["channel"], j["uid"], j["user"], type(j["send"]).__name__, type(j["recv"]).__name__)')" \
        "('acc', 65534, 'nobody', 'bool', 'bool')" "--json: channel, uid, user, booleans"

# ---- --user --------------------------------------------------------------------------------

run $B access acc --user nobody --json
is "$RC" 0 "root: --user nobody, exit 0"
is "$(json '(j["uid"], j["user"])')" "(65534, 'nobody')" "--user nobody: the answer is for nobody"
is "$(verdict)" "True False" "--user nobody: the owner's verdict"
run $B access acc --user daemon --json
is "$(verdict)" "False True" "--user daemon: the group's verdict (groups from the user database)"
run $B access acc -u 2 --json
is "$(json '(j["uid"], j["user"])')/$(verdict)" "(2, 'bin')/False False" "-u 2: a uid works, bin is other"
run $B access acc --user nobody
is "$(printf '%s\n' "$OUT" | sed -n 1p)" "channel 'acc' for uid 65534 (nobody):" "--user: the text names that user"

# a user naming itself: the answer for its credentials as the kernel gives them (as an open
# would be judged), not for the groups the user database lists (bin is no member of daemon there)
run $AS_BIN_IN_DAEMON $B access acc --user bin --json
is "$RC/$(json '(j["uid"], j["user"])')/$(verdict)" "0/(2, 'bin')/False True" \
        "bin in group daemon by its credentials only, --user bin: receives by its supplementary group"
like "$(json 'j["recv_rule"]')" 'group' "--user SELF: the group class decided, as without --user"
run $AS_BIN_IN_DAEMON $B access acc --json
is "$(verdict)" "False True" "the same answer without --user"
run $AS_BIN $B access acc -u 2 --json
is "$RC/$(verdict)" "0/False False" "bin without the group, -u 2: other, nothing"
run $AS_NOBODY $B access acc --user root
is "$RC" 1 "--user as nobody: refused, exit 1"
like "$ERR" "admin|permitted|EPERM" "--user as nobody: the message says why"
run $B access acc --user no-such-user-here
is "$RC" 1 "--user with an unknown user: exit 1"
like "$ERR" "no-such-user-here" "the message names the user"

# ---- errors ----------------------------------------------------------------------------------

run $B access nope
is "$RC" 1 "an unknown channel: exit 1"
like "$ERR" "nope" "the message names the channel"
run $B access
is "$RC" 2 "no name: usage error"
run $B access acc lists
is "$RC" 2 "two names: usage error"
run $B access acc --user
is "$RC" 2 "--user without a user: usage error"
run env IPCBROKER_SOCKET="$T/missing.sock" $B access acc
is "$RC" 69 "daemon unreachable: exit 69"

# ---- a denied open points here ------------------------------------------------------------

run $AS_NOBODY $B send closed hello
is "$RC" 1 "nobody's send to a 0600 channel: denied, exit 1"
like "$ERR" "ipcbroker access" "the denial points to 'ipcbroker access'"
run $AS_BIN $B recv acc -t 0
is "$RC" 1 "bin's recv on acc: denied"
like "$ERR" "ipcbroker access acc" "the denial names the command for that channel"

done_testing
