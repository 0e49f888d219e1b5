#!/usr/bin/env python3
"""Builds the pattern engine's development set: labelled JSONL for `promptwall eval`.

Sources (see ../../../shared/data/README.md for what may be used):
  * presidio-evaluator 0.3.2 sentence templates filled with Faker (seeded), for PII;
  * secrets in code, config, chat and log contexts, generated here with random values;
  * hard negatives: UUIDs, hashes, example and placeholder keys, version strings, order numbers,
    phone-like ids, commit SHAs;
  * benign everyday work prose.

Each line: {"id", "source", "text", "spans": [{"start", "end", "entity", "category"}]} with
UTF-8 byte offsets. Run: python3 gen_devset.py OUT.jsonl  (needs: pip install --no-deps
presidio-evaluator==0.3.2 faker; both are only data sources here, none of their code is used).
"""
import base64, hashlib, json, random, re, string, sys, uuid
from pathlib import Path

import importlib.util

import faker

SEED = 20261126
rnd = random.Random(SEED)
fake = faker.Faker("en_US")
fake.seed_instance(SEED)
AN = string.ascii_letters + string.digits
HEX = "0123456789abcdef"

def r(n, al=AN):
    return "".join(rnd.choice(al) for _ in range(n))

def byte_span(text, start, end):
    return len(text[:start].encode()), len(text[:end].encode())

# Placeholder → (entity, category, generator). Others are filled but not labelled (the pattern
# engine does not claim names, addresses or organisations).
PII = {
    "credit_card_number": ("credit_card", "pci", lambda: fake.credit_card_number()),
    "phone_number": ("phone", "pii", lambda: fake.phone_number()),
    "email": ("email", "pii", lambda: fake.email()),
    "iban": ("iban", "financial", lambda: fake.iban()),
    "ssn": ("us_ssn", "pii", lambda: fake.ssn()),
    "ip_address": ("ip_address", "pii", lambda: fake.ipv4_public()),
    "date_of_birth": ("date_of_birth", "pii", lambda: fake.date_of_birth().strftime(rnd.choice(["%Y-%m-%d", "%m/%d/%Y"]))),
    "us_driver_license": ("drivers_license", "pii", lambda: rnd.choice(string.ascii_uppercase) + r(7, string.digits)),
}
FILL = {
    "person": fake.name, "name": fake.name, "first_name": fake.first_name, "last_name": fake.last_name,
    "name_female": fake.name_female, "name_male": fake.name_male, "first_name_male": fake.first_name_male,
    "first_name_female": fake.first_name_female, "last_name_male": fake.last_name_male,
    "last_name_female": fake.last_name_female, "first_name_nonbinary": fake.first_name_nonbinary,
    "prefix_male": fake.prefix_male, "prefix_female": fake.prefix_female, "prefix": fake.prefix,
    "organization": fake.company, "city": fake.city, "country": fake.country, "address": lambda: fake.address().replace("\n", ", "),
    "street_name": fake.street_name, "building_number": fake.building_number, "secondary_address": fake.secondary_address,
    "postcode": fake.postcode, "zipcode": fake.zipcode, "state_abbr": fake.state_abbr, "age": lambda: str(rnd.randint(18, 90)),
    "year": lambda: str(rnd.randint(1990, 2026)), "nationality": lambda: rnd.choice(["French", "Kenyan", "Brazilian", "Indian"]),
    "job": fake.job, "url": fake.url, "date_time": lambda: fake.date_time().isoformat(), "day_of_week": fake.day_of_week,
    "nation_woman": lambda: "Frenchwoman", "nation_plural": lambda: "Italians", "gender": lambda: "female",
}

def fill_template(tpl):
    text, spans, pos = "", [], 0
    for m in re.finditer(r"\{\{(\w+)\}\}", tpl):
        text += tpl[pos:m.start()]
        key = m.group(1)
        if key in PII:
            entity, category, gen = PII[key]
            value = gen()
            if key == "date_of_birth":
                text += "born "
            start = len(text)
            text += value
            spans.append((start, len(text), entity, category))
        else:
            text += FILL.get(key, lambda: "value")()
        pos = m.end()
    text += tpl[pos:]
    return text, spans

def rows_pii():
    # Locate the package's data without importing it (its code needs spaCy, which we do not use).
    spec = importlib.util.find_spec("presidio_evaluator")
    path = Path(list(spec.submodule_search_locations)[0]) / "data_generator" / "raw_data" / "templates.txt"
    templates = [t.strip() for t in path.read_text(errors="replace").splitlines() if t.strip()]
    for i in range(1200):
        text, spans = fill_template(templates[i % len(templates)])
        yield "presidio_templates", text, spans

