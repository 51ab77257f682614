"""Collect a ChangeSet from git: resolve the base, list changed files, read old and new text."""
from __future__ import annotations

import os
import stat
from typing import Iterable, Optional

from .errors import GitError
from .gitio import Git
from .linediff import hunks as line_hunks
from .model import BaseRef, ChangeSet, FileChange
from .policy import DEFAULT_MAX_FILE_BYTES

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # sha1 only; Git.empty_tree() knows the repo's format
GITLINK = "160000"
SYMLINK = "120000"
_STATUS = {"A": "added", "M": "modified", "D": "deleted", "R": "renamed", "T": "modified"}
NESTED_REPO = "nested git repository (listed, not descended)"


def resolve_base(git: Git, explicit: Optional[str] = None, *, source: str = "--base") -> BaseRef:
    """DESIGN §1: --base/policy base -> merge-base with upstream -> with origin/HEAD ->
    with local main/master -> HEAD. A repository with no commits has an empty base.
    `source` names where `explicit` came from, for the error message."""
    head = git.resolve("HEAD")
    if explicit:
        target = git.resolve(explicit)
        if target is None:
            raise GitError(f"unknown revision for {source}: {explicit}")
        if head is None:
            return BaseRef(explicit, target, "explicit")
        merge = git.merge_base("HEAD", target)
        return BaseRef(explicit, merge or target, "merge-base with " + explicit if merge
                       else explicit + " (no merge base: shallow or unrelated history)")
    if head is None:
        return BaseRef(None, None, "no commits yet")
    # Candidates as (full ref, name shown, how): merge-base gets the full ref so a tag or a
    # local branch that shares the short name cannot stand in for it.
    candidates = []
    upstream = git.text("rev-parse", "--symbolic-full-name", "@{upstream}")
    if upstream and git.resolve(upstream):
        short = upstream.removeprefix("refs/remotes/").removeprefix("refs/heads/")
        candidates.append((upstream, short, "merge-base with upstream"))
    if git.resolve("refs/remotes/origin/HEAD"):
        candidates.append(("refs/remotes/origin/HEAD", "origin/HEAD", "merge-base with origin/HEAD"))
    candidates += [(f"refs/heads/{name}", name, f"merge-base with {name}") for name in ("main", "master")
                   if git.resolve(f"refs/heads/{name}")]
    for full, name, how in candidates:
        merge = git.merge_base("HEAD", full)
        if merge:
            return BaseRef(name, merge, how)
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
            if status == "C":  # a copy (diff.renames=copies) is a new file, not an edit of its source
                status, old_mode, old_path = "A", "000000", None
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
    # The directory is resolved as git resolves it (a -C through a symlink lands in the real
    # repository); the path itself is not, so a symlink inside the repo stays that symlink.
    here = os.path.realpath(cwd)
    root = os.path.realpath(git.root)
    specs = []
    for p in paths:
        absolute = os.path.normpath(os.path.join(here, p))
        rel = os.path.relpath(absolute, root)
        if rel == os.pardir or rel.startswith(os.pardir + os.sep):
            raise GitError(f"path is outside the repository: {p}")
        specs.append(":(literal)" + ("" if rel == "." else rel.replace(os.sep, "/")))
    return specs


class _Reader:
    """Reads file contents with the size cap, binary and encoding checks applied."""

    def __init__(self, git: Git, max_bytes: int):
        self.git = git
        self.max_bytes = max_bytes

    def blobs(self, specs: list[str]) -> dict[str, tuple[Optional[bytes], Optional[str]]]:
        """spec -> (content, why-skipped). Blobs over the cap are never loaded."""
        info = self.git.object_info(specs)
        small = [s for s in specs if info[s] is not None and info[s].type == "blob" and info[s].size <= self.max_bytes]
        data = self.git.read_blobs(small) if small else {}
        out: dict[str, tuple[Optional[bytes], Optional[str]]] = {}
        for s in specs:
            if info[s] is None or info[s].type != "blob":
                out[s] = (None, None)
            elif info[s].size > self.max_bytes:
                out[s] = (None, self.too_large(info[s].size))
            else:
                out[s] = (data.get(s), None)
        return out

    def worktree(self, path: str) -> tuple[Optional[bytes], Optional[str]]:
        full = os.path.join(self.git.root, path)
        try:
            st = os.lstat(full)
            if stat.S_ISLNK(st.st_mode):
                return os.readlink(full).encode("utf-8", "surrogateescape"), None
            if not stat.S_ISREG(st.st_mode):  # a FIFO or device would block or never end
                return None, "not a regular file"
            if st.st_size > self.max_bytes:
                return None, self.too_large(st.st_size)
            with open(full, "rb") as fh:
                data = fh.read(self.max_bytes + 1)  # the file may grow between stat and read
            return (data, None) if len(data) <= self.max_bytes else (None, self.too_large(len(data)))
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


