#!/usr/bin/env bash
# Side-by-side benchmark: the Python/FastAPI stack Planwright replaces (the anchor), Planwright
# with 1 and 2 workers, and a bare actix-web hello world, one after the other with the same data,
# the same wrk command and the same fake Gemini. Prints one markdown table with the ratios, then
# the scale rows (Planwright alone at 10k/100k events and 50/1,000 messages).
#
#   bash bench/compare.sh                                  # everything, 10 s per row (~15 min)
#   DURATION=2s bash bench/compare.sh                      # a quick check
#   ROWS="health upcoming" SCALE=0 DURATION=5s bash bench/compare.sh
#   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres bash bench/compare.sh
#
# Environment (defaults in brackets):
#   DURATION [10s]   wrk -d for each row        WARMUP [2s]       wrk -t1 -c2 before each row
#   CONNS [64]       wrk -c                     THREADS [2]       wrk -t
#   ROWS             [health history upcoming busy chat_0ms chat_200ms breakdown_200ms plan_200ms]
#   SYSTEMS          [anchor planwright hello]  which columns to run
#   PW_WORKERS [1 2] Planwright worker counts   ANCHOR_WORKERS [2] uvicorn worker counts
#   SCALE [1]        also run the scale rows    SCALE_WORKERS [2] Planwright workers for them
#   EVENTS [10000]   MESSAGES [50]              SCALE_EVENTS [100000]  SCALE_MESSAGES [1000]
#   ANCHOR_DIR       [../shared/anchors/fastapi_ref beside the repository]
#   BENCH_DIR        [target/bench-compare]: Python venv (kept), results/<run>/ (raw wrk output)
#   BENCH_DATABASE_URL  Planwright on PostgreSQL: an admin URL; each row gets a fresh database
#                       (the anchor always uses SQLite, as its documents do)
#
# Every server binds 127.0.0.1, is started fresh for each row on a freshly filled database and
# is stopped after it; every load is bounded (wrk -d inside `timeout`). Needs python3, wrk
# (installed with apt-get when missing), cargo; pip installs the anchor's locked dependencies
# into BENCH_DIR/venv on the first run.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
ROWS=${ROWS:-"health history upcoming busy chat_0ms chat_200ms breakdown_200ms plan_200ms"}
SYSTEMS=${SYSTEMS:-"anchor planwright hello"}
PW_WORKERS=${PW_WORKERS:-"1 2"}
ANCHOR_WORKERS=${ANCHOR_WORKERS:-2}
SCALE=${SCALE:-1}
SCALE_WORKERS=${SCALE_WORKERS:-2}
EVENTS=${EVENTS:-10000}
MESSAGES=${MESSAGES:-50}
SCALE_EVENTS=${SCALE_EVENTS:-100000}
SCALE_MESSAGES=${SCALE_MESSAGES:-1000}
ANCHOR_DIR=${ANCHOR_DIR:-$(cd "$root/.." && pwd)/shared/anchors/fastapi_ref}
BENCH_DIR=${BENCH_DIR:-$root/target/bench-compare}
PG_ADMIN=${BENCH_DATABASE_URL:-}
APP_PORT=${APP_PORT:-18400}
FAKE_PORT=${FAKE_PORT:-18490}
HOST=127.0.0.1
EMAIL=bench@example.com
PASSWORD=bench-password-1

run_id=$(date -u +%Y%m%dT%H%M%SZ)
out=$BENCH_DIR/results/$run_id
work=$(mktemp -d)
mkdir -p "$out"
results=$out/results.tsv
printf 'system\tworkers\trow\tdata\trps\tp50_ms\tp99_ms\terrors\trss_mib\n' >"$results"

# ------------------------------------------------------------------ prerequisites
[ -d "$ANCHOR_DIR/backend" ] || { echo "compare: no anchor at $ANCHOR_DIR (set ANCHOR_DIR)" >&2; exit 1; }
if ! command -v wrk >/dev/null 2>&1; then
  apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi
