#!/bin/bash
# systemd-container.sh — the shipped units under a real systemd 252 as PID 1
# (issue 14, part 7): a minimal Debian 12 booted with systemd-nspawn, the
# build installed into it with `make install DESTDIR=`, everything driven
# through nsenter into the container (machinectl needs a host systemd).
#
# Not part of `make check` (it boots a container and takes a minute or two):
# run it with `make check-systemd`; .ci/run does, as a step of its own.
#
#   IPCBROKER_ROOTFS_CACHE  where the Debian 12 tree is kept between runs
#                           (default /var/cache/ipcbroker-ci)
#   IPCBROKER_DEBIAN_MIRROR the mirror debootstrap uses (default: the host's
#                           bookworm mirror from /etc/apt/sources.list*)
#   IPCBROKER_SYSTEMD_TEST_REQUIRED=1  fail instead of skipping when this
#                           machine cannot run it (CI sets it)
#
# Logs kept after the run (for a CI reader): tests/systemd-container.console.log
# (the container's console) and tests/systemd-container.journal.log (its
# journal of the ipcbroker units) in the build directory.
. "$top_srcdir/tests/lib.sh"

START_MS=$(now_ms)
BOOT_WAIT=120          # the container's boot, bounded
UNIT_WAIT=30           # a start, stop or restart of the service
WATCHDOG_SEC=3         # the test's drop-in (the unit ships 30 s)

cannot_run() {
        if [ "${IPCBROKER_SYSTEMD_TEST_REQUIRED:-0}" = 1 ]; then
                bail_out "cannot run here, but IPCBROKER_SYSTEMD_TEST_REQUIRED=1: $*"
        fi
        skip_all "$*"
}

[ "$(id -u)" = 0 ] || cannot_run "needs root (debootstrap, mount, systemd-nspawn)"
for tool in systemd-nspawn debootstrap nsenter setpriv python3 flock; do
        command -v "$tool" >/dev/null ||
                cannot_run "$tool is not installed (apt-get install systemd-container debootstrap)"
done
[ -f "$top_srcdir/configure" ] || cannot_run "$top_srcdir/configure is missing: run autoreconf -fi"

umask 022
# what commands print on standard error goes into the log in order with the results
exec 2>&1
T=$(mktemp -d "${TMPDIR:-/var/tmp}/ipcbroker-systemd.XXXXXX") || bail_out "mktemp failed"
MACHINE="ipcbt-$$-$(date +%s)"
ROOT="$T/root"
CONSOLE_LOG="$top_builddir/tests/systemd-container.console.log"
JOURNAL_LOG="$top_builddir/tests/systemd-container.journal.log"
mkdir -p "$top_builddir/tests"
: >"$CONSOLE_LOG"
: >"$JOURNAL_LOG"
. "$top_srcdir/tests/container-lib.sh"

# ---- cleanup: no process, mount or directory is left behind ------------------

cleanup() {
        local rc=$?
        container_cleanup
        if [ "$TAP_FAILED" != 0 ] && [ -s "$T/quiet.out" ]; then
                diag "---- the steps between the checks ----"
                tail -n 60 "$T/quiet.out" | sed 's/^/# /'
        fi
        if [ -n "$T" ] && [ -d "$T" ]; then
                if findmnt -rn -o TARGET | grep -q "^$T"; then
                        diag "mounts left under $T:"
                        findmnt -rn -o TARGET | grep "^$T" | sed 's/^/# /'
                else
                        rm -rf "$T"
                fi
        fi
        exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ok "Debian 12 tree with systemd ready" rootfs_ready
[ -f "$BASE/.ipcbroker-rootfs-complete" ] || bail_out "no Debian 12 tree"
diag "tree: ${ROOTFS_HOW:-}"
ok "the run's own root" root_prepare || bail_out "cannot prepare the container's root"
diag "root: ${ROOT_HOW:-}"

# ---- the build, installed as a package would be --------------------------------

# A build of its own, configured as a package would be; a source tree configured
# in place cannot have a second, separate build, so there the tree's own build is
# used if it was configured for these directories (the README's ./configure).
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make "$@"; }
makevar() { sed -n "s|^$2 = ||p" "$1/Makefile"; } # BUILDDIR NAME
for_system() { # BUILDDIR
        [ "$(makevar "$1" prefix)" = /usr ] && [ "$(makevar "$1" sysconfdir)" = /etc ] &&
                [ "$(makevar "$1" runstatedir)" = /run ]
}
build_install() {
        if [ -f "$top_srcdir/config.status" ]; then
                BUILD=$top_srcdir
                if ! for_system "$BUILD"; then
                        diag "$top_srcdir is configured in place, not for /usr, /etc and /run: configure it with"
                        diag "./configure --prefix=/usr --sysconfdir=/etc, or build out of tree (mkdir _b && cd _b && ../configure)"
                        return 1
                fi
        else
                BUILD="$top_builddir/tests/systemd-container.build"
                mkdir -p "$BUILD" || return 1
        fi
        (
                cd "$BUILD" || exit 1
                if [ "$BUILD" != "$top_srcdir" ] && { [ ! -f Makefile ] || [ "$top_srcdir/configure" -nt config.status ]; }; then
                        "$top_srcdir/configure" --prefix=/usr --sysconfdir=/etc --localstatedir=/var --runstatedir=/run \
                                --with-systemdsystemunitdir=/lib/systemd/system >configure.log 2>&1 ||
                                { tail -n 20 configure.log; exit 1; }
                fi
                mk -j"$(nproc 2>/dev/null || echo 2)" >make.log 2>&1 || { tail -n 40 make.log; exit 1; }
                mk install DESTDIR="$ROOT" >install.log 2>&1 || { tail -n 20 install.log; exit 1; }
        ) 2>&1 | sed 's/^/# /'
        [ "${PIPESTATUS[0]}" = 0 ]
}
t0=$(now_ms)
ok "make install DESTDIR= of a build for /usr, /etc, /run" build_install || bail_out "the build does not install"
diag "built and installed in $(( ($(now_ms) - t0) / 1000 )) s ($BUILD)"
UNITDIR=$(makevar "$BUILD" systemdsystemunitdir)
case $UNITDIR in
/lib/systemd/system | /usr/lib/systemd/system | /etc/systemd/system | /usr/local/lib/systemd/system) ;;
*) bail_out "the units went to $UNITDIR, where systemd does not look (--with-systemdsystemunitdir)" ;;
esac
for f in /usr/sbin/ipcbrokerd /usr/bin/ipcbroker /etc/ipcbroker.conf "$UNITDIR/ipcbroker.service" \
        "$UNITDIR/ipcbroker.socket"; do
        [ -e "$ROOT$f" ] || bail_out "$f is not installed"
