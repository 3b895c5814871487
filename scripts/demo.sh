#!/usr/bin/env bash
# Mufakat in two minutes: a hub and three field offices that work offline, disagree,
# and converge. Run through `make demo`, or: BIN=.build/debug scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${BIN:-.build/debug}"
. scripts/lib.sh

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mufakat-demo.XXXXXX")
trap 'stop_hub; rm -rf "$WORK"' EXIT
IOM="$WORK/iom" UNICEF="$WORK/unicef" STC="$WORK/stc"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "mufakat $*"; }

say "The lead agency starts a hub (embedded SQLite in $WORK/hub) and issues tokens"
HUB_FLAGS="--http-port ${DASHBOARD_PORT:-0}" start_hub "$WORK/hub"
for _ in $(seq 1 100); do [ -s "$HUB_DATA/http.port" ] && break; sleep 0.1; done
DASHBOARD="https://127.0.0.1:$(cat "$HUB_DATA/http.port")"
echo "hub listening on $HUB_ADDR over TLS; its key, which every laptop pins: $(hub_key)"
echo "its dashboard: $DASHBOARD/ (the hub's own certificate: the browser asks once to trust it)"
run_hub() { printf '$ %s\n' "mufakat-hub $*"; }
run_hub "token create --org unicef --name Sari --role member    # the line Sari is sent:"
"$MUFAKAT_HUB" token create --data "$HUB_DATA" --org unicef --name Sari --role member --hub "$HUB_ADDR" | sed -n 's/^  \(mufakat init .*\)/  \1/p' |
  sed 's/--token mft_[A-Za-z0-9]*/--token mft_…/'
new_replica "$IOM" iom "Andi (IOM)" coordinator
new_replica "$UNICEF" unicef "Sari (UNICEF)" member
new_replica "$STC" save-the-children "Budi (Save the Children)" member
echo "three laptops: Andi (IOM, the lead agency: coordinator), Sari (UNICEF) and Budi (Save the Children), members"

say "Andi enters the coalition's organizations, two advocacy asks and first positions — offline"
for org in "iom name=IOM type=UNAgency country=ID" "unicef name=UNICEF type=UNAgency country=ID" \
  "save-the-children name='Save the Children' type=INGO country=ID" \
  "kemnaker name='Ministry of Manpower' type=CentralGovernment country=ID" \
  "bp2mi name='Migrant Worker Protection Agency (BP2MI)' type=CentralGovernment country=ID"; do
  eval "mf \"\$IOM\" put organizations $org" >/dev/null
done
mf "$IOM" put asks ask-budget "title=Raise the shelter budget" category=BudgetIncrease target=kemnaker lead=iom status=Active >/dev/null
mf "$IOM" put asks ask-bilateral "title=Bilateral agreement on domestic workers" category=BilateralAgreementMigrantWorkers target=bp2mi lead=unicef status=AgreedByCoalition >/dev/null
mf "$IOM" put positions kemnaker:ask-budget stance=PassiveSupport influence=High >/dev/null
mf "$IOM" put positions bp2mi:ask-bilateral stance=Neutral influence=High "statement=Will review after the election" >/dev/null
mf "$IOM" put positions iom:ask-budget stance=ActiveSupport >/dev/null
run "status"; mf "$IOM" status

say "Everyone syncs once and has the same data"
for home in "$IOM" "$UNICEF" "$STC"; do mf "$home" sync | head -2; done

say "Offline again, people edit the same records"
echo "Andi:  the ministry now actively supports the budget ask"
mf "$IOM" put positions kemnaker:ask-budget stance=ActiveSupport >/dev/null
echo "Sari:  she heard the ministry is only neutral (same field: a conflict)"
mf "$UNICEF" put positions kemnaker:ask-budget stance=Neutral >/dev/null
echo "Budi:  adds the minister's statement (another field: merges by itself)"
mf "$STC" put positions kemnaker:ask-budget "statement=Supports a 20% increase in 2026" source=Meeting >/dev/null
echo "Andi:  deletes BP2MI's position as outdated …"
mf "$IOM" delete positions bp2mi:ask-bilateral >/dev/null
echo "Budi:  … while updating its statement (an edit racing a delete)"
mf "$STC" put positions bp2mi:ask-bilateral "statement=Draft agreement sent to the cabinet" >/dev/null
echo "Sari and Andi both enter UNICEF's Q3 figure for East Java (typed differently: one record, not two), with different values"
mf "$UNICEF" new reports org=unicef period=2025-Q3 country=ID "area=East Java" indicator=VictimsIdentified value=42 >/dev/null
mf "$IOM" new reports org=unicef period=2025-q3 country=id "area=east java" indicator=victimsidentified value=44 >/dev/null
echo "Budi:  tries to correct UNICEF's figure too — refused at once, offline: a member writes its own organization's figures"
run "new reports org=unicef period=2025-Q3 country=ID 'area=East Java' indicator=VictimsIdentified value=45"
mf "$STC" new reports org=unicef period=2025-Q3 country=ID "area=East Java" indicator=VictimsIdentified value=45 2>&1 | sed 's/^/  /' || true

echo "Sari:  enters UNICEF's figures for this month: 8 victims assisted (a small count), 120 hotline contacts"
mf "$UNICEF" new reports org=unicef period="$(date -u +%Y-%m)" country=ID indicator=VictimsAssisted value=8 status=Submitted >/dev/null
mf "$UNICEF" new reports org=unicef period="$(date -u +%Y-%m)" country=ID indicator=HotlineContacts value=120 status=Submitted >/dev/null

