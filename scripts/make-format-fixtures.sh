#!/usr/bin/env bash
# Writes the store files of an older release for the migration tests:
#   OLD_BIN=/path/to/0.5.0/bin scripts/make-format-fixtures.sh
# makes Tests/MufakatStoreTests/Fixtures/<version>/{replica.sqlite,hub.sqlite,digest.txt}
# with that release's binaries: two replicas writing, a conflict, a delete, a journal-free
# replica synced through the hub; digest.txt is the digest both files had then.
set -euo pipefail
: "${OLD_BIN:?set OLD_BIN to the folder with mufakat and mufakat-hub of the older release}"
BIN="$OLD_BIN"
. "$(dirname "$0")/lib.sh"
VERSION=$("$MUFAKAT" --version)
OUT="$(cd "$(dirname "$0")/.." && pwd)/Tests/MufakatStoreTests/Fixtures/$VERSION"
WORK=$(mktemp -d); trap 'stop_hub; rm -rf "$WORK"' EXIT
HUB_FLAGS=--insecure start_hub "$WORK/hub"
A="$WORK/a" B="$WORK/b"
new_replica "$A" iom "Andi (IOM)"; new_replica "$B" unicef "Sari (UNICEF)"
mf "$A" put organizations iom name=IOM type=UNAgency >/dev/null
mf "$A" put organizations kemnaker name="Kementerian Ketenagakerjaan" type=CentralGovernment country=ID >/dev/null
mf "$A" put asks ask-budget "title=Fund the task forces" category=BudgetIncrease >/dev/null
mf "$A" put positions kemnaker:ask-budget subject=kemnaker ask=ask-budget stance=PassiveSupport >/dev/null
mf "$A" new reports org=iom period=2025-Q3 country=ID indicator=VictimsIdentified value=37 area="East Java" >/dev/null
mf "$A" sync >/dev/null; mf "$B" sync >/dev/null
mf "$A" put positions kemnaker:ask-budget stance=ActiveSupport >/dev/null
mf "$B" put positions kemnaker:ask-budget stance=Neutral influence=High >/dev/null
mf "$B" put asks ask-shelter "title=Open two shelters" category=Other >/dev/null
mf "$B" delete asks ask-shelter >/dev/null
for home in "$A" "$B" "$A"; do mf "$home" sync >/dev/null; done
stop_hub
[ "$(mf "$A" digest)" = "$(mf "$B" digest)" ] || { echo "replicas differ" >&2; exit 1; }
mkdir -p "$OUT"
sqlite3 "$A/replica.sqlite" "VACUUM INTO '$OUT/replica.sqlite.new'" && mv "$OUT/replica.sqlite.new" "$OUT/replica.sqlite"
sqlite3 "$WORK/hub/hub.sqlite" "VACUUM INTO '$OUT/hub.sqlite.new'" && mv "$OUT/hub.sqlite.new" "$OUT/hub.sqlite"
mf "$A" digest >"$OUT/digest.txt"
echo "wrote $OUT: $(sqlite3 "$OUT/replica.sqlite" 'SELECT COUNT(*) FROM records') records, digest $(cat "$OUT/digest.txt")"
