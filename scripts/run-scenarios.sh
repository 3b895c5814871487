#!/usr/bin/env bash
# Runs every scenario in scripts/scenarios against the built binaries and prints one
# closing line. BIN defaults to the debug build folder.
set -uo pipefail
cd "$(dirname "$0")/.."
export BIN="${BIN:-$(swift build --show-bin-path)}"
passed=0
failed=0
for scenario in scripts/scenarios/*.sh; do
  name=$(basename "$scenario" .sh)
  started=$(date +%s)
  if output=$("$scenario" 2>&1); then
    passed=$((passed + 1))
    printf '✔ %-28s %3ss  %s\n' "$name" "$(($(date +%s) - started))" "$(echo "$output" | tail -n 1)"
  else
    failed=$((failed + 1))
    printf '✘ %-28s %3ss\n' "$name" "$(($(date +%s) - started))"
    echo "$output" | tail -n 30 | sed 's/^/    /'
  fi
done
echo "scenarios: $passed passed, $failed failed"
[ "$failed" = 0 ]
