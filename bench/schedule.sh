#!/usr/bin/env bash
# Benchmark: schedule a 50-task plan onto Google Calendar (the fake Google, every call delayed by
# LATENCY_MS), then schedule it again (every event unchanged), then after moving it a day (every
# event updated).
#
#   bash bench/schedule.sh                       # SQLite, 50 ms per Google call, 5 rounds each
#   LATENCY_MS=50 ROUNDS=5 bash bench/schedule.sh
#
# Everything runs on 127.0.0.1 and stops by itself. docs/BENCHMARKS.md records the results.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
latency_ms=${LATENCY_MS:-50}
rounds=${ROUNDS:-5}
fake_port=${FAKE_PORT:-18290}
google_port=$((fake_port + 1))
app_port=${APP_PORT:-18292}
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
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }

cd "$root"
cargo build --release --quiet -p planwright -p planwright-tests --bins

target/release/planwright-fakes --port "$fake_port" --google-port "$google_port" >"$work/fake.log" 2>&1 &
pids+=($!)
google="http://127.0.0.1:$google_port"
wait_for "$google/_fake/requests"

PLANWRIGHT_ENV=test \
PLANWRIGHT_CONFIG_DIR="$root/config" \
PLANWRIGHT__SERVER__PORT="$app_port" \
PLANWRIGHT__SERVER__WORKERS=0 \
PLANWRIGHT__DATABASE__URL="${BENCH_DATABASE_URL:-sqlite://$work/bench.db?mode=rwc}" \
PLANWRIGHT__GOOGLE__CLIENT_ID=fake-client-id.apps.googleusercontent.com \
PLANWRIGHT__GOOGLE__CLIENT_SECRET=fake-client-secret \
PLANWRIGHT__GOOGLE__REDIRECT_URI="http://127.0.0.1:$app_port/api/v1/calendar/google/callback" \
PLANWRIGHT__GOOGLE__FRONTEND_ORIGINS="http://127.0.0.1:$app_port" \
PLANWRIGHT__GOOGLE__AUTH_URL="$google/o/oauth2/v2/auth" \
PLANWRIGHT__GOOGLE__TOKEN_URL="$google/token" \
PLANWRIGHT__GOOGLE__REVOKE_URL="$google/revoke" \
PLANWRIGHT__GOOGLE__CALENDAR_BASE_URL="$google/calendar/v3" \
PLANWRIGHT__LOG__FILTER=error \
  target/release/planwright serve >"$work/app.log" 2>&1 &
pids+=($!)
api="http://127.0.0.1:$app_port/api/v1"
wait_for "http://127.0.0.1:$app_port/ready"

token=$(curl -fsS -X POST "$api/auth/register" -H 'content-type: application/json' \
  -d '{"email":"bench@example.com","password":"bench-password-1","timezone":"Europe/Berlin"}' | json 'd["access_token"]')
auth=(-H "authorization: Bearer $token")

# Connect Google: authorize -> the fake's consent (answers at once) -> our callback.
consent=$(curl -fsS "${auth[@]}" "$api/calendar/google/authorize" | json 'd["authorization_url"]')
callback=$(curl -fsS -o /dev/null -w '%{redirect_url}' "$consent")
curl -fsS -o /dev/null "$callback"

# 25 days from the offline planner: a block and a check-in a day, 49 tasks; one more makes 50.
plan=$(curl -fsS "${auth[@]}" -H 'content-type: application/json' -X POST "$api/plans" \
  -d '{"goal":"Prepare the algorithms exam","duration_days":25}')
plan_id=$(echo "$plan" | json 'd["id"]')
echo "$plan" | python3 -c '
import json, sys
plan = json.load(sys.stdin)
tasks = [{k: t[k] for k in ("id", "title", "description", "day_offset", "duration_minutes")} for t in plan["tasks"]]
tasks.append({"title": "Final mock exam", "description": "Timed, closed book.", "day_offset": 24, "duration_minutes": 120})
print(json.dumps({"tasks": tasks}))' >"$work/edit.json"
curl -fsS -o /dev/null "${auth[@]}" -H 'content-type: application/json' -X PATCH "$api/plans/$plan_id" -d @"$work/edit.json"
tasks=$(curl -fsS "${auth[@]}" "$api/plans/$plan_id" | json 'len(d["tasks"])')

curl -fsS -o /dev/null -X POST "$google/_fake/latency" -H 'content-type: application/json' -d "{\"ms\": $latency_ms}"
monday=$(python3 -c 'import datetime as d; t=d.date.today()+d.timedelta(days=7); print(t+d.timedelta(days=(7-t.weekday())%7))')
tuesday=$(python3 -c "import datetime as d; print(d.date.fromisoformat('$monday')+d.timedelta(days=1))")

run() { # label, start date
  local times=()
  for _ in $(seq 1 "$rounds"); do
    curl -fsS -o "$work/out.json" -w '%{time_total}\n' "${auth[@]}" -H 'content-type: application/json' \
      -X POST "$api/plans/$plan_id/schedule" -d "{\"start_date\":\"$2\"}" >>"$work/times"
    times+=("$(tail -1 "$work/times")")
    python3 - "$work/out.json" <<'PY'
import collections, json, sys
r = json.load(open(sys.argv[1]))
print("   ", dict(collections.Counter(e["status"] for e in r["events"])), "unscheduled:", len(r["unscheduled"]))
PY
  done
  printf '== %s: %s\n' "$1" "${times[*]}"
}

echo "== $tasks tasks, Google latency ${latency_ms} ms per call, database ${BENCH_DATABASE_URL:-sqlite}"
run "first schedule, then re-runs (seconds each)" "$monday"
run "moved a day, then re-runs (seconds each)" "$tuesday"
calls=$(curl -fsS "$google/_fake/requests" | json 'len(d)')
echo "Google calls in all: $calls"
