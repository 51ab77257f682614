"""`--format github`: GitHub Actions workflow commands, so findings show as annotations on the
pull request's diff. One command per active finding, then one notice with the verdict and what
is still needed. Suppressed findings are left out: their waiver was reviewed with the change.

GitHub shows at most 10 annotations of each kind per step, first come first served; past that a
finding is printed as a plain log line instead, and one notice slot is kept for the summary.

Escaping follows @actions/core (packages/core/src/command.ts): the message escapes %, CR and
LF; a property value also escapes ':' and ',', which delimit properties. Without it a path or
message could end the command early or inject a second one."""
from __future__ import annotations

from analyzers.model import Finding, Report

from .common import against, requirement_line, summary

COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}
PER_KIND = 10  # annotations GitHub shows per kind per step
VERDICTS = {"blocked": "blocked", "review-required": "review required", "clear": "clear"}


def escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(s: str) -> str:
    return escape_data(s).replace(":", "%3A").replace(",", "%2C")


def command(name: str, properties: dict[str, str], message: str) -> str:
    """`::name key=value,key=value::message`; empty values are dropped, as the toolkit does."""
    props = ",".join(f"{k}={escape_property(v)}" for k, v in properties.items() if v)
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def render(report: Report) -> str:
    lines: list[str] = []
    used = {"notice": 1}  # the summary notice
    overflow = 0
    for f in report.active_findings():
        kind = COMMANDS.get(f.severity, "warning")
        used[kind] = used.get(kind, 0) + 1
        if used[kind] <= PER_KIND:
            lines.append(_annotation(f, kind))
        else:
            overflow += 1
            # Escaped like command data: a raw newline could start a line with "::" and inject one.
            lines.append(escape_data(f"changegate: {f.severity} {f.path}:{max(1, f.line)} "
                                     f"{f.rule} {f.name}: {f.message}"))
    lines.append(_summary(report, overflow))
    return "\n".join(lines) + "\n"


def _annotation(f: Finding, kind: str) -> str:
    start = max(1, f.line or 1)
    end = max(start, f.end_line or start)
    return command(kind,
                   {"file": f.path, "line": str(start), "endLine": str(end),
                    "title": f"{f.rule} {f.name}"},
                   f.message)


def _summary(report: Report, overflow: int) -> str:
    body = [f"Verdict: {VERDICTS.get(report.verdict, report.verdict)} — {summary(report)}, against {against(report)}"]
    if overflow:
        body.append(f"{overflow} more finding{'s are' if overflow != 1 else ' is'} in the log only "
                    f"(GitHub shows {PER_KIND} annotations of each kind per step)")
    for req in report.requirements:
        met, label, description = requirement_line(req)
        if not met:
            body.append(f"- {label}: {description}")
    return command("notice", {"title": f"ChangeGate: {VERDICTS.get(report.verdict, report.verdict)}"},
                   "\n".join(body))
