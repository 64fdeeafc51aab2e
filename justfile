# Planwright developer commands. `just` alone lists them; every recipe is plain cargo underneath.

default:
    @just --list

# Start the server (SQLite in ./data, offline defaults)
run:
    cargo run -p planwright -- serve

# Run every test on SQLite
test:
    cargo test --workspace

# Run the end-to-end tests on the local PostgreSQL too
test-pg url="postgres://postgres@127.0.0.1:5432/test":
    TEST_DATABASE_URL={{url}} cargo test -p planwright-tests

# Format and lint as CI does
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# Format the code
fmt:
    cargo fmt --all

# Apply, roll back or list migrations: just migrate up|down|status|fresh
migrate action="up":
    cargo run -p planwright -- migrate {{action}}

# Print the OpenAPI document
openapi:
    cargo run -q -p planwright -- openapi

# Accept a changed OpenAPI snapshot after reviewing the diff
snapshot:
    INSTA_UPDATE=always cargo test -p planwright-tests openapi

# Fuzz the API with schemathesis against a release build
fuzz examples="100":
    cargo build --release -p planwright
    .ci/fuzz.sh {{examples}}

# Run the fake Gemini server for local frontend work (point ai.gemini_base_url at it)
fakes port="8090":
    cargo run -p planwright-tests --bin planwright-fakes -- --port {{port}}

# Benchmark concurrent plan generation against the fake Gemini (see docs/BENCHMARKS.md)
bench:
    bash bench/plans.sh

# Side-by-side benchmark with the FastAPI anchor, plus scale rows (see docs/BENCHMARKS.md)
bench-compare duration="10s":
    DURATION={{duration}} bash bench/compare.sh

# Google sync at scale against the fake Google: full sync of 10,000 events, then 10 changes
bench-sync events="10000":
    EVENTS={{events}} bash bench/sync.sh

# Test nginx + two replicas + PostgreSQL on loopback
topology:
    bash deploy/topology-test.sh

# Everything CI runs
ci:
    bash .ci/run

# Generate the TypeScript client, type-check its journey (tsc --strict) and run it against a fresh release server
client-ts:
    cargo build --release -p planwright
    bash clients/typescript/run.sh
