#!/usr/bin/env bash
# Runs every test: unit, runtime, pallet and end-to-end (which start the
# real node binary on loopback ports). Installs what is missing first.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$OPENLEDGER_ROOT/scripts/setup.sh"
cd "$OPENLEDGER_ROOT"

cargo test --workspace --locked --no-fail-fast -- --test-threads 2
