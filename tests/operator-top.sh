#!/bin/bash
# operator-top.sh — ipcbroker top against the real daemon: -n COUNT prints
# plain snapshots with every channel, its depth and fill, sorted by fill or
# by name, -d apart; with --json one JSON document a line per snapshot;
# without a terminal and without -n it refuses; on a terminal (a
# pseudo-terminal driven by python3) it takes the alternate
# screen, fits the window, follows a resize, sorts on f/n, quits on q and
# gives the terminal back as it was, also on SIGTERM.
# Needs python3 (the pseudo-terminal); runs as root.

. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

test_init
command -v python3 >/dev/null || skip_all "python3 is needed for the pseudo-terminal"

add_channel a-empty type=mqueue max_messages=4 message_size=64 on_stop=remove
add_channel b-half type=mqueue max_messages=4 message_size=64 on_stop=remove
add_channel c-full type=mqueue max_messages=2 message_size=64 on_stop=remove
add_channel d-fifo type=fifo message_size=64 on_stop=remove

daemon_start || bail_out "the daemon did not start"

B=$IPCBROKER

printf 'm1\nm2\n' | $B send b-half
printf 'm1\nm2\n' | $B send c-full
printf 'hello\n' | $B send d-fifo

# the daemon samples every second (the high-water mark, the time full): wait for a snapshot that shows a sample
sampled() { $B top -n 1 2>/dev/null | grep -Eq '^c-full .* 100% +2 '; }
ok "a snapshot shows the filled channel's high-water mark (bounded wait for the daemon's sample)" wait_until "$DAEMON_WAIT" sampled

# ---- snapshots ---------------------------------------------------------------------

t0=$(now_ms)
run $B top -n 2 -d 0.5
el=$(($(now_ms) - t0))
is "$RC" 0 "top -n 2: exit 0"
is "$(printf '%s\n' "$OUT" | grep -c '^ipcbrokerd ')" 2 "two snapshots, each with its header line"
like "$(printf '%s\n' "$OUT" | grep -m1 '^ipcbrokerd ')" \
        '^ipcbrokerd [^ ]+, up [0-9dhms]+, 4 channels, [0-9]+ clients, [0-9]+ requests, by fill, [0-9]{2}:[0-9]{2}:[0-9]{2}$' \
        "the header: version, uptime, channels, clients, requests, order, time"
is "$(printf '%s\n' "$OUT" | grep -Ec '^NAME +TYPE +DEPTH +FILL +HIGH +FULL +HOLDERS +STATE$')" 2 "a column header per snapshot"
is "$(printf '%s\n' "$OUT" | grep -Ec '^(a-empty|b-half|c-full|d-fifo) ')" 8 "every channel in both snapshots"
ok "the snapshots were -d 0.5 apart (${el} ms)" test "$el" -ge 450
is "$(printf '%s\n' "$OUT" | grep -c '^$')" 1 "one blank line between two snapshots"
is "$(printf '%s' "$OUT" | tr -d '\n' | tr -d '[:print:]' | wc -c)" 0 "snapshots are plain text: no terminal control"
like "$OUT" '^c-full +mqueue +2 +\[#{20}\] 100% +2 ' "c-full: depth 2, a full bar, 100%, high water 2"
like "$OUT" '^b-half +mqueue +2 +\[#{10}\.{10}\]  50% ' "b-half: depth 2, half a bar, 50%"
like "$OUT" '^a-empty +mqueue +0 +\[\.{20}\]   0% ' "a-empty: depth 0, an empty bar"
like "$OUT" '^d-fifo +fifo +[1-9][0-9]*B +\[' "d-fifo: the depth in bytes"
like "$OUT" 'ready' "the state column"

run $B top -n 1
is "$(printf '%s\n' "$OUT" | sed -n '3,$p' | awk '{print $1}' | paste -sd' ')" "c-full b-half d-fifo a-empty" \
        "sorted by fill, fullest first (default; d-fifo's 5 bytes of 64 KiB before a-empty's nothing)"
run $B top -n 1 -s name
is "$(printf '%s\n' "$OUT" | sed -n '3,$p' | awk '{print $1}' | paste -sd' ')" "a-empty b-half c-full d-fifo" "-s name: by name"
like "$(printf '%s\n' "$OUT" | sed -n 1p)" ', by name, ' "-s name: the header says so"
run $B top -n 1 -s fill
is "$(printf '%s\n' "$OUT" | sed -n '3,$p' | awk '{print $1}' | sed -n 1p)" "c-full" "-s fill: fullest first"

