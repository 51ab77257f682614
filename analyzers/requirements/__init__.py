"""Requirements: who must review, whether a change ticket and a change record are needed and
present, and the fewest reviewers that cover them. Without a policy the defaults of DESIGN §4.3
hold."""
from __future__ import annotations

from ..model import ChangeSet, FileReport, Finding, Requirement
from ..policy import Policy
from .paperwork import change_record_requirement, ticket_requirement
from .predicates import FileContext, contexts, holds
from .review import DEFAULT_REVIEW, review_requirements
from .reviewers import suggest

__all__ = ["DEFAULT_REVIEW", "FileContext", "holds", "requirements", "suggest", "verdict"]


def requirements(policy: Policy, changeset: ChangeSet, files: list[FileReport],
                 findings: list[Finding]) -> list[Requirement]:
    ctxs = contexts(files, findings)
    out = review_requirements(policy, ctxs)
    out.append(ticket_requirement(policy, changeset, ctxs))
    out.append(change_record_requirement(policy, changeset, ctxs))
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
