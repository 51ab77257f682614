"""The one place that talks to git: subprocess with a fixed argv, `--` before paths.

Repository-controlled hooks into git (external diff, textconv, fsmonitor, pagers, clean/smudge
filters, signature verification) are switched off so that nothing from the analysed repository
is ever executed."""
from __future__ import annotations

import os
import subprocess
from typing import Iterable, Optional

from .errors import GitError

_SAFE_CONFIG = ("-c", "core.fsmonitor=false", "-c", "core.quotepath=false",
                "-c", "diff.external=", "-c", "core.pager=cat",
                # log.showSignature would run gpg.program (repository config) on signed commits
                "-c", "log.showSignature=false")
_ENV = {"GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat"}
# Config scopes that belong to the analysed repository rather than to the user running us.
_REPO_SCOPES = {"local", "worktree"}


class ObjectInfo(tuple):
    """(type, size) of an object, as `cat-file --batch-check` reports it."""

    @property
    def type(self) -> str:
        return self[0]

    @property
    def size(self) -> int:
        return self[1]


def _parse_header(line: bytes) -> Optional[ObjectInfo]:
    """`<oid> <type> <size>` -> (type, size); `<spec> missing|ambiguous` -> None. The spec
    is echoed only in the failure forms, and may contain spaces, so look at the end first."""
    if line.endswith((b" missing", b" ambiguous")):
        return None
    parts = line.split(b" ")
    if len(parts) != 3 or not parts[2].isdigit():
        return None
    return ObjectInfo((parts[1].decode("ascii", "replace"), int(parts[2])))


def _batchable(spec: str) -> bool:
    # The batch protocol is line-based: a newline ends the spec early and a trailing CR is eaten.
    return "\n" not in spec and not spec.endswith("\r")