done
UNITS=$(cd "$ROOT$UNITDIR" && ls ipcbroker*)
diag "units installed in $UNITDIR: $(echo $UNITS)"

# The test's channels, next to the example configuration's: a queue and a FIFO
# that only the daemon holds, both kept at stop.
cat >"$ROOT/etc/ipcbroker.d/50-test.conf" <<'EOF'
[channel t.queue]
type = mqueue
mode = 0666
max_messages = 10
message_size = 128
on_stop = keep

[channel t.fifo]
type = fifo
mode = 0666
message_size = 128
on_stop = keep
EOF

# ---- boot ------------------------------------------------------------------

t0=$(now_ms)
if ! ok "the container boots with systemd as PID 1" boot; then
        diag "state: ${STATE:-none}; console:"
        tail -n 40 "$CONSOLE_LOG" | sed 's/^/# /'
        bail_out "the container did not boot"
fi
diag "booted in $(( ($(now_ms) - t0) / 1000 )) s: $STATE"
[ "$STATE" = running ] || diag "failed units: $(ct systemctl --failed --no-legend --plain | awk '{print $1}' | tr '\n' ' ')"
like "$(ct systemctl --version | head -n1)" '^systemd 252 ' "PID 1 is systemd 252"
is "$(ct cat /proc/1/comm)" systemd "the container's PID 1 is systemd"

# ---- helpers on the running service ----------------------------------------

prop() { ct systemctl show -p "$1" --value "${2:-ipcbroker.service}"; }
# of ipcbroker.service, or of UNIT
main_pid() { prop MainPID "${1:-}"; }
service_state() { echo "$(prop ActiveState "${1:-}")/$(prop SubState "${1:-}")"; }
service_running() { [ "$(service_state "${1:-}")" = active/running ]; }
# running with a main process other than PID
restarted_from() { # PID [UNIT]
        local now
        service_running "${2:-}" || return 1
        now=$(main_pid "${2:-}")
        [ "$now" != 0 ] && [ "$now" != "$1" ]
}
# journal of the ipcbroker units, as JSON lines
journal_json() { ct journalctl --no-pager -o json -u ipcbroker.service; }
# The daemon's own journal entries whose MESSAGE matches REGEX (not ExecReload's:
# ipcbroker reload prints on standard error, at info), one a line: the value of
# each FIELD ("-" where the entry has none), then "| MESSAGE"
daemon_entries() { # REGEX FIELD...
        journal_json | python3 -c '
import json, re, sys
for line in sys.stdin:
    e = json.loads(line)
    m = e.get("MESSAGE")
    if e.get("SYSLOG_IDENTIFIER") == "ipcbrokerd" and isinstance(m, str) and re.search(sys.argv[1], m):
        print(*[e.get(f, "-") for f in sys.argv[2:]], "|", m)' "$@"
}
# PRIORITY of the daemon's first journal entry whose MESSAGE matches REGEX
priority_of() { # REGEX
        daemon_entries "$1" PRIORITY | sed -n '1s/ |.*//p'
}
# SYSLOG_IDENTIFIER of the first journal entry of the service whose MESSAGE matches REGEX
identifier_of() { # REGEX
        journal_json | python3 -c '
import json, re, sys
for line in sys.stdin:
    e = json.loads(line)
    m = e.get("MESSAGE")
    if isinstance(m, str) and re.search(sys.argv[1], m):
        print(e.get("SYSLOG_IDENTIFIER", "?"))
        break' "$1"
}
journal_has() { # REGEX [journalctl options...]
        local re=$1
        shift
        ct journalctl --no-pager -u ipcbroker.service "$@" | grep -Eq -- "$re"
}
recv1() { ct ipcbroker recv "$1" --nonblock -n 1 2>&1; }
# ok, with the command's output shown only when it fails
okq() { # DESCRIPTION COMMAND...
        local desc=$1
        shift
        if "$@" >"$T/okq.out" 2>&1; then
                tap_result 0 "$desc"
        else
                tap_result 1 "$desc"
                diag "command failed: $*"
                sed 's/^/#   /' "$T/okq.out" | tail -n 20
        fi
}
# not_ok, quietly: passes when the command fails
failsq() { # DESCRIPTION COMMAND...
        local desc=$1
        shift
        if "$@" >"$T/okq.out" 2>&1; then
                tap_result 1 "$desc"
                diag "command unexpectedly succeeded: $*"
                sed 's/^/#   /' "$T/okq.out" | tail -n 20
        else
                tap_result 0 "$desc"
        fi
}
# quiet: what the test does between checks (what it prints is shown at the end if a check failed)
q() { echo "\$ $*" >>"$T/quiet.out"; "$@" >>"$T/quiet.out" 2>&1; }
drain() { while ct ipcbroker recv "$1" --nonblock -n 1 >/dev/null 2>&1; do :; done; }

