#!/usr/bin/env bash
# The hub stops gracefully (SIGTERM) between syncs and is killed (kill -9) during a
# push: every write it acknowledged survives, and the client's next sync completes.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
WORK=$(mktemp -d); trap 'stop_hub KILL; rm -rf "$WORK"' EXIT
start_hub "$WORK/hub"
PORT=${HUB_ADDR##*:}
A="$WORK/a" B="$WORK/b"
new_replica "$A" iom "Andi (IOM)"; new_replica "$B" unicef "Sari (UNICEF)"
mf "$A" put organizations iom name=IOM type=UNAgency >/dev/null
mf "$A" sync >/dev/null

# 1. Graceful restart between syncs.
stop_hub TERM
grep -q "stopped" "$HUB_DATA/hub.log" || fail "the hub did not log a graceful stop"
HUB_PORT=$PORT start_hub "$HUB_DATA"
mf "$B" sync >/dev/null
expect_converged "$A" "$B"

# 2. kill -9 during a large push in small batches.
{
  echo "title,category"
  for i in $(seq 1 6000); do echo "Ask number $i,Training"; done
} >"$WORK/asks.csv"
mf "$A" import asks "$WORK/asks.csv" >/dev/null
mf "$A" sync --batch-size 20 >/dev/null 2>&1 &
SYNC=$!
for _ in $(seq 1 400); do
  acked=$(sqlite3 "$HUB_DATA/hub.sqlite" "SELECT COUNT(*) FROM records WHERE collection = 'asks'" 2>/dev/null || echo 0)
  [ "${acked:-0}" -ge 200 ] && break
  sleep 0.02
done
kill -9 "$HUB_PID"; wait "$HUB_PID" 2>/dev/null || true; HUB_PID=""
code=0; wait "$SYNC" || code=$?
[ "$code" != 0 ] || fail "the sync finished before the kill; nothing was tested"

expect_eq "hub database after kill -9" ok "$(sqlite3 "$HUB_DATA/hub.sqlite" 'PRAGMA integrity_check')"
pushed_through=$(sqlite3 "$A/replica.sqlite" "SELECT value FROM meta WHERE key = 'pushedThrough'")
acknowledged=$(sqlite3 "$A/replica.sqlite" "SELECT COUNT(*) FROM records WHERE seq > 0 AND seq <= $pushed_through")
missing=$(sqlite3 "$A/replica.sqlite" "SELECT collection || '/' || id FROM records WHERE seq > 0 AND seq <= $pushed_through" |
  sort | comm -23 - <(sqlite3 "$HUB_DATA/hub.sqlite" "SELECT collection || '/' || id FROM records" | sort) | wc -l | tr -d ' ')
expect_eq "acknowledged records missing on the hub" 0 "$missing"
[ "$acknowledged" -lt 6001 ] || fail "everything was acknowledged before the kill"

HUB_PORT=$PORT start_hub "$HUB_DATA"
mf "$A" sync >/dev/null
mf "$B" sync >/dev/null
expect_converged "$A" "$B"
expect_eq "asks on B" 6000 "$(mf "$B" status --json | sed -n 's/.*"asks":\([0-9]*\).*/\1/p')"
echo "ok: graceful restart, then kill -9 after $acknowledged acknowledged records: none lost, next sync completed"
