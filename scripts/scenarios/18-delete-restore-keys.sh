#!/usr/bin/env bash
# Deletes that can be undone whole, concurrent resolves that stay visible, one id per
# figure however its text was typed — three replicas, through the CLI, export and import.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
WORK=$(mktemp -d); trap 'stop_hub; rm -rf "$WORK"' EXIT
start_hub "$WORK/hub"
A="$WORK/a" B="$WORK/b" C="$WORK/c"
new_replica "$A" iom "Andi (IOM)"; new_replica "$B" unicef "Sari (UNICEF)"; new_replica "$C" stc "Budi (STC)"
sync_all() { for home in "$@"; do mf "$home" sync >/dev/null; done; }

# pick HOME COLLECTION ID FIELD deletion|kept|edit: the --pick number of a candidate.
pick() {
  mf "$1" get "$2" "$3" --json | python3 -c '
import json, sys
field, kind = sys.argv[1], sys.argv[2]
for conflict in json.load(sys.stdin)["conflicts"]:
    if conflict["field"] != field: continue
    for c in conflict["candidates"]:
        if (kind == "deletion" and (c["deletion"] or c["value"] is True)) or \
           (kind == "kept" and c["value"] is False) or \
           (kind == "edit" and not c["deletion"] and not isinstance(c["value"], bool)):
            print(c["pick"]); sys.exit(0)
sys.exit("no %s candidate in %s" % (kind, field))' "$4" "$5"
}

mf "$A" put organizations kemnaker name=Kemnaker type=CentralGovernment >/dev/null
mf "$A" put organizations iom name=IOM type=UNAgency >/dev/null
mf "$A" put asks budget "title=Budget line" category=BudgetIncrease >/dev/null
mf "$A" put positions kemnaker:budget stance=Neutral influence=Low "statement=Will review" source=Letter >/dev/null
mf "$A" new reports org=iom period=2025-Q3 country=ID "area=East Java" indicator=VictimsIdentified value=12 >/dev/null
REPORT=$(mf "$A" list reports --json | json_field id)
sync_all "$A" "$B" "$C"

# 1. An edit races a delete; keeping the edit brings the record back whole.
mf "$A" delete positions kemnaker:budget >/dev/null
mf "$A" delete reports "$REPORT" >/dev/null
mf "$B" put positions kemnaker:budget "statement=Draft sent to cabinet" >/dev/null
mf "$B" put reports "$REPORT" value=14 >/dev/null
sync_all "$A" "$B" "$A"
mf "$B" resolve positions kemnaker:budget statement --pick "$(pick "$B" positions kemnaker:budget statement edit)" >/dev/null
mf "$B" resolve reports "$REPORT" value --pick "$(pick "$B" reports "$REPORT" value edit)" >/dev/null
sync_all "$B" "$A" "$C"
expect_converged "$A" "$B" "$C"
for home in "$A" "$C"; do
  expect_eq "kept edit revives" false "$(mf "$home" get positions kemnaker:budget --json | json_field deleted)"
  expect_eq "stance kept" Neutral "$(field_value "$home" positions kemnaker:budget stance)"
  expect_eq "subject kept" kemnaker "$(field_value "$home" positions kemnaker:budget subject)"
  expect_eq "the edit" "Draft sent to cabinet" "$(field_value "$home" positions kemnaker:budget statement)"
  expect_eq "report area kept" "East Java" "$(field_value "$home" reports "$REPORT" area)"
  expect_eq "report value" 14 "$(field_value "$home" reports "$REPORT" value)"
done
# The revived record takes further writes, and its export imports whole elsewhere.
mf "$C" put positions kemnaker:budget influence=High >/dev/null
mf "$C" export positions >"$WORK/positions.csv"
mf "$C" export reports >"$WORK/reports.csv"
grep -q '^kemnaker:budget,kemnaker,budget,Neutral,High,Draft sent to cabinet,Letter,' "$WORK/positions.csv" ||
  fail "export of the revived record is not whole: $(cat "$WORK/positions.csv")"
