#!/usr/bin/env bash
# TLS from outside: the init line carries the hub's key; plain and TLS mismatches fail at
# once in both directions with their own message; an operator's certificate for another
# host is refused; a key change announced by the hub is taken up by the replicas that synced
# meanwhile, and a replica that did not is refused (exit 78) until given the new key.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
WORK=$(mktemp -d); trap 'stop_hub; rm -rf "$WORK"' EXIT
start_hub "$WORK/hub"
PORT=${HUB_ADDR##*:}
KEY=$(hub_key)
grep -q "tls=\"$KEY\"" <(head -n 1 "$HUB_DATA/hub.log") || fail "serve's first log line does not name the key: $(head -n 1 "$HUB_DATA/hub.log")"
"$MUFAKAT_HUB" health --address "$HUB_ADDR" | grep -q "TLS key $KEY" || fail "health does not show the key"

# The init line from 'token create' pastes as-is and pins the key.
line=$("$MUFAKAT_HUB" token create --data "$HUB_DATA" --org iom --name Andi --role coordinator --hub "$HUB_ADDR" --json | json_field init)
case "$line" in "mufakat init --hub $HUB_ADDR --hub-key $KEY --token "*) ;; *) fail "init line: $line" ;; esac
A="$WORK/a" B="$WORK/b"
eval "\"$MUFAKAT\" ${line#mufakat } --home \"$A\"" >/dev/null
new_replica "$B" unicef "Sari (UNICEF)"
mf "$A" put organizations iom name=IOM type=UNAgency >/dev/null
mf "$A" sync >/dev/null
mf "$B" sync >/dev/null

# A replica set up for plain TCP meets the TLS hub: refused at once, told why, nothing stored.
P="$WORK/plain"
"$MUFAKAT" init --home "$P" --hub "$HUB_ADDR" --insecure --token "$(new_token plain Pat)" --name Pat >/dev/null
mf "$P" put organizations plain name=Plain type=NGO >/dev/null
code=0
started=$(date +%s)
mf "$P" sync --timeout 30 >/dev/null 2>"$WORK/plain.err" || code=$?
expect_eq "exit code of a plain sync to a TLS hub" 78 "$code"
grep -q "requires TLS" "$WORK/plain.err" || fail "plain client message: $(cat "$WORK/plain.err")"
[ $(($(date +%s) - started)) -lt 25 ] || fail "the plain client waited for its timeout"
mf "$A" sync >/dev/null
[ "$(mf "$A" get organizations plain --json 2>/dev/null | json_field id)" = "" ] || fail "the plain client's record reached the hub"

# The same hub folder served with --insecure: a TLS replica is told the hub does not speak TLS.
stop_hub
HUB_FLAGS=--insecure HUB_PORT=$PORT start_hub "$WORK/hub"
code=0
mf "$A" sync --timeout 30 >/dev/null 2>"$WORK/tls.err" || code=$?
expect_eq "exit code of a TLS sync to a plain hub" 76 "$code"
grep -q "does not speak TLS" "$WORK/tls.err" || fail "TLS client message: $(cat "$WORK/tls.err")"
mf "$P" sync >/dev/null
"$MUFAKAT_HUB" health --data "$HUB_DATA" | grep -q "plain TCP" || fail "health of the hub's own --insecure folder"
stop_hub
expect_eq "mode of hub.sqlite (it holds a copy of the key)" 600 "$(stat -c %a "$HUB_DATA/hub.sqlite")"

# A key change: the hub announces a next key; A syncs while it is announced, B does not.
"$MUFAKAT_HUB" tls next --data "$HUB_DATA" >"$WORK/next.out"
NEXT=$(sed -n 's/^next key \(SHA256:[^ ]*\).*/\1/p' "$WORK/next.out")
[ -n "$NEXT" ] || fail "tls next printed no key: $(cat "$WORK/next.out")"
"$MUFAKAT_HUB" status --data "$HUB_DATA" | grep -q "next key $NEXT made, not yet announced" || fail "status before the restart"
HUB_PORT=$PORT start_hub "$WORK/hub"
code=0
"$MUFAKAT_HUB" tls switch --data "$HUB_DATA" >/dev/null 2>&1 || code=$?
expect_eq "exit code of tls switch while the hub serves" 65 "$code"
mf "$A" sync >"$WORK/a-learn.out"
grep -q "announced the key it will switch to, $NEXT" "$WORK/a-learn.out" || fail "A did not note the next key: $(cat "$WORK/a-learn.out")"
expect_eq "A's next key" "$NEXT" "$(mf "$A" status --json | json_field hubNextKey)"
"$MUFAKAT_HUB" status --data "$HUB_DATA" | grep -q "next key $NEXT announced; 1 of 3 replicas" ||
  fail "hub status does not count the replicas told: $("$MUFAKAT_HUB" status --data "$HUB_DATA" | head -n 3)"
