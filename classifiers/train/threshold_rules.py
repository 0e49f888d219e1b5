"""Compares threshold rules offline: scores dev and every held-out source once through a model's final int8 graph
(calibrated heads folded in), windowed as train.py evaluates, then picks thresholds on dev by each rule and reports
the held-out columns of MODEL_CARD's variant tables. The per-text scores are cached next to the graph.

    python threshold_rules.py --data .work/data --tokenizer ../models/tokenizer.json NAME=path/model.onnx [NAME=...]

Offline numbers reproduce train.py's (same windows, same graph, same rule code)."""
import argparse, json, time
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

import train

SOURCES = [("heldout/heldout_injection", "prompt_injection"), ("heldout/bastion", "prompt_injection"), ("heldout/bastion", "jailbreak"),
           ("heldout/pyrit_jailbreak_heldout", "jailbreak"), ("heldout/heldout_harmful", "harmful"),
           ("heldout/pyrit_jailbreak_heldout", "harmful")]


def score(graph, data, tok):
    """Per-text calibrated scores, labels and lengths of dev and every held-out source (cached as JSON)."""
    cache = Path(str(graph) + ".scores.json")
    if cache.is_file():
        return {k: {a: np.array(b) for a, b in v.items()} for k, v in json.loads(cache.read_text()).items()}
    splits, held = train.load_data(data)
    sc = train.Scorer(graph)
    out = {}
    for name, rows in ({"dev": splits["dev"]} | {f"heldout/{k}": v for k, v in held.items()}).items():
        t0 = time.time()
        _, flat, owner = train.eval_windows(tok, rows)
        out[name] = {"p": train.text_max(sc.windows(flat), owner, len(rows)), "y": train.targets(rows),
                     "long": np.array([len(r["text"].encode()) > train.LONG_BYTES for r in rows])}
        train.log(f"scored {name}: {len(rows)} texts in {time.time() - t0:.0f}s")
    cache.write_text(json.dumps({k: {a: b.tolist() for a, b in v.items()} for k, v in out.items()}))
    return out


BENIGN_SOURCES = ("heldout/heldout_benign", "heldout/heldout_long_docs", "heldout/gpt_prompt")
BLOCKING = ("prompt_injection", "jailbreak")  # the labels the default policy blocks (`harmful` is logged)


def blocked_share(v, th):
    """Share of a source's benign texts that get a label the default policy blocks."""
    p, benign = np.asarray(v["p"]), np.asarray(v["y"]).sum(1) == 0
    flag = np.zeros(len(p), bool)
    for l in BLOCKING:
        flag |= p[:, train.LABELS.index(l)] >= th[l]
    return float(flag[benign].mean())


def row(name, rule, s):
    dev = s["dev"]
    th = train.choose_thresholds(dev["y"], dev["p"], dev["y"].sum(1) == 0, dev["long"], rule)
    m = {k: train.metrics(v["y"], v["p"], th, v["y"].sum(1) == 0, v["long"]) for k, v in s.items()}
    fpr = [m[k]["_benign_any_intent_fpr"] for k in BENIGN_SOURCES]
    blocked = [blocked_share(s[k], th) for k in BENIGN_SOURCES]
    rec = [m[k][l]["recall"] for k, l in SOURCES]
    cells = [f"{th[l]:.3g}" for l in train.INTENT]
    return (f"| {name}, {rule} | {' / '.join(cells)} | " + " | ".join(f"{f * 100:.2f}% ({b * 100:.2f}%)" for f, b in zip(fpr, blocked)) + " | "
            + " | ".join(f"{r:.3f}" for r in rec) + f" | {sum(rec) / len(rec):.3f} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--rules", default="f1,fpr")
    ap.add_argument("models", nargs="+", help="NAME=path/model.onnx")
    a = ap.parse_args()
    tok = Tokenizer.from_file(a.tokenizer)
    print("| model, rule | PI / JB / harmful thresholds | heldout_benign any F (blocked) | long docs any F (blocked) | gpt_prompt any F (blocked) | "
          + " | ".join(f"{k.split('/')[1]} {l} R" for k, l in SOURCES) + " | mean R |")
    for spec in a.models:
        name, graph = spec.split("=", 1)
        s = score(Path(graph), a.data, tok)
        for rule in a.rules.split(","):
            print(row(name, rule, s))


if __name__ == "__main__":
    main()
