#!/usr/bin/env bash
# Counters at the edge of the range: with a replica's counter set to 2^63-2, 2^63-1, 2^63
# or 2^64-1, a 'put' succeeds, the replica takes a new id when no counter is left under its
# id (at or above 2^63-1), no write is lost (an unsynced one is written again under the new
# id) and the values reach a second replica. A counter raised by hand must not stop 'sync'.
# Counters name writes in replicas of 0.7 only (the hub names them from 0.8 on):
# MUFAKAT_PROTOCOL=4 makes these replicas, and keeps them syncing, as 0.7 did.
set -euo pipefail
export MUFAKAT_PROTOCOL=4
. "$(dirname "$0")/../lib.sh"
WORK=$(mktemp -d); trap 'stop_hub; rm -rf "$WORK"' EXIT
start_hub "$WORK/hub"
B="$WORK/b"
new_replica "$B" unicef "Sari (UNICEF)"
MAX=9223372036854775807
problems=()

for N in 9223372036854775806 $MAX 9223372036854775808 18446744073709551615; do
  A="$WORK/a-$N" rec="org-$N"
  new_replica "$A" iom "Andi (IOM)"
  mf "$A" put organizations "$rec" name=Before type=UNAgency >/dev/null
  mf "$A" sync >/dev/null
  mf "$A" put organizations "$rec" type=INGO >/dev/null                 # not synced yet
  old_id=$(replica_id "$A")
  sqlite3 "$A/replica.sqlite" "UPDATE meta SET value = '$N' WHERE key = 'counter'"
  code=0; mf "$A" put organizations "$rec" "name=After $N" >/dev/null 2>"$WORK/err" || code=$?
  expect_eq "put at counter $N exit code ($(cat "$WORK/err"))" 0 "$code"
  new_id=$(replica_id "$A")
  if [ "$N" = 9223372036854775806 ]; then
    expect_eq "replica id after a put at counter $N" "$old_id" "$new_id"
    expect_eq "counter after a put at $N" $MAX "$(mf "$A" status --json | json_field counter)"
  else
    [ "$new_id" != "$old_id" ] || fail "counter $N: the replica kept id $old_id"
    grep -q "\"previousReplicas\":\[\"$old_id\"\]" <<<"$(mf "$A" status --json)" || fail "counter $N: $old_id is not the previous id"
  fi
  code=0; out=$(mf "$A" sync --json 2>&1) || code=$?
  expect_eq "sync at counter $N exit code ($out)" 0 "$code"
  grep -q '"hubBehind":null' <<<"$out" ||
    problems+=("counter $N: after taking a new id at 'put', sync wrongly diagnosed the hub as restored: $(echo "$out" | json_field hubBehind)")
  mf "$A" sync >/dev/null; mf "$B" sync >/dev/null
  expect_converged "$A" "$B"
  for home in "$A" "$B"; do
    expect_eq "counter $N: name on $(basename "$home")" "After $N" "$(field_value "$home" organizations "$rec" name)"
    expect_eq "counter $N: type on $(basename "$home")" INGO "$(field_value "$home" organizations "$rec" type)"
  done
  expect_eq "counter $N: conflicts on B" 0 "$(mf "$B" status --json | json_field conflicts)"
  expect_eq "counter $N: pending on A" 0 "$(mf "$A" status --json | json_field pending)"
done

# A counter raised by hand above 2^63-1 with a write pending and no new 'put': sync must
# still deliver the write (taking a new id), and status must show the counter unsigned.
A="$WORK/a-sync-only"
new_replica "$A" iom "Andi (IOM)"
mf "$A" put organizations org-sync-only name=Pending type=UNAgency >/dev/null
sqlite3 "$A/replica.sqlite" "UPDATE meta SET value = '18446744073709551615' WHERE key = 'counter'"
shown=$(mf "$A" status --json | json_field counter)
[ "$shown" = 18446744073709551615 ] || problems+=("status --json shows counter 18446744073709551615 as $shown")
code=0; out=$(mf "$A" sync 2>&1) || code=$?
if [ "$code" = 0 ]; then
  mf "$B" sync >/dev/null
  [ "$(field_value "$B" organizations org-sync-only name)" = Pending ] || problems+=("sync-only at 2^64-1: the pending write did not reach B")
else
  problems+=("sync with counter 2^64-1 and a pending write exited $code: $out")
fi

if [ "${#problems[@]}" -gt 0 ]; then
  printf '  %s\n' "${problems[@]}" >&2
  fail "${#problems[@]} problem(s) at the counter edge (listed above)"
fi
echo "ok: puts at counters 2^63-2, 2^63-1, 2^63, 2^64-1 exit 0, new id from 2^63-1 on, unsynced + new writes reached B; sync works at 2^64-1"
