#!/usr/bin/env python3
"""The docs run as written (issue #21): every fenced `sh` block of README.md and
docs/workflow.md, in order, in a fresh folder per document, with `topdown` on PATH and
`build/` pointing at the build. Short audio stands in for a client's material: the demo
exported at 3 s gives `client/stems`, `path/to/stems`, `client/final_mix.wav`,
`reference.wav`, `refs/reference.wav`, `ref.wav` and `jobs/song1.toml` with its stems.

A block fails the test when it exits non-zero or warns (a line with "warning" on stderr):
every example delivers without warnings. TOML blocks are edits the text asks the reader to
make; an HTML comment right before a block says what the test does with it:
  <!-- docs-test: append FILE -->          add the block to FILE
  <!-- docs-test: replace [TABLE] in FILE --> replace that table of FILE by the block
  <!-- docs-test: write FILE -->           write the block as FILE
  <!-- docs-test: skip REASON -->          do not run this sh block (the reason is printed)
Blocks without a directive (an excerpt, an output) are only shown to the reader.

Usage: docs_test.py TOPDOWN_BINARY SOURCE_DIR
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

BIN = os.path.abspath(sys.argv[1])
SRC = os.path.abspath(sys.argv[2])
DOCS = ["README.md", "docs/workflow.md"]
BLOCK = re.compile(r"(?:<!-- docs-test: (?P<directive>[^>]*?) -->\s*\n)?```(?P<lang>\w*)\n(?P<body>.*?)```", re.S)


def run(cmd, cwd, env, what):
    r = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", cmd], cwd=cwd, env=env,
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"FAIL: {what}: exit {r.returncode}\n{cmd}\n{r.stderr[-2000:]}")
    return r


def fixtures(root, env):
    fx = os.path.join(root, ".fixture")
    run(f"topdown demo --seconds 3 --export '{fx}' -q", root, env, "fixture: demo --export")
    run(f"topdown render '{fx}/session.toml' -o '{fx}/out' -q", root, env, "fixture: render")
    for stems in ["client/stems", "path/to/stems"]:
        shutil.copytree(os.path.join(fx, "stems"), os.path.join(root, stems))
    os.makedirs(os.path.join(root, "refs"))
    for mix in ["client/final_mix.wav", "reference.wav", "refs/reference.wav", "ref.wav"]:
        shutil.copy(os.path.join(fx, "out", "master.wav"), os.path.join(root, mix))
    shutil.copytree(os.path.join(fx, "stems"), os.path.join(root, "jobs", "stems"))
    shutil.copy(os.path.join(fx, "session.toml"), os.path.join(root, "jobs", "song1.toml"))


def replace_table(text, table, block):
    # From the table's header to the next top-level header (or the end).
    m = re.search(r"^" + re.escape(table) + r"\s*$.*?(?=^\[|\Z)", text, re.S | re.M)
    if not m:
        raise SystemExit(f"FAIL: no {table} to replace")
    return text[: m.start()] + block + "\n" + text[m.end():]


def check_doc(doc):
    root = tempfile.mkdtemp(prefix="docs-test-")
    try:
        env = dict(os.environ, HOME=root, PATH=os.path.dirname(BIN) + ":" + os.environ["PATH"])
        env.pop("TOPDOWN_ALLOW_PATH", None)
        os.symlink(os.path.dirname(BIN), os.path.join(root, "build"))
        fixtures(root, env)
        text = open(os.path.join(SRC, doc)).read()
        ran = 0
        for m in BLOCK.finditer(text):
            lang, body, directive = m["lang"], m["body"], (m["directive"] or "").strip()
            line = text[: m.start()].count("\n") + 1
            where = f"{doc}:{line}"
            if lang == "sh":
                if directive.startswith("skip"):
                    print(f"{where}: not run ({directive})")
                    continue
                t0 = time.time()
                r = run(body, root, env, where)
                warned = [l for l in r.stderr.splitlines() if "warning" in l.lower()]
                if warned:
                    raise SystemExit(f"FAIL: {where} warns:\n" + "\n".join(warned))
                ran += 1
                print(f"{where}: ok ({time.time() - t0:.1f} s)")
            elif lang == "toml" and directive:
                words = directive.split()
                if words[0] == "append":
                    with open(os.path.join(root, words[1]), "a") as f:
                        f.write("\n" + body)
                elif words[0] == "write":
                    with open(os.path.join(root, words[1]), "w") as f:
                        f.write(body)
                elif words[0] == "replace" and words[2] == "in":
                    path = os.path.join(root, words[3])
                    new = replace_table(open(path).read(), words[1], body)
                    open(path, "w").write(new)
                else:
                    raise SystemExit(f"FAIL: {where}: unknown directive: {directive}")
                print(f"{where}: {directive}")
        if ran == 0:
            raise SystemExit(f"FAIL: {doc}: no sh block ran")
    finally:
        shutil.rmtree(root, ignore_errors=True)


for d in DOCS:
    check_doc(d)
print("docs_test: ok")