def change_base(git: Git, base: Optional[str] = None, commit: Optional[str] = None, *,
                source: str = "--base") -> BaseRef:
    """The base a check compares against: for --commit REV its parent (or merge-base with
    --base), otherwise the resolution chain of resolve_base."""
    if not commit:
        return resolve_base(git, base, source=source)
    new_rev = _resolve_commit(git, commit)
    if base:
        target = git.resolve(base)
        if target is None:
            raise GitError(f"unknown revision for {source}: {base}")
        merge = git.merge_base(new_rev, target)
        return BaseRef(base, merge or target, f"merge-base with {base}" if merge else base)
    parent = git.resolve(f"{new_rev}^")
    if parent is None and git.recorded_parents(new_rev):
        # Comparing with an empty tree would report the whole repository as added.
        raise GitError(f"the parent of --commit {commit} is not in this shallow clone; "
                       "fetch it (git fetch --deepen=1) or pass --base REF")
    return BaseRef(f"{commit}^" if parent else None, parent, "parent of --commit" if parent else "root commit")


def _resolve_commit(git: Git, commit: str) -> str:
    new_rev = git.resolve(commit)
    if new_rev is None:
        raise GitError(f"unknown revision for --commit: {commit}")
    return new_rev


NESTED = "nested"  # pseudo mode of an untracked directory that is itself a git repository


def _with_untracked(git: Git, entries: list, untracked: list[str]) -> tuple[list, set[str]]:
    """Add untracked files to the worktree diff. A path git reports deleted (gone from the index,
    e.g. `git rm --cached`) that is still on disk is modified, not deleted-and-added: those
    paths are returned so that an unchanged one can be dropped."""
    deleted = {e[3]: i for i, e in enumerate(entries) if e[0] == "D"}
    entries = list(entries)
    reappeared: set[str] = set()
    for path in untracked:
        if path.endswith("/"):  # ls-files shows an untracked nested repository as "dir/"
            entries.append(("A", "000000", NESTED, path.rstrip("/"), None))
            continue
        mode = SYMLINK if os.path.islink(os.path.join(git.root, path)) else "100644"
        if path in deleted:
            old = entries[deleted[path]]
            entries[deleted[path]] = ("M", old[1], mode, path, None)
            reappeared.add(path)
        else:
            entries.append(("A", "000000", mode, path, None))
    return entries, reappeared


def _link_note(old_mode: str, new_mode: str, old: Optional[bytes], new: Optional[bytes]) -> str:
    """A symlink's blob is its target: say where it points instead of diffing a path as config."""
    if new_mode == SYMLINK and new is not None:
        return f"symbolic link to {_dec(new)}"
    if old_mode == SYMLINK and old is not None:
        return f"was a symbolic link to {_dec(old)}"
    return "symbolic link"


