#!/usr/bin/env bash
# Measures the weights of OpenLedger's pallets and rewrites their weights.rs.
# Builds the node with `runtime-benchmarks` into its own target directory,
# so the normal build is left alone. Usage: scripts/benchmarks/run.sh [pallet...]
# With EXTRINSICS=a,b (one pallet), only those benchmarks run and their
# functions replace the old ones in weights.rs (splice_weights.py), whose
# header then says so.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../env.sh"
"$OPENLEDGER_ROOT/scripts/setup.sh"
cd "$OPENLEDGER_ROOT"
export CARGO_TARGET_DIR="${OPENLEDGER_BENCH_TARGET_DIR:-$HOME/.cache/openledger/bench-target}"
# The node's own code (storage overlay, trie, hashing) runs natively around
# the Wasm being measured; an unoptimised build would inflate every weight.
export CARGO_PROFILE_DEV_OPT_LEVEL="${CARGO_PROFILE_DEV_OPT_LEVEL:-1}"
# frame-benchmarking-cli carries a test runtime for `benchmark storage`, which
# this script does not run. Its Wasm build looks itself up in this workspace's
# metadata (through WASM_BUILD_WORKSPACE_HINT), where it is absent, and fails.
export SKIP_FRAME_STORAGE_ACCESS_TEST_RUNTIME_WASM_BUILD=1

cargo build --locked -p openledger-node --features runtime-benchmarks
node="$CARGO_TARGET_DIR/debug/openledger-node"

declare -A weights_file=(
	[pallet_datanets]=pallets/datanets/src/weights.rs
	[pallet_openledger_staking]=pallets/staking/src/weights.rs
	[pallet_model_registry]=pallets/model-registry/src/weights.rs
	[pallet_rewards]=pallets/rewards/src/weights.rs
	[pallet_attribution]=pallets/attribution/src/weights.rs
)
pallets=("$@")
[ ${#pallets[@]} -gt 0 ] || pallets=("${!weights_file[@]}")

extrinsics="${EXTRINSICS:-*}"
if [ "$extrinsics" != '*' ] && [ ${#pallets[@]} -ne 1 ]; then
	echo "EXTRINSICS needs exactly one pallet" >&2
	exit 2
fi

for pallet in "${pallets[@]}"; do
	output="${weights_file[$pallet]}"
	[ "$extrinsics" = '*' ] || output="$(mktemp --suffix=.rs)"
	"$node" benchmark pallet \
		--chain dev \
		--pallet "$pallet" \
		--extrinsic "$extrinsics" \
		--steps "${STEPS:-50}" \
		--repeat "${REPEAT:-20}" \
		--wasm-execution compiled \
		--heap-pages 4096 \
		--template scripts/benchmarks/weight-template.hbs \
		--output "$output"
	if [ "$extrinsics" != '*' ]; then
		python3 scripts/benchmarks/splice_weights.py "$output" "${weights_file[$pallet]}"
		rm "$output"
	fi
done
