"""The one model that flows through ChangeGate: ChangeSet in, Report out (DESIGN §4.2)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

SEVERITIES = ("info", "warning", "error")
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
BLAST_LEVELS = ("low", "medium", "high", "critical")
BLAST_RANK = {name: rank for rank, name in enumerate(BLAST_LEVELS)}


@dataclass(frozen=True)
class Hunk:
    """A changed region. `start`/`end` are 1-based new-side lines; a pure deletion has
    start == end == its anchor line (the new-side line after which lines were removed)."""
    start: int
    end: int
    old_start: int
    old_end: int
    added: int
    removed: int

    def to_dict(self, ai: Optional[dict] = None) -> dict:
        return {"start": self.start, "end": self.end, "ai": ai}


@dataclass(frozen=True)
class LineProvenance:
    """Who wrote one new-side line, from evidence (analyzers.provenance). No entry for a line
    means unknown — never "human" without evidence."""
    state: str                   # ai | mixed (AI-written, since edited by a person) | human (git-ai h_)
    source: str                  # agent-trace | git-ai | identity | trailer
    evidence: str                # line (the line itself is recorded) | commit (its commit is AI-assisted)
    agent: Optional[str] = None  # claude-code, cursor, copilot, codex, aider, devin, …
    model: Optional[str] = None  # e.g. anthropic/claude-sonnet-4-5, as recorded
    commit: Optional[str] = None
    detail: str = ""             # the evidence in words: "Co-Authored-By: Claude <noreply@anthropic.com> on 1a2b3c4"


@dataclass
class FileChange:
    """One changed file: old text at the base, new text from buffer/worktree/index/commit."""
    path: str
    status: str  # added | modified | deleted | renamed
    old_path: Optional[str] = None
    old_text: Optional[str] = None
    new_text: Optional[str] = None
    hunks: list[Hunk] = field(default_factory=list)
    skipped: Optional[str] = None  # why content analysis was skipped (binary, size cap, encoding)
    submodule: bool = False
    # new-side line -> who wrote it, for lines with evidence (filled by analyzers.provenance)
    provenance: dict[int, "LineProvenance"] = field(default_factory=dict)


@dataclass(frozen=True)
class BaseRef:
    ref: Optional[str]
    commit: Optional[str]
    how: str  # which step of the base resolution chain decided it

    def to_dict(self) -> dict:
        return {"ref": self.ref, "commit": self.commit, "how": self.how}


@dataclass
class ChangeSet:
    root: str
    base: BaseRef
    mode: str  # worktree | staged | commit | buffers
    files: list[FileChange]
    branch: Optional[str] = None
    head: Optional[str] = None
    commit_messages: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ConfigChange:
    """One semantic change: key path, op, old value -> new value, with source lines."""
    key: str
    op: str  # add | remove | replace | type_change | rename | reorder
    old: Any = None
    new: Any = None
    line: int = 1  # new-side line (old-side for removals of whole files)
    old_line: Optional[int] = None
    document: Optional[str] = None  # identity of the YAML document in a multi-document file
    doc_kind: Optional[str] = field(default=None, compare=False)  # e.g. Deployment: for rules only
    # (line, column, end_line, end_column), 1-based, of the value on each side where it exists
    span: Optional[tuple[int, int, int, int]] = field(default=None, compare=False)
    old_span: Optional[tuple[int, int, int, int]] = field(default=None, compare=False)

    def to_dict(self) -> dict:
        out = {"key": self.key, "op": self.op, "old": self.old, "new": self.new, "line": self.line}
        if self.old_line is not None:
            out["old_line"] = self.old_line
        if self.document is not None:
            out["document"] = self.document
        if self.span is not None:
            out["range"] = list(self.span)
        if self.old_span is not None:
            out["old_range"] = list(self.old_span)
        return out


@dataclass(frozen=True)
class BlastFactor:
    name: str
    detail: str
    weight: int = 0


@dataclass(frozen=True)
class BlastRadius:
    level: str
    score: int
    factors: tuple[BlastFactor, ...] = ()

    def to_dict(self) -> dict:
        return {"level": self.level, "score": self.score,
                "factors": [{"name": f.name, "detail": f.detail, "weight": f.weight} for f in self.factors]}


@dataclass(frozen=True)
class Finding:
    rule: str
    name: str
    severity: str
    path: str
    line: int
    end_line: int
    message: str
    key: Optional[str] = None
    old: Any = None
    new: Any = None
    blast_radius: Optional[str] = None
    fingerprint: str = ""
    suppressed: Optional[str] = None  # the reason given in the suppression comment
    ai: Optional[dict] = None  # the line was written by an assistant (agent, model, evidence)
    # the change the rule judged (a leaf or a Report change): the blast radius it inherits; not emitted
    change: Optional[ConfigChange] = field(default=None, compare=False, repr=False)

    def sort_key(self) -> tuple:
        return (self.path, self.line, self.rule, self.key or "", self.fingerprint)

    def to_dict(self) -> dict:
        out = {"rule": self.rule, "name": self.name, "severity": self.severity, "path": self.path,
               "line": self.line, "end_line": self.end_line, "message": self.message,
               "key": self.key, "old": self.old, "new": self.new,
               "blast_radius": self.blast_radius, "fingerprint": self.fingerprint}
        if self.suppressed is not None:
            out["suppressed"] = self.suppressed
        if self.ai is not None:
            out["ai"] = self.ai
        return out


@dataclass(frozen=True)
class Requirement:
    """A review, ticket or change-record requirement. `fields` carries the kind's keys (§4.2)."""
    kind: str  # review | ticket | change-record
    fields: tuple[tuple[str, Any], ...]

    @classmethod
    def of(cls, kind: str, **fields: Any) -> "Requirement":
        return cls(kind, tuple(fields.items()))

    def get(self, name: str, default: Any = None) -> Any:
        return dict(self.fields).get(name, default)

    @property
    def met(self) -> bool:
        """Whether this requirement is already satisfied by the state we can see."""
        if self.kind == "review":
            return False  # approvals happen on the forge; a change always still needs them
        if not self.get("required"):
            return True
        if self.kind == "ticket" and self.get("exempt_reason"):
            return True  # a reasoned exemption (tickets.find_ticket ignores one without a reason)
        return bool(self.get("present")) and not self.get("missing")  # a record must be complete

    def to_dict(self) -> dict:
        return {"kind": self.kind, **dict(self.fields)}


