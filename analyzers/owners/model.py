"""What the ownership engine answers: owners of a path, the line that decided, problems found."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Optional

DIALECTS = ("github", "gitlab", "bitbucket")
DEFAULT_SECTION = "codeowners"  # GitLab's internal name for rules before the first [Section]


@dataclass(frozen=True)
class Diagnostic:
    """A problem in a trusted ownership file, with the 1-based line where there is one."""
    path: str
    line: Optional[int]
    message: str
    severity: str = "warning"  # info | warning | error (analyzers.model.SEVERITIES)
    code: str = "owners"

    def to_dict(self) -> dict:
        return {"path": self.path, "line": self.line, "severity": self.severity, "code": self.code,
                "message": self.message}

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.severity}: {self.message}"


@dataclass(frozen=True)
class Section:
    """One group of owners of a path: a CODEOWNERS section (GitHub has one, unnamed), the
    OWNERS approvers of its directory chain, or a catalog owner. Any one owner can approve;
    `approvals` of them are needed."""
    name: str
    owners: tuple[str, ...]
    approvals: int = 1
    optional: bool = False
    line: Optional[int] = None
    pattern: Optional[str] = None
    source: Optional[str] = None  # the file that decided, repository-relative

    def to_dict(self) -> dict:
        return {"name": self.name, "owners": list(self.owners), "approvals": self.approvals,
                "optional": self.optional, "line": self.line, "pattern": self.pattern, "source": self.source}


@dataclass(frozen=True)
class OwnerAnswer:
    """Owners of one path. `owners` is the union over `sections`; `line`/`pattern`/`source`
    name the deciding rule (None where nothing matched). A matching CODEOWNERS rule without
    owners un-owns: `line` is set and `owners` is empty."""
    path: str
    owners: tuple[str, ...] = ()
    line: Optional[int] = None
    pattern: Optional[str] = None
    source: Optional[str] = None
    sections: tuple[Section, ...] = ()
    tier: Optional[int] = None
    catalog_owner: Optional[str] = None
    catalog: Optional[str] = None  # the catalog-info.yaml that gave tier / catalog_owner

    def to_dict(self) -> dict:
        return {"owners": list(self.owners), "line": self.line, "pattern": self.pattern,
                "source": self.source, "sections": [s.to_dict() for s in self.sections],
                "tier": self.tier, "catalog_owner": self.catalog_owner, "catalog": self.catalog}


@dataclass
class Diagnostics:
    """Collects problems while a file is read; one list per index."""
    items: list[Diagnostic] = field(default_factory=list)

    def add(self, path: str, line: Optional[int], message: str, severity: str = "warning",
            code: str = "owners") -> None:
        self.items.append(Diagnostic(path, line, message, severity, code))


def union(groups: Iterable[Iterable[str]]) -> tuple[str, ...]:
    """Owners in first-seen order. Handles and emails are case-insensitive on every forge,
    so `@Alice` and `@alice` are one reviewer (the first spelling is kept)."""
    seen: set[str] = set()
    out: list[str] = []
    for group in groups:
        for owner in group:
            key = owner.casefold()
            if key not in seen:
                seen.add(key)
                out.append(owner)
    return tuple(out)
