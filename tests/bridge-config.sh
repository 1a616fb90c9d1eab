#!/bin/bash
# ipcbroker-bridge's configuration and command line: every bad key or value
# is reported as FILE:LINE with exit 78 (-t checks without connecting), a
# good file passes with a summary, the options and exit codes, and the unit
# and sysusers files pass systemd's own checks.
. "$top_srcdir/tests/bridge-lib.sh"
bridge_init config

BC="$T/bridge.conf"
GOOD='[nats]
url = nats://127.0.0.1:4222, tls://nats.example:4443
name = test bridge

[local]
socket = /run/ipcbroker/ipcbroker.sock
spool_dir = /var/lib/ipcbroker-bridge
origin = host-a

[bridge jobs]
channel = jobs
direction = out
subject = ipc.jobs
stream = IPC
max_inflight = 64
ack_wait = 30s

[bridge results]
direction = in
subject = ipc.results
create_stream = no
durable = results-a
ack_wait = 1500ms'

check() { run "$BRIDGE" -t -c "$BC"; }

printf '%s\n' "$GOOD" >"$BC"
check
is "$RC" 0 "the example-like configuration is valid"
like "$OUT" 'bridge jobs: out, channel jobs -> subject ipc\.jobs, stream IPC, max_inflight 64, ack_wait 30s' \
        "-t prints each bridge"
like "$OUT" 'bridge results: in, subject ipc\.results \(durable results-a\) -> channel results, stream IPC \(must exist\), max_inflight 256, ack_wait 1500ms' \
        "with the defaults filled in (channel = section name, max_inflight 256)"
like "$OUT" 'local: socket /run/ipcbroker/ipcbroker.sock, spool_dir /var/lib/ipcbroker-bridge, origin host-a, sync_interval 1s' \
        "-t prints the local side, sync_interval 1s by default"
printf '%s\n' "$GOOD" | sed 's/^origin = host-a$/origin = host-a\nsync_interval = 0/' >"$BC"
check
like "$OUT" 'origin host-a, sync_interval 0s' "sync_interval = 0 (every time) is accepted"
run "$BRIDGE" -t -c "$top_srcdir/conf/ipcbroker-bridge.conf"
is "$RC" 0 "the bundled example configuration is valid"
like "$OUT" "durable results-$(hostname | tr . _)" "the default durable is CHANNEL-ORIGIN, origin the host name"

