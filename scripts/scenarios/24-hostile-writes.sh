#!/usr/bin/env bash
# Protocol 5 spoken by a raw client written from PROTOCOL.md alone (scripts/raw-client.py
# hostile5), with a valid coordinator's token: one honest write is named, and answered with the
# same name when replayed; a write entered by a laptop clock at 2100 is named with the hub's
# time and freezes nothing (issue 27, case 3: later writes to the record go through); the same write id with other values or for another record, a context
# claiming writes the hub never issued, and relays with a made-up voucher or edited tags are
# refused; the audit chain holds, and the laptops converge with the hub.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
WORK=$(mktemp -d); trap 'stop_hub; rm -rf "$WORK"' EXIT
RAW="$(dirname "$0")/../raw-client.py"
start_hub "$WORK/hub"
A="$WORK/a" B="$WORK/b"
new_replica "$A" iom "Andi (IOM)"; new_replica "$B" unicef "Sari (UNICEF)"
mf "$A" put positions gov:budget stance=Neutral "statement=Before" >/dev/null 2>&1
mf "$A" sync >/dev/null; mf "$B" sync >/dev/null

out=$(HUB_KEY=$(hub_key) python3 "$RAW" "$HUB_ADDR" "$(new_token stc "Mallory (STC)")" 6d616c6c6f727901 hostile5 positions gov:budget gov:other)
line() { grep "^$1 " <<<"$out" | cut -d' ' -f2-; }
honest=$(line honest)
[[ "$honest" == named\ * ]] || fail "the honest write was not named: $out"
expect_eq "replay of the honest write" "earlier ${honest#named }" "$(line replay)"
[[ "$(line far-future-clock)" == named\ * ]] || fail "the write entered at 2100 was not named: $out"
expect_eq "same write id, other values" corruption "$(line same-id-other-values)"
expect_eq "same write id, another record" corruption "$(line same-id-other-record)"
expect_eq "context beyond what the hub issued" counter-beyond "$(line context-beyond)"
expect_eq "relay of the state as served" "unchanged 1" "$(line relay-served)"
expect_eq "relay with a made-up voucher" unvouched "$(line relay-forged-voucher)"
expect_eq "relay with edited tags" unvouched "$(line relay-edited-tags)"

"$MUFAKAT_HUB" audit verify --data "$HUB_DATA" >/dev/null || fail "the audit chain does not verify"
year=$(sqlite3 "$HUB_DATA/hub.sqlite" "SELECT time FROM writes WHERE entered_at = 4102444800000" | cut -c1-2)
[ -n "$year" ] && [ "$year" -lt 41 ] || fail "the write entered at 2100 got a time that is not the hub's: $year"
for home in "$A" "$B"; do mf "$home" sync >/dev/null; done
mf "$A" put positions gov:budget "statement=After the far-future write" >/dev/null 2>&1
out=$(mf "$A" sync 2>&1)
grep -q "refused" <<<"$out" && fail "a write after the far-future one was refused: $out"
mf "$B" sync >/dev/null
expect_converged "$A" "$B"
for home in "$A" "$B"; do
  expect_eq "source on $(basename "$home")" "raw client" "$(field_value "$home" positions gov:budget source)"
  expect_eq "statement on $(basename "$home")" "After the far-future write" "$(field_value "$home" positions gov:budget statement)"
done
echo "ok: a raw protocol 5 client: honest write named once (replay answered with its name); a write entered at 2100 stamped with the hub's time, a later write accepted; 5 hostile writes and relays refused (corruption x2, counter-beyond, unvouched x2); audit verifies; laptops converged"
