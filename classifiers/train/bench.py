"""Latency of a classifier graph in onnxruntime (Python), batch 1, one thread: median ms for 128 and 256 tokens.

Usage: python3 bench.py MODEL.onnx [MODEL2.onnx ...]"""
import sys, time
import numpy as np
import onnxruntime as ort


def bench(path, n=40):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    res = {}
    rng = np.random.default_rng(0)
    for L in (128, 256):
        ids = rng.integers(1000, 29000, (1, L)).astype(np.int64)
        ids[0, 0], ids[0, -1] = 101, 102
        feed = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
        for _ in range(5):
            s.run(None, feed)
        ts = []
        for _ in range(n):
            t = time.perf_counter()
            s.run(None, feed)
            ts.append(time.perf_counter() - t)
        res[L] = (float(np.median(ts)) * 1000, float(np.percentile(ts, 10)) * 1000)
    return res


if __name__ == "__main__":
    for rnd in range(2):  # interleaved, twice, since the CPU is shared
        for p in sys.argv[1:]:
            r = bench(p)
            print(f"round {rnd} {p}: " + ", ".join(f"{L} tokens median {m:.1f} ms (p10 {q:.1f})" for L, (m, q) in r.items()), flush=True)
