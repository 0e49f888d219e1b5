"""mitmproxy addon for pw-load's peer scenario: the same regexes PromptWall ships, over the body.

It loads every `patterns` entry of `rules/packs/*.yaml` (the packs PromptWall compiles), compiles
those Python's `re` accepts, and searches the decoded request body of each intercepted request
with all of them, one after another (how a regex DLP addon is usually written). A match answers
403 without contacting the upstream, as PromptWall's block does. It does not run PromptWall's
validators, normalization or decoding, so it does less work per request than PromptWall.

Environment:
  PW_RULES_DIR   the rule packs directory (default: rules/packs next to this repository)
  PW_MOCK_ADDR   host:port of the mock upstream; requests to AI hosts are sent there
  PW_REGEX_OFF   set to 1 to load no patterns (mitmproxy's own cost, for reference)
"""

import json
import os
import pathlib
import re

from mitmproxy import ctx, http
from ruamel.yaml import YAML

_HERE = pathlib.Path(__file__).resolve().parent
RULES_DIR = pathlib.Path(os.environ.get("PW_RULES_DIR", _HERE.parent.parent / "rules" / "packs"))
MOCK = os.environ.get("PW_MOCK_ADDR", "")


def _load_patterns():
    yaml = YAML(typ="safe")
    compiled, skipped = [], 0
    for path in sorted(RULES_DIR.glob("*.yaml")):
        doc = yaml.load(path.read_text())
        for rule in doc.get("rules", []):
            for pattern in rule.get("patterns", []):
                try:
                    compiled.append((rule["id"], re.compile(pattern)))
                except re.error:
                    skipped += 1
    return compiled, skipped


PATTERNS, SKIPPED = ([], 0) if os.environ.get("PW_REGEX_OFF") == "1" else _load_patterns()


class RegexDlp:
    def running(self):
        ctx.log.info(f"regex DLP: {len(PATTERNS)} patterns compiled, {SKIPPED} not supported by re")

    def request(self, flow: http.HTTPFlow) -> None:
        if MOCK:
            host, port = MOCK.rsplit(":", 1)
            flow.request.host = host
            flow.request.port = int(port)
        text = flow.request.get_text(strict=False) or ""
        for rule_id, pattern in PATTERNS:
            if pattern.search(text):
                body = {"error": {"message": f"blocked by {rule_id}", "type": "invalid_request_error"}}
                flow.response = http.Response.make(
                    403, json.dumps(body), {"content-type": "application/json"}
                )
                return


addons = [RegexDlp()]
