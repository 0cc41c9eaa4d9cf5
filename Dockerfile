# Multi-stage build of the appliance, following the README's run command.
#   docker build -t sigillum .
#   docker run -p 8470:8470 -v sigillum-data:/var/lib/sigillum sigillum
# The data volume holds the whole state (RocksDB, master.key, admin-api-key.json).

FROM rust:1.95-bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libclang-dev clang pkg-config libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY certs certs
COPY benches benches
RUN cargo build --locked --release --bin sigillum

FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libssl3 ca-certificates curl softhsm2 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 sigillum \
 && useradd --system --uid 10001 --gid sigillum --home-dir /var/lib/sigillum --shell /usr/sbin/nologin sigillum \
 && install -d -o sigillum -g sigillum -m 0700 /var/lib/sigillum
COPY --from=build /src/target/release/sigillum /usr/local/bin/sigillum
COPY hsm /usr/share/sigillum/hsm
USER sigillum:sigillum
WORKDIR /var/lib/sigillum
VOLUME ["/var/lib/sigillum"]
EXPOSE 8470
# Listen on all interfaces inside the container. Certificates carry SIGILLUM_PUBLIC_URL in their
# OCSP, CRL and CA-issuer URLs: set it to the externally reachable URL before the first start.
ENV SIGILLUM_PUBLIC_URL=http://localhost:8470
ENTRYPOINT ["/usr/local/bin/sigillum"]
CMD ["serve", "--data-dir", "/var/lib/sigillum/data", "--listen", "0.0.0.0:8470"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8470/healthz || exit 1
