"""Uploads files with the official OpenAI Python SDK through PromptWall's gateway.

Usage: openai_files.py BASE_URL SECRET. Prints one JSON object: for each upload, what the
SDK returned or raised (status, code, message)."""

import json
import sys

import openai

base, secret = sys.argv[1], sys.argv[2]
client = openai.OpenAI(base_url=base, api_key="sk-test", max_retries=0, timeout=20)
out = {}
for name, data in [
    ("keys.yaml", f"aws_access_key_id: {secret}\n".encode()),
    ("readme.md", b"# Plan\nShip on Friday.\n"),
]:
    try:
        f = client.files.create(file=(name, data), purpose="assistants")
        out[name] = {"id": f.id}
    except openai.APIStatusError as e:
        out[name] = {"status": e.status_code, "code": e.code, "message": e.message}
print(json.dumps(out))