venv=$BENCH_DIR/venv
if [ ! -x "$venv/bin/uvicorn" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q -r "$ANCHOR_DIR/requirements.lock.txt"
fi
PY=$venv/bin/python
export PYTHONWARNINGS=ignore PYTHONDONTWRITEBYTECODE=1
cargo build --release --quiet -p planwright -p planwright-tests --bins

# ------------------------------------------------------------------ processes
fake_pid="" app_pid=""
stop_app() {
  [ -n "$app_pid" ] || return 0
  local children
  children=$(pgrep -P "$app_pid" || true)
  kill -TERM "$app_pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$app_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$app_pid" 2>/dev/null || true
  for child in $children; do kill -KILL "$child" 2>/dev/null || true; done
  wait "$app_pid" 2>/dev/null || true
  app_pid=""
}
cleanup() {
  stop_app
  if [ -n "$fake_pid" ]; then kill "$fake_pid" 2>/dev/null || true; wait "$fake_pid" 2>/dev/null || true; fi
  drop_pg_dbs
  rm -rf "$work"
}
trap cleanup EXIT

wait_http() { # url, seconds
  for _ in $(seq 1 $(($2 * 10))); do
    curl -sf -o /dev/null --max-time 1 "$1" && return 0
    sleep 0.1
  done
  echo "compare: $1 did not answer" >&2
  return 1
}
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }

# Peak RSS (VmHWM) in MiB: of the process, or with several workers the largest one.
peak_rss() {
  local pids="$app_pid $(pgrep -P "$app_pid" | tr '\n' ' ')" best=0 kb
  for pid in $pids; do
    kb=$(awk '/^VmHWM/{print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    [ "${kb:-0}" -gt "$best" ] && best=$kb
  done
  awk -v kb="$best" 'BEGIN{printf "%.1f", kb/1024}'
}

"$PY" "$ANCHOR_DIR/mini_fake_gemini.py" --port "$FAKE_PORT" >"$out/fake_gemini.log" 2>&1 &
fake_pid=$!
wait_http "http://$HOST:$FAKE_PORT/_fake/stats" 30
fake_latency() { curl -sf --max-time 5 -X POST "http://$HOST:$FAKE_PORT/_fake/config" -d "{\"latency_ms\": $1}" >/dev/null; }

# ------------------------------------------------------------------ rows
latency_of() { case $1 in *_200ms) echo 200 ;; *) echo 0 ;; esac; }

# measure system workers row data url [wrk args...]
measure() {
  local system=$1 workers=$2 row=$3 data=$4 url=$5
  shift 5
  local tag="${system}_w${workers}_${row}_${data}"
  timeout 60 wrk -t1 -c2 -d"$WARMUP" "$@" "$url" >"$out/$tag.warmup.txt" 2>&1 || true
  timeout 300 wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --timeout 30s --latency "$@" "$url" \
    >"$out/$tag.wrk.txt" 2>&1 || echo "wrk exit $?" >>"$out/$tag.wrk.txt"
  local rss
  rss=$(peak_rss)
  python3 - "$out/$tag.wrk.txt" "$system" "$workers" "$row" "$data" "$rss" >>"$results" <<'PY'
import re, sys
path, system, workers, row, data, rss = sys.argv[1:]
text = open(path).read()
def ms(value):
    number, unit = re.match(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]
rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
p50 = re.search(r"^\s+50%\s+(\S+)", text, re.M)
p99 = re.search(r"^\s+99%\s+(\S+)", text, re.M)
errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", text))
socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
if socket:
    errors += sum(int(n) for n in socket.groups())
print("\t".join([system, workers, row, data, rps.group(1) if rps else "0",
                 f"{ms(p50.group(1)):.2f}" if p50 else "", f"{ms(p99.group(1)):.2f}" if p99 else "",
                 str(errors), rss]))
PY
  tail -n1 "$results" | awk -F'\t' '{printf "  %-10s w%s %-16s %-8s %10s rps  p99 %8s ms  errors %s  rss %s MiB\n", $1, $2, $3, $4, $5, $7, $8, $9}'
}

