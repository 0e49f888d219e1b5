"""Compares threshold rules offline: scores dev and every held-out source once through a model's final int8 graph
(calibrated heads folded in), windowed as train.py evaluates, then picks thresholds on dev by each rule and reports
the held-out columns of MODEL_CARD's variant tables. The per-text scores are cached next to the graph.

    python threshold_rules.py --data .work/data --tokenizer ../models/tokenizer.json NAME=path/model.onnx [NAME=...]

Offline numbers reproduce train.py's (same windows, same graph, same rule code)."""
import argparse, hashlib, json, time
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

import train

SOURCES = [("heldout/heldout_injection", "prompt_injection"), ("heldout/bastion", "prompt_injection"), ("heldout/bastion", "jailbreak"),
           ("heldout/pyrit_jailbreak_heldout", "jailbreak"), ("heldout/heldout_harmful", "harmful"),
           ("heldout/pyrit_jailbreak_heldout", "harmful")]


def corpus_key(data):
    """A digest of the files `score` reads (dev and every held-out source), so a corpus rebuilt in place with other
    options is scored afresh rather than matched by its path."""
    d = Path(data)
    h = hashlib.sha256()
    for p in [d / "dev.jsonl", *sorted((d / "heldout").glob("*.jsonl"))]:
        h.update(p.name.encode() + b"\0" + p.read_bytes())
    return h.hexdigest()[:12]


def score(graph, data, tok, window=None):
    """Per-text calibrated scores, labels and lengths of dev and every held-out source (cached as JSON next to the
    graph, one file per corpus content: two corpora's dev sets differ, and a cache read for the wrong one would
    silently choose thresholds on another dev set). `window` = (bytes, overlap) cuts the texts into windows of
    another size than the shipped one (the cap on windows per text grows as they shrink, so the same bytes are read)."""
    suffix = "" if window is None else f".w{window[0]}o{window[1]}"
    cache = Path(f"{graph}.scores.{corpus_key(data)}{suffix}.json")
    if cache.is_file():
        return {k: {a: np.array(b) for a, b in v.items()} for k, v in json.loads(cache.read_text()).items()}
    splits, held = train.load_data(data)
    sc = train.Scorer(graph)
    out = {}
    for name, rows in ({"dev": splits["dev"]} | {f"heldout/{k}": v for k, v in held.items()}).items():
        t0 = time.time()
        _, flat, owner = train.eval_windows(tok, rows, window)
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
    base, _, kinds = rule.partition("+")
    th = train.choose_thresholds(dev["y"], dev["p"], dev["y"].sum(1) == 0, dev["long"], base, dev["kind"] if kinds else None)
    m = {k: train.metrics(v["y"], v["p"], th, v["y"].sum(1) == 0, v["long"]) for k, v in s.items()}
    fpr = [m[k]["_benign_any_intent_fpr"] for k in BENIGN_SOURCES]
    blocked = [blocked_share(s[k], th) for k in BENIGN_SOURCES]
    rec = [m[k][l]["recall"] for k, l in SOURCES]
    cells = [f"{th[l]:.3g}" for l in train.INTENT]
    return (f"| {name}, {rule} | {' / '.join(cells)} | " + " | ".join(f"{f * 100:.2f}% ({b * 100:.2f}%)" for f, b in zip(fpr, blocked)) + " | "
            + " | ".join(f"{r:.3f}" for r in rec) + f" | {sum(rec) / len(rec):.3f} |")


MATCHED_RATES = (0.002, 0.005, 0.01)  # shares of held-out benign texts `matched` sets the PI threshold at


def matched(name, s):
    """A diagnostic, never a way to choose thresholds: `prompt_injection` recall on the held-out attacks at the
    threshold where the held-out everyday prompts and long documents get that label at a given rate, and the
    share of dev's benign texts over the same threshold. It compares how well two models rank, apart from how
    well dev predicts where their threshold lands."""
    pi = train.LABELS.index("prompt_injection")
    benign = np.concatenate([np.asarray(s[k]["p"])[:, pi] for k in BENIGN_SOURCES[:2]])
    inj = np.asarray(s["heldout/heldout_injection"]["p"])[:, pi]
    b = s["heldout/bastion"]
    bastion = np.asarray(b["p"])[np.asarray(b["y"])[:, pi] == 1, pi]
    dev = s["dev"]
    dev_benign = np.asarray(dev["p"])[np.asarray(dev["y"]).sum(1) == 0, pi]
    cells = []
    for r in MATCHED_RATES:
        t = float(np.quantile(benign, 1 - r))
        cells.append(f"{t:.2f}: {np.mean(inj >= t):.3f} / {np.mean(bastion >= t):.3f} / {np.mean(dev_benign >= t) * 100:.2f}%")
    return f"| {name} | " + " | ".join(cells) + " |"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--rules", default="f1,fpr", help="comma-separated: f1, fpr, each optionally with +kinds (train.py --kind-budget)")
    ap.add_argument("--matched", action="store_true", help="also print the matched-rate diagnostic (see `matched`)")
    ap.add_argument("--windows", default="", help="window sizes to score each text at, as BYTES:OVERLAP[+BYTES:OVERLAP...]; "
                    "a text's score is its highest over all of them (default: the shipped windows only)")
    ap.add_argument("models", nargs="+", help="NAME=path/model.onnx")
    a = ap.parse_args()
    tok = Tokenizer.from_file(a.tokenizer)
    print("| model, rule | PI / JB / harmful thresholds | heldout_benign any F (blocked) | long docs any F (blocked) | gpt_prompt any F (blocked) | "
          + " | ".join(f"{k.split('/')[1]} {l} R" for k, l in SOURCES) + " | mean R |")
    scored = []
    dev_kinds = np.array(train.kinds_of(train.load_data(a.data)[0]["dev"]))
    for spec in a.models:
        name, graph = spec.split("=", 1)
        scales = [tuple(int(x) for x in w.split(":")) for w in a.windows.split("+")] if a.windows else [None]
        parts = [score(Path(graph), a.data, tok, w) for w in scales]
        s = {k: v | {"p": np.max([np.asarray(q[k]["p"]) for q in parts], axis=0)} for k, v in parts[0].items()}
        s["dev"]["kind"] = dev_kinds
        scored.append((name, s))
        for rule in a.rules.split(","):
            print(row(name, rule, s))
    if a.matched:
        print("\n| model | " + " | ".join(f"PI at {r * 100:.1f}% of held-out benign: threshold: heldout_injection R / bastion PI R / dev benign over it"
                                          for r in MATCHED_RATES) + " |")
        for name, s in scored:
            print(matched(name, s))


if __name__ == "__main__":
    main()