SECRETS = [
    ("aws_access_key", lambda: "AKIA" + r(16, string.ascii_uppercase + "234567")),
    ("github_token", lambda: "ghp_" + r(36)),
    ("openai_api_key", lambda: "sk-proj-" + r(48, AN + "_-") + "T3BlbkFJ" + r(48, AN + "_-")),
    ("anthropic_api_key", lambda: "sk-ant-api03-" + r(93, AN + "_-") + "AA"),
    ("slack_token", lambda: f"xoxb-{r(12, string.digits)}-{r(13, string.digits)}-{r(24)}"),
    ("stripe_key", lambda: "sk_live_" + r(40)),
    ("gitlab_token", lambda: "glpat-" + r(20, AN + "_-")),
    ("gcp_api_key", lambda: "AIza" + r(35, AN + "_-")),
    ("huggingface_token", lambda: "hf_" + r(34, string.ascii_letters)),
    ("sendgrid_api_key", lambda: f"SG.{r(22, AN + '_-')}.{r(43, AN + '_-')}"),
    ("npm_token", lambda: "npm_" + r(36)),
    ("groq_api_key", lambda: "gsk_" + r(52)),
    ("dockerhub_token", lambda: "dckr_pat_" + r(27, AN + "_-")),
    ("vault_token", lambda: "hvs." + r(90, AN + "_-")),
    ("jwt", lambda: base64.urlsafe_b64encode(b'{"alg":"RS256","typ":"JWT"}').decode().rstrip("=") + "."
        + base64.urlsafe_b64encode(json.dumps({"sub": r(6, string.digits), "exp": 1800000000}).encode()).decode().rstrip("=") + "." + r(86, AN + "_-")),
    ("private_key", lambda: "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(r(64, AN + "+/") for _ in range(6)) + "\n-----END RSA PRIVATE KEY-----"),
    ("database_url", lambda: f"postgresql://svc_{r(5, string.ascii_lowercase)}:{r(20)}@db{rnd.randint(1, 9)}.prod.internal:5432"),
    ("password", lambda: r(12, AN) + rnd.choice("!@#%^&*") + r(3, string.digits)),
]
SECRET_CONTEXTS = [
    ("code", "const client = new Client({{ apiKey: \"{v}\" }});\nawait client.connect();"),
    ("config", "# deploy settings\nservice:\n  name: billing\n  token: {v}\n  region: eu-west-1"),
    ("chat", "hey can you check why this fails? I'm using {v} and get a 401"),
    ("log", "2026-10-12T09:14:03Z WARN auth rejected credential={v} client={ip}"),
    ("env", "export SERVICE_TOKEN={v}\nexport LOG_LEVEL=debug"),
]

def rows_secrets():
    for i in range(900):
        entity, gen = SECRETS[i % len(SECRETS)]
        ctx_name, tpl = SECRET_CONTEXTS[(i // len(SECRETS)) % len(SECRET_CONTEXTS)]
        v = gen()
        if entity == "password":
            tpl = rnd.choice(["DB_PASSWORD={v}\nDB_HOST=localhost", "login failed for admin with password: {v}", "{{\"password\": \"{v}\"}}"])
        ip = fake.ipv4_private()
        text = tpl.replace("{v}", v).replace("{ip}", ip).replace("{{", "{").replace("}}", "}")
        start = text.index(v)
        spans = [(start, start + len(v), entity, "secret")]
        if "{ip}" in tpl:
            i = text.rindex(ip)
            spans.append((i, i + len(ip), "ip_address", "pii"))
        yield f"secrets_{ctx_name}", text, spans

NEGATIVES = [
    lambda: f"Request id {uuid.UUID(int=rnd.getrandbits(128))} failed with status 502, retrying.",
    lambda: f"sha256 of the artifact is {hashlib.sha256(r(20).encode()).hexdigest()}",
    lambda: f"Merged commit {hashlib.sha1(r(10).encode()).hexdigest()} into main.",
    lambda: "Use the AWS example key AKIAIOSFODNN7EXAMPLE from the docs, not a real one.",
    lambda: "Set OPENAI_API_KEY=sk-... in your .env file and never commit it.",
    lambda: "Replace ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx with your own token.",
    lambda: f"Upgrade from version {rnd.randint(1, 9)}.{rnd.randint(0, 20)}.{rnd.randint(0, 40)} to the latest release.",
    lambda: f"Order #{r(9, string.digits)} shipped on Tuesday; tracking {r(12, string.digits)}.",
    lambda: f"Ticket {r(3, string.digits)}-{r(4, string.digits)}-{r(2, string.digits)} was escalated to tier 2.",
    lambda: f"md5 checksum {hashlib.md5(r(8).encode()).hexdigest()} matches.",
    lambda: "password: ${DB_PASSWORD}",
    lambda: "api_key = os.environ['API_KEY']",
    lambda: f"The invoice total is ${rnd.randint(100, 99999)}.{rnd.randint(10, 99)} due in 30 days.",
    lambda: f"Build {r(7, HEX)} passed {rnd.randint(100, 999)} tests in {rnd.randint(1, 59)}m.",
    lambda: "Explain what a private key is and why it must stay secret.",
    lambda: "How do I kill a stuck process that ignores SIGTERM?",
    lambda: "Ignore the typo above and summarise the meeting notes.",
    lambda: f"Population grew to {rnd.randint(1000000, 9999999)} by {rnd.randint(1990, 2025)}.",
]
PROSE = [
    "Can you rewrite this paragraph so it sounds friendlier to customers?",
    "Summarise the attached quarterly planning notes in five bullet points.",
    "Translate 'our office will be closed on Friday' into Spanish and German.",
    "Write a Python function that merges two sorted lists without using sort().",
    "What are good interview questions for a senior data engineer?",
    "Draft a polite reminder email about the overdue expense reports.",
    "Explain the difference between TCP and UDP to a new hire.",
    "Give me three title ideas for a blog post about remote onboarding.",
]

def rows_negatives():
    for i in range(700):
        gen = NEGATIVES[i % len(NEGATIVES)]
        yield "hard_negatives", gen(), []
    for i in range(300):
        yield "benign_prose", PROSE[i % len(PROSE)] + " " + rnd.choice(PROSE), []

def main(out):
    n = 0
    with open(out, "w") as f:
        for gen in (rows_pii, rows_secrets, rows_negatives):
            for source, text, spans in gen():
                n += 1
                row = {"id": n, "source": source, "text": text, "spans": [
                    dict(zip(("start", "end"), byte_span(text, s, e)), entity=ent, category=cat) for s, e, ent, cat in spans]}
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {n} rows to {out}")

if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "devset.jsonl")
