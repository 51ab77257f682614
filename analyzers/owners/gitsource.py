"""Readers for load_ownership: blobs of one commit (the trusted base), or the working tree of a
repository without commits. Ownership files only are read; git runs through analyzers.gitio,
with every repository-controlled hook switched off."""
from __future__ import annotations

import os
import stat
from typing import Callable, Iterable, Optional

from ..gitio import Git
from .index import TooLarge

MAX_BLOB = 64 * 1024 * 1024  # bigger than any forge loads; larger ones are reported, not read


def revision_source(git: Git, commit: str) -> tuple[Callable[[str], Optional[bytes]], Callable[[], Iterable[str]]]:
    """(read, list_paths) of the files at `commit`."""

    def read(path: str) -> Optional[bytes]:
        spec = f"{commit}:{path}"
        info = git.object_info([spec])[spec]
        if info is None or info.type != "blob":
            return None
        if info.size > MAX_BLOB:
            raise TooLarge(info.size)
        return git.read_blobs([spec])[spec]

    def list_paths() -> list[str]:
        out = git.run("ls-tree", "-r", "-z", "--name-only", "--full-tree", commit)
        return [p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p]

    return read, list_paths


def worktree_source(root: str) -> tuple[Callable[[str], Optional[bytes]], None]:
    """(read, None) of the files on disk under `root`; symbolic links are read as git stores
    them (their target), never followed, and nothing outside `root` is read."""
    base = os.path.realpath(root)

    def read(path: str) -> Optional[bytes]:
        full = os.path.normpath(os.path.join(base, path))
        # a symlinked directory on the way would lead out of the repository, where git never goes
        parent = os.path.realpath(os.path.dirname(full))
        if not full.startswith(base + os.sep) or not (parent == base or parent.startswith(base + os.sep)):
            return None
        try:
            st = os.lstat(full)
            if stat.S_ISLNK(st.st_mode):
                return os.readlink(full).encode("utf-8", "surrogateescape")
            if not stat.S_ISREG(st.st_mode):
                return None
            if st.st_size > MAX_BLOB:
                raise TooLarge(st.st_size)
            with open(full, "rb") as fh:
                return fh.read(MAX_BLOB + 1)
        except (OSError, ValueError):
            return None

    return read, None


def base_source(git: Git, commit: Optional[str]):
    """The base revision's files, or the working tree when the repository has no commits."""
    return revision_source(git, commit) if commit else worktree_source(git.root)
