#!/bin/bash
# client-cli.sh — the ipcbroker CLI end to end against a real ipcbrokerd:
# send/recv on both channel types, list/stat/status in text and JSON, purge,
# exit codes, and an unprivileged caller (nobody) against the channel policy.
# Needs python3 (JSON parsing) and setpriv; runs as root.

. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

test_init
command -v python3 >/dev/null || skip_all "python3 is needed to parse the JSON output"
command -v setpriv >/dev/null || skip_all "setpriv is needed for the unprivileged caller"

add_channel cq type=mqueue max_messages=8 message_size=256 on_stop=remove
add_channel cf type=fifo message_size=256 on_stop=remove
add_channel bin type=mqueue max_messages=4 message_size=512 on_stop=remove
add_channel binf type=fifo message_size=512 on_stop=remove
add_channel tiny type=mqueue max_messages=2 message_size=16 on_stop=remove
add_channel priv type=mqueue mode=0600 max_messages=4 message_size=64 on_stop=remove
add_channel privf type=fifo mode=0600 message_size=64 on_stop=remove
add_channel lists type=mqueue mode=0600 'send = nobody' 'recv = @nogroup' max_messages=4 message_size=64 on_stop=remove
add_channel other type=mqueue mode=0606 max_messages=4 message_size=64 on_stop=remove
add_channel otherf type=fifo mode=0606 message_size=64 on_stop=remove
add_channel sendonly type=mqueue mode=0602 max_messages=4 message_size=64 on_stop=remove
N_CHANNELS=11

daemon_start || bail_out "the daemon did not start"

B=$IPCBROKER

# ---- send and receive --------------------------------------------------------------

run $B send cq hello
is "$RC" 0 "send: exit 0"
run $B recv cq
is "$RC/$OUT" "0/hello" "recv: prints the message"

run $B send -p 1 cq low
run $B send cq high -p 7
run $B send --priority=4 cq mid
run $B recv cq -n 3 -v
is "$RC" 0 "recv -n 3 -v: exit 0"
is "$OUT" "$(printf '7\thigh\n4\tmid\n1\tlow')" "queue: highest priority first, -v shows the priority"

run $B send -p 5 cf first
run $B send -p 9 cf second
run $B send cf third
run $B recv cf -n 3 -v
is "$RC" 0 "fifo: recv -n 3 -v exit 0"
is "$OUT" "$(printf '0\tfirst\n0\tsecond\n0\tthird')" "fifo: send order kept, priority shown as 0"

# -n 0 -t: drain, then stop with exit 0
for ch in cq cf; do
        printf 'a1\na2\na3\n' | $B send $ch
        run $B recv $ch -n 0 -t 0.2
        is "$RC" 0 "$ch: recv -n 0 -t 0.2 exits 0 after draining"
        is "$OUT" "$(printf 'a1\na2\na3')" "$ch: stdin lines became one message each, all drained"
done
printf 'x1\nx2' | $B send cq
run $B recv cq -n 0 -t 200ms
is "$OUT" "$(printf 'x1\nx2')" "a last line without a newline is a message too; '-t 200ms' accepted"

# -t on an empty channel: fails after (at least) the timeout
for ch in cq cf; do
        t0=$(now_ms)
        run $B recv $ch -t 0.3
        el=$(( $(now_ms) - t0 ))
        is "$RC" 1 "$ch: recv -t 0.3 on an empty channel exits 1"
        like "$ERR" "channel '$ch'.*timed out" "$ch: the error names the channel and the timeout"
        ok "$ch: recv -t 0.3 waited at least 0.3 s (${el} ms)" test "$el" -ge 290
done

# --nonblock
for ch in cq cf; do
        run $B recv $ch --nonblock
        is "$RC" 1 "$ch: recv --nonblock on an empty channel exits 1"
        like "$ERR" "channel '$ch'" "$ch: the error names the channel"
