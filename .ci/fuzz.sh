#!/usr/bin/env bash
# API fuzz run: for each database (SQLite, then PostgreSQL), start the release server on a fresh
# database, register a user, and let schemathesis drive every operation of /openapi.json with
# that user's bearer token. Generated strings include NUL and the other control characters
# (.ci/schemathesis.toml), which PostgreSQL refuses to store: the server must answer them with a
# 422, never a 5xx. The PostgreSQL database (planwright_fuzz_<pid>) is dropped afterwards.
# Fails on any 5xx, any response that breaks the documented schema, status codes, content types
# or headers, and any invalid input that is accepted. Not checked: that every schema-valid input
# is accepted — the server validates more than JSON Schema can say (IANA zone names, a working
# day's start before its end), so such inputs rightly get a documented 422.
#
# Usage: .ci/fuzz.sh [max-examples [max-examples-on-postgres]]
#   FUZZ_DATABASES="sqlite postgres" (default; either alone works), PG_ADMIN_URL (default
#   postgres://postgres@127.0.0.1:5432/test), FUZZ_WORKERS (default 1). Needs
#   target/release/planwright, python3 and, for PostgreSQL, psql.
#
# One worker by default: schemathesis's workers are threads, and CPython 3.11 (this machine's)
# keeps one AST recursion counter for all of them, so two threads parsing at once can stop the
# run with "SystemError: AST constructor recursion depth mismatch" (CPython gh-106905), a
# failure of the tool that says nothing about the server. The generation is bound by the GIL,
# so a second thread bought little. The version is pinned so that every run draws the same
# cases from the same seed.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
examples=${1:-${FUZZ_MAX_EXAMPLES:-100}}
pg_examples=${2:-${FUZZ_PG_MAX_EXAMPLES:-$examples}}
databases=${FUZZ_DATABASES:-sqlite postgres}
pg_admin_url=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/test}
port=${FUZZ_PORT:-18090}
work=$(mktemp -d)
venv=${SCHEMATHESIS_VENV:-$root/target/schemathesis-venv}
server_pid=""
pg_db=""

stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
}

drop_pg_db() {
  if [ -n "$pg_db" ]; then
    psql -X -q "$pg_admin_url" -c "DROP DATABASE IF EXISTS \"$pg_db\" WITH (FORCE)" >/dev/null 2>&1 ||
      echo "fuzz: could not drop database $pg_db"
    pg_db=""
  fi
}

cleanup() {
  stop_server
  drop_pg_db
  rm -rf "$work"
}
trap cleanup EXIT

if [ ! -x "$venv/bin/schemathesis" ]; then
  echo "fuzz: installing schemathesis into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'schemathesis==4.32.5'
fi
"$venv/bin/schemathesis" --version

# fuzz_on NAME DATABASE_URL EXAMPLES: one whole run against a server on that database.
fuzz_on() {
  local name=$1 url=$2 examples=$3 log="$work/server-$1.log"
  echo "fuzz: $name ($examples examples per operation)"
  # Generous auth limits so the fuzzer explores instead of meeting 429 (a documented answer anyway).
  # A Google OAuth client is configured so the connect route answers; Google itself is never
  # contacted (the fuzzed user connects no Google calendar; the callback only sees forged states).
  PLANWRIGHT_ENV=test \
  PLANWRIGHT_CONFIG_DIR="$root/config" \
  PLANWRIGHT__SERVER__PORT="$port" \
  PLANWRIGHT__SERVER__WORKERS=2 \
  PLANWRIGHT__DATABASE__URL="$url" \
  PLANWRIGHT__RATE_LIMIT__PER_IP=1000000 \
  PLANWRIGHT__RATE_LIMIT__PER_ACCOUNT=1000000 \
  PLANWRIGHT__RATE_LIMIT__AI_PER_USER=1000000 \
  PLANWRIGHT__LOG__FILTER=error \
  PLANWRIGHT__GOOGLE__CLIENT_ID=fuzz-client.apps.googleusercontent.com \
  PLANWRIGHT__GOOGLE__CLIENT_SECRET=fuzz-secret \
    "$root/target/release/planwright" serve >"$log" 2>&1 &
  server_pid=$!

  local base="http://127.0.0.1:$port" token status=0
  for _ in $(seq 1 100); do
    if curl -fsS "$base/ready" >/dev/null 2>&1; then break; fi
    if ! kill -0 "$server_pid" 2>/dev/null; then cat "$log"; echo "fuzz: server died"; return 1; fi
    sleep 0.1
  done
  curl -fsS "$base/ready" >/dev/null

  token=$(curl -fsS -X POST "$base/api/v1/auth/register" -H 'content-type: application/json' \
    -d '{"email":"fuzzer@example.com","password":"fuzzer-password-1"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

  run() {
    "$venv/bin/schemathesis" --config-file "$root/.ci/schemathesis.toml" run "$base/openapi.json" \
      --header "Authorization: Bearer $token" \
      --checks all \
      --exclude-checks positive_data_acceptance,ensure_resource_availability \
      --max-examples "$examples" \
      --workers "${FUZZ_WORKERS:-1}" \
      --request-timeout 10 \
      --seed 20261121 \
      --no-color \
      "$@"
  }

  # Everything but account deletion first, then deletion on its own (it ends the fuzzer's account).
  run --exclude-operation-id delete_me || status=1
  run --include-operation-id delete_me || status=1
  stop_server

  if grep -qi "panicked" "$log"; then
    echo "fuzz: the server panicked on $name:"; grep -i -A5 panicked "$log"; status=1
  fi
  # The fuzzer's own checks fail on a 5xx; the log names the cause for whoever reads the failure.
  if grep -q "request failed with an internal error" "$log"; then
    echo "fuzz: internal errors on $name:"; grep "request failed with an internal error" "$log" | head -5; status=1
  fi
  return "$status"
}

status=0
for database in $databases; do
  case $database in
    sqlite) fuzz_on sqlite "sqlite://$work/fuzz.db?mode=rwc" "$examples" || status=1 ;;
    postgres)
      pg_db="planwright_fuzz_$$"
      psql -X -q "$pg_admin_url" -c "CREATE DATABASE \"$pg_db\"" >/dev/null
      fuzz_on postgres "${pg_admin_url%/*}/$pg_db" "$pg_examples" || status=1
      drop_pg_db
      ;;
    *) echo "fuzz: unknown database $database (sqlite or postgres)"; status=1 ;;
  esac
done

if [ "$status" -eq 0 ]; then echo "fuzz: passed"; else echo "fuzz: FAILED"; fi
exit "$status"
