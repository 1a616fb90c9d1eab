#!/bin/bash
# packages.sh — the Debian packages (issue 13, part 2), built, installed,
# used and purged on this machine: dpkg-buildpackage -us -uc -b on a clean
# copy of the commit (git archive HEAD), lintian, the build profile
# pkg.ipcbroker.nobridge, apt-get install ./*.deb, the installed ipcbrokerd
# on the installed /etc/ipcbroker.conf (in a private IPC and mount namespace,
# so that it meets no daemon of the host), one message each way through the
# installed CLI and the installed Python package, then apt-get purge and a
# check that nothing the packages brought is left.
#
# Not part of `make check`: it installs packages system-wide and takes about
# two minutes (two builds). Run it with `make check-packages`; .ci/run does, as a
# step of its own. It tests what is committed (HEAD), not the work tree.
#
# Needs root, a git checkout, and the build dependencies of debian/control
# (debhelper dpkg-dev lintian dh-python pybuild-plugin-pyproject
# python3-all-dev python3-setuptools python3-wheel fakeroot, the libraries'
# -dev packages); without them it is skipped, loudly. It refuses to run (skips)
# when any of the packages is installed, or when files they ship are already
# there (e.g. from `make install --prefix=/usr`): it would overwrite and purge them.
#
#   IPCBROKER_PACKAGES_TEST_REQUIRED=1  fail instead of skipping (CI sets it)
#
# Logs kept after the run (for a CI reader), in the build directory:
# tests/packages.build.log (both builds), tests/packages.lintian.log,
# tests/packages.apt.log (install and purge).
. "$top_srcdir/tests/lib.sh"

START_MS=$(now_ms)
PACKAGES="ipcbrokerd libipcbroker0 libipcbroker-dev python3-ipcbroker ipcbroker-bridge"
BRIDGE_USER=ipcbroker-bridge
# what a Debian build sees: no Python of pyenv or a virtualenv ahead of /usr/bin
# (pybuild runs "python3.11 -m build", which must be Debian's python3.11)
CLEAN_PATH=/usr/sbin:/usr/bin:/sbin:/bin

cannot_run() {
        if [ "${IPCBROKER_PACKAGES_TEST_REQUIRED:-0}" = 1 ]; then
                bail_out "cannot run here, but IPCBROKER_PACKAGES_TEST_REQUIRED=1: $*"
        fi
        echo "packages.sh: SKIPPED, the Debian packages are not tested: $*" >&2
        skip_all "$*"
}

[ "$(id -u)" = 0 ] || cannot_run "needs root (apt-get install and purge, unshare, mount)"
for tool in git dpkg-buildpackage dpkg-checkbuilddeps dh lintian apt-get unshare nsenter python3; do
        command -v "$tool" >/dev/null ||
                cannot_run "$tool is not installed (apt-get install debhelper dpkg-dev lintian)"
done
git -C "$top_srcdir" rev-parse --verify -q HEAD >/dev/null ||
        cannot_run "$top_srcdir is not a git checkout (the packages are built from git archive HEAD)"
git -C "$top_srcdir" cat-file -e HEAD:debian/control 2>/dev/null ||
        cannot_run "HEAD has no debian/control"
# dpkg's state of package $1: "ii " installed, "rc " configuration left, "un " or nothing: not there
pkg_state() { dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null; }
for p in $PACKAGES; do
        case $(pkg_state "$p") in
        "" | "un "*) ;;
        rc*) cannot_run "package $p was removed but not purged here: its configuration is in the way" ;;
        *) cannot_run "package $p is installed here: this test would purge it" ;;
        esac
done
for f in /etc/ipcbroker.conf /etc/ipcbroker-bridge.conf /usr/sbin/ipcbrokerd /usr/bin/ipcbroker \
        /usr/sbin/ipcbroker-bridge /etc/ipcbroker.d /run/ipcbroker /var/lib/ipcbroker-bridge; do
        [ -e "$f" ] && cannot_run "$f exists (not from the packages): installing and purging them would replace or delete it"
done

