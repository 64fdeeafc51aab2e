#!/usr/bin/env bash
# Tests the production topology with real processes on loopback, without Docker:
#
#   nginx 127.0.0.1:18080 (deploy/nginx.local.conf)
#     -> planwright serve 127.0.0.1:18081 (replica A)
#     -> planwright serve 127.0.0.1:18082 (replica B)
#          -> PostgreSQL 127.0.0.1:5432, a fresh database planwright_topo_<pid>
#
# Needs: PostgreSQL on 127.0.0.1:5432 where user postgres logs in without a password (trust),
# psql, nginx, curl, python3 and openssl (or python3 alone for the keys). Uses
# target/release/planwright, building it (`cargo build --release -p planwright`) when it is
# missing or older than the sources.
#
#   bash deploy/topology-test.sh            # from anywhere; prints "N passed, M failed" last
#   KEEP_WORK=1 bash deploy/topology-test.sh   # keep the logs in /tmp/planwright-topo.*
#
# Exit status 0 only when every check passed. Every process it starts and the database it
# creates are removed on any exit (trap).

# shellcheck disable=SC2317  # functions run from traps look unreachable to shellcheck
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1

BIN="$ROOT/target/release/planwright"
PG_HOST=127.0.0.1
PG_PORT=5432
PG_USER=postgres
DB_NAME="planwright_topo_$$"
NGINX_PORT=18080
A_PORT=18081
B_PORT=18082
NGINX_URL="http://127.0.0.1:$NGINX_PORT"
A_URL="http://127.0.0.1:$A_PORT"
B_URL="http://127.0.0.1:$B_PORT"
PER_IP=5          # PLANWRIGHT__RATE_LIMIT__PER_IP for both replicas
WINDOW_SECS=60    # rate_limit.window_secs (the default)
SHUTDOWN_SECS=30  # server.shutdown_timeout_secs (the default)

WORK="$(mktemp -d /tmp/planwright-topo.XXXXXX)"
# nginx started as root runs its workers as another user, who must reach the temp folders.
chmod 0711 "$WORK"
NGINX_DIR="$WORK/nginx"

PASSED=0
FAILED=0
A_PID=""
B_PID=""
NGINX_PID=""
DB_CREATED=0
SUMMARY_PRINTED=0

# --- reporting -------------------------------------------------------------------------------

ok() {
    PASSED=$((PASSED + 1))
    printf '  ok    %s\n' "$1"
}

bad() {
    FAILED=$((FAILED + 1))
    printf '  FAIL  %s\n' "$1"
    if [ -n "${2-}" ]; then printf '        %s\n' "$2"; fi
}

note() { printf '%s\n' "$*"; }

summary() {
    if [ "$SUMMARY_PRINTED" = 0 ]; then
        SUMMARY_PRINTED=1
        printf '%s passed, %s failed\n' "$PASSED" "$FAILED"
    fi
}

# A failure the rest cannot run without: count it, clean up (trap), print the summary, exit 1.
die() {
    bad "$1" "${2-}"
    exit 1
}

# --- cleanup ---------------------------------------------------------------------------------

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

# Stops one of our child processes: the signal, then up to $3 seconds, then SIGKILL.
stop_pid() {
    local pid=$1 signal=$2 seconds=$3 i
    alive "$pid" || return 0
    kill "-$signal" "$pid" 2>/dev/null
    for ((i = 0; i < seconds * 10; i++)); do
        alive "$pid" || break
        sleep 0.1
    done
    if alive "$pid"; then kill -KILL "$pid" 2>/dev/null; fi
    wait "$pid" 2>/dev/null
    return 0
}

psql_admin() {
    psql -X -q -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres "$@"
}

