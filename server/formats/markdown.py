"""`--format markdown`: a pull-request comment. Verdict heading, one summary line, then the
requirements, the findings and the changed files as GitHub-flavoured Markdown tables.

Everything taken from the repository (paths, messages, reasons) is escaped: a `|` or a newline
would break the table, and `*`, `_`, `<`, `$` would turn into emphasis, HTML or math."""
from __future__ import annotations

import re
from typing import Any

from analyzers.model import Finding, Report

from .common import against, ai_label, ai_share_text, plural, requirement_line, reviewers_line, summary

MARKER = "<!-- changegate:report -->"  # lets a CI step find and update its own comment
MAX_ROWS = 100  # a comment is capped at 65536 characters; the full list is in the other formats
VERDICTS = {"blocked": "🛑 ChangeGate: blocked",
            "review-required": "⚠️ ChangeGate: review required",
            "clear": "✅ ChangeGate: clear"}
SEVERITY = {"error": "🔴 error", "warning": "🟠 warning", "info": "🔵 info"}

_PUNCT = re.compile(r"([\\`*_\[\]<>|~&$])")
_NEWLINE = re.compile(r"\r\n|\r|\n")
# A team or user handle; shown as code so the comment does not notify them on every push.
_HANDLE = re.compile(r"(?<![\w`])@[A-Za-z0-9][\w.-]*(?:/[\w.-]+)?")


def render(report: Report) -> str:
    active = report.active_findings()
    waived = [f for f in report.findings if f.suppressed is not None]
    out = [MARKER, f"## {VERDICTS.get(report.verdict, 'ChangeGate: ' + text(report.verdict))}", "",
           _summary(report, len(waived)), ""]

    out += ["### Requirements", ""]
    if report.requirements:
        out += _table(["Kind", "Requirement", "Status"],
                      [_requirement_row(r) for r in report.requirements])
    else:
        out.append("No requirements apply.")
    who = reviewers_line(report)
    if who:
        out += ["", f"**Suggested reviewers:** {text(who)}"]
    out.append("")

    out += ["### Findings", ""]
    if active:
        out += _table(["Severity", "Rule", "Location", "Message"],
                      [[SEVERITY.get(f.severity, text(f.severity)), _rule(f), _location(f),
                        text(f.message) + (f" <sub>🤖 AI-written: {text(ai_label(f.ai))}</sub>" if f.ai else "")]
                       for f in active[:MAX_ROWS]])
        out += _more(len(active), "findings")
    else:
        out.append("No findings." if not waived else "No active findings.")
    out.append("")

    if waived:
        out += [f"<details><summary>{plural(len(waived), 'finding')} allowed by suppression comments"
                "</summary>", ""]
        out += _table(["Rule", "Location", "Message", "Reason"],
                      [[_rule(f), _location(f), text(f.message), text(f.suppressed)]
                       for f in waived[:MAX_ROWS]])
        out += _more(len(waived), "suppressed findings")
        out += ["", "</details>", ""]

    ai_hunks = [(f, h, ai) for f in report.files for h, ai in zip(f.hunks, f.hunk_ai) if ai]
    if ai_hunks:
        out += [f"### AI-authored hunks ({text(ai_share_text(report.ai_share))} of the added lines)", ""]
        out += _table(["Location", "Written by", "Lines"],
                      [[code(f"{f.path}:{h.start}" + (f"-{h.end}" if h.end > h.start else "")), text(ai_label(ai)),
                        text(f"{len(ai['lines'])} AI" + (f", {len(ai['mixed'])} AI then edited" if ai["mixed"] else ""))]
                       for f, h, ai in ai_hunks[:MAX_ROWS]])
        out += _more(len(ai_hunks), "AI hunks")
        out.append("")

    if report.files:
        out += [f"<details><summary>{plural(len(report.files), 'changed file')}</summary>", ""]
        out += _table(["File", "Kinds", "Env", "Blast radius"],
                      [[code(f.path), text(", ".join(f.kinds)) or "—", text(f.environment or "—"),
                        text(f"{f.blast_radius.level} ({f.blast_radius.score})")]
                       for f in report.files[:MAX_ROWS]])
        out += _more(len(report.files), "files")
        out += ["", "</details>", ""]
    return "\n".join(out).rstrip("\n") + "\n"


def _summary(report: Report, waived: int) -> str:
    line = f"**{summary(report)}**, against {against(report, code)}"
    if waived:
        line += f" · {waived} allowed by suppression"
    return line


def _requirement_row(req) -> list[str]:
    met, label, description = requirement_line(req)
    status = "✅ met" if met else "⏳ pending" if req.kind == "review" else "❌ missing"
    cell = text(description)
    reasons = req.get("reasons") or []
    if reasons:
        cell += "<br><sub>" + "; ".join(text(r) for r in reasons) + "</sub>"
    return [text(label), cell, status]


def _rule(f: Finding) -> str:
    return f"{code(f.rule)} {text(f.name)}"


def _location(f: Finding) -> str:
    lines = f"{f.line}" if f.end_line <= f.line else f"{f.line}-{f.end_line}"
    return code(f"{f.path}:{lines}")


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    def row(cells: list[str]) -> str:
        return "| " + " | ".join(cells) + " |"
    return [row(header), row(["---"] * len(header)), *(row(r) for r in rows)]


def _more(total: int, what: str) -> list[str]:
    return ["", f"… and {total - MAX_ROWS} more {what} not shown."] if total > MAX_ROWS else []


def text(value: Any) -> str:
    """Plain text for a table cell: Markdown punctuation escaped, newlines as <br>, handles as code."""
    s = str(value)
    out, pos = [], 0
    for m in _HANDLE.finditer(s):
        out += [_escape(s[pos:m.start()]), code(m.group(0))]
        pos = m.end()
    out.append(_escape(s[pos:]))
    return "".join(out)


def _escape(s: str) -> str:
    return _NEWLINE.sub("<br>", _PUNCT.sub(r"\\\1", s))


def code(value: Any) -> str:
    """A code span that survives any content: the fence is longer than any backtick run inside,
    newlines show as \\n (a raw one would end the table row), and `|` is escaped, which GFM
    tables require even inside code spans."""
    s = _NEWLINE.sub(r"\\n", str(value))
    longest = max((len(run) for run in re.findall(r"`+", s)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return f"{fence}{pad}{s}{pad}{fence}".replace("|", "\\|")
