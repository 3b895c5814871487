#!/usr/bin/env bash
# A replica folder copied to a second laptop (cp -r) and both copies used offline: in
# either sync order every edit of both survives and same-field edits show as a conflict.
# The hub names every write (protocol 5), so both copies may go on with one replica id.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
WORK=$(mktemp -d); trap 'stop_hub; rm -rf "$WORK"' EXIT

# copied_case ORDER: ORDER is "original-first" or "copy-first".
copied_case() {
  local order="$1" A="$WORK/$1/a" C="$WORK/$1/c" B="$WORK/$1/b" first second conflicts
  start_hub "$WORK/$order/hub"
  new_replica "$A" iom "Andi (IOM)"; new_replica "$B" unicef "Sari (UNICEF)"
  mf "$A" put organizations iom name=IOM type=UNAgency >/dev/null
  mf "$A" put positions gov:budget stance=Neutral >/dev/null 2>&1
  mf "$A" sync >/dev/null
  cp -r "$A" "$C"                                           # no mufakat process is running

  mf "$A" put positions gov:budget stance=ActiveSupport >/dev/null 2>&1   # same field as C
  mf "$A" put organizations unicef name=UNICEF type=UNAgency >/dev/null   # A's new record
  mf "$A" put organizations iom "name=IOM Indonesia" >/dev/null           # A: iom.name
  mf "$C" put positions gov:budget stance=ActiveOpposition >/dev/null 2>&1
  mf "$C" put organizations stc "name=Save the Children" type=INGO >/dev/null  # C's new record
  mf "$C" put organizations iom type=INGO >/dev/null                      # C: iom.type
  mf "$C" put positions gov:budget influence=Low >/dev/null 2>&1          # C: influence

  if [ "$order" = original-first ]; then first=$A second=$C; else first=$C second=$A; fi
  sync_until_done "$first"
  out=$(mf "$second" sync 2>&1) || fail "$order: the second copy's sync failed: $out"
  for home in "$first" "$second" "$B"; do sync_until_done "$home"; done

  expect_converged "$A" "$C" "$B"
  for home in "$A" "$C" "$B"; do
    expect_eq "$order: unicef on $(basename "$home")" UNICEF "$(field_value "$home" organizations unicef name)"
    expect_eq "$order: stc on $(basename "$home")" "Save the Children" "$(field_value "$home" organizations stc name)"
    expect_eq "$order: iom.name on $(basename "$home")" "IOM Indonesia" "$(field_value "$home" organizations iom name)"
    expect_eq "$order: iom.type on $(basename "$home")" INGO "$(field_value "$home" organizations iom type)"
    expect_eq "$order: influence on $(basename "$home")" Low "$(field_value "$home" positions gov:budget influence)"
    conflicts=$(mf "$home" conflicts --json)
    grep -q '"field":"stance"' <<<"$conflicts" || fail "$order: no stance conflict on $(basename "$home"): $conflicts"
    grep -q '"value":"ActiveSupport"' <<<"$conflicts" || fail "$order: A's stance lost on $(basename "$home")"
    grep -q '"value":"ActiveOpposition"' <<<"$conflicts" || fail "$order: C's stance lost on $(basename "$home")"
    expect_eq "$order: conflicted records on $(basename "$home")" 1 "$(mf "$home" status --json | json_field conflicts)"
    expect_eq "$order: pending on $(basename "$home")" 0 "$(mf "$home" status --json | json_field pending)"
  done
  stop_hub
}

copied_case original-first
copied_case copy-first

# Issue 27: the original edits once, the copy twice, the original syncs first: the
# original's write is kept beside the copy's last, which replaced only the copy's first.
A="$WORK/twice/a" C="$WORK/twice/c" B="$WORK/twice/b"
start_hub "$WORK/twice/hub"
new_replica "$A" iom "Andi (IOM)"; new_replica "$B" unicef "Sari (UNICEF)"
mf "$A" put positions gov:twice stance=Neutral "statement=W0" >/dev/null 2>&1
mf "$A" sync >/dev/null
cp -r "$A" "$C"
mf "$A" put positions gov:twice "statement=W1" >/dev/null 2>&1
mf "$C" put positions gov:twice "statement=X1" >/dev/null 2>&1
mf "$C" put positions gov:twice "statement=X2" >/dev/null 2>&1
for home in "$A" "$C" "$B" "$A"; do sync_until_done "$home"; done
expect_converged "$A" "$C" "$B"
for home in "$A" "$C" "$B"; do
  conflicts=$(mf "$home" conflicts --json)
  grep -q '"value":"W1"' <<<"$conflicts" || fail "twice: the original's W1 was lost on $(basename "$home"): $conflicts"
  grep -q '"value":"X2"' <<<"$conflicts" || fail "twice: the copy's X2 is not a candidate on $(basename "$home"): $conflicts"
  ! grep -q '"value":"X1"' <<<"$conflicts" || fail "twice: X1 came back on $(basename "$home")"
done
stop_hub
echo "ok: a cp -r'd replica used offline on 2 laptops, synced in both orders: all edits kept, stance conflict shown, digests equal; the original's single edit kept beside the copy's second"