drop_database() {
    [ "$DB_CREATED" = 1 ] || return 0
    if psql_admin -c "DROP DATABASE IF EXISTS \"$DB_NAME\" WITH (FORCE)" >>"$WORK/psql.log" 2>&1 \
        || psql_admin -c "DROP DATABASE IF EXISTS \"$DB_NAME\"" >>"$WORK/psql.log" 2>&1; then
        DB_CREATED=0
        return 0
    fi
    return 1
}

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    stop_pid "$A_PID" TERM 5
    stop_pid "$B_PID" TERM 5
    stop_pid "$NGINX_PID" TERM 5
    if ! drop_database; then
        note "warning: could not drop database $DB_NAME (see $WORK/psql.log)"
    fi
    if [ "$status" != 0 ] && [ "$FAILED" = 0 ]; then
        FAILED=1
        note "  FAIL  interrupted (exit status $status)"
    fi
    if [ "$FAILED" != 0 ] || [ -n "${KEEP_WORK-}" ]; then
        note "logs kept in $WORK"
    else
        rm -rf "$WORK"
    fi
    summary
    if [ "$FAILED" = 0 ]; then exit 0; else exit 1; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- HTTP helpers ----------------------------------------------------------------------------

# http METHOD URL [JSON_BODY] [extra curl arguments...]
# Sets STATUS; the body is in $WORK/body, the response headers in $WORK/headers.
http() {
    local method=$1 url=$2 body=${3-}
    if [ $# -ge 3 ]; then shift 3; else shift $#; fi
    local args=(-sS -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' --max-time 15 -X "$method")
    if [ -n "$body" ]; then
        args+=(-H 'Content-Type: application/json' --data-binary "$body")
    fi
    STATUS="$(curl "${args[@]}" "$@" "$url" 2>"$WORK/curl.err")" || STATUS="${STATUS:-000}"
    [ -n "$STATUS" ] || STATUS=000
}

# header NAME: the last value of response header NAME, or nothing.
header() {
    tr -d '\r' <"$WORK/headers" | awk -v name="$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]')" '
        { split($0, kv, ":"); if (tolower(kv[1]) == name) { sub(/^[^:]*:[ \t]*/, ""); value = $0 } }
        END { if (value != "") print value }'
}

# json PATH: a field of the last body ("user.email"), or nothing.
json() {
    python3 - "$WORK/body" "$1" <<'PY' 2>/dev/null
import json, sys
value = json.load(open(sys.argv[1]))
for part in sys.argv[2].split("."):
    value = value[part] if isinstance(value, dict) else None
    if value is None:
        sys.exit(0)
print(value if not isinstance(value, (dict, list)) else json.dumps(value))
PY
}

body_excerpt() { head -c 300 "$WORK/body" 2>/dev/null | tr '\n' ' '; }

# expect DESCRIPTION STATUS: one check on the last response's status.
expect() {
    if [ "$STATUS" = "$2" ]; then
        ok "$1"
        return 0
    fi
    bad "$1" "expected HTTP $2, got $STATUS: $(body_excerpt)$(cat "$WORK/curl.err" 2>/dev/null)"
    return 1
}

# wait_ready URL SECONDS: polls URL/ready until 200, our replicas die, or the deadline.
wait_ready() {
    local url=$1 deadline=$((SECONDS + $2))
    while [ "$SECONDS" -lt "$deadline" ]; do
        if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url/ready")" = 200 ]; then
            return 0
        fi
        if ! alive "$A_PID" || ! alive "$B_PID"; then return 1; fi
        sleep 0.2
    done
    return 1
}

# port_free PORT: nothing accepts connections on 127.0.0.1:PORT.
port_free() {
    curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$1/" 2>/dev/null
    [ $? = 7 ]
}

# window_left: seconds until the current rate-limit window ends (windows are aligned to
# multiples of window_secs in Unix time, on every replica).
window_left() {
    local now
    now=$(date +%s)
    echo $((WINDOW_SECS - now % WINDOW_SECS))
}

# wait_for_window_headroom SECONDS: waits (at most one window) until SECONDS remain in a window.
wait_for_window_headroom() {
    local need=$1 deadline=$((SECONDS + WINDOW_SECS + 5))
    while [ "$(window_left)" -lt "$need" ]; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.5
    done
}

# wait_for_window_after UNIX_TIME: waits until a window starts after UNIX_TIME (fresh counters).
wait_for_window_after() {
    local after=$1 deadline=$((SECONDS + WINDOW_SECS + 5)) now
    while :; do
        now=$(date +%s)
        [ $((now - now % WINDOW_SECS)) -gt "$after" ] && return 0
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.5
    done
}

random_base64_32() {
    openssl rand -base64 32 2>/dev/null \
        || python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())'
}

random_hex_32() {
    openssl rand -hex 32 2>/dev/null || python3 -c 'import secrets; print(secrets.token_hex(32))'
}

