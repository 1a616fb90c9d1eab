#!/bin/bash
# The source layout's rules, checked on the source itself (see ARCHITECTURE.md):
#  - no two daemon modules (daemon/NAME.c with its NAME.h) include each
#    other in a circle, directly or through others;
#  - common/ includes nothing of daemon/ or client/, client/ nothing of
#    daemon/, daemon/ nothing of client/;
#  - the channel types are told apart only in the channel type files
#    (channel-*.c, and channel.c's table of them) and the configuration
#    (config*.c, config.h, and limits.c, which checks a configuration
#    against the kernel's limits): no CHANNEL_MQUEUE/FIFO, no WIRE_CHANNEL_*
#    value, no comparison with a type's ops (ch->ops == &channel_mq_ops)
#    anywhere else in daemon/;
#  - the wire protocol is defined once, in common/protocol.[ch].
. "$top_srcdir/tests/lib.sh"

src=$top_srcdir

# "MODULE INCLUDED-MODULE" for every #include "x.h" of a daemon file that names a daemon header
edges=$(cd "$src/daemon" && for f in *.c *.h; do
        m=${f%.*}
        sed -n 's/^#include "\([^"]*\)\.h".*/\1/p' "$f" | while read -r h; do
                [ -f "$h.h" ] && [ "$h" != "$m" ] && echo "$m $h"
        done
done | sort -u)
ok "the daemon's includes were read" test -n "$edges"

# Depth-first search over "FROM TO" lines; prints each cycle found as "a -> b -> ... -> a".
find_cycles() {
        awk '
        { succ[$1] = succ[$1] " " $2; node[$1] = 1; node[$2] = 1 }
        function visit(n, path,    k, i, s, list) {
                if (state[n] == 2) return
                if (state[n] == 1) { print path " -> " n; return }
                state[n] = 1
                k = split(succ[n], list, " ")
                for (i = 1; i <= k; i++) visit(list[i], path " -> " n)
                state[n] = 2
        }
        END { for (n in node) if (!state[n]) visit(n, "") }' | sed 's/^ -> //'
}

cycles=$(echo "$edges" | find_cycles)
is "$cycles" "" "no daemon modules include each other in a circle"
[ -z "$cycles" ] || diag "cycles: $cycles"

# layers between the three directories
daemon_headers=$(cd "$src/daemon" && ls *.h | sed 's/\.h$//' | paste -sd'|')
client_headers=$(cd "$src/client" && ls *.h | sed 's/\.h$//' | paste -sd'|')
# every header of daemon/ and client/ by name (none of them is named like one of common/'s)
is "$(grep -lE "^#include \"($daemon_headers|$client_headers)\.h\"" "$src"/common/*.[ch] 2>/dev/null)" "" \
        "common/ includes nothing of daemon/ or client/"
is "$(grep -lE "^#include \"($daemon_headers)\.h\"" "$src"/client/*.[ch] 2>/dev/null)" "" "client/ includes nothing of daemon/"
is "$(grep -lE "^#include \"($client_headers)\.h\"" "$src"/daemon/*.[ch] 2>/dev/null)" "" "daemon/ includes nothing of client/"

# the channel types are told apart in their own files and the configuration only
type_switch='CHANNEL_(MQUEUE|FIFO)\b|WIRE_CHANNEL_[A-Z]+|(==|!=)[[:space:]]*&?[[:space:]]*channel_[a-z]+_ops\b|\bchannel_[a-z]+_ops[[:space:]]*(==|!=)'
switches=$(cd "$src/daemon" && grep -nE "$type_switch" *.c *.h |
        grep -vE '^(channel-[a-z]+\.c|channel\.c|config[a-z-]*\.[ch]|limits\.c):')
is "$switches" "" "no channel-type switch outside the channel type files and the configuration"
[ -z "$switches" ] || diag "type switches: $switches"
# the check itself finds each kind of switch, and not a call through the ops
for plant in 'if (ch->config->type == CHANNEL_FIFO)' 'if (info.type == WIRE_CHANNEL_SHM)' \
        'if (ch->ops == &channel_mq_ops)' 'if (&channel_fifo_ops != ch->ops)'; do
        ok "the type-switch check finds: $plant" grep -qE "$type_switch" <<<"$plant"
done
not_ok "the type-switch check lets pass: ch->ops->open(ch, access, h)" grep -qE "$type_switch" <<<'ch->ops->open(ch, access, h);'

# one definition of the wire protocol: its message types and attributes are named in common/protocol.h only
is "$(grep -lE '^[[:space:]]*WIRE_(ATTR|REQ)_[A-Z_]+ *(=|,)' "$src"/daemon/*.[ch] "$src"/client/*.[ch] 2>/dev/null)" "" \
        "wire message types and attributes are defined in common/protocol.h only"
like "$(grep -c 'WIRE_ATTR_' "$src/common/protocol.h")" '^[1-9][0-9]*$' "common/protocol.h defines the attributes"

# the maps of the source name every file of it
for doc in README.md ARCHITECTURE.md; do
        missing=$(cd "$src" && for f in daemon/*.c client/lib-*.c; do
                grep -q "$(basename "$f")" "$doc" || echo "$f"
        done)
        is "$missing" "" "$doc names every daemon source file and library file"
done

# the check itself finds a circle: a made-up graph with one
fake=$(printf 'a b\nb c\nc a\n' | find_cycles)
like "$fake" 'a.*b.*c.*a|b.*c.*a.*b|c.*a.*b.*c' "the cycle search finds a -> b -> c -> a"

done_testing
