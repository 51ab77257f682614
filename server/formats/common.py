"""Small wording helpers shared by the human-readable formats."""
from __future__ import annotations

import json
from typing import Any

from analyzers.model import Report, Requirement


def value(v: Any) -> str:
    if isinstance(v, str):
        return v if v and v.strip() == v and not v.startswith(("<", "*")) else json.dumps(v)
    return json.dumps(v, ensure_ascii=False, default=str)


def requirement_line(req: Requirement) -> tuple[bool, str, str]:
    """(met, label, description) in words a reviewer reads."""
    if req.kind == "review":
        who = ", ".join(req.get("from") or []) or "any reviewer but the author"
        n = req.get("approvals")
        distinct = " of different teams" if req.get("distinct_teams") else ""
        return False, "review", f"{req.get('rule')}: {n} approval{'s' if n != 1 else ''}{distinct} from {who}"
    if req.kind == "ticket":
        if not req.get("required"):
            state = f"not required (found {req.get('ticket')})" if req.get("present") else "not required"
        elif req.get("present"):
            state = f"required, found {req.get('ticket')} in {req.get('found_in')}"
        elif req.get("exempt_reason"):
            state = f"required, exempt: {req.get('exempt_reason')}"
        else:
            state = "required, none found in " + ", ".join(req.get("searched") or [])
        return req.met, "ticket", state
    if req.kind == "change-record":
        if not req.get("required"):
            state = "not required"
        elif not req.get("present"):
            fields = ", ".join(req.get("missing") or [])
            state = f"required, none in {req.get('dir')}/ (needs: {fields})"
        elif req.get("missing"):
            state = f"{req.get('path')} is missing: {', '.join(req.get('missing'))}"
        else:
            state = f"present: {req.get('path')}"
        return req.met, "change record", state
    return req.met, req.kind, ""


def counts(report: Report) -> dict[str, int]:
    out = {"error": 0, "warning": 0, "info": 0}
    for f in report.active_findings():
        out[f.severity] = out.get(f.severity, 0) + 1
    return out


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def summary(report: Report) -> str:
    """'1 error, 2 warnings, 0 info in 3 changed files': the one wording every format uses."""
    n = counts(report)
    return (f"{plural(n['error'], 'error')}, {plural(n['warning'], 'warning')}, {n['info']} info "
            f"in {plural(len(report.files), 'changed file')}")


def against(report: Report, code=lambda s: s) -> str:
    base = report.base
    if not base.commit:
        return "an empty base (no commits yet)"
    short = code(base.commit[:12])
    return f"{code(base.ref)} ({short})" if base.ref else short


def reviewers_line(report: Report) -> str:
    """'@shop/sre, @alice (+1 more of your choice)': the fewest reviewers covering every review."""
    rv = report.reviewers or {}
    names = list(rv.get("suggested") or [])
    more = rv.get("any_more") or 0
    if not names and not more:
        return ""
    text = ", ".join(names)
    if more:
        extra = f"{more} reviewer{'s' if more != 1 else ''} of your choice"
        text = f"{text} (+{extra})" if text else extra
    if rv.get("unmet"):
        text += f"; cannot be met by anyone but the author: {', '.join(rv['unmet'])}"
    return text


def ai_label(ai: dict) -> str:
    """'claude-code · anthropic/claude-sonnet-4-5 (commit trailer)': who wrote it and how we know."""
    who = " · ".join(x for x in (ai.get("agent") or "AI assistant", ai.get("model")) if x)
    how = "recorded per line" if ai.get("evidence") == "line" else "AI-assisted commit"
    return f"{who} ({how}, {ai.get('source')})"


def ai_share_text(share) -> str:
    return f"{round(share * 100)}% AI-written" if share else ""