# --- preflight -------------------------------------------------------------------------------

note "Planwright topology test: nginx :$NGINX_PORT -> replicas :$A_PORT, :$B_PORT -> PostgreSQL $PG_HOST:$PG_PORT/$DB_NAME"
note "work folder: $WORK"

for tool in curl python3 psql nginx; do
    command -v "$tool" >/dev/null 2>&1 || die "tool $tool is installed" "install it (Debian: apt-get install -y curl python3 postgresql-client nginx)"
done

# Our own variables only: nothing from the caller's environment changes the servers' settings.
while IFS= read -r name; do
    unset "$name"
done < <(compgen -e | grep -E '^(PLANWRIGHT|DATABASE_URL$|RUST_LOG$)')

for port in "$NGINX_PORT" "$A_PORT" "$B_PORT"; do
    port_free "$port" || die "port 127.0.0.1:$port is free" "something already listens there"
done

if [ ! -x "$BIN" ]; then
    note "building $BIN (cargo build --release -p planwright) ..."
    cargo build --release -p planwright >"$WORK/build.log" 2>&1 || die "release build" "see $WORK/build.log"
elif [ -n "$(find Cargo.toml Cargo.lock config crates migration -newer "$BIN" -type f -print -quit 2>/dev/null)" ]; then
    note "sources are newer than $BIN: rebuilding (cargo build --release -p planwright) ..."
    cargo build --release -p planwright >"$WORK/build.log" 2>&1 || die "release build" "see $WORK/build.log"
fi
[ -x "$BIN" ] || die "release binary exists" "$BIN is missing"

psql_admin -Atc 'SELECT 1' >/dev/null 2>"$WORK/psql.log" \
    || die "PostgreSQL answers on $PG_HOST:$PG_PORT as $PG_USER" "$(head -c 300 "$WORK/psql.log")"

# --- static: nginx configurations ------------------------------------------------------------

note "nginx configurations"
mkdir -p "$NGINX_DIR/logs" "$NGINX_DIR/temp" "$WORK/nginx-check/logs" "$WORK/nginx-check/temp"
chmod 0711 "$NGINX_DIR" "$NGINX_DIR/temp" "$WORK/nginx-check" "$WORK/nginx-check/temp"
if nginx -t -q -p "$NGINX_DIR/" -c "$ROOT/deploy/nginx.local.conf" >"$WORK/nginx-t.log" 2>&1; then
    ok "nginx -t accepts deploy/nginx.local.conf"
else
    bad "nginx -t accepts deploy/nginx.local.conf" "$(tr '\n' ' ' <"$WORK/nginx-t.log")"
fi
# deploy/nginx.conf as the container would run it, with the replicas' names replaced by loopback
# addresses, the log/pid paths moved here, and `resolve` dropped (nginx < 1.27.3 lacks it).
sed -e 's/api1:8080 resolve/127.0.0.1:18081/; s/api2:8080 resolve/127.0.0.1:18082/' \
    -e "s#/var/log/nginx/#$WORK/nginx-check/logs/#; s#/var/run/nginx.pid#$WORK/nginx-check/logs/nginx.pid#" \
    "$ROOT/deploy/nginx.conf" >"$WORK/nginx-check/nginx.conf"
if [ ! -f /etc/nginx/mime.types ]; then
    sed -i 's#include /etc/nginx/mime.types;##' "$WORK/nginx-check/nginx.conf"
fi
if nginx -t -q -p "$WORK/nginx-check/" -c "$WORK/nginx-check/nginx.conf" >"$WORK/nginx-t2.log" 2>&1; then
    ok "nginx -t accepts deploy/nginx.conf (replica names mapped to loopback)"
else
    bad "nginx -t accepts deploy/nginx.conf (replica names mapped to loopback)" "$(tr '\n' ' ' <"$WORK/nginx-t2.log")"
fi

