"""The one place that talks to git: subprocess with a fixed argv, `--` before paths.

Repository-controlled hooks into git (external diff, textconv, fsmonitor, pagers) are switched
off so that nothing from the analysed repository is ever executed."""
from __future__ import annotations

import os
import subprocess
from typing import Iterable, Optional

from .errors import GitError

_SAFE_CONFIG = ("-c", "core.fsmonitor=false", "-c", "core.quotepath=false",
                "-c", "diff.external=", "-c", "core.pager=cat")
_ENV = {"GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat"}


class Git:
    def __init__(self, root: str):
        self.root = root
        self._env = {**os.environ, **_ENV}

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
            raise GitError(f"not a git repository: {os.path.abspath(directory)}")
        return cls(out.stdout.decode("utf-8", "surrogateescape").strip())

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

    def read_blobs(self, specs: list[str]) -> dict[str, Optional[bytes]]:
        """Read many `rev:path` / `:path` objects through one `cat-file --batch`.
        Missing objects map to None; specs with a newline cannot use the batch protocol."""
        result: dict[str, Optional[bytes]] = {}
        batch = [s for s in specs if "\n" not in s]
        for spec in specs:
            if "\n" in spec:
                result[spec] = self.try_run("cat-file", "blob", spec)
        if not batch:
            return result
        out = self.run("cat-file", "--batch", stdin=("\n".join(batch) + "\n").encode("utf-8", "surrogateescape"))
        pos = 0
        for spec in batch:
            eol = out.index(b"\n", pos)
            header = out[pos:eol].split(b" ")
            pos = eol + 1
            if len(header) == 3 and header[1] == b"blob":
                size = int(header[2])
                result[spec] = out[pos:pos + size]
                pos += size + 1
            elif len(header) == 3:  # a tree or commit (e.g. a submodule entry): skip its body
                pos += int(header[2]) + 1
                result[spec] = None
            else:
                result[spec] = None  # "<spec> missing" / "ambiguous"
        return result

    def read_blob(self, rev: Optional[str], path: str) -> Optional[bytes]:
        spec = f"{rev}:{path}" if rev else f":{path}"
        return self.read_blobs([spec])[spec]
