#!/usr/bin/env bash
# The coordination dashboard of a hub holding known data, checked as a client does
# (scripts/dashboard-check.py: every page and download, access refused without a session,
# no suppressed count anywhere) and as a person sees it: Debian's chromium, headless, loads
# each page and the DOM it rendered is checked (a known stance in its matrix cell, the
# overdue action first, a count of 7 shown as <11); a screenshot of each page goes to
# .build/screenshots/. The brief is checked in Markdown and HTML against the same data, and
# the hub's against the laptop's.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CHECK="$ROOT/scripts/dashboard-check.py"
SHOTS="$ROOT/.build/screenshots"
WORK=$(mktemp -d); trap 'stop_hub; rm -rf "$WORK"' EXIT
MONTH=$(date -u +%Y-%m)
OVERDUE=$(date -u -d '-6 days' +%F)
LATER=$(date -u -d '+40 days' +%F)
HUB_FLAGS="--http-port 0" start_hub "$WORK/hub"
for _ in $(seq 1 100); do [ -s "$HUB_DATA/http.port" ] && break; sleep 0.1; done
BASE="https://127.0.0.1:$(cat "$HUB_DATA/http.port")"
LEAD="$WORK/lead" OTHER="$WORK/other"
LIA=$(new_token lead "Lia")
# shellcheck disable=SC2046 # hub_trust prints an option and its value
"$MUFAKAT" init --home "$LEAD" --hub "$HUB_ADDR" $(hub_trust) --token "$LIA" --name "Lia (LEAD)" >/dev/null
new_replica "$OTHER" ngo-a "Ana (NGO-A)" member

mf "$LEAD" put organizations lead name="Lead Agency" type=UNAgency >/dev/null
mf "$LEAD" put organizations kemnaker name="Ministry of Manpower" type=CentralGovernment >/dev/null
mf "$LEAD" put organizations ngo-a name="NGO A" type=NGO >/dev/null
mf "$LEAD" put asks ask-budget title="Raise the shelter budget" category=BudgetIncrease >/dev/null
mf "$LEAD" put positions kemnaker:ask-budget stance=Neutral influence=High >/dev/null
mf "$LEAD" put positions kemnaker:ask-budget stance=ActiveSupport >/dev/null
mf "$LEAD" put positions ngo-a:ask-budget stance=PassiveSupport >/dev/null
# Victims identified by area: East Java 7 (suppressed), Central Java 25 + 40. By organization
# and indicator (the brief): the lead agency 32; NGO A 40 identified and 9 assisted (suppressed).
mf "$LEAD" new reports org=lead period="$MONTH" country=ID area="East Java" indicator=VictimsIdentified value=7 status=Submitted >/dev/null
mf "$LEAD" new reports org=lead period="$MONTH" country=ID area="Central Java" indicator=VictimsIdentified value=25 status=Submitted >/dev/null
mf "$LEAD" new reports org=ngo-a period="$MONTH" country=ID area="Central Java" indicator=VictimsIdentified value=40 status=Submitted >/dev/null
mf "$LEAD" new reports org=ngo-a period="$MONTH" country=ID area="East Java" indicator=VictimsAssisted value=9 status=Submitted >/dev/null
mf "$LEAD" new meetings date="$OVERDUE" title="Monthly coordination" decisions="Write to the minister" >/dev/null
mf "$LEAD" new actions title="Prepare the budget note" owner=lead due="$LATER" >/dev/null
mf "$LEAD" new actions title="Send the letter to the minister" owner=ngo-a due="$OVERDUE" >/dev/null
mf "$LEAD" sync >/dev/null; mf "$OTHER" sync >/dev/null
# A conflict: ngo-a's stance entered by both at once.
mf "$OTHER" put positions ngo-a:ask-budget stance=ActiveSupport >/dev/null
mf "$LEAD" put positions ngo-a:ask-budget stance=Neutral >/dev/null
for home in "$OTHER" "$LEAD" "$OTHER"; do mf "$home" sync >/dev/null; done

python3 "$CHECK" http "$BASE" "$LIA" "$MONTH"
# A member sees what its role allows: no replicas list, and no draft of another organization.
mf "$LEAD" new reports org=lead period="$MONTH" country=ID area="Bali" indicator=Convictions value=500 status=Draft >/dev/null
mf "$LEAD" sync >/dev/null
python3 - "$BASE" "$(new_token ngo-a "Nia" member)" "$LIA" <<'PY' || fail "a member saw more than its role allows"
import http.cookiejar, ssl, sys, urllib.error, urllib.parse, urllib.request
base, member, coordinator = sys.argv[1:4]
context = ssl.create_default_context(); context.check_hostname = False; context.verify_mode = ssl.CERT_NONE
def session(token):
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    opener.open(base + "/signin", urllib.parse.urlencode({"token": token, "next": "/positions"}).encode()).read()
    return opener
