"""Fuses the frozen int8 encoder with mean pooling, L2 normalization and the trained heads into one
ONNX graph: (input_ids, attention_mask, token_type_ids) -> scores[batch, labels].

Usage: python3 fuse.py ENCODER.onnx HEADS.json OUT.onnx [int8|source]
The encoder is first made to compute in int8 (quantize.py, with the activation ranges committed next to the
heads), as the heads were trained on, unless `source` asks
for the pinned graph as it is (float compute; what a GPU runs best). Setup runs this in seconds from committed heads."""
import hashlib, json, sys, tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def fuse(encoder_path, heads_path, out_path, compute="int8"):
    heads = json.load(open(heads_path))
    data = open(encoder_path, "rb").read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != heads["encoder_sha256"]:
        sys.exit(f"{encoder_path}: sha256 {digest} is not the encoder the heads were trained on ({heads['encoder_sha256']})")
    runtime = digest
    if compute == "int8":
        from quantize import quantize
        with tempfile.TemporaryDirectory() as d:
            q = Path(d) / "encoder.int8.onnx"
            runtime = quantize(encoder_path, Path(heads_path).parent / heads["calibration"], q)
            if runtime != heads["runtime_encoder_sha256"]:
                sys.exit(f"the int8 encoder made from {encoder_path} has sha256 {runtime}, not the one the heads were "
                         f"trained on ({heads['runtime_encoder_sha256']}): check the pinned onnxruntime and numpy versions and {heads['calibration']}")
            data = q.read_bytes()
    elif compute != "source":
        sys.exit(f"unknown compute {compute!r}: int8 or source")
    m = onnx.load_from_string(data)
    g = m.graph
    hidden = g.output[0].name
    W = np.asarray(heads["weights"], dtype=np.float32)  # [labels, 384]
    b = np.asarray(heads["bias"], dtype=np.float32)
    g.initializer.extend([
        numpy_helper.from_array(W.T.copy(), "pw_head_w"),
        numpy_helper.from_array(b, "pw_head_b"),
        numpy_helper.from_array(np.array([-1], dtype=np.int64), "pw_axis_last"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "pw_axis_seq"),
        numpy_helper.from_array(np.array(1e-9, dtype=np.float32), "pw_eps"),
    ])
    g.node.extend([
        helper.make_node("Cast", ["attention_mask"], ["pw_mask_f"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["pw_mask_f", "pw_axis_last"], ["pw_mask_u"]),
        helper.make_node("Mul", [hidden, "pw_mask_u"], ["pw_masked"]),
        helper.make_node("ReduceSum", ["pw_masked", "pw_axis_seq"], ["pw_sum"], keepdims=0),
        helper.make_node("ReduceSum", ["pw_mask_u", "pw_axis_seq"], ["pw_count"], keepdims=0),
        helper.make_node("Max", ["pw_count", "pw_eps"], ["pw_count_safe"]),
        helper.make_node("Div", ["pw_sum", "pw_count_safe"], ["pw_mean"]),
        helper.make_node("LpNormalization", ["pw_mean"], ["pw_norm"], axis=1, p=2),
        helper.make_node("Gemm", ["pw_norm", "pw_head_w", "pw_head_b"], ["pw_logits"]),
        helper.make_node("Sigmoid", ["pw_logits"], ["scores"]),
    ])
    del g.output[:]
    g.output.append(helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["batch", len(heads["labels"])]))
    del m.metadata_props[:]
    for k, v in {
        "promptwall.labels": ",".join(heads["labels"]),
        "promptwall.thresholds": json.dumps(heads["thresholds"]),
        "promptwall.max_tokens": str(heads["max_tokens"]),
        "promptwall.heads_sha256": hashlib.sha256(open(heads_path, "rb").read()).hexdigest(),
        "promptwall.encoder_sha256": digest,
        "promptwall.runtime_encoder_sha256": runtime,
        "promptwall.compute": compute,
    }.items():
        m.metadata_props.append(onnx.StringStringEntryProto(key=k, value=v))
    onnx.checker.check_model(m)
    onnx.save(m, out_path)


if __name__ == "__main__":
    fuse(*sys.argv[1:5])
