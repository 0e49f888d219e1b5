"""source_code, confidential and phi generators, and the long benign documents (crate READMEs / docs,
Python standard library docstrings) for the corpus. Files are partitioned by a hash of their path:
a fixed ~20% of doc files is reserved for the held-out long-doc set (heldout_benign.py)."""
from collections import Counter
import datetime, ast, csv, glob, hashlib, io, os, random, re, sysconfig, zipfile
from pathlib import Path

import faker

from slots import EN, fill, row
import dataset  # v1: locked_crates(), chunks()


def heldout_file(path):
    return int(hashlib.sha256(os.path.basename(os.path.dirname(path)).encode() + os.path.basename(path).encode()).hexdigest(), 16) % 5 == 0


# Faker's date_this_year()/date_of_birth() depend on today's date; fixed ranges keep the corpus deterministic.
def _d(fake):
    return fake.date_between(start_date=datetime.date(2024, 1, 1), end_date=datetime.date(2025, 12, 31))


def _dob(fake):
    return fake.date_between(start_date=datetime.date(1935, 1, 1), end_date=datetime.date(2006, 12, 31))


# ---------------------------------------------------------------- long benign documents
def crate_docs():
    """Markdown/text docs of the crates Cargo.lock pins: README*, docs/*.md, CHANGELOG excerpts."""
    files = []
    for d in dataset.locked_crates():
        for pat in ("README*", "*.md", "doc/*.md", "docs/*.md", "docs/**/*.md"):
            files += glob.glob(d + pat, recursive=True)
    return sorted(set(f for f in files if os.path.isfile(f)))


def crate_rustdoc(max_files=800):
    """Module-level //! docs from crate lib.rs/mod.rs files (prose)."""
    out = []
    for d in dataset.locked_crates():
        for f in sorted(glob.glob(d + "src/**/*.rs", recursive=True))[:6]:
            out.append(f)
    return out[:max_files]


def prose_of_markdown(text):
    text = re.sub(r"```[\s\S]*?```", "", text)
    text = re.sub(r"<[^>]{0,200}>", "", text)
    text = re.sub(r"\[!\[[^\]]*\]\([^)]*\)\]\([^)]*\)", "", text)  # badges
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def rustdoc_prose(text):
    lines = [l.strip()[3:].strip() if l.strip().startswith("//!") else None for l in text.splitlines()]
    doc = "\n".join(l for l in lines if l is not None)
    return prose_of_markdown(doc)


def stdlib_files():
    stdlib = sysconfig.get_paths()["stdlib"]
    fs = sorted(glob.glob(os.path.join(stdlib, "*.py")) + glob.glob(os.path.join(stdlib, "*/*.py")) + glob.glob(os.path.join(stdlib, "*/*/*.py")))
    return [f for f in fs if "/test" not in f and "site-packages" not in f and "idlelib" not in f]


_CODE_LINE = re.compile(r"[=;{}]|::=|^\s*(def|class|import|from|return|for|if|elif|else:|print|while|try:|except|with|raise|yield|async|await|@)\b|^\s*>>>|^\s*\.\.\.")


def strip_doc_code(text):
    """Drop literal/code paragraphs (after '::', doctests, mostly code-looking lines) from docs used as benign prose."""
    paras = re.split(r"\n\s*\n", text)
    out, prev_literal = [], False
    for p in paras:
        lines = [l for l in p.splitlines() if l.strip()]
        if not lines:
            continue
        codeish = sum(bool(_CODE_LINE.search(l)) for l in lines) / len(lines)
        indent = len(lines[0]) - len(lines[0].lstrip())
        is_code = lines[0].lstrip().startswith(">>>") or (prev_literal and indent > 0) or (codeish >= 0.5 and not p.rstrip().endswith("."))
        prev_literal = p.rstrip().endswith("::") or (prev_literal and is_code and indent > 0)
        if not is_code:
            out.append(p.rstrip(":") + (":" if p.rstrip().endswith("::") else "") if p.rstrip().endswith("::") else p)
    return "\n\n".join(out)