done
run $B send tiny one
run $B send tiny two
run $B send tiny three --nonblock
is "$RC" 1 "send --nonblock on a full queue exits 1"
like "$ERR" "channel 'tiny'.*full" "send --nonblock: the error names the channel and why"
t0=$(now_ms)
run $B send tiny three -t 0.3
el=$(( $(now_ms) - t0 ))
is "$RC" 1 "send -t 0.3 on a full queue exits 1"
ok "send -t 0.3 waited at least 0.3 s (${el} ms)" test "$el" -ge 290
run $B recv tiny -n 2
is "$OUT" "$(printf 'one\ntwo')" "the tiny queue kept exactly its first two messages"

# a message larger than message_size
long=$(printf '%0300d' 0)
run $B send cq "$long"
is "$RC" 1 "send of 300 bytes to a 256-byte channel exits 1"
like "$ERR" "channel 'cq'.*(too large|message size)" "the error names the channel and the size problem"

# binary payloads: bytes 0x01..0xff except newline, as stdin and as an argument
printf "$(for i in $(seq 1 255); do [ $i = 10 ] || printf '\\%03o' $i; done)" >"$T/bin.in"
is "$(wc -c <"$T/bin.in")" 254 "binary test payload has 254 bytes"
for ch in bin binf; do
        $B send $ch <"$T/bin.in"
        $B recv $ch -t 5 >"$T/bin.out"
        head -c 254 "$T/bin.out" >"$T/bin.cmp"
        ok "$ch: binary payload from stdin comes back unchanged" cmp -s "$T/bin.in" "$T/bin.cmp"
        is "$(wc -c <"$T/bin.out")" 255 "$ch: exactly the payload plus one newline"
        $B send $ch "$(cat "$T/bin.in")"
        $B recv $ch -t 5 | head -c 254 >"$T/bin.cmp"
        ok "$ch: binary payload as an argument comes back unchanged" cmp -s "$T/bin.in" "$T/bin.cmp"
        printf 'a\000b\000\377' | $B send $ch
        $B recv $ch -t 5 >"$T/nul.out"
        is "$(od -An -tx1 "$T/nul.out" | tr -d ' \n')" "61006200ff0a" "$ch: NUL bytes pass through"
done

# ---- list, stat, status ------------------------------------------------------------

$B send cq one
$B send cq two
$B send cf 12345
run $B list
is "$RC" 0 "list: exit 0"
is "$(printf '%s\n' "$OUT" | wc -l)" $((N_CHANNELS + 1)) "list: a header and one row per channel"
like "$(printf '%s\n' "$OUT" | head -n 1)" '^NAME +TYPE +OWNER +GROUP +MODE +MESSAGES +MAXMSGS +MSGSIZE +BYTES' "list: header"
printf '%s\n' "$OUT" >"$T/list.txt"
ok "list: columns are aligned (left columns start, number columns end under their header)" python3 - "$T/list.txt" <<'EOF'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
spans = lambda s: [(m.start(), m.end()) for m in re.finditer(r'\S+', s)]
head = spans(lines[0])
names = lines[0].split()
right = {"MODE", "MESSAGES", "MAXMSGS", "MSGSIZE", "BYTES"}
for line in lines[1:]:
    row = spans(line)
    if len(row) != len(head):
        sys.exit("wrong field count: %r" % line)
    for n, h, r in zip(names, head, row):
        if n in right and h[1] != r[1]:
            sys.exit("%s not right-aligned: %r" % (n, line))
        if n not in right and h[0] != r[0]:
            sys.exit("%s not left-aligned: %r" % (n, line))
EOF
row=$(printf '%s\n' "$OUT" | awk '$1 == "cq"')
like "$row" '^cq +mqueue +root +root +0600 +2 +8 +256 ' "list: the cq row shows type, owner, mode, depth and sizes"
row=$(printf '%s\n' "$OUT" | awk '$1 == "cf"')
like "$row" '^cf +fifo +root +root +0600 +- +[0-9]+ +256 +5 ' "list: the cf row shows bytes queued"

