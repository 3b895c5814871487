#!/usr/bin/env bash
# Two replicas edit different fields of one record: merged, no conflict.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
WORK=$(mktemp -d); trap 'stop_hub; rm -rf "$WORK"' EXIT
start_hub "$WORK/hub"
A="$WORK/a" B="$WORK/b"
new_replica "$A" iom "Andi (IOM)"; new_replica "$B" unicef "Sari (UNICEF)"
mf "$A" put positions kemnaker:ask-1 stance=Neutral >/dev/null
mf "$A" sync >/dev/null; mf "$B" sync >/dev/null

mf "$A" put positions kemnaker:ask-1 stance=ActiveSupport >/dev/null
mf "$B" put positions kemnaker:ask-1 influence=High "statement=Minister agreed" >/dev/null
for home in "$A" "$B" "$A"; do mf "$home" sync >/dev/null; done

expect_converged "$A" "$B"
record=$(mf "$B" get positions kemnaker:ask-1 --json)
expect_eq "stance" ActiveSupport "$(echo "$record" | json_field stance)"
expect_eq "influence" High "$(echo "$record" | json_field influence)"
expect_eq "conflicted" false "$(echo "$record" | json_field conflicted)"
mf "$A" conflicts --check >/dev/null || fail "A reports conflicts"
echo "ok: disjoint fields merged without conflict"
