"""Paperwork requirements: a change ticket and a change record, when the policy asks for them."""
from __future__ import annotations

import re
from typing import Optional

from ..model import ChangeSet, Requirement
from ..policy import Policy
from .predicates import FileContext, holds
from .review import file_reason


def ticket_requirement(policy: Policy, changeset: ChangeSet, contexts: list[FileContext]) -> Requirement:
    matching = [c for c in contexts if holds(policy.ticket_required_if, c)]
    found: Optional[str] = None
    where: Optional[str] = None
    sources: list[tuple[str, str]] = []
    if "branch" in policy.ticket_look_in and changeset.branch:
        sources.append(("branch", changeset.branch))
    if "commits" in policy.ticket_look_in:
        sources += [("commits", m) for m in changeset.commit_messages]
    if "change_records" in policy.ticket_look_in:
        sources += [("change_records", f.new_text or "") for f in changeset.files
                    if _in_dir(f.path, policy.change_records_dir) and f.new_text]
    for source, text in sources:
        for pattern in policy.ticket_patterns:
            m = pattern.search(text)
            if m:
                found, where = m.group(0), source
                break
        if found:
            break
    reasons = [file_reason(c) for c in matching[:5]]
    return Requirement.of("ticket", required=bool(matching), present=found is not None, ticket=found,
                          found_in=where, searched=list(policy.ticket_look_in), reasons=reasons)


def _in_dir(path: str, directory: str) -> bool:
    return path.startswith(directory.rstrip("/") + "/")


def change_record_requirement(policy: Policy, changeset: ChangeSet,
                              contexts: list[FileContext]) -> Requirement:
    matching = [c for c in contexts if holds(policy.change_records_required_if, c)]
    records = [f for f in changeset.files if _in_dir(f.path, policy.change_records_dir)
               and f.status != "deleted" and f.new_text is not None]
    record = records[0] if records else None
    missing = list(policy.change_record_fields)
    if record is not None:
        text = record.new_text.lower()
        missing = [field for field in policy.change_record_fields
                   if not re.search(rf"(^|\n)\s*(#+\s*|[-*]\s*)?{re.escape(field.lower())}\s*[:\n]", text)]
    return Requirement.of("change-record", required=bool(matching), present=record is not None,
                          path=record.path if record else None, missing=missing,
                          dir=policy.change_records_dir, reasons=[file_reason(c) for c in matching[:5]])