run $B list --json
is "$RC" 0 "list --json: exit 0"
is "$(json 'len(j)')" "$N_CHANNELS" "list --json: one entry per channel"
is "$(json '[c["messages"] for c in j if c["name"]=="cq"][0]')" 2 "list --json: cq messages"
is "$(json '[(c["type"],c["max_messages"],c["message_size"],c["mode"]) for c in j if c["name"]=="cq"][0]')" \
        "('mqueue', 8, 256, '0600')" "list --json: cq type, sizes, mode"
is "$(json '[(c["type"],c["messages"],c["bytes"]) for c in j if c["name"]=="cf"][0]')" \
        "('fifo', None, 5)" "list --json: cf type, messages unknown, bytes"
is "$(json 'sorted(c["name"] for c in j) == [c["name"] for c in j]')" True "list --json: sorted by name"

run $B stat cq --json
is "$RC" 0 "stat cq --json: exit 0"
is "$(json 'sorted(k for k in ("mq_flags","mq_maxmsg","mq_msgsize","mq_curmsgs","mq_name") if k in j)')" \
        "['mq_curmsgs', 'mq_flags', 'mq_maxmsg', 'mq_msgsize', 'mq_name']" "stat --json: the kernel attribute keys"
is "$(json '(j["mq_maxmsg"], j["mq_msgsize"], j["mq_curmsgs"], j["mq_name"])')" \
        "(8, 256, 2, '${PREFIX}cq')" "stat --json: kernel attributes and name"
is "$(json 'j["name"] + " " + j["type"] + " " + j["state"] + " " + j["on_stop"]')" "cq mqueue ready remove" \
        "stat --json: name, type, state, on_stop"
is "$(mq_attr "${PREFIX}cq" | cut -d' ' -f1-3,6)" "8 256 2 600" "the kernel agrees (mqtool: maxmsg msgsize curmsgs mode)"
run $B stat cq
like "$OUT" 'mq_curmsgs: +2' "stat (text): mq_curmsgs"
like "$OUT" 'mq_maxmsg: +8' "stat (text): mq_maxmsg"
like "$OUT" "mq_name: +${PREFIX}cq" "stat (text): mq_name"
run $B stat cf --json
is "$(json '(j["type"], j["path"], j["bytes"], j["message_size"])')" "('fifo', '$RUNDIR/fifo/cf', 5, 256)" \
        "stat cf --json: path, bytes, message_size"
run $B stat nope
is "$RC" 1 "stat of an unknown channel exits 1"
like "$ERR" "channel 'nope'.*no (such )?channel" "stat nope: names the channel and the reason"

run $B status --json
is "$RC" 0 "status --json: exit 0"
is "$(json '(j["channels"], j["channels_ready"], j["pid"])')" "($N_CHANNELS, $N_CHANNELS, $DAEMON_PID)" \
        "status --json: channel counts and pid"
is "$(json 'j["config_file"] + " " + j["socket"]')" "$CONF $SOCK" "status --json: config file and socket"
is "$(json 'all(isinstance(j[k], int) for k in ("uptime","clients","connections","requests","opens","denied","reloads"))')" \
        True "status --json: counters are numbers"
run $B status
like "$OUT" "pid: +$DAEMON_PID" "status (text): pid"
like "$OUT" "channels: +$N_CHANNELS" "status (text): channels"

# ---- purge --------------------------------------------------------------------------

