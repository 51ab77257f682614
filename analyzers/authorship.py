"""AI authorship of a change, from the per-line provenance the collector found: which hunks an
assistant wrote, with which agent and model, and the AI share of each file and of the change.
No evidence means unknown (`ai: null`), never human."""
from __future__ import annotations

from collections import Counter
from typing import Optional

from .model import Hunk, LineProvenance


def hunk_ai(hunk: Hunk, lines: dict[int, LineProvenance]) -> Optional[dict]:
    """`hunks[].ai` (DESIGN §4.2) for one hunk, or None when no added line of it has AI evidence."""
    if not hunk.added:
        return None
    span = range(hunk.start, hunk.end + 1)
    ai = [n for n in span if n in lines and lines[n].state == "ai"]
    mixed = [n for n in span if n in lines and lines[n].state == "mixed"]
    if not ai and not mixed:
        return None
    judged = [lines[n] for n in ai + mixed]
    agent = _most(p.agent for p in judged)
    model = _most(p.model for p in judged if p.agent == agent)
    line_level = [p for p in judged if p.evidence == "line"]
    best = line_level[0] if line_level else judged[0]
    return {"agent": agent, "model": model, "source": best.source,
            "evidence": "line" if line_level else "commit", "lines": ai, "mixed": mixed,
            "detail": best.detail, "commit": best.commit}


def _most(values) -> Optional[str]:
    counted = Counter(v for v in values if v)
    return counted.most_common(1)[0][0] if counted else None


def ai_lines(lines: dict[int, LineProvenance]) -> set[int]:
    """Lines an assistant wrote (AI, or AI then edited by a person) — what review rules count."""
    return {n for n, p in lines.items() if p.state in ("ai", "mixed")}


def line_note(p: Optional[LineProvenance]) -> Optional[dict]:
    """What a finding on an AI-authored line carries, so every surface can say so."""
    if p is None or p.state not in ("ai", "mixed"):
        return None
    return {"agent": p.agent, "model": p.model, "evidence": p.evidence, "state": p.state, "source": p.source}
