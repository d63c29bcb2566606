# Tandem: two set-up commands, `make run` and `make test`; tools are installed on first use.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# rust-toolchain.toml pins the compiler the size figures hold for. Offline, rustup cannot
# download it (and will not `link` a toolchain under a version's name): when the machine's
# stable toolchain is that very version, it is made known under the pinned name with a
# symbolic link beside it. Another compiler stops every cargo command, naming the pin.
RUST_PINNED := $(shell sed -n 's/^channel = "\(.*\)"/\1/p' rust-toolchain.toml)
RUST_LINKED := $(shell sysroot=$$(rustc +stable --print sysroot 2>/dev/null) \
	&& host=$$(rustc +stable -vV | sed -n 's/^host: //p') \
	&& pinned="$$(dirname "$$sysroot")/$(RUST_PINNED)-$$host" \
	&& { test -e "$$pinned" || { rustc +stable -V | grep -q '^rustc $(RUST_PINNED) ' \
	&& ln -s "$$sysroot" "$$pinned"; }; })

PORT ?= 3000
MUSL_TARGET := x86_64-unknown-linux-musl
IMAGE ?= localhost/tandem:dev
SITE_ENV := LEPTOS_SITE_ROOT=target/site

# The wasm's panic locations name every crate's source file: shorter names for the registry's
# and the standard library's keep the first download smaller (README "Size"). Worked out when
# a recipe runs (the registry may only appear with the first build), for this machine's
# CARGO_HOME and compiler. Cargo joins these to .cargo/config.toml's wasm flags.
CARGO_HOME_DIR = $(or $(CARGO_HOME),$(HOME)/.cargo)
RUSTC_COMMIT = $(shell rustc -vV 2>/dev/null | sed -n 's/^commit-hash: //p')
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS = $(foreach registry,$(wildcard $(CARGO_HOME_DIR)/registry/src/index.crates.io-*),--remap-path-prefix=$(registry)=crates) $(if $(RUSTC_COMMIT),--remap-path-prefix=/rustc/$(RUSTC_COMMIT)=rustc)

.PHONY: help run test lint unit kubectl e2e build size bench fuzz image screenshot tools tools-test clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

run: tools build ## build in release mode and serve the console on the embedded demo fleet
	@echo "Tandem on http://127.0.0.1:$(PORT) (demo fleet; Ctrl-C stops)"
	$(SITE_ENV) ./target/release/tandem serve --demo --data-dir target/demo --listen 127.0.0.1:$(PORT)

test: tools-test lint unit build kubectl e2e size ## everything CI checks: format, clippy, Rust tests, kubectl and manifests, browser tests, size budget

lint: ## rustfmt and clippy (warnings are errors), server and browser halves
	cargo fmt --all -- --check
	cargo clippy --quiet --workspace --all-targets -- -D warnings
	cargo clippy --quiet -p frontend --target wasm32-unknown-unknown -- -D warnings

# Without the wasm crate: building it alongside would unify `app` with its `hydrate` feature,
# and a server binary built that way panics at start (client-side effects on the server).
unit: ## all Rust tests (unit and integration, against sandbox clusters)
	cargo test --quiet --workspace --exclude frontend

build: ## release build of the server and the hydrate bundle (target/site)
	cargo leptos build --release --split

kubectl: ## kubectl 1.33 and 1.37 against sandbox clusters: typed create (protobuf), get, apply, patch, watch, delete; deploy/'s Kustomize base and overlays rendered and dry-run applied
	scripts/kubectl-check.sh target/release/tandem
	scripts/kustomize-check.sh target/release/tandem

e2e: ## Playwright suite in Debian chromium against the release build
	cd end2end && npx playwright test

bench: ## benchmarks: sandbox list latency and GET throughput; users page from cache vs list, cache memory; add-cluster checks; cluster list render; flapping detection latency; federation page render; sync lag and memory; sync chaos, long run
	cargo bench -p sandbox --bench api
	cargo bench -p fleet --bench users
	cargo bench -p fleet --bench clusters
	cargo bench -p app --features ssr --bench clusters
	cargo bench -p fleet --bench federation
	cargo bench -p app --features ssr --bench federation
	cargo bench -p fleet --bench sync
	cargo test --release -p tandem --test sync_chaos -- --ignored --nocapture long_run

# Ten targets at FUZZ_SECONDS each (default 360 s: an hour in all), one at a time, in
# release mode; each prints its executions and distinct failures. A short run of the same
# targets is part of `make unit`.
FUZZ_SECONDS ?= 360
fuzz: ## fuzz kubeconfigs, addresses, config files, tokens, cookies, selectors, patches, protobuf, CRD schemas (an hour)
	TANDEM_FUZZ_SECONDS=$(FUZZ_SECONDS) cargo test --release -p sandbox --lib fuzz_ -- --test-threads=1 --nocapture
	TANDEM_FUZZ_SECONDS=$(FUZZ_SECONDS) cargo test --release -p fleet --test fuzz -- --test-threads=1 --nocapture
	TANDEM_FUZZ_SECONDS=$(FUZZ_SECONDS) cargo test --release -p app --features ssr --lib fuzz_ -- --test-threads=1 --nocapture

size: ## brotli size of the Overview page's initial download, against its 300 KB budget
	node scripts/size-report.mjs --budget-kb 300

screenshot: tools-test build ## refresh docs/overview.png (needs fonts-noto-cjk for 中文)
	scripts/install-tools.sh fonts
	cd end2end && TANDEM_SCREENSHOT=1 npx playwright test screenshot

image: tools build ## static musl binary + site in a FROM scratch image, built with podman
	scripts/build-image.sh $(IMAGE)

tools: ## install build tools that are missing (cargo-leptos, wasm-bindgen, npm packages)
	@scripts/install-tools.sh build

tools-test: ## tools, plus Playwright and Debian chromium
	@scripts/install-tools.sh test

clean: ## remove build output
	cargo clean
