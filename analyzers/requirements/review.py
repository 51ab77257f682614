"""Review requirements: the owners of every touched file, the policy's review rules (policy-bot
semantics: a rule whose `if` does not hold is skipped, every rule that applies is required), and
the owners of any gate file the change edits. Each requirement says which file, line and rule
caused it, so the editor can point there."""
from __future__ import annotations

from ..model import Requirement
from ..policy import POLICY_FILE, Policy, ReviewRule
from ..trust import trusted_kind
from .predicates import FileContext, holds

DEFAULT_REVIEW = (
    ReviewRule("two-person review at high blast radius", {"blast_radius": ["high", "critical"]}, 2),
    ReviewRule("human check of AI-authored config", {"ai_authored": True, "kind": ["config", "control-plane"]}, 1),
)
_UNNAMED = ("", "codeowners")  # GitHub's single section; GitLab's rules before the first [Section]
_SHOWN = 5  # files named in a requirement's reasons; `files` has them all


def review_requirements(policy: Policy, contexts: list[FileContext]) -> list[Requirement]:
    return owner_requirements(contexts) + rule_requirements(policy, contexts) + gate_requirements(contexts)


def owner_requirements(contexts: list[FileContext]) -> list[Requirement]:
    """One approval from the owners of each file (GitLab: from each required section, with its
    count). Files with the same owners share one requirement, as a forge shows it."""
    groups: dict[tuple, list[FileContext]] = {}
    for c in contexts:
        own = c.report.ownership
        if own is None:
            continue
        for section in own.sections:
            if section.owners and not section.optional:
                groups.setdefault((section.name, section.owners, max(1, section.approvals)), []).append(c)
    out = []
    for (section, owners, approvals), members in groups.items():
        sources = []
        for c in members:
            own = c.report.ownership
            sources.append({"path": own.source, "line": own.line, "pattern": own.pattern, "file": c.report.path})
        reasons = [f"{c.report.path} is owned by {', '.join(owners)} ({_where(c)})" for c in members[:_SHOWN]]
        out.append(Requirement.of(
            "review", rule="code owners" + (f" [{section}]" if section not in _UNNAMED else ""), approvals=approvals,
            **{"from": list(owners)}, files=[c.report.path for c in members],
            reasons=reasons + _more(members), sources=sources))
    return out


def _where(c: FileContext) -> str:
    own = c.report.ownership
    where = own.source + (f":{own.line}" if own.line else "")
    return f"{where} `{own.pattern}`" if own.pattern else where


def rule_requirements(policy: Policy, contexts: list[FileContext]) -> list[Requirement]:
    out = []
    defaults = policy.review is None
    for rule in DEFAULT_REVIEW if defaults else policy.review:
        matching = [c for c in contexts if holds(rule.condition, c)]
        if not matching or rule.approvals == 0:
            continue
        origin = {"path": "(built-in default)" if defaults else (policy.path or POLICY_FILE), "line": rule.line,
                  "rule": rule.name}
        causes = [{"path": c.report.path, "line": c.line, "finding": c.top.rule if c.top else None}
                  for c in matching]
        out.append(Requirement.of(
            "review", rule=rule.name, approvals=rule.approvals, **{"from": list(rule.reviewers)},
            distinct_teams=rule.distinct_teams, exclude_author=rule.exclude_author,
            files=[c.report.path for c in matching],
            reasons=[file_reason(c) for c in matching[:_SHOWN]] + _more(matching), sources=[origin] + causes))
    return out


def gate_requirements(contexts: list[FileContext]) -> list[Requirement]:
    """An edit to the policy, CODEOWNERS, OWNERS or a catalog file needs its owners' approval
    even where the forge would not ask for it: the change is judged by the old gate, the next
    change by the new one."""
    out = []
    for c in contexts:
        f = c.report
        kind = trusted_kind(f.path) or trusted_kind(f.old_path)
        if kind is None or "POL-001" not in c.rules:
            continue  # POL-001 disabled or waived in the policy: the gate rule is off
        owners = f.ownership.owners if f.ownership else []
        reason = (f"{f.path} ({kind}) is edited: this change is judged by the base revision's version"
                  + (f"; its owners ({', '.join(owners)}) must agree" if owners
                     else "; it has no owner, so a second person must agree"))
        out.append(Requirement.of(
            "review", rule=f"gate change: {f.path}", approvals=1, **{"from": owners}, files=[f.path],
            reasons=[reason], sources=[{"path": f.path, "line": c.line, "finding": "POL-001"}]))
    return out


def file_reason(c: FileContext) -> str:
    f = c.report
    bits = [f.path, f"blast radius {f.blast_radius.level}"]
    if f.environment:
        bits.append(f.environment)
    if f.tier is not None:
        bits.append(f"tier {f.tier}")
    if c.ai_authored:
        bits.append("AI-authored")
    if c.top is not None:
        bits.append(f"{c.top.rule} at line {c.top.line}")
    return ", ".join(bits)


def _more(items: list) -> list[str]:
    return [f"… and {len(items) - _SHOWN} more"] if len(items) > _SHOWN else []
