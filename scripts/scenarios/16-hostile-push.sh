#!/usr/bin/env bash
# A raw protocol-v2 client (scripts/raw-client.py) with a valid token pushes hostile
# variants of a record it did not write: each is refused in pushed.rejected with the right
# code and the hub's data is unchanged; an honest write of its own still goes through.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
RAW="$(dirname "$0")/../raw-client.py"
WORK=$(mktemp -d); trap 'stop_hub; rm -rf "$WORK"' EXIT
start_hub "$WORK/hub"
A="$WORK/a" B="$WORK/b"
new_replica "$A" iom "Andi (IOM)"; new_replica "$B" unicef "Sari (UNICEF)"
mf "$A" put positions gov:budget stance=Neutral influence=High "statement=Will review" >/dev/null 2>&1
mf "$A" sync >/dev/null; mf "$B" sync >/dev/null
before=$(hub_digest)
TOKEN=$(new_token stc "Mallory (STC)")
RAW_ID=$(python3 -c 'import secrets; print(secrets.token_hex(8))')

out=$(HUB_KEY="$(hub_key)" python3 "$RAW" "$HUB_ADDR" "$TOKEN" "$RAW_ID" hostile positions gov:budget "$(replica_id "$A")") ||
  fail "the raw client failed: $out"
# expect_refused CASE CODE [FIELDS]: that push was refused for gov:budget with CODE, nothing accepted.
expect_refused() {
  local line
  line=$(echo "$out" | grep "^$1 ") || fail "no answer for push $1: $out"
  expect_eq "push $1" "$1 $2 ${3:--} 0 1" "$line"
}
expect_refused context-only invalid                                     # {"context":…,"fields":{}}
expect_refused one-field removes-entry influence,stance,statement,subject  # only "ask" kept
expect_refused counter-max counter-beyond                               # own context 2^64-1
expect_refused counter-ahead counter-beyond                             # own context 5, push counter 1
expect_refused foreign-dot forged-dot                                   # A's dot the hub never saw
expect_refused altered-entry corruption                                 # A's dot, other value
expect_eq "hub digest after the hostile pushes" "$before" "$(hub_digest)"
grep -q 'code="forged-dot"' "$HUB_DATA/hub.log" || fail "the hub did not log the refusals"

# Control: the same raw client's honest write of its own (counter 1: the refused pushes
# did not raise its counter on the hub) is accepted and reaches the replicas.
out=$(HUB_KEY="$(hub_key)" python3 "$RAW" "$HUB_ADDR" "$TOKEN" "$RAW_ID" honest positions gov:budget) || fail "the raw client failed: $out"
expect_eq "honest push" "honest - - 1 0" "$out"
mf "$A" sync >/dev/null; mf "$B" sync >/dev/null
expect_converged "$A" "$B"
for home in "$A" "$B"; do
  expect_eq "stance on $(basename "$home")" Neutral "$(field_value "$home" positions gov:budget stance)"
  expect_eq "influence on $(basename "$home")" High "$(field_value "$home" positions gov:budget influence)"
  expect_eq "statement on $(basename "$home")" "Will review" "$(field_value "$home" positions gov:budget statement)"
  expect_eq "source on $(basename "$home")" "raw client" "$(field_value "$home" positions gov:budget source)"
done
echo "ok: 6 hostile pushes refused (invalid, removes-entry, counter-beyond x2, forged-dot, corruption), hub digest unchanged; honest raw push accepted"