# ---- units, socket activation ------------------------------------------------

okq "systemctl enable ipcbroker.socket ipcbroker.service" ct systemctl enable --quiet ipcbroker.socket ipcbroker.service
is "$(ct systemctl is-enabled ipcbroker.socket ipcbroker.service | tr '\n' ' ')" "enabled enabled " "both units are enabled"
okq "systemctl start ipcbroker.socket" ct systemctl start ipcbroker.socket
is "$(prop ActiveState ipcbroker.socket)" active "the socket listens"
is "$(prop ActiveState)" inactive "the service waits for its first client"
is "$(ct stat -c '%A %U' /run/ipcbroker/ipcbroker.sock)" "srw-rw-rw- root" "the socket is root's, mode 0666"
sock_ino=$(ct stat -c %i /run/ipcbroker/ipcbroker.sock)

run as_nobody ipcbroker status --json
is "$RC" 0 "ipcbroker status as nobody is answered: socket activation"
[ "$RC" = 0 ] || diag "$ERR"
pid=$(printf '%s' "$OUT" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])' 2>/dev/null)
is "$(service_state)" active/running "the service was started by that connection"
is "$(main_pid)" "${pid:-none}" "the answer came from the service's main process"
like "$OUT" '"socket": "/run/ipcbroker/ipcbroker.sock"' "the daemon serves /run/ipcbroker/ipcbroker.sock"
listen_env() { ct cat "/proc/$(main_pid)/environ" | tr '\0' '\n' | sed -n 's/^LISTEN_FDNAMES=//p'; }
is "$(listen_env)" ipcbroker.socket "it was given the socket unit's socket (LISTEN_FDNAMES), nothing else"
is "$(ct stat -c %i /run/ipcbroker/ipcbroker.sock)" "$sock_ino" "the socket file is still systemd's (same inode)"
okq "nobody sends through a public channel" as_nobody ipcbroker send public.chat "hello from nobody"
is "$(as_nobody ipcbroker recv public.chat -n 1 -t 5 2>&1)" "hello from nobody" "and receives it"

# ---- notify status -------------------------------------------------------------

n_channels=$(ct ipcbroker list --json | python3 -c 'import json,sys; j=json.load(sys.stdin); print(len(j["channels"]) if isinstance(j, dict) else len(j))' 2>/dev/null)
STATUS_RE="[0-9]+ channels \\([0-9]+ ready, 0 unavailable\\), [0-9]+ clients"
# STATUS= follows a change within a second
status_settled() { [[ "$(prop StatusText)" =~ ^$STATUS_RE$ ]]; }
wait_until 5 status_settled
like "$(ct systemctl status --no-pager ipcbroker.service 2>&1)" "Status: \"$STATUS_RE\"" \
        "systemctl status shows the daemon's STATUS= text"
like "$(prop StatusText)" "^${n_channels:-x} channels \\(${n_channels:-x} ready, 0 unavailable\\)" \
        "STATUS= counts every channel (${n_channels:-?}) as ready"
is "$(prop Type)/$(prop NotifyAccess)" notify/main "Type=notify, the main process notifies"

# ---- the FIFOs' descriptors in the service's store (part 1) ----------------------

