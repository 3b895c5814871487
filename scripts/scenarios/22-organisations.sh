#!/usr/bin/env bash
# Organisations as a trust boundary, with real processes: a coordinator (lead), members of
# ngo-a and ngo-b, and an observer of ngo-b.
# - ngo-a's draft figure reaches ngo-a and the coordinator only; each replica's digest equals
#   the hub's digest for its token; once submitted, everyone holds it and all digests agree;
# - ngo-b's member editing ngo-a's figure is refused offline (exit 77, nothing written), and
#   the same edit sent by a raw client under ngo-b's token is refused by the hub (forbidden);
# - the observer writes nothing; a status moved back is refused;
# - the audit trail lists every change with who made it, `mufakat history` shows it, and
#   `audit verify` fails once a line of audit_log is edited with sqlite3.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
RAW="$(dirname "$0")/../raw-client.py"
WORK=$(mktemp -d); trap 'stop_hub; rm -rf "$WORK"' EXIT
start_hub "$WORK/hub"
LEAD="$WORK/lead" A="$WORK/a" B="$WORK/b" OBS="$WORK/obs"
new_replica "$LEAD" lead "Lia (LEAD)" coordinator
new_replica "$A" ngo-a "Ana (NGO-A)" member
new_replica "$B" ngo-b "Budi (NGO-B)" member
new_replica "$OBS" ngo-b "Olga (NGO-B)" observer

mf "$LEAD" put organizations ngo-a name="NGO A" type=NGO >/dev/null
mf "$LEAD" put organizations ngo-b name="NGO B" type=NGO >/dev/null
mf "$LEAD" put organizations ministry name="Ministry of Manpower" type=CentralGovernment >/dev/null
mf "$LEAD" new asks title="Raise the shelter budget" category=BudgetIncrease --json | json_field id > "$WORK/ask"
ASK=$(cat "$WORK/ask")
for home in "$LEAD" "$A" "$B" "$OBS"; do mf "$home" sync >/dev/null; done

# The roles learned at the first sync are used offline.
expect_eq "role on b" member "$(mf "$B" status --json | json_field role)"
DRAFT=$(mf "$A" new reports org=ngo-a period=2026-10 country=ID indicator=VictimsIdentified value=7 status=Draft --json | json_field id)
mf "$B" put positions "ministry:$ASK" subject=ministry ask="$ASK" stance=PassiveSupport >/dev/null ||
  fail "a member could not write a government body's position"
mf "$B" put positions "ngo-b:$ASK" subject=ngo-b ask="$ASK" stance=ActiveSupport >/dev/null
set +e
mf "$B" put positions "ngo-a:$ASK" subject=ngo-a ask="$ASK" stance=Neutral >"$WORK/out" 2>&1; code=$?
set -e
expect_eq "exit code of a member writing another member's position" 77 "$code"
grep -q "may not write this record" "$WORK/out" || fail "no clear refusal: $(cat "$WORK/out")"
set +e
mf "$OBS" put asks "$ASK" status=Active >"$WORK/out" 2>&1; code=$?
set -e
expect_eq "exit code of an observer's write" 77 "$code"
grep -q "observer's token reads only" "$WORK/out" || fail "no clear refusal: $(cat "$WORK/out")"
for home in "$A" "$B" "$LEAD" "$OBS" "$A"; do mf "$home" sync >/dev/null; done