$B send tiny 12345
$B send tiny 123456
run $B purge tiny
is "$RC" 0 "purge tiny: exit 0"
is "$OUT" "tiny: purged 2 messages, 11 bytes" "purge: prints messages and bytes dropped"
run $B stat tiny --json
is "$(json 'j["mq_curmsgs"]')" 0 "purge: the queue is empty afterwards"
run $B recv tiny --nonblock
is "$RC" 1 "purge: nothing left to receive"
$B send cf abc
$B send cf defg
run $B purge cf
is "$OUT" "cf: purged 3 messages, 12 bytes" "purge of a FIFO counts messages and bytes (12345, abc, defg)"
$B send cf again
run $B purge --all
is "$RC" 0 "purge --all: exit 0"
is "$(printf '%s\n' "$OUT" | grep -c ': purged ')" "$N_CHANNELS" "purge --all: one line per channel"
like "$OUT" "cq: purged 2 messages, 6 bytes" "purge --all: cq's two messages"
like "$OUT" "cf: purged 1 message, 5 bytes" "purge --all: cf's message (singular)"
run $B list --json
is "$(json 'sum(c["messages"] or 0 for c in j) + sum(c["bytes"] for c in j if c["type"]=="fifo")')" 0 \
        "purge --all: every channel is empty"
run $B purge nope
is "$RC" 1 "purge of an unknown channel exits 1"
like "$ERR" "channel 'nope'" "purge nope: names the channel"

# ---- exit codes ---------------------------------------------------------------------

run $B frobnicate
is "$RC" 2 "unknown verb: exit 2"
like "$ERR" "frobnicate" "unknown verb: named"
run $B
is "$RC" 2 "no verb: exit 2"
for v in send recv stat; do
        run $B $v
        is "$RC" 2 "$v without a name: exit 2"
done
run $B purge
is "$RC" 2 "purge without a name: exit 2"
run $B purge --all cq
is "$RC" 2 "purge with names and --all: exit 2"
run $B list --bogus
is "$RC" 2 "list --bogus: exit 2"
run $B --bogus list
is "$RC" 2 "a bad global option: exit 2"
run $B recv cq --bogus
is "$RC" 2 "recv --bogus: exit 2"
for p in abc -1 99999 '' 1x; do
        run $B send cq -p "$p" msg
        is "$RC" 2 "send -p '$p': exit 2"
done
for t in abc -1 5parsecs '' 1e99; do
        run $B recv cq -t "$t"
        is "$RC" 2 "recv -t '$t': exit 2"
done
run $B recv cq -n many
is "$RC" 2 "recv -n many: exit 2"
run $B send cq one two three
is "$RC" 2 "send with too many arguments: exit 2"
run $B -h
is "$RC" 0 "-h: exit 0"
run $B -V
is "$RC" 0 "-V: exit 0"
like "$OUT" "ipcbroker" "-V prints the version"

run $B send nope x
is "$RC" 1 "send to an unknown channel: exit 1"
like "$ERR" "channel 'nope'.*no (such )?channel" "send nope: one line naming the channel and the reason"
is "$(printf '%s\n' "$ERR" | wc -l)" 1 "send nope: the error is one line"

MISSING="$T/missing/ipcbroker.sock"
for cmd in "list" "status" "send cq x" "recv cq" "stat cq" "purge cq"; do
        run env IPCBROKER_SOCKET="$MISSING" $B $cmd
        is "$RC" 69 "IPCBROKER_SOCKET at a missing socket: '$cmd' exits 69"
        like "$ERR" "$MISSING" "daemon unreachable ('$cmd'): the message names the socket path"
done
run $B -s "$MISSING" status
is "$RC" 69 "-s at a missing socket: exit 69"
like "$ERR" "$MISSING" "-s: the message names that socket path"
run env IPCBROKER_SOCKET="$MISSING" $B -s "$SOCK" status --json
is "$RC" 0 "-s SOCKET reaches the daemon (and wins over IPCBROKER_SOCKET)"
is "$(json 'j["pid"]')" "$DAEMON_PID" "-s: the right daemon answered"
run env -u IPCBROKER_SOCKET $B -s "$SOCK" list
is "$RC" 0 "-s SOCKET works without IPCBROKER_SOCKET"