n_fifos=$(ct ipcbroker list --json | python3 -c '
import json, sys
j = json.load(sys.stdin)
chs = j["channels"] if isinstance(j, dict) else j
print(sum(1 for c in chs if c.get("type") == "fifo"))' 2>/dev/null)
is "$(prop NFileDescriptorStore)" "${n_fifos:-?}" "each FIFO channel's descriptor (${n_fifos:-?}) is in the store (NFileDescriptorStore)"

# ---- directory modes under UMask=0077 (part 3) ---------------------------------

mainpid=$(main_pid)
is "$(ct sed -n 's/^Umask:[[:space:]]*//p' "/proc/$mainpid/status")" 0077 "the daemon runs with umask 0077"
is "$(ct stat -c '%a' /run/ipcbroker /run/ipcbroker/fifo | tr '\n' ' ')" "755 755 " \
        "/run/ipcbroker and /run/ipcbroker/fifo are 0755 all the same"
is "$(ct stat -c '%a %U %G' /run/ipcbroker/fifo/events)" "640 root users" "a FIFO gets its declared mode, owner and group"
okq "nobody opens a FIFO by its path and writes to it" \
        as_nobody timeout 5 sh -c 'printf "by path" >/run/ipcbroker/fifo/t.fifo'
is "$(recv1 t.fifo)" "by path" "the daemon's channel has that message"

# ---- the hardening is in force (part 6) ---------------------------------------------

# CAP_CHOWN 0, CAP_DAC_OVERRIDE 1, CAP_FOWNER 3, CAP_SYS_RESOURCE 24: as many
# of them as the container has (a host may withhold some, CAP_SYS_RESOURCE here)
capbnd() { ct sed -n 's/^CapBnd:[[:space:]]*//p' "/proc/$1/status"; }
pid1_caps=$(capbnd 1)
want_caps=$(printf '%016x' $(( 0x100000b & 0x${pid1_caps:-0} )))
[ "$want_caps" = 000000000100000b ] ||
        diag "the container's PID 1 has capabilities $pid1_caps: CAP_SYS_RESOURCE is missing on this host"
is "$(capbnd "$mainpid")" "$want_caps" \
        "capability bounding set: CAP_CHOWN CAP_DAC_OVERRIDE CAP_FOWNER CAP_SYS_RESOURCE (of those the container has)"
is "$(ct sed -n 's/^NoNewPrivs:[[:space:]]*//p;s/^Seccomp:[[:space:]]*/seccomp /p' "/proc/$mainpid/status" | tr '\n' ' ')" \
        "1 seccomp 2 " "NoNewPrivileges, and a system call filter"
net_ns() { ct readlink "/proc/$1/ns/net"; }
ok "PrivateNetwork: a network namespace of its own" test "$(net_ns "$mainpid")" != "$(net_ns 1)"
ipc1=$(ct readlink /proc/1/ns/ipc)
is "$(ct readlink "/proc/$mainpid/ns/ipc")" "${ipc1:-none}" "PrivateIPC=no: the system's queues"
# what the daemon may write, seen from its own mount namespace
writable() { ct nsenter --target "$mainpid" --mount sh -c 'for d; do test -w "$d" && echo "$d"; done; true' sh "$@" | tr '\n' ' '; }
is "$(writable /etc /usr /var /run/ipcbroker)" "/run/ipcbroker " \
        "ProtectSystem=strict: of /etc, /usr, /var and /run/ipcbroker only the runtime directory is writable to it"
is "$(prop WatchdogUSec)" 30s "the unit ships WatchdogSec=30s"
if [ $(( 0x${pid1_caps:-0} & (1 << 24) )) != 0 ]; then
        is "$(ct awk '/^Max msgqueue size/ {print $4, $5}' "/proc/$mainpid/limits")" "67108864 67108864" \
                "LimitMSGQUEUE=64 MiB is in force"
else
        # systemd sets the closest limit it may: the one it has
        skip "LimitMSGQUEUE=64 MiB is in force" "the container has no CAP_SYS_RESOURCE to raise it (this host withholds it)"
fi

# ---- reload (part 2) -----------------------------------------------------------

pid=$(main_pid)
put /etc/ipcbroker.d/60-reload.conf <<'EOF'
[channel t.new]
type = mqueue
mode = 0600
max_messages = 4
message_size = 64

[channel t.newfifo]
type = fifo
mode = 0600
on_stop = remove
EOF
run ct systemctl reload ipcbroker.service
is "$RC" 0 "systemctl reload of a valid configuration succeeds"
stat_new() { ct ipcbroker stat t.new && ct ipcbroker stat t.newfifo; }
okq "the reload's new channels are served" stat_new
is "$(prop NFileDescriptorStore)" $((n_fifos + 1)) "the new FIFO's descriptor joins the store (FDSTORE=1)"
is "$(main_pid)" "$pid" "reloaded in place (same main process)"
ok "ExecReload's answer is in the journal" wait_until 10 journal_has 'reloaded: [0-9]+ channels \([0-9]+ new'

put /etc/ipcbroker.d/70-bad.conf <<'EOF'
[channel t.bad]
type = mqueue
max_messages = lots
EOF
run ct systemctl reload ipcbroker.service
not_ok "systemctl reload of an invalid configuration fails" test "$RC" = 0
printf '%s\n' "$ERR" | sed 's/^/# systemctl: /'
ok "the reason, with FILE:LINE, is in the journal" \
        wait_until 10 journal_has '/etc/ipcbroker.d/70-bad.conf:3: '
diag "$(ct journalctl --no-pager -u ipcbroker.service -n 200 | grep -m1 '70-bad.conf:3')"
# what ExecReload (ipcbroker reload) printed: the reason systemctl's failure stands for
is "$(identifier_of 'reload failed: /etc/ipcbroker.d/70-bad.conf:3: ')" ipcbroker \
        "ExecReload's ipcbroker reload reports the reason, with FILE:LINE"
like "$(ct systemctl status --no-pager -n 20 ipcbroker.service 2>&1)" 'ipcbroker\[[0-9]+\]: ipcbroker: reload failed: /etc/ipcbroker.d/70-bad.conf:3: ' \
        "systemctl status (where systemctl's failure points) shows it"
is "$(service_state)" active/running "the service keeps running"
is "$(main_pid)" "$pid" "the same daemon, on the old configuration"
okq "its channels still work" ct ipcbroker send t.new still
is "$(recv1 t.new)" still "and receive"
q ct rm -f /etc/ipcbroker.d/70-bad.conf /etc/ipcbroker.d/60-reload.conf
okq "a reload of the repaired configuration succeeds" ct systemctl reload ipcbroker.service
stat_gone() { # NAME: what stat says is shown if it is not that
        local out
        out=$(ct ipcbroker stat "$1" 2>&1)
        printf '%s\n' "$out"
        [[ $out == *"no channel named"* ]]
}
withdrawn_gone() { stat_gone t.new && stat_gone t.newfifo; }
okq "the withdrawn channels are gone (no channel named ...)" withdrawn_gone
is "$(prop NFileDescriptorStore)" "$n_fifos" "the withdrawn FIFO's descriptor leaves the store (FDSTOREREMOVE=1)"

# ---- journal priorities -----------------------------------------------------

run as_nobody ipcbroker recv jobs --nonblock
is "$RC" 1 "nobody may not receive from jobs"
ok "the denial is logged" wait_until 10 journal_has 'denied: uid 65534'
is "$(priority_of 'denied: uid 65534')" 5 "at priority 5 (notice)"
ok "journalctl -p notice shows it" journal_has 'denied: uid 65534' -p notice
failsq "journalctl -p warning does not" journal_has 'denied: uid 65534' -p warning
is "$(priority_of '^ready: ')" 6 "'ready:' is at priority 6 (info)"
is "$(priority_of '70-bad.conf:3: ')" 3 "the invalid reload's reason at priority 3 (error)"
# a warning: a queue that holds a message keeps its size when a reload changes it
drain t.queue
q ct ipcbroker send t.queue "keep me"
q ct sed -i 's/^max_messages = 10$/max_messages = 8/' /etc/ipcbroker.d/50-test.conf
q ct systemctl reload ipcbroker.service
ok "a queue that holds messages keeps its size on reload, with a warning" \
        wait_until 10 journal_has "channel 't.queue': queue .* holds 1 messages; keeping its current size" -p warning
is "$(priority_of "channel 't.queue': queue .* holds 1 messages")" 4 "at priority 4 (warning)"
q ct sed -i 's/^max_messages = 8$/max_messages = 10/' /etc/ipcbroker.d/50-test.conf
q ct systemctl reload ipcbroker.service
is "$(recv1 t.queue)" "keep me" "the queue's message is still there"

# ---- a stalled consumer: alert_full_after in the journal (issue 11, part 3) ---------

put /etc/ipcbroker.d/55-alert.conf <<'EOF'
[channel t.alert]
type = mqueue
alert_full_after = 1s
max_messages = 2
message_size = 64
mode = 0600
on_stop = remove
EOF
okq "a channel with alert_full_after = 1s (systemctl reload)" ct systemctl reload ipcbroker.service
# a consumer that opens t.alert for receiving through the library and never reads
put /usr/local/bin/ipcbt-hold.py <<'EOF'
import ctypes, glob, sys, time
lib = ctypes.CDLL((glob.glob("/usr/lib/libipcbroker.so.0") + glob.glob("/usr/lib/*/libipcbroker.so.0")
                   + ["libipcbroker.so.0"])[0])
lib.ipcb_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_void_p)]
lib.ipcb_strerror.restype = ctypes.c_char_p
ch = ctypes.c_void_p()
r = lib.ipcb_open(sys.argv[1].encode(), 2, ctypes.byref(ch))  # IPCB_RECV
if r < 0:
    sys.exit("ipcb_open %s: %s" % (sys.argv[1], lib.ipcb_strerror(r).decode()))
