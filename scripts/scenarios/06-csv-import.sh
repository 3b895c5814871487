#!/usr/bin/env bash
# A 10,000-row CSV imported on one replica reaches everyone after sync.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
WORK=$(mktemp -d); trap 'stop_hub; rm -rf "$WORK"' EXIT
start_hub "$WORK/hub"
A="$WORK/a" B="$WORK/b" C="$WORK/c"
new_replica "$A" iom "Andi (IOM)"; new_replica "$B" unicef "Sari (UNICEF)"; new_replica "$C" stc "Budi (STC)"

{
  echo "org,period,country,area,indicator,value,gender,datasource"
  orgs=(iom unicef save-the-children migrant-care)
  indicators=(VictimsIdentified VictimsAssisted VictimsReferred Returnees HotlineContacts)
  genders=(Female Male Unknown TransgenderNonConforming)
  n=0
  for org in "${orgs[@]}"; do
    for year in 2023 2024 2025; do
      for month in 01 02 03 04 05 06 07 08 09 10 11 12; do
        for indicator in "${indicators[@]}"; do
          for gender in "${genders[@]}"; do
            for area in "East Java" "\"Riau Islands, Batam\"" "West Kalimantan" "Jakarta" "Central Java" "NTT" "NTB" "Aceh" "Bali" "Papua" "Banten"; do
              [ "$n" -lt 10000 ] || break 5
              echo "$org,$year-$month,ID,$area,$indicator,$((n % 97)),$gender,Hotline"
              n=$((n + 1))
            done
          done
        done
      done
    done
  done
} >"$WORK/reports.csv"
expect_eq "rows in file" 10001 "$(wc -l <"$WORK/reports.csv" | tr -d ' ')"

expect_eq "created" 10000 "$(mf "$A" import reports "$WORK/reports.csv" --json | json_field created)"
mf "$A" sync >/dev/null; mf "$B" sync >/dev/null; mf "$C" sync >/dev/null
expect_converged "$A" "$B" "$C"
expect_eq "reports on C" 10000 "$(mf "$C" status --json | sed -n 's/.*"reports":\([0-9]*\).*/\1/p')"
expect_eq "re-import unchanged" 10000 "$(mf "$B" import reports "$WORK/reports.csv" --json | json_field unchanged)"
echo "ok: 10,000 imported rows reached every replica"
