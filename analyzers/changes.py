"""Collect a ChangeSet from git: resolve the base, list changed files, read old and new text."""
from __future__ import annotations

import os
from typing import Iterable, Optional

from .errors import GitError
from .gitio import Git
from .linediff import hunks as line_hunks
from .model import BaseRef, ChangeSet, FileChange
from .policy import DEFAULT_MAX_FILE_BYTES

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
GITLINK = "160000"
SYMLINK = "120000"
_STATUS = {"A": "added", "M": "modified", "D": "deleted", "R": "renamed", "C": "added", "T": "modified"}


def resolve_base(git: Git, explicit: Optional[str] = None) -> BaseRef:
    """DESIGN §1: --base/policy base -> merge-base with upstream -> with origin/HEAD ->
    with local main/master -> HEAD. A repository with no commits has an empty base."""
    head = git.resolve("HEAD")
    if explicit:
        target = git.resolve(explicit)
        if target is None:
            raise GitError(f"unknown revision for --base: {explicit}")
        if head is None:
            return BaseRef(explicit, target, "explicit")
        merge = git.merge_base("HEAD", target)
        return BaseRef(explicit, merge or target, "merge-base with " + explicit if merge
                       else explicit + " (no merge base: shallow or unrelated history)")
    if head is None:
        return BaseRef(None, None, "no commits yet")
    upstream = git.text("rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}")
    candidates = [(upstream, "merge-base with upstream")] if upstream else []
    if git.resolve("refs/remotes/origin/HEAD"):
        candidates.append(("origin/HEAD", "merge-base with origin/HEAD"))
    candidates += [(name, f"merge-base with {name}") for name in ("main", "master")
                   if git.resolve(f"refs/heads/{name}")]
    for ref, how in candidates:
        merge = git.merge_base("HEAD", ref)
        if merge:
            return BaseRef(ref, merge, how)
    return BaseRef("HEAD", head, "HEAD")


def _parse_raw(out: bytes) -> list[tuple[str, str, str, str, Optional[str]]]:
    """`git diff --raw -z` -> (status letter, old mode, new mode, path, old path)."""
    fields = out.split(b"\0")
    result, i = [], 0
    while i < len(fields) and fields[i]:
        meta = fields[i].decode().lstrip(":").split(" ")
        old_mode, new_mode, status = meta[0], meta[1], meta[4][0]
        if status in "RC":
            old_path, path = _dec(fields[i + 1]), _dec(fields[i + 2])
            i += 3
        else:
            old_path, path = None, _dec(fields[i + 1])
            i += 2
        result.append((status, old_mode, new_mode, path, old_path))
    return result