time.sleep(float(sys.argv[2]))
EOF
okq "a consumer that holds t.alert and does not read (systemd-run --unit=ipcbt-holder)" \
        ct systemd-run --unit=ipcbt-holder /usr/bin/python3 /usr/local/bin/ipcbt-hold.py t.alert 300
hpid=$(main_pid ipcbt-holder.service)
hcomm=$(ct cat "/proc/$hpid/comm" 2>/dev/null)
# "PID UNIT COMMAND" of each receiving holder of t.alert
alert_receivers() {
        ct ipcbroker holders t.alert --json | python3 -c '
import json, sys
for h in json.load(sys.stdin):
    if h["access"] == "recv":
        print(h["pid"], h["unit"] or "-", h["command"])'
}
holder_listed() { [ "$(alert_receivers)" = "$hpid ipcbt-holder.service $hcomm" ]; }
ok "ipcbroker holders lists it with its pid ($hpid), unit (ipcbt-holder.service) and command ($hcomm) (bounded wait)" \
        wait_until "$UNIT_WAIT" holder_listed
diag "receiving holders of t.alert: $(alert_receivers | tr '\n' ';')"
fill_alert() { ct ipcbroker send t.alert one && ct ipcbroker send t.alert two; }
okq "t.alert fills (2 of 2)" fill_alert
# the warning is sent with sd_journal_sendv: "PRIORITY IPCBROKER_CHANNEL IPCBROKER_HOLDER_PIDS | MESSAGE"
alert_entries() { daemon_entries "$1" PRIORITY IPCBROKER_CHANNEL IPCBROKER_HOLDER_PIDS; }
FULL_RE="channel 't\\.alert' has been full for"
alerted() { [ -n "$(alert_entries "$FULL_RE")" ]; }
ok "after alert_full_after the daemon warns (bounded wait)" wait_until "$UNIT_WAIT" alerted
# a few samples later (sample_interval = 1s): still that one warning
full_3s() { ct ipcbroker metrics | grep -Eq '^ipcbroker_channel_full_seconds_total\{channel="t\.alert"[^}]*\} ([3-9]|[1-9][0-9])'; }
ok "t.alert stays full for 3 s (bounded wait)" wait_until "$UNIT_WAIT" full_3s
alert_entries "$FULL_RE" >"$T/alert.entries"
sed 's/^/# journal: /' "$T/alert.entries"
is "$(wc -l <"$T/alert.entries")" 1 "exactly one warning for one full period"
is "$(cut -d'|' -f1 "$T/alert.entries")" "4 t.alert $hpid " \
        "at priority 4, with IPCBROKER_CHANNEL=t.alert and IPCBROKER_HOLDER_PIDS=$hpid (the holder's pid)"
like "$(cut -d'|' -f2- "$T/alert.entries")" "receiving holders: pid $hpid \\($hcomm, ipcbt-holder\\.service\\)\$" \
        "its MESSAGE names the holder: pid, command and unit"
okq "drain t.alert" ct ipcbroker recv t.alert -n 2 --nonblock
NOTICE_RE="channel 't\\.alert' is no longer full"
drained_notice() { [ -n "$(alert_entries "$NOTICE_RE")" ]; }
ok "once drained, a notice (bounded wait)" wait_until "$UNIT_WAIT" drained_notice
is "$(alert_entries "$NOTICE_RE" | cut -d' ' -f1 | paste -sd' ')" 5 "exactly one, at priority 5 (notice)"
q ct systemctl stop ipcbt-holder.service
q ct rm -f /etc/ipcbroker.d/55-alert.conf /usr/local/bin/ipcbt-hold.py
okq "t.alert withdrawn again (systemctl reload)" ct systemctl reload ipcbroker.service

# ---- nothing lost across restarts (part 1) ---------------------------------------

