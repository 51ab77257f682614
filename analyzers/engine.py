"""ChangeSet + Policy -> Report. Pure: everything it reads arrives in its arguments."""
from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import Iterable, Optional, Protocol

from .authorship import ai_lines, hunk_ai, line_note
from .blast import assess
from .classify import Classification, classify
from .configdiff import diff_config
from .model import ChangeSet, FileChange, FileReport, Finding, OwnerSection, Ownership, Report
from .policy import POLICY_FILE, Policy
from .requirements import requirements, suggest, verdict
from .rules import RULES, FileFacts, Hit
from .suppress import reason_for, suppressions
from .trust import trusted_kind



def fingerprint(rule: str, path: str, key: Optional[str], document: Optional[str], old, new, line: int) -> str:
    """Stable across unrelated edits: no line number unless there is no key path to anchor on."""
    anchor = [rule, path, document or "", key or "", _canon(old), _canon(new)]
    if key is None:
        anchor.append(str(line))
    return hashlib.sha256("\x1f".join(anchor).encode("utf-8", "surrogatepass")).hexdigest()[:20]


def _canon(value) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


class OwnerLookup(Protocol):
    """Ownership read at the base revision (analyzers.owners); the engine only asks it questions."""
    def ownership(self, path: str) -> Optional[Ownership]: ...
    def tier(self, path: str) -> Optional[int]: ...


def analyze_file(change: FileChange, policy: Policy,
                 owners: Optional[OwnerLookup] = None) -> tuple[FileReport, list[Finding]]:
    text = change.new_text if change.new_text is not None else change.old_text
    cls: Classification = classify(change.path, text, policy)
    ownership = _ownership(change, cls, owners)
    if cls.tier is None and owners is not None:
        cls = replace(cls, tier=owners.tier(change.path))  # a catalog tier where the policy names none
    facts = FileFacts(file=change, kinds=frozenset(cls.kinds), environment=cls.environment,
                      service=cls.service, tier=cls.tier,
                      trusted_file=trusted_kind(change.path) or trusted_kind(change.old_path))
    if cls.language and change.skipped is None:
        diff = diff_config(cls.language, change.old_text, change.new_text)
        facts.changes = diff.changes
        facts.leaves = diff.leaves
        facts.diff = diff
        facts.parse_error = diff.error
    findings = list(_run_rules(facts, policy))
    # blast radius per change and per file; each finding inherits the level of the change it judged
    semantic = facts.diff is not None and not (facts.parse_error and facts.parse_error.side == "new")
    blast = assess(facts, findings, semantic)
    findings = [replace(f, blast_radius=level, ai=line_note(change.provenance.get(f.line)))
                for f, level in zip(findings, blast.findings)]
    written_by_ai = ai_lines(change.provenance)
    report = FileReport(path=change.path, status=change.status, kinds=list(cls.kinds),
                        environment=cls.environment, service=cls.service, tier=cls.tier,
                        owners=ownership.owners if ownership else [], blast_radius=blast.file,
                        changes=facts.changes, hunks=change.hunks, old_path=change.old_path,
                        skipped=change.skipped, change_blast=blast.changes, ownership=ownership,
                        hunk_ai=[hunk_ai(h, change.provenance) for h in change.hunks],
                        ai_lines=sum(1 for h in change.hunks if h.added
                                     for n in range(h.start, h.end + 1) if n in written_by_ai))
    return report, findings


def _ownership(change: FileChange, cls: Classification, owners: Optional[OwnerLookup]) -> Optional[Ownership]:
    """The base's owner files decide; a deleted or moved file is owned where it was. The policy's
    `services: owners` fill in only where no owner file names anyone."""
    if owners is not None:
        found = owners.ownership(change.path)
        if (found is None or not found.owners) and change.old_path:
            found = owners.ownership(change.old_path) or found
        if found is not None and found.owners:
            return found
    if cls.owners:
        return Ownership(POLICY_FILE, None, f"services: {cls.service}", (OwnerSection("", tuple(cls.owners)),))
    return None


def _run_rules(facts: FileFacts, policy: Policy) -> Iterable[Finding]:
    table = suppressions(facts.file.new_text)
    for rule_id, rule in RULES.items():
        setting = policy.rules.get(rule_id)
        if setting is not None and not setting.enabled:
            continue
        if rule.meta.kinds and not rule.meta.kinds & facts.kinds:
            continue
        params = dict(rule.meta.params)
        if "control_plane_code" in params:  # rules that declare it get the policy's control_plane.code
            params["control_plane_code"] = tuple(policy.control_plane_code)
        if "codeowners_dialect" in params:
            params["codeowners_dialect"] = policy.codeowners_dialect
        if setting is not None:
            params.update(dict(setting.params))
        severity = (setting.severity if setting and setting.severity else rule.meta.severity)
        for hit in rule.check(facts, params):
            # a rule may grade a hit itself (code rules: guarded call info, unguarded warning);
            # a severity set in the policy still wins
            graded = None if setting and setting.severity else hit.severity
            yield _finding(rule_id, graded or severity, facts, hit, table)


def _finding(rule_id: str, severity: str, facts: FileFacts, hit: Hit,
             table: dict[int, dict[str, str]]) -> Finding:
    meta = RULES[rule_id].meta
    c = hit.change
    key, old, new = (c.key, c.old, c.new) if c else (None, None, None)
    return Finding(rule=rule_id, name=meta.name, severity=severity, path=facts.file.path,
                   line=hit.line, end_line=hit.end_line or hit.line, message=hit.message,
                   key=key, old=old, new=new, change=c,
                   fingerprint=fingerprint(rule_id, facts.file.path, key, c.document if c else None,
                                           old, new, hit.line),
                   suppressed=reason_for(table, rule_id, hit.line) if rule_id != "SUP-001" else None)


def analyze(changeset: ChangeSet, policy: Policy, owners: Optional[OwnerLookup] = None,
            author: Optional[str] = None) -> Report:
    files: list[FileReport] = []
    findings: list[Finding] = []
    for change in changeset.files:
        report, found = analyze_file(change, policy, owners)
        files.append(report)
        findings.extend(found)
    files.sort(key=lambda f: f.path)
    findings.sort(key=Finding.sort_key)
    reqs = requirements(policy, changeset, files, findings)
    return Report(base=changeset.base, verdict=verdict(findings, reqs), files=files,
                  findings=findings, requirements=reqs, reviewers=suggest(reqs, author))
