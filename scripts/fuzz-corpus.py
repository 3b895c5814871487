#!/usr/bin/env python3
"""Writes the fuzzers' seed corpus into the folder given: every frame of protocol/vectors
(the bytes of its 'frame' member), every record line they hold, the worked session's
frames, the admission vectors' record lines, and the regression inputs of
protocol/vectors/fuzz/ (crashes found once, kept so they stay fixed)."""
import json, os, pathlib, sys

root = pathlib.Path(__file__).resolve().parent.parent / "protocol" / "vectors"
out = pathlib.Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
count = 0

def write(name, data):
    global count
    (out / name).write_bytes(data)
    count += 1

for path in sorted(root.glob("*.json")):
    vector = json.loads(path.read_text())
    write(path.stem + ".frame", bytes.fromhex(vector["frame"]))
    for index, record in enumerate(vector.get("records") or []):
        write(f"{path.stem}.record{index}", json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode())
session = json.loads((root / "session" / "worked-session.json").read_text())
for index, step in enumerate(session["steps"]):
    if step.get("frame"):
        write(f"session{index}.frame", bytes.fromhex(step["frame"]))
    write(f"session{index}.body", step["body"].encode())
admission = json.loads((root / "records" / "admission.json").read_text())
for case in admission["cases"]:
    write(f"admission-{case['name']}.record", case["pushed"].encode())
for path in sorted((root / "fuzz").glob("*")) if (root / "fuzz").is_dir() else []:
    if path.name != "README.md":
        write("regression-" + path.name, path.read_bytes())
print(f"fuzz corpus: {count} inputs in {out}")
