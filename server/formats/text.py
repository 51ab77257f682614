"""Terminal output in the style of ruff and Semgrep: findings grouped by file, then the
requirements and the verdict. Colour only on a TTY and never with NO_COLOR."""
from __future__ import annotations

import os
import sys
from typing import Optional, TextIO

from analyzers.model import Report

from .common import against, ai_label, ai_share_text, requirement_line, reviewers_line, summary, value

_COLORS = {"error": "31;1", "warning": "33;1", "info": "36", "path": "1", "dim": "2", "ok": "32",
           "blocked": "31;1", "review-required": "33;1", "clear": "32;1",
           "critical": "31;1", "high": "31", "medium": "33", "low": "2"}
MAX_PLAIN_CHANGES = 8  # key changes no rule flagged: enough to see what moved, not a dump


def use_color(stream: Optional[TextIO] = None) -> bool:
    stream = stream or sys.stdout
    if "NO_COLOR" in os.environ:
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return hasattr(stream, "isatty") and stream.isatty()


def render(report: Report, color: bool = False) -> str:
    def c(style: str, s: str) -> str:
        return f"\x1b[{_COLORS[style]}m{s}\x1b[0m" if color and style in _COLORS else s

    out: list[str] = []
    by_path: dict[str, list] = {}
    for f in report.findings:
        by_path.setdefault(f.path, []).append(f)
    for file in report.files:
        findings = by_path.get(file.path, [])
        if not findings and not file.skipped and not file.changes:
            continue
        facts = [", ".join(file.kinds) or "file"]
        if file.environment:
            facts.append(file.environment)
        if file.service:
            facts.append(file.service + (f" tier {file.tier}" if file.tier is not None else ""))
        br = file.blast_radius
        facts.append("blast " + c(br.level, f"{br.level} {br.score}"))
        if file.ai_lines:
            facts.append(ai_share_text(file.ai_share))
        out.append(f"{c('path', file.path)}  {c('dim', '(')}{' · '.join(facts)}{c('dim', ')')}")
        rows = [(f.line, 0, _finding_row(f, c)) for f in findings]
        rows += [(h.start, 2, c("dim", f"  {_span(h):>4}  {'AI':<7}  {ai_label(ai)}"))
                 for h, ai in zip(file.hunks, file.hunk_ai) if ai]
        shown = {(f.key, f.line) for f in findings}
        other = [ch for ch in file.changes if (ch.key, ch.line) not in shown]
        rows += [(ch.line, 1, c("dim", f"  {ch.line:>4}  {'change':<7}  {ch.key or '(document)'}: {_transition(ch)}"))
                 for ch in other[:MAX_PLAIN_CHANGES]]
        out.extend(row for _, _, row in sorted(rows, key=lambda r: (r[0], r[1])))
        if len(other) > MAX_PLAIN_CHANGES:
            out.append(c("dim", f"        … {len(other) - MAX_PLAIN_CHANGES} more key changes"))
        out.append("")
    out.append(c("path", "Requirements"))
    for req in report.requirements:
        met, label, text = requirement_line(req)
        mark = c("ok", "✓") if met else c("error", "✗") if req.kind != "review" else c("warning", "•")
        out.append(f"  {mark} {label:<13} {text}")
    who = reviewers_line(report)
    if who:
        out.append(f"  {c('dim', '→')} {'ask':<13} {who}")
    out.append("")
    share = ai_share_text(report.ai_share)
    out.append(f"Verdict: {c(report.verdict, report.verdict)} — {summary(report)}, against {against(report)}"
               + (f"; {share}" if share else ""))
    return "\n".join(out) + "\n"


def _finding_row(f, c) -> str:
    waived = c("dim", f"  [allowed: {f.suppressed}]") if f.suppressed else ""
    ai = c("dim", f"  [AI-written: {f.ai.get('agent') or 'AI assistant'}]") if f.ai else ""
    return (f"  {f.line:>4}  {c(f.severity, f'{f.severity:<7}')}  {f.rule} {c('dim', f.name)}  "
            f"{f.message}{ai}{waived}")


def _span(h) -> str:
    return str(h.start) if h.end <= h.start else f"{h.start}-{h.end}"


def _transition(ch) -> str:
    if ch.op == "add":
        return f"added {value(ch.new)}"
    if ch.op == "remove":
        return f"removed (was {value(ch.old)})"
    if ch.op == "rename":
        return f"renamed from {ch.old}"
    if ch.op == "reorder":
        return "reordered"
    return f"{value(ch.old)} → {value(ch.new)}"
