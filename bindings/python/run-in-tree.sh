#!/bin/sh
# run-in-tree.sh — the Python package against an uninstalled ipcbroker build,
# for make check (tests/python.sh) and make bench (bench/python-bench.py).
#
#   bindings/python/run-in-tree.sh build            build it, quietly
#   bindings/python/run-in-tree.sh run ARGS...      python3 ARGS... with the build on PYTHONPATH
#
# top_srcdir and top_builddir as the tests have them (default: the source
# tree this script is in, built in place). The package is built with
# setup.py against $top_builddir/.libs/libipcbroker.so and include/ipcbroker.h
# (IPCBROKER_BUILD_DIR, see setup.py) into $top_builddir/bindings/python/build:
# nothing is written to the source tree and nothing is installed. "run" sets
# PYTHONPATH and IPCBROKER_BUILD_DIR (ipcbroker.testing starts the build's
# ipcbrokerd); a library built with sanitizers gets their runtimes preloaded
# into python3.
#
# The Python is /usr/bin/python3 when there is one (root's python3 may be a
# pyenv shim that other users cannot run), else python3; PYTHON overrides.
# Exit status 77, with the reason on stderr, when it, its headers
# (python3-dev) or setuptools (python3-setuptools) are missing.
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
if [ -z "${PYTHON:-}" ]; then
        if [ -x /usr/bin/python3 ]; then PYTHON=/usr/bin/python3; else PYTHON=python3; fi
fi
lib=$top_builddir/bindings/python/build/lib

missing() {
        echo "run-in-tree.sh: $*" >&2
        exit 77
}

case ${1:-} in
build)
        command -v "$PYTHON" >/dev/null 2>&1 || missing "no $PYTHON (Debian: python3)"
        "$PYTHON" -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' ||
                missing "no Python.h for $PYTHON (Debian: python3-dev)"
        "$PYTHON" -c 'import setuptools' 2>/dev/null || missing "no setuptools for $PYTHON (Debian: python3-setuptools)"
        cd "$top_srcdir/bindings/python" || exit 1
        # warnings are errors: the extension is ours, and Python's headers are clean
        out=$(IPCBROKER_BUILD_DIR=$top_builddir IPCBROKER_INCLUDE_DIR=$top_srcdir/include CFLAGS="${CFLAGS:-} -Werror" \
                PYTHONDONTWRITEBYTECODE=1 "$PYTHON" setup.py build --build-base "$top_builddir/bindings/python/build" \
                --build-lib "$lib" 2>&1)
        rc=$?
        [ $rc = 0 ] || printf '%s\n' "$out" >&2
        exit $rc
        ;;
run)
        shift
        # a sanitizer build of the library needs its runtimes loaded first
        preload=
        if objdump -p "$top_builddir/.libs/libipcbroker.so.0" 2>/dev/null | grep -q 'NEEDED.*libasan'; then
                for rt in libasan.so libubsan.so; do
                        f=$(${CC:-cc} -print-file-name=$rt 2>/dev/null)
                        [ -f "$f" ] && preload="$preload $f"
                done
                # the interpreter's own allocations are not ours to report
                ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
                export ASAN_OPTIONS
        fi
        if [ -n "$preload" ]; then
                LD_PRELOAD="${preload# }${LD_PRELOAD:+ $LD_PRELOAD}"
                export LD_PRELOAD
        fi
        PYTHONPATH=$lib${PYTHONPATH:+:$PYTHONPATH} IPCBROKER_BUILD_DIR=$top_builddir PYTHONDONTWRITEBYTECODE=1 \
                exec "$PYTHON" "$@"
        ;;
*)
        echo "usage: $0 build | run ARGS..." >&2
        exit 2
        ;;
esac
