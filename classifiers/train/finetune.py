"""Fine-tunes the top layers of all-MiniLM-L6-v2 jointly with the label heads (training venv only: torch).

The lower (frozen) layers run once over every training window and their hidden states are cached
(fp16); the top layers and the heads then train on that cache for a few epochs. A text's windows are
scored like the Rust side reads them (1000-byte windows, 200 bytes of overlap, at most `max_tokens`
tokens each) and its label logits are the maximum over its windows (multiple-instance learning:
the same max the runtime takes), so a long benign document teaches "no window fires" and a long
attack only needs its worst window to fire.
"""
import math, random, time

import numpy as np
import torch
import torch.nn.functional as F

from bert_onnx import EPS, HIDDEN, LAYERS, NHEADS, POOLS, base_weights

WINDOW, OVERLAP = 1000, 200


def split(text, size=None, overlap=None):
    """The Rust windows (classifiers/src/onnx/windows.rs): byte ranges snapped forward to UTF-8 boundaries
    (default: the module's WINDOW and OVERLAP, which `train.py --window` sets)."""
    size, overlap = size or WINDOW, OVERLAP if overlap is None else overlap
    b = text.encode("utf-8")
    overlap = min(overlap, size // 2)

    def snap(i):
        while i < len(b) and (b[i] & 0xC0) == 0x80:
            i += 1
        return min(i, len(b))

    out, start = [], 0
    while True:
        end = snap(min(start + size, len(b)))
        out.append(b[start:end].decode("utf-8"))
        if end >= len(b):
            return out
        start = snap(max(end - overlap, start + 1))


def pick(windows, cap):
    """At most `cap` windows: the first, the last and evenly spaced ones between."""
    if len(windows) <= cap:
        return windows
    idx = sorted(set(np.linspace(0, len(windows) - 1, cap).round().astype(int).tolist()))
    return [windows[i] for i in idx]


class Bert(torch.nn.Module):
    """BERT with the Hugging Face parameter names ('.' written as '__'), eager, for training."""

    def __init__(self, weights, n_labels, tune_from, pool="mean", layers=LAYERS):
        super().__init__()
        self.tune_from = tune_from
        # layers 0..layers-1 run; fewer than six prunes the encoder from the top (a cheaper student)
        self.layers = layers
        self.pool = pool
        self.p = torch.nn.ParameterDict({k.replace(".", "__"): torch.nn.Parameter(torch.from_numpy(v.copy()), requires_grad=False)
                                         for k, v in weights.items() if not k.startswith("pooler")})
        for k, prm in self.p.items():
            if any(k.startswith(f"encoder__layer__{i}__") for i in range(tune_from, layers)):
                prm.requires_grad_(True)
        self.head_w = torch.nn.Parameter(torch.zeros(n_labels, HIDDEN * len(POOLS[pool])))
        self.head_b = torch.nn.Parameter(torch.zeros(n_labels))
        self.dropout = 0.1
        # logits = SCALE * (w . pooled) + b: the pooled vector has unit norm, so the heads need large weights;
        # the scale lets them grow fast (the exported weights are SCALE * head_w)
        self.scale = 20.0

    def w(self, name):
        return self.p[name.replace(".", "__")]

    def embed(self, ids):
        P = "embeddings."
        x = self.w(P + "word_embeddings.weight")[ids] + self.w(P + "position_embeddings.weight")[: ids.shape[1]][None] \
            + self.w(P + "token_type_embeddings.weight")[0]
        return F.layer_norm(x, (HIDDEN,), self.w(P + "LayerNorm.weight"), self.w(P + "LayerNorm.bias"), EPS)

    def layer(self, i, x, bias):
        L = f"encoder.layer.{i}."
        lin = lambda t, n: F.linear(t, self.w(L + n + ".weight"), self.w(L + n + ".bias"))
        B, S, _ = x.shape
        hd = HIDDEN // NHEADS
        q = lin(x, "attention.self.query").view(B, S, NHEADS, hd).transpose(1, 2)
        k = lin(x, "attention.self.key").view(B, S, NHEADS, hd).transpose(1, 2)
        v = lin(x, "attention.self.value").view(B, S, NHEADS, hd).transpose(1, 2)
        s = (q @ k.transpose(-1, -2)) * (1 / math.sqrt(hd)) + bias
        ctx = (s.softmax(-1) @ v).transpose(1, 2).reshape(B, S, HIDDEN)
        drop = self.dropout if (self.training and i >= self.tune_from) else 0.0
        a = F.dropout(lin(ctx, "attention.output.dense"), drop, self.training)
        x = F.layer_norm(a + x, (HIDDEN,), self.w(L + "attention.output.LayerNorm.weight"), self.w(L + "attention.output.LayerNorm.bias"), EPS)
        h = F.gelu(lin(x, "intermediate.dense"))
        o = F.dropout(lin(h, "output.dense"), drop, self.training)
        return F.layer_norm(o + x, (HIDDEN,), self.w(L + "output.LayerNorm.weight"), self.w(L + "output.LayerNorm.bias"), EPS)

    @staticmethod
    def mask_bias(mask):
        return (1.0 - mask[:, None, None, :].float()) * -10000.0

    def lower(self, ids, mask):
        x, bias = self.embed(ids), self.mask_bias(mask)
        for i in range(self.tune_from):
            x = self.layer(i, x, bias)
        return x

    def upper(self, x, mask):
        """Logits [windows, labels] from the cached lower hidden states."""
        bias = self.mask_bias(mask)
        for i in range(self.tune_from, self.layers):
            x = self.layer(i, x, bias)
        return self.pooled(x, mask) @ (self.head_w * self.scale).T + self.head_b

    def pooled(self, x, mask):
        """Per window, each pooling of POOLS[self.pool] L2-normalized, concatenated (as bert_onnx.py builds it)."""
        m = mask[..., None].float()
        parts = []
        for kind in POOLS[self.pool]:
            if kind == "mean":
                v = (x * m).sum(1) / m.sum(1).clamp(min=1e-9)
            else:  # the elementwise max over the window's tokens: one salient sentence is not averaged away
                v = (x + (1.0 - m) * -10000.0).amax(1)
            parts.append(F.normalize(v, dim=-1))
        return torch.cat(parts, -1)

    def delta(self, base):
        """Fine-tuned minus original weights of the tuned layers, fp16."""
        out = {}
        for k, prm in self.p.items():
            if prm.requires_grad:
                name = k.replace("__", ".")
                out[name] = (prm.detach().numpy() - base[name]).astype(np.float16)
        return out


def tokenize_windows(tok, texts, cap, max_tokens):
    """Per text, the token ids of its windows (at most `cap`)."""
    tok.no_padding()
    tok.enable_truncation(max_length=max_tokens)
    out = []
    for t in texts:
        ws = pick(split(t), cap)
        out.append([e.ids for e in tok.encode_batch(ws)])
    return out


def _pad(seqs):
    n = max(len(s) for s in seqs)
    ids = torch.zeros(len(seqs), n, dtype=torch.long)
    mask = torch.zeros(len(seqs), n, dtype=torch.long)
    for r, s in enumerate(seqs):
        ids[r, :len(s)] = torch.tensor(s)
        mask[r, :len(s)] = 1
    return ids, mask


def cache_lower(model, windows_per_text, token_budget=8192):
    """Runs the frozen layers over every window once; returns per window an fp16 [len, 384] tensor."""
    flat = [w for ws in windows_per_text for w in ws]
    order = sorted(range(len(flat)), key=lambda i: len(flat[i]))
    cache = [None] * len(flat)
    model.eval()
    with torch.inference_mode():
        i = 0
        while i < len(order):
            n = len(flat[order[i]])
            j = i + 1
            while j < len(order) and (j - i + 1) * len(flat[order[j]]) <= token_budget:
                j += 1
            batch = [flat[k] for k in order[i:j]]
            ids, mask = _pad(batch)
            h = model.lower(ids, mask).to(torch.float16)
            for r, k in enumerate(order[i:j]):
                cache[k] = h[r, :len(flat[k])].clone()
            i = j
    return cache


def batches(lengths_per_text, token_budget, rng):
    """Groups of texts whose windows (padded to the longest) fit the budget; similar lengths together."""
    cost = [max(l) * len(l) for l in lengths_per_text]
    order = sorted(range(len(cost)), key=lambda i: (max(lengths_per_text[i]), rng.random()))
    out, cur, cur_max, cur_n = [], [], 0, 0
    for i in order:
        m, n = max(lengths_per_text[i]), len(lengths_per_text[i])
        if cur and max(cur_max, m) * (cur_n + n) > token_budget:
            out.append(cur)
            cur, cur_max, cur_n = [], 0, 0
        cur.append(i)
        cur_max, cur_n = max(cur_max, m), cur_n + n
    if cur:
        out.append(cur)
    rng.shuffle(out)
    return out


def run_upper(model, cache, offsets, texts_idx):
    """Max-over-windows logits for the given texts."""
    seqs, owner = [], []
    for r, t in enumerate(texts_idx):
        for k in range(offsets[t], offsets[t + 1]):
            seqs.append(cache[k])
            owner.append(r)
    n = max(s.shape[0] for s in seqs)
    x = torch.zeros(len(seqs), n, HIDDEN)
    mask = torch.zeros(len(seqs), n, dtype=torch.long)
    for r, s in enumerate(seqs):
        x[r, :s.shape[0]] = s.float()
        mask[r, :s.shape[0]] = 1
    logits = model.upper(x, mask)
    owner = torch.tensor(owner)
    out = torch.full((len(texts_idx), logits.shape[1]), -1e4)
    return out.scatter_reduce(0, owner[:, None].expand_as(logits), logits, reduce="amax", include_self=True)


def train(model, cache, offsets, y, epochs, lr, head_lr, seed, token_budget=6144, log=print, time_limit=None, ema=0.0):
    """Fine-tunes the upper layers and heads; with `ema` > 0 the model ends with the exponential moving average of
    its trained weights over the steps (decay `ema`, warmed up as (1 + step) / (10 + step)), not the last step's."""
    rng = random.Random(seed)
    torch.manual_seed(seed)
    lengths = [[cache[k].shape[0] for k in range(offsets[t], offsets[t + 1])] for t in range(len(offsets) - 1)]
    Y = torch.tensor(y, dtype=torch.float32)
    pos = Y.sum(0)
    pos_weight = torch.sqrt((len(Y) - pos) / pos.clamp(min=1)).clamp(1.0, 3.0)
    enc = [p for p in model.p.values() if p.requires_grad]
    opt = torch.optim.AdamW([{"params": enc, "lr": lr, "weight_decay": 0.01},
                             {"params": [model.head_w, model.head_b], "lr": head_lr, "weight_decay": 0.0}])
    plan = [batches(lengths, token_budget, rng) for _ in range(epochs)]
    total = sum(len(p) for p in plan)
    warm = max(1, total // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / (total - warm))))
    step, t0 = 0, time.time()
    params = enc + [model.head_w, model.head_b]
    avg = [p.detach().clone() for p in params] if ema else None
    for ep in range(epochs):
        model.train()
        run = 0.0
        for bi, b in enumerate(plan[ep]):
            logits = run_upper(model, cache, offsets, b)
            loss = F.binary_cross_entropy_with_logits(logits, Y[b], pos_weight=pos_weight)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(enc + [model.head_w, model.head_b], 1.0)
            opt.step()
            sched.step()
            step += 1
            if avg is not None:
                d = min(ema, (1 + step) / (10 + step))
                with torch.no_grad():
                    for a_, p_ in zip(avg, params):
                        a_.mul_(d).add_(p_.detach(), alpha=1 - d)
            run = 0.98 * run + 0.02 * loss.item() if bi else loss.item()
            if step % 50 == 0:
                el = time.time() - t0
                log(f"epoch {ep} step {step}/{total} loss {run:.4f} {el:.0f}s (eta {el / step * (total - step):.0f}s)")
            if time_limit and time.time() - t0 > time_limit:
                log(f"time limit reached at step {step}/{total}")
                return _take_average(params, avg, step)
    return _take_average(params, avg, step)


def _take_average(params, avg, step):
    if avg is not None:
        with torch.no_grad():
            for a_, p_ in zip(avg, params):
                p_.copy_(a_)
    return step
