#!/bin/sh
# run-bench.sh — run ipcbroker-bench against the daemon and CLI of this build.
#
#   bench/run-bench.sh [--smoke] [ipcbroker-bench options...]
#
# `make bench` calls it; so does bench/smoke.sh (with --smoke). It finds the
# binaries in $top_builddir (default: the directory above this script) and
# passes everything else on. The full run takes about a minute; --smoke a
# second or two. See bench/README.md.
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"

bench=$top_builddir/bench/ipcbroker-bench
if [ ! -x "$bench" ]; then
        echo "run-bench.sh: $bench is not built: run 'make bench-build' (or 'make check') first" >&2
        exit 1
fi

IPCBROKERD=${IPCBROKERD:-$top_builddir/ipcbrokerd}
# The CLI in a build tree is a libtool wrapper script; time the real program
# (with the uninstalled library) rather than a shell starting it.
if [ -z "${IPCBROKER_CLI:-}" ]; then
        if [ -x "$top_builddir/.libs/ipcbroker" ] && [ -f "$top_builddir/.libs/libipcbroker.so.0" ]; then
                IPCBROKER_CLI=$top_builddir/.libs/ipcbroker
                IPCBROKER_CLI_LIBDIR=$top_builddir/.libs
        else
                IPCBROKER_CLI=$top_builddir/ipcbroker
        fi
fi
# part 7's flood and probe (a check program)
IPCBROKER_FLOOD=${IPCBROKER_FLOOD:-$top_builddir/tests/helpers/flood}
# part 8's bridge (built when configure found libnats)
IPCBROKER_BRIDGE=${IPCBROKER_BRIDGE:-$top_builddir/ipcbroker-bridge}
export IPCBROKERD IPCBROKER_CLI IPCBROKER_FLOOD IPCBROKER_BRIDGE
[ -n "${IPCBROKER_CLI_LIBDIR:-}" ] && export IPCBROKER_CLI_LIBDIR

exec "$bench" "$@"
