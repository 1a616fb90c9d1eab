#!/bin/bash
# The Python package (bindings/python) against the real daemon: the extension
# built against this build's libipcbroker (bindings/python/run-in-tree.sh, into
# $top_builddir/bindings/python/build), its pytest suite (bindings/python/tests:
# each test one TAP line here; the suite starts its own ipcbrokerd from this
# build), pip's route (pip install --no-build-isolation from a copy of the
# source), and the Python benchmark in smoke mode.
#
# Needs python3 with its headers (python3-dev), setuptools, pytest and pip
# (Debian: python3-dev python3-setuptools python3-pytest python3-pip, which CI
# installs); without them the whole test is skipped, loudly.
. "$top_srcdir/tests/lib.sh"
test_init

RUN="$top_srcdir/bindings/python/run-in-tree.sh"
# the same python3 for everything (see tests/lib.sh); the suite's daemon honours IPCBROKERD_WRAPPER and DAEMON_WAIT
export top_srcdir top_builddir PYTHON="$PYTHON3"

skip_loudly() {
        echo "python.sh: SKIPPED, the Python package is not tested: $*" >&2
        skip_all "$*"
}

out=$(sh "$RUN" build 2>&1)
rc=$?
[ $rc = 77 ] && skip_loudly "$out"
[ $rc = 0 ] || { printf '%s\n' "$out" | sed 's/^/# /'; bail_out "the Python extension does not build"; }
tap_result 0 "the Python extension builds against this build's libipcbroker (warnings are errors)"
sh "$RUN" run -c 'import pytest' 2>/dev/null || skip_loudly "no pytest for $PYTHON3 (Debian: python3-pytest)"

# ---- the pytest suite, one TAP line per test ----
run sh "$RUN" run -m pytest -q -rA -p no:cacheprovider --color=no "$top_srcdir/bindings/python/tests"
printf '%s\n' "$OUT" "$ERR" >"$T/pytest.out"
while IFS=$'\t' read -r status name; do
        name=${name#*bindings/python/tests/}
        case $status in
        PASSED | XFAIL) tap_result 0 "pytest: $name" ;;
        SKIPPED) skip "pytest: ${name%%: *}" "${name#*: }" ;;
        *) tap_result 1 "pytest: $status ${name%% - *}" ;;
        esac
done < <(sed -n -E 's/^(PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS) (\[[0-9]+\] )?(.*)$/\1\t\3/p' "$T/pytest.out")
is "$RC" 0 "pytest bindings/python/tests: $(grep -E '[0-9]+ (passed|failed|error)' "$T/pytest.out" | tail -n1 | tr -d '=' | sed 's/^ *//; s/ *$//')"
if [ "$RC" != 0 ] || [ "$TAP_FAILED" != 0 ]; then
        diag "---- pytest ----"
        sed 's/^/# /' "$T/pytest.out" | tail -n 150
fi

# ---- pip's route: a wheel built from the source with Debian's setuptools, installed into a directory ----
if "$PYTHON3" -m pip --version >/dev/null 2>&1; then
        cp -r "$top_srcdir/bindings/python" "$T/src" && chmod -R u+w "$T/src" && rm -rf "$T/src/build"
        run env IPCBROKER_BUILD_DIR="$top_builddir" IPCBROKER_INCLUDE_DIR="$top_srcdir/include" CFLAGS=-Werror \
                "$PYTHON3" -m pip install --no-build-isolation --no-deps --no-index --disable-pip-version-check \
                --root-user-action=ignore --target "$T/site" "$T/src"
        is "$RC" 0 "pip install --no-build-isolation ./bindings/python (into a directory)"
        [ "$RC" = 0 ] || printf '%s\n' "$OUT" "$ERR" | sed 's/^/# /' | tail -n 40
        run sh "$RUN" run -c 'import os, sys
sys.path.insert(0, sys.argv[1])
import ipcbroker
d = os.path.dirname(ipcbroker.__file__)
print(d, ipcbroker.library_version(), os.path.exists(os.path.join(d, "py.typed")))' "$T/site"
        like "$OUT" "^$T/site/ipcbroker [0-9.]+ True\$" "the installed package imports, with py.typed"
else
        skip "pip install --no-build-isolation ./bindings/python" "no pip for $PYTHON3 (Debian: python3-pip)"
fi

# ---- the benchmark's Python part, tiny ----
run sh "$RUN" run "$top_srcdir/bench/python-bench.py" --smoke
is "$RC" 0 "bench/python-bench.py --smoke runs"
like "$OUT" 'ctypes mq_send/mq_receive' "its table names the ctypes baseline"
[ "$RC" = 0 ] || printf '%s\n' "$OUT" "$ERR" | sed 's/^/# /' | tail -n 40

done_testing
