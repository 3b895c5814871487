#!/usr/bin/env bash
# An edit racing a delete: a conflict is shown and the edit is not lost.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
WORK=$(mktemp -d); trap 'stop_hub; rm -rf "$WORK"' EXIT
start_hub "$WORK/hub"
A="$WORK/a" B="$WORK/b"
new_replica "$A" iom "Andi (IOM)"; new_replica "$B" unicef "Sari (UNICEF)"
mf "$A" put positions bp2mi:ask-1 stance=Neutral "statement=Will review" >/dev/null
mf "$A" sync >/dev/null; mf "$B" sync >/dev/null

mf "$A" delete positions bp2mi:ask-1 >/dev/null
mf "$B" put positions bp2mi:ask-1 "statement=Draft sent to cabinet" >/dev/null
for home in "$A" "$B" "$A"; do mf "$home" sync >/dev/null; done

expect_converged "$A" "$B"
conflicts=$(mf "$A" conflicts --json)
grep -q '"deletion":true' <<<"$conflicts" || fail "no deletion candidate"
grep -q '"value":"Draft sent to cabinet"' <<<"$conflicts" || fail "the edit was lost"
mf "$A" resolve positions bp2mi:ask-1 statement --value "Draft sent to cabinet" >/dev/null
mf "$A" sync >/dev/null; mf "$B" sync >/dev/null
expect_converged "$A" "$B"
expect_eq "revived" false "$(mf "$B" get positions bp2mi:ask-1 --json | json_field deleted)"
echo "ok: edit vs delete surfaced as a conflict; keeping the edit revived the record"