send_all() { # TAG
        drain t.queue
        drain t.fifo
        drain events
        ct ipcbroker send t.queue "queue $1" &&
                ct ipcbroker send t.fifo "fifo $1" &&
                as_nobody ipcbroker send events "events $1"
}
check_all() { # TAG HOW
        is "$(recv1 t.queue)" "queue $1" "the queue's message survives $2"
        is "$(recv1 t.fifo)" "fifo $1" "the FIFO's message survives $2 (only the daemon held it)"
        is "$(recv1 events)" "events $1" "the message of a FIFO with on_stop=remove survives $2"
}

okq "messages sent before the restart" send_all restart
pid=$(main_pid)
okq "systemctl restart ipcbroker" ct systemctl restart ipcbroker.service
ok "a new main process" restarted_from "$pid"
check_all restart "systemctl restart"
# the socket first, then the store (in no particular order)
listen_names() { listen_env | tr ':' '\n' | { IFS= read -r first; echo "$first"; sort; } | tr '\n' ' '; }
is "$(listen_names)" "ipcbroker.socket fifo-events fifo-t.fifo " \
        "the new daemon is given the socket and each FIFO by name (FDNAME=fifo-NAME)"
okq "the daemon took the FIFO back from the descriptor store" \
        journal_has "channel 't.fifo': FIFO /run/ipcbroker/fifo/t.fifo kept by the service manager"

okq "messages sent before kill -9" send_all kill9
pid=$(main_pid)
restarts=$(prop NRestarts)
q ct kill -KILL "$pid"
ok "kill -9: systemd restarts the daemon (Restart=on-failure)" wait_until "$UNIT_WAIT" restarted_from "$pid"
is "$(prop NRestarts)" $((restarts + 1)) "one restart counted"
check_all kill9 "kill -9"

# ---- watchdog ----------------------------------------------------------------------

q ct mkdir -p /etc/systemd/system/ipcbroker.service.d
put /etc/systemd/system/ipcbroker.service.d/50-test-watchdog.conf <<EOF
[Service]
WatchdogSec=${WATCHDOG_SEC}s
EOF
q ct systemctl daemon-reload
q ct systemctl restart ipcbroker.service
is "$(prop WatchdogUSec)" "${WATCHDOG_SEC}s" "a drop-in lowers WatchdogSec to ${WATCHDOG_SEC}s (the unit ships 30s)"
okq "messages sent before the daemon hangs" send_all watchdog
pid=$(main_pid)
restarts=$(prop NRestarts)
t0=$(now_ms)
q ct kill -STOP "$pid"
ok "a stopped daemon is killed by the watchdog and restarted" wait_until $((WATCHDOG_SEC * 10)) restarted_from "$pid"
diag "restarted $(( ($(now_ms) - t0) / 100 ))00 ms after SIGSTOP"
ok "the journal says: watchdog timeout" journal_has 'Watchdog timeout'
is "$(prop NRestarts)" $((restarts + 1)) "one restart counted"
failsq "the stopped process is gone" ct kill -0 "$pid"
check_all watchdog "a watchdog kill"
q ct rm -f /etc/systemd/system/ipcbroker.service.d/50-test-watchdog.conf
q ct systemctl daemon-reload

# ---- stop (part 4) ----------------------------------------------------------------

drain t.fifo
q ct ipcbroker send t.fifo "before stop"
q ct ipcbroker send t.queue "before stop"
okq "systemctl stop ipcbroker" ct systemctl stop ipcbroker.service
is "$(prop ActiveState)" inactive "the service is stopped"
is "$(prop ActiveState ipcbroker.socket)" active "the socket still listens"
mq() { ct test -e "/dev/mqueue/ipcbroker.$1"; }
failsq "on_stop=remove: queue public.chat removed" mq public.chat
okq "on_stop=keep: queue jobs kept" mq jobs
okq "on_stop=keep: queue t.queue kept" mq t.queue
okq "on_stop=remove: FIFO events removed" ct test ! -e /run/ipcbroker/fifo/events
okq "on_stop=keep: FIFO t.fifo kept" ct test -p /run/ipcbroker/fifo/t.fifo
okq "fifo/ stays while it holds a kept FIFO" ct test -d /run/ipcbroker/fifo
okq "RuntimeDirectoryPreserve=yes keeps /run/ipcbroker" ct test -d /run/ipcbroker
okq "the service starts again" ct systemctl start ipcbroker.service
is "$(recv1 t.queue)" "before stop" "a queue keeps its message across stop and start"
run ct ipcbroker recv t.fifo --nonblock -n 1
like "$RC/$OUT/$ERR" '^1//.*empty \(receive\)' \
        "as documented, stop empties the descriptor store (systemd 252): the FIFO's message is gone"
q ct sed -i 's/^on_stop = keep$/on_stop = remove/' /etc/ipcbroker.d/50-test.conf
q ct systemctl reload ipcbroker.service
okq "systemctl stop with every FIFO on_stop=remove" ct systemctl stop ipcbroker.service
okq "the FIFOs are removed" ct test ! -e /run/ipcbroker/fifo/t.fifo -a ! -e /run/ipcbroker/fifo/events
okq "runtime_dir/fifo is removed once empty (though found at start, after a crash)" ct test ! -e /run/ipcbroker/fifo
is "$(ct ls -A /run/ipcbroker | tr '\n' ' ')" "ipcbroker.sock " "only the socket is left in /run/ipcbroker"
q ct sed -i 's/^on_stop = remove$/on_stop = keep/' /etc/ipcbroker.d/50-test.conf

# ---- an invalid configuration at start, under socket activation (part 5) ----------

put /etc/ipcbroker.d/70-bad.conf <<'EOF'
; broken on purpose

