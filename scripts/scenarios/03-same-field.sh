#!/usr/bin/env bash
# The same field on two replicas: a conflict on both after sync; resolved on one,
# gone everywhere; equal digests.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
WORK=$(mktemp -d); trap 'stop_hub; rm -rf "$WORK"' EXIT
start_hub "$WORK/hub"
A="$WORK/a" B="$WORK/b" C="$WORK/c"
new_replica "$A" iom "Andi (IOM)"; new_replica "$B" unicef "Sari (UNICEF)"; new_replica "$C" stc "Budi (STC)"
mf "$A" put positions kemnaker:ask-1 stance=Neutral >/dev/null
for home in "$A" "$B" "$C"; do mf "$home" sync >/dev/null; done

mf "$A" put positions kemnaker:ask-1 stance=ActiveSupport >/dev/null
mf "$B" put positions kemnaker:ask-1 stance=PassiveOpposition >/dev/null
for home in "$A" "$B" "$C" "$A"; do mf "$home" sync >/dev/null; done
for home in "$A" "$B" "$C"; do
  code=0; mf "$home" conflicts --check >/dev/null || code=$?
  expect_eq "conflicts --check on $(basename "$home")" 3 "$code"
done
conflict=$(mf "$C" conflicts --json)
grep -q '"value":"ActiveSupport"' <<<"$conflict" || fail "candidate ActiveSupport missing"
grep -q '"value":"PassiveOpposition"' <<<"$conflict" || fail "candidate PassiveOpposition missing"
grep -q '"author":"Sari (UNICEF)"' <<<"$conflict" || fail "author missing"

mf "$C" resolve positions kemnaker:ask-1 stance --value PassiveSupport >/dev/null
for home in "$C" "$A" "$B"; do mf "$home" sync >/dev/null; done
for home in "$A" "$B" "$C"; do mf "$home" conflicts --check >/dev/null || fail "conflict left on $home"; done
expect_converged "$A" "$B" "$C"
expect_eq "resolved stance" PassiveSupport "$(mf "$A" get positions kemnaker:ask-1 --json | json_field stance)"
echo "ok: conflict shown on all three, resolved on one, gone everywhere"
