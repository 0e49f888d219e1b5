"""Averages the fine-tuning of several training runs of one recipe (a "model soup": same base, same corpus, other
seeds) into a model directory that `train.py --skip-train` then builds, calibrates, thresholds and evaluates like
any other run. Runs from one pretrained encoder stay close enough that their average is itself a model, and it
varies less from seed to seed than any one run (Wortsman et al., 2022).

    python soup.py --out /tmp/soup RUN_DIR RUN_DIR [...]
    python train.py --skip-train --out /tmp/soup --data <the runs' corpus> --work <scratch> [the runs' options]

Each RUN_DIR is a train.py `--out` directory: its delta, its calibrated heads (the raw heads are recovered from the
Platt terms folded into them) and its metrics. numpy only."""
import argparse, json, shutil
from pathlib import Path

import numpy as np

import bert_onnx


def raw_heads(heads):
    """The uncalibrated head weights and biases a run trained (train.py folds Platt's a, b into what it writes)."""
    labels = heads["labels"]
    a = np.array([heads["platt"][l]["a"] for l in labels])
    b = np.array([heads["platt"][l]["b"] for l in labels])
    return np.array(heads["weights"]) / a[:, None], (np.array(heads["bias"]) - b) / a


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("runs", nargs="+")
    a = ap.parse_args()
    runs = [Path(r) for r in a.runs]
    heads = [json.loads((r / bert_onnx.HEADS).read_text()) for r in runs]
    for h in heads[1:]:
        for k in ("labels", "pool", "tuned_layers", "max_tokens"):
            if h[k] != heads[0][k]:
                raise SystemExit(f"runs differ in {k}: {h[k]} / {heads[0][k]}; only runs of one recipe average")
    deltas = [bert_onnx.read_safetensors((r / bert_onnx.DELTA).read_bytes()) for r in runs]
    if any(set(d) != set(deltas[0]) for d in deltas):
        raise SystemExit("runs tuned different tensors")
    soup = {k: np.mean([d[k].astype(np.float32) for d in deltas], axis=0).astype(deltas[0][k].dtype) for k in deltas[0]}
    ws, bs = zip(*(raw_heads(h) for h in heads))
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    bert_onnx.write_safetensors(out / bert_onnx.DELTA, soup)
    # identity Platt terms: --skip-train reads these raw heads back unchanged, then calibrates the soup on dev
    merged = dict(heads[0], weights=np.mean(ws, axis=0).tolist(), bias=np.mean(bs, axis=0).tolist(),
                  platt={l: {"a": 1.0, "b": 0.0} for l in heads[0]["labels"]})
    (out / bert_onnx.HEADS).write_text(json.dumps(merged))
    metrics = [json.loads((r / "metrics.json").read_text()) for r in runs]
    m = dict(metrics[0], train_seconds=sum(x["train_seconds"] for x in metrics), soup_of=[str(r) for r in runs])
    (out / "metrics.json").write_text(json.dumps(m, indent=1))
    shutil.copy(runs[0] / "tokenizer.json", out / "tokenizer.json")
    print(f"averaged {len(runs)} runs ({len(soup)} tensors) into {out}")


if __name__ == "__main__":
    main()
