#!/usr/bin/env bash
# Faults: replicas sync through a proxy that, seeded, cuts connections at random byte
# offsets, resets them and delays chunks. Every sync is retried until it completes.
# Afterwards digests are equal and no write is missing or duplicated.
# FAULT_CUTS=N is the least number of cuts and resets to inject (default 100).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
WORK=$(mktemp -d); trap 'stop_hub; [ -n "${PROXY:-}" ] && kill "$PROXY" 2>/dev/null; rm -rf "$WORK"' EXIT
start_hub "$WORK/hub"
"$BIN/mufakat-faultproxy" --upstream "$HUB_ADDR" --seed "${FAULT_SEED:-29}" --cut-rate 0.7 --cut-within 1500 \
  --max-delay-ms 5 --port-file "$WORK/proxy.port" --stats "$WORK/proxy.stats" >"$WORK/proxy.log" 2>&1 &
PROXY=$!
for _ in $(seq 1 200); do [ -s "$WORK/proxy.port" ] && break; sleep 0.05; done
PROXY_ADDR="127.0.0.1:$(cat "$WORK/proxy.port")"

homes=("$WORK/a" "$WORK/b" "$WORK/c")
for i in 0 1 2; do
  # shellcheck disable=SC2046
  "$MUFAKAT" init --home "${homes[$i]}" --hub "$PROXY_ADDR" $(hub_trust) --token "$(new_token "org$i" "Person $i")" --name "Person $i" >/dev/null
done
faults() { cat "$WORK/proxy.stats" 2>/dev/null | awk -F= '$1 == "cuts" || $1 == "resets" { n += $2 } END { print n + 0 }'; }

written=0
round=0
SYNC_FAILURES=0
while [ "$(faults)" -lt "${FAULT_CUTS:-100}" ]; do
  round=$((round + 1))
  [ "$round" -le 200 ] || fail "only $(faults) faults after 200 rounds"
  for i in 0 1 2; do
    # Each round every replica writes new records and edits a shared one.
    {
      echo "id,name,type"
      for n in $(seq 1 15); do echo "w$i-$round-$n,Org $i $round $n,NGO"; done
    } >"$WORK/batch.csv"
    mf "${homes[$i]}" import organizations "$WORK/batch.csv" >/dev/null
    written=$((written + 15))
    mf "${homes[$i]}" put positions shared:ask-1 "stance=$([ $((round % 2)) = 0 ] && echo Neutral || echo ActiveSupport)" >/dev/null
    sync_until_done "${homes[$i]}"
  done
done
for home in "${homes[@]}" "${homes[@]}"; do sync_until_done "$home"; done

expect_converged "${homes[@]}"
for home in "${homes[@]}"; do
  count=$(mf "$home" list organizations --json | grep -o '"id":"w[0-9]*-[0-9]*-[0-9]*"' | sort -u | wc -l | tr -d ' ')
  total=$(mf "$home" list organizations --json | grep -o '"id":"' | wc -l | tr -d ' ')
  expect_eq "distinct written records on $(basename "$home")" "$written" "$count"
  expect_eq "records on $(basename "$home") (no duplicates)" "$written" "$total"
done
expect_eq "hub integrity" ok "$(sqlite3 "$HUB_DATA/hub.sqlite" 'PRAGMA integrity_check')"
echo "ok: $(faults) faults injected ($(cat "$WORK/proxy.stats" | tr '\n' ' ')), $SYNC_FAILURES failed syncs retried, $written writes all present once, digests equal"