# The AI routes must outwait the server's own Gemini retries (2 answers x (attempts x timeout +
# backoff)), or nginx gives up while the server still works and a retry makes a second plan.
ai_timeout=$(awk -F'= *' '/^\[ai\]/{s=1} s && /^timeout_secs/{print $2; exit}' "$ROOT/config/default.toml")
ai_retries=$(awk -F'= *' '/^\[ai\]/{s=1} s && /^max_retries/{print $2; exit}' "$ROOT/config/default.toml")
needed=$((2 * ((ai_retries + 1) * ai_timeout + ai_retries * 30)))
for conf in nginx.conf nginx.local.conf; do
    read_timeout=$(awk '/location ~ \^\/api\/v1\/\(plans/{s=1} s && /proxy_read_timeout/{gsub(/[^0-9]/, "", $2); print $2; exit}' "$ROOT/deploy/$conf")
    if [ -n "$read_timeout" ] && [ "$read_timeout" -ge "$needed" ]; then
        ok "deploy/$conf waits ${read_timeout}s on AI routes (the server may need ${needed}s)"
    else
        bad "deploy/$conf waits long enough on AI routes" "proxy_read_timeout '${read_timeout}', needed ${needed}s"
    fi
done

# --- database and migrations -----------------------------------------------------------------

note "database"
psql_admin -c "CREATE DATABASE \"$DB_NAME\"" >>"$WORK/psql.log" 2>&1 \
    || die "create database $DB_NAME" "$(tail -c 300 "$WORK/psql.log")"
DB_CREATED=1
ok "created database $DB_NAME"

export PLANWRIGHT_ENV=production
export PLANWRIGHT_CONFIG_DIR="$ROOT/config"
export DATABASE_URL="postgres://$PG_USER@$PG_HOST:$PG_PORT/$DB_NAME"
PLANWRIGHT__AUTH__JWT_SECRET="$(random_hex_32)"
PLANWRIGHT__SECURITY__ENCRYPTION_KEY="$(random_base64_32)"
export PLANWRIGHT__AUTH__JWT_SECRET PLANWRIGHT__SECURITY__ENCRYPTION_KEY
export PLANWRIGHT__SERVER__HOST=127.0.0.1
export PLANWRIGHT__LOG__FORMAT=json
export PLANWRIGHT__RATE_LIMIT__PER_IP="$PER_IP"

if "$BIN" migrate up >"$WORK/migrate.log" 2>&1; then
    applied=$(grep -c '^applied ' "$WORK/migrate.log")
    pending=$(grep -c '^pending ' "$WORK/migrate.log")
    if [ "$applied" -gt 0 ] && [ "$pending" = 0 ]; then
        ok "planwright migrate up applied $applied migrations, none pending"
    else
        bad "planwright migrate up applied every migration" "$(grep -v '^{' "$WORK/migrate.log" | tr '\n' ' ')"
    fi
else
    die "planwright migrate up exits 0" "$(tail -c 600 "$WORK/migrate.log")"
fi

# --- processes -------------------------------------------------------------------------------

note "processes"
PLANWRIGHT__SERVER__PORT="$A_PORT" "$BIN" serve >"$WORK/replica-a.log" 2>&1 &
A_PID=$!
PLANWRIGHT__SERVER__PORT="$B_PORT" "$BIN" serve >"$WORK/replica-b.log" 2>&1 &
B_PID=$!
nginx -p "$NGINX_DIR/" -c "$ROOT/deploy/nginx.local.conf" -g 'daemon off;' >"$WORK/nginx.out" 2>&1 &
NGINX_PID=$!

if wait_ready "$A_URL" 30 && wait_ready "$B_URL" 30; then
    ok "both replicas answer /ready"
else
    die "both replicas answer /ready within 30 s" "A: $(tail -c 400 "$WORK/replica-a.log") B: $(tail -c 400 "$WORK/replica-b.log")"
fi
if wait_ready "$NGINX_URL" 15; then
    ok "/ready answers through nginx"
else
    die "/ready answers through nginx within 15 s" "$(cat "$WORK/nginx.out" "$NGINX_DIR/logs/error.log" 2>/dev/null | tail -c 400)"
fi
http GET "$NGINX_URL/ready"
if [ "$STATUS" = 200 ] && [ "$(json status)" = ready ] && [ "$(json database)" = postgres ]; then
    ok "/ready through nginx reports PostgreSQL"
else
    bad "/ready through nginx reports PostgreSQL" "HTTP $STATUS: $(body_excerpt)"
fi

# Round robin: a few requests reach both replicas.
upstreams=""
for _ in 1 2 3 4; do
    http GET "$NGINX_URL/health"
    upstreams="$upstreams $(header x-upstream-addr)"