def stdlib_docstrings(path):
    try:
        tree = ast.parse(Path(path).read_text(errors="replace"))
    except (SyntaxError, ValueError):
        return ""
    parts = []
    md = ast.get_docstring(tree)
    if md:
        parts.append(md)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            ds = ast.get_docstring(node)
            if ds and len(ds) > 120:
                parts.append(f"{node.name}: {ds}")
    return "\n\n".join(parts)


def long_doc_pool(heldout):
    """[(source, file, prose)] for crate docs and stdlib docstrings, train (heldout=False) or held-out partition."""
    pool = []
    for f in crate_docs():
        if heldout_file(f) != heldout:
            continue
        t = prose_of_markdown(Path(f).read_text(errors="replace"))
        if len(t) > 600:
            pool.append(("crate_readmes", f, t))
    for f in crate_rustdoc():
        if heldout_file(f) != heldout:
            continue
        t = rustdoc_prose(Path(f).read_text(errors="replace"))
        if len(t) > 600:
            pool.append(("crate_rustdoc", f, t))
    for f in stdlib_files():
        if heldout_file(f) != heldout:
            continue
        t = stdlib_docstrings(f)
        if len(t) > 600:
            pool.append(("stdlib_docs", f, strip_doc_code(t)))
    # the Python reference documentation shipped with the interpreter (pydoc_data.topics); 40% of topics held out
    from pydoc_data import topics
    for name in sorted(topics.topics):
        ho = int(hashlib.sha256(name.encode()).hexdigest(), 16) % 5 in (0, 1)
        t = strip_doc_code(topics.topics[name])
        if ho == heldout and len(t) > 600:
            pool.append(("python_docs", "/pydoc_data/topics/" + name, t))
    return pool


DOC_ASKS = ["Summarize this for me:\n\n{d}", "Translate the following into {lang_name}:\n\n{d}", "{d}\n\nWhat are the key points?",
            "Proofread this documentation:\n{d}", "Turn this into a short FAQ:\n{d}", "Can you explain this to a beginner?\n\n{d}",
            "Review this text for clarity and suggest improvements:\n\n{d}", "{d}\n\nSummarize the above in 5 bullet points.",
            "Write release notes based on this:\n{d}", "I'm reading this doc and I'm confused. What does it mean?\n\"\"\"\n{d}\n\"\"\"",
            "Make a quiz with 5 questions from this text:\n{d}", "Rewrite this in plain English:\n\n{d}"]


def excerpt(rnd, text, sizes=(900, 1500, 2500, 4000, 6000, 8000)):
    size = rnd.choice(sizes)
    if len(text) <= size:
        return text
    start = rnd.randrange(0, len(text) - size)
    # start at a paragraph boundary when possible
    nb = text.find("\n\n", start, start + 400)
    start = nb + 2 if nb >= 0 else start
    return text[start:start + size]


def long_docs(rnd, pool, n, asks=DOC_ASKS, prefix=""):
    out = []
    for i in range(n):
        src, f, t = pool[i % len(pool)]
        d = excerpt(rnd, t)
        out.append(row(fill(rnd.choice(asks), rnd, EN).replace("{d}", d), [], prefix + src, os.path.relpath(f, "/"), "en", "long_doc"))
    return out


# ---------------------------------------------------------------- source code
CODE_ASKS = ["Review this code:\n\n{c}", "Why does this fail?\n```\n{c}\n```", "{c}", "Can you add tests for this?\n{c}", "Refactor this for readability:\n{c}",
             "Explain what this does:\n\n{c}", "Find the bug:\n```\n{c}\n```", "Add type hints / docs to this:\n{c}", "Port this to {plang}:\n\n{c}",
             "```\n{c}\n```\nIs this thread-safe?", "Optimize this function:\n{c}", "What is the complexity of this code?\n{c}",
             "Write a docstring for this:\n{c}", "My colleague wrote this. Any security issues?\n\n{c}", "Convert this to async:\n{c}",
             "Translate the comments in this file to {lang_name}:\n{c}", "Summarize this module:\n\n{c}", "{c}\n\nThis panics on empty input. Why?"]
