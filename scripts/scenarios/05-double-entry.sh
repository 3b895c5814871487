#!/usr/bin/env bash
# Two organizations' staff enter the same figure: one record; a conflict only if the
# values differ.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
WORK=$(mktemp -d); trap 'stop_hub; rm -rf "$WORK"' EXIT
start_hub "$WORK/hub"
A="$WORK/a" B="$WORK/b"
new_replica "$A" iom "Andi (IOM)"; new_replica "$B" unicef "Sari (UNICEF)"

same1=$(mf "$A" new reports org=iom period=2025-Q2 country=ID "area=Riau Islands" indicator=Returnees value=15 --json | json_field id)
same2=$(mf "$B" new reports org=IOM period=2025-q2 country=id "area=Riau Islands" indicator=returnees value=15 --json | json_field id)
expect_eq "same figure, same id" "$same1" "$same2"
diff1=$(mf "$A" new reports org=iom period=2025-Q3 country=ID "area=Riau Islands" indicator=Returnees value=20 --json | json_field id)
diff2=$(mf "$B" new reports org=iom period=2025-Q3 country=ID "area=Riau Islands" indicator=Returnees value=23 --json | json_field id)
expect_eq "disagreeing figure, same id" "$diff1" "$diff2"
for home in "$A" "$B" "$A"; do mf "$home" sync >/dev/null; done

expect_converged "$A" "$B"
expect_eq "reports" 2 "$(mf "$A" list reports --json | grep -o '"id"' | wc -l | tr -d ' ')"
expect_eq "agreeing figure conflicted" false "$(mf "$A" get reports "$same1" --json | json_field conflicted)"
expect_eq "disagreeing figure conflicted" true "$(mf "$A" get reports "$diff1" --json | json_field conflicted)"
echo "ok: double entry gives one record; a conflict only where the values differ"
