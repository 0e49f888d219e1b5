"""Scores built int8 graphs on today's held-out sources at each graph's own thresholds (from its metadata), windowed
like train.py's evaluation, so a candidate and the shipped model are compared on the same rows in one run:

    python compare.py --data .work/data --tokenizer ../models/tokenizer.json NAME=path/model.onnx [NAME=...]

Prints, per source, the share of benign texts with any intent label and the recall of each intent label."""
import argparse, json
from pathlib import Path

import numpy as np
import onnx
from tokenizers import Tokenizer

from train import INTENT, Scorer, eval_windows, load_data, metrics, targets, text_max


def thresholds(path):
    meta = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
    return json.loads(meta["promptwall.thresholds"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--sets", default="heldout", help="heldout, or a comma list of split names (dev,test)")
    ap.add_argument("graphs", nargs="+", help="NAME=model.onnx")
    a = ap.parse_args()
    splits, held = load_data(a.data)
    sets = held if a.sets == "heldout" else {k: splits[k] for k in a.sets.split(",")}
    tok = Tokenizer.from_file(a.tokenizer)
    wins = {k: eval_windows(tok, rows)[1:] for k, rows in sets.items()}
    out = {}
    for spec in a.graphs:
        name, path = spec.split("=", 1)
        th, scorer = thresholds(path), Scorer(Path(path))
        for k, rows in sets.items():
            flat, owner = wins[k]
            p = text_max(scorer.windows(flat), owner, len(rows))
            m = metrics(targets(rows), p, th, np.array([not r["labels"] for r in rows]))
            out.setdefault(k, {})[name] = {"benign": m["_benign"], "any_intent_fpr": m["_benign_any_intent_fpr"],
                                           **{f"{l}_recall": m[l]["recall"] for l in INTENT}, **{f"{l}_fpr": m[l]["benign_fpr"] for l in INTENT}}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
