#!/usr/bin/env bash
# A replica restored from a backup: the writes it made after the backup (and synced) are
# not lost, and its new writes after the restore go through. The hub names every write
# (protocol 5): the restored folder keeps its replica id, and a write it had not sent when
# the backup was taken is sent again and stored once.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
WORK=$(mktemp -d); trap 'stop_hub; rm -rf "$WORK"' EXIT
start_hub "$WORK/hub"
A="$WORK/a" B="$WORK/b"
new_replica "$A" iom "Andi (IOM)"; new_replica "$B" unicef "Sari (UNICEF)"

# restored_case LABEL SYNC_FIRST: one backup / restore round on record gov:LABEL.
restored_case() {
  local label="$1" sync_first="$2" rec="gov:$1" old_id out
  mf "$A" put positions "$rec" stance=Neutral "statement=First take" >/dev/null 2>&1
  mf "$A" sync >/dev/null
  mf "$A" put positions "$rec" "source=Unsynced at backup" >/dev/null 2>&1
  rm -rf "$WORK/backup"; cp -r "$A" "$WORK/backup"          # no mufakat process is running
  mf "$A" put positions "$rec" influence=High >/dev/null 2>&1
  mf "$A" sync >/dev/null
  old_id=$(replica_id "$A")

  rm -rf "$A"; cp -r "$WORK/backup" "$A"
  out=""
  if [ "$sync_first" = yes ]; then out=$(mf "$A" sync 2>&1); fi
  mf "$A" put positions "$rec" stance=Unknown >/dev/null 2>&1
  out="$out$(mf "$A" sync 2>&1)"
  mf "$A" sync >/dev/null; mf "$B" sync >/dev/null

  ! grep -q "behind its own id" <<<"$out" || fail "$label: sync took the restored folder for a copy behind its id: $out"
  expect_eq "$label: replica id after the restore" "$old_id" "$(replica_id "$A")"
  expect_converged "$A" "$B"
  for home in "$A" "$B"; do
    expect_eq "$label: influence on $(basename "$home")" High "$(field_value "$home" positions "$rec" influence)"
    expect_eq "$label: stance on $(basename "$home")" Unknown "$(field_value "$home" positions "$rec" stance)"
    expect_eq "$label: statement on $(basename "$home")" "First take" "$(field_value "$home" positions "$rec" statement)"
    expect_eq "$label: source on $(basename "$home")" "Unsynced at backup" "$(field_value "$home" positions "$rec" source)"
  done
  expect_eq "$label: conflicts on B" 0 "$(mf "$B" status --json | json_field conflicts)"
  expect_eq "$label: pending on A" 0 "$(mf "$A" status --json | json_field pending)"
}

restored_case budget no   # the new write is made offline, before the first sync after restore
restored_case shelter yes # the restored copy syncs first, then writes

# Issue 27, case 1: a restored laptop that edits one record twice before syncing. W1 was
# synced (and pulled by B) after the backup; the restored copy writes X1 then X2 on the
# state it had. X2 replaces X1 (the laptop saw it) but not W1 (it never saw it): a conflict.
mf "$A" put positions gov:twice stance=Neutral "statement=W0" >/dev/null 2>&1
mf "$A" sync >/dev/null
rm -rf "$WORK/backup"; cp -r "$A" "$WORK/backup"
mf "$A" put positions gov:twice "statement=W1" >/dev/null 2>&1
mf "$A" sync >/dev/null; mf "$B" sync >/dev/null
expect_eq "B holds W1" W1 "$(field_value "$B" positions gov:twice statement)"
rm -rf "$A"; cp -r "$WORK/backup" "$A"
mf "$A" put positions gov:twice "statement=X1" >/dev/null 2>&1
mf "$A" put positions gov:twice "statement=X2" >/dev/null 2>&1
mf "$A" sync >/dev/null; mf "$B" sync >/dev/null; mf "$A" sync >/dev/null
expect_converged "$A" "$B"
for home in "$A" "$B"; do
  conflicts=$(mf "$home" conflicts --json)
  grep -q '"value":"W1"' <<<"$conflicts" || fail "twice: the synced W1 was lost on $(basename "$home"): $conflicts"
  grep -q '"value":"X2"' <<<"$conflicts" || fail "twice: X2 is not a candidate on $(basename "$home"): $conflicts"
  ! grep -q '"value":"X1"' <<<"$conflicts" || fail "twice: X1, which X2 replaced on the laptop, came back on $(basename "$home")"
done
echo "ok: restored backups (write before / after the first sync) kept their id; influence=High and stance=Unknown kept on hub and 2 replicas; a restored laptop editing one record twice kept the synced W1 as a conflict with X2"
