#!/usr/bin/env bash
# A client service of docker-compose.yml — and a test a hub operator can run against their
# own hub: create a replica, write records of our own and a position everyone writes too,
# sync until the hub has them, wait for the other clients, then sync until every client's
# digest is the same. Exits 0 when they match.
#
#   HUB=host:port SHARED=/shared scripts/compose-client.sh iom "Andi (IOM)"
#
# SHARED is a folder all clients see: tokens/<name> and hub-key, the hub's TLS key (both
# written by compose-hub.sh), and the pushed/ and digests/ markers the clients use to wait
# for each other.
set -euo pipefail
NAME="$1"
DISPLAY_NAME="${2:-$1}"
MF="${BIN:+$BIN/}mufakat"
HUB="${HUB:?set HUB=host:port}"
SHARED="${SHARED:-/shared}"
EXPECTED="${EXPECTED_CLIENTS:-3}"
RECORDS="${RECORDS:-50}"
HOME_DIR=$(mktemp -d)
trap 'rm -rf "$HOME_DIR"' EXIT
mf() { "$MF" "$@" --home "$HOME_DIR"; }
log() { echo "[$NAME] $*"; }

sync_retrying() {
  for _ in $(seq 1 60); do
    mf sync --timeout 10 >/dev/null 2>"$HOME_DIR/sync.err" && return 0
    sleep 1
  done
  log "sync kept failing: $(cat "$HOME_DIR/sync.err")"
  return 1
}

for _ in $(seq 1 60); do [ -s "$SHARED/tokens/$NAME" ] && break; sleep 1; done
[ -s "$SHARED/tokens/$NAME" ] || { log "no token in $SHARED/tokens/$NAME"; exit 1; }
for _ in $(seq 1 60); do [ -s "$SHARED/hub-key" ] && break; sleep 1; done
[ -s "$SHARED/hub-key" ] || { log "no hub key in $SHARED/hub-key"; exit 1; }
mf init --hub "$HUB" --hub-key "$(cat "$SHARED/hub-key")" --token "$(cat "$SHARED/tokens/$NAME")" --name "$DISPLAY_NAME" >/dev/null

{
  echo "id,name,type,country"
  for n in $(seq 1 "$RECORDS"); do echo "$NAME-partner-$n,$DISPLAY_NAME partner $n,NGO,ID"; done
} >"$HOME_DIR/partners.csv"
mf import organizations "$HOME_DIR/partners.csv" >/dev/null
mf put positions kemnaker:ask-budget "stance=$(case "$NAME" in iom) echo ActiveSupport ;; unicef) echo Neutral ;; *) echo PassiveSupport ;; esac)" "source=$NAME" >/dev/null 2>&1
sync_retrying
log "pushed $RECORDS records and a position"
mkdir -p "$SHARED/pushed" "$SHARED/digests"
touch "$SHARED/pushed/$NAME"

for _ in $(seq 1 120); do
  [ "$(ls "$SHARED/pushed" | wc -l)" -ge "$EXPECTED" ] && break
  sleep 1
done
for _ in $(seq 1 60); do
  sync_retrying
  mf digest >"$SHARED/digests/$NAME.tmp" && mv "$SHARED/digests/$NAME.tmp" "$SHARED/digests/$NAME"
  if [ "$(ls "$SHARED/digests" | grep -vc '\.tmp$')" -ge "$EXPECTED" ] &&
    [ "$(cat "$SHARED"/digests/* 2>/dev/null | sort -u | wc -l)" = 1 ]; then
    log "digests match: $(cat "$SHARED/digests/$NAME") ($(mf status --json | sed -n 's/.*"organizations":\([0-9]*\).*/\1/p') organizations, $(mf status --json | sed -n 's/.*"conflicts":\([0-9]*\).*/\1/p') conflicted)"
    exit 0
  fi
  sleep 1
done
log "digests never matched: $(cat "$SHARED"/digests/* | tr '\n' ' ')"
exit 1
