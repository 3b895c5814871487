#!/usr/bin/env bash
# A replica restored from a backup: the writes it made after the backup (and synced) are
# not lost, and its new writes after the restore go through under a new replica id.
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

  grep -q "behind its own id" <<<"$out" || fail "$label: sync did not say the copy is behind its own id: $out"
  [ "$(replica_id "$A")" != "$old_id" ] || fail "$label: the restored replica kept id $old_id"
  grep -q "\"previousReplicas\":\[[^]]*\"$old_id\"" <<<"$(mf "$A" status --json)" || fail "$label: $old_id is not among the previous ids"
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
echo "ok: restored backups (write before / after the first sync) took new ids; influence=High and stance=Unknown kept on hub and 2 replicas"
