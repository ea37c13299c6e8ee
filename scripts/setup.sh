#!/usr/bin/env bash
# Installs what a fresh machine lacks to build and run OpenLedger. Safe to run
# again: each step checks first and does nothing when already done.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

say() { printf '[setup] %s\n' "$*"; }

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_debian_packages() {
	local missing=()
	for pkg in protobuf-compiler clang libssl-dev pkg-config make; do
		dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
	done
	[ ${#missing[@]} -eq 0 ] && return
	say "installing Debian packages: ${missing[*]}"
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

install_rust_targets() {
	if ! command -v rustup >/dev/null; then
		say "rustup is required (https://rustup.rs) and was not found" >&2
		exit 1
	fi
	local installed
	installed="$(rustup target list --installed)"
	for target in wasm32v1-none wasm32-unknown-unknown; do
		grep -qx "$target" <<<"$installed" || { say "adding Rust target $target"; rustup target add "$target"; }
	done
	rustup component list --installed | grep -q '^rust-src' || { say "adding rust-src"; rustup component add rust-src; }
}

# The contributor-path script and its end-to-end test use @polkadot/api
# from npm, pinned by scripts/polkadotjs/package-lock.json.
install_polkadotjs() {
	local dir="$OPENLEDGER_ROOT/scripts/polkadotjs"
	if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
		say "installing Node.js and npm"
		as_root apt-get update -qq
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
	fi
	if [ ! -d "$dir/node_modules/@polkadot/api" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
		say "installing @polkadot/api into scripts/polkadotjs"
		npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >/dev/null
	fi
}

install_debian_packages
install_rust_targets
install_polkadotjs
mkdir -p "$CARGO_TARGET_DIR"
say "ready (builds go to $CARGO_TARGET_DIR)"
