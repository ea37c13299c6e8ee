#!/usr/bin/env bash
# Reports how many inferences settle per block on OpenLedger at the weights
# in pallets/attribution/src/weights.rs: one by one (request, receipt,
# settlement) and in voucher batches, against the runtime's block limits.
# DESIGN §10 sets the goal: at least 2,000 per block with batching; the
# report fails if the batched worst case misses it. Until
# `scripts/benchmarks/run.sh pallet_attribution` has regenerated the weights,
# the report says that its numbers come from provisional weights.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../env.sh"
cd "$OPENLEDGER_ROOT"
export SKIP_WASM_BUILD=1
cargo test -p pallet-attribution --lib settlement_throughput -- --ignored --nocapture --test-threads 1
