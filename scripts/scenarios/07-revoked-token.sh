#!/usr/bin/env bash
# A revoked token is refused with a clear message; local data stays intact.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
WORK=$(mktemp -d); trap 'stop_hub; rm -rf "$WORK"' EXIT
start_hub "$WORK/hub"
A="$WORK/a"
created=$("$MUFAKAT_HUB" token create --data "$HUB_DATA" --org iom --name Andi --role coordinator --json)
token=$(echo "$created" | json_field token)
token_id=$(echo "$created" | json_field id)
# shellcheck disable=SC2046
mf "$A" init --hub "$HUB_ADDR" $(hub_trust) --token "$token" --name "Andi (IOM)" >/dev/null
mf "$A" put organizations iom name=IOM type=UNAgency >/dev/null
mf "$A" sync >/dev/null

"$MUFAKAT_HUB" token revoke --data "$HUB_DATA" "$token_id" >/dev/null
mf "$A" put organizations unicef name=UNICEF type=UNAgency >/dev/null
before=$(mf "$A" digest)
code=0
message=$(mf "$A" sync 2>&1 >/dev/null) || code=$?
expect_eq "exit code" 77 "$code"
grep -q "refused" <<<"$message" || fail "unclear message: $message"
grep -q "token $token_id .* was revoked" <<<"$message" || fail "the message does not say the token was revoked: $message"
grep -q "end=\"unauthorized\".*org=\"iom\".*token=\"$token_id\"" "$HUB_DATA/hub.log" || fail "the hub did not log whose revoked token it was"
expect_eq "local digest" "$before" "$(mf "$A" digest)"
expect_eq "pending" 1 "$(mf "$A" status --json | json_field pending)"
echo "ok: revoked token refused ($message); local data intact"
