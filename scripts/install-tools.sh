#!/usr/bin/env bash
# Installs what building and testing Tandem needs, offline-safe (crates.io, npm, Debian only),
# and skips everything already in place, so `make run` / `make test` stay quick and quiet.
#   scripts/install-tools.sh build   # Rust targets, cargo-leptos, wasm-bindgen, npm build tools
#   scripts/install-tools.sh test    # the above, plus Playwright and Debian's chromium
#   scripts/install-tools.sh fonts   # CJK fonts, for screenshots only
#   scripts/install-tools.sh image   # podman and musl-gcc, for `make image`
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LEPTOS_VERSION=0.3.10   # 0.3.11 needs rustc 1.96
# The CLI must match the wasm-bindgen crate exactly: read the crate's version from Cargo.lock.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, "", $0); print; exit }' Cargo.lock)

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root for: $* (run it yourself, or install sudo)" >&2; return 1; fi
}

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "apt-get install ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

npm_ci_if_needed() { # dir
  local dir=$1
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    say "npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

rustup target list --installed | grep -qx wasm32-unknown-unknown || {
  say "rustup target add wasm32-unknown-unknown"; rustup target add wasm32-unknown-unknown; }

# cargo-leptos' own release profile is fat LTO in one codegen unit: on 2 cores that alone
# took 35 minutes of a first `make run`. A build tool does not need it: thin local LTO over
# parallel codegen units took 16 minutes on the same 2 cores, shared with another build.
if [ "$(cargo leptos --version 2>/dev/null)" != "cargo-leptos $CARGO_LEPTOS_VERSION" ]; then
  say "cargo install cargo-leptos $CARGO_LEPTOS_VERSION (once per machine, about 15 minutes)"
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install --locked --quiet cargo-leptos --version "$CARGO_LEPTOS_VERSION"
fi

if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  say "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # Not --locked: its lockfile wants a crate version this registry lacks.
  cargo install --quiet --force wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

# Tailwind and binaryen's wasm-opt: cargo-leptos finds them in node_modules/.bin. Without
# them it silently falls back to Debian's wasm-opt, whose output breaks hydration.
npm_ci_if_needed .

case "${1:-build}" in
  test) npm_ci_if_needed end2end; apt_install chromium ;;
  fonts) apt_install fonts-noto-cjk ;;   # screenshots with 中文 in them
  image) apt_install podman musl-tools file ;;
esac
