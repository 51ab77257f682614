"""`changegate demo` end to end: the real CLI builds a real git repository, then checks it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def _env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    return {**env, **extra}


def cli(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "server", *args], cwd=cwd, env=_env(**env),
                          capture_output=True, text=True, timeout=120)


def git(directory: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(directory), *args], capture_output=True, text=True,
                          check=True).stdout.strip()


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    base = tmp_path_factory.mktemp("demo")
    directory = base / "shop"  # does not exist yet: the demo creates it
    return directory, cli("demo", str(directory), cwd=base)


def test_demo_builds_a_repository_with_history_and_a_dirty_tree(demo):
    directory, result = demo
    assert result.returncode == 0, result.stderr
    assert git(directory, "rev-parse", "--show-toplevel") == str(directory.resolve())
    assert int(git(directory, "rev-list", "--count", "HEAD")) >= 3
    assert "SHOP-" in git(directory, "log", "--format=%s")
    dirty = git(directory, "status", "--porcelain").splitlines()
    assert " M deploy/prod/checkout.yaml" in dirty and " M deploy/staging/checkout.yaml" in dirty


def test_demo_prints_header_findings_requirements_and_verdict(demo):
    directory, result = demo
    out = result.stdout
    assert f"Demo repository: {directory}" in out
    assert f"changegate check -C {directory}" in out
    assert "deploy/prod/checkout.yaml" in out
    assert "CAP-002" in out and "6 → 0" in out
    assert "CAP-001" in out and "4 → 1" in out
    assert "Requirements" in out and "ticket" in out and "@shop/sre" in out
    assert "Verdict: blocked" in out
    assert "\x1b[" not in out  # piped: no colour


def test_check_on_the_demo_repository_is_blocked(demo):
    directory, _ = demo
    result = cli("check", "-C", str(directory), "--format", "json", cwd=directory.parent)

    assert result.returncode == 1, result.stderr  # errors found: the gate is not met
    report = json.loads(result.stdout)
    assert report["verdict"] == "blocked"
    cap2 = [f for f in report["findings"] if f["rule"] == "CAP-002"]
    assert [(f["path"], f["key"], f["old"], f["new"]) for f in cap2] == \
        [("deploy/prod/checkout.yaml", "spec.replicas", 6, 0)]
    ticket = next(r for r in report["requirements"] if r["kind"] == "ticket")
    assert ticket["required"] is True and ticket["present"] is False


def test_demo_json_goes_to_stdout_alone_in_a_fresh_temp_dir(demo, tmp_path):
    # TMPDIR points mkdtemp at tmp_path, so the default location is exercised and cleaned up.
    result = cli("demo", "--format", "json", cwd=tmp_path, TMPDIR=str(tmp_path))

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)  # the header went to stderr, so stdout parses
    assert report["verdict"] == "blocked"
    created = list(tmp_path.glob("changegate-demo-*"))
    assert len(created) == 1 and f"Demo repository: {created[0]}" in result.stderr
    # Fixed authors and dates: every run builds the same history.
    assert git(created[0], "rev-parse", "HEAD") == git(demo[0], "rev-parse", "HEAD")


def test_demo_refuses_a_non_empty_directory(tmp_path):
    (tmp_path / "notes.txt").write_text("mine\n", encoding="utf-8")

    result = cli("demo", str(tmp_path), cwd=tmp_path)

    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1 and "not an empty directory" in result.stderr
    assert result.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]  # nothing written, no .git