class Git:
    def __init__(self, root: str):
        self.root = root
        self._env = {**os.environ, **_ENV}
        self._env.update(self._filters_off())
        self._empty_tree: Optional[str] = None

    @classmethod
    def discover(cls, directory: str) -> "Git":
        if not os.path.isdir(directory):
            raise GitError(f"no such directory: {directory}")
        try:
            out = subprocess.run(["git", *_SAFE_CONFIG, "-C", directory, "rev-parse", "--show-toplevel"],
                                 capture_output=True, env={**os.environ, **_ENV}, check=False)
        except FileNotFoundError:
            raise GitError("git is not installed or not on PATH") from None
        if out.returncode != 0:
            err = out.stderr.decode("utf-8", "replace")
            fatal = next((ln[len("fatal: "):] for ln in err.splitlines() if ln.startswith("fatal: ")), "")
            if "not a git repository" in fatal or not fatal:
                raise GitError(f"not a git repository: {os.path.abspath(directory)}")
            # e.g. "detected dubious ownership": say what git said, not a misleading guess
            raise GitError(f"git cannot use {os.path.abspath(directory)}: {fatal}")
        return cls(out.stdout.decode("utf-8", "surrogateescape").rstrip("\n"))

    def _filters_off(self) -> dict[str, str]:
        """Clean/smudge filters run when git hashes worktree files. Neutralise every filter
        driver the repository's own config defines (the user's global ones, e.g. git-lfs, stay).
        Passed as GIT_CONFIG_KEY_n/VALUE_n because a driver name may contain '='."""
        try:
            out = subprocess.run(["git", *_SAFE_CONFIG, "-C", self.root, "config", "--show-scope", "--null",
                                  "--name-only", "--get-regexp", r"^filter\."],
                                 capture_output=True, env=self._env, check=False).stdout
        except OSError:
            return {}
        fields = out.split(b"\0")
        drivers = sorted({_dec(name).rsplit(".", 1)[0] for scope, name in zip(fields[::2], fields[1::2])
                          if _dec(scope) in _REPO_SCOPES and name.count(b".") >= 2})
        if not drivers:
            return {}
        env: dict[str, str] = {}
        try:
            count = int(self._env.get("GIT_CONFIG_COUNT") or 0)
        except ValueError:
            count = 0
        for driver in drivers:
            for key, value in (("clean", ""), ("smudge", ""), ("process", ""), ("required", "false")):
                env[f"GIT_CONFIG_KEY_{count}"] = f"{driver}.{key}"
                env[f"GIT_CONFIG_VALUE_{count}"] = value
                count += 1
        env["GIT_CONFIG_COUNT"] = str(count)
        return env

    def run(self, *args: str, stdin: Optional[bytes] = None, ok_codes: Iterable[int] = (0,)) -> bytes:
        proc = subprocess.run(["git", *_SAFE_CONFIG, "-C", self.root, *args], input=stdin,
                              capture_output=True, env=self._env, check=False)
        if proc.returncode not in tuple(ok_codes):
            err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise GitError(f"git {args[0]} failed: {err[-1] if err else proc.returncode}")
        return proc.stdout

    def try_run(self, *args: str) -> Optional[bytes]:
        try:
            return self.run(*args)
        except GitError:
            return None

    def text(self, *args: str) -> Optional[str]:
        out = self.try_run(*args)
        return None if out is None else out.decode("utf-8", "surrogateescape").strip()

    def resolve(self, rev: str) -> Optional[str]:
        """Full commit id for `rev`, or None when it does not name a commit."""
        return self.text("rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")

    def merge_base(self, a: str, b: str) -> Optional[str]:
        return self.text("merge-base", "--end-of-options", a, b) or None

    def has_commits(self) -> bool:
        return self.resolve("HEAD") is not None

    def current_branch(self) -> Optional[str]:
        return self.text("symbolic-ref", "--quiet", "--short", "HEAD") or None

    def empty_tree(self) -> str:
        """The empty tree's id in this repository's object format (sha1 or sha256)."""
        if self._empty_tree is None:
            self._empty_tree = self.run("hash-object", "--no-filters", "-t", "tree", "--stdin",
                                        stdin=b"").decode("ascii").strip()
        return self._empty_tree

    def recorded_parents(self, commit: str) -> int:
        """Parents named in the commit object itself; a shallow clone may not have them."""
        raw = self.try_run("cat-file", "commit", commit) or b""
        header = raw.split(b"\n\n", 1)[0]
        return sum(1 for line in header.split(b"\n") if line.startswith(b"parent "))

    def object_info(self, specs: list[str]) -> dict[str, Optional[ObjectInfo]]:
        """(type, size) for many `rev:path` / `:0:path` specs without reading their content."""
        result: dict[str, Optional[ObjectInfo]] = {}
        batch = [s for s in specs if _batchable(s)]
        for spec in specs:
            if not _batchable(spec):
                kind = self.text("cat-file", "-t", spec)
                size = self.text("cat-file", "-s", spec) if kind else None
                result[spec] = ObjectInfo((kind, int(size))) if kind and size and size.isdigit() else None
        if batch:
            out = self.run("cat-file", "--batch-check",
                           stdin=("\n".join(batch) + "\n").encode("utf-8", "surrogateescape"))
            lines = out.split(b"\n")
            for i, spec in enumerate(batch):
                result[spec] = _parse_header(lines[i]) if i < len(lines) else None
        return result

    def read_blobs(self, specs: list[str]) -> dict[str, Optional[bytes]]:
        """Read many `rev:path` / `:0:path` objects through one `cat-file --batch`.
        Missing objects and non-blobs map to None; specs the batch protocol cannot carry
        (newline, trailing CR) are read one by one."""
        result: dict[str, Optional[bytes]] = {}
        batch = [s for s in specs if _batchable(s)]
        for spec in specs:
            if not _batchable(spec):
                result[spec] = self.try_run("cat-file", "blob", spec)
        if not batch:
            return result
        out = self.run("cat-file", "--batch", stdin=("\n".join(batch) + "\n").encode("utf-8", "surrogateescape"))
        pos = 0
        for spec in batch:
            eol = out.index(b"\n", pos)
            info = _parse_header(out[pos:eol])
            pos = eol + 1
            if info is None:
                result[spec] = None  # "<spec> missing" / "ambiguous"
                continue
            result[spec] = out[pos:pos + info.size] if info.type == "blob" else None
            pos += info.size + 1  # a tree or commit (e.g. a submodule entry): skip its body
        return result

    def read_blob(self, rev: Optional[str], path: str) -> Optional[bytes]:
        spec = f"{rev}:{path}" if rev else f":0:{path}"
        return self.read_blobs([spec])[spec]


def _dec(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")
