#!/usr/bin/env bash
# The main job: a single-validator development chain (Alice, JSON-RPC on
# ws://127.0.0.1:9944) with a demo on it, and two inference workers on
# SmolLM2-135M-Instruct:
#   - http://127.0.0.1:8000 (WORKER_PORT): the OpenAI-compatible server and
#     the blob store contributors upload their payloads to;
#   - http://127.0.0.1:8100 (CHAIN_WORKER_PORT): //Ferdie's worker serving
#     the demo model's on-chain requests.
# The demo: three contributors' facts in a datanet, a model voted through,
# a LoRA adapter trained by ModelFactory on the chain's version and
# published. Then ask it a question and see who got paid:
#   node scripts/polkadotjs/demo.mjs ask --model 0 "The Zorbian capital is"
# Builds and fetches what is missing first. Extra arguments go to the node.
# Stopping the script (Ctrl-C) stops everything; the chain is temporary.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$OPENLEDGER_ROOT/scripts/setup.sh"
cd "$OPENLEDGER_ROOT"

say() { printf '[run-dev] %s\n' "$*" >&2; }

model="$("$OPENLEDGER_ROOT/scripts/fetch-model.sh")"
# The node binary as the test command builds it: `cargo build -p
# openledger-node` would resolve other features and rebuild most of the
# node's dependencies beside the test build.
cargo test --workspace --locked --no-run
# The worker decodes and trains on the CPU: an optimised build is the usable one.
cargo build --locked --release -p openledger-inference-worker --bin openledger-worker
node_bin="$CARGO_TARGET_DIR/debug/openledger-node"
worker_bin="$CARGO_TARGET_DIR/release/openledger-worker"
demo="node $OPENLEDGER_ROOT/scripts/polkadotjs/demo.mjs"
api_port="${WORKER_PORT:-8000}"
chain_port="${CHAIN_WORKER_PORT:-8100}"
state="$(mktemp -d "${TMPDIR:-/tmp}/openledger-dev.XXXXXX")"

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT INT TERM

wait_for_port() {
	local port=$1 what=$2
	for _ in $(seq 1 120); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
		sleep 1
	done
	say "$what did not listen on port $port within two minutes; logs in $state"
	exit 1
}

"$node_bin" --dev --tmp --rpc-cors all "$@" 2>"$state/node.log" &
pids+=($!)
"$worker_bin" serve --model "$model" --blob-dir "$state/blobs" \
	--host 127.0.0.1 --port "$api_port" 2>"$state/serve.log" &
pids+=($!)
wait_for_port 9944 "the node"
wait_for_port "$api_port" "the OpenAI-compatible worker"
say "node log: $state/node.log; workers' logs beside it"

say "demo: datanet, contributions, base model, proposal and votes"
weights_hash="0x$(b2sum -l 256 "$model" | cut -d' ' -f1)"
ids="$($demo setup --blobs "http://127.0.0.1:$api_port" --weights-hash "$weights_hash")"
model_id="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["model"])' "$ids")"
datanet="$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print("%d:%d" % (d["datanet"], d["version"]))' "$ids")"

say "ModelFactory: training a LoRA adapter on datanet version $datanet while the vote runs"
RUST_LOG=warn "$worker_bin" train --model "$model" --datanet-version "$datanet" \
	--node ws://127.0.0.1:9944 --blob-url "http://127.0.0.1:$api_port" \
	--out "$state/adapter" --epochs 40 --rank 8 --alpha 16 --lr 0.002 \
	--holdout 0 --targets q_proj,k_proj,v_proj,o_proj >"$state/train.log"
tail -n 4 "$state/train.log" >&2
$demo wait-approved --model "$model_id"
OPENLEDGER_WORKER_SURI=//Eve "$worker_bin" publish --node ws://127.0.0.1:9944 \
	--model "$model_id" --adapter "$state/adapter" --uri "file://$state/adapter" >&2

OPENLEDGER_WORKER_SURI=//Ferdie "$worker_bin" work --model "$model" \
	--node ws://127.0.0.1:9944 --adapter "$model_id=$state/adapter" --method span \
	--state-dir "$state/ferdie" --host 127.0.0.1 --port "$chain_port" 2>"$state/work.log" &
pids+=($!)
wait_for_port "$chain_port" "//Ferdie's worker"

cat >&2 <<MSG
[run-dev] ready. Ask the demo model (//Alice pays, //Ferdie answers, the
[run-dev] contributors whose facts the answer used get credited):
  node scripts/polkadotjs/demo.mjs ask --model $model_id --worker-url http://127.0.0.1:$chain_port "The Zorbian capital is"
[run-dev] or chat with the base model:
  curl -s localhost:$api_port/v1/chat/completions -H 'content-type: application/json' \\
    -d '{"model":"SmolLM2-135M-Instruct","messages":[{"role":"user","content":"What is the capital of France?"}],"max_tokens":24,"temperature":0}'
MSG
wait "${pids[0]}"
