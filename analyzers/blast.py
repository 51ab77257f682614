"""Blast radius: how far a change reaches. Score 0-100 from explainable factors.

A first slice: scope (environment), criticality (tier), kind of file, and the severity of what
the rules found. Issue #3 grows it (propagation channel, reversibility, magnitude, fan-out)."""
from __future__ import annotations

from typing import Iterable, Optional

from .model import BlastFactor, BlastRadius, Finding

_ENV_WEIGHT = {"prod": 35, "staging": 10, "dev": 0, "test": 0}
_KIND_WEIGHT = (("control-plane", 15), ("ci", 5), ("config", 5))
_SEVERITY_WEIGHT = {"error": 25, "warning": 10, "info": 0}


def level_for(score: int) -> str:
    if score >= 75:
        return "critical"
    if score >= 50:
        return "high"
    if score >= 25:
        return "medium"
    return "low"


def file_blast(kinds: Iterable[str], environment: Optional[str], tier: Optional[int],
               findings: Iterable[Finding], service: Optional[str] = None) -> BlastRadius:
    kinds = set(kinds)
    factors: list[BlastFactor] = []
    if environment:
        factors.append(BlastFactor("environment", environment, _ENV_WEIGHT.get(environment, 5)))
    elif kinds & {"config", "control-plane"}:
        factors.append(BlastFactor("environment", "unscoped: may apply to every environment", 10))
    if tier is not None:
        weight = {1: 25, 2: 10}.get(tier, 0)
        factors.append(BlastFactor("criticality", f"tier {tier}" + (f" service {service}" if service else ""), weight))
    for kind, weight in _KIND_WEIGHT:
        if kind in kinds:
            factors.append(BlastFactor("kind", kind, weight))
            break
    worst = max((f for f in findings if f.suppressed is None),
                key=lambda f: _SEVERITY_WEIGHT.get(f.severity, 0), default=None)
    if worst is not None and _SEVERITY_WEIGHT.get(worst.severity):
        factors.append(BlastFactor("magnitude", f"{worst.rule} {worst.name}", _SEVERITY_WEIGHT[worst.severity]))
    score = min(100, sum(f.weight for f in factors))
    return BlastRadius(level_for(score), score, tuple(factors))
