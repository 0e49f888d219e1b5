"""Sanity check for the corpus (not the model): a quick TF-IDF + logistic baseline trained on train.jsonl,
scored on test and on every held-out source. Flags label noise and shortcuts (e.g. benign held-out
texts flagged en masse). Usage: python3 classifiers/train/corpus_check.py classifiers/train/.work/data"""
import json, sys
from pathlib import Path

import numpy as np
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).resolve().parent))
from slots import LABELS  # noqa: E402


def load(p):
    return [json.loads(l) for l in open(p, encoding="utf-8")]


def breakdown(rows, P, T):
    from collections import Counter
    c = Counter()
    for i, r in enumerate(rows):
        if not T[i].any():
            for j, l in enumerate(LABELS):
                if P[i, j]:
                    c[(r["source"], r["kind"], l)] += 1
    for k, v in c.most_common(8):
        print(f"      false {k[2]:17s} {v:4d}  {k[0]} / {k[1]}")


def main(d):
    d = Path(d)
    tr, te = load(d / "train.jsonl"), load(d / "test.jsonl")
    cut = lambda rows: [r["text"][:3000] for r in rows]
    wv = TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=200000, sublinear_tf=True)
    cv = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 4), min_df=3, max_features=200000, sublinear_tf=True)
    X = hstack([wv.fit_transform(cut(tr)), cv.fit_transform(cut(tr))]).tocsr()
    feats = lambda rows: hstack([wv.transform(cut(rows)), cv.transform(cut(rows))]).tocsr()
    Y = np.array([[l in r["labels"] for l in LABELS] for r in tr])
    clfs = [LogisticRegression(C=4.0, max_iter=2000, class_weight="balanced").fit(X, Y[:, j]) for j in range(len(LABELS))]
    pred = lambda rows: np.stack([c.predict_proba(feats(rows))[:, 1] for c in clfs], 1) >= 0.5
    P, T = pred(te), np.array([[l in r["labels"] for l in LABELS] for r in te])
    print("test split (in-distribution, held out by group):")
    for j, l in enumerate(LABELS):
        tp, fp, fn = (P[:, j] & T[:, j]).sum(), (P[:, j] & ~T[:, j]).sum(), (~P[:, j] & T[:, j]).sum()
        print(f"  {l:17s} P={tp / max(tp + fp, 1):.3f} R={tp / max(tp + fn, 1):.3f}")
    ben = ~T.any(1)
    print(f"  benign flagged: {P[ben].any(1).mean():.4f}")
    breakdown(te, P, T)
    print("held-out sources (benign: share flagged with any label; attacks: recall of their labels):")
    for f in sorted((d / "heldout").glob("*.jsonl")):
        rows = load(f)
        P = pred(rows)
        T = np.array([[l in r["labels"] for l in LABELS] for r in rows])
        b = ~T.any(1)
        msg = f"  {f.stem:24s} n={len(rows):5d}"
        if b.any():
            msg += f" benign={b.sum():5d} flagged={P[b].any(1).mean():.3f}"
        for j, l in enumerate(LABELS):
            if T[:, j].any():
                msg += f" {l}:R={(P[:, j] & T[:, j]).sum() / T[:, j].sum():.2f}"
        print(msg)
        if b.any() and P[b].any(1).mean() > 0.02:
            breakdown(rows, P, T)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "classifiers/train/.work/data")
