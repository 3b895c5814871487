#!/usr/bin/env bash
# Issue 27, case 5: a laptop and the hub both restored from backups. The hub's backup predates
# writes W1 and W2; the laptop's backup holds W1 synced and a write (influence) still pending.
# After both restores the laptop writes X1, then X2, on what it holds. Nothing anyone synced
# is lost — the colleague still holds W2 and sends it back, by voucher — the pending write is
# held once, and the laptop's X2 stands beside W2, the write it never saw, as a conflict.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
WORK=$(mktemp -d); trap 'stop_hub; rm -rf "$WORK"' EXIT
start_hub "$WORK/hub"; PORT=${HUB_ADDR##*:}
A="$WORK/a" B="$WORK/b"
new_replica "$A" iom "Andi (IOM)"; new_replica "$B" unicef "Sari (UNICEF)"
mf "$A" put positions gov:r stance=Neutral statement=W0 >/dev/null 2>&1
mf "$A" sync >/dev/null; mf "$B" sync >/dev/null
stop_hub; cp -r "$WORK/hub" "$WORK/hub-backup"; HUB_PORT=$PORT start_hub "$WORK/hub"
mf "$A" put positions gov:r statement=W1 >/dev/null 2>&1; mf "$A" sync >/dev/null
mf "$A" put positions gov:r influence=Medium >/dev/null 2>&1      # pending when the laptop's backup is taken
cp -r "$A" "$WORK/a-backup"
mf "$A" sync >/dev/null
mf "$A" put positions gov:r statement=W2 >/dev/null 2>&1; mf "$A" sync >/dev/null; mf "$B" sync >/dev/null
expect_eq "B holds W2" W2 "$(field_value "$B" positions gov:r statement)"

# Both disks die; both come back from their backups.
stop_hub; rm -rf "$WORK/hub"; cp -r "$WORK/hub-backup" "$WORK/hub"; HUB_PORT=$PORT start_hub "$WORK/hub"
rm -rf "$A"; cp -r "$WORK/a-backup" "$A"
mf "$A" put positions gov:r statement=X1 >/dev/null 2>&1
mf "$A" put positions gov:r statement=X2 source=X2src >/dev/null 2>&1
for home in "$A" "$B" "$A" "$B"; do mf "$home" sync >/dev/null; done

expect_converged "$A" "$B"
for home in "$A" "$B"; do
  n=$(basename "$home")
  expect_eq "influence on $n" Medium "$(field_value "$home" positions gov:r influence)"
  expect_eq "source on $n" X2src "$(field_value "$home" positions gov:r source)"
  conflicts=$(mf "$home" conflicts --json)
  grep -q '"value":"W2"' <<<"$conflicts" || fail "W2, synced and pulled by B, was lost on $n: $conflicts"
  grep -q '"value":"X2"' <<<"$conflicts" || fail "X2 is not a candidate on $n: $conflicts"
  ! grep -q '"value":"X1"' <<<"$conflicts" || fail "X1, which X2 replaced on the laptop, came back on $n"
done
influence=$(sqlite3 "$WORK/hub/hub.sqlite" "SELECT state FROM records WHERE id = 'gov:r'" | grep -o '"influence":\[[^]]*\]')
[ "$(grep -o Medium <<<"$influence" | wc -l)" = 1 ] || fail "the pending write is held more than once on the hub: $influence"
echo "ok: laptop and hub restored together: W2 came back from B by voucher, the pending write held once, X2 kept beside W2 as a conflict, digests equal"
