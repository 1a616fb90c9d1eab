# container-lib.sh — a Debian 12 container booted with systemd 252 as PID 1, for
# the tests that need a real service manager (tests/systemd-container.sh,
# tests/packages.sh): the tree built once with debootstrap and cached, an
# overlay of it per run, systemd-nspawn --boot on a private network, and
# commands run inside through nsenter (machinectl needs a host systemd).
#
# The caller sets T (its temporary directory), MACHINE, ROOT, CONSOLE_LOG and
# BOOT_WAIT, and calls container_cleanup from its EXIT trap.
#
#   IPCBROKER_ROOTFS_CACHE  where the tree is kept between runs (default /var/cache/ipcbroker-ci)
#   IPCBROKER_DEBIAN_MIRROR the mirror debootstrap uses (default: the host's bookworm mirror)

NSPAWN_PID=
LEADER=
ROOT_MOUNTED=

container_gone() { ! kill -0 "$NSPAWN_PID" 2>/dev/null; }

container_stop() {
        [ -n "$NSPAWN_PID" ] || return 0
        if ! container_gone && [ -n "$LEADER" ]; then
                timeout 10 nsenter --target "$LEADER" --all systemctl poweroff >/dev/null 2>&1
        fi
        wait_until 30 container_gone || {
                diag "the container did not power off within 30 s: killing it"
                kill -TERM "$NSPAWN_PID" 2>/dev/null
                wait_until 10 container_gone || {
                        [ -n "$LEADER" ] && kill -KILL "$LEADER" 2>/dev/null
                        kill -KILL "$NSPAWN_PID" 2>/dev/null
                }
        }
        wait "$NSPAWN_PID" 2>/dev/null
        NSPAWN_PID=
        LEADER=
}

# Stop the container, unmount its root, remove what nspawn left.
container_cleanup() {
        container_stop
        if [ -n "$ROOT_MOUNTED" ]; then
                umount "$ROOT" 2>/dev/null || umount -l "$ROOT"
                ROOT_MOUNTED=
        fi
        # systemd-nspawn refuses to remove this where /run is not a tmpfs
        rmdir "/run/systemd/nspawn/propagate/$MACHINE" 2>/dev/null
}

# ---- the Debian 12 tree, cached ----------------------------------------------