done
if [[ "$upstreams" == *":$A_PORT"* && "$upstreams" == *":$B_PORT"* ]]; then
    ok "nginx spreads requests over both replicas"
else
    bad "nginx spreads requests over both replicas" "answered by:$upstreams"
fi

# --- accounts across replicas ----------------------------------------------------------------

note "accounts across replicas"
EMAIL="topo-$$-$RANDOM@example.com"
PASSWORD="correct horse battery staple"

http POST "$NGINX_URL/api/v1/auth/register" "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\",\"name\":\"Topo\",\"timezone\":\"Europe/Berlin\"}"
expect "register through nginx -> 201" 201
REGISTER_REQUEST_ID="$(header x-request-id)"
if [ -n "$(json access_token)" ] && [ -n "$(json refresh_token)" ] && [ "$(json user.email)" = "$EMAIL" ]; then
    ok "register returns an access token, a refresh token and the user"
else
    bad "register returns an access token, a refresh token and the user" "$(body_excerpt)"
fi
if [ -n "$REGISTER_REQUEST_ID" ]; then
    ok "nginx passes the replica's x-request-id to the client ($REGISTER_REQUEST_ID)"
    # A background thread writes the log: give it a moment.
    for _ in $(seq 1 20); do
        grep -qF "$REGISTER_REQUEST_ID" "$WORK/replica-a.log" "$WORK/replica-b.log" && break
        sleep 0.1
    done
    if grep -qF "$REGISTER_REQUEST_ID" "$WORK/replica-a.log" "$WORK/replica-b.log"; then
        ok "the request id is in the answering replica's log"
    else
        bad "the request id is in the answering replica's log" "$REGISTER_REQUEST_ID not found"
    fi
else
    bad "nginx passes the replica's x-request-id to the client" "no x-request-id header"
fi

http POST "$NGINX_URL/api/v1/auth/login" "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}"
LOGIN_TIME=$(date +%s)
expect "log in through nginx -> 200" 200
ACCESS="$(json access_token)"
REFRESH="$(json refresh_token)"
if [ -z "$ACCESS" ] || [ -z "$REFRESH" ]; then die "login returns both tokens" "$(body_excerpt)"; fi

http GET "$A_URL/api/v1/me" "" -H "Authorization: Bearer $ACCESS"
if expect "GET /api/v1/me on replica A with the token -> 200" 200 && [ "$(json email)" != "$EMAIL" ]; then
    bad "replica A returns the account" "$(body_excerpt)"
fi
http GET "$B_URL/api/v1/me" "" -H "Authorization: Bearer $ACCESS"
if expect "GET /api/v1/me on replica B with the same token -> 200 (shared database and JWT secret)" 200 \
    && [ "$(json email)" != "$EMAIL" ]; then
    bad "replica B returns the account" "$(body_excerpt)"
fi

http POST "$A_URL/api/v1/auth/refresh" "{\"refresh_token\":\"$REFRESH\"}"
expect "refresh on replica A -> 200 (a new pair)" 200
NEW_ACCESS="$(json access_token)"
NEW_REFRESH="$(json refresh_token)"
if [ -n "$NEW_REFRESH" ] && [ "$NEW_REFRESH" != "$REFRESH" ]; then
    ok "the refresh token was rotated"
else
    bad "the refresh token was rotated" "$(body_excerpt)"
fi
http GET "$B_URL/api/v1/me" "" -H "Authorization: Bearer $NEW_ACCESS"
expect "the access token from replica A's refresh works on replica B" 200

http POST "$B_URL/api/v1/auth/refresh" "{\"refresh_token\":\"$REFRESH\"}"
expect "replaying the spent refresh token on replica B -> 401" 401
if [ "$(json code)" = refresh_token_reused ]; then
    ok "replica B recognises the replay (code refresh_token_reused)"
else
    bad "replica B recognises the replay (code refresh_token_reused)" "$(body_excerpt)"
fi
http POST "$A_URL/api/v1/auth/refresh" "{\"refresh_token\":\"$NEW_REFRESH\"}"
expect "after the replay, the rotated token is revoked on replica A too -> 401" 401

# --- rate limits across replicas -------------------------------------------------------------

