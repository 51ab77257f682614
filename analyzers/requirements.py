"""Requirements: who must review, whether a change ticket and a change record are needed and present.

Review rules follow policy-bot semantics: a rule whose `if` is false is skipped; the rules that
apply are all required. Without a policy the defaults of DESIGN §4.3 hold."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from .globs import any_match
from .model import ChangeSet, FileReport, Finding, Requirement
from .policy import Policy, ReviewRule

DEFAULT_REVIEW = (
    ReviewRule("high blast radius two-person review", {"blast_radius": ["high", "critical"]}, 2),
    ReviewRule("human check of AI-authored config", {"ai_authored": True, "kind": ["config", "control-plane"]}, 1),
)


@dataclass(frozen=True)
class FileContext:
    report: FileReport
    rules: frozenset[str]
    ai_authored: bool
    changed_lines: int


def holds(predicate: dict, ctx: FileContext) -> bool:
    """All keys of a predicate must hold (an empty predicate always holds)."""
    f = ctx.report
    for key, want in predicate.items():
        if key == "all" and not all(holds(p, ctx) for p in want):
            return False
        if key == "any" and not any(holds(p, ctx) for p in want):
            return False
        if key == "not" and holds(want, ctx):
            return False
        if key == "paths" and not any_match(want, f.path):
            return False
        if key == "kind" and not set(want) & set(f.kinds):
            return False
        if key == "environment" and f.environment not in want:
            return False
        if key == "tier" and f.tier not in want:
            return False
        if key == "service" and f.service not in want:
            return False
        if key == "blast_radius" and f.blast_radius.level not in want:
            return False
        if key == "ai_authored" and ctx.ai_authored != want:
            return False
        if key == "rule" and not ctx.rules & set(want):
            return False
        if key == "changed_lines" and not _compare(ctx.changed_lines, want):
            return False
    return True


def _compare(value: int, expr: str) -> bool:
    m = re.fullmatch(r"(>=|<=|>|<|==)?\s*(\d+)", expr)
    op, limit = (m.group(1) or ">="), int(m.group(2))
    return {">": value > limit, ">=": value >= limit, "<": value < limit,
            "<=": value <= limit, "==": value == limit}[op]


def _contexts(files: list[FileReport], findings: list[Finding]) -> list[FileContext]:
    by_path: dict[str, set[str]] = {}
    for finding in findings:
        if finding.suppressed is None:
            by_path.setdefault(finding.path, set()).add(finding.rule)
    # AI provenance arrives with issue #5: until then no hunk carries evidence, so none is claimed.
    return [FileContext(f, frozenset(by_path.get(f.path, ())), False,
                        sum(h.added + h.removed for h in f.hunks)) for f in files]


def review_requirements(policy: Policy, contexts: list[FileContext]) -> list[Requirement]:
    out = []
    owners = sorted({o for c in contexts for o in c.report.owners})
    if owners:
        paths = [c.report.path for c in contexts if c.report.owners]
        out.append(Requirement.of("review", rule="code owners", approvals=1, **{"from": owners},
                                  reasons=[f"owned files changed: {', '.join(paths[:5])}"
                                           + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")]))
    for rule in (policy.review if policy.review is not None else DEFAULT_REVIEW):
        matching = [c for c in contexts if holds(rule.condition, c)]
        if not matching:
            continue
        out.append(Requirement.of("review", rule=rule.name, approvals=rule.approvals,
                                  **{"from": list(rule.reviewers)},
                                  reasons=[_reason(c) for c in matching[:5]]))
    return out


def _reason(c: FileContext) -> str:
    f = c.report
    bits = [f.path, f"blast radius {f.blast_radius.level}"]
    if f.environment:
        bits.append(f.environment)
    if f.tier is not None:
        bits.append(f"tier {f.tier}")
    return ", ".join(bits)


def ticket_requirement(policy: Policy, changeset: ChangeSet, contexts: list[FileContext]) -> Requirement:
    matching = [c for c in contexts if holds(policy.ticket_required_if, c)]
    found: Optional[str] = None
    where: Optional[str] = None
    sources: list[tuple[str, str]] = []
    if "branch" in policy.ticket_look_in and changeset.branch:
        sources.append(("branch", changeset.branch))
    if "commits" in policy.ticket_look_in:
        sources += [("commits", m) for m in changeset.commit_messages]
    if "change_records" in policy.ticket_look_in:
        sources += [("change_records", f.new_text or "") for f in changeset.files
                    if _in_dir(f.path, policy.change_records_dir) and f.new_text]
    for source, text in sources:
        for pattern in policy.ticket_patterns:
            m = pattern.search(text)
            if m:
                found, where = m.group(0), source
                break
        if found:
            break
    reasons = [_reason(c) for c in matching[:5]]
    return Requirement.of("ticket", required=bool(matching), present=found is not None, ticket=found,
                          found_in=where, searched=list(policy.ticket_look_in), reasons=reasons)


def _in_dir(path: str, directory: str) -> bool:
    return path.startswith(directory.rstrip("/") + "/")


def change_record_requirement(policy: Policy, changeset: ChangeSet,
                              contexts: list[FileContext]) -> Requirement:
    matching = [c for c in contexts if holds(policy.change_records_required_if, c)]
    records = [f for f in changeset.files if _in_dir(f.path, policy.change_records_dir)
               and f.status != "deleted" and f.new_text is not None]
    record = records[0] if records else None
    missing = list(policy.change_record_fields)
    if record is not None:
        text = record.new_text.lower()
        missing = [field for field in policy.change_record_fields
                   if not re.search(rf"(^|\n)\s*(#+\s*|[-*]\s*)?{re.escape(field.lower())}\s*[:\n]", text)]
    return Requirement.of("change-record", required=bool(matching), present=record is not None,
                          path=record.path if record else None, missing=missing,
                          dir=policy.change_records_dir, reasons=[_reason(c) for c in matching[:5]])


def requirements(policy: Policy, changeset: ChangeSet, files: list[FileReport],
                 findings: list[Finding]) -> list[Requirement]:
    contexts = _contexts(files, findings)
    out = review_requirements(policy, contexts)
    out.append(ticket_requirement(policy, changeset, contexts))
    out.append(change_record_requirement(policy, changeset, contexts))
    return out


def verdict(findings: list[Finding], reqs: list[Requirement]) -> str:
    active = [f for f in findings if f.suppressed is None]
    if any(f.severity == "error" for f in active):
        return "blocked"
    if any(r.kind != "review" and not r.met for r in reqs):
        return "blocked"
    if any(r.kind == "review" for r in reqs) or any(f.severity == "warning" for f in active):
        return "review-required"
    return "clear"


