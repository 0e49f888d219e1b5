"""The first-stage features, byte for byte the same as the Rust side (classifiers/src/onnx/ngram.rs):
lower-cased (ASCII) bytes, every 3-byte window hashed with 32-bit FNV-1a into BUCKETS buckets,
counts L2-normalized. `buckets` is the reference definition; `matrix` computes the same with numpy."""
import numpy as np

BUCKETS = 1 << 16
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


def _row(text):
    b = np.frombuffer(text.encode("utf-8", errors="replace").lower(), dtype=np.uint8)
    if len(b) < N:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    h = np.full(len(b) - N + 1, FNV_OFFSET, dtype=np.uint32)
    for k in range(N):
        h = (h ^ b[k:len(b) - N + 1 + k].astype(np.uint32)) * np.uint32(FNV_PRIME)
    keys, counts = np.unique(h % np.uint32(BUCKETS), return_counts=True)
    c = counts.astype(np.float32)
    return keys.astype(np.int64), c / max(float(np.sqrt((c * c).sum())), 1.0)


def matrix(texts):
    from scipy.sparse import csr_matrix
    indptr, cols, vals = [0], [], []
    for t in texts:
        k, v = _row(t)
        cols.append(k)
        vals.append(v)
        indptr.append(indptr[-1] + len(k))
    cols = np.concatenate(cols) if cols else np.zeros(0, np.int64)
    vals = np.concatenate(vals) if vals else np.zeros(0, np.float32)
    return csr_matrix((vals, cols, np.array(indptr)), shape=(len(texts), BUCKETS), dtype=np.float32)


def _fnv(data: bytes):
    h = FNV_OFFSET
    for c in data:
        h = ((h ^ c) * FNV_PRIME) & 0xFFFFFFFF
    return h


def words(text: str):
    """Word runs of the lower-cased bytes: ASCII letters and digits, and any non-ASCII byte."""
    import re
    return re.findall(rb"[a-z0-9\x80-\xff]+", text.encode("utf-8", errors="replace").lower())


def word_keys(text: str):
    """Hashed word unigrams ('w' + word) and bigrams ('b' + word + ' ' + word), in BUCKETS buckets."""
    ws = words(text)
    keys = [_fnv(b"w" + w) % BUCKETS for w in ws]
    keys += [_fnv(b"b" + a + b" " + b) % BUCKETS for a, b in zip(ws, ws[1:])]
    return keys


def matrix_words(texts):
    """Byte 3-grams and word uni- and bigrams counted in one vector, L2-normalized."""
    from scipy.sparse import csr_matrix
    indptr, cols, vals = [0], [], []
    for t in texts:
        b = np.frombuffer(t.encode("utf-8", errors="replace").lower(), dtype=np.uint8)
        ks = []
        if len(b) >= N:
            h = np.full(len(b) - N + 1, FNV_OFFSET, dtype=np.uint32)
            for k in range(N):
                h = (h ^ b[k:len(b) - N + 1 + k].astype(np.uint32)) * np.uint32(FNV_PRIME)
            ks.append((h % np.uint32(BUCKETS)).astype(np.int64))
        ks.append(np.array(word_keys(t), dtype=np.int64))
        keys, counts = np.unique(np.concatenate(ks), return_counts=True)
        c = counts.astype(np.float32)
        cols.append(keys)
        vals.append(c / max(float(np.sqrt((c * c).sum())), 1.0))
        indptr.append(indptr[-1] + len(keys))
    return csr_matrix((np.concatenate(vals), np.concatenate(cols), np.array(indptr)), shape=(len(texts), BUCKETS), dtype=np.float32)