note "rate limits across replicas (per_ip=$PER_IP, window ${WINDOW_SECS}s)"
# A client address of its own gives a fresh bucket: curl connects from 127.0.0.2 when the
# loopback interface allows it. Otherwise wait for a window that started after the login above.
SOURCE=(--interface 127.0.0.2)
if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "${SOURCE[@]}" "$NGINX_URL/health" 2>/dev/null)" != 200 ]; then
    SOURCE=()
    note "  (127.0.0.2 is not usable: waiting for a fresh rate-limit window)"
    wait_for_window_after "$LOGIN_TIME" || die "a fresh rate-limit window starts"
fi
ATTEMPTS=$((PER_IP + 5))
# Every attempt, and the spoofing attempts after them, must fall in one window.
wait_for_window_headroom 25 || die "enough of the rate-limit window is left"

allowed_statuses=""
allowed_upstreams=""
limited_upstreams=""
limited_ok=1
for ((i = 1; i <= ATTEMPTS; i++)); do
    http POST "$NGINX_URL/api/v1/auth/login" "{\"email\":\"nobody-$$-$i@example.com\",\"password\":\"wrong password $i\"}" "${SOURCE[@]}"
    upstream="$(header x-upstream-addr)"
    if [ "$i" -le "$PER_IP" ]; then
        allowed_statuses="$allowed_statuses $STATUS"
        allowed_upstreams="$allowed_upstreams $upstream"
    else
        retry_after="$(header retry-after)"
        if [ "$STATUS" = 429 ] && [[ "$retry_after" =~ ^[0-9]+$ ]] && [ "$retry_after" -ge 1 ] && [ "$retry_after" -le "$WINDOW_SECS" ]; then
            limited_upstreams="$limited_upstreams $upstream"
        else
            limited_ok=0
            bad "login attempt $i through nginx -> 429 with Retry-After" "HTTP $STATUS, Retry-After '$retry_after', from $upstream: $(body_excerpt)"
        fi
    fi
done
if [ "$allowed_statuses" = "$(printf ' 401%.0s' $(seq 1 "$PER_IP"))" ]; then
    ok "login attempts 1-$PER_IP through nginx (unknown emails) -> 401"
else
    bad "login attempts 1-$PER_IP through nginx (unknown emails) -> 401" "got:$allowed_statuses"
fi
if [[ "$allowed_upstreams" == *":$A_PORT"* && "$allowed_upstreams" == *":$B_PORT"* ]]; then
    ok "those $PER_IP attempts were split over both replicas (the count is shared)"
else
    bad "those $PER_IP attempts were split over both replicas" "answered by:$allowed_upstreams"
fi
if [ "$limited_ok" = 1 ]; then
    ok "login attempts $((PER_IP + 1))-$ATTEMPTS through nginx -> 429 with Retry-After"
fi
if [[ "$limited_upstreams" == *":$A_PORT"* && "$limited_upstreams" == *":$B_PORT"* ]]; then
    ok "both replicas answered 429 once the shared budget was spent"
else
    bad "both replicas answered 429 once the shared budget was spent" "429s from:$limited_upstreams"
fi

# The client cannot escape its bucket with its own X-Forwarded-For or Forwarded header: nginx
# replaces them with the address it saw.
spoof_statuses=""
for i in 1 2 3 4; do
    http POST "$NGINX_URL/api/v1/auth/login" "{\"email\":\"spoof-$$-$i@example.com\",\"password\":\"wrong password\"}" \
        "${SOURCE[@]}" -H "X-Forwarded-For: 203.0.113.$i" -H "Forwarded: for=198.51.100.$i"
    spoof_statuses="$spoof_statuses $STATUS"
done
if [ "$spoof_statuses" = " 429 429 429 429" ]; then
    ok "client-sent X-Forwarded-For / Forwarded headers do not reset the limit"
else
    bad "client-sent X-Forwarded-For / Forwarded headers do not reset the limit" "got:$spoof_statuses (expected 429 each)"
fi

# --- nginx edge behaviour --------------------------------------------------------------------

note "nginx edge"
python3 -c 'import sys; sys.stdout.write("{\"pad\":\"" + "x" * 4000000 + "\"}")' >"$WORK/big.json"
http POST "$NGINX_URL/api/v1/auth/login" "" -H 'Content-Type: application/json' --data-binary "@$WORK/big.json"
expect "a 4 MB body is refused by nginx (client_max_body_size 3m) -> 413" 413

