"""What padding costs the encoder: one padded batch of mixed window lengths against runs of equal lengths and single runs
(onnxruntime, the built int8 graph, one intra-op thread). Run from the repository root after setup:
PYTHONPATH=.cache/pydeps python3 classifiers/train/padding_bench.py"""
import onnxruntime as ort, numpy as np, time
o = ort.SessionOptions(); o.intra_op_num_threads = 1; o.inter_op_num_threads = 1
s = ort.InferenceSession(".cache/model/model.onnx", o, providers=["CPUExecutionProvider"])
rng = np.random.default_rng(0)
def run(lens):
    n = max(lens); ids = np.zeros((len(lens), n), np.int64); m = np.zeros_like(ids)
    for r, l in enumerate(lens): ids[r, :l] = rng.integers(1000, 20000, l); m[r, :l] = 1
    s.run(None, {"input_ids": ids, "attention_mask": m, "token_type_ids": np.zeros_like(ids)})
def t(f, k=12):
    f(); xs = []
    for _ in range(k):
        a = time.perf_counter(); f(); xs.append(time.perf_counter() - a)
    return np.median(xs) * 1000
print("256 alone", t(lambda: run([256])))
print("150 alone", t(lambda: run([150])))
print("[256,150] padded", t(lambda: run([256, 150])))
print("[256,256]", t(lambda: run([256, 256])))
print("4x[256,150] padded", t(lambda: run([256, 150] * 4)))
print("4x256 + 4x150 grouped", t(lambda: (run([256] * 4), run([150] * 4))))
print("8 singles", t(lambda: [run([l]) for l in [256, 150] * 4]))
