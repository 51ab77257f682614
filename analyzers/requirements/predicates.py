"""Policy predicates (DESIGN §4.3) evaluated against one changed file."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from ..globs import any_match
from ..model import BLAST_RANK, SEVERITY_RANK, FileReport, Finding


@dataclass(frozen=True)
class FileContext:
    report: FileReport
    rules: frozenset[str]          # ids of the active findings in the file
    ai_authored: bool
    changed_lines: int
    top: Optional[Finding] = None  # the finding that most explains the file's level, for tracing

    @property
    def line(self) -> int:
        """Where to point when this file caused a requirement: its top finding, else its first hunk."""
        if self.top is not None:
            return self.top.line
        hunks = self.report.hunks
        return hunks[0].start if hunks else 1


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
        if key == "paths" and not (any_match(want, f.path) or f.old_path and any_match(want, f.old_path)):
            return False  # a file moved out of a protected path still changed that path
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
        if key == "changed_lines" and not compare(ctx.changed_lines, want):
            return False
    return True


def compare(value: int, expr: str) -> bool:
    m = re.fullmatch(r"\s*(>=|<=|>|<|==)?\s*(\d+)\s*", expr)
    op, limit = (m.group(1) or ">="), int(m.group(2))
    return {">": value > limit, ">=": value >= limit, "<": value < limit,
            "<=": value <= limit, "==": value == limit}[op]


def contexts(files: list[FileReport], findings: list[Finding]) -> list[FileContext]:
    by_path: dict[str, list[Finding]] = {}
    for finding in findings:
        if finding.suppressed is None:
            by_path.setdefault(finding.path, []).append(finding)
    out = []
    for f in files:
        found = by_path.get(f.path, [])
        top = max(found, key=lambda x: (BLAST_RANK.get(x.blast_radius or "", -1), SEVERITY_RANK[x.severity], -x.line),
                  default=None)
        ai = f.ai_lines > 0  # evidence only: unknown authorship never counts as AI
        out.append(FileContext(f, frozenset(x.rule for x in found), ai,
                               sum(h.added + h.removed for h in f.hunks), top))
    return out