umask 022
exec 2>&1
T=$(mktemp -d /var/tmp/ipcbroker-packages.XXXXXX) || bail_out "mktemp failed"
BUILD_LOG="$top_builddir/tests/packages.build.log"
LINTIAN_LOG="$top_builddir/tests/packages.lintian.log"
APT_LOG="$top_builddir/tests/packages.apt.log"
mkdir -p "$top_builddir/tests"
: >"$BUILD_LOG"
: >"$LINTIAN_LOG"
: >"$APT_LOG"
DAEMON_PID=
INSTALLED=
user_exists() { getent passwd "$BRIDGE_USER" >/dev/null; }
USER_BEFORE=no
user_exists && USER_BEFORE=yes

# ---- cleanup: no package, process or directory is left behind ---------------

purge_packages() {
        local installed= p
        for p in $PACKAGES $(printf '%s-dbgsym ' $PACKAGES); do
                case $(pkg_state "$p") in
                "" | "un "*) ;;
                *) installed="$installed $p" ;;
                esac
        done
        [ -n "$installed" ] || return 0
        DEBIAN_FRONTEND=noninteractive PATH=$CLEAN_PATH \
                apt-get purge -y -o DPkg::Lock::Timeout=120 $installed >>"$APT_LOG" 2>&1
}

