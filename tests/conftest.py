"""Shared fixtures: real git repositories in temp dirs, and the real CLI as a subprocess."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pytest

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test Author", "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Test Committer", "GIT_COMMITTER_EMAIL": "committer@example.com",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
    "GIT_CONFIG_NOSYSTEM": "1", "HOME": "",  # HOME is set per repo below
}


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


class GitRepo:
    """A real git repository in a temp dir, with helpers to write files, commit and run the CLI."""

    def __init__(self, root: Path):
        self.root = root
        self.env = {**os.environ, **GIT_ENV, "HOME": str(root.parent)}
        self.env.pop("NO_COLOR", None)
        self.env.pop("FORCE_COLOR", None)

    def git(self, *args: str, check: bool = True) -> str:
        proc = subprocess.run(["git", *args], cwd=self.root, env=self.env, capture_output=True, text=True)
        if check and proc.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
        return proc.stdout.strip()

    def write(self, path: str, content: str | bytes) -> Path:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
        return target

    def delete(self, path: str) -> None:
        (self.root / path).unlink()

    def commit(self, message: str = "change", *paths: str) -> str:
        self.git("add", "-A", *(["--", *paths] if paths else []))
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")

    def cli(self, *args: str, cwd: Optional[Path] = None, env: Optional[dict] = None,
            stdin: Optional[str] = None) -> CliResult:
        proc = subprocess.run([sys.executable, "-m", "server", *args], cwd=cwd or self.root,
                              env={**self.env, **(env or {})}, capture_output=True, text=True,
                              input=stdin, timeout=120)
        return CliResult(proc.returncode, proc.stdout, proc.stderr)

    def check_json(self, *args: str) -> dict:
        result = self.cli("check", "--format", "json", "--fail-on", "never", *args)
        assert result.code == 0, result.stderr
        return result.json()


def init_repo(path: Path, branch: str = "main") -> GitRepo:
    path.mkdir(parents=True, exist_ok=True)
    repo = GitRepo(path)
    repo.git("init", "-q", "-b", branch)
    repo.git("config", "user.name", "Test User")
    repo.git("config", "user.email", "user@example.com")
    repo.git("config", "commit.gpgsign", "false")
    return repo


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return init_repo(tmp_path / "repo")


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout
  namespace: shop
spec:
  replicas: {replicas}
  template:
    spec:
      containers:
        - name: api
          image: shop/checkout:{tag}
"""


def deployment(replicas: int = 6, tag: str = "1.4.2") -> str:
    return DEPLOYMENT.format(replicas=replicas, tag=tag)


def mixed_change(repo: GitRepo, reason: str = "canary pool shrinks, CHG0012345") -> str:
    """An error (CAP-002), a suppressed warning (CAP-001) with its SUP-001 info, and a parse
    warning (CFG-001), uncommitted on top of a base. Returns the base commit."""
    repo.write("deploy/prod/checkout.yaml", deployment(replicas=6))
    repo.write("deploy/prod/canary.yaml", "spec:\n  replicas: 4\n")
    base = repo.commit("base")
    repo.write("deploy/prod/checkout.yaml", deployment(replicas=0))
    repo.write("deploy/prod/canary.yaml",
               f"spec:\n  # changegate: allow CAP-001 -- {reason}\n  replicas: 1\n")
    repo.write("deploy/prod/broken.yaml", "a: [1, 2\n")
    return base


def warnings_after(repo, path, before, after):
    """Commit `before`, write `after`: the warning and error findings a user would see."""
    repo.write(path, before)
    repo.commit("base")
    repo.write(path, after)
    return [f for f in repo.check_json()["findings"] if f["severity"] != "info"]


def rules_of(found):
    return [(f["rule"], f["key"]) for f in found]