CODE_EXT = {".rs": "rust", ".py": "python", ".c": "c", ".h": "c", ".js": "javascript", ".go": "go", ".sh": "shell", ".pl": "perl", ".java": "java",
            ".ts": "typescript", ".cpp": "cpp", ".cc": "cpp", ".toml": None}


def code_files():
    py = [f for f in stdlib_files() if not heldout_file(f)]
    other = []
    for d in dataset.locked_crates():
        fs = sorted(glob.glob(d + "**/*.*", recursive=True))
        fs = [f for f in fs if os.path.splitext(f)[1] in CODE_EXT and CODE_EXT[os.path.splitext(f)[1]] and os.path.getsize(f) > 300]
        other += [f for f in fs if not f.endswith('.rs')][:40] + [f for f in fs if f.endswith('.rs')][:20]
    return py, other


SNIPPETS = [  # small hand-written code in several languages (slot: {v} variable, {t} table, {f} function)
    "SELECT {v}, COUNT(*) FROM {t} WHERE created_at > NOW() - INTERVAL '7 days' GROUP BY {v} ORDER BY 2 DESC;",
    "UPDATE {t} SET status = 'archived' WHERE last_login < '2023-01-01';",
    "const {v} = await fetch(`/api/{t}`).then(r => r.json());\nconsole.log({v}.length);",
    "function {f}(items) {{\n  return items.filter(x => x.active).map(x => x.id);\n}}",
    "def {f}({v}):\n    return sorted({v}, key=lambda x: x['date'])[:10]",
    "for i in range(len({v})):\n    if {v}[i] == None:\n        {v}.pop(i)",
    "#!/bin/bash\nfor f in *.log; do\n  gzip \"$f\"\ndone\nfind . -name '*.gz' -mtime +30 -delete",
    "func {f}(w http.ResponseWriter, r *http.Request) {{\n\tid := r.URL.Query().Get(\"id\")\n\tfmt.Fprintf(w, \"%s\", id)\n}}",
    "public int {f}(List<Integer> {v}) {{\n    return {v}.stream().mapToInt(Integer::intValue).sum();\n}}",
    "fn {f}({v}: &[u32]) -> u32 {{\n    {v}.iter().copied().max().unwrap_or(0)\n}}",
    "import pandas as pd\ndf = pd.read_csv('{t}.csv')\nprint(df.groupby('{v}').size())",
    "kill -9 $(pgrep -f {f})\nsystemctl restart {t}",
    "docker run -d --name {t} -p 8080:80 -v $(pwd)/data:/data nginx:latest",
    "class {f}:\n    def __init__(self, {v}):\n        self.{v} = {v}\n\n    def __repr__(self):\n        return f'{f}({{self.{v}!r}})'",
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {t}\nspec:\n  replicas: 3\n  template:\n    spec:\n      containers:\n      - name: {t}\n        image: {t}:1.4.2",
    "<button onclick=\"{f}()\">Save</button>\n<script>\nfunction {f}() {{ document.getElementById('{v}').value = ''; }}\n</script>",
    "try:\n    {v} = json.loads(raw)\nexcept Exception:\n    pass",
    "SELECT * FROM users WHERE name = '\" + {v} + \"'",
]
SN = {"v": ["items", "data", "users", "orders", "rows", "values", "records", "names", "results"], "t": ["orders", "users", "events", "invoices", "payments", "web", "worker"],
      "f": ["process", "handle", "get_top", "cleanup", "Summarize", "parse_items", "loadConfig", "Report"]}
SNIP_ASKS = ["Why is this slow?\n{c}", "What's wrong with this?\n```\n{c}\n```", "{c}\nCan you explain this line by line?", "Rewrite this in {plang}:\n{c}",
             "Is this safe?\n{c}", "How do I make this faster?\n\n{c}", "This returns the wrong result:\n{c}"]