# ---- the anchor (its own fill script, uvicorn, its routes)
anchor_row() { # workers row
  local workers=$1 row=$2 path lua=() db="$work/anchor.db" extra=()
  case $row in
    health) path=/health ;;
    history) path=/api/v1/chat/bench-session/history ;;
    upcoming) path="/api/calendar/events/upcoming?limit=10&days=7" ;;
    chat_*) path=/api/v1/chat/; lua=(-s "$ANCHOR_DIR/wrk/post_chat.lua") ;;
    breakdown_*) path=/api/breakdown-task; lua=(-s "$ANCHOR_DIR/wrk/post_breakdown.lua") ;;
    plan_*) path=/generate-plan; lua=(-s "$ANCHOR_DIR/wrk/post_plan.lua") ;;
    *) return 0 ;; # the anchor has no busy-time read
  esac
  rm -f "$db"
  (cd "$ANCHOR_DIR" && "$PY" fill_db.py --database-url "sqlite:///$db" --events "$EVENTS" \
    --messages "$MESSAGES" --session-id bench-session >/dev/null)
  fake_latency "$(latency_of "$row")"
  [ "$workers" -gt 1 ] && extra=(--workers "$workers")
  (cd "$ANCHOR_DIR" && exec env DATABASE_URL="sqlite:///$db" GEMINI_API_KEY=fake-key \
    GEMINI_BASE_URL="http://$HOST:$FAKE_PORT" "$venv/bin/uvicorn" backend.main:app --host $HOST \
    --port "$APP_PORT" "${extra[@]}" >"$out/anchor_w${workers}_$row.log" 2>&1) &
  app_pid=$!
  wait_http "http://$HOST:$APP_PORT/health" 60
  [ "$workers" -gt 1 ] && sleep 2 # every worker up
  measure anchor "$workers" "$row" "$EVENTS" "http://$HOST:$APP_PORT$path" "${lua[@]}"
  stop_app
}

# ---- Planwright (fresh database, register, planwright-fill, bearer token)
# Each row's database is pw_bench_<pid>_<n>; the row's server is stopped before the next one
# starts, so the previous rows' databases are dropped then, and the last at exit. (This runs in
# a command substitution, so it keeps no state in variables.)
drop_pg_dbs() {
  [ -n "$PG_ADMIN" ] || return 0
  local db
  for db in $(psql -Atq "$PG_ADMIN" -c "SELECT datname FROM pg_database WHERE datname LIKE 'pw_bench_$$_%'" 2>/dev/null); do
    psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
  done
}
planwright_db() {
  if [ -z "$PG_ADMIN" ]; then
    rm -f "$work"/planwright.db*
    echo "sqlite://$work/planwright.db?mode=rwc"
    return
  fi
  drop_pg_dbs
  local pg_db="pw_bench_$$_$RANDOM"
  psql -q "$PG_ADMIN" -c "CREATE DATABASE $pg_db" >/dev/null
  echo "${PG_ADMIN%/*}/$pg_db"
}

planwright_row() { # workers row events messages
  local workers=$1 row=$2 events=$3 messages=$4 path lua=() url
  url=$(planwright_db)
  fake_latency 0
  PLANWRIGHT_ENV=development \
  PLANWRIGHT_CONFIG_DIR="$root/config" \
  PLANWRIGHT__SERVER__PORT="$APP_PORT" \
  PLANWRIGHT__SERVER__WORKERS="$workers" \
  PLANWRIGHT__DATABASE__URL="$url" \
  PLANWRIGHT__DATABASE__RUN_MIGRATIONS=true \
  PLANWRIGHT__RATE_LIMIT__ENABLED=false \
  PLANWRIGHT__AI__PROVIDER=gemini \
  PLANWRIGHT__AI__GEMINI_BASE_URL="http://$HOST:$FAKE_PORT" \
  PLANWRIGHT__AI__GEMINI_API_KEY=fake-key \
  PLANWRIGHT__AI__CHECK_MODEL=false \
  PLANWRIGHT__AI__DAILY_TOKEN_BUDGET=0 \
  PLANWRIGHT__CALENDAR__SYNC_INTERVAL_SECS=0 \
  PLANWRIGHT__KNOWLEDGE__DIR="$root/knowledge" \
  PLANWRIGHT__LOG__FILTER="info,sqlx=warn,sea_orm=warn" \
    target/release/planwright serve >"$out/planwright_w${workers}_${row}_$events.log" 2>&1 &
  app_pid=$!
  wait_http "http://$HOST:$APP_PORT/health" 60
  local api="http://$HOST:$APP_PORT/api/v1" token session plan
  token=$(curl -fsS -X POST "$api/auth/register" -H 'content-type: application/json' \
    -d "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\",\"timezone\":\"UTC\"}" | json 'd["access_token"]')
  session=$(target/release/planwright-fill --database-url "$url" --email "$EMAIL" --events "$events" \
    --messages "$messages" 2>>"$out/fill.log")
  case $row in
    health) path=/health ;;
    history) path=/api/v1/chat/$session/history ;;
    upcoming) path="/api/v1/calendar/events/upcoming?limit=10&days=7" ;;
    busy)
      plan=$(curl -fsS -X POST "$api/plans" -H "authorization: Bearer $token" -H 'content-type: application/json' \
        -d '{"goal": "Learn FastAPI in 2 days", "duration_days": 2}' | json 'd["id"]')
      path=/api/v1/plans/$plan/schedule
      lua=(-s "$root/bench/wrk/post_schedule_dry_run.lua")
      export BENCH_START_DATE
      BENCH_START_DATE=$(date -u -d tomorrow +%F) ;;
    chat_*) path=/api/v1/chat; lua=(-s "$root/bench/wrk/post_chat.lua") ;;
    breakdown_*) path=/api/v1/ai/breakdown; lua=(-s "$root/bench/wrk/post_breakdown.lua") ;;
    plan_*) path=/api/v1/plans; lua=(-s "$root/bench/wrk/post_plan.lua") ;;
  esac
  fake_latency "$(latency_of "$row")"
  local data=$events
  [ "$row" = history ] && data=$messages
  measure planwright "$workers" "$row" "$data" "http://$HOST:$APP_PORT$path" \
    -H "Authorization: Bearer $token" "${lua[@]}"
  stop_app
}