say "They sync in turn"
for home in "$IOM" "$UNICEF" "$STC" "$IOM" "$UNICEF"; do mf "$home" sync >/dev/null; done
echo "done: every replica now holds every write"

say "Positions (organization × ask → stance), straight from the replica's SQL view"
printf '$ sqlite3 %s "SELECT subject, … FROM positions"\n' "iom/replica.sqlite"
sqlite3 -header -column "$IOM/replica.sqlite" "
  SELECT subject AS organization,
         COALESCE(MAX(CASE WHEN ask = 'ask-budget' THEN stance END), '') AS \"ask-budget\",
         COALESCE(MAX(CASE WHEN ask = 'ask-bilateral' THEN stance END), '') AS \"ask-bilateral\",
         MAX(conflicted) AS conflicted
  FROM positions GROUP BY subject ORDER BY subject"

say "The conflicts, with both values, who wrote them, where and when"
run "conflicts"; mf "$IOM" conflicts

say "People decide, on any replica"
REPORT=$(mf "$IOM" list reports --conflicts --json | sed -n 's/.*"id":"\(r-[0-9a-f]*\)".*/\1/p')
run "resolve positions kemnaker:ask-budget stance --value ActiveSupport"
mf "$IOM" resolve positions kemnaker:ask-budget stance --value ActiveSupport
run "resolve positions kemnaker:ask-budget assessedBy --value iom   (two members assessed it at once; the lead agency's call stands)"
mf "$IOM" resolve positions kemnaker:ask-budget assessedBy --value iom
run "resolve positions bp2mi:ask-bilateral statement --value 'Draft agreement sent to the cabinet'   (keep the edit: the record comes back)"
mf "$STC" resolve positions bp2mi:ask-bilateral statement --value "Draft agreement sent to the cabinet"
run "resolve reports $REPORT value --value 44"
mf "$UNICEF" resolve reports "$REPORT" value --value 44
run "resolve reports $REPORT area --value 'East Java'"
mf "$UNICEF" resolve reports "$REPORT" area --value "East Java"

say "Sync again in turn: every conflict is gone everywhere"
for home in "$IOM" "$UNICEF" "$STC" "$IOM" "$UNICEF"; do mf "$home" sync >/dev/null; done
run "conflicts"; mf "$STC" conflicts
run "get positions kemnaker:ask-budget"; mf "$UNICEF" get positions kemnaker:ask-budget

say "Who changed UNICEF's figure, and how: the hub's audit trail"
run "history reports $REPORT"; mf "$STC" history reports "$REPORT"

say "Four digests — three laptops and the hub — are equal: identical data"
D_IOM=$(mf "$IOM" digest); D_UNICEF=$(mf "$UNICEF" digest); D_STC=$(mf "$STC" digest)
D_HUB=$("$MUFAKAT_HUB" digest --data "$WORK/hub")
printf '  %-28s %s\n' "IOM (Andi)" "$D_IOM" "UNICEF (Sari)" "$D_UNICEF" "Save the Children (Budi)" "$D_STC" "hub" "$D_HUB"
if [ "$D_IOM" = "$D_HUB" ] && [ "$D_UNICEF" = "$D_HUB" ] && [ "$D_STC" = "$D_HUB" ]; then
  echo "converged."
else
  echo "digests differ: this is a bug" >&2
  exit 1
fi

say "The meeting brief, from Sari's laptop, offline (small counts suppressed)"
run "brief --month $(date -u +%Y-%m)"; mf "$UNICEF" brief --month "$(date -u +%Y-%m)" | sed -n '1,/^## Overdue/p' | sed '$d'

say "The coordination dashboard"
ANDI=$("$MUFAKAT_HUB" token list --data "$HUB_DATA" --json | python3 -c 'import json, sys; print([t["id"] for t in json.load(sys.stdin) if t["name"] == "Andi (IOM)"][0])')
echo "  $DASHBOARD/positions, /figures, /follow-ups, /replicas, /brief"
echo "  sign in as Andi with this one-time link (30 minutes):"
echo "  $("$MUFAKAT_HUB" dashboard link --data "$HUB_DATA" --token-id "$ANDI" --base "$DASHBOARD")"
# DEMO_SCREENSHOT=FILE: the positions page as chromium shows it (the README's picture).
if [ -n "${DEMO_SCREENSHOT:-}" ]; then
  chromium --headless --no-sandbox --disable-gpu --ignore-certificate-errors --hide-scrollbars --window-size=1200,560 \
    --user-data-dir="$WORK/chromium" --screenshot="$DEMO_SCREENSHOT" \
    "$("$MUFAKAT_HUB" dashboard link --data "$HUB_DATA" --token-id "$ANDI" --base "$DASHBOARD")?next=/positions" >/dev/null 2>&1
  echo "  screenshot of the positions page: $DEMO_SCREENSHOT"
fi
if [ -t 0 ] && [ -t 1 ]; then
  echo
  echo "The hub and its dashboard keep running; Ctrl-C stops them and removes the demo's folder."
  trap 'echo; echo "stopping."; stop_hub; rm -rf "$WORK"; exit 0' INT TERM
  while kill -0 "$HUB_PID" 2>/dev/null; do sleep 1; done
fi
