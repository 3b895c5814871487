# Shared helpers for the demo and the scenario scripts. Source it; set BIN first
# (the folder holding the built mufakat and mufakat-hub).
#
#   start_hub DIR          start a hub on a free port of 127.0.0.1 with data in DIR
#                          (HUB_PORT fixes the port; HUB_FLAGS adds serve flags, e.g.
#                          HUB_FLAGS=--reseed); sets HUB_PID and HUB_ADDR
#   stop_hub [SIGNAL]      stop it (TERM by default) and wait
#   hub_trust              print how replicas trust the hub: --hub-key SHA256:… (the key
#                          it serves over TLS), or --insecure for HUB_FLAGS=--insecure
#   hub_key                print the hub's key (SHA256:…), or "insecure"
#   new_token ORG NAME [ROLE]   print a fresh token's secret (a coordinator's by default)
#   new_replica HOME ORG NAME [ROLE]   init a replica in HOME with a fresh token
#   mf HOME ARGS...        run mufakat on that replica

set -euo pipefail

: "${BIN:?set BIN to the folder with mufakat and mufakat-hub}"
MUFAKAT="$BIN/mufakat"
MUFAKAT_HUB="$BIN/mufakat-hub"
HUB_DATA=""
HUB_PID=""
HUB_ADDR=""

start_hub() {
  HUB_DATA="$1"
  mkdir -p "$HUB_DATA"
  rm -f "$HUB_DATA/hub.port"
  # shellcheck disable=SC2086 # HUB_FLAGS is split into flags on purpose
  "$MUFAKAT_HUB" serve --data "$HUB_DATA" --host 127.0.0.1 --port "${HUB_PORT:-0}" ${HUB_FLAGS:-} >>"$HUB_DATA/hub.log" 2>&1 &
  HUB_PID=$!
  for _ in $(seq 1 200); do
    if [ -s "$HUB_DATA/hub.port" ]; then
      HUB_ADDR="127.0.0.1:$(cat "$HUB_DATA/hub.port")"
      return 0
    fi
    if ! kill -0 "$HUB_PID" 2>/dev/null; then
      echo "the hub did not start; its log:" >&2
      cat "$HUB_DATA/hub.log" >&2
      return 1
    fi
    sleep 0.05
  done
  echo "the hub did not report its port within 10 s" >&2
  return 1
}

stop_hub() {
  local signal="${1:-TERM}"
  if [ -n "$HUB_PID" ] && kill -0 "$HUB_PID" 2>/dev/null; then
    kill "-$signal" "$HUB_PID" 2>/dev/null || true
    wait "$HUB_PID" 2>/dev/null || true
  fi
  HUB_PID=""
}

# new_token ORG NAME [ROLE]: a token's secret; a coordinator's unless ROLE is given.
new_token() {
  "$MUFAKAT_HUB" token create --data "$HUB_DATA" --org "$1" --name "$2" --role "${3:-coordinator}" --json |
    sed -n 's/.*"token":"\([^"]*\)".*/\1/p'
}

hub_key() {
  "$MUFAKAT_HUB" status --data "$HUB_DATA" --json |
    python3 -c 'import json, sys; tls = json.load(sys.stdin)["tls"]; print("insecure" if tls is None else tls["key"])'
}

hub_trust() {
  "$MUFAKAT_HUB" status --data "$HUB_DATA" --json |
    python3 -c 'import json, sys; tls = json.load(sys.stdin)["tls"]; print("--insecure" if tls is None else "--hub-key " + tls["key"])'
}

new_replica() {
  local home="$1" org="$2" name="$3" role="${4:-coordinator}"
  # shellcheck disable=SC2046 # hub_trust prints an option and its value
  "$MUFAKAT" init --home "$home" --hub "$HUB_ADDR" $(hub_trust) --token "$(new_token "$org" "$name" "$role")" --name "$name" >/dev/null
}

mf() {
  local home="$1"
  shift
  "$MUFAKAT" "$@" --home "$home"
}

# --- assertions for scenario scripts -------------------------------------------------

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

expect_eq() {
  local what="$1" expected="$2" actual="$3"
  [ "$expected" = "$actual" ] || fail "$what: expected '$expected', got '$actual'"
}

hub_digest() {
  "$MUFAKAT_HUB" digest --data "$HUB_DATA"
}

# expect_converged HOME...: every replica's digest equals the hub's.
expect_converged() {
  local hub
  hub=$(hub_digest)
  for home in "$@"; do
    expect_eq "digest of $(basename "$home")" "$hub" "$(mf "$home" digest)"
  done
}

# json_field NAME: the first numeric or string value of "NAME" in JSON on stdin.
json_field() {
  sed -n "s/.*\"$1\":\"\{0,1\}\([^,\"}]*\)\"\{0,1\}[,}].*/\1/p" | head -n 1
}

# sync_until_done HOME [ATTEMPTS]: sync, retrying after network failures (exit 69 or 76).
sync_until_done() {
  local home="$1" attempts="${2:-50}" code
  for _ in $(seq 1 "$attempts"); do
    code=0
    mf "$home" sync --timeout 10 >/dev/null 2>&1 || code=$?
    [ "$code" = 0 ] && return 0
    case "$code" in 69 | 76) SYNC_FAILURES=$((${SYNC_FAILURES:-0} + 1)) ;; *) fail "sync of $home exited $code" ;; esac
  done
  fail "sync of $home did not complete in $attempts attempts"
}

# field_value HOME COLLECTION ID FIELD: the displayed value of one field of a record on a
# replica ("" when the record or the field is missing).
field_value() {
  mf "$1" get "$2" "$3" --json 2>/dev/null |
    python3 -c 'import json, sys
try: v = json.load(sys.stdin)["fields"].get(sys.argv[1])
except Exception: v = None
print("" if v is None else v)' "$4"
}

# replica_id HOME: the replica id a replica syncs as.
replica_id() {
  mf "$1" status --json | json_field replica
}
