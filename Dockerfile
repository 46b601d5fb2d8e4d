# Threadline: one binary (web app + sync workers). Build: `docker build -t threadline .`
# (or `podman build`). Run: see docs/deploy.md.

ARG RUST_VERSION=1
ARG DEBIAN_RELEASE=bookworm

# --- build ---------------------------------------------------------------------------------
FROM docker.io/library/rust:${RUST_VERSION}-${DEBIAN_RELEASE} AS build
WORKDIR /usr/src/threadline
# Manifests first: the dependency download is a cached layer while only sources change.
COPY Cargo.toml Cargo.lock ./
COPY .cargo .cargo
COPY migration/Cargo.toml migration/Cargo.toml
COPY crates/emulator/Cargo.toml crates/emulator/Cargo.toml
RUN mkdir -p src migration/src crates/emulator/src \
 && echo 'fn main() {}' > src/main.rs && touch src/lib.rs migration/src/lib.rs \
    crates/emulator/src/lib.rs \
 && cargo fetch --locked \
 && rm -rf src migration/src crates/emulator/src
COPY . .
RUN cargo build --release --locked --bin threadline \
 && install -D -m 0755 target/release/threadline /out/threadline

# --- runtime -------------------------------------------------------------------------------
FROM docker.io/library/debian:${DEBIAN_RELEASE}-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 threadline \
 && useradd --system --uid 10001 --gid threadline --home-dir /var/lib/threadline \
    --shell /usr/sbin/nologin threadline \
 && install -d -o threadline -g threadline -m 0700 /var/lib/threadline
COPY --from=build /out/threadline /usr/local/bin/threadline

ENV THREADLINE_BIND=0.0.0.0:3000 \
    THREADLINE_DATA_DIR=/var/lib/threadline \
    THREADLINE_LOG_FORMAT=json
USER threadline:threadline
WORKDIR /var/lib/threadline
VOLUME ["/var/lib/threadline"]
EXPOSE 3000
# `threadline healthcheck` GETs /healthz on the bind address (no curl in the image).
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["threadline", "healthcheck"]
# SIGTERM: graceful shutdown (see THREADLINE_SHUTDOWN_SECONDS); give `docker stop` a longer -t.
STOPSIGNAL SIGTERM
ENTRYPOINT ["threadline"]
CMD ["serve"]
