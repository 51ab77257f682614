"""The FLOOR: the least work any semantic YAML check of a working-tree change must do, in one
fresh Python process: list the changed files, read their old text (HEAD blobs, one
`git cat-file --batch`) and new text (working tree), and parse both sides with PyYAML's C loader.
ChangeGate's `check` is measured against this.

    python bench/floor.py REPO      # prints a one-line JSON summary
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import yaml


def changed_paths(repo: str) -> list[str]:
    # listing the change is part of the floor: a check cannot know what to parse without it
    out = subprocess.run(["git", "-C", repo, "diff", "--name-only", "-z", "HEAD", "--"],
                         capture_output=True, check=True).stdout
    return [p.decode() for p in out.split(b"\0") if p]


def head_blobs(repo: str, paths: list[str]) -> list[bytes]:
    """All old sides through one `git cat-file --batch` (the cheapest way to read many blobs)."""
    stdin = "".join(f"HEAD:{p}\n" for p in paths).encode()
    out = subprocess.run(["git", "-C", repo, "cat-file", "--batch"], input=stdin,
                         capture_output=True, check=True).stdout
    blobs, pos = [], 0
    for _ in paths:
        eol = out.index(b"\n", pos)
        size = int(out[pos:eol].split(b" ")[2])  # "<oid> blob <size>"
        blobs.append(out[eol + 1:eol + 1 + size])
        pos = eol + 1 + size + 1  # the body is followed by a newline
    return blobs


def parse(text: str) -> int:
    # load_all handles both single- and multi-document files; the count keeps the result alive
    return len(list(yaml.load_all(text, Loader=yaml.CSafeLoader)))


def main() -> int:
    repo = sys.argv[1]
    paths = [p for p in changed_paths(repo) if p.endswith((".yaml", ".yml"))]
    docs = 0
    for path, old in zip(paths, head_blobs(repo, paths)):
        with open(os.path.join(repo, path), encoding="utf-8") as fh:
            new_text = fh.read()
        docs += parse(old.decode("utf-8")) + parse(new_text)
    print(json.dumps({"files": len(paths), "documents": docs}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
