#!/usr/bin/env bash
# Three replicas edit offline, sync in turn, and end with equal digests.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
WORK=$(mktemp -d); trap 'stop_hub; rm -rf "$WORK"' EXIT
start_hub "$WORK/hub"
A="$WORK/a" B="$WORK/b" C="$WORK/c"
new_replica "$A" iom "Andi (IOM)"; new_replica "$B" unicef "Sari (UNICEF)"; new_replica "$C" stc "Budi (STC)"

mf "$A" put organizations iom name=IOM type=UNAgency >/dev/null
mf "$B" put organizations unicef name=UNICEF type=UNAgency >/dev/null
mf "$C" put asks ask-budget "title=Raise the shelter budget" category=BudgetIncrease >/dev/null
for home in "$A" "$B" "$C" "$A" "$B"; do mf "$home" sync >/dev/null; done

expect_converged "$A" "$B" "$C"
expect_eq "organizations on C" 2 "$(mf "$C" list organizations --json | grep -o '"id"' | wc -l | tr -d ' ')"
expect_eq "pending on A" 0 "$(mf "$A" status --json | json_field pending)"
expect_eq "tokens never used" 0 "$("$MUFAKAT_HUB" token list --data "$HUB_DATA" --json | grep -o '"lastUsed":null' | wc -l | tr -d ' ')"
echo "ok: 3 replicas converged; token list shows each token's last use"
