#!/bin/bash
# operator-holders.sh — ipcbroker holders against the real daemon: a process
# that was given a channel is listed with its pid, user, command and access;
# an unprivileged user sees only its own grants; a grant disappears once its
# process has exited; --json parses; errors and exit codes.
# Needs python3 (JSON parsing) and setpriv; runs as root.

. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

test_init
command -v python3 >/dev/null || skip_all "python3 is needed to parse the JSON output"
command -v setpriv >/dev/null || skip_all "setpriv is needed for the unprivileged caller"

add_channel hq type=mqueue mode=0666 max_messages=4 message_size=64 on_stop=remove
add_channel hf type=fifo mode=0666 message_size=64 on_stop=remove
add_channel hidden type=mqueue mode=0600 max_messages=4 message_size=64 on_stop=remove

daemon_start || bail_out "the daemon did not start"

B=$IPCBROKER
PIDS=

# Is PID listed by `holders` (run as "$@" before the verb, e.g. $AS_NOBODY)?
listed() { # PID [RUNNER...]
        local pid=$1
        shift
        "$@" $B holders --json 2>/dev/null |
                python3 -c 'import json,sys; sys.exit(0 if any(h["pid"]=='"$pid"' for h in json.load(sys.stdin)) else 1)'
}

cleanup_holders() {
        local rc=$?
        exec 8>&-
        for p in $PIDS; do kill "$p" 2>/dev/null; done
        for p in $PIDS; do wait "$p" 2>/dev/null; done
        (exit $rc)
        test_cleanup
}
trap cleanup_holders EXIT

# ---- nothing held ------------------------------------------------------------------

run $B holders
is "$RC" 0 "no holders: exit 0"
is "$OUT" "$(printf '%s' "$OUT" | head -n 1)" "no holders: the header only"
like "$OUT" '^CHANNEL +ACCESS +PID +USER +UNIT +COMMAND +SINCE +OPENS$' "the header names the columns"
run $B holders --json
is "$RC/$OUT" "0/[]" "no holders: --json prints []"

# ---- a receiver, a sender, and nobody's receiver --------------------------------------

t0=$(date +%s)
$B recv hq -t 30s >/dev/null 2>&1 &
RECV_PID=$!
PIDS="$PIDS $RECV_PID"
# a sender that keeps its end open while it waits for standard input (until fd 8 closes)
mkfifo "$T/sender.in"
$B send hf <"$T/sender.in" >/dev/null 2>&1 &
SEND_PID=$!
PIDS="$PIDS $SEND_PID"
exec 8>"$T/sender.in"
$AS_NOBODY $B recv hf -t 30s >/dev/null 2>&1 &
NOBODY_PID=$!
PIDS="$PIDS $NOBODY_PID"

ok "the receiver appears (bounded wait)" wait_until "$DAEMON_WAIT" listed "$RECV_PID"
ok "the sender appears" wait_until "$DAEMON_WAIT" listed "$SEND_PID"
ok "nobody's receiver appears" wait_until "$DAEMON_WAIT" listed "$NOBODY_PID"

run $B holders
is "$RC" 0 "holders: exit 0"
row=$(printf '%s\n' "$OUT" | awk -v p="$RECV_PID" '$3 == p')
like "$row" "^hq +recv +$RECV_PID +root +[^ ]+ +(lt-)?ipcbroker +[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} +1$" \
        "the receiver's row: channel, access, pid, user, unit, command, since (local time), opens"
row=$(printf '%s\n' "$OUT" | awk -v p="$SEND_PID" '$3 == p')
like "$row" "^hf +send +$SEND_PID +root " "the sender's row: send access"
row=$(printf '%s\n' "$OUT" | awk -v p="$NOBODY_PID" '$3 == p')
like "$row" "^hf +recv +$NOBODY_PID +nobody " "nobody's row, seen by root: user name"
is "$(printf '%s\n' "$OUT" | sed 1d | awk '{print $1}' | paste -sd' ')" "hf hf hq" "root sees every grant, sorted by channel"

run $B holders --json
is "$RC" 0 "holders --json: exit 0"
is "$(json 'len(j)')" 3 "--json: three grants"
is "$(json 'sorted(set(tuple(h.keys()) for h in j))')" \
        "[('channel', 'access', 'uid', 'user', 'pid', 'command', 'unit', 'since', 'opens')]" "--json: the keys of each grant"
is "$(json '[(h["channel"], h["access"], h["uid"], h["user"]) for h in j if h["pid"] == '"$RECV_PID"']')" \
        "[('hq', 'recv', 0, 'root')]" "--json: the receiver's channel, access, uid and user"
is "$(json '[h["access"] for h in j if h["pid"] == '"$SEND_PID"']')" "['send']" "--json: the sender's access"
is "$(json '[(h["uid"], h["user"]) for h in j if h["pid"] == '"$NOBODY_PID"']')" "[(65534, 'nobody')]" \
        "--json: nobody's uid and user"
like "$(json '[h["command"] for h in j if h["pid"] == '"$RECV_PID"'][0]')" '^(lt-)?ipcbroker$' "--json: the command"
now=$(date +%s)
is "$(json 'all('"$t0"' - 5 <= h["since"] <= '"$now"' + 5 for h in j)')" True "--json: since is the grant's time (Unix seconds)"
is "$(json 'all(isinstance(h["opens"], int) and h["opens"] >= 1 for h in j)')" True "--json: opens counted"
is "$(json 'all(isinstance(h["unit"], str) for h in j)')" True "--json: unit is a string"

run $B holders hq --json
is "$(json '[h["pid"] for h in j]')" "[$RECV_PID]" "holders NAME: only that channel's grants"
run $B holders hidden
is "$RC/$(printf '%s\n' "$OUT" | wc -l)" "0/1" "holders of a channel nobody holds: the header only"

# ---- an unprivileged user sees its own ---------------------------------------------------

run $AS_NOBODY $B holders --json
is "$RC" 0 "nobody: holders exit 0"
is "$(json '[h["pid"] for h in j]')" "[$NOBODY_PID]" "nobody sees only its own grant"
run $AS_NOBODY $B holders hq --json
is "$RC/$OUT" "0/[]" "nobody: root's grant on hq is not shown"

# ---- gone when the process is -------------------------------------------------------------

kill "$RECV_PID"
wait "$RECV_PID" 2>/dev/null
ok "the receiver disappears after it exited (bounded wait)" wait_until "$DAEMON_WAIT" eval "! listed $RECV_PID"
ok "the others are still listed" listed "$SEND_PID"

# ---- errors ---------------------------------------------------------------------------------

run $B holders nope
is "$RC" 1 "holders of an unknown channel: exit 1"
like "$ERR" "nope" "the message names the channel"
is "$(printf '%s\n' "$ERR" | wc -l)" 1 "the message is one line"
run $B holders hq hf
is "$RC" 2 "two names: usage error"
run $B holders --bogus
is "$RC" 2 "an unknown option: usage error"
run env IPCBROKER_SOCKET="$T/missing.sock" $B holders
is "$RC" 69 "daemon unreachable: exit 69"

done_testing
