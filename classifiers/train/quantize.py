"""Makes the encoder compute in int8, so a window fits the CPU budget.

Quantizes the weight MatMuls (per-channel int8 weights) and the word-embedding Gather statically:
activation ranges come from a calibration run and are fixed, so a text's scores never depend on what
else is in its batch (dynamic quantization would make them). The attention products (activation x
activation) stay in float.

The ranges are committed (classifiers/models/calibration.json): setup reuses them instead of
calibrating, so every machine builds the same bytes, which bert_onnx.py checks by SHA-256.

Usage: python3 quantize.py FLOAT.onnx CALIBRATION.json OUT.onnx"""
import hashlib, sys
from pathlib import Path

import numpy as np
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


def quantize(src, calibration, out, samples=None, nodes=None):
    """Writes the int8 graph to `out` and returns its SHA-256.

    With `samples` (token-id lists) the activation ranges are measured and written to `calibration`;
    without, they are read from it. `nodes`: the node names to quantize (default: every MatMul and Gather)."""
    calibration = Path(calibration)
    if samples is not None:
        calibration.unlink(missing_ok=True)
    elif not calibration.is_file():
        sys.exit(f"{calibration}: no activation ranges (rebuild with classifiers/train/build.sh)")
    quantize_static(str(src), str(out), _Samples(samples) if samples is not None else None,
                    quant_format=QuantFormat.QOperator, per_channel=True, weight_type=QuantType.QInt8,
                    activation_type=QuantType.QUInt8, op_types_to_quantize=["MatMul", "Gather"],
                    nodes_to_quantize=nodes, calibrate_method=CalibrationMethod.MinMax,
                    calibration_cache_path=str(calibration))
    return hashlib.sha256(Path(out).read_bytes()).hexdigest()


if __name__ == "__main__":
    print(quantize(sys.argv[1], sys.argv[2], sys.argv[3]))
