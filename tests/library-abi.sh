#!/bin/bash
# libipcbroker as a shared library: soname, exported symbols, the header
# from C and C++, the pkg-config file, and the README's example program
# built against it and run against the real daemon.
. "$top_srcdir/tests/lib.sh"
test_init

LIB="$top_builddir/.libs/libipcbroker.so.0"
ok "libipcbroker.so.0 is built" test -f "$LIB"
is "$(objdump -p "$LIB" | awk '/SONAME/ {print $2}')" "libipcbroker.so.0" "soname is libipcbroker.so.0"
exports=$(nm -D --defined-only "$LIB" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sed 's/@.*//' | sort -u)
is "$(echo "$exports" | grep -vc '^ipcb_')" 0 "only ipcb_* symbols are exported"
like "$exports" 'ipcb_open' "ipcb_open is exported"
is "$(nm -D --defined-only "$LIB" | grep -c 'ipcb_open@@IPCBROKER_0')" 1 "symbols carry the IPCBROKER_0 version"

CC=${CC:-cc}
# a sanitizer build of the library needs its runtime in the programs too
SAN=
objdump -p "$LIB" | grep -q 'NEEDED.*libasan' && SAN="-fsanitize=address,undefined"
ok "the header compiles as C with -Wall -Wextra -pedantic" \
        $CC -std=c11 -Wall -Wextra -pedantic -Werror -fsyntax-only -x c "$top_srcdir/include/ipcbroker.h"
if command -v "${CXX:-g++}" >/dev/null; then
        printf '#include <ipcbroker.h>\nint main() { ipcb_channel *c = nullptr; return ipcb_open("x", IPCB_SEND, &c) == 0; }\n' \
                >"$T/cxx.cc"
        ok "the header compiles and links from C++" \
                "${CXX:-g++}" $SAN -Wall -Wextra -Werror -I"$top_srcdir/include" "$T/cxx.cc" -L"$top_builddir/.libs" \
                -lipcbroker -o "$T/cxx"
else
        diag "no C++ compiler: C++ use of the header not tested"
fi

# the .pc file, pointed at the build tree
sed -e "s|^libdir=.*|libdir=$top_builddir/.libs|" -e "s|^includedir=.*|includedir=$top_srcdir/include|" \
        "$top_builddir/client/ipcbroker.pc" >"$T/ipcbroker.pc"
flags=$(PKG_CONFIG_PATH="$T" pkg-config --cflags --libs ipcbroker)
like "$flags" '-lipcbroker' "pkg-config ipcbroker gives the library"

# the README's example program, verbatim
sed -n '/^#include <ipcbroker.h>/,/^}/p' "$top_srcdir/README.md" >"$T/example.c"
ok "the README has an example program" test -s "$T/example.c"
ok "the example builds with pkg-config ipcbroker" $CC $SAN -Wall -Wextra -Werror "$T/example.c" $flags -o "$T/example"

add_channel jobs type=mqueue max_messages=4 message_size=1024 on_stop=remove
ok "daemon starts" daemon_start
out=$(LD_LIBRARY_PATH="$top_builddir/.libs" "$T/example" 2>&1)
is "$out" "hello (priority 3)" "the example sends and receives through the broker"
daemon_stop
out=$(LD_LIBRARY_PATH="$top_builddir/.libs" "$T/example" 2>&1)
like "$out" "jobs: cannot reach ipcbrokerd at $SOCK" "without the daemon the example explains, naming the socket"

done_testing
