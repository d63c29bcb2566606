# Tandem's container image: a static musl `tandem` binary and the site folder, FROM scratch.
#
# Self-contained build, on any machine that can pull a Rust image:
#   docker build -t tandem .
# Offline here: `make image` builds the binary and site on the host, then only the scratch
# stages run (ARTIFACTS=prebuilt); nothing is pulled.

ARG ARTIFACTS=build

# --- Stage 1 (self-contained path): the whole toolchain, then the build ----------------------
FROM docker.io/library/rust:1.95-bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm musl-tools \
 && rm -rf /var/lib/apt/lists/*
RUN rustup target add wasm32-unknown-unknown x86_64-unknown-linux-musl \
 && cargo install --locked cargo-leptos --version 0.3.10 \
 && cargo install wasm-bindgen-cli --version 0.2.130
WORKDIR /src
COPY . .
RUN npm ci --no-audit --no-fund \
 && make build \
 && LEPTOS_OUTPUT_NAME=tandem cargo build -p tandem --release --target x86_64-unknown-linux-musl \
 && mkdir -p /out \
 && cp target/x86_64-unknown-linux-musl/release/tandem /out/tandem \
 && cp -r target/site /out/site

# --- Stage 1 (offline path): artifacts `make image` built on the host -------------------------
FROM scratch AS prebuilt
COPY target/x86_64-unknown-linux-musl/release/tandem /out/tandem
COPY target/site /out/site

FROM ${ARTIFACTS} AS artifacts

# --- Runtime: nothing but the binary, the site and an empty writable /tmp ---------------------
FROM scratch AS runtime
COPY --from=artifacts /out/tandem /tandem
COPY --from=artifacts /out/site /site
# `tandem serve --demo` writes its sandbox kubeconfigs under /tmp.
COPY --chown=65532:65532 deploy/image/tmp/ /tmp/
ENV LEPTOS_SITE_ROOT=/site \
    LEPTOS_SITE_PKG_DIR=pkg \
    LEPTOS_OUTPUT_NAME=tandem \
    LEPTOS_ENV=PROD \
    RUST_LOG=info
USER 65532:65532
EXPOSE 3000
ENTRYPOINT ["/tandem"]
CMD ["serve", "--config", "/etc/tandem/tandem.yaml", "--listen", "0.0.0.0:3000"]
