#!/usr/bin/env bash
# The hub's data folder is lost and the hub rebuilt empty (new hub id, new tokens, a new TLS
# key replicas refuse until they are given it), started
# with --reseed: the replicas refill it, every write is back, and after the hub returns to
# normal mode a plain sync still works.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
WORK=$(mktemp -d); trap 'stop_hub; rm -rf "$WORK"' EXIT
start_hub "$WORK/hub"
PORT=${HUB_ADDR##*:}
A="$WORK/a" B="$WORK/b" C="$WORK/c" D="$WORK/d"
new_replica "$A" iom "Andi (IOM)"; new_replica "$B" unicef "Sari (UNICEF)"; new_replica "$C" stc "Budi (STC)"
mf "$A" put organizations iom name=IOM type=UNAgency >/dev/null
mf "$A" put positions gov:budget stance=Neutral >/dev/null 2>&1
mf "$A" sync >/dev/null
mf "$B" sync >/dev/null
mf "$B" put positions gov:budget influence=High >/dev/null 2>&1
mf "$B" put organizations unicef name=UNICEF type=UNAgency >/dev/null
mf "$B" sync >/dev/null
mf "$C" put asks ask-budget "title=Raise the shelter budget" category=BudgetIncrease >/dev/null
mf "$C" sync >/dev/null; mf "$A" sync >/dev/null
mf "$A" put positions gov:budget "statement=Written offline as the hub died" >/dev/null 2>&1   # never synced
old_hub_id=$(sqlite3 "$A/replica.sqlite" "SELECT value FROM meta WHERE key = 'hubID'")

# The hub's folder is lost; the operator rebuilds it empty, in re-seed mode, on the same port.
stop_hub
rm -rf "$WORK/hub"
HUB_FLAGS=--reseed HUB_PORT=$PORT start_hub "$WORK/hub"
expect_eq "digest of the rebuilt hub" e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 "$(hub_digest)"
# The old tokens died with the hub database: the operator issues new ones and each person
# gives theirs to their replica, which keeps its data; B also learns the hub's new address
# form (same port, by name).
for pair in "$A:iom:Andi (IOM)" "$B:unicef:Sari (UNICEF)" "$C:stc:Budi (STC)"; do
  IFS=: read -r home org name <<<"$pair"
  mf "$home" token set "$(new_token "$org" "$name")" >/dev/null
done
# Its TLS key died with the folder too: the rebuilt hub made a new one, which no replica
# trusts yet. A sync is refused before anything is sent (exit 78), and says what to do.
code=0
mf "$A" sync >/dev/null 2>"$WORK/refused.err" || code=$?
expect_eq "exit code of a sync to a hub with another key" 78 "$code"
grep -q "presented the key $(hub_key), not the key this replica trusts" "$WORK/refused.err" ||
  fail "the refusal does not name the keys: $(cat "$WORK/refused.err")"
expect_eq "sessions the rebuilt hub saw" 0 "$("$MUFAKAT_HUB" status --data "$HUB_DATA" --json | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["replicas"]))')"
# The operator hands out the new key with the new tokens.
for home in "$A" "$C"; do mf "$home" hub set "$HUB_ADDR" --hub-key "$(hub_key)" >/dev/null; done
mf "$B" hub set "localhost:$PORT" --hub-key "$(hub_key)" >/dev/null
expect_eq "status names the new hub" "localhost:$PORT" "$(mf "$B" status --json | json_field hub)"
mf "$B" status --json | grep -q '"token"' && fail "status shows the token"
for home in "$A" "$B" "$C"; do mf "$home" sync >/dev/null; done
for home in "$A" "$B" "$C"; do mf "$home" sync >/dev/null; done
new_replica "$D" stc "Dewi (STC)"; mf "$D" sync >/dev/null

expect_converged "$A" "$B" "$C" "$D"
[ "$(sqlite3 "$A/replica.sqlite" "SELECT value FROM meta WHERE key = 'hubID'")" != "$old_hub_id" ] || fail "A still records the old hub id"
grep -qi "re-seed\|reseed" "$HUB_DATA/hub.log" || fail "the hub did not log its re-seed mode"
for home in "$A" "$B" "$C" "$D"; do
  n=$(basename "$home")
  expect_eq "stance on $n" Neutral "$(field_value "$home" positions gov:budget stance)"
  expect_eq "influence on $n" High "$(field_value "$home" positions gov:budget influence)"
  expect_eq "statement on $n" "Written offline as the hub died" "$(field_value "$home" positions gov:budget statement)"
  expect_eq "iom on $n" IOM "$(field_value "$home" organizations iom name)"
  expect_eq "unicef on $n" UNICEF "$(field_value "$home" organizations unicef name)"
  expect_eq "ask on $n" "Raise the shelter budget" "$(field_value "$home" asks ask-budget title)"
  expect_eq "pending on $n" 0 "$(mf "$home" status --json | json_field pending)"
  expect_eq "conflicts on $n" 0 "$(mf "$home" status --json | json_field conflicts)"
done

# Normal mode again: edits sync as usual.
stop_hub
HUB_PORT=$PORT start_hub "$WORK/hub"
mf "$B" put positions gov:budget signOn=Signed >/dev/null 2>&1
mf "$D" put organizations stc "name=Save the Children" type=INGO >/dev/null
for home in "$B" "$D" "$A" "$C" "$B"; do mf "$home" sync >/dev/null; done
expect_converged "$A" "$B" "$C" "$D"
expect_eq "signOn on C" Signed "$(field_value "$C" positions gov:budget signOn)"
expect_eq "stc on A" "Save the Children" "$(field_value "$A" organizations stc name)"
echo "ok: hub rebuilt empty with --reseed (new tokens given with mufakat token set, one hub address changed with mufakat hub set): 3 replicas refilled it, all 6 writes back on 4 replicas; normal mode syncs after"
