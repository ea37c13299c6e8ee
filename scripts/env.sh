# Sourced by the other scripts: where builds go, and what every build needs.
# One target directory outside the checkout, shared by the run command, the
# test command and CI, so a clean clone reuses the last build.

OPENLEDGER_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export OPENLEDGER_ROOT
export CARGO_TARGET_DIR="${OPENLEDGER_TARGET_DIR:-$HOME/.cache/openledger/target}"
# The Wasm builder looks for Cargo.lock upward from the target directory
# unless told where the workspace is.
export WASM_BUILD_WORKSPACE_HINT="$OPENLEDGER_ROOT"
export PATH="$HOME/.cargo/bin:$PATH"
