#!/usr/bin/env bash
# Issue 27, case 2: a laptop whose clock is three years slow (libfaketime), restored from a
# backup, writes another field of a record a colleague wrote last. Under 0.7 the new write got
# the dot, time and author of its lost earlier write and was taken for it, and vanished. Now
# the hub names every write and stamps its own time: the synced write and the new one are both
# kept, and the laptop's clock is kept only as "entered on the laptop at".
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
command -v faketime >/dev/null || fail "faketime is not installed (apt-get install faketime; make test installs it)"
WORK=$(mktemp -d); trap 'stop_hub; [ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT
start_hub "$WORK/hub"
A="$WORK/a" B="$WORK/b"
new_replica "$A" iom "Andi (IOM)"; new_replica "$B" iom "Budi (IOM)"   # colleagues of one organisation
# Every command on laptop A runs with its clock 1,095 days behind.
slow() {
  local home="$1"
  shift
  faketime -f "-1095d" "$MUFAKAT" "$@" --home "$home"
}
laptop_year=$(faketime -f "-1095d" date -u +%Y)
[ "$laptop_year" -le $(($(date -u +%Y) - 2)) ] || fail "libfaketime did not slow the clock (laptop year $laptop_year)"

slow "$A" put positions gov:c stance=Neutral "statement=First take" >/dev/null 2>&1
slow "$A" sync >/dev/null; mf "$B" sync >/dev/null
rm -rf "$WORK/backup"; cp -r "$A" "$WORK/backup"
slow "$A" put positions gov:c influence=High >/dev/null 2>&1        # W1, synced, then lost with the disk
slow "$A" sync >/dev/null
mf "$B" sync >/dev/null
mf "$B" put positions gov:c "statement=Budi's update" >/dev/null 2>&1   # the colleague writes last
mf "$B" sync >/dev/null

rm -rf "$A"; cp -r "$WORK/backup" "$A"
slow "$A" put positions gov:c "source=Field visit" >/dev/null 2>&1  # another field, same slow clock
for run in 1 2; do slow "$A" sync >/dev/null; mf "$B" sync >/dev/null; done

expect_converged "$A" "$B"
for home in "$A" "$B"; do
  n=$(basename "$home")
  expect_eq "W1 (influence, synced before the restore) on $n" High "$(field_value "$home" positions gov:c influence)"
  expect_eq "the restored laptop's new write on $n" "Field visit" "$(field_value "$home" positions gov:c source)"
  expect_eq "the colleague's write on $n" "Budi's update" "$(field_value "$home" positions gov:c statement)"
  expect_eq "conflicts on $n" 0 "$(mf "$home" status --json | json_field conflicts)"
done
# The hub's time on the new write is the hub's (this year); the laptop's slow clock is kept
# beside it for display only.
now_ms=$(($(date +%s) * 1000))
row=$(sqlite3 -separator ' ' "$WORK/hub/hub.sqlite" "SELECT time, entered_at FROM writes WHERE id = 'gov:c' ORDER BY time DESC LIMIT 1")
read -r hub_time entered <<<"$row"
[ $((now_ms - hub_time)) -lt 3600000 ] || fail "the hub stamped the write at $hub_time, not its own time ($now_ms)"
[ $((now_ms - entered)) -gt $((700 * 86400000)) ] || fail "the laptop's clock was not kept as entered-at ($entered)"
echo "ok: a laptop three years slow, restored, wrote another field: its synced write, the new one and the colleague's all kept; hub time $(date -u -d @$((hub_time / 1000)) +%F), entered on the laptop $(date -u -d @$((entered / 1000)) +%F)"