def _dec(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _split_z(out: bytes) -> list[str]:
    return [_dec(p) for p in out.split(b"\0") if p]


def _pathspecs(git: Git, paths: Iterable[str], cwd: str) -> list[str]:
    specs = []
    for p in paths:
        absolute = os.path.abspath(os.path.join(cwd, p))
        rel = os.path.relpath(absolute, git.root)
        if rel.startswith(".."):
            raise GitError(f"path is outside the repository: {p}")
        specs.append(":(literal)" + ("" if rel == "." else rel.replace(os.sep, "/")))
    return specs


class _Reader:
    """Reads file contents with the size cap, binary and encoding checks applied."""

    def __init__(self, git: Git, max_bytes: int):
        self.git = git
        self.max_bytes = max_bytes

    def blob_sizes(self, specs: list[str]) -> dict[str, Optional[int]]:
        batch = [s for s in specs if "\n" not in s]
        sizes: dict[str, Optional[int]] = {s: None for s in specs}
        if batch:
            out = self.git.run("cat-file", "--batch-check", stdin=("\n".join(batch) + "\n").encode("utf-8", "surrogateescape"))
            for spec, line in zip(batch, out.decode("utf-8", "replace").splitlines()):
                parts = line.split(" ")
                sizes[spec] = int(parts[2]) if len(parts) == 3 and parts[1] == "blob" else None
        return sizes

    def blobs(self, specs: list[str]) -> dict[str, tuple[Optional[bytes], Optional[str]]]:
        """spec -> (content, why-skipped). Blobs over the cap are never loaded."""
        sizes = self.blob_sizes(specs)
        small = [s for s in specs if sizes[s] is not None and sizes[s] <= self.max_bytes]
        data = self.git.read_blobs(small) if small else {}
        out: dict[str, tuple[Optional[bytes], Optional[str]]] = {}
        for s in specs:
            if sizes[s] is None:
                out[s] = (None, None)
            elif sizes[s] > self.max_bytes:
                out[s] = (None, self.too_large(sizes[s]))
            else:
                out[s] = (data.get(s), None)
        return out

    def worktree(self, path: str) -> tuple[Optional[bytes], Optional[str]]:
        full = os.path.join(self.git.root, path)
        try:
            if os.path.islink(full):
                return os.readlink(full).encode("utf-8", "surrogateescape"), None
            size = os.path.getsize(full)
            if size > self.max_bytes:
                return None, self.too_large(size)
            with open(full, "rb") as fh:
                return fh.read(), None
        except OSError as exc:
            return None, f"unreadable: {exc.strerror}"

    def too_large(self, size: int) -> str:
        return f"{size:,} bytes is over the {self.max_bytes:,}-byte size cap"


def decode(data: Optional[bytes]) -> tuple[Optional[str], Optional[str]]:
    """bytes -> (text, why-skipped). Binary is judged as git does: a NUL in the first 8000 bytes."""
    if data is None:
        return None, None
    if b"\0" in data[:8000]:
        return None, "binary file"
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return None, f"not valid UTF-8 (byte {exc.start})"


def change_base(git: Git, base: Optional[str] = None, commit: Optional[str] = None) -> BaseRef:
    """The base a check compares against: for --commit REV its parent (or merge-base with
    --base), otherwise the resolution chain of resolve_base."""
    if not commit:
        return resolve_base(git, base)
    new_rev = _resolve_commit(git, commit)
    if base:
        target = git.resolve(base)
        if target is None:
            raise GitError(f"unknown revision for --base: {base}")
        merge = git.merge_base(new_rev, target)
        return BaseRef(base, merge or target, f"merge-base with {base}" if merge else base)
    parent = git.resolve(f"{new_rev}^")
    return BaseRef(f"{commit}^" if parent else None, parent, "parent of --commit" if parent else "root commit")


def _resolve_commit(git: Git, commit: str) -> str:
    new_rev = git.resolve(commit)
    if new_rev is None:
        raise GitError(f"unknown revision for --commit: {commit}")
    return new_rev


def collect(git: Git, base_ref: BaseRef, *, staged: bool = False, commit: Optional[str] = None,
            paths: Iterable[str] = (), cwd: str = ".", max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> ChangeSet:
    specs = _pathspecs(git, paths, cwd)
    reader = _Reader(git, max_file_bytes)
    new_rev = _resolve_commit(git, commit) if commit else None
    mode = "commit" if commit else "staged" if staged else "worktree"
    old_tree = base_ref.commit or EMPTY_TREE

    diff_args = ["diff", "--raw", "-z", "-M", "--no-ext-diff", "--no-textconv", "--ignore-submodules=none",
                 "--no-color", "--abbrev=40"]
    if mode == "commit":
        raw = git.run(*diff_args, old_tree, new_rev, "--", *specs)
    elif mode == "staged":
        raw = git.run(*diff_args, "--cached", old_tree, "--", *specs)
    else:
        raw = git.run(*diff_args, old_tree, "--", *specs)
    entries = _parse_raw(raw)
    if mode == "worktree":
        untracked = _split_z(git.run("ls-files", "-z", "--others", "--exclude-standard", "--", *specs))
        entries += [("A", "000000", "100644", p, None) for p in untracked]

    old_specs = [f"{old_tree}:{(e[4] or e[3])}" for e in entries if e[0] not in "A" and e[1] != GITLINK]
    new_specs = [(f"{new_rev}:{e[3]}" if mode == "commit" else f":{e[3]}")
                 for e in entries if e[0] != "D" and e[2] != GITLINK and mode != "worktree"]
    old_blobs = reader.blobs(old_specs) if base_ref.commit else {}
    new_blobs = reader.blobs(new_specs) if new_specs else {}

    files = []
    for status, old_mode, new_mode, path, old_path in sorted(entries, key=lambda e: e[3]):
        change = FileChange(path=path, status=_STATUS.get(status, "modified"), old_path=old_path)
        if GITLINK in (old_mode, new_mode):
            change.submodule = True
            change.skipped = "submodule (listed, not descended)"
            files.append(change)
            continue
        skipped = []
        if status != "A" and base_ref.commit:
            data, why = old_blobs.get(f"{old_tree}:{old_path or path}", (None, None))
            text, bad = decode(data) if why is None else (None, why)
            change.old_text = text
            skipped.append(why or bad)
        if status != "D":
            if mode == "worktree":
                data, why = reader.worktree(path)
            else:
                data, why = new_blobs.get(f"{new_rev}:{path}" if mode == "commit" else f":{path}", (None, None))
            text, bad = decode(data) if why is None else (None, why)
            change.new_text = text
            skipped.append(why or bad)
        change.skipped = next((s for s in skipped if s), None)
        if change.skipped is None:
            change.hunks = line_hunks(change.old_text, change.new_text)
        files.append(change)

    head = git.resolve("HEAD")
    tip = new_rev or head
    messages = []
    if tip:
        rng = f"{base_ref.commit}..{tip}" if base_ref.commit else tip
        out = git.try_run("log", "--no-color", "--format=%B%x00", "--max-count=500", rng, "--")
        messages = [m.strip() for m in _dec(out or b"").split("\0") if m.strip()]
    return ChangeSet(root=git.root, base=base_ref, mode=mode, files=files,
                     branch=git.current_branch(), head=head, commit_messages=messages)