# something that accepts connections and hangs up without answering
HANGUP="$T/hangup.sock"
python3 - "$HANGUP" <<'EOF' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1] + ".tmp")
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.listen(8)
s.settimeout(30)
try:
    for _ in range(6):
        c, _ = s.accept()
        c.close()
except socket.timeout:
    pass
EOF
hangup_pid=$!
wait_until 10 test -S "$HANGUP" || diag "the hang-up server did not start"
for cmd in "status" "send cq x" "stat cq" "purge cq" "purge cq cf" "purge --all"; do
        run $B -s "$HANGUP" $cmd
        is "$RC" 69 "a daemon that hangs up without answering: '$cmd' exits 69"
        like "$ERR" "without answering" "'$cmd': the message says the daemon hung up without answering"
done
kill "$hangup_pid" 2>/dev/null
wait "$hangup_pid" 2>/dev/null

# ---- an unprivileged caller ---------------------------------------------------------

run $B status --json
denied0=$(json 'j["denied"]')

run $AS_NOBODY $B send priv x
is "$RC" 1 "nobody: send to a 0600 root queue exits 1"
like "$ERR" "channel 'priv'.*permission denied" "nobody: 'permission denied' naming the channel"
run $AS_NOBODY $B recv priv --nonblock
is "$RC" 1 "nobody: receive from a 0600 root queue exits 1"
like "$ERR" "permission denied" "nobody: receive denied"
run $AS_NOBODY $B send privf x
is "$RC" 1 "nobody: send to a 0600 root FIFO exits 1"
like "$ERR" "channel 'privf'.*permission denied" "nobody: FIFO denied"
run $AS_NOBODY $B recv sendonly --nonblock
is "$RC" 1 "nobody: receive from a 0602 queue (other may only write) exits 1"
like "$ERR" "permission denied" "nobody: 0602 receive denied"

# the kernel enforces the same mode on the objects themselves
is "$(mq_attr "${PREFIX}priv" | cut -d' ' -f4,6)" "0 600" "kernel: the 0600 queue is root's, mode 600"
run $AS_NOBODY "$MQTOOL" send "${PREFIX}priv" x
is "$RC" 1 "nobody cannot mq_open the 0600 queue directly by its kernel name"
like "$ERR" "Permission denied" "the kernel says permission denied"
ok "root can (control): mq_open of the same queue works" "$MQTOOL" send "${PREFIX}priv" x
not_ok "nobody cannot open the 0600 FIFO for writing directly" $AS_NOBODY test -w "$RUNDIR/fifo/privf"
not_ok "nobody cannot open the 0600 FIFO for reading directly" $AS_NOBODY test -r "$RUNDIR/fifo/privf"
run $B purge priv
is "$OUT" "priv: purged 1 message, 1 byte" "the direct root message was in the broker's queue"

# allowed: send/recv lists
run $AS_NOBODY $B send lists "from nobody"
is "$RC" 0 "nobody: send allowed by 'send = nobody' (mode 0600)"
run $AS_NOBODY $B recv lists -t 5
is "$RC/$OUT" "0/from nobody" "nobody: receive allowed by 'recv = @nogroup'"
# allowed: other bits of the mode
for ch in other otherf; do
        run $AS_NOBODY $B send $ch "hi $ch"
        is "$RC" 0 "nobody: send to a 0606 $ch allowed by the other bits"
        run $AS_NOBODY $B recv $ch -t 5
        is "$RC/$OUT" "0/hi $ch" "nobody: receive from a 0606 $ch allowed by the other bits"
done
run $AS_NOBODY $B send sendonly "w"
is "$RC" 0 "nobody: send to a 0602 queue allowed"
run $B recv sendonly -t 5
is "$OUT" "w" "root receives what nobody sent"
ok "kernel: nobody may mq_open the 0606 queue directly too" $AS_NOBODY "$MQTOOL" send "${PREFIX}other" direct
run $B recv other -t 5
is "$OUT" "direct" "the direct message arrives through the broker"

