"""Uploads files with the official OpenAI Python SDK through PromptWall.

Usage: openai_files.py BASE_URL [--proxy URL --ca PEM] FILE...  With --proxy the SDK goes
through PromptWall's CONNECT proxy and trusts its CA; without, BASE_URL is the gateway.
Prints one JSON object: for each file (by name), what the SDK returned or raised."""

import json
import os
import sys

import openai

args = sys.argv[1:]
base = args.pop(0)
http_client = None
if args and args[0] == "--proxy":
    proxy, ca = args[1], args[3]
    args = args[4:]
    http_client = openai.DefaultHttpxClient(proxy=proxy, verify=ca)
client = openai.OpenAI(
    base_url=base, api_key="sk-test", max_retries=0, timeout=20, http_client=http_client
)
out = {}
for path in args:
    name = os.path.basename(path)
    try:
        with open(path, "rb") as f:
            created = client.files.create(file=(name, f.read()), purpose="assistants")
        out[name] = {"id": created.id}
    except openai.APIStatusError as e:
        out[name] = {"status": e.status_code, "code": e.code, "message": e.message}
print(json.dumps(out))