cleanup() {
        local rc=$?
        if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
                kill -KILL "$DAEMON_PID" 2>/dev/null
                wait "$DAEMON_PID" 2>/dev/null
        fi
        if [ -n "$INSTALLED" ]; then
                diag "cleanup: purging the packages"
                purge_packages || diag "cleanup: apt-get purge failed, see $APT_LOG"
        fi
        # the system user stays after a purge (Debian policy); one this test made goes
        if [ "$USER_BEFORE" = no ] && user_exists; then
                userdel "$BRIDGE_USER" 2>/dev/null
                getent group "$BRIDGE_USER" >/dev/null && groupdel "$BRIDGE_USER" 2>/dev/null
        fi
        declare -F container_cleanup >/dev/null && container_cleanup
        [ -n "$T" ] && rm -rf "$T"
        exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Every path with "ipcbroker" in its name where packages put files and state
# (not /tmp and /var/tmp, where other tests keep theirs, nor the systemd test's cache).
ipcbroker_paths() {
        find /etc /usr /lib /var /run -xdev \
                \( -path /var/tmp -o -path /var/cache/ipcbroker-ci -o -path /proc \) -prune \
                -o -name '*ipcbroker*' -print 2>/dev/null | LC_ALL=C sort
}

# ---- the source: what is committed ------------------------------------------

ipcbroker_paths >"$T/paths.before"
SRC="$T/src/ipcbroker"
mkdir -p "$T/src"
git -C "$top_srcdir" archive --prefix=ipcbroker/ HEAD | tar -x -C "$T/src" ||
        bail_out "git archive HEAD failed"
diag "building $(git -C "$top_srcdir" rev-parse --short HEAD)$(git -C "$top_srcdir" diff --quiet HEAD 2>/dev/null || echo ' (the work tree has uncommitted changes: they are not tested)')"

upstream_version=$(sed -n 's/^AC_INIT(\[ipcbroker\], \[\([^]]*\)\].*/\1/p' "$SRC/configure.ac")
debian_version=$(cd "$SRC" && dpkg-parsechangelog -S Version)
python_version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$SRC/bindings/python/pyproject.toml")
is "$debian_version" "$upstream_version" "debian/changelog's version is configure.ac's ($upstream_version)"
is "$python_version" "$upstream_version" "bindings/python/pyproject.toml's version is configure.ac's"
is "$(cat "$SRC/debian/source/format")" "3.0 (native)" "the source format is 3.0 (native)"

# every symbol of the version script is in the symbols file, in its version node
python3 - "$SRC/client/libipcbroker.sym" "$SRC/debian/libipcbroker0.symbols" >"$T/symdiff" <<'EOF'
import re, sys
script = open(sys.argv[1]).read()
want = set()
for node, body in re.findall(r'(IPCBROKER_[0-9.]+)\s*\{(.*?)\}', script, re.S):
    want.add(f"{node}@{node}")
    glob = body.split("local:")[0].replace("global:", "")
    want |= {f"{s}@{node}" for s in re.findall(r'([A-Za-z_][A-Za-z0-9_]*)\s*;', glob)}
have = {l.split()[0] for l in open(sys.argv[2]) if l.startswith(" ")}
for s in sorted(want - have): print("missing:", s)
for s in sorted(have - want): print("extra:  ", s)
EOF
is "$(cat "$T/symdiff")" "" "debian/libipcbroker0.symbols has exactly client/libipcbroker.sym's symbols and version nodes"

# the release tarball carries debian/ too (make dist): every file of it is in EXTRA_DIST
missing=$(cd "$SRC" && for f in $(git -C "$top_srcdir" ls-tree -r --name-only HEAD debian); do
        grep -qE "^[[:space:]]*$f( |\\\\|$)" Makefile.am || echo "$f"; done)
is "$missing" "" "every file of debian/ is in Makefile.am's EXTRA_DIST (the release tarball)"

if ! (cd "$SRC" && PATH=$CLEAN_PATH dpkg-checkbuilddeps) >"$T/builddeps" 2>&1; then
        sed 's/^/# /' "$T/builddeps"
        cannot_run "the build dependencies are not installed: $(sed -n 's/.*Unmet build dependencies: //p' "$T/builddeps")"
fi

# ---- build ------------------------------------------------------------------

# A clean copy of the source in DIR, built in a clean environment: nothing of
# the caller's (e.g. `make check-packages`' MAKEFLAGS, whose TESTS= would
# override debian/rules' own in its make check) reaches the build.
build() { # DIR [dpkg-buildpackage options]
        local dir=$1
        shift
        mkdir -p "$dir" && cp -a "$SRC" "$dir/" &&
                (cd "$dir/ipcbroker" && env -i PATH=$CLEAN_PATH HOME="${HOME:-/root}" LC_ALL=C.UTF-8 \
                        DEB_BUILD_OPTIONS="parallel=$(nproc 2>/dev/null || echo 2) ${DEB_BUILD_OPTIONS:-}" \
                        dpkg-buildpackage -us -uc -b "$@") >>"$BUILD_LOG" 2>&1
}

t0=$(now_ms)
echo "==== dpkg-buildpackage -us -uc -b" >>"$BUILD_LOG"
if build "$T/build"; then
        tap_result 0 "dpkg-buildpackage -us -uc -b builds on a clean copy of HEAD"
else
        tap_result 1 "dpkg-buildpackage -us -uc -b builds on a clean copy of HEAD"
        tail -n 40 "$BUILD_LOG" | sed 's/^/# /'
        bail_out "the packages do not build (see $BUILD_LOG)"
fi
diag "built in $(( ($(now_ms) - t0) / 1000 )) s"
cd "$T/build" || bail_out "cd $T/build"
for p in $PACKAGES; do
        ok "the build made ${p}_${debian_version}_*.deb" test -f "$(ls ${p}_${debian_version}_*.deb 2>/dev/null | head -n1)"
done
unit_passed=$(grep -cE '^PASS: tests/test-(protocol|reload-plan|policy|sched) ' "$BUILD_LOG")
unit_failed=$(grep -cE '^(FAIL|ERROR): ' "$BUILD_LOG")
like "$unit_passed $unit_failed" '^[1-9][0-9]* 0$' "the build ran the unit tests that need no root, all passed (override_dh_auto_test)"
diag "unit tests in the build: $unit_passed passed, $unit_failed failed"
not_ok "the build reports no missing or new library symbols (dpkg-gensymbols -c4)" \
        grep -q 'dpkg-gensymbols: warning' "$BUILD_LOG"

# the symbols file as shipped, with every symbol's version node
dpkg-deb --ctrl-tarfile libipcbroker0_*.deb | tar -xO ./symbols >"$T/symbols" 2>/dev/null
like "$(head -n1 "$T/symbols")" '^libipcbroker\.so\.0 libipcbroker0 #MINVER#$' "libipcbroker0 ships a symbols file for libipcbroker.so.0"
is "$(grep -c '^ ipcb_.*@IPCBROKER_0\(\.[0-9]\)* ' "$T/symbols")" "$(grep -c '^ ipcb_' "$SRC/debian/libipcbroker0.symbols")" \
        "every symbol in it is versioned (IPCBROKER_0, _0.1, _0.2)"
like "$(dpkg-deb -f ipcbrokerd_*.deb Depends)" 'libipcbroker0 \(>= [0-9]' "ipcbrokerd depends on libipcbroker0 through the symbols file"
pydeps=$(dpkg-deb -f python3-ipcbroker_*.deb Depends)
like "$pydeps" '(^|, )python3 \(>= 3' "python3-ipcbroker depends on python3 (dh_python3)"
like "$pydeps" '(^|, )libipcbroker0 \(>= [0-9]' "python3-ipcbroker depends on libipcbroker0 (its extension links it)"
is "$(dpkg-deb -f ipcbroker-bridge_*.deb Depends | grep -o 'systemd | systemd-standalone-sysusers')" "systemd | systemd-standalone-sysusers" \
        "ipcbroker-bridge depends on systemd-sysusers (its system user)"
dpkg-deb -x python3-ipcbroker_*.deb "$T/py"
readelf -d "$T"/py/usr/lib/python3/dist-packages/ipcbroker/_ipcbroker*.so >"$T/pyext.dyn" 2>&1
not_ok "the Python extension has no rpath into the build tree" grep -qE 'RPATH|RUNPATH' "$T/pyext.dyn"
like "$(cat "$T/pyext.dyn")" 'NEEDED.*libipcbroker\.so\.0' "the Python extension links libipcbroker.so.0"

# ---- lintian -----------------------------------------------------------------

# the source package too (dpkg-source -b of the clean copy), for the tags lintian gives sources
mkdir -p "$T/source" && cp -a "$SRC" "$T/source/" &&
        (cd "$T/source" && env -i PATH=$CLEAN_PATH HOME="${HOME:-/root}" dpkg-source -b ipcbroker) >>"$BUILD_LOG" 2>&1
ok "dpkg-source -b builds the source package (3.0 (native))" test -f "$T/source/ipcbroker_${debian_version}.dsc"
PATH=$CLEAN_PATH lintian --fail-on error -I ipcbroker_"$debian_version"_*.changes \
        "$T/source/ipcbroker_${debian_version}.dsc" >"$LINTIAN_LOG" 2>&1
rc=$?
is "$rc" 0 "lintian --fail-on error on the binary and source packages: no errors"
grep '^E:' "$LINTIAN_LOG" | sed 's/^/# /'
diag "lintian: $(grep -c '^E:' "$LINTIAN_LOG") errors, $(grep -c '^W:' "$LINTIAN_LOG") warnings, $(grep -c '^I:' "$LINTIAN_LOG") info"
grep '^W:' "$LINTIAN_LOG" | sed 's/^/#   /'

# ---- the build profile pkg.ipcbroker.nobridge ----------------------------------

echo "==== dpkg-buildpackage -us -uc -b -Ppkg.ipcbroker.nobridge (nocheck)" >>"$BUILD_LOG"
if DEB_BUILD_OPTIONS=nocheck build "$T/nobridge" -Ppkg.ipcbroker.nobridge; then
        tap_result 0 "the build profile pkg.ipcbroker.nobridge builds"
        is "$(cd "$T/nobridge" && ls *.deb | grep -v -- -dbgsym_ | sed 's/_.*//' | LC_ALL=C sort | tr '\n' ' ')" \
                "ipcbrokerd libipcbroker-dev libipcbroker0 python3-ipcbroker " "... every package but ipcbroker-bridge"
        like "$(grep -E '^  NATS \(bridge\):' "$BUILD_LOG" | tail -n1)" 'no$' "... configured --without-nats"
else
        tap_result 1 "the build profile pkg.ipcbroker.nobridge builds"
        tail -n 30 "$BUILD_LOG" | sed 's/^/# /'
fi

# ---- install --------------------------------------------------------------------

t0=$(now_ms)
INSTALLED=yes
echo "==== apt-get install -y ./*.deb" >>"$APT_LOG"
DEBIAN_FRONTEND=noninteractive PATH=$CLEAN_PATH \
        apt-get install -y -o DPkg::Lock::Timeout=120 ./*.deb >>"$APT_LOG" 2>&1
rc=$?
is "$rc" 0 "apt-get install -y ./*.deb"
[ "$rc" = 0 ] || { tail -n 30 "$APT_LOG" | sed 's/^/# /'; bail_out "the packages do not install"; }
diag "installed in $(( ($(now_ms) - t0) / 1000 )) s"
for p in $PACKAGES; do
        is "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null)" "ii " "$p is installed"
done
: >"$T/files"
for p in $PACKAGES $(printf '%s-dbgsym ' $PACKAGES); do
        dpkg -L "$p" >>"$T/files" 2>/dev/null
done

ok "ipcbrokerd: /usr/sbin/ipcbrokerd" test -x /usr/sbin/ipcbrokerd
ok "ipcbrokerd: /usr/bin/ipcbroker" test -x /usr/bin/ipcbroker
is "$(/usr/sbin/ipcbrokerd -V 2>&1 | grep -o '[0-9][0-9.]*' | head -n1)" "$upstream_version" "the installed daemon is version $upstream_version"
like "$(dpkg-query -W -f='${Conffiles}' ipcbrokerd)" '^ /etc/ipcbroker\.conf [0-9a-f]{32}$' "/etc/ipcbroker.conf is ipcbrokerd's conffile"
ok "... with its drop-in directory /etc/ipcbroker.d" test -d /etc/ipcbroker.d
ok "... and it is valid: ipcbrokerd -t -c /etc/ipcbroker.conf" sh -c '/usr/sbin/ipcbrokerd -t -c /etc/ipcbroker.conf >/dev/null'
for u in ipcbroker.service ipcbroker.socket ipcbroker-metrics.socket ipcbroker-metrics@.service ipcbroker-bridge.service; do
        ok "unit $u installed" test -f /lib/systemd/system/$u
done
ok "ipcbroker.socket is enabled (sockets.target.wants)" test -L /etc/systemd/system/sockets.target.wants/ipcbroker.socket
ok "ipcbroker.service is enabled (multi-user.target.wants)" test -L /etc/systemd/system/multi-user.target.wants/ipcbroker.service
not_ok "ipcbroker-metrics.socket is not enabled" test -e /etc/systemd/system/sockets.target.wants/ipcbroker-metrics.socket
not_ok "ipcbroker-bridge.service is not enabled" test -e /etc/systemd/system/multi-user.target.wants/ipcbroker-bridge.service
if [ -d /run/systemd/system ]; then
        ok "systemd runs here: ipcbroker.socket is active" systemctl -q is-active ipcbroker.socket
        ok "... and ipcbroker.service" systemctl -q is-active ipcbroker.service
else
        skip "ipcbroker.socket and .service started by the postinst" "systemd is not PID 1 here (the container part below checks it)"
fi
ok "bash completion for ipcbroker" test -f /usr/share/bash-completion/completions/ipcbroker
for m in man1/ipcbroker.1 man5/ipcbroker.conf.5 man8/ipcbrokerd.8 man3/libipcbroker.3 \
        man8/ipcbroker-bridge.8 man5/ipcbroker-bridge.conf.5; do
        ok "man page $m" test -f /usr/share/man/$m.gz
done
is "$(pkg-config --modversion ipcbroker 2>&1)" "$upstream_version" "libipcbroker-dev: pkg-config ipcbroker"
ok "libipcbroker-dev: <ipcbroker.h>" test -f /usr/include/ipcbroker.h
ok "libipcbroker0: libipcbroker.so.0 in the multiarch directory" \
        test -f "/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/libipcbroker.so.0"
ok "ipcbroker-bridge: /usr/sbin/ipcbroker-bridge" test -x /usr/sbin/ipcbroker-bridge
like "$(dpkg-query -W -f='${Conffiles}' ipcbroker-bridge)" '^ /etc/ipcbroker-bridge\.conf ' "/etc/ipcbroker-bridge.conf is ipcbroker-bridge's conffile"
ok "its system user $BRIDGE_USER exists (sysusers.d, systemd-sysusers in the postinst)" user_exists
is "$(stat -c '%a %U:%G' /etc/ipcbroker-bridge.conf 2>&1)" "640 root:$BRIDGE_USER" "... and may read its configuration, others may not"
ok "... which is valid: ipcbroker-bridge -t" sh -c '/usr/sbin/ipcbroker-bridge -t -c /etc/ipcbroker-bridge.conf >/dev/null 2>&1'

# ---- the installed daemon on the installed configuration ---------------------------
#
# In an IPC namespace of its own (its queues meet no daemon's of the host) and
# a mount namespace with a tmpfs on /run (its socket and FIFOs too) and the
# namespace's own mqueue file system on /dev/mqueue. The clients join both.

unshare --ipc --mount --propagation private -- /bin/sh -c '
        mount -t tmpfs -o mode=0755,size=16m ipcbroker-test /run || exit 71
        if [ -d /dev/mqueue ]; then mount -t mqueue mqueue /dev/mqueue || exit 71; fi
        exec /usr/sbin/ipcbrokerd -c /etc/ipcbroker.conf' >"$T/daemon.log" 2>&1 &
DAEMON_PID=$!
in_ns() { nsenter --target "$DAEMON_PID" --mount --ipc -- "$@"; }
channels_up() {
        kill -0 "$DAEMON_PID" 2>/dev/null || return 2
        [ "$(in_ns /usr/bin/ipcbroker list --json 2>/dev/null |
                python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null)" = 5 ]
}
if wait_until 10 channels_up; then
        tap_result 0 "the installed ipcbrokerd starts on /etc/ipcbroker.conf, its 5 channels listed by the installed CLI"
else
        tap_result 1 "the installed ipcbrokerd starts on /etc/ipcbroker.conf, its 5 channels listed by the installed CLI"
        sed 's/^/# /' "$T/daemon.log" | tail -n 30
        bail_out "the installed daemon does not start"
fi
run in_ns /usr/bin/ipcbroker status
like "$OUT" '/etc/ipcbroker\.conf' "ipcbroker status names the installed configuration"
ok "the daemon's socket is at the packaged default, /run/ipcbroker/ipcbroker.sock" in_ns test -S /run/ipcbroker/ipcbroker.sock

msg="hello through the installed packages $$"
ok "CLI: ipcbroker send public.chat" in_ns /usr/bin/ipcbroker send public.chat "$msg"
run in_ns /usr/bin/ipcbroker recv public.chat -n 1 -t 5s
is "$OUT" "$msg" "CLI: ipcbroker recv public.chat gets it"
ok "CLI: ipcbroker send events (the FIFO channel)" in_ns /usr/bin/ipcbroker send events "fifo $msg"
run in_ns /usr/bin/ipcbroker recv events -n 1 -t 5s
is "$OUT" "fifo $msg" "CLI: ipcbroker recv events gets it"

# Python: Debian's python3, isolated (-I: no PYTHONPATH, no user site, not the
# current directory), from /: only the installed package can be imported.
PY='import ipcbroker, sys
print(ipcbroker.__file__)
print(ipcbroker.library_version())
with ipcbroker.open("public.chat", send=True) as ch:
    ch.send(sys.argv[1].encode(), priority=3)
with ipcbroker.open("public.chat", recv=True) as ch:
    data, prio = ch.recv(timeout=5)
print(data.decode(), prio)
with ipcbroker.open("jobs", send=True) as ch:
    ch.send(b"from python")'
run in_ns env -i PATH=$CLEAN_PATH sh -c 'cd / && exec /usr/bin/python3 -I -c "$1" "$2"' sh "$PY" "py $msg"
is "$(printf '%s\n' "$OUT" | sed -n 1p)" "/usr/lib/python3/dist-packages/ipcbroker/__init__.py" "Python: import ipcbroker finds the installed package"
is "$(printf '%s\n' "$OUT" | sed -n 2p)" "$upstream_version" "Python: ... on the installed libipcbroker $upstream_version"
is "$(printf '%s\n' "$OUT" | sed -n 3p)" "py $msg 3" "Python: a message sent and received, with its priority"
[ "$RC" = 0 ] || printf '%s\n' "$ERR" | sed 's/^/# /'
run in_ns /usr/bin/ipcbroker recv jobs -n 1 -t 5s
is "$OUT" "from python" "Python → CLI: the installed CLI receives what Python sent"

kill -TERM "$DAEMON_PID"
wait_until 10 pid_gone "$DAEMON_PID" || kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID"
is "$?" 0 "the daemon stops cleanly on SIGTERM (exit 0)"
DAEMON_PID=
if [ -d /run/systemd/system ]; then
        skip "the daemon in its namespace left nothing in the host's /run" "systemd is PID 1: the host's ipcbroker.service has /run/ipcbroker"
else
        not_ok "the daemon in its namespace left nothing in the host's /run" test -e /run/ipcbroker
fi

# ---- purge ------------------------------------------------------------------------

t0=$(now_ms)
echo "==== apt-get purge -y" >>"$APT_LOG"
purge_packages
is "$?" 0 "apt-get purge -y the packages (and their -dbgsym)"
INSTALLED=
diag "purged in $(( ($(now_ms) - t0) / 1000 )) s"
for p in $PACKAGES; do
        is "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || echo 'un ')" "un " "$p is purged (no configuration left in dpkg)"
done
# (directories, and symbolic links to them such as a merged /usr's /lib, are shared: next check)
left=$(while read -r f; do [ -e "$f" ] || [ -L "$f" ] || continue; [ -d "$f" ] && continue; echo "$f"; done <"$T/files")
is "$left" "" "no file of the packages is left (dpkg -L, captured before the purge)"
left=$(grep ipcbroker "$T/files" | while read -r d; do [ -d "$d" ] && echo "$d"; done)
is "$left" "" "no directory of theirs is left"
for f in /etc/ipcbroker.conf /etc/ipcbroker.d /etc/ipcbroker-bridge.conf /run/ipcbroker /var/lib/ipcbroker-bridge; do
        not_ok "$f is gone" test -e "$f"
done
is "$(find /etc/systemd /lib/systemd /usr/lib/systemd /var/lib/systemd -name '*ipcbroker*' 2>/dev/null)" "" \
        "no unit, enablement symlink or deb-systemd-helper state is left"
ipcbroker_paths >"$T/paths.after"
is "$(diff "$T/paths.before" "$T/paths.after")" "" "nothing named ipcbroker in /etc /usr /lib /var /run that was not there before"
if [ "$USER_BEFORE" = no ]; then
        ok "the system user $BRIDGE_USER stays (Debian leaves system users; this test removes it)" user_exists
else
        skip "the system user $BRIDGE_USER stays after the purge" "it existed before the test"
fi

# ---- under systemd 252 as PID 1: the maintainer scripts for real ------------------
#
# Here PID 1 may not be systemd (as on this CI machine), so the postinst's
# enabling and starting and the purge's stopping and disabling are seen only in
# their files above. Again in a Debian 12 container booted with systemd
# (tests/container-lib.sh, the tree tests/systemd-container.sh caches): the
# packages installed with dpkg -i (the container has no network; their
# dependencies are in its tree), then what a user would see.

container_can_run() {
        for tool in systemd-nspawn debootstrap flock nsenter; do
                command -v "$tool" >/dev/null || { CONTAINER_WHY="$tool is not installed (systemd-container, debootstrap)"; return 1; }
        done
}
if container_can_run; then
        BOOT_WAIT=120
        MACHINE="ipcbp-$$-$(date +%s)"
        ROOT="$T/root"
        CONSOLE_LOG="$top_builddir/tests/packages.console.log"
        : >"$CONSOLE_LOG"
        . "$top_srcdir/tests/container-lib.sh"
        t0=$(now_ms)
        if ok "a Debian 12 tree with systemd 252 (cached)" rootfs_ready && ok "the container's own root" root_prepare &&
                ok "the container boots with systemd as PID 1" boot; then
                diag "container ready in $(( ($(now_ms) - t0) / 1000 )) s: $STATE"
                # not /tmp: the container's systemd mounts a tmpfs there
                mkdir -p "$ROOT/root/debs"
                for p in $PACKAGES; do cp "$T/build/${p}_${debian_version}_"*.deb "$ROOT/root/debs/"; done
                run ct sh -c 'DEBIAN_FRONTEND=noninteractive dpkg -i /root/debs/*.deb'
                is "$RC" 0 "dpkg -i of the packages under systemd"
                [ "$RC" = 0 ] || printf '%s\n' "$OUT$ERR" | tail -n 20 | sed 's/^/# /'
                is "$(ct systemctl is-enabled ipcbroker.socket ipcbroker.service ipcbroker-metrics.socket ipcbroker-bridge.service 2>&1 | tr '\n' ' ')" \
                        "enabled enabled disabled disabled " \
                        "the postinst enabled ipcbroker.socket and .service, not the metrics socket nor the bridge"
                is "$(ct systemctl is-active ipcbroker.socket ipcbroker.service 2>&1 | tr '\n' ' ')" "active active " \
                        "... and started them on the installed configuration"
                run ct ipcbroker status
                is "$RC" 0 "ipcbroker status answers (root)"
                ok "nobody sends into public.chat through the installed CLI" \
                        ct setpriv --reuid=nobody --regid=nogroup --clear-groups ipcbroker send public.chat "hello from the package"
                is "$(ct ipcbroker recv public.chat -t 5 2>&1)" "hello from the package" "and root receives it"
                is "$(ct python3 -c 'import ipcbroker
with ipcbroker.open("public.chat", send=True, recv=True) as ch:
    ch.send(b"from python")
    print(ch.recv(timeout=5)[0].decode())' 2>&1)" "from python" "the installed Python package sends and receives"
                ok "the bridge's system user was made by the postinst" ct getent passwd ipcbroker-bridge
                run ct sh -c "DEBIAN_FRONTEND=noninteractive apt-get purge -y $PACKAGES"
                is "$RC" 0 "apt-get purge of the packages under systemd"
                [ "$RC" = 0 ] || printf '%s\n' "$OUT$ERR" | tail -n 20 | sed 's/^/# /'
                is "$(ct systemctl is-active ipcbroker.socket ipcbroker.service 2>&1 | tr '\n' ' ')" "inactive inactive " \
                        "the purge stopped the socket and the service"
                is "$(ct systemctl list-unit-files --no-legend 'ipcbroker*' 2>&1)" "" "no ipcbroker unit is left"
                not_ok "no ipcbrokerd runs" ct pgrep -x ipcbrokerd
                ok "/run/ipcbroker, /etc/ipcbroker.conf and /etc/ipcbroker.d are gone" \
                        ct sh -c 'test ! -e /run/ipcbroker && test ! -e /etc/ipcbroker.conf && test ! -e /etc/ipcbroker.d'
        else
                diag "state: ${STATE:-none}; console:"
                tail -n 20 "$CONSOLE_LOG" | sed 's/^/# /'
        fi
        container_cleanup
elif [ "${IPCBROKER_PACKAGES_TEST_REQUIRED:-0}" = 1 ]; then
        tap_result 1 "the packages under systemd as PID 1: $CONTAINER_WHY"
else
        skip "the packages under systemd as PID 1" "$CONTAINER_WHY"
fi

diag "the whole test: $(( ($(now_ms) - START_MS) / 1000 )) s"
done_testing
