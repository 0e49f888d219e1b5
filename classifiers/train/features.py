"""The first-stage features, byte for byte the same as the Rust side (classifiers/src/onnx/ngram.rs):
lower-cased (ASCII) bytes, every 3-byte window hashed with 32-bit FNV-1a into BUCKETS buckets,
counts L2-normalized."""
import numpy as np

BUCKETS = 1 << 15
N = 3
FNV_OFFSET, FNV_PRIME = 0x811C9DC5, 0x01000193


def buckets(text: str):
    b = text.encode("utf-8", errors="replace").lower()
    counts = {}
    for i in range(len(b) - N + 1):
        h = FNV_OFFSET
        for c in b[i:i + N]:
            h = ((h ^ c) * FNV_PRIME) & 0xFFFFFFFF
        k = h % BUCKETS
        counts[k] = counts.get(k, 0) + 1
    return counts


def matrix(texts):
    from scipy.sparse import csr_matrix
    rows, cols, vals = [], [], []
    for r, t in enumerate(texts):
        c = buckets(t)
        norm = np.sqrt(sum(v * v for v in c.values())) or 1.0
        for k, v in c.items():
            rows.append(r)
            cols.append(k)
            vals.append(v / norm)
    return csr_matrix((vals, (rows, cols)), shape=(len(texts), BUCKETS), dtype=np.float32)
