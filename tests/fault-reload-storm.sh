#!/bin/bash
# 100 reloads (SIGHUP and `ipcbroker reload`) while traffic flows, with the
# configuration alternating between valid and invalid: no message is lost,
# no declared channel disappears, and the daemon never stops serving.
. "$top_srcdir/tests/lib.sh"
test_init
STREAM="$top_builddir/tests/helpers/stream"

add_channel q1 type=mqueue max_messages=10 message_size=64 on_stop=remove
add_channel f1 type=fifo mode=0600 message_size=64 on_stop=remove
cp "$CONF" "$T/valid.conf"
{ cat "$T/valid.conf"; echo; echo "[channel broken]"; echo "type = sometimes"; } >"$T/invalid.conf"
ok "daemon starts" daemon_start
pid=$DAEMON_PID

SENDERS=3
PER_SENDER=2000
for ch in q1 f1; do
        "$STREAM" recv "$ch" $((SENDERS * PER_SENDER)) 30 >"$T/$ch.out" 2>"$T/$ch.err" &
        eval "recv_$ch=\$!"
        for s in $(seq 1 $SENDERS); do
                "$STREAM" send "$ch" "$ch-$s" $PER_SENDER 2>>"$T/send.err" &
                eval "send_${ch}_$s=\$!"
        done
done

hup_ok=0
cli_ok=0
cli_refused=0
lost_channel=0
for i in $(seq 1 100); do
        if [ $((i % 2)) = 0 ]; then cp "$T/valid.conf" "$CONF"; else cp "$T/invalid.conf" "$CONF"; fi
        if [ $((i % 4)) -lt 2 ]; then
                daemon_reload && hup_ok=$((hup_ok + 1))
        else
                if "$IPCBROKER" reload >/dev/null 2>"$T/reload.err"; then
                        cli_ok=$((cli_ok + 1))
                elif grep -q "reload failed" "$T/reload.err"; then
                        cli_refused=$((cli_refused + 1))
                fi
        fi
        "$IPCBROKER" stat q1 >/dev/null 2>&1 && "$IPCBROKER" stat f1 >/dev/null 2>&1 ||
                lost_channel=$((lost_channel + 1))
done
is "$hup_ok" 50 "50 reloads by SIGHUP each ended with READY=1"
is "$cli_ok" 25 "25 valid reloads by 'ipcbroker reload' succeeded"
is "$cli_refused" 25 "25 invalid reloads by 'ipcbroker reload' were refused with the reason"
is "$lost_channel" 0 "the declared channels answered after every reload"
ok "the same daemon is still running" kill -0 "$pid"
like "$(grep -c 'reload failed: the configuration is invalid' "$DAEMON_LOG")" '^50$' "every invalid configuration was reported"
ok "the invalid configurations were reported with FILE:LINE" grep -q "ipcbroker.conf:[0-9]*: type: 'sometimes'" "$DAEMON_LOG"

status=0
for ch in q1 f1; do
        for s in $(seq 1 $SENDERS); do
                eval "wait \$send_${ch}_$s" || status=1
        done
done
is "$status" 0 "every sender finished"
[ -s "$T/send.err" ] && diag "$(cat "$T/send.err")"
for ch in q1 f1; do
        eval "wait \$recv_$ch"
        is "$?" 0 "$ch: the receiver got all it waited for"
        is "$(sort -u "$T/$ch.out" | wc -l)" $((SENDERS * PER_SENDER)) "$ch: every message exactly once"
done
ok "clean stop" daemon_stop

done_testing
