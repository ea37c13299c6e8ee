#!/usr/bin/env bash
# Builds the node and starts a single-validator development chain (Alice),
# with JSON-RPC on ws://127.0.0.1:9944. Extra arguments go to the node.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$OPENLEDGER_ROOT/scripts/setup.sh"
cd "$OPENLEDGER_ROOT"

cargo build --locked -p openledger-node
exec "$CARGO_TARGET_DIR/debug/openledger-node" --dev --tmp --rpc-cors all "$@"