# The draft: at ngo-a and the coordinator only; digests per token.
mf "$LEAD" get reports "$DRAFT" >/dev/null || fail "the coordinator lacks the draft"
if mf "$B" get reports "$DRAFT" >/dev/null 2>&1; then fail "ngo-b received ngo-a's draft"; fi
if mf "$OBS" get reports "$DRAFT" >/dev/null 2>&1; then fail "ngo-b's observer received ngo-a's draft"; fi
tokens=$("$MUFAKAT_HUB" token list --data "$HUB_DATA" --json)
token_of() { echo "$tokens" | python3 -c "import json, sys; print([t['id'] for t in json.load(sys.stdin) if t['name'] == sys.argv[1]][0])" "$1"; }
for pair in "$LEAD:Lia (LEAD)" "$A:Ana (NGO-A)" "$B:Budi (NGO-B)" "$OBS:Olga (NGO-B)"; do
  home=${pair%%:*} name=${pair#*:}
  expect_eq "digest of $name" "$("$MUFAKAT_HUB" digest --data "$HUB_DATA" --token-id "$(token_of "$name")")" "$(mf "$home" digest)"
done
expect_eq "digest of ngo-b by --org" "$("$MUFAKAT_HUB" digest --data "$HUB_DATA" --org ngo-b)" "$(mf "$B" digest)"
[ "$(mf "$B" digest)" != "$(hub_digest)" ] || fail "ngo-b's digest equals the whole hub's while a draft is hidden from it"

# ngo-b edits ngo-a's figure once it is submitted: refused offline, and from a raw client.
mf "$A" put reports "$DRAFT" status=Submitted >/dev/null
mf "$A" sync >/dev/null; mf "$B" sync >/dev/null
expect_eq "ngo-b holds the submitted figure" Submitted "$(field_value "$B" reports "$DRAFT" status)"
before=$(mf "$B" digest)
set +e
mf "$B" put reports "$DRAFT" value=700 >"$WORK/out" 2>&1; code=$?
set -e
expect_eq "exit code of ngo-b editing ngo-a's figure" 77 "$code"
expect_eq "ngo-b's replica after the refusal" "$before" "$(mf "$B" digest)"
out=$(HUB_KEY="$(hub_key)" python3 "$RAW" "$HUB_ADDR" "$(new_token ngo-b "Mallory (NGO-B)" member)" "$(python3 -c 'import secrets; print(secrets.token_hex(8))')" \
  edit reports "$DRAFT" value 700) || fail "the raw client failed: $out"
expect_eq "raw push of ngo-b editing ngo-a's figure" "edit forbidden org 0 1" "$out"
expect_eq "the figure on the hub" 7 "$(mf "$LEAD" sync >/dev/null; field_value "$LEAD" reports "$DRAFT" value)"
set +e
mf "$A" put reports "$DRAFT" status=Draft >"$WORK/out" 2>&1; code=$?
set -e
[ "$code" -ne 0 ] && grep -q "only moves forward" "$WORK/out" || fail "a status moved back was not refused: $(cat "$WORK/out")"
for home in "$LEAD" "$A" "$B" "$OBS"; do mf "$home" sync >/dev/null; done
expect_converged "$LEAD" "$A" "$B" "$OBS"

# The audit trail and history.
entries=$("$MUFAKAT_HUB" audit --data "$HUB_DATA" --collection reports --id "$DRAFT" --json | wc -l)
expect_eq "audit entries of the figure" 2 "$entries"
"$MUFAKAT_HUB" audit --data "$HUB_DATA" --org ngo-b --csv | head -1 | grep -q '^entry,seq,time,token' || fail "no CSV header"
mf "$B" history reports "$DRAFT" >"$WORK/history"
grep -q "status: (a draft of ngo-a, not shown) → 'Submitted'" "$WORK/history" || fail "history lacks the submission: $(cat "$WORK/history")"
mf "$A" history reports "$DRAFT" | grep -q "status: 'Draft' → 'Submitted'" || fail "ngo-a's own history lacks the draft's status"
grep -q "(1 earlier or in-house change(s) not shown)" "$WORK/history" || fail "history shows ngo-b the draft-time entry: $(cat "$WORK/history")"
"$MUFAKAT_HUB" audit verify --data "$HUB_DATA" >/dev/null || fail "audit verify failed on an untouched log"
stop_hub
sqlite3 "$HUB_DATA/hub.sqlite" "UPDATE audit_log SET changes = replace(changes, '\"new\":\"7\"', '\"new\":\"70\"') WHERE collection = 'reports'"
set +e
"$MUFAKAT_HUB" audit verify --data "$HUB_DATA" >"$WORK/out" 2>&1; code=$?
set -e
expect_eq "exit code of audit verify after an edit" 65 "$code"
grep -q "the line was edited" "$WORK/out" || fail "verify did not name the edited entry: $(cat "$WORK/out")"
echo "ok: draft kept in-house (digests per token equal), cross-organisation edit refused offline (77) and at the hub (forbidden), observer refused, status kept forward, history and a tampered audit log found"
