#!/bin/bash
# ipcbrokerd's command line: -t/--check-config, -V, -h, usage errors, and the
# FILE:LINE error report of a bad configuration (exit 78).
. "$top_srcdir/tests/lib.sh"

test_init

out="$T/out"
err="$T/err"

mq_exists() { "$MQTOOL" attr "$1" >/dev/null 2>&1; }

# run_daemon ARGS...: runs ipcbrokerd with a bound, stdout in $out, stderr in $err; sets $rc
run_daemon() {
        timeout 10 "$IPCBROKERD" "$@" >"$out" 2>"$err"
        rc=$?
}

version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$top_builddir/build-config.h")

# ---- -t on the bundled example configuration ----
# (a root-owned copy, as the README's first command makes: a sudo user's
# checkout is theirs, and the daemon reads only files root or it owns)
install -m 0644 "$top_srcdir/conf/ipcbroker.conf" "$T/example.conf"
run_daemon -t -c "$T/example.conf"
is "$rc" 0 "-t on the bundled conf/ipcbroker.conf exits 0"
like "$(cat "$out")" 'configuration OK: 5 channels \(4 queues, 1 FIFOs\)' "-t summary counts the bundled channels"
like "$(cat "$out")" 'mqueue +sensors\.temp +/ipcbroker\.sensors\.temp +10 x 256 bytes' "-t summary shows a bundled queue with its kernel name and size"
like "$(cat "$out")" 'fifo +events .*capacity 65536' "-t summary shows the bundled FIFO and its capacity"
is "$(cat "$err")" "" "-t on the bundled conf prints nothing on stderr"

# ---- -t on a valid temporary configuration ----
add_channel q1 type=mqueue max_messages=5 message_size=100 mode=0640
add_channel f1 type=fifo capacity=8192
add_channel minimal type=mqueue
run_daemon -t -c "$CONF"
is "$rc" 0 "-t on a valid temporary config exits 0"
like "$(head -n1 "$out")" "^$CONF: configuration OK: 3 channels \\(2 queues, 1 FIFOs\\)" "-t summary names the file and counts"
like "$(cat "$out")" "mqueue +q1 +${PREFIX//./\\.}q1 +5 x 100 bytes +0:0 0640" "-t summary: q1 with prefixed kernel name, size, owner and mode"
like "$(cat "$out")" "fifo +f1 +$RUNDIR/fifo/f1 +capacity 8192" "-t summary: f1 under runtime_dir/fifo with its capacity"
like "$(cat "$out")" "mqueue +minimal +${PREFIX//./\\.}minimal +10 x [0-9]+ bytes" "-t summary: a type-only channel gets defaults"
not_ok "-t creates no queue" mq_exists "${PREFIX}q1"
not_ok "-t creates no FIFO" test -e "$RUNDIR/fifo/f1"
not_ok "-t creates no control socket" test -e "$SOCK"

run_daemon --check-config --config="$CONF"
is "$rc" 0 "--check-config --config=FILE (long options) exits 0"
like "$(cat "$out")" "configuration OK: 3 channels" "long options print the same summary"

# ---- a bad configuration: FILE:LINE: message, exit 78 ----
bad="$T/bad.conf"
cat >"$bad" <<EOF
[broker]
mq_prefix = $PREFIX
runtime_dir = $RUNDIR

[channel good]
type = mqueue
max_messages = 10abc
EOF
run_daemon -t -c "$bad"
is "$rc" 78 "-t on a bad config exits 78"
like "$(cat "$err")" "^$bad:7: max_messages: '10abc' is not a number" "the error names the file, line 7 and the problem"
is "$(cat "$out")" "" "no summary is printed for a bad config"

cat >"$bad" <<EOF
[broker]
mq_prefix = $PREFIX

[channel a]
type = mqueue
bogus_key = 1

[channel a]
type = mqueue
EOF
run_daemon -t -c "$bad"
is "$rc" 78 "unknown key and duplicate channel: exit 78"
like "$(cat "$err")" "$bad:6: unknown key 'bogus_key'" "the unknown key is reported at line 6"
like "$(cat "$err")" "$bad:8: duplicate channel 'a'" "the duplicate channel is reported at line 8"
like "$(cat "$err")" "configuration is invalid \\(2 errors\\)" "both errors are counted"

cat >"$bad" <<EOF
[broker]
mq_prefix = $PREFIX

[channel x]
type = mqueue
owner = no-such-user-$$
EOF
run_daemon -t -c "$bad"
is "$rc" 78 "unknown user: exit 78"
like "$(cat "$err")" "$bad:6: owner: unknown user 'no-such-user-$$'" "unknown user reported at line 6"

# the real daemon (not -t) refuses a bad config the same way, before creating anything
run_daemon -c "$bad"
is "$rc" 78 "the daemon without -t exits 78 on a bad config"
EXTRA_QUEUES="${PREFIX}x"
not_ok "nothing created for the bad config" mq_exists "${PREFIX}x"

# ---- a missing configuration file ----
missing="$T/does-not-exist.conf"
run_daemon -t -c "$missing"
is "$rc" 78 "a missing config file exits 78"
like "$(cat "$err")" "$missing" "the error names the missing path"
like "$(cat "$err")" "No such file or directory" "the error says why"

# ---- usage errors: exit 64 ----
run_daemon --no-such-option
is "$rc" 64 "an unknown long option exits 64"
like "$(cat "$err")" "ipcbrokerd --help" "the usage error points at --help"
run_daemon -x -t -c "$CONF"
is "$rc" 64 "an unknown short option exits 64"
run_daemon -t -c "$CONF" extra-argument
is "$rc" 64 "an extra argument exits 64"
like "$(cat "$err")" "extra-argument" "the extra argument is named"
run_daemon -c
is "$rc" 64 "-c without a value exits 64"

# ---- -V and -h ----
run_daemon -V
is "$rc" 0 "-V exits 0"
is "$(cat "$out")" "ipcbrokerd $version" "-V prints the package version"
run_daemon --version
is "$(cat "$out")" "ipcbrokerd $version" "--version prints the package version"
run_daemon -h
is "$rc" 0 "-h exits 0"
like "$(cat "$out")" "^Usage: ipcbrokerd" "-h prints the usage on stdout"
like "$(cat "$out")" "check-config" "-h documents --check-config"
run_daemon --help
is "$rc" 0 "--help exits 0"

done_testing
