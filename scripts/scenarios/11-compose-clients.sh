#!/usr/bin/env bash
# The docker-compose setup without Docker: the hub service script and three client service
# scripts run side by side against each other; every client must exit 0 (digests match).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
WORK=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT
SCRIPTS="$(cd "$(dirname "$0")/.." && pwd)"
export SHARED="$WORK/shared"
DATA="$WORK/hub" PORT=0 HOST=127.0.0.1 "$SCRIPTS/compose-hub.sh" >"$WORK/hub.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 200); do [ -s "$WORK/hub/hub.port" ] && break; sleep 0.05; done
[ -s "$WORK/hub/hub.port" ] || fail "hub did not start: $(cat "$WORK/hub.log")"
export HUB="127.0.0.1:$(cat "$WORK/hub/hub.port")"

clients=(iom unicef save-the-children)
names=("Andi (IOM)" "Sari (UNICEF)" "Budi (Save the Children)")
CLIENT_PIDS=()
for i in 0 1 2; do
  "$SCRIPTS/compose-client.sh" "${clients[$i]}" "${names[$i]}" >"$WORK/${clients[$i]}.log" 2>&1 &
  CLIENT_PIDS+=($!)
done
for i in 0 1 2; do
  wait "${CLIENT_PIDS[$i]}" || fail "client ${clients[$i]} failed: $(cat "$WORK/${clients[$i]}.log")"
done
expect_eq "hub digest" "$(cat "$SHARED/digests/iom")" "$(BIN="$BIN" "$MUFAKAT_HUB" digest --data "$WORK/hub")"
echo "ok: 3 compose clients exited 0 with equal digests ($(tail -n 1 "$WORK/iom.log"))"
