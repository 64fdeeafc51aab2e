#!/usr/bin/env bash
# Soak test (not in CI): three replicas on PostgreSQL behind nginx, a fixed rate of mixed traffic
# for a fixed time, and every replica's resident memory sampled every 10 s.
#
#   nginx 127.0.0.1:18280 (deploy/nginx.local.conf with three upstreams)
#     -> planwright serve 127.0.0.1:18281 / :18282 / :18283
#          -> PostgreSQL 127.0.0.1:5432, a fresh database planwright_soak_<pid> (dropped after)
#
# Traffic (open loop: requests start on schedule whether or not earlier ones finished), per 100
# requests: 4 register (REGISTER_WEIGHT), 10 create plan, 8 list plans, 12 chat, 14 create task, 14 list tasks,
# 10 update task, 14 schedule dry run, 14 upcoming events. The AI is the built-in offline
# provider, so the numbers are Planwright's own, not Gemini's.
#
#   bash bench/soak.sh                         # 10 minutes at 20 requests/s
#   RATE=40 DURATION_SECS=300 bash bench/soak.sh
#
# Prints p50/p99 latency, requests and errors per minute, RSS per replica every 10 s and each
# replica's RSS growth after the warm-up (the first 2 minutes): the median of the last minute
# against the median of the first minute after the warm-up. Exit status 1 when any request
# failed (a 5xx, a timeout, or a status the operation never answers) or RSS grew by more than
# 10 % after the warm-up. Needs PostgreSQL (trust auth for user postgres), nginx, curl, python3,
# and target/release/planwright (built when missing).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
rate=${RATE:-20}
duration=${DURATION_SECS:-600}
warmup=${WARMUP_SECS:-120}
register_weight=${REGISTER_WEIGHT:-4}
pg=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
nginx_port=18280
ports=(18281 18282 18283)
db_name="planwright_soak_$$"
work=$(mktemp -d /tmp/planwright-soak.XXXXXX)
chmod 0711 "$work"
pids=()
nginx_pid=""
db_created=0

cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$nginx_pid" ]; then kill -QUIT "$nginx_pid" 2>/dev/null || true; wait "$nginx_pid" 2>/dev/null || true; fi
  if [ "$db_created" = 1 ]; then
    psql -X -q "$pg" -c "DROP DATABASE IF EXISTS \"$db_name\" WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  if [ -n "${KEEP_WORK-}" ]; then echo "soak: logs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

for tool in psql nginx curl python3; do
  command -v "$tool" >/dev/null || { echo "soak: $tool is missing (Debian: apt-get install -y nginx postgresql-client)"; exit 1; }
done

cd "$root"
if [ ! -x target/release/planwright ]; then cargo build --release --quiet -p planwright; fi

psql -X -q "$pg" -c "CREATE DATABASE \"$db_name\"" >/dev/null
db_created=1
export PLANWRIGHT_ENV=production
export PLANWRIGHT_CONFIG_DIR="$root/config"
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db_name"
PLANWRIGHT__AUTH__JWT_SECRET=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
PLANWRIGHT__SECURITY__ENCRYPTION_KEY=$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')
export PLANWRIGHT__AUTH__JWT_SECRET PLANWRIGHT__SECURITY__ENCRYPTION_KEY
export PLANWRIGHT__SERVER__HOST=127.0.0.1
export PLANWRIGHT__SERVER__WORKERS=2
export PLANWRIGHT__DATABASE__MAX_CONNECTIONS=10
export PLANWRIGHT__AI__PROVIDER=offline
export PLANWRIGHT__RATE_LIMIT__PER_IP=100000000
export PLANWRIGHT__RATE_LIMIT__PER_ACCOUNT=100000000
export PLANWRIGHT__RATE_LIMIT__AI_PER_USER=100000000
export PLANWRIGHT__LOG__FILTER=warn
target/release/planwright migrate up >"$work/migrate.log" 2>&1

for port in "${ports[@]}"; do
  PLANWRIGHT__SERVER__PORT=$port target/release/planwright serve >"$work/replica-$port.log" 2>&1 &
  pids+=($!)
done

mkdir -p "$work/nginx/logs" "$work/nginx/temp"
chmod 0711 "$work/nginx" "$work/nginx/temp"
sed -e "s/listen 127.0.0.1:18080;/listen 127.0.0.1:$nginx_port;/" \
    -e "s/server 127.0.0.1:18081 \(.*\);/server 127.0.0.1:${ports[0]} \1;\n        server 127.0.0.1:${ports[1]} \1;\n        server 127.0.0.1:${ports[2]} \1;/" \
    -e '/server 127.0.0.1:18082 /d' \
    -e 's/worker_connections 256;/worker_connections 1024;/' \
    deploy/nginx.local.conf >"$work/nginx/nginx.conf"