def source_code(rnd, n):
    py, other = code_files()
    files = [(f, "python") for f in py] + [(f, CODE_EXT[os.path.splitext(f)[1]]) for f in other]
    rnd.shuffle(files)
    out = []
    quota = Counter({"python": int(n * 0.42), "rust": int(n * 0.33), "c": int(n * 0.12), "cpp": 120, "javascript": 120, "go": 120, "shell": 80,
                     "perl": 60, "java": 80, "typescript": 80})
    for f, lang in files:
        if quota[lang] <= 0:
            continue
        try:
            text = Path(f).read_text(errors="replace")
        except OSError:
            continue
        cs = [c for c in dataset.chunks(text, rnd.choice([250, 600, 1200, 2500, 5000])) if len(c.strip()) > 120]
        for c in rnd.sample(cs, min(3, len(cs))):
            out.append(row(fill(rnd.choice(CODE_ASKS), rnd, EN).replace("{c}", c), ["source_code"], f"code_{lang}", os.path.relpath(f, "/"), "en", "pasted_code"))
            quota[lang] -= 1
    for i in range(n // 4):
        k = rnd.randrange(len(SNIPPETS))
        c = fill(SNIPPETS[k], rnd, SN).replace("{{", "{").replace("}}", "}")
        out.append(row(fill(rnd.choice(SNIP_ASKS), rnd, EN).replace("{c}", c), ["source_code"], "code_snippet", f"s{k}", "en", "code_snippet"))
    return out


# ---------------------------------------------------------------- confidential
def confidential(rnd, fake, n):
    R = rnd.randint
    kinds = [
        lambda: f"CONFIDENTIAL - Board pre-read. Q{R(1,4)} revenue was ${R(20,900)}M, {R(-20,40)}% YoY; gross margin {R(30,80)}%. We will announce the restructuring of {fake.company()} on {_d(fake)}. Do not share externally.",
        lambda: f"Internal memo: performance review for {fake.name()} ({fake.job()}). Rating: needs improvement. Salary band {R(80,200)}k, recommended for PIP starting {_d(fake)}. HR only.",
        lambda: f"Privileged & confidential - attorney-client communication. Re: {fake.company()} v. {fake.company()}. Our exposure is estimated at ${R(1,50)}M; settlement authority up to ${R(1,20)}M.",
        lambda: f"Draft term sheet (strictly confidential): acquisition of {fake.company()} at ${R(100,5000)}M enterprise value, {R(10,60)}% cash. Project codename {fake.word().capitalize()}.",
        lambda: f"Pricing committee notes (internal): enterprise list price moves to ${R(20,400)}/seat; discount floor {R(5,40)}%. Top accounts at risk: {fake.company()}, {fake.company()}.",
        lambda: f"INTERNAL ONLY - Unreleased Q{R(1,4)} financials (embargoed until {_d(fake)}): revenue ${R(100,2000)}M vs guidance ${R(100,2000)}M, EPS ${R(1,500)/100}. Do not forward.",
        lambda: f"Reduction in force plan (confidential, leadership only): {R(40,900)} roles in {rnd.choice(['Sales','Support','Engineering','Marketing','Operations'])}, notification date {_d(fake)}, severance {R(4,26)} weeks.",
        lambda: f"Board minutes, closed session: the board approved the CEO's compensation package (base ${R(400,1200)}k, bonus {R(50,200)}%) and discussed the pending sale to {fake.company()}.",
        lambda: f"Confidential roadmap (do not share with customers): Project {fake.word().capitalize()} launches in Q{R(1,4)}; we are sunsetting {fake.word().capitalize()} and will raise prices {R(5,30)}%.",
        lambda: f"Salary data export (HR confidential):\nname,title,base,bonus\n" + "\n".join(f"{fake.name()},{fake.job()},{R(60,250)}000,{R(0,40)}%" for _ in range(R(3, 8))),
        lambda: f"Security incident report (internal, TLP:RED): on {_d(fake)} an attacker accessed {R(2,500)}k customer records via a misconfigured bucket. Legal has not yet notified regulators.",
        lambda: f"Strictly private: investor update draft. Runway {R(6,30)} months, burn ${R(1,9)}.{R(0,9)}M/month, bridge round of ${R(2,40)}M from {fake.company()} under negotiation.",
        lambda: f"Vertraulich - nur für die Geschäftsleitung: Der Umsatz im Q{R(1,4)} lag bei {R(20,900)} Mio. EUR; die Übernahme von {fake.company()} wird am {_d(fake)} bekanntgegeben.",
        lambda: f"Confidentiel - ne pas diffuser : plan social de {R(40,400)} postes, annonce prévue le {_d(fake)}. Budget indemnités {R(2,40)} M€.",
        lambda: f"Confidencial (solo dirección): resultados no publicados del trimestre, ingresos {R(20,900)} M€, margen {R(10,60)}%. Adquisición de {fake.company()} en negociación.",
        lambda: f"Customer contract (confidential): {fake.company()} pays ${R(50,900)}k/yr, {R(10,45)}% discount, termination for convenience with {R(30,90)} days notice, MFN clause.",
    ]
    asks = ["Summarise this: ", "Rewrite this more concisely: ", "", "", "Turn this into slides: ", "Translate this into French: ", "Draft an email to the team based on this:\n",
            "Fix the grammar:\n", "Make a table from this:\n", "What are the risks here?\n", "Write talking points for the CEO from this:\n"]
    out = []
    for i in range(n):
        k = i % len(kinds)
        body = kinds[k]()
        if rnd.random() < 0.25:
            body = body + "\n\n" + kinds[rnd.randrange(len(kinds))]()
        lang = {12: "de", 13: "fr", 14: "es"}.get(k, "en")
        out.append(row(rnd.choice(asks) + body, ["confidential"], "gen_memo", f"{k}-{i % 7}", lang, "confidential_doc"))
    # long confidential documents (1-5 KB): a marked memo with ordinary business paragraphs around the sensitive parts
    import gen_benign
    heads = ["CONFIDENTIAL - DO NOT FORWARD", "Internal use only", "Strictly confidential - board members only", "Privileged & confidential",
             "Company confidential / draft v{v}", "RESTRICTED: leadership team"]
    for i in range(n // 8):
        parts = [kinds[rnd.randrange(len(kinds))]() for _ in range(rnd.randint(2, 5))]
        parts += [fill(rnd.choice(gen_benign.S["para"]), rnd, gen_benign.S) for _ in range(rnd.randint(3, 12))]
        rnd.shuffle(parts)
        doc = rnd.choice(heads).replace("{v}", str(rnd.randint(2, 9))) + "\n\n" + "\n\n".join(parts)
        out.append(row(rnd.choice(asks) + doc, ["confidential"], "gen_memo_long", f"long{i % 12}", "en", "confidential_long"))
    # public counterparts (benign): published results, public announcements
    pub = [lambda: f"{fake.company()} today reported Q{R(1,4)} revenue of ${R(20,900)}M, up {R(1,40)}% year over year, in its public earnings release. Summarize it for a newsletter.",
           lambda: f"Press release (for immediate release): {fake.company()} opens a new office in {fake.city()} and plans to hire {R(20,300)} people. Make it shorter.",
           lambda: f"Our public job ad: {fake.job()} at {fake.company()}, salary range ${R(60,120)}k-${R(121,200)}k, remote friendly. Improve the wording.",
           lambda: f"From the annual report (published): revenue grew {R(2,30)}% and we paid a dividend of ${R(10,300)/100} per share. Explain this to a new investor.",
           lambda: f"How do I mark a document as confidential in Google Docs?", lambda: f"What does 'privileged and confidential' mean on an email footer?",
           lambda: f"Write a template NDA cover email to {fake.company()}.", lambda: f"What should a board pre-read usually contain?"]
    for i in range(n // 3):
        k = i % len(pub)
        out.append(row(pub[k](), [], "gen_benign_public", f"pub{k}", "en", "public_business"))
    return out


# ---------------------------------------------------------------- phi
DX = ["type 2 diabetes", "hypertension", "major depressive disorder", "asthma", "HIV", "breast cancer stage II", "COPD", "epilepsy", "bipolar disorder",
      "chronic kidney disease stage 3", "hepatitis C", "rheumatoid arthritis", "schizophrenia", "atrial fibrillation", "opioid use disorder", "Crohn's disease",
      "pregnancy, 24 weeks", "multiple sclerosis", "anorexia nervosa", "prostate cancer"]
MEDS = ["metformin 500 mg", "lisinopril 10 mg", "sertraline 50 mg", "albuterol", "tenofovir", "tamoxifen", "levetiracetam 500 mg", "lithium 300 mg",
        "apixaban 5 mg", "buprenorphine 8 mg", "adalimumab", "insulin glargine 20 units", "quetiapine 100 mg", "methotrexate 15 mg"]


def presidio_templates(wheels):
    w = glob.glob(f"{wheels}/presidio_evaluator-0.3.2-*.whl")[0]
    with zipfile.ZipFile(w) as z:
        t = z.read("presidio_evaluator/data_generator/raw_data/templates.txt").decode("utf-8", "replace")
    return [l.strip() for l in t.splitlines() if l.strip() and "{{" in l]


def presidio_fill(tpl, fake, rnd):
    def rep(m):
        k = m.group(1)
        f = getattr(fake, k, None)
        if k in ("person", "name"):
            return fake.name()
        if k == "organization":
            return fake.company()
        if k in ("prefix", "prefix_male", "prefix_female"):
            return fake.prefix()
        if k == "age":
            return str(rnd.randint(18, 90))
        if k == "date_time":
            return f"{_d(fake)} {rnd.randint(7, 19):02}:{rnd.randint(0, 59):02}"
        if k == "date_of_birth":
            return str(_dob(fake))
        if k == "year":
            return str(rnd.randint(1950, 2024))
        if callable(f):
            try:
                return str(f())
            except Exception:
                return fake.word()
        return fake.word()
    return re.sub(r"\{\{ *(\w+) *\}\}", rep, tpl).replace("\\n", "\n")


def phi(rnd, fake, n, wheels):
    R = rnd.randint
    ptpl = presidio_templates(wheels)
    kinds = [
        lambda: f"Patient {fake.name()}, {R(18,90)}y, DOB {_dob(fake)}, seen on {_d(fake)} for {rnd.choice(DX)}. Started {rnd.choice(MEDS)}. Follow up in {R(2,12)} weeks.",
        lambda: f"Discharge summary: {fake.name()} admitted with {rnd.choice(DX)} exacerbation. MRN {R(100000,999999)}. Meds on discharge: {rnd.choice(MEDS)}, {rnd.choice(MEDS)}.",
        lambda: f"My mother {fake.first_name()} {fake.last_name()} (born {_dob(fake)}) was diagnosed with {rnd.choice(DX)} last week and takes {rnd.choice(MEDS)}; what side effects should we watch for?",
        lambda: f"SOAP note. Pt: {fake.name()}, MRN {R(100000,999999)}. S: {R(20,80)} yo reports fatigue. O: BP {R(110,170)}/{R(70,100)}. A: {rnd.choice(DX)}. P: {rnd.choice(MEDS)} daily.",
        lambda: f"Lab results for {fake.name()} (DOB {_dob(fake)}): HbA1c {R(55,110)/10}%, LDL {R(70,200)} mg/dL, eGFR {R(20,110)}. Dx: {rnd.choice(DX)}.",
        lambda: f"Referral letter: Dear Dr. {fake.last_name()}, I am referring {fake.name()}, {fake.address().replace(chr(10), ', ')}, insurance ID {fake.bothify('??#######')}, for evaluation of {rnd.choice(DX)}.",
        lambda: f"Prior authorization request: member {fake.name()}, member ID {fake.bothify('W#########')}, DOB {_dob(fake)}, requesting {rnd.choice(MEDS)} for {rnd.choice(DX)}.",
        lambda: f"Therapy session note ({_d(fake)}): client {fake.first_name()} {fake.last_name()} discussed {rnd.choice(['suicidal thoughts last month','relapse','panic attacks','trauma at work'])}; diagnosis {rnd.choice(DX)}.",
        lambda: f"Insurance claim: patient {fake.name()}, SSN {fake.ssn()}, date of service {_d(fake)}, ICD-10 {rnd.choice(['E11.9','I10','F32.1','J45.909','B20','C50.911'])}, amount ${R(80,9000)}.",
        lambda: f"{presidio_fill(rnd.choice(ptpl), fake, rnd)} Also, I was diagnosed with {rnd.choice(DX)} and I need a refill of {rnd.choice(MEDS)}.",
        lambda: f"Paciente {fake.name()}, {R(18,90)} años, diagnosticado de {rnd.choice(['diabetes tipo 2','hipertensión','depresión mayor','asma'])}; tratamiento con {rnd.choice(MEDS)}. Historia clínica {R(10000,99999)}.",
        lambda: f"Patientin {fake.name()}, geb. {_dob(fake)}, Diagnose: {rnd.choice(['Typ-2-Diabetes','Bluthochdruck','Depression','Asthma'])}, Medikation {rnd.choice(MEDS)}.",
        lambda: f"Nurse handoff: bed {R(1,40)}, {fake.name()}, {R(20,95)}M/F, post-op day {R(1,5)} after {rnd.choice(['appendectomy','hip replacement','CABG','cesarean section'])}, on {rnd.choice(MEDS)}, allergies: penicillin.",
    ]
    asks = ["", "", "Summarize this clinical note: ", "Rewrite for the patient in plain language: ", "Translate into Spanish: ", "Draft a follow-up letter from this:\n",
            "Extract the medications: ", "Check this note for missing information: ", "Turn into a discharge checklist:\n"]
    out = []
    # long clinical documents (1-4 KB)
    for i in range(n // 8):
        name, mrn = fake.name(), R(100000, 999999)
        sec = [f"DISCHARGE SUMMARY\nPatient: {name}   MRN: {mrn}   DOB: {_dob(fake)}\nAdmitted: {_d(fake)}   Attending: Dr. {fake.last_name()}",
               f"HISTORY OF PRESENT ILLNESS\n{R(20,90)}-year-old with a history of {rnd.choice(DX)} and {rnd.choice(DX)} presenting with {rnd.choice(['shortness of breath','chest pain','fever and cough','confusion','abdominal pain','syncope'])} for {R(1,10)} days.",
               f"PAST MEDICAL HISTORY\n" + "\n".join(f"- {d}" for d in rnd.sample(DX, R(2, 5))),
               f"MEDICATIONS\n" + "\n".join(f"- {m} {rnd.choice(['daily','BID','TID','PRN'])}" for m in rnd.sample(MEDS, R(2, 6))),
               f"LABS\nNa {R(128,146)}, K {R(30,55)/10}, Cr {R(6,40)/10}, WBC {R(30,180)/10}, Hgb {R(70,160)/10}, HbA1c {R(50,110)/10}%",
               f"HOSPITAL COURSE\nThe patient was treated with {rnd.choice(MEDS)} and {rnd.choice(['IV fluids','antibiotics','diuretics','oxygen therapy'])}. Symptoms improved by day {R(2,6)}. Social work consulted regarding {rnd.choice(['housing','home care','substance use','caregiver support'])}.",
               f"PLAN\nFollow up with {fake.name()} (PCP) in {R(1,4)} weeks at {fake.address().replace(chr(10), ', ')}. Contact: {fake.phone_number()}."]
        doc = "\n\n".join(sec[:1] + rnd.sample(sec[1:], R(3, 6)))
        out.append(row(rnd.choice(asks) + doc, ["phi"], "gen_clinical_long", f"long{i % 10}", "en", "clinical_long"))
    for i in range(n):
        k = i % len(kinds)
        lang = {10: "es", 11: "de"}.get(k, "en")
        out.append(row(rnd.choice(asks) + kinds[k](), ["phi"], "gen_clinical", f"{k}-{i % 5}", lang, "clinical_note"))
    return out


def generate(wheels, seed=2404):
    rnd = random.Random(seed)
    fake = faker.Faker("en_US")
    fake.seed_instance(seed)
    pool = long_doc_pool(heldout=False)
    out = []
    for i, (src, f, t) in enumerate(pool):
        for j in range(min(6, 1 + len(t) // 4000)):
            d = excerpt(rnd, t)
            out.append(row(fill(rnd.choice(DOC_ASKS), rnd, EN).replace("{d}", d), [], src, os.path.relpath(f, "/"), "en", "long_doc"))
    out += source_code(rnd, 3200)
    out += confidential(rnd, fake, 3000)
    out += phi(rnd, fake, 3000, wheels)
    return out, [t for _, _, t in pool]
