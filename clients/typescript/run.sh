#!/usr/bin/env bash
# Generates the TypeScript client from the server's OpenAPI document, type-checks the journey
# with `tsc --strict` (no `any` allowed), and runs it against a freshly started server (temporary
# SQLite database, offline AI, built-in calendar, the repository's knowledge/ folder).
#
#   bash clients/typescript/run.sh [path/to/planwright]   # default: target/release/planwright
#
# Prints "N passed, M failed" last; exit status 0 only when everything passed.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BIN="${1:-$ROOT/target/release/planwright}"
[ -x "$BIN" ] || { echo "no server binary at $BIN (cargo build --release -p planwright)"; exit 1; }
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"   # it runs from two folders below

WORK="$(mktemp -d /tmp/planwright-ts.XXXXXX)"
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

cd "$HERE"
"$BIN" openapi >openapi.json
npm ci --no-audit --no-fund --loglevel=error
npm run --silent generate
if grep -nwE 'any' src/journey.ts; then
    echo "src/journey.ts uses 'any': type it from the generated schema instead"; exit 1
fi
npx tsc

# A port of our own: ask the OS for a free one.
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
(
    cd "$ROOT"
    PLANWRIGHT_ENV=development \
    PLANWRIGHT__SERVER__PORT="$PORT" \
    PLANWRIGHT__AI__PROVIDER=offline \
    PLANWRIGHT__RATE_LIMIT__ENABLED=false \
    DATABASE_URL="sqlite://$WORK/journey.db?mode=rwc" \
    exec "$BIN" serve
) >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$PORT/ready" >/dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "the server stopped:"; tail -20 "$WORK/server.log"; exit 1; }
    sleep 0.1
done

if ! node dist/journey.js "http://127.0.0.1:$PORT"; then
    echo "--- server log (last 40 lines)"; tail -40 "$WORK/server.log"; exit 1
fi