@dataclass(frozen=True)
class OwnerSection:
    """Owners that must approve, as one forge section: GitHub has one unnamed section, GitLab
    `[Section][N]` has its own count, `^[Optional]` sections need no approval."""
    name: str
    owners: tuple[str, ...]
    approvals: int = 1
    optional: bool = False


@dataclass(frozen=True)
class Ownership:
    """Who owns a file and the line that decided it (read at the base revision)."""
    source: str                   # "CODEOWNERS", "deploy/OWNERS", "catalog-info.yaml", ".changegate.yaml"
    line: Optional[int]
    pattern: Optional[str]
    sections: tuple[OwnerSection, ...] = ()

    @property
    def owners(self) -> list[str]:
        seen: dict[str, None] = {}
        for section in self.sections:
            seen.update(dict.fromkeys(section.owners))
        return list(seen)

    def to_dict(self) -> dict:
        return {"source": self.source, "line": self.line, "pattern": self.pattern,
                "sections": [{"name": s.name, "owners": list(s.owners), "approvals": s.approvals,
                              "optional": s.optional} for s in self.sections]}


@dataclass
class FileReport:
    path: str
    status: str
    kinds: list[str]
    environment: Optional[str]
    service: Optional[str]
    tier: Optional[int]
    owners: list[str]
    blast_radius: BlastRadius
    changes: list[ConfigChange]
    hunks: list[Hunk]
    old_path: Optional[str] = None
    skipped: Optional[str] = None
    # the blast radius of each change, parallel to `changes` (its level is emitted per change)
    change_blast: list[BlastRadius] = field(default_factory=list)
    ownership: Optional[Ownership] = None  # None: nothing at the base names an owner
    hunk_ai: list[Optional[dict]] = field(default_factory=list)  # parallel to hunks (analyzers.authorship)
    ai_lines: int = 0  # added lines an assistant wrote, by evidence

    @property
    def added_lines(self) -> int:
        return sum(h.added for h in self.hunks)

    @property
    def ai_share(self) -> Optional[float]:
        return round(self.ai_lines / self.added_lines, 3) if self.added_lines else None

    def to_dict(self) -> dict:
        changes = [c.to_dict() for c in self.changes]
        if len(self.change_blast) == len(changes):
            for out, blast in zip(changes, self.change_blast):
                out["blast_radius"] = blast.level
        out = {"path": self.path, "status": self.status, "kinds": self.kinds,
               "environment": self.environment, "service": self.service, "tier": self.tier,
               "owners": self.owners, "blast_radius": self.blast_radius.to_dict(),
               "changes": changes,
               "hunks": [h.to_dict(ai) for h, ai in zip(self.hunks, self.hunk_ai or [None] * len(self.hunks))],
               "ai_share": self.ai_share}
        if self.ownership is not None:
            out["ownership"] = self.ownership.to_dict()
        if self.old_path is not None:
            out["old_path"] = self.old_path
        if self.skipped is not None:
            out["skipped"] = self.skipped
        return out


@dataclass
class Report:
    base: BaseRef
    verdict: str  # clear | review-required | blocked
    files: list[FileReport]
    findings: list[Finding]
    requirements: list[Requirement]
    version: int = 1
    # the fewest people/teams whose approval covers every review requirement (requirements.reviewers)
    reviewers: Optional[dict] = None

    def to_dict(self) -> dict:
        return {"version": self.version, "base": self.base.to_dict(),
                "verdict": self.verdict,
                "files": [f.to_dict() for f in self.files],
                "findings": [f.to_dict() for f in self.findings],
                "requirements": [r.to_dict() for r in self.requirements],
                "reviewers": self.reviewers or {"suggested": [], "any_more": 0},
                "ai_share": self.ai_share}

    @property
    def ai_share(self) -> Optional[float]:
        """AI-written lines over added lines of the whole change; None when nothing was added."""
        added = sum(f.added_lines for f in self.files)
        return round(sum(f.ai_lines for f in self.files) / added, 3) if added else None

    def active_findings(self) -> list[Finding]:
        return [f for f in self.findings if f.suppressed is None]
