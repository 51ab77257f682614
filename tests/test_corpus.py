"""The corpus: realistic risky transitions and routine edits, each a small git repository.

Every case is a folder under tests/corpus/<family>/<case>/ with a case.yaml:

    description: prod Deployment scaled to zero during a migration
    files:                                  # repo path -> file in the case folder
      deploy/prod/checkout.yaml: {before: before.yaml, after: after.yaml}
      # no `before`: the change adds the file; no `after`: it deletes it
    policy: |                               # optional .changegate.yaml, committed at the base
      version: 1
    expect:                                 # every finding at warning or above, and nothing else
      - {rule: CAP-002, path: deploy/prod/checkout.yaml, line: 7, severity: error}
    blast: {deploy/prod/checkout.yaml: critical}   # optional: file blast radius levels

A routine case has `expect: []`: nothing may be flagged at warning or above. Precision matters
as much as recall; an editor tool that cries wolf gets switched off."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from analyzers.check import run_check
from conftest import init_repo

CORPUS = Path(__file__).parent / "corpus"
CASES = sorted(p.parent for p in CORPUS.glob("*/*/case.yaml"))


def _load(case: Path) -> dict:
    spec = yaml.safe_load((case / "case.yaml").read_text(encoding="utf-8"))
    assert set(spec) <= {"description", "files", "policy", "expect", "blast"}, f"{case}: unknown keys"
    return spec


def _build(case: Path, spec: dict, root: Path):
    repo = init_repo(root)
    if spec.get("policy"):
        repo.write(".changegate.yaml", spec["policy"])
    repo.write("README.md", "corpus case\n")
    for path, sides in spec["files"].items():
        if sides.get("before"):
            repo.write(path, (case / sides["before"]).read_bytes())
    repo.commit("base")
    for path, sides in spec["files"].items():
        if sides.get("after"):
            repo.write(path, (case / sides["after"]).read_bytes())
        elif (repo.root / path).exists():
            repo.delete(path)
    return repo


@pytest.mark.parametrize("case", CASES, ids=[f"{c.parent.name}/{c.name}" for c in CASES])
def test_corpus_case(case: Path, tmp_path: Path):
    spec = _load(case)
    repo = _build(case, spec, tmp_path / "repo")

    report = run_check(str(repo.root), cwd=str(repo.root))

    flagged = sorted((f.rule, f.path, f.line, f.severity) for f in report.active_findings()
                     if f.severity in ("warning", "error"))
    expected = sorted((e["rule"], e["path"], e["line"], e["severity"]) for e in spec.get("expect") or [])
    assert flagged == expected, f"{spec['description']}\nmessages: " + "; ".join(
        f"{f.rule} {f.path}:{f.line} {f.message}" for f in report.findings)
    levels = {f.path: f.blast_radius.level for f in report.files}
    for path, level in (spec.get("blast") or {}).items():
        assert levels[path] == level, f"{path}: blast radius {levels[path]}, expected {level}"


def test_corpus_has_both_risky_and_routine_cases():
    specs = [_load(c) for c in CASES]
    assert any(s.get("expect") for s in specs) and any(not s.get("expect") for s in specs)