[channel t.bad]
type = pipe
EOF
restarts=$(prop NRestarts)
run as_nobody ipcbroker status
is "$RC" 1 "ipcbroker status fails (exit 1): the daemon answers"
like "$OUT$ERR" 'configuration is invalid \(/etc/ipcbroker.d/70-bad.conf:4: ' "and says why, with FILE:LINE"
is "$(service_state)" active/running "the service stays up"
like "$(prop StatusText)" '^configuration invalid.*70-bad.conf:4' "STATUS= says the configuration is invalid, and where"
like "$(ct systemctl status --no-pager ipcbroker.service 2>&1)" 'Status: "configuration invalid' \
        "systemctl status shows it"
pid=$(main_pid)
for i in 1 2 3 4 5 6; do as_nobody ipcbroker send t.queue x >/dev/null 2>&1; done
like "$(as_nobody ipcbroker send t.queue x 2>&1)" 'configuration is invalid' "requests are refused with the reason"
is "$(main_pid)/$(prop NRestarts)" "$pid/$restarts" "no restart loop"
is "$(prop ActiveState ipcbroker.socket)" active "the socket unit is not failed"
failsq "systemctl reload of the still invalid file fails" ct systemctl reload ipcbroker.service
q ct rm -f /etc/ipcbroker.d/70-bad.conf
okq "systemctl reload of the repaired configuration succeeds" ct systemctl reload ipcbroker.service
run as_nobody ipcbroker status
is "$RC" 0 "ipcbroker status works again"
like "$(prop StatusText)" "^${n_channels:-x} channels" "STATUS= counts the channels again"
okq "the channels are served" ct ipcbroker send t.queue recovered
is "$(recv1 t.queue)" recovered "and receive"
is "$(main_pid)" "$pid" "recovered in place, no restart"

# ---- the bridge to NATS JetStream under systemd (issue 12) ------------------------

# A raw NATS client for the container's python3 (no NATS library there):
# natsreq.py PORT SUBJECT PAYLOAD publishes with a reply inbox and prints the reply.
put /usr/local/bin/natsreq.py <<'EOF'
import socket, sys
port, subject, payload = int(sys.argv[1]), sys.argv[2], sys.argv[3].encode()
s = socket.create_connection(("127.0.0.1", port), timeout=10)
f = s.makefile("rb")
f.readline()  # INFO
s.sendall(b'CONNECT {"verbose":false,"pedantic":false,"headers":true}\r\nSUB _INBOX.t 1\r\n')
s.sendall(b"PUB %s _INBOX.t %d\r\n%s\r\n" % (subject.encode(), len(payload), payload))
while True:
    line = f.readline()
    if not line:
        sys.exit("connection closed")
    if line.startswith(b"PING"):
        s.sendall(b"PONG\r\n")
    elif line.startswith(b"-ERR"):
        sys.exit(line.decode().strip())
    elif line.startswith(b"MSG"):
        n = int(line.split()[-1])
        print(f.read(n + 2)[:n].decode())
        break
EOF
# message SEQ of stream STREAM: "ORIGIN DATA" (from JetStream's message API)
js_msg() { # STREAM SEQ
        ct python3 /usr/local/bin/natsreq.py 4333 "\$JS.API.STREAM.MSG.GET.$1" "{\"seq\":$2}" | python3 -c '
import base64, json, re, sys
m = json.load(sys.stdin).get("message", {})
hdrs = base64.b64decode(m.get("hdrs", "")).decode()
origin = re.search(r"Nats-Msg-Id: *([^:\s]+):", hdrs)
print(origin.group(1) if origin else "-", base64.b64decode(m.get("data", "")).decode())'
}
js_has() { [ "$(js_msg "$1" "$2" 2>/dev/null)" = "$3" ]; }
bprop() { prop "$1" ipcbroker-bridge.service; }
bridge_waits() { [ "$(bprop ActiveState)" = activating ] && [[ "$(bprop StatusText)" == "waiting for NATS"* ]]; }

if [ -x "$ROOT/usr/sbin/ipcbroker-bridge" ] && [ -e "$ROOT$UNITDIR/ipcbroker-bridge.service" ]; then
        is "$(ct getent passwd ipcbroker-bridge | cut -d: -f1,6)" "ipcbroker-bridge:/var/lib/ipcbroker-bridge" \
                "systemd-sysusers made the bridge's system user at boot (its sysusers.d file)"
        # Debian's own nats-server unit (no JetStream) is not the test's
        q ct systemctl disable --now nats-server.service
        put /etc/ipcbroker.d/60-bridge.conf <<'EOF'
[channel t.out]
type = mqueue
mode = 0620
max_messages = 10
message_size = 128
recv = ipcbroker-bridge
on_stop = remove

[channel t.in]
type = mqueue
mode = 0640
max_messages = 10
message_size = 128
send = ipcbroker-bridge
on_stop = remove
EOF
        okq "ipcbrokerd serves the bridged channels (systemctl reload)" ct systemctl reload ipcbroker.service
        put /etc/ipcbroker-bridge.conf <<'EOF'
[nats]
url = nats://127.0.0.1:4333

[local]
origin = ct

[bridge t.out]
direction = out
subject = ct.out
stream = CTOUT