def collect(git: Git, base_ref: BaseRef, *, staged: bool = False, commit: Optional[str] = None,
            paths: Iterable[str] = (), cwd: str = ".", max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> ChangeSet:
    specs = _pathspecs(git, paths, cwd)
    reader = _Reader(git, max_file_bytes)
    new_rev = _resolve_commit(git, commit) if commit else None
    mode = "commit" if commit else "staged" if staged else "worktree"
    old_tree = base_ref.commit or git.empty_tree()

    # --ignore-submodules=dirty: a moved gitlink is reported, but git does not run inside the
    # submodule to look for uncommitted work there (listed, not descended).
    diff_args = ["diff", "--raw", "-z", "-M", "--no-ext-diff", "--no-textconv", "--ignore-submodules=dirty",
                 "--no-color", "--abbrev=40"]
    if mode == "commit":
        raw = git.run(*diff_args, old_tree, new_rev, "--", *specs)
    elif mode == "staged":
        raw = git.run(*diff_args, "--cached", old_tree, "--", *specs)
    else:
        raw = git.run(*diff_args, old_tree, "--", *specs)
    entries = _parse_raw(raw)
    reappeared: set[str] = set()
    if mode == "worktree":
        untracked = _split_z(git.run("ls-files", "-z", "--others", "--exclude-standard", "--", *specs))
        entries, reappeared = _with_untracked(git, entries, untracked)
        # Against the working tree git reports a conflicted path as "M"; its text holds markers.
        unmerged = {_dec(line.split(b"\t", 1)[1]) for line in
                    git.run("ls-files", "-z", "--unmerged", "--", *specs).split(b"\0") if b"\t" in line}
        entries = [("U", *e[1:]) if e[3] in unmerged else e for e in entries]

    def new_spec(path: str) -> str:
        # ":0:" names stage 0 explicitly: a bare ":1:x" would mean stage 1 of "x"
        return f"{new_rev}:{path}" if mode == "commit" else f":0:{path}"

    contentless = (GITLINK, NESTED)
    old_specs = [f"{old_tree}:{(e[4] or e[3])}" for e in entries if e[0] != "A" and e[1] not in contentless]
    new_specs = [new_spec(e[3]) for e in entries
                 if e[0] != "D" and e[2] not in contentless and mode != "worktree"]
    old_blobs = reader.blobs(old_specs) if base_ref.commit and old_specs else {}
    new_blobs = reader.blobs(new_specs) if new_specs else {}

    files = []
    for status, old_mode, new_mode, path, old_path in sorted(entries, key=lambda e: e[3]):
        change = FileChange(path=path, status=_STATUS.get(status, "modified"), old_path=old_path)
        if GITLINK in (old_mode, new_mode) or new_mode == NESTED:
            change.submodule = True
            change.skipped = NESTED_REPO if new_mode == NESTED else "submodule (listed, not descended)"
            files.append(change)
            continue
        old_data = new_data = None
        old_why = new_why = None
        if status != "A" and base_ref.commit:
            old_data, old_why = old_blobs.get(f"{old_tree}:{old_path or path}", (None, None))
        if status != "D":
            if mode == "worktree":
                new_data, new_why = reader.worktree(path)
            else:
                new_data, new_why = new_blobs.get(new_spec(path), (None, None))
        if path in reappeared and old_data is not None and old_data == new_data \
                and (old_mode == SYMLINK) == (new_mode == SYMLINK):
            continue  # untracked again but identical on disk: nothing changed in the working tree
        if status == "U":
            change.skipped = "unmerged path (conflict not resolved)"
        elif SYMLINK in (old_mode, new_mode):
            change.skipped = _link_note(old_mode, new_mode, old_data, new_data)
        else:
            skipped = []
            if status != "A" and base_ref.commit:
                change.old_text, bad = decode(old_data) if old_why is None else (None, old_why)
                skipped.append(bad)
            if status != "D":
                change.new_text, bad = decode(new_data) if new_why is None else (None, new_why)
                skipped.append(bad)
            change.skipped = next((s for s in skipped if s), None)
        if change.skipped is None:
            change.hunks = line_hunks(change.old_text, change.new_text)
        files.append(change)

    head = git.resolve("HEAD")
    tip = new_rev or head
    messages = []
    if tip:
        rng = f"{base_ref.commit}..{tip}" if base_ref.commit else tip
        out = git.try_run("log", "--no-color", "--no-show-signature", "--format=%B%x00", "--max-count=500",
                          rng, "--")
        messages = [m.strip() for m in _dec(out or b"").split("\0") if m.strip()]
    return ChangeSet(root=git.root, base=base_ref, mode=mode, files=files,
                     branch=git.current_branch(), head=head, commit_messages=messages)
