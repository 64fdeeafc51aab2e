#!/usr/bin/env bash
# Benchmark: concurrent POST /api/v1/plans against a fake Gemini that answers after 200 ms.
#
# The ideal is concurrency / latency (200 / 0.2 s = 1000 requests/s): every request spends its
# time waiting on the AI, so the server must keep all of them in flight without blocking.
#
#   bash bench/plans.sh                                   # SQLite, 200 concurrent, 4000 requests
#   CONCURRENCY=200 REQUESTS=4000 LATENCY_MS=200 bash bench/plans.sh
#   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench bash bench/plans.sh
#
# Everything runs on 127.0.0.1 and stops by itself. Results go to stdout; docs/BENCHMARKS.md
# records them.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
concurrency=${CONCURRENCY:-200}
requests=${REQUESTS:-4000}
latency_ms=${LATENCY_MS:-200}
fake_port=${FAKE_PORT:-18190}
app_port=${APP_PORT:-18191}
work=$(mktemp -d)
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

wait_for() {
  for _ in $(seq 1 200); do curl -fsS "$1" >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "bench: $1 did not come up"; return 1
}

cd "$root"
cargo build --release --quiet -p planwright -p planwright-tests --bins

target/release/planwright-fakes --port "$fake_port" >"$work/fake.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$fake_port/_fake/requests"
curl -fsS -X POST "http://127.0.0.1:$fake_port/_fake/latency" -H 'content-type: application/json' \
  -d "{\"ms\": $latency_ms}" >/dev/null

database_url=${BENCH_DATABASE_URL:-"sqlite://$work/bench.db?mode=rwc"}
PLANWRIGHT_ENV=test \
PLANWRIGHT_CONFIG_DIR="$root/config" \
PLANWRIGHT__SERVER__PORT="$app_port" \
PLANWRIGHT__SERVER__WORKERS=0 \
PLANWRIGHT__DATABASE__URL="$database_url" \
PLANWRIGHT__DATABASE__MAX_CONNECTIONS=32 \
PLANWRIGHT__AI__PROVIDER=gemini \
PLANWRIGHT__AI__GEMINI_BASE_URL="http://127.0.0.1:$fake_port" \
PLANWRIGHT__AI__GEMINI_API_KEY=fake-gemini-key \
PLANWRIGHT__AI__DAILY_TOKEN_BUDGET=0 \
PLANWRIGHT__RATE_LIMIT__AI_PER_USER=100000000 \
PLANWRIGHT__LOG__FILTER=error \
  target/release/planwright serve >"$work/app.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$app_port/ready"

token=$(curl -fsS -X POST "http://127.0.0.1:$app_port/api/v1/auth/register" -H 'content-type: application/json' \
  -d "{\"email\":\"bench-$RANDOM@example.com\",\"password\":\"bench-password-1\"}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

body='{"goal":"Learn FastAPI","duration_days":3,"context":{"notes":"evenings only"}}'
echo "== warm-up"
target/release/planwright-load --url "http://127.0.0.1:$app_port/api/v1/plans" --token "$token" \
  --body "$body" --concurrency "$concurrency" --requests "$concurrency" >/dev/null
echo "== POST /api/v1/plans: $concurrency concurrent, $requests requests, AI latency ${latency_ms} ms, database ${database_url%%:*}"
target/release/planwright-load --url "http://127.0.0.1:$app_port/api/v1/plans" --token "$token" \
  --body "$body" --concurrency "$concurrency" --requests "$requests"
echo "ideal: $(( concurrency * 1000 / latency_ms )) requests/s"