hello_row() { # workers
  target/release/planwright-hello --port "$APP_PORT" --workers "$1" >/dev/null 2>&1 &
  app_pid=$!
  wait_http "http://$HOST:$APP_PORT/health" 30
  measure hello "$1" health - "http://$HOST:$APP_PORT/health"
  stop_app
}

{
  echo "run: $run_id  date: $(date -u +%FT%TZ)  commit: $(git rev-parse --short HEAD 2>/dev/null || echo ?)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //') x $(nproc); load: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "wrk -t$THREADS -c$CONNS -d$DURATION --timeout 30s --latency (warm-up wrk -t1 -c2 -d$WARMUP)"
  echo "planwright database: $([ -n "$PG_ADMIN" ] && echo postgresql || echo sqlite); anchor: sqlite"
} | tee "$out/env.txt"

for row in $ROWS; do
  case " $SYSTEMS " in *" anchor "*) for w in $ANCHOR_WORKERS; do anchor_row "$w" "$row"; done ;; esac
  case " $SYSTEMS " in *" planwright "*)
    for w in $PW_WORKERS; do planwright_row "$w" "$row" "$EVENTS" "$MESSAGES"; done ;; esac
  if [ "$row" = health ]; then
    case " $SYSTEMS " in *" hello "*) for w in $PW_WORKERS; do hello_row "$w"; done ;; esac
  fi
done
if [ "$SCALE" = 1 ]; then
  for w in $SCALE_WORKERS; do
    planwright_row "$w" upcoming "$SCALE_EVENTS" "$MESSAGES"
    planwright_row "$w" busy "$SCALE_EVENTS" "$MESSAGES"
    planwright_row "$w" history "$EVENTS" "$SCALE_MESSAGES"
    # the same rows at the base size, unless the main table already has them
    case " $ROWS " in *" upcoming "*) ;; *) planwright_row "$w" upcoming "$EVENTS" "$MESSAGES" ;; esac
    case " $ROWS " in *" busy "*) ;; *) planwright_row "$w" busy "$EVENTS" "$MESSAGES" ;; esac
    case " $ROWS " in *" history "*) ;; *) planwright_row "$w" history "$EVENTS" "$MESSAGES" ;; esac
  done
fi
stop_app
drop_pg_dbs

python3 "$root/bench/compare_table.py" "$results" "$ANCHOR_WORKERS" "$PW_WORKERS" "$SCALE_WORKERS" \
  "$EVENTS" "$SCALE_EVENTS" "$MESSAGES" "$SCALE_MESSAGES" | tee "$out/summary.md"
echo "raw output: $out"