D="$WORK/d"
"$MUFAKAT" init --home "$D" --hub 127.0.0.1:9 --insecure --token unused --name "Offline (test)" >/dev/null
mf "$C" export organizations >"$WORK/organizations.csv"
mf "$C" export asks >"$WORK/asks.csv"
mf "$D" import organizations "$WORK/organizations.csv" >/dev/null
mf "$D" import asks "$WORK/asks.csv" >/dev/null
mf "$D" import positions "$WORK/positions.csv" >/dev/null
mf "$D" import reports "$WORK/reports.csv" >/dev/null
expect_eq "re-imported statement" "Draft sent to cabinet" "$(field_value "$D" positions kemnaker:budget statement)"
expect_eq "re-imported report id" "$REPORT" "$(mf "$D" list reports --json | json_field id)"

# A key field never changes.
code=0; mf "$C" put positions kemnaker:budget subject=iom >/dev/null 2>"$WORK/err" || code=$?
expect_eq "changing a key field" 65 "$code"
grep -q "never changes" "$WORK/err" || fail "no key-field message: $(cat "$WORK/err")"

# 2. A keeps the deletion while B keeps the edit, at the same time: a visible conflict.
sync_all "$A" "$B" "$C"
mf "$A" delete positions kemnaker:budget >/dev/null
mf "$B" put positions kemnaker:budget "statement=Cabinet approved" >/dev/null
sync_all "$A" "$B" "$A"
mf "$A" resolve positions kemnaker:budget statement --pick "$(pick "$A" positions kemnaker:budget statement deletion)" >/dev/null
mf "$B" resolve positions kemnaker:budget statement --pick "$(pick "$B" positions kemnaker:budget statement edit)" >/dev/null
sync_all "$A" "$B" "$C" "$A"
expect_converged "$A" "$B" "$C"
for home in "$A" "$B" "$C"; do
  choices=$(mf "$home" conflicts --json)
  grep -q '"field":"_deleted"' <<<"$choices" || fail "$(basename "$home"): deleted-vs-kept is not shown as a conflict: $choices"
  grep -q '"author":"Andi (IOM)"' <<<"$choices" && grep -q '"author":"Sari (UNICEF)"' <<<"$choices" ||
    fail "$(basename "$home"): the conflict does not say who chose what: $choices"
done
mf "$C" conflicts | grep -q "(record kept)" || fail "conflicts does not show the 'kept' choice"
# C settles it: kept, with the approved statement.
mf "$C" resolve positions kemnaker:budget _deleted --pick "$(pick "$C" positions kemnaker:budget _deleted kept)" >/dev/null
if mf "$C" conflicts --json | grep -q '"field":"statement"'; then
  mf "$C" resolve positions kemnaker:budget statement --value "Cabinet approved" >/dev/null
fi
sync_all "$C" "$A" "$B"
expect_converged "$A" "$B" "$C"
for home in "$A" "$B"; do
  expect_eq "settled everywhere" false "$(mf "$home" get positions kemnaker:budget --json | json_field deleted)"
  expect_eq "no conflict left" "" "$(mf "$home" conflicts --json | json_field field)"
  expect_eq "settled statement" "Cabinet approved" "$(field_value "$home" positions kemnaker:budget statement)"
done

# restore brings a deleted record back with its values, on every replica.
mf "$A" delete asks budget >/dev/null
sync_all "$A" "$C"
mf "$C" restore asks budget >/dev/null
sync_all "$C" "$A" "$B"
expect_converged "$A" "$B" "$C"
expect_eq "restored title" "Budget line" "$(field_value "$B" asks budget title)"

# 3. One figure, however its text was typed: precomposed é, e + combining accent, capitals.
mf "$A" new reports org=iom period=2025-Q4 country=ID "area=Café Street" indicator=VictimsIdentified value=3 >/dev/null
mf "$B" new reports org=iom period=2025-Q4 country=ID "area=$(printf 'Cafe\xcc\x81 street')" indicator=VictimsIdentified value=3 >/dev/null
mf "$C" new reports org=iom period=2025-Q4 country=ID "area=CAFÉ  STREET" indicator=VictimsIdentified value=3 >/dev/null
sync_all "$A" "$B" "$C" "$A" "$B"
expect_converged "$A" "$B" "$C"
expect_eq "one record per figure" 2 "$(mf "$A" list reports --json | grep -o '"id":"r-' | wc -l | tr -d ' ')"
echo "ok: revived records whole (export, re-import), deleted-vs-kept shown and settled, restore, one id per figure"
