"""The encoder's own scores on every window of the dataset, the targets the first stage learns from
(distill.py). Scored once through the shipped int8 graph and cached under .work/teacher/, since the
train split alone is tens of thousands of windows (about 20 minutes on 2 cores):

    python3 teacher.py --data .work/data --model ../../.cache/model/model.onnx

Each split gets `<name>.npz`: `scores` (windows x labels, calibrated probabilities as the proxy sees
them), `owner` (the text each window belongs to) and `n` (texts). Windows are cut as the Rust side cuts
them (finetune.split) and capped as train.py caps them (first, last, evenly spaced).
"""
import argparse, hashlib, time
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

import finetune
from train import EVAL_WINDOWS, MAX_TOKENS, TRAIN_WINDOWS, Scorer, flatten, load_data, log


def windows_of(rows, cap):
    return [finetune.pick(finetune.split(r["text"]), cap) for r in rows]


def graph_id(model):
    """The graph's bytes as a key of its cached scores (read once per run, not per split)."""
    return hashlib.sha256(Path(model).read_bytes()).digest()


def digest(rows, graph):
    """Which texts a cache file was scored from, and by which graph (`graph_id`), so a changed dataset or a retrained
    encoder is scored again (build.sh also clears the cache; a run by hand against a new model used to read the old one's)."""
    h = hashlib.sha256(graph)
    for r in rows:
        h.update(r["text"].encode())
        h.update(b"\0")
    return h.hexdigest()


def load(path, rows, graph):
    """The cached teacher scores for `rows` by the graph `graph` identifies, or None when missing or stale."""
    if not path.is_file():
        return None
    z = np.load(path)
    if str(z["digest"]) != digest(rows, graph):
        return None
    return z["scores"], z["owner"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=".work/data")
    ap.add_argument("--model", default="../../.cache/model/model.onnx")
    ap.add_argument("--tokenizer", default="../models/tokenizer.json")
    ap.add_argument("--out", default=".work/teacher")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    splits, held = load_data(a.data)
    sets = {"dev": splits["dev"], "test": splits["test"]} | {f"heldout_{k}": v for k, v in held.items()} | {"train": splits["train"]}
    tok = Tokenizer.from_file(a.tokenizer)
    tok.no_padding(), tok.enable_truncation(max_length=MAX_TOKENS)
    scorer = Scorer(a.model, threads=a.threads)
    graph = graph_id(a.model)
    for name, rows in sets.items():
        path = out / f"{name}.npz"
        if load(path, rows, graph) is not None:
            log(f"{name}: cached")
            continue
        t0 = time.time()
        wins = windows_of(rows, TRAIN_WINDOWS if name == "train" else EVAL_WINDOWS)
        flat, owner = flatten([[e.ids for e in tok.encode_batch(ws)] for ws in wins])
        scores = scorer.windows(flat)
        np.savez_compressed(path, scores=scores, owner=owner, n=len(rows), digest=digest(rows, graph))
        log(f"{name}: {len(rows)} texts, {len(flat)} windows in {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
