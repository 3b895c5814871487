#!/usr/bin/env bash
# The hub service of docker-compose.yml: issues one token per client into the shared
# folder (once) and its TLS key (SHARED/hub-key), then serves over TLS. Outside Docker: DATA=… SHARED=… PORT=0 scripts/compose-hub.sh
set -euo pipefail
HUB_BIN="${BIN:+$BIN/}mufakat-hub"
DATA="${DATA:-/data}"
SHARED="${SHARED:-/shared}"
CLIENTS="${CLIENTS:-iom unicef save-the-children}"
mkdir -p "$DATA" "$SHARED/tokens"
for who in $CLIENTS; do
  if [ ! -s "$SHARED/tokens/$who" ]; then
    "$HUB_BIN" token create --data "$DATA" --org "$who" --name "$who" --role coordinator --json |
      sed -n 's/.*"token":"\([^"]*\)".*/\1/p' >"$SHARED/tokens/$who.tmp"
    mv "$SHARED/tokens/$who.tmp" "$SHARED/tokens/$who"
  fi
done
# The key clients pin: the hub made it with the first token, and serves it over TLS.
"$HUB_BIN" status --data "$DATA" --json | sed -n 's/.*"key":"\(SHA256:[^"]*\)".*/\1/p' >"$SHARED/hub-key.tmp"
mv "$SHARED/hub-key.tmp" "$SHARED/hub-key"
exec "$HUB_BIN" serve --data "$DATA" --host "${HOST:-0.0.0.0}" --port "${PORT:-7420}"
