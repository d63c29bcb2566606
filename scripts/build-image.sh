#!/usr/bin/env bash
# `make image`: builds the FROM scratch image here, offline. The static binary and the site
# are built on the host; podman then runs only the scratch stages of the Dockerfile.
set -euo pipefail
cd "$(dirname "$0")/.."
image=${1:-localhost/tandem:dev}
target=x86_64-unknown-linux-musl

scripts/install-tools.sh image
rustup target list --installed | grep -qx "$target" || rustup target add "$target"

# cargo-leptos sets LEPTOS_OUTPUT_NAME when it builds; a plain cargo build must too, or the
# page would ask for the wrong wasm file name.
LEPTOS_OUTPUT_NAME=tandem cargo build --quiet -p tandem --release --target "$target"
file "target/$target/release/tandem" | grep -Eq "static(-pie|ally) linked" || {
  echo "target/$target/release/tandem is not statically linked" >&2; exit 1; }

podman build --quiet --build-arg ARTIFACTS=prebuilt -t "$image" . >/dev/null
bytes=$(podman image inspect "$image" --format '{{.Size}}')
echo "built $image: $bytes bytes ($((bytes / 1000 / 1000)) MB)"
# Start to ready on a sandbox host: the image itself where podman may run containers, else
# the static binary it holds (a machine that forbids crun's rlimits, as CI's, cannot run it).
scripts/start-to-ready.sh "$image" 2>/dev/null || {
  echo "(podman cannot run containers here; timing the image's binary instead)"
  scripts/start-to-ready.sh "target/$target/release/tandem"
}
