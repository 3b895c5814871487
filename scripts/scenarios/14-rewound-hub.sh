#!/usr/bin/env bash
# The hub's data folder is put back to an older snapshot. Replicas notice the rewound hub
# and push again; records holding several replicas' lost writes wait (refused forged-dot,
# shown by status) until the hub runs with --reseed; then every write is back.
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
synced_digest=$(hub_digest)

# Rewind: the hub comes back from the snapshot, on the same port.
stop_hub
rm -rf "$WORK/hub"; cp -r "$WORK/snapshot" "$WORK/hub"
HUB_PORT=$PORT start_hub "$WORK/hub"
out=$(mf "$A" sync 2>&1)
grep -q "restored from an older copy" <<<"$out" || fail "A did not notice the rewound hub: $out"
out=$(mf "$B" sync 2>&1)
grep -q "restored from an older copy" <<<"$out" || fail "B did not notice the rewound hub: $out"
for home in "$A" "$B" "$C"; do mf "$home" sync >/dev/null; done

# Without --reseed: records holding one replica's writes are back; gov:budget holds both
# replicas' lost writes and is refused, kept pending and shown.
for home in "$A" "$B"; do
  status=$(mf "$home" status --json)
  grep -q '"refused":\[{.*"code":"forged-dot".*"id":"gov:budget"' <<<"$status" ||
    fail "$(basename "$home"): gov:budget not shown as refused: $status"
  expect_eq "pending on $(basename "$home") before re-seed" 1 "$(echo "$status" | json_field pending)"
  grep -q '"waiting":\[{.*"id":"gov:budget"' <<<"$(mf "$home" sync --json)" || fail "sync --json on $(basename "$home") does not list gov:budget waiting"
done
expect_eq "iom on C before re-seed" IOM "$(field_value "$C" organizations iom name)"
expect_eq "unicef on C before re-seed" UNICEF "$(field_value "$C" organizations unicef name)"
expect_eq "influence on C before re-seed" "" "$(field_value "$C" positions gov:budget influence)"
[ "$(hub_digest)" != "$(mf "$A" digest)" ] || fail "the hub already equals A without re-seed; nothing was tested"

# With --reseed: everything goes through.
stop_hub
HUB_FLAGS=--reseed HUB_PORT=$PORT start_hub "$WORK/hub"
for home in "$A" "$B" "$C" "$A" "$B"; do mf "$home" sync >/dev/null; done
expect_converged "$A" "$B" "$C"
expect_eq "hub digest after re-seed vs before the rewind" "$synced_digest" "$(hub_digest)"
for home in "$A" "$B" "$C"; do
  expect_eq "stance on $(basename "$home")" Neutral "$(field_value "$home" positions gov:budget stance)"
  expect_eq "influence on $(basename "$home")" High "$(field_value "$home" positions gov:budget influence)"
  expect_eq "statement on $(basename "$home")" "Cabinet will decide" "$(field_value "$home" positions gov:budget statement)"
  expect_eq "iom on $(basename "$home")" IOM "$(field_value "$home" organizations iom name)"
  expect_eq "unicef on $(basename "$home")" UNICEF "$(field_value "$home" organizations unicef name)"
  expect_eq "pending on $(basename "$home")" 0 "$(mf "$home" status --json | json_field pending)"
  grep -q '"refused":\[\]' <<<"$(mf "$home" status --json)" || fail "$(basename "$home") still shows refused records"
done

# Back to normal mode: a plain edit still syncs.
stop_hub
HUB_PORT=$PORT start_hub "$WORK/hub"
mf "$C" put positions gov:budget signOn=Signed >/dev/null 2>&1
for home in "$C" "$A" "$B"; do mf "$home" sync >/dev/null; done
expect_converged "$A" "$B" "$C"
expect_eq "signOn on A" Signed "$(field_value "$A" positions gov:budget signOn)"
echo "ok: rewound hub noticed; gov:budget refused forged-dot and shown until --reseed; then all 5 writes back, hub = pre-rewind digest"
