"""Paperwork requirements: a change ticket and a change record, when the policy asks for them."""
from __future__ import annotations

from ..changerecord import best_record, change_records
from ..model import ChangeSet, Requirement
from ..policy import Policy
from ..tickets import find_ticket
from .predicates import FileContext, holds
from .review import file_reason


def ticket_requirement(policy: Policy, changeset: ChangeSet, contexts: list[FileContext]) -> Requirement:
    matching = [c for c in contexts if holds(policy.ticket_required_if, c)]
    result = find_ticket(branch=changeset.branch, commit_messages=changeset.commit_messages,
                         records=change_records(changeset, policy.change_records_dir),
                         patterns=policy.ticket_patterns, look_in=policy.ticket_look_in,
                         required=bool(matching))
    return Requirement.of("ticket", **result.fields(), reasons=[file_reason(c) for c in matching[:5]])


def change_record_requirement(policy: Policy, changeset: ChangeSet,
                              contexts: list[FileContext]) -> Requirement:
    matching = [c for c in contexts if holds(policy.change_records_required_if, c)]
    record = best_record(change_records(changeset, policy.change_records_dir), policy.change_record_fields)
    return Requirement.of("change-record", required=bool(matching), present=record is not None,
                          path=record.path if record else None,
                          missing=record.missing if record else list(policy.change_record_fields),
                          errors=record.errors if record else [],
                          dir=policy.change_records_dir, reasons=[file_reason(c) for c in matching[:5]])