# The host's bookworm mirror (one-line and deb822 sources alike).
host_mirror() {
        python3 - /etc/apt/sources.list /etc/apt/sources.list.d/* <<'EOF'
import sys, re
def candidates():
    for path in sys.argv[1:]:
        try:
            text = open(path).read()
        except OSError:
            continue
        if path.endswith(".sources"):
            for block in re.split(r"\n\s*\n", text):
                f = {}
                for line in block.splitlines():
                    if line.startswith("#") or ":" not in line:
                        continue
                    k, v = line.split(":", 1)
                    f[k.strip().lower()] = v.split()
                if "deb" in f.get("types", []) and "bookworm" in f.get("suites", []) \
                        and "main" in f.get("components", []) and f.get("enabled", ["yes"])[0] != "no":
                    yield from f.get("uris", [])
        elif path.endswith(".list"):
            for line in text.splitlines():
                line = re.sub(r"\[[^]]*\]", "", line.split("#", 1)[0]).split()
                if len(line) >= 4 and line[0] == "deb" and line[2] == "bookworm" and "main" in line[3:]:
                    yield line[1]
for uri in candidates():
    print(uri)
    break
else:
    print("http://deb.debian.org/debian")
EOF
}

# debootstrap's packages, plus the build's run-time libraries (libev, inih, the bridge's libnats)
# and nats-server for the bridge's part
ROOTFS_PACKAGES="systemd,systemd-sysv,dbus,procps,python3,libev4,libinih1,libnats3.4,nats-server"
ROOTFS_CACHE=${IPCBROKER_ROOTFS_CACHE:-/var/cache/ipcbroker-ci}
# the key changes with the package list and with what is done to the tree below
ROOTFS_KEY=$(printf 'bookworm minbase %s setup-2\n' "$ROOTFS_PACKAGES" | sha256sum | cut -c1-16)
BASE="$ROOTFS_CACHE/rootfs-$ROOTFS_KEY"

build_rootfs() {
        local mirror tmp
        mirror=${IPCBROKER_DEBIAN_MIRROR:-$(host_mirror)}
        tmp="$BASE.tmp.$$"
        rm -rf "$tmp"
        diag "building the Debian 12 tree in $BASE from $mirror (once; later runs reuse it)"
        if ! debootstrap --variant=minbase --include="$ROOTFS_PACKAGES" bookworm "$tmp" "$mirror" \
                >"$T/debootstrap.log" 2>&1; then
                diag "debootstrap failed:"
                tail -n 30 "$T/debootstrap.log" | sed 's/^/# /'
                rm -rf "$tmp"
                return 1
        fi
        rm -f "$tmp"/var/cache/apt/archives/*.deb
        echo ipcbroker-test >"$tmp/etc/hostname"
        # a machine id of its own (debootstrap's systemd leaves one), so no first boot setup
        tr -d '-' </proc/sys/kernel/random/uuid >"$tmp/etc/machine-id"
        # nothing the test does not need: no login prompt on the console, no timers
        for unit in console-getty.service apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer \
                e2scrub_all.timer systemd-tmpfiles-clean.timer; do
                ln -sf /dev/null "$tmp/etc/systemd/system/$unit"
        done
        touch "$tmp/.ipcbroker-rootfs-complete"
        mv "$tmp" "$BASE"
}

rootfs_ready() {
        mkdir -p "$ROOTFS_CACHE" || return 1
        # one build at a time, whoever else runs the test
        exec 9>"$ROOTFS_CACHE/lock"
        flock -w 900 9 || { diag "$ROOTFS_CACHE/lock stays taken"; return 1; }
        if [ -f "$BASE/.ipcbroker-rootfs-complete" ]; then
                ROOTFS_HOW="cached in $BASE"
        else
                local t0
                t0=$(now_ms)
                build_rootfs || { exec 9>&-; return 1; }
                ROOTFS_HOW="built in $(( ($(now_ms) - t0) / 1000 )) s, in $BASE"
        fi
        exec 9>&-
}

# The run's own tree: an overlay on the cached one (a copy where overlayfs fails).
root_prepare() {
        mkdir -p "$T/upper" "$T/work" "$ROOT"
        if mount -t overlay overlay -o "lowerdir=$BASE,upperdir=$T/upper,workdir=$T/work" "$ROOT" 2>"$T/mount.err"; then
                ROOT_MOUNTED=1
                ROOT_HOW="an overlay on the cached tree"
        else
                diag "overlayfs: $(cat "$T/mount.err"); copying the tree instead"
                cp -a "$BASE/." "$ROOT/" || return 1
                ROOT_HOW="a copy of the cached tree"
        fi
}

# Run a command in the container (its namespaces, a clean environment).
ct() {
        nsenter --target "$LEADER" --all \
                env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 TERM=dumb \
                SYSTEMD_PAGER=cat SYSTEMD_COLORS=0 "$@"
}
# the same as nobody (nogroup, no supplementary groups)
as_nobody() { ct setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
# write standard input to FILE in the container
put() { ct sh -c 'umask 022; cat >"$1"' sh "$1"; }

# The container's PID 1, once it runs systemd: nspawn's child, pid 1 in its namespace.
find_leader() {
        container_gone && return 2
        local pid
        for pid in $(ps --ppid "$NSPAWN_PID" -o pid=); do
                if grep -q '^NSpid:.*[[:space:]]1$' "/proc/$pid/status" 2>/dev/null &&
                        [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = systemd ]; then
                        LEADER=$pid
                        return 0
                fi
        done
        return 1
}
# systemd answers, and has finished booting
booted() {
        container_gone && return 2
        STATE=$(timeout "$BOOT_WAIT" nsenter --target "$LEADER" --all systemctl is-system-running --wait 2>/dev/null)
        case $STATE in running | degraded) return 0 ;; *) sleep 0.2; return 1 ;; esac
}

boot() {
        # plain console output: systemd colours only a terminal it knows
        TERM=dumb systemd-nspawn --boot --directory="$ROOT" --machine="$MACHINE" --private-network \
                --register=no --keep-unit --console=read-only >>"$CONSOLE_LOG" 2>&1 </dev/null &
        NSPAWN_PID=$!
        wait_until 30 find_leader || { diag "no systemd as the container's PID 1"; return 1; }
        wait_until "$BOOT_WAIT" booted
}