nginx -p "$work/nginx/" -c "$work/nginx/nginx.conf" -g 'daemon off;' >"$work/nginx.out" 2>&1 &
nginx_pid=$!

for url in "${ports[@]/#/http://127.0.0.1:}" "http://127.0.0.1:$nginx_port"; do
  for _ in $(seq 1 300); do curl -fsS "$url/ready" >/dev/null 2>&1 && break; sleep 0.1; done
  curl -fsS "$url/ready" >/dev/null || { echo "soak: $url did not become ready"; tail -5 "$work"/replica-*.log; exit 1; }
done

echo "soak: ${duration}s at ${rate} requests/s through nginx :$nginx_port to ${#ports[@]} replicas on PostgreSQL ($db_name)"
status=0
python3 - "http://127.0.0.1:$nginx_port" "$rate" "$duration" "$warmup" "$register_weight" "${pids[@]}" <<'PY' || status=$?
import datetime, http.client, json, random, statistics, sys, threading, time, uuid
from concurrent.futures import ThreadPoolExecutor

base, rate, duration, warmup = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
register_weight = int(sys.argv[5])
pids = [int(p) for p in sys.argv[6:]]
host, port = base.split("//")[1].split(":")
local = threading.local()
rng = random.Random(20261130)

def call(method, path, body=None, token=None):
    if not hasattr(local, "conn"):
        local.conn = http.client.HTTPConnection(host, int(port), timeout=30)
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    data = json.dumps(body) if body is not None else None
    for attempt in (0, 1):
        try:
            local.conn.request(method, path, body=data, headers=headers)
            response = local.conn.getresponse()
            return response.status, response.read()
        except (http.client.HTTPException, ConnectionError, OSError):
            local.conn.close()
            local.conn = http.client.HTTPConnection(host, int(port), timeout=30)
            if attempt:
                raise

def register():
    email = f"soak-{uuid.uuid4().hex}@example.com"
    status, body = call("POST", "/api/v1/auth/register", {"email": email, "password": "soak-password-1", "timezone": "Europe/Berlin"})
    return status, (json.loads(body)["access_token"] if status == 201 else None)

users = []
for _ in range(8):
    status, token = register()
    assert status == 201, status
    plan_status, plan = call("POST", "/api/v1/plans", {"goal": "Learn Rust", "duration_days": 3}, token)
    assert plan_status == 201, plan_status
    task_status, task = call("POST", "/api/v1/tasks", {"title": "Warm-up task"}, token)
    assert task_status == 201, task_status
    users.append({"token": token, "plan": json.loads(plan)["id"], "tasks": [json.loads(task)["id"]]})

def op_register(u):
    return register()[0], (201,)
def op_create_plan(u):
    s, b = call("POST", "/api/v1/plans", {"goal": f"Prepare talk {rng.randint(1, 999)}", "duration_days": rng.randint(1, 5)}, u["token"])
    if s == 201:
        u["plan"] = json.loads(b)["id"]
    return s, (201,)
def op_list_plans(u):
    return call("GET", "/api/v1/plans?limit=20", token=u["token"])[0], (200,)
def op_chat(u):
    return call("POST", "/api/v1/chat", {"message": "How should I split my study time?"}, u["token"])[0], (200,)
def op_create_task(u):
    s, b = call("POST", "/api/v1/tasks", {"title": "Read chapter", "estimate_minutes": 45, "due_at": "2026-12-20T17:00:00Z"}, u["token"])
    if s == 201:
        u["tasks"] = (u["tasks"] + [json.loads(b)["id"]])[-50:]
    return s, (201,)
def op_list_tasks(u):
    return call("GET", "/api/v1/tasks?limit=50", token=u["token"])[0], (200,)
def op_update_task(u):
    task = rng.choice(u["tasks"])
    return call("PATCH", f"/api/v1/tasks/{task}", {"status": rng.choice(["todo", "in_progress", "done"])}, u["token"])[0], (200,)
def op_schedule(u):
    start = (datetime.date.today() + datetime.timedelta(days=7)).isoformat()
    return call("POST", f"/api/v1/plans/{u['plan']}/schedule", {"start_date": start, "dry_run": True}, u["token"])[0], (200,)