# ---- --json: one JSON document a line per snapshot ------------------------------------------

# the python3 expression EXPR on each line of $OUT as one JSON document (d), one result a line
docs() { # EXPR
        printf '%s\n' "$OUT" | python3 -c '
import json, sys
for line in sys.stdin:
    d = json.loads(line)
    c = {x["name"]: x for x in d["channels"]}
    print('"$1"')'
}
run $B top -n 2 -d 0.2 --json
is "$RC" 0 "top -n 2 --json: exit 0"
is "$(printf '%s\n' "$OUT" | wc -l)" 2 "two lines, one per snapshot"
is "$(docs 'type(d).__name__' | paste -sd' ')" "dict dict" "each line is one JSON document (an object)"
is "$(docs 'sorted(d.keys())' | sort -u)" "['channels', 'clients', 'requests', 'sort', 'time', 'uptime', 'version']" \
        "the document: what the header shows"
is "$(docs 'sorted(set(tuple(x.keys()) for x in d["channels"]))' | sort -u)" \
        "[('name', 'type', 'state', 'messages', 'max_messages', 'bytes', 'capacity', 'fill', 'high_water', 'full', 'full_seconds', 'holders')]" \
        "each channel: what its row shows, and the numbers behind it"
is "$(docs '[x["name"] for x in d["channels"]]' | sort -u)" "['c-full', 'b-half', 'd-fifo', 'a-empty']" \
        "the channels in the view's order: by fill, fullest first"
is "$(docs 'd["sort"]' | sort -u)" fill "sort: fill"
is "$(docs '(c["c-full"]["type"], c["c-full"]["messages"], c["c-full"]["max_messages"], c["c-full"]["fill"], c["c-full"]["high_water"], c["c-full"]["full"], c["c-full"]["state"])' | sort -u)" \
        "('mqueue', 2, 2, 1.0, 2, True, 'ready')" "c-full: 2 of 2 messages, fill 1.0, high water 2, full, ready"
is "$(docs '(c["b-half"]["messages"], c["b-half"]["fill"], c["b-half"]["full"])' | sort -u)" "(2, 0.5, False)" "b-half: fill 0.5, not full"
is "$(docs '(c["a-empty"]["messages"], c["a-empty"]["fill"], c["a-empty"]["high_water"])' | sort -u)" "(0, 0.0, 0)" "a-empty: nothing"
is "$(docs '(c["d-fifo"]["type"], c["d-fifo"]["messages"], c["d-fifo"]["bytes"] > 0, c["d-fifo"]["capacity"] > 0, 0 < c["d-fifo"]["fill"] < 1)' | sort -u)" \
        "('fifo', None, True, True, True)" "d-fifo: no message count (null), its bytes of its capacity"
is "$(docs 'all(isinstance(x["holders"], int) and isinstance(x["full_seconds"], float) for x in d["channels"])' | sort -u)" True \
        "holders a count, full_seconds in seconds"
run $B status --json
version=$(json 'j["version"]')
run $B top -n 1 --json -s name
is "$(docs '(d["version"], d["sort"], [x["name"] for x in d["channels"]])')" \
        "('$version', 'name', ['a-empty', 'b-half', 'c-full', 'd-fifo'])" "-s name --json: the daemon's version, by name"
now=$(date +%s)
is "$(docs 'abs(d["time"] - '"$now"') <= 5 and d["uptime"] >= 0 and d["requests"] > 0')" True "time (Unix seconds), uptime, requests"
is "$(printf '%s' "$OUT" | tr -d '\n' | tr -d '[:print:]' | wc -c)" 0 "--json: no terminal control"
run $B top --json </dev/null
is "$RC" 2 "--json without -n: usage error"
like "$ERR" '-n COUNT' "the refusal says to use -n COUNT"
run env IPCBROKER_SOCKET="$T/missing.sock" $B top -n 1 --json
is "$RC/$OUT" "69/" "--json, daemon unreachable: exit 69, nothing on standard output"

# ---- refusals and usage ----------------------------------------------------------------------

run $B top </dev/null
is "$RC" 2 "no terminal and no -n: usage error"
like "$ERR" '-n' "the refusal says to use -n"
run $B top -s size -n 1
is "$RC" 2 "-s size: usage error"
run $B top -d 0 -n 1
is "$RC" 2 "-d 0: usage error"
run $B top -d abc -n 1
is "$RC" 2 "-d abc: usage error"
run $B top -n x
is "$RC" 2 "-n x: usage error"
run $B top extra -n 1
is "$RC" 2 "an operand: usage error"
run env IPCBROKER_SOCKET="$T/missing.sock" $B top -n 1
is "$RC" 69 "daemon unreachable: exit 69"