http GET "$NGINX_URL/metrics"
expect "/metrics is not served through nginx -> 403" 403
http GET "$A_URL/metrics"
if [ "$STATUS" = 200 ] && grep -q '^# TYPE' "$WORK/body"; then
    ok "/metrics on a replica -> 200 Prometheus text"
else
    bad "/metrics on a replica -> 200 Prometheus text" "HTTP $STATUS: $(body_excerpt)"
fi

http GET "$NGINX_URL/api/v1/chat/stream" "" -H 'Accept: text/event-stream'
if [ -n "$(header x-request-id)" ] && [ -n "$(header x-upstream-addr)" ]; then
    ok "the streaming location (/api/v1/chat/stream) reaches a replica (HTTP $STATUS)"
else
    bad "the streaming location (/api/v1/chat/stream) reaches a replica" "HTTP $STATUS without x-request-id: $(body_excerpt)"
fi

http POST "$NGINX_URL/api/v1/calendar/feed" "" -H "Authorization: Bearer $NEW_ACCESS"
expect "issue an ICS feed through nginx -> 201" 201
FEED_URL="$(json url)"
case "$FEED_URL" in
    "$NGINX_URL"/*) ok "the feed URL keeps nginx's address with its port ($FEED_URL)" ;;
    *) bad "the feed URL keeps nginx's address with its port" "got '$FEED_URL', expected it under $NGINX_URL" ;;
esac
if [ -n "$FEED_URL" ]; then
    http GET "$FEED_URL"
    if [ "$STATUS" = 200 ] && grep -q '^BEGIN:VCALENDAR' "$WORK/body"; then
        ok "the feed URL handed out through nginx answers text/calendar"
    else
        bad "the feed URL handed out through nginx answers text/calendar" "HTTP $STATUS: $(body_excerpt)"
    fi
fi

# --- logs ------------------------------------------------------------------------------------

if python3 - "$WORK/replica-a.log" "$WORK/replica-b.log" <<'PY'
import json, sys
count = 0
for path in sys.argv[1:]:
    for line in open(path):
        if line.strip():
            json.loads(line)
            count += 1
sys.exit(0 if count else 1)
PY
then
    ok "every log line of both replicas is JSON"
else
    bad "every log line of both replicas is JSON" "$(grep -v '^{' "$WORK/replica-a.log" | head -c 300)"
fi

# --- graceful shutdown -----------------------------------------------------------------------

note "shutdown"
stop_started=$(date +%s.%N)
kill -TERM "$A_PID" "$B_PID" 2>/dev/null
deadline=$((SECONDS + SHUTDOWN_SECS + 5))
while { alive "$A_PID" || alive "$B_PID"; } && [ "$SECONDS" -lt "$deadline" ]; do
    sleep 0.1
done
stop_took=$(python3 -c "import sys, time; print(f'{time.time() - float(sys.argv[1]):.1f}')" "$stop_started")
for replica in A B; do
    if [ "$replica" = A ]; then pid=$A_PID; else pid=$B_PID; fi
    log="$WORK/replica-$(printf '%s' "$replica" | tr '[:upper:]' '[:lower:]').log"
    if alive "$pid"; then
        bad "replica $replica exits within $((SHUTDOWN_SECS + 5)) s of SIGTERM" "still running; killing it"
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    else
        wait "$pid"
        code=$?
        if [ "$code" = 0 ]; then
            ok "replica $replica exits 0 after SIGTERM (both stopped in ${stop_took} s; limit ${SHUTDOWN_SECS} s)"
        else
            bad "replica $replica exits 0 after SIGTERM" "exit status $code: $(tail -c 300 "$log")"
        fi
    fi
    if [ "$replica" = A ]; then A_PID=""; else B_PID=""; fi
done

stop_pid "$NGINX_PID" QUIT 10
NGINX_PID=""

if drop_database; then
    ok "dropped database $DB_NAME"
else
    bad "dropped database $DB_NAME" "$(tail -c 300 "$WORK/psql.log")"
fi

# cleanup (the EXIT trap) prints the summary line and sets the exit status.
exit 0