[bridge t.in]
direction = in
subject = ct.in
stream = CTIN
EOF
        okq "ipcbroker-bridge -t accepts the configuration" ct ipcbroker-bridge -t
        q ct systemctl start --no-block ipcbroker-bridge.service
        ok "with NATS down the bridge waits without failing (activating, STATUS=waiting for NATS)" \
                wait_until "$UNIT_WAIT" bridge_waits
        diag "STATUS=$(bprop StatusText)"
        is "$(ct ps -o user= -p "$(bprop MainPID)" | tr -d ' ')" ipcbroker-bridge "it runs as its own user"
        okq "nats-server (JetStream) starts" ct systemd-run --unit=ipcbt-nats --property=StateDirectory=ipcbt-nats \
                /usr/sbin/nats-server -js -a 127.0.0.1 -p 4333 -sd /var/lib/ipcbt-nats
        ok "once NATS is up the bridge connects and is ready (active, READY=1)" wait_until "$UNIT_WAIT" service_running ipcbroker-bridge.service
        like "$(bprop StatusText)" '^connected to nats://127\.0\.0\.1:4333; 2/2 bridges running' \
                "STATUS= says where it is connected and that both bridges run"
        is "$(ct stat -c '%U %a' /var/lib/ipcbroker-bridge)" "ipcbroker-bridge 700" \
                "StateDirectory=: /var/lib/ipcbroker-bridge, the bridge's own, mode 0700"
        okq "its spool is there" ct test -f /var/lib/ipcbroker-bridge/t.out.spool
        okq "a message into channel t.out (ipcbroker send)" ct ipcbroker send t.out "to nats"
        ok "it is in JetStream's stream CTOUT, with its origin" wait_until 10 js_has CTOUT 1 "ct to nats"
        like "$(ct python3 /usr/local/bin/natsreq.py 4333 ct.in "from nats" 2>&1)" '"stream": *"CTIN"' \
                "a message published on ct.in is stored in stream CTIN"
        is "$(ct ipcbroker recv t.in -t 10 2>&1)" "from nats" "and the bridge puts it into channel t.in"
        pid=$(bprop MainPID)
        restarts=$(bprop NRestarts)
        q ct kill -KILL "$pid"
        ok "kill -9: systemd restarts the bridge (Restart=on-failure)" wait_until "$UNIT_WAIT" restarted_from "$pid" ipcbroker-bridge.service
        is "$(bprop NRestarts)" $((restarts + 1)) "one restart counted"
        okq "a message after the restart" ct ipcbroker send t.out "after kill"
        ok "is forwarded by the new bridge" wait_until 10 js_has CTOUT 2 "ct after kill"
        okq "systemctl stop ipcbroker-bridge" ct systemctl stop ipcbroker-bridge.service
        is "$(bprop ActiveState)/$(bprop Result)" inactive/success "a clean stop"
        q ct systemctl stop ipcbt-nats.service
        q ct rm -f /etc/ipcbroker.d/60-bridge.conf
        q ct systemctl reload ipcbroker.service
else
        diag "ipcbroker-bridge was not built (no libnats at configure time): its unit is not run here"
fi

# ---- systemd-analyze (part 6) --------------------------------------------------------

for unit in $UNITS; do
        run ct systemd-analyze verify --man=no "$UNITDIR/$unit"
        out="$OUT$ERR"
        ok "systemd-analyze verify $unit: no complaint" test "$RC" = 0 -a -z "$out"
        [ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/# /'
done
for unit in $UNITS; do
        for page in $(sed -n 's/^Documentation=//p' "$ROOT$UNITDIR/$unit"); do
                name=${page#man:}
                sect=${name##*(}
                sect=${sect%)}
                name=${name%(*}
                [ -e "$ROOT/usr/share/man/man$sect/$name.$sect" ] || [ -e "$ROOT/usr/share/man/man$sect/$name.$sect.gz" ] ||
                        echo "$unit: $page not installed"
        done
done >"$T/man.missing"
ok "every man page a unit names is installed" test ! -s "$T/man.missing"
sed 's/^/# /' "$T/man.missing"

for unit in $UNITS; do
        case $unit in
        *@.service) loaded=${unit%@.service}@probe.service ;;
        *.service) loaded=$unit ;;
        *)
                diag "systemd-analyze security: $unit is not a service (nothing to rate)"
                continue
                ;;
        esac
        # bounds: what issue 14 part 6 reached (1.7 for the daemon, 1.3 for the bridge, 0.4 for the metrics), with a margin
        case $unit in ipcbroker.service) bound=2.0 ;; *) bound=1.5 ;; esac
        run ct systemd-analyze security --no-pager "$loaded"
        exposure=$(printf '%s\n' "$OUT" | sed -n 's/.*Overall exposure level for [^:]*: *//p')
        level=${exposure%% *}
        ok "systemd-analyze security $loaded: exposure ${level:-?} is at most $bound" \
                python3 -c 'import sys; sys.exit(not float(sys.argv[1]) <= float(sys.argv[2]))' "${level:-99}" "$bound"
        diag "exposure of $loaded: ${exposure:-none}${ERR:+ ($ERR)}"
done

# ---- the end -------------------------------------------------------------------------

# what the service manager itself said about the units, at notice or above (for the reader)
ct journalctl --no-pager -b -p notice _PID=1 | grep -E 'ipcbroker[^ ]*\.(service|socket)' |
        grep -vE ': (Deactivated successfully|Scheduled restart job|Main process exited|Failed with result|Watchdog timeout|Killing process|Control process exited|Unit cannot be reloaded)' |
        sed 's/^/# systemd: /'
ct journalctl --no-pager -o short-monotonic -u 'ipcbroker*' >"$JOURNAL_LOG" 2>&1
diag "journal of the ipcbroker units: $JOURNAL_LOG; console: $CONSOLE_LOG"
t0=$(now_ms)
leader=$LEADER
container_stop
ok "the container powers off" test -z "$NSPAWN_PID"
diag "powered off in $(( ($(now_ms) - t0) / 1000 )) s"
ok "no process of the container is left" pid_gone "$leader"
if [ -n "$ROOT_MOUNTED" ]; then
        umount "$ROOT" && ROOT_MOUNTED=
fi
ok "no mount is left" sh -c "! findmnt -rn -o TARGET | grep -q '^$T'"
diag "the whole test took $(( ($(now_ms) - START_MS) / 1000 )) s"
done_testing