# ---- on a terminal ---------------------------------------------------------------------------

# pty.py SCENARIO: runs top on a new pseudo-terminal of 30x100, prints what it found, one fact a line
cat >"$T/pty.py" <<'EOF'
import fcntl, os, select, signal, struct, subprocess, sys, termios, time

scenario, top = sys.argv[1], sys.argv[2:]
master, slave = os.openpty()

def winsize(rows, cols):
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

winsize(30, 100)
before = termios.tcgetattr(slave)
p = subprocess.Popen(top, stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
out = b""

def read_until(pred, secs=10):
    global out
    end = time.time() + secs
    while time.time() < end:
        if pred(out):
            return True
        r, _, _ = select.select([master], [], [], 0.1)
        if r:
            try:
                out += os.read(master, 65536)
            except OSError:
                break
    return pred(out)

def frames():
    # each frame starts with "cursor home"
    return out.split(b"\x1b[H")

print("screen", read_until(lambda o: b"\x1b[?1049h" in o and b"c-full" in o.split(b"\x1b[H")[-1]))
print("raw", not (termios.tcgetattr(slave)[3] & termios.ICANON))
if scenario == "keys":
    n = len(frames())
    os.write(master, b"n")
    print("by-name", read_until(lambda o: b", by name, " in o.split(b"\x1b[H")[-1]))
    os.write(master, b"f")
    print("by-fill", read_until(lambda o: b", by fill, " in o.split(b"\x1b[H")[-1]))
    # a smaller window: 6 rows, 60 columns
    winsize(6, 60)
    p.send_signal(signal.SIGWINCH)
    def small(o):
        f = o.split(b"\x1b[H")[-1]
        if b"\x1b[J" not in f:
            return False
        lines = f.split(b"\x1b[J")[0].replace(b"\x1b[K", b"").split(b"\r\n")
        return len(lines) <= 6 and all(len(l) <= 60 for l in lines) and b"more channels" in f
    print("resized", read_until(small))
    os.write(master, b"q")
else:
    p.send_signal(signal.SIGTERM)
try:
    rc = p.wait(10)
except subprocess.TimeoutExpired:
    p.kill()
    rc = "hung"
read_until(lambda o: False, 0.3)
print("rc", rc)
print("left", out.rstrip().endswith(b"\x1b[?1049l"))
print("restored", termios.tcgetattr(slave) == before)
EOF

run timeout 60 python3 "$T/pty.py" keys $B top -d 0.2
is "$(printf '%s\n' "$OUT" | sed -n 's/^screen //p')" True "on a terminal: the alternate screen, with the channels"
is "$(printf '%s\n' "$OUT" | sed -n 's/^raw //p')" True "the terminal is in raw mode while it runs"
is "$(printf '%s\n' "$OUT" | sed -n 's/^by-name //p')" True "key n: sorted by name"
is "$(printf '%s\n' "$OUT" | sed -n 's/^by-fill //p')" True "key f: sorted by fill"
is "$(printf '%s\n' "$OUT" | sed -n 's/^resized //p')" True "SIGWINCH: the frame fits 6x60, with '... more channels'"
is "$(printf '%s\n' "$OUT" | sed -n 's/^rc //p')" 0 "key q: exit 0"
is "$(printf '%s\n' "$OUT" | sed -n 's/^left //p')" True "q: the alternate screen is left"
is "$(printf '%s\n' "$OUT" | sed -n 's/^restored //p')" True "q: the terminal's settings are restored"
[ "$RC" = 0 ] || diag "pty.py: $ERR"

run timeout 60 python3 "$T/pty.py" term $B top
is "$(printf '%s\n' "$OUT" | sed -n 's/^screen //p')" True "SIGTERM case: the screen was drawn"
is "$(printf '%s\n' "$OUT" | sed -n 's/^rc //p')" -15 "SIGTERM: ends by the signal"
is "$(printf '%s\n' "$OUT" | sed -n 's/^left //p')" True "SIGTERM: the alternate screen is left"
is "$(printf '%s\n' "$OUT" | sed -n 's/^restored //p')" True "SIGTERM: the terminal's settings are restored"
[ "$RC" = 0 ] || diag "pty.py: $ERR"

done_testing