def op_upcoming(u):
    return call("GET", "/api/v1/calendar/events/upcoming?limit=20&days=14", token=u["token"])[0], (200,)

mix = [(op_register, register_weight), (op_create_plan, 10), (op_list_plans, 8), (op_chat, 12), (op_create_task, 14),
       (op_list_tasks, 14), (op_update_task, 10), (op_schedule, 14), (op_upcoming, 14)]
ops = [op for op, weight in mix for _ in range(weight)]
results = []  # (offset seconds, op, status, latency ms, ok)
lock = threading.Lock()

def run(offset, op):
    user = rng.choice(users)
    started = time.monotonic()
    try:
        status, expected = op(user)
        ok = status in expected
    except Exception as error:  # a timeout or a broken connection is a failed request
        status, ok = f"exception {type(error).__name__}", False
    latency = (time.monotonic() - started) * 1000
    with lock:
        results.append((offset, op.__name__[3:], status, latency, ok))

def rss_kib(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None

samples = []  # (offset seconds, [rss KiB per replica])
stop = threading.Event()
def sample():
    t0 = start
    while not stop.is_set():
        samples.append((round(time.monotonic() - t0), [rss_kib(p) for p in pids]))
        stop.wait(10)

start = time.monotonic()
sampler = threading.Thread(target=sample, daemon=True)
sampler.start()
total = int(rate * duration)
with ThreadPoolExecutor(max_workers=64) as pool:
    for i in range(total):
        due = start + i / rate
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        pool.submit(run, i / rate, rng.choice(ops))
stop.set()
sampler.join()
samples.append((round(time.monotonic() - start), [rss_kib(p) for p in pids]))

def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else float("nan")

print("\nminute | requests | errors | p50 ms | p99 ms | max ms")
print("---|---|---|---|---|---")
for minute in range((duration + 59) // 60):
    rows = [r for r in results if minute * 60 <= r[0] < (minute + 1) * 60]
    lat = [r[3] for r in rows]
    print(f"{minute + 1} | {len(rows)} | {sum(not r[4] for r in rows)} | {pct(lat, 50):.1f} | {pct(lat, 99):.1f} | {max(lat, default=0):.1f}")
print("\noperation | requests | errors | p50 ms | p99 ms")
print("---|---|---|---|---")
for name in sorted({r[1] for r in results}):
    rows = [r for r in results if r[1] == name]
    lat = [r[3] for r in rows]
    print(f"{name} | {len(rows)} | {sum(not r[4] for r in rows)} | {pct(lat, 50):.1f} | {pct(lat, 99):.1f}")
errors = [r for r in results if not r[4]]
lat = [r[3] for r in results]
print(f"\nall: {len(results)} requests in {duration} s, {len(errors)} errors, p50 {pct(lat, 50):.1f} ms, p99 {pct(lat, 99):.1f} ms")
for r in errors[:10]:
    print(f"  error: t={r[0]:.1f}s {r[1]} -> {r[2]}")

print("\nRSS MiB per replica (every 10 s):")
print("second | " + " | ".join(f"replica {i + 1}" for i in range(len(pids))))
for offset, values in samples:
    print(f"{offset} | " + " | ".join("-" if v is None else f"{v / 1024:.1f}" for v in values))
# Growth: the median RSS of the last minute against the median of the first minute after the
# warm-up. Single samples jump by whole argon2id blocks (19 MiB each, one per password hash in
# flight), so one sample against another says little.
after = [s for s in samples if s[0] >= warmup]
growth_ok = True
if after:
    first_minute = [s for s in after if s[0] < warmup + 60]
    last_minute = [s for s in after if s[0] > after[-1][0] - 60]
    for i in range(len(pids)):
        first = statistics.median(s[1][i] for s in first_minute if s[1][i] is not None)
        last = statistics.median(s[1][i] for s in last_minute if s[1][i] is not None)
        peak = max(s[1][i] for s in after if s[1][i] is not None)
        low = min(s[1][i] for s in after if s[1][i] is not None)
        growth = (last - first) / first * 100 if first else float("nan")
        growth_ok = growth_ok and growth <= 10
        print(f"replica {i + 1}: median {first / 1024:.1f} MiB in the first minute after warm-up -> {last / 1024:.1f} MiB in the last ({growth:+.1f} %), range {low / 1024:.1f}-{peak / 1024:.1f} MiB")
sys.exit(0 if not errors and growth_ok else 1)
PY
if grep -qi panicked "$work"/replica-*.log; then echo "soak: a replica panicked"; status=1; fi
exit "$status"
