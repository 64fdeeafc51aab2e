#!/usr/bin/env bash
# API fuzz run: start the release server on a fresh SQLite database, register a user, and let
# schemathesis drive every operation of /openapi.json with that user's bearer token.
# Fails on any 5xx, any response that breaks the documented schema, status codes, content types
# or headers, and any invalid input that is accepted. Not checked: that every schema-valid input
# is accepted — the server validates more than JSON Schema can say (IANA zone names, a working
# day's start before its end), so such inputs rightly get a documented 422.
#
# Usage: .ci/fuzz.sh [max-examples]     (needs target/release/planwright and python3)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
examples=${1:-${FUZZ_MAX_EXAMPLES:-100}}
port=${FUZZ_PORT:-18090}
work=$(mktemp -d)
venv=${SCHEMATHESIS_VENV:-$root/target/schemathesis-venv}
server_pid=""

cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

if [ ! -x "$venv/bin/schemathesis" ]; then
  echo "fuzz: installing schemathesis into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'schemathesis>=4.3,<5'
fi
"$venv/bin/schemathesis" --version

# Generous auth limits so the fuzzer explores instead of meeting 429 (a documented answer anyway).
# A Google OAuth client is configured so the connect route answers; Google itself is never
# contacted (the fuzzed user connects no Google calendar; the callback only sees forged states).
PLANWRIGHT_ENV=test \
PLANWRIGHT_CONFIG_DIR="$root/config" \
PLANWRIGHT__SERVER__PORT="$port" \
PLANWRIGHT__SERVER__WORKERS=2 \
PLANWRIGHT__DATABASE__URL="sqlite://$work/fuzz.db?mode=rwc" \
PLANWRIGHT__RATE_LIMIT__PER_IP=1000000 \
PLANWRIGHT__RATE_LIMIT__PER_ACCOUNT=1000000 \
PLANWRIGHT__RATE_LIMIT__AI_PER_USER=1000000 \
PLANWRIGHT__LOG__FILTER=error \
PLANWRIGHT__GOOGLE__CLIENT_ID=fuzz-client.apps.googleusercontent.com \
PLANWRIGHT__GOOGLE__CLIENT_SECRET=fuzz-secret \
  "$root/target/release/planwright" serve >"$work/server.log" 2>&1 &
server_pid=$!

base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  if curl -fsS "$base/ready" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then cat "$work/server.log"; echo "fuzz: server died"; exit 1; fi
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
    --workers 2 \
    --request-timeout 10 \
    --seed 20261121 \
    --no-color \
    "$@"
}

status=0
# Everything but account deletion first, then deletion on its own (it ends the fuzzer's account).
run --exclude-operation-id delete_me || status=1
run --include-operation-id delete_me || status=1

if grep -qi "panicked" "$work/server.log"; then
  echo "fuzz: the server panicked:"; grep -i -A5 panicked "$work/server.log"; status=1
fi
if [ "$status" -eq 0 ]; then echo "fuzz: passed"; else echo "fuzz: FAILED"; fi
exit "$status"
