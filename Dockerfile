# syntax=docker/dockerfile:1
#
# Planwright server image.
#
#   docker build -t planwright .
#   docker run --rm -p 8080:8080 \
#     -e DATABASE_URL=postgres://USER:PASSWORD@HOST:5432/DB \
#     -e PLANWRIGHT__AUTH__JWT_SECRET=... -e PLANWRIGHT__SECURITY__ENCRYPTION_KEY=... \
#     planwright                       # `serve` (the default)
#   docker run --rm ... planwright migrate up
#
# The image runs with PLANWRIGHT_ENV=production: the server refuses to start without
# PLANWRIGHT__AUTH__JWT_SECRET (32+ characters) and PLANWRIGHT__SECURITY__ENCRYPTION_KEY (base64 of
# 32 bytes, `openssl rand -base64 32`), and does not migrate at start-up (run `migrate up` first).
# See docs/OPERATIONS.md and deploy/compose.yaml.

ARG RUST_IMAGE=rust:1.95-slim-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

# --- build -------------------------------------------------------------------------------------
FROM ${RUST_IMAGE} AS builder
WORKDIR /app

# Everything the workspace needs (the .dockerignore keeps target/, data/, .git/ ... out). Every
# workspace member (crates/*, migration, tests) must be present for cargo to load the workspace,
# and config/default.toml is compiled into the binary.
COPY . .

# The registry, git checkouts and target/ live in BuildKit cache mounts, so rebuilds after a source
# change recompile only the workspace crates. A cache mount is not part of the image: the binary is
# copied out of it in the same step. No system libraries are needed: TLS is rustls, SQLite is
# bundled, and gcc (for ring and SQLite) comes with the rust image.
RUN --mount=type=cache,id=planwright-cargo-registry,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,id=planwright-cargo-git,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,id=planwright-target,target=/app/target,sharing=locked \
    cargo build --release --locked -p planwright \
    && install -D -m 0755 target/release/planwright /out/planwright

# --- runtime -----------------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE} AS runtime

# ca-certificates for outbound HTTPS; curl for the HEALTHCHECK only.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 planwright \
    && useradd --system --uid 10001 --gid planwright --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin planwright

WORKDIR /app

COPY --from=builder /out/planwright /usr/local/bin/planwright
COPY config/ /app/config/
# Global knowledge documents (knowledge.dir = ./knowledge), loaded at start-up.
COPY knowledge/ /app/knowledge/
# data/ holds the SQLite file when no DATABASE_URL is given (single-container use only).
RUN mkdir -p /app/data && chown planwright:planwright /app/data

ENV PLANWRIGHT_ENV=production \
    PLANWRIGHT_CONFIG_DIR=/app/config \
    PLANWRIGHT__SERVER__HOST=0.0.0.0 \
    PLANWRIGHT__SERVER__PORT=8080

EXPOSE 8080

# Liveness only (/health touches nothing else); use /ready for "can serve traffic".
# Assumes the port above: change both together.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/health || exit 1

# Numeric, so Kubernetes' runAsNonRoot can verify it is not root (the planwright user above).
USER 10001:10001

# SIGTERM (docker stop) stops accepting connections and gives in-flight requests
# server.shutdown_timeout_secs (30 s by default): give `docker stop` / compose a longer grace period.
STOPSIGNAL SIGTERM
ENTRYPOINT ["planwright"]
CMD ["serve"]