def get(opener, path):
    try:
        return opener.open(base + path).read().decode()
    except urllib.error.HTTPError as error:
        return f"HTTP {error.code}"
nia, lia = session(member), session(coordinator)
assert 'id="replicas"' not in get(nia, "/replicas") and get(nia, "/replicas.csv") == "HTTP 400", "the replicas list reached a member"
assert 'id="replicas"' in get(lia, "/replicas"), "the coordinator lacks the replicas list"
# The lead's draft: Convictions in Bali. Counted nowhere (a draft is not a figure), and not
# even its area appears to a member.
for path in ["/figures?indicator=Convictions&by=area&period=month", "/figures.csv?indicator=Convictions&by=area&period=month"]:
    assert "Bali" not in get(nia, path) and "500" not in get(nia, path), f"{path} shows the draft"
print("ok: a member sees no replicas list and no other organization's draft")
PY

# The brief, both formats, from the laptop and from the hub: the same data, the same brief.
mf "$LEAD" brief --month "$MONTH" > "$WORK/brief.md"
mf "$LEAD" brief --month "$MONTH" --format html > "$WORK/brief.html"
for needle in "Ministry of Manpower | Raise the shelter budget | (first assessment) | Active support | Lia (lead)" "| NGO A | 40 | <11 | – |" "| Send the letter to the minister | NGO A | $OVERDUE | Open |"; do
  grep -qF "$needle" "$WORK/brief.md" || fail "the Markdown brief lacks '$needle': $(cat "$WORK/brief.md")"
done
for needle in "<td>Ministry of Manpower</td><td>Raise the shelter budget</td><td>(first assessment)</td>" "<td>NGO A</td><td class=\"num\">40</td><td class=\"num\">&lt;11</td><td class=\"num\">–</td>" "<tr class=\"overdue\"><td>Send the letter to the minister</td>"; do
  grep -qF "$needle" "$WORK/brief.html" || fail "the HTML brief lacks '$needle'"
done
grep -q '>7<\| 7 |' "$WORK/brief.md" "$WORK/brief.html" && fail "a brief shows the suppressed count 7"
LINK() { "$MUFAKAT_HUB" dashboard link --data "$HUB_DATA" --token-id "$(echo "$tokens" | python3 -c 'import json, sys; print([t["id"] for t in json.load(sys.stdin) if t["name"] == "Lia"][0])')" --base "$BASE"; }
tokens=$("$MUFAKAT_HUB" token list --data "$HUB_DATA" --json)
hub_brief=$(python3 - "$BASE" "$LIA" "$MONTH" <<'PY'
import http.cookiejar, ssl, sys, urllib.parse, urllib.request
base, token, month = sys.argv[1:4]
context = ssl.create_default_context(); context.check_hostname = False; context.verify_mode = ssl.CERT_NONE
opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
opener.open(base + "/signin", urllib.parse.urlencode({"token": token, "next": "/positions"}).encode()).read()
print(opener.open(f"{base}/brief.md?month={month}").read().decode(), end="")
PY
)
# "From" is the stance each store saw before (the hub only sees synced states); the figures,
# actions and conflicts sections are the same data on both.
sections() { sed -n '/^## Figures/,$p'; }
expect_eq "the hub's brief and the coordinator's laptop brief, from the figures on" "$(sections < "$WORK/brief.md")" "$(echo "$hub_brief" | sections)"
echo "$hub_brief" | grep -qF "| Ministry of Manpower | Raise the shelter budget |" || fail "the hub's brief lacks the ministry's change"

# What a person sees: chromium renders each page after a one-time sign-in link.
if ! command -v chromium >/dev/null 2>&1; then fail "chromium is not installed ('make test' installs it)"; fi
mkdir -p "$SHOTS"
for page in positions follow-ups figures brief; do
  path="/$page"
  [ "$page" = figures ] && path="/figures?indicator=VictimsIdentified%26by=area%26period=month"
  [ "$page" = brief ] && path="/brief?month=$MONTH"
  flags=(--headless --no-sandbox --disable-gpu --ignore-certificate-errors --hide-scrollbars --window-size=1280,900 --user-data-dir="$WORK/chromium-$page")
  chromium "${flags[@]}" --dump-dom "$(LINK)?next=$path" > "$WORK/$page.dom" 2>"$WORK/chromium.log" ||
    fail "chromium failed on $page: $(tail -3 "$WORK/chromium.log")"
  python3 "$CHECK" dom "$page" "$WORK/$page.dom" "$MONTH"
  chromium "${flags[@]}" --screenshot="$SHOTS/$page.png" "$(LINK)?next=$path" >/dev/null 2>>"$WORK/chromium.log" ||
    fail "chromium could not take a screenshot of $page"
  [ -s "$SHOTS/$page.png" ] || fail "no screenshot of $page"
done
echo "ok: dashboard pages and downloads (access, content, suppression) checked over HTTPS and in chromium; screenshots in .build/screenshots; the brief in both formats matches the hub's"
