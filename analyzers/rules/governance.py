"""Rules about the gate itself and about what could not be analysed."""
from __future__ import annotations

from typing import Iterable

from ..owners import check_file
from ..suppress import added, suppressions
from .registry import FileFacts, Hit, rule


@rule("POL-001", "policy-change", "warning",
      summary="The change edits a file that decides its own gate (policy, CODEOWNERS, OWNERS, catalog).",
      rationale="The policy and ownership files are read from the base revision, so this change is "
                "judged by the old rules; the edit itself needs the owners of the gate to agree.",
      incident="Azure Front Door 2025-10-29 and CrowdStrike 2024-07-19: the safeguard was the thing "
               "that failed")
def policy_change(facts: FileFacts, params: dict) -> Iterable[Hit]:
    if facts.trusted_file:
        first = facts.file.hunks[0].start if facts.file.hunks else 1
        yield Hit(f"{facts.file.path} is the {facts.trusted_file} file: this change is still judged by "
                  f"the base revision's version, and the edit needs the gate owners' review", first)


@rule("OWN-001", "owners-file-problem", "warning",
      summary="An edited CODEOWNERS or OWNERS line is invalid or uses syntax the forge does not support.",
      rationale="The forge skips a line it cannot read, silently: the paths it names lose their "
                "owners (or keep the wrong ones) and changes to them merge without the review the "
                "author meant to require.",
      incident="GitHub skips invalid CODEOWNERS lines and ignores files over 3 MB without failing a PR",
      codeowners_dialect=None)
def owners_file_problem(facts: FileFacts, params: dict) -> Iterable[Hit]:
    if facts.trusted_file not in ("codeowners", "OWNERS") or facts.file.new_text is None:
        return
    dialect = params.get("codeowners_dialect")
    old = _problems(facts.file.path, facts.file.old_text, dialect)
    by_line: dict[int, list] = {}
    for key, problem in _problems(facts.file.path, facts.file.new_text, dialect).items():
        if key not in old:  # only what this change introduces, wherever the parser noticed it
            by_line.setdefault(problem.line or 1, []).append(problem)
    for line, problems in sorted(by_line.items()):
        worst = "error" if any(p.severity == "error" for p in problems) else None
        yield Hit("; ".join(dict.fromkeys(p.message for p in problems)), line, severity=worst)


def _problems(path: str, text, dialect) -> dict:
    """Problems keyed by message and the text of their line, so moving a line is not new."""
    if text is None:
        return {}
    lines = text.splitlines()
    return {(p.message, lines[p.line - 1].strip() if p.line and p.line <= len(lines) else ""): p
            for p in check_file(path, text.encode("utf-8", "surrogateescape"), dialect)}


@rule("CFG-001", "config-parse-error", "warning",
      summary="A config file does not parse; its semantic diff was skipped.",
      rationale="A malformed config file is rejected (or half-read) by whatever consumes it, and "
                "ChangeGate cannot say which keys changed.",
      incident="Google Cloud 2025-06-12: malformed policy data crashed the consumer fleet-wide")
def config_parse_error(facts: FileFacts, params: dict) -> Iterable[Hit]:
    problem = facts.parse_error
    if problem is not None and problem.side == "new":
        yield Hit(f"{problem.message} at line {problem.line}: key-level analysis of {facts.file.path} "
                  f"skipped", problem.line)


@rule("CFG-002", "file-skipped", "info",
      summary="A changed file was not analysed (binary, over the size cap, or not UTF-8).",
      rationale="Say what was not looked at, rather than pass it silently.")
def file_skipped(facts: FileFacts, params: dict) -> Iterable[Hit]:
    if facts.file.skipped:
        yield Hit(f"{facts.file.path} not analysed: {facts.file.skipped}", 1)


@rule("SUP-001", "suppression-added", "info",
      summary="The change adds a `changegate: allow` suppression.",
      rationale="A waiver written by the change it waives deserves a reviewer's eye.")
def suppression_added(facts: FileFacts, params: dict) -> Iterable[Hit]:
    for line, rule_id, reason in added(suppressions(facts.file.new_text), suppressions(facts.file.old_text)):
        yield Hit(f"suppression of {rule_id} added: {reason}", line)