# inspection is for everyone; administration is not
run $AS_NOBODY $B list
is "$RC" 0 "nobody may list"
run $AS_NOBODY $B status --json
is "$RC" 0 "nobody may ask for the status"
run $AS_NOBODY $B purge cq
is "$RC" 1 "nobody: purge refused (exit 1)"
like "$ERR" "not an administrator" "nobody: purge says 'not an administrator'"
like "$ERR" "channel 'cq'" "nobody: the refusal names the channel"
run $AS_NOBODY $B purge cq cf
is "$RC" 1 "nobody: purge of two channels refused (exit 1)"
like "$ERR" "^ipcbroker: channels 'cq', 'cf': .*not an administrator" "nobody: the refusal names both channels"
run $AS_NOBODY $B purge --all
is "$RC" 1 "nobody: purge --all refused"
like "$ERR" "^ipcbroker: all channels: .*not an administrator" "nobody: purge --all refusal says it was for all channels"
run $AS_NOBODY $B reload
is "$RC" 1 "nobody: reload refused (exit 1)"
like "$ERR" "not an administrator" "nobody: reload says 'not an administrator'"

run $B status --json
is "$(( $(json 'j["denied"]') - denied0 ))" 8 "status --json: the daemon counted the 8 denials"
run $B stat priv --json
is "$(json 'j["denials"]')" 2 "stat --json: per-channel denials (priv: 2)"

run $B reload
is "$RC" 0 "root: reload works"

# ---- admins = nobody; more channels than fit one reply entry count -------------------

daemon_stop
is "$?" 0 "the daemon stops cleanly (exit 0)"
sed -i 's/^admins = root$/admins = root nobody/' "$CONF"
for i in $(seq -w 1 70); do
        add_channel "bulk.$i" type=fifo capacity=4096 on_stop=remove
done
N_CHANNELS=$((N_CHANNELS + 70))
daemon_start || bail_out "the daemon did not restart"

$B send cq a
run $AS_NOBODY $B purge cq
is "$RC" 0 "admins = nobody: nobody may purge"
is "$OUT" "cq: purged 1 message, 1 byte" "admins = nobody: purge output"
run $AS_NOBODY $B reload
is "$RC" 0 "admins = nobody: nobody may reload"

run $B list
is "$RC" 0 "list of $N_CHANNELS channels: exit 0"
is "$(printf '%s\n' "$OUT" | grep -c .)" $((N_CHANNELS + 1)) "list of $N_CHANNELS channels: every row"
run $B list --json
is "$(json 'len(j)' 2>/dev/null)" "$N_CHANNELS" "list --json of $N_CHANNELS channels: every entry"
run $B purge --all
is "$RC" 0 "purge --all over $N_CHANNELS channels: exit 0"
is "$(printf '%s\n' "$OUT" | grep -c ': purged ')" "$N_CHANNELS" "purge --all over $N_CHANNELS channels: every line"

# ---- purge of a channel that exists but is unavailable: its problem, not "no such channel" ----

# an explicit FIFO path whose directory does not exist: the channel is declared, its object cannot be made
add_channel lost type=fifo "path = $T/no-such-dir/lost.fifo" on_stop=remove
ok "reload with a channel whose FIFO directory is missing" daemon_reload
run $B purge lost
is "$RC" 1 "purge of an unavailable channel exits 1"
like "$ERR" "^ipcbroker: channel 'lost': cannot open the directory of FIFO $T/no-such-dir/lost.fifo" \
        "purge of an unavailable channel says its problem"
not_ok "purge of an unavailable channel does not say it does not exist" grep -q "no such channel" <<<"$ERR"
run $B purge nope
like "$ERR" "^ipcbroker: channel 'nope': no such channel" "purge of an undeclared channel still says 'no such channel'"

daemon_stop
is "$?" 0 "the daemon stops cleanly again"

done_testing
