#!/bin/bash
# client-paging.sh — list and purge answers that take several reply packets:
# 200 channels (about 60 fit in one LIST or PURGE reply), purge by more names
# than one request carries (WIRE_PURGE_NAMES_MAX = 16). Every channel must be
# reported exactly once, in name order, with its own result.
# Needs python3 (JSON parsing); runs as root.

. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

test_init
command -v python3 >/dev/null || skip_all "python3 is needed to parse the JSON output"

N=200
for i in $(seq -f '%03g' 0 $((N - 1))); do
        add_channel "p$i" type=fifo message_size=32 capacity=4096 on_stop=remove
done
daemon_start || bail_out "the daemon did not start"

B=$IPCBROKER
expected=$(seq -f 'p%03g' 0 $((N - 1)))

# ---- list ---------------------------------------------------------------------------
out=$($B list --json)
is "$?" 0 "list --json of $N channels: exit 0"
names=$(printf '%s' "$out" | python3 -c 'import json,sys; print("\n".join(c["name"] for c in json.load(sys.stdin)))')
is "$(printf '%s\n' "$names" | wc -l)" "$N" "list: $N entries over several replies"
is "$names" "$expected" "list: every channel once, in name order"
is "$($B list | tail -n +2 | awk '{print $1}')" "$expected" "list (text): every channel once, in name order"

# a message in every 7th channel
filled=0
for i in $(seq 0 7 $((N - 1))); do
        $B send "$(printf 'p%03d' "$i")" "m$i" && filled=$((filled + 1))
done
is "$filled" "$(seq 0 7 $((N - 1)) | wc -l)" "a message sent into every 7th channel"

# ---- purge by name, more names than one request carries ---------------------------
set -- $(seq -f 'p%03g' 0 39)
out=$($B purge "$@")
is "$?" 0 "purge of 40 names: exit 0"
is "$(printf '%s\n' "$out" | cut -d: -f1)" "$(printf '%s\n' "$@")" "purge of 40 names: one result each, in the order given"
is "$(printf '%s\n' "$out" | grep -c 'purged 1 message,')" 6 "purge of 40 names: the 6 channels with a message had it purged"
is "$(printf '%s\n' "$out" | grep -c 'purged 0 messages')" 34 "purge of 40 names: the other 34 were empty"

# ---- purge --all over several replies ---------------------------------------------
out=$($B purge --all)
is "$?" 0 "purge --all of $N channels: exit 0"
is "$(printf '%s\n' "$out" | cut -d: -f1)" "$expected" "purge --all: every channel once, in name order"
is "$(printf '%s\n' "$out" | grep -c 'purged 1 message,')" $((filled - 6)) \
        "purge --all: the messages left after the named purge were purged"
out=$($B list --json)
is "$(printf '%s' "$out" | python3 -c 'import json,sys; print(sum(c["bytes"] for c in json.load(sys.stdin)))')" 0 \
        "every channel is empty afterwards"

ok "clean stop" daemon_stop

done_testing
