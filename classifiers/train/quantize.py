"""Makes the encoder compute in int8, so a 128-token window fits the CPU budget.

The pinned encoder stores its weights in int8 but dequantizes them and computes in float (about 25 ms
for 128 tokens on one core). This folds those constants with onnxruntime's basic optimizer, then
quantizes every MatMul (per-channel int8 weights) and the embedding Gather statically: activation
ranges come from a calibration run and are fixed, so a text's scores never depend on what else is in
its batch (dynamic quantization would make them). About 12 ms for 128 tokens.

The ranges are committed (classifiers/models/calibration.json): setup reuses them instead of
calibrating, so every machine builds the same bytes, which fuse.py checks by SHA-256.

Usage: python3 quantize.py ENCODER.onnx CALIBRATION.json OUT.onnx"""
import hashlib, sys, tempfile
from pathlib import Path

import numpy as np
import onnxruntime as ort
from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                      quantize_static)

COMPUTE = "int8-static-per-channel"


class _Samples(CalibrationDataReader):
    """Feeds token-id lists to the calibration run, one text per batch."""

    def __init__(self, samples):
        self.it = iter(samples)

    def get_next(self):
        ids = next(self.it, None)
        if ids is None:
            return None
        ids = np.array([ids], dtype=np.int64)
        return {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}


def quantize(src, calibration, out, samples=None):
    """Writes the int8 encoder to `out` and returns its SHA-256.

    With `samples` (token-id lists) the activation ranges are measured and written to `calibration`;
    without, they are read from it."""
    calibration = Path(calibration)
    if samples is not None:
        calibration.unlink(missing_ok=True)
    elif not calibration.is_file():
        sys.exit(f"{calibration}: no activation ranges (rebuild with classifiers/train/build.sh)")
    with tempfile.TemporaryDirectory() as d:
        folded = Path(d) / "folded.onnx"
        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        so.optimized_model_filepath = str(folded)
        ort.InferenceSession(str(src), so, providers=["CPUExecutionProvider"])
        quantize_static(str(folded), str(out), _Samples(samples) if samples is not None else None,
                        quant_format=QuantFormat.QOperator, per_channel=True, weight_type=QuantType.QInt8,
                        activation_type=QuantType.QUInt8, op_types_to_quantize=["MatMul", "Gather"],
                        calibrate_method=CalibrationMethod.MinMax, calibration_cache_path=str(calibration))
    return hashlib.sha256(Path(out).read_bytes()).hexdigest()


if __name__ == "__main__":
    print(quantize(sys.argv[1], sys.argv[2], sys.argv[3]))