# A bad line replaces line LINE of the good file (or is added after it with +LINE): FILE:LINE and the reason,
# at that line or at EXPECTED-LINE.
bad() { # DESCRIPTION [+]LINE TEXT REGEX [EXPECTED-LINE]
        local desc=$1 at=$2 text=$3 re=$4 n
        if [ "${at#+}" != "$at" ]; then
                n=$((${at#+} + 1))
                printf '%s\n' "$GOOD" | awk -v l="${at#+}" -v t="$text" '{ print } NR == l { print t }' >"$BC"
        else
                n=$at
                printf '%s\n' "$GOOD" | awk -v l="$at" -v t="$text" 'NR == l { print t; next } { print }' >"$BC"
        fi
        n=${5:-$n}
        check
        if [ "$RC" = 78 ] && printf '%s' "$ERR" | grep -Eq -- "^$BC:$n: .*$re"; then
                tap_result 0 "$desc: $BC:$n, exit 78"
        else
                tap_result 1 "$desc: $BC:$n, exit 78"
                diag "exit $RC; stderr:"
                printf '%s\n' "$ERR" | sed 's/^/#   /'
        fi
}

# [nats]
bad "url without a NATS scheme" 2 'url = http://x:4222' "not a NATS server URL: it does not start with nats:// or tls://"
bad "url without a host" 2 'url = nats://:4222' "names no host"
bad "url with a bad port" 2 'url = nats://h:70000' "port is not a number from 1 to 65535"
bad "url with a path" 2 'url = nats://h:4222/x' "no path"
bad "url list with an empty item" 2 'url = nats://a:1, ,nats://b:2' "not a NATS server URL"
bad "user without password" +2 'user = alice' "user needs a password"
bad "password without user" +2 'password = secret' "password needs a user"
bad "token with user" +2 $'user = a\npassword = b\ntoken = t' "token and user/password exclude each other" 5
bad "creds not absolute" +2 'creds = bridge.creds' "creds must be an absolute path"
bad "creds unreadable" +2 "creds = $T/none.creds" "creds: cannot read .*none.creds"
bad "tls_ca that cannot be loaded" +2 "tls_ca = $T/none.pem" "tls_ca: cannot load"
bad "tls_cert without tls_key" +2 "tls_cert = $T/cert.pem" "tls_cert needs tls_key"
bad "unknown key in [nats]" +2 'server = x' "unknown key 'server' in \[nats\]"
bad "duplicate key" +2 'url = nats://b:1' "duplicate key 'url' \(already set at line 2\)"
bad "empty value" 3 'name =' "name: empty value"
# [local]
bad "socket not absolute" 6 'socket = ipcbroker.sock' "socket must be an absolute path"
bad "socket too long" 6 "socket = /$(printf 'x%.0s' $(seq 1 120))" "socket is too long \\(at most 107 bytes\\)"
bad "spool_dir not canonical" 7 'spool_dir = /var/lib//bridge' "not a canonical path"
bad "origin with an unknown specifier" 8 'origin = %Q' "origin: unknown specifier '%Q'"
bad "origin with a colon" 8 'origin = a:b' "origin: 'a:b' is not 1 to 64 characters"
bad "origin too long" 8 "origin = $(printf 'h%.0s' $(seq 1 70))" "longer than 64 characters"
bad "sync_interval not a duration" +8 'sync_interval = often' "sync_interval: 'often' is not a duration"
bad "sync_interval too long" +8 'sync_interval = 2h' "sync_interval: 2h is out of range \(0 ms to 3600 s\)"
bad "a [bridge] key in [local]" +8 'subject = x' "key 'subject' belongs in the \[bridge NAME\] section, not in \[local\]"
# [bridge NAME]
bad "bridge name with a slash" 10 '[bridge a/b]' "invalid bridge name 'a/b'"
bad "bridge without a name" 10 '[bridge]' "\[bridge\] needs a name"
bad "bad channel name" 11 'channel = .hidden' "channel: '.hidden' is not a channel name"
bad "unknown direction" 12 'direction = both' "direction: 'both' is not out or in"
bad "no direction (at its section)" 12 '; no direction' "\[bridge jobs\] needs direction = out or in" 10
bad "subject with an empty token" 13 'subject = ipc..jobs' "subject: 'ipc..jobs' is not a NATS subject"
bad "subject with a space" 13 'subject = ipc jobs' "is not a NATS subject"
bad "out subject with wildcards" 13 'subject = ipc.*' "an out bridge publishes on one subject"
bad "bad stream name" 14 'stream = I.P.C' "stream: 'I.P.C' is not a stream name"
bad "max_inflight 0" 15 'max_inflight = 0' "max_inflight: 0 is out of range \(1 to 65536\)"
bad "max_inflight too large" 15 'max_inflight = 70000' "out of range"
bad "max_inflight not a number" 15 'max_inflight = many' "max_inflight: 'many' is not a number"
bad "ack_wait without a number" 16 'ack_wait = soon' "ack_wait: 'soon' is not a duration"
bad "ack_wait with a bad unit" 16 'ack_wait = 30y' "is not a duration"
bad "ack_wait too short" 16 'ack_wait = 10ms' "ack_wait: 10ms is out of range"
bad "ack_wait too long" 16 'ack_wait = 13h' "out of range"
bad "durable on an out bridge" +16 'durable = x' "durable applies to direction = in only"
bad "replicas 0" +16 'replicas = 0' "replicas: 0 is out of range \(1 to 5\)"
bad "replicas for a stream that must exist" +22 'replicas = 3' "replicas applies to a stream the bridge creates"
bad "durable with a dot" 22 'durable = results.a' "durable: 'results.a' is not a consumer name"
bad "create_stream not yes or no" 21 'create_stream = sometimes' "create_stream: 'sometimes' is not yes or no"
bad "a [local] key in a bridge" +16 'origin = x' "key 'origin' belongs in the \[local\] section"
bad "unknown key in a bridge" +16 'priority = 3' "unknown key 'priority' in \[bridge jobs\]"
bad "duplicate bridge" 18 '[bridge jobs]' "duplicate bridge 'jobs' \(already declared at line 10\)"
bad "a channel bridged both ways (at the second section)" +19 'channel = jobs' "channel 'jobs' is bridged both ways" 18
bad "two out bridges on one channel" +23 $'[bridge jobs2]\nchannel = jobs\ndirection = out' \
        "channel 'jobs' is already bridged out by \[bridge jobs\] \(line 10\)" 24
# syntax
bad "unknown section" 5 '[locals]' "unknown section \[locals\]"
bad "duplicate section" +9 '[nats]' "duplicate section \[nats\] \(already begun at line 1\)"
bad "unterminated section header" 5 '[local' "unterminated section header"
bad "text after a section header" 5 '[local] x' "unexpected text after section header"
bad "a line without =" +2 'just words' "expected 'key = value', '\[section\]' or a comment"
bad "an indented continuation line" +2 '    nats://c:1' "unexpected indented line"
bad "a line too long for the parser" +2 "name = $(printf 'n%.0s' $(seq 1 250))" "line too long"

# the same durable twice on one stream
printf '%s\n[bridge again]\nchannel = other\ndirection = in\nsubject = ipc.results\ndurable = results-a\n' "$GOOD" >"$BC"
check
like "$ERR" "^$BC:24: durable 'results-a' on stream IPC is already used by \[bridge results\]" \
        "the same durable twice: FILE:LINE"
is "$RC" 78 "exit 78"
# a key before any section
{ echo 'url = nats://x:1'; printf '%s\n' "$GOOD"; } >"$BC"
check
like "$ERR" "^$BC:1: key 'url' outside of any section" "a key outside any section: FILE:LINE"
# every error at once
printf '[nats]\nurl = x\n[local]\norigin = a:b\n[bridge q]\ndirection = up\n' >"$BC"
check
is "$(printf '%s\n' "$ERR" | grep -c "^$BC:[0-9]*: ")" 3 "one run reports every error"
like "$ERR" 'configuration is invalid \(3 errors\)' "and counts them"
# no bridge at all
printf '[nats]\nurl = nats://127.0.0.1:4222\n' >"$BC"
check
like "$ERR" "^$BC: no \[bridge NAME\] section" "a file without bridges is refused"
is "$RC" 78 "exit 78"
# the file itself
run "$BRIDGE" -t -c "$T/missing.conf"
like "$ERR" "^$T/missing.conf: cannot open: No such file or directory" "a missing file: its name and why"
is "$RC" 78 "exit 78"
printf '%s\n' "$GOOD" >"$BC"
chmod 0664 "$BC"
check
like "$ERR" "^$BC: is writable by group or others \(mode 0664\)" "a file others may change is refused"
is "$RC" 78 "exit 78"
chmod 0644 "$BC"
run $AS_NOBODY "$BRIDGE" -t -c "$BC"
is "$RC" 0 "a file owned by root is read by an unprivileged bridge"

# ---- the command line ----------------------------------------------------------------------------------
run "$BRIDGE" -h
is "$RC" 0 "-h exits 0"
like "$OUT" 'Usage: ipcbroker-bridge \[OPTIONS\]' "and prints the usage"
like "$OUT" "default: .*/ipcbroker-bridge\.conf" "naming the default configuration file"
run "$BRIDGE" -V
like "$OUT" '^ipcbroker-bridge [0-9.]+ \(NATS C client [0-9.]+\)$' "-V prints the version"
run "$BRIDGE" --bogus
is "$RC" 64 "an unknown option exits 64"
run "$BRIDGE" extra
is "$RC" 64 "an operand exits 64"
like "$ERR" "unexpected argument 'extra'" "and says so"

# ---- where the network code lives -----------------------------------------------------------------------
is "$(grep -l 'nats' "$top_srcdir"/daemon/*.[ch] "$top_srcdir"/client/*.[ch] "$top_srcdir"/common/*.[ch] 2>/dev/null)" "" \
        "the daemon, the library and common/ never mention NATS"
foreign=$(cd "$top_srcdir/bridge" && for f in *.c *.h; do
        sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f" | while read -r h; do
                [ -f "$h" ] || [ "$h" = build-config.h ] || [ "$h" = util.h ] || [ "$h" = service-options.h ] ||
                        [ "$h" = config-errors.h ] ||
                        echo "$f: $h"
        done
done)
is "$foreign" "" "the bridge includes its own headers, common/util.h, common/service-options.h, common/config-errors.h and the public <ipcbroker.h> only (a client like any other)"
daemon_bin="$top_builddir/.libs/ipcbrokerd"
[ -x "$daemon_bin" ] || daemon_bin="$top_builddir/ipcbrokerd"
if command -v ldd >/dev/null; then
        is "$(ldd "$daemon_bin" 2>/dev/null | grep -c libnats)" 0 "ipcbrokerd does not link libnats"
fi

# ---- the unit and its user ------------------------------------------------------------------------------
UNIT="$top_builddir/systemd/ipcbroker-bridge.service"
ok "the unit is built with the configured paths" grep -q '^ExecStart=/.*/ipcbroker-bridge -c /.*/ipcbroker-bridge\.conf$' "$UNIT"
for k in 'Type=notify' 'User=ipcbroker-bridge' 'StateDirectory=ipcbroker-bridge' 'CapabilityBoundingSet=' \
        'ProtectSystem=strict' 'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' 'Restart=on-failure' \
        'TimeoutStartSec=infinity' 'NoNewPrivileges=yes'; do
        ok "the unit has $k" grep -qx "$k" "$UNIT"
done
ok "it starts after ipcbroker.socket" grep -q '^After=.*ipcbroker\.socket' "$UNIT"
if command -v systemd-analyze >/dev/null; then
        mkdir -p "$T/units"
        sbindir=$(sed -n 's|^ExecStart=\(.*\)/ipcbroker-bridge .*|\1|p' "$UNIT")
        sed "s|$sbindir/ipcbroker-bridge|$top_builddir/ipcbroker-bridge|" "$UNIT" >"$T/units/ipcbroker-bridge.service"
        ok "systemd-analyze verify accepts the unit" systemd-analyze verify --man=no "$T/units/ipcbroker-bridge.service"
        systemd-analyze security --offline=yes --threshold=20 "$T/units/ipcbroker-bridge.service" >"$T/security.txt" 2>&1
        ok "systemd-analyze security rates it at most 2.0 (OK)" test $? = 0
        diag "$(grep 'Overall exposure' "$T/security.txt")"
else
        diag "systemd-analyze not installed: the unit is not verified"
fi
if command -v systemd-sysusers >/dev/null; then
        mkdir -p "$T/root/etc"
        run systemd-sysusers --root="$T/root" --dry-run "$top_srcdir/systemd/ipcbroker-bridge.sysusers"
        is "$RC" 0 "systemd-sysusers accepts the sysusers.d file"
        like "$OUT$ERR" "ipcbroker-bridge" "which creates the user ipcbroker-bridge"
else
        diag "systemd-sysusers not installed: the sysusers.d file is not checked"
fi

done_testing
