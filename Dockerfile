# Roadmap Hub: one image, any set of targets.
#
#   docker build -t roadmap-hub .
#   docker run --rm -p 4000:4000 -p 4005:4005 -v roadmap-data:/data roadmap-hub up --demo  # all targets, embedded PostgreSQL
#   docker run --rm -p 4000:4000 -e DATABASE_URL=postgres://... roadmap-hub                  # up on an external database
#   docker run --rm -p 4001:4001 -e DATABASE_URL=... roadmap-hub serve --target plans        # one target (needs DATABASE_URL)
#
# The build needs no Node.js: schema/supergraph.graphql is composed at development time and committed.

FROM rust:1.95-bookworm AS builder
WORKDIR /src
COPY . .
# Cache mounts (BuildKit) keep the crate registry and the target dir between builds; the binary is
# copied out of the cached target dir because the mount is not part of the image.
RUN --mount=type=cache,id=roadmap-hub-cargo-registry,target=/usr/local/cargo/registry \
    --mount=type=cache,id=roadmap-hub-target,target=/src/target \
    cargo build --release --locked -p roadmap-hub \
    && install -m 0755 target/release/roadmap-hub /usr/local/bin/roadmap-hub

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates postgresql-15 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 roadmap \
    && useradd --system --uid 10001 --gid roadmap --no-create-home --home-dir /app --shell /usr/sbin/nologin roadmap \
    && mkdir -p /data && chown roadmap:roadmap /data
COPY --from=builder /usr/local/bin/roadmap-hub /usr/local/bin/roadmap-hub
# The router config names its supergraph relative to itself (../schema/supergraph.graphql), so
# the repository layout is kept under /app.
# router.config.yaml (development: dev JWKS, laboratory) is the default for local use;
# production sets ROUTER_CONFIG_FILE_PATH=/app/gateway/router.production.yaml (the Helm chart
# mounts its own copy of it).
COPY gateway/router.config.yaml gateway/router.production.yaml gateway/persisted-documents.json /app/gateway/
COPY gateway/dev/jwks.json /app/gateway/dev/jwks.json
COPY schema/ /app/schema/
WORKDIR /app
# Without DATABASE_URL, `up` runs the embedded PostgreSQL (Debian's server binaries, installed
# above) with its data in the /data volume.
ENV ROUTER_CONFIG_FILE_PATH=/app/gateway/router.config.yaml \
    ROADMAP_HOST=0.0.0.0 \
    ROADMAP_DATA_DIR=/data/postgres \
    RUST_LOG=info
USER 10001:10001
VOLUME /data
# gateway, plans, indicators, people, events, web
EXPOSE 4000 4001 4002 4003 4004 4005
ENTRYPOINT ["roadmap-hub"]
CMD ["up"]
