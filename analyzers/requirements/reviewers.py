"""The fewest reviewers whose approvals cover every review requirement.

A team can give as many approvals as a requirement asks for (we do not know its size offline);
a user gives one. `distinct_teams` requirements count teams, not approvals. Requirements with
no `from` accept anyone but the author; reviewers already suggested count towards them, and
what is still missing is `any_more`. The search is exact for the small candidate sets real
changes have and greedy beyond that (set cover is NP-hard; greedy is within ln n)."""
from __future__ import annotations

from itertools import combinations
from typing import Optional

from ..model import Requirement

_EXACT_LIMIT = 14  # candidates: 2^14 subsets at most, a few ms


def is_team(principal: str) -> bool:
    return principal.startswith("@") and "/" in principal or principal.startswith("@@")


def _capacity(principal: str, want: int) -> int:
    return want if is_team(principal) else 1


def _named_missing(req: Requirement, chosen: frozenset[str]) -> int:
    """Approvals a requirement with `from` still lacks given the chosen reviewers."""
    pool = [p for p in req.get("from") or [] if p in chosen]
    want = req.get("approvals") or 0
    if req.get("distinct_teams"):
        return max(0, want - len([p for p in pool if is_team(p)]))
    return max(0, want - sum(_capacity(p, want) for p in pool))


def _any_missing(reqs: list[Requirement], chosen: frozenset[str]) -> int:
    open_any = [r.get("approvals") or 0 for r in reqs if not r.get("from")]
    return max(0, max(open_any, default=0) - len(chosen))


def _cost(reqs: list[Requirement], named: list[Requirement], chosen: frozenset[str]) -> tuple:
    return (sum(_named_missing(r, chosen) for r in named), len(chosen) + _any_missing(reqs, chosen),
            sum(1 for p in chosen if not is_team(p)), sorted(chosen))


def suggest(reqs: list[Requirement], author: Optional[str] = None) -> dict:
    reviews = [r for r in reqs if r.kind == "review" and (r.get("approvals") or 0) > 0]
    named = [r for r in reviews if r.get("from")]
    candidates = sorted({p for r in named for p in r.get("from") if p != author})
    if len(candidates) <= _EXACT_LIMIT:
        best = min((frozenset(c) for n in range(len(candidates) + 1) for c in combinations(candidates, n)),
                   key=lambda s: _cost(reviews, named, s))
    else:
        best = _greedy(reviews, named, candidates)
    covers = {p: [r.get("rule") for r in named if p in r.get("from")] for p in sorted(best)}
    unmet = [r.get("rule") for r in named if _named_missing(r, best)]
    out = {"suggested": sorted(best), "any_more": _any_missing(reviews, best), "covers": covers}
    if unmet:
        out["unmet"] = unmet  # only the author is listed, or too few distinct teams exist
    return out


def _greedy(reviews: list[Requirement], named: list[Requirement], candidates: list[str]) -> frozenset[str]:
    chosen: frozenset[str] = frozenset()
    while True:
        current = _cost(reviews, named, chosen)
        options = [(_cost(reviews, named, chosen | {p}), p) for p in candidates if p not in chosen]
        better = [o for o in options if o[0][0] < current[0]]
        if not better:
            return chosen
        chosen = chosen | {min(better)[1]}
