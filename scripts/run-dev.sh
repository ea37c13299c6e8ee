#!/usr/bin/env bash
# The main job: a single-validator development chain (Alice, JSON-RPC on
# ws://127.0.0.1:9944) and an inference worker serving SmolLM2-135M-Instruct
# over OpenAI-compatible HTTP on http://127.0.0.1:8000 (WORKER_PORT to
# change it). Builds and fetches what is missing first. Extra arguments go
# to the node. Stopping the script (Ctrl-C) stops both.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$OPENLEDGER_ROOT/scripts/setup.sh"
cd "$OPENLEDGER_ROOT"

model="$("$OPENLEDGER_ROOT/scripts/fetch-model.sh")"
cargo build --locked -p openledger-node
# The worker decodes on the CPU: an optimised build is the usable one.
cargo build --locked --release -p openledger-inference-worker --bin openledger-worker

"$CARGO_TARGET_DIR/release/openledger-worker" serve \
	--model "$model" --host 127.0.0.1 --port "${WORKER_PORT:-8000}" &
worker=$!
trap 'kill "$worker" 2>/dev/null || true' EXIT INT TERM

"$CARGO_TARGET_DIR/debug/openledger-node" --dev --tmp --rpc-cors all "$@"