stop_hub
"$MUFAKAT_HUB" tls switch --data "$HUB_DATA" >"$WORK/switch.out"
grep -q "2 replica(s) have not synced since it was announced" "$WORK/switch.out" || fail "switch: $(cat "$WORK/switch.out")"
# Lines issued between the switch and the restart already carry the new key.
"$MUFAKAT_HUB" token create --data "$HUB_DATA" --org x --name Xi --role coordinator --hub "$HUB_ADDR" --json | json_field init | grep -q -- "--hub-key $NEXT " ||
  fail "init line after the switch does not carry the new key"
HUB_PORT=$PORT start_hub "$WORK/hub"
expect_eq "the hub's key after the switch" "$NEXT" "$(hub_key)"
mf "$A" sync >"$WORK/a-switch.out"
grep -q "switched to the key it announced" "$WORK/a-switch.out" || fail "A: $(cat "$WORK/a-switch.out")"
expect_eq "A's pinned key" "$NEXT" "$(mf "$A" status --json | json_field hubKey)"
code=0
mf "$B" sync >/dev/null 2>"$WORK/b.err" || code=$?
expect_eq "exit code of B, never told" 78 "$code"
grep -q "presented the key $NEXT, not the key this replica trusts ($KEY)" "$WORK/b.err" || fail "B: $(cat "$WORK/b.err")"
mf "$B" hub set "$HUB_ADDR" --hub-key "$NEXT" >/dev/null
mf "$B" sync >/dev/null
mf "$A" sync >/dev/null
expect_converged "$A" "$B"
stop_hub

# An operator's certificate for another name: refused with the names; dialled by its name, accepted.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost -keyout "$WORK/op-key.pem" -out "$WORK/op-cert.pem" 2>/dev/null
HUB_FLAGS="--tls-cert $WORK/op-cert.pem --tls-key $WORK/op-key.pem" HUB_PORT=$PORT start_hub "$WORK/hub"
OP=$(hub_key)
expect_eq "fingerprint of the operator's key" \
  "SHA256:$(openssl x509 -in "$WORK/op-cert.pem" -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | base64 | tr -d '=')" "$OP"
mf "$A" hub set "$HUB_ADDR" --hub-key "$OP" >/dev/null
code=0
mf "$A" sync >/dev/null 2>"$WORK/host.err" || code=$?
expect_eq "exit code for a certificate naming another host" 78 "$code"
grep -q "the hub's certificate is for localhost, not 127.0.0.1" "$WORK/host.err" || fail "wrong host: $(cat "$WORK/host.err")"
mf "$A" hub set "localhost:$PORT" >/dev/null
mf "$A" sync >/dev/null
stop_hub

# A backup restored into a folder where another hub already ran (and made its own key):
# serve refuses rather than present a key no replica trusts; without the stray key it
# writes back the key the backup holds.
"$MUFAKAT_HUB" backup --data "$HUB_DATA" --to "$WORK/backup.sqlite" >/dev/null
start_hub "$WORK/fresh"; stop_hub
# The folder's old journal goes with its old file: a stale hub.sqlite-wal would be replayed
# onto the backup (README, restoring a hub).
rm -f "$WORK/fresh/hub.sqlite-wal" "$WORK/fresh/hub.sqlite-shm"
cp "$WORK/backup.sqlite" "$WORK/fresh/hub.sqlite"
code=0
"$MUFAKAT_HUB" serve --data "$WORK/fresh" --host 127.0.0.1 --port 0 >/dev/null 2>"$WORK/fresh.err" || code=$?
[ "$code" = 65 ] || fail "exit code of serve with a stray key: expected 65, got $code: $(cat "$WORK/fresh.err")"
grep -q "is not the key this hub's database (hub.sqlite) was served with" "$WORK/fresh.err" || fail "stray key: $(cat "$WORK/fresh.err")"
# Choosing the folder's key checks it first: an unreadable one leaves the trusted copy alone.
printf -- '-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n' >"$WORK/fresh/tls/hub-key.pem"
code=0
"$MUFAKAT_HUB" tls keep-folder-key --data "$WORK/fresh" >/dev/null 2>&1 || code=$?
expect_eq "exit code of keep-folder-key with an unreadable key" 65 "$code"
rm -r "$WORK/fresh/tls"
HUB_PORT=$PORT start_hub "$WORK/fresh"
expect_eq "key of the restored hub" "$NEXT" "$(hub_key)"
mf "$B" sync >/dev/null
echo "ok: init line pins $KEY; plain→TLS refused (78) and TLS→plain refused (76) at once; key change announced, taken up by 1 replica, the other refused (78) until given it; operator certificate checked by name; a stray key in a restored folder refused"
