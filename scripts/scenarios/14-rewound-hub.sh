#!/usr/bin/env bash
# The hub's data folder is put back to an older snapshot. Replicas notice the rewound hub
# and send back, with the hub's vouchers, the records it lost (protocol 5): every write is
# back without re-seed mode, and a write made on the rewound state meanwhile is kept too.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
WORK=$(mktemp -d); trap 'stop_hub; rm -rf "$WORK"' EXIT
start_hub "$WORK/hub"
PORT=${HUB_ADDR##*:}
A="$WORK/a" B="$WORK/b" C="$WORK/c"
new_replica "$A" iom "Andi (IOM)"; new_replica "$B" unicef "Sari (UNICEF)"; new_replica "$C" stc "Budi (STC)"
mf "$A" put positions gov:budget stance=Neutral >/dev/null 2>&1
mf "$A" sync >/dev/null; mf "$B" sync >/dev/null

stop_hub
cp -r "$WORK/hub" "$WORK/snapshot"
HUB_PORT=$PORT start_hub "$WORK/hub"
mf "$A" put positions gov:budget influence=High >/dev/null 2>&1
mf "$A" put organizations iom name=IOM type=UNAgency >/dev/null
mf "$A" sync >/dev/null
mf "$B" put positions gov:budget "statement=Cabinet will decide" >/dev/null 2>&1
mf "$B" put organizations unicef name=UNICEF type=UNAgency >/dev/null
mf "$B" sync >/dev/null; mf "$A" sync >/dev/null

# Rewind: the hub comes back from the snapshot, on the same port. It starts a new run, so
# it never names a write with a dot its lost future used; the replicas that hold the lost
# writes send them back with the hub's vouchers (protocol 5), no re-seed mode needed.
stop_hub
rm -rf "$WORK/hub"; cp -r "$WORK/snapshot" "$WORK/hub"
HUB_PORT=$PORT start_hub "$WORK/hub"
mf "$C" sync >/dev/null
mf "$C" put positions gov:budget signOn=Signed >/dev/null 2>&1     # made on the rewound hub's state
out=$(mf "$A" sync 2>&1)
grep -q "restored" <<<"$out" || fail "A did not notice the rewound hub: $out"
out=$(mf "$B" sync 2>&1)
grep -q "restored" <<<"$out" || fail "B did not notice the rewound hub: $out"
for home in "$C" "$A" "$B" "$C"; do mf "$home" sync >/dev/null; done
expect_converged "$A" "$B" "$C"
for home in "$A" "$B" "$C"; do
  expect_eq "stance on $(basename "$home")" Neutral "$(field_value "$home" positions gov:budget stance)"
  expect_eq "influence on $(basename "$home")" High "$(field_value "$home" positions gov:budget influence)"
  expect_eq "statement on $(basename "$home")" "Cabinet will decide" "$(field_value "$home" positions gov:budget statement)"
  expect_eq "signOn on $(basename "$home")" Signed "$(field_value "$home" positions gov:budget signOn)"
  expect_eq "iom on $(basename "$home")" IOM "$(field_value "$home" organizations iom name)"
  expect_eq "unicef on $(basename "$home")" UNICEF "$(field_value "$home" organizations unicef name)"
  expect_eq "pending on $(basename "$home")" 0 "$(mf "$home" status --json | json_field pending)"
  expect_eq "conflicts on $(basename "$home")" 0 "$(mf "$home" status --json | json_field conflicts)"
  grep -q '"refused":\[\]' <<<"$(mf "$home" status --json)" || fail "$(basename "$home") shows refused records"
done
runs=$(sqlite3 "$WORK/hub/hub.sqlite" "SELECT COUNT(*) FROM incarnations")
expect_eq "hub runs remembered by the rewound file (first start, and the start after the rewind)" 2 "$runs"
echo "ok: rewound hub noticed; its lost writes came back by voucher from A and B without re-seed; a write made on the rewound state kept too; digests equal"
