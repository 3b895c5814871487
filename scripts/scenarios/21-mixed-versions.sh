#!/usr/bin/env bash
# An upgraded hub serves a laptop still on 0.5 (protocol 2) beside an upgraded one
# (protocol 5, the hub naming its writes): they write, conflict, resolve and end with
# equal data.
#
# OLD_BIN=<folder with mufakat and mufakat-hub 0.5.x> runs the real older release, and then
# also an upgraded laptop against a 0.5 hub (it falls back to version 2 and says so).
# Without OLD_BIN the older laptop is this mufakat told to speak version 2
# (MUFAKAT_PROTOCOL=2, which makes 'init' make a replica whose own counter names its
# writes, as 0.5 did): the frames 0.5 sends (protocol/vectors/13-push-version-2.json).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
WORK=${KEEP_WORK:-$(mktemp -d)}; trap 'stop_hub; rm -rf "$WORK"' EXIT
old() {
  local home="$1"
  shift
  if [ -n "${OLD_BIN:-}" ]; then "$OLD_BIN/mufakat" "$@" --home "$home"; else MUFAKAT_PROTOCOL=2 "$MUFAKAT" "$@" --home "$home"; fi
}
start_hub "$WORK/hub"
NEW="$WORK/new" OLD="$WORK/old"
new_replica "$NEW" iom "Andi (IOM)"
# shellcheck disable=SC2046 # hub_trust prints an option and its value
old "$OLD" init --hub "$HUB_ADDR" $(hub_trust) --token "$(new_token unicef "Sari (UNICEF)")" --name "Sari (UNICEF)" >/dev/null

mf "$NEW" put organizations kemnaker name="Kementerian Ketenagakerjaan" type=CentralGovernment >/dev/null
mf "$NEW" put positions kemnaker:ask-budget subject=kemnaker ask=ask-budget stance=Neutral influence=Low >/dev/null 2>&1
old "$OLD" put asks ask-budget "title=Fund the task forces" category=BudgetIncrease >/dev/null 2>&1
old "$OLD" new reports org=unicef period=2025-Q3 country=ID indicator=VictimsAssisted value=14 >/dev/null 2>&1
expect_eq "new laptop's protocol" 5 "$(mf "$NEW" sync --json | json_field protocolVersion)"
old "$OLD" sync >/dev/null
mf "$NEW" sync >/dev/null
grep -q 'version="2"' "$HUB_DATA/hub.log" || fail "the hub's log shows no version 2 session"
grep -q 'version="5"' "$HUB_DATA/hub.log" || fail "the hub's log shows no version 5 session"

# The same field on both: a conflict each side sees; different fields merge.
mf "$NEW" put positions kemnaker:ask-budget stance=ActiveSupport >/dev/null
old "$OLD" put positions kemnaker:ask-budget stance=PassiveOpposition influence=High >/dev/null
mf "$NEW" sync >/dev/null; old "$OLD" sync >/dev/null; mf "$NEW" sync >/dev/null
expect_eq "conflicts on the new laptop" 1 "$(mf "$NEW" status --json | json_field conflicts)"
expect_eq "conflicts on the old laptop" 1 "$(old "$OLD" status --json | json_field conflicts)"
old "$OLD" resolve positions kemnaker:ask-budget stance --value PassiveSupport >/dev/null
old "$OLD" sync >/dev/null; mf "$NEW" sync >/dev/null
expect_converged "$NEW"
expect_eq "old laptop's digest" "$(hub_digest)" "$(old "$OLD" digest)"
expect_eq "stance on the new laptop" PassiveSupport "$(mf "$NEW" get positions kemnaker:ask-budget --json | json_field stance)"
expect_eq "influence on the new laptop" High "$(mf "$NEW" get positions kemnaker:ask-budget --json | json_field influence)"
stop_hub

if [ -n "${OLD_BIN:-}" ]; then
  # An upgraded laptop meets a hub not upgraded yet.
  NEW_HUB="$MUFAKAT_HUB"
  MUFAKAT_HUB="$OLD_BIN/mufakat-hub"
  start_hub "$WORK/oldhub"
  LATE="$WORK/late"
  new_replica "$LATE" stc "Budi (STC)"
  mf "$LATE" put asks ask-shelter "title=Open two shelters" category=Other >/dev/null
  out=$(mf "$LATE" sync)
  echo "$out" | grep -q "protocol version 2 only" || fail "no note about the older hub: $out"
  expect_converged "$LATE"
  # This version's hub commands do not upgrade a folder an older hub is serving.
  code=0
  out=$("$NEW_HUB" status --data "$HUB_DATA" 2>&1) || code=$?
  expect_eq "exit of a 0.6 command on a folder 0.5 serves" 69 "$code"
  echo "$out" | grep -q "Stop that hub" || fail "no advice to stop the older hub: $out"
  if sqlite3 "$HUB_DATA/hub.sqlite" "SELECT identifier FROM grdb_migrations" | grep -q compact; then fail "the served folder was upgraded"; fi
  echo "ok: 0.5 and $("$MUFAKAT" --version) laptops converged through one hub, and an upgraded laptop synced with a 0.5 hub"
else
  echo "ok: a version 2 and a version 5 laptop converged through one hub (set OLD_BIN to run the real 0.5 release)"
fi
