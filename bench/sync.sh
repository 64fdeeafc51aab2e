#!/usr/bin/env bash
# Benchmark: Google Calendar sync at scale against the fake Google (answering at once): a full
# sync of EVENTS events (the sync token made stale, so Google answers 410 and Planwright lists
# everything again), then an incremental sync of 10 changes (5 edits, 3 new, 2 deleted).
# Prints the seconds each took and the requests the fake Google received for it.
#
#   bash bench/sync.sh                       # SQLite, 10,000 events
#   EVENTS=10000 BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench bash bench/sync.sh
#
# Everything runs on 127.0.0.1 and stops by itself. docs/BENCHMARKS.md records the results.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
events=${EVENTS:-10000}
fake_port=${FAKE_PORT:-18590}
google_port=$((fake_port + 1))
app_port=${APP_PORT:-18592}
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
PLANWRIGHT__CALENDAR__SYNC_PAST_DAYS=200 \
PLANWRIGHT__CALENDAR__SYNC_FUTURE_DAYS=200 \
PLANWRIGHT__LOG__FILTER=error \
  target/release/planwright serve >"$work/app.log" 2>&1 &
pids+=($!)
api="http://127.0.0.1:$app_port/api/v1"
wait_for "http://127.0.0.1:$app_port/ready"

token=$(curl -fsS -X POST "$api/auth/register" -H 'content-type: application/json' \
  -d '{"email":"bench@example.com","password":"bench-password-1","timezone":"UTC"}' | json 'd["access_token"]')
auth=(-H "authorization: Bearer $token")

# Connect Google with an empty calendar and wait for the first (background) sync.
consent=$(curl -fsS "${auth[@]}" "$api/calendar/google/authorize" | json 'd["authorization_url"]')
callback=$(curl -fsS -o /dev/null -w '%{redirect_url}' "$consent")
curl -fsS -o /dev/null "$callback"
connection=""
for _ in $(seq 1 200); do
  connection=$(curl -fsS "${auth[@]}" "$api/calendar/connections" |
    json '[c["id"] for c in d["items"] if c["provider"] == "google" and c.get("last_synced_at")][0] if any(c["provider"] == "google" and c.get("last_synced_at") for c in d["items"]) else ""')
  [ -n "$connection" ] && break
  sleep 0.05
done
[ -n "$connection" ] || { echo "bench: the first sync did not finish"; exit 1; }

# Seed the fake Google: EVENTS events over ±180 days, 15–180 minutes long (one keep-alive connection).
python3 - "$google_port" "$events" "$work/ids" <<'PY'
import datetime as dt, http.client, json, random, sys
port, count, ids_path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rng = random.Random(42)
now = dt.datetime.now(dt.timezone.utc).replace(second=0, microsecond=0)
conn = http.client.HTTPConnection("127.0.0.1", port)
ids = []
for i in range(count):
    start = now - dt.timedelta(days=180) + dt.timedelta(minutes=15 * rng.randrange(360 * 24 * 4))
    end = start + dt.timedelta(minutes=15 * rng.randint(1, 12))
    body = json.dumps({"summary": f"Event {i}", "start": {"dateTime": start.isoformat()},
                       "end": {"dateTime": end.isoformat()}})
    conn.request("POST", "/_fake/calendars/primary/events", body, {"content-type": "application/json"})
    response = conn.getresponse()
    ids.append(json.loads(response.read())["id"])
open(ids_path, "w").write("\n".join(ids))
PY

listed() { curl -fsS "$google/_fake/requests" | json 'sum(1 for r in d if r["method"] == "GET" and r["path"].endswith("/events"))'; }
timed_sync() { # label
  local before after seconds body
  before=$(listed)
  seconds=$(curl -fsS -o "$work/sync.json" -w '%{time_total}' "${auth[@]}" -H 'content-type: application/json' \
    -X POST "$api/calendar/sync" -d "{\"connection_id\":\"$connection\"}")
  after=$(listed)
  body=$(json '[(r["status"], r["added"], r["updated"], r["removed"]) for r in d["results"]]' <"$work/sync.json")
  printf '== %s: %s s, %s list requests to Google; (status, added, updated, removed) = %s\n' \
    "$1" "$seconds" "$((after - before))" "$body"
}

# Full sync: Google forgets the sync token (410), Planwright lists every event again.
curl -fsS -o /dev/null -X POST "$google/_fake/invalidate-sync-tokens" -H 'content-type: application/json' -d '{}'
timed_sync "full sync of $events events"

# Incremental: 5 edits, 3 new events, 2 deletions.
mapfile -t ids <"$work/ids"
for id in "${ids[@]:0:5}"; do
  curl -fsS -o /dev/null -X PATCH "$google/_fake/calendars/primary/events/$id" \
    -H 'content-type: application/json' -d '{"summary":"Edited"}'
done
for id in "${ids[@]:5:2}"; do curl -fsS -o /dev/null -X DELETE "$google/_fake/calendars/primary/events/$id"; done
for i in 1 2 3; do
  start=$(date -u -d "+$i day" +%FT10:00:00Z)
  end=$(date -u -d "+$i day" +%FT11:00:00Z)
  curl -fsS -o /dev/null -X POST "$google/_fake/calendars/primary/events" -H 'content-type: application/json' \
    -d "{\"summary\":\"New $i\",\"start\":{\"dateTime\":\"$start\"},\"end\":{\"dateTime\":\"$end\"}}"
done
timed_sync "incremental sync of 10 changes"
