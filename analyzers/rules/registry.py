"""The rule registry: each rule is one small function with its metadata beside it.

`changegate rules`, SARIF `tool.driver.rules` and policy validation all read this one table."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional

from ..model import ConfigChange, FileChange


@dataclass(frozen=True)
class RuleMeta:
    id: str
    name: str
    severity: str  # default; the policy may override it
    summary: str
    rationale: str
    incident: str = ""
    kinds: frozenset[str] = frozenset()  # file kinds it applies to; empty = every file
    params: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Hit:
    """What a rule reports; the engine turns it into a Finding (severity, blast, fingerprint)."""
    message: str
    line: int
    end_line: Optional[int] = None
    change: Optional[ConfigChange] = None
    severity: Optional[str] = None  # a rule may grade a hit itself; a policy severity still wins


@dataclass
class FileFacts:
    """What a rule may look at for one file. Nothing here does I/O."""
    file: FileChange
    kinds: frozenset[str]
    environment: Optional[str]
    service: Optional[str]
    tier: Optional[int]
    changes: list[ConfigChange] = field(default_factory=list)  # one per changed key (the Report's)
    leaves: list[ConfigChange] = field(default_factory=list)   # scalar-level: what value rules judge
    parse_error: Optional[Any] = None  # configdiff.SyntaxProblem when a side did not parse
    trusted_file: Optional[str] = None  # "policy" / "codeowners" when the file gates changes
    diff: Optional[Any] = None  # the configdiff.ConfigDiff, for looking up unchanged values
    # per-file results a rule computes once and looks up per change (e.g. the file's DNS records)
    memo: dict[str, Any] = field(default_factory=dict, repr=False)

    def text(self) -> str:
        """Both sides' text, for cheap prefilters that skip a rule's whole-file scan."""
        return (self.file.old_text or "") + "\n" + (self.file.new_text or "")

    def value(self, key: str, document: Optional[str] = None, side: str = "new") -> Any:
        """The value at `key` in the new (or old) file, changed or not; MISSING when absent.
        Cross-field rules use it: `spec.maxReplicas` while `spec.minReplicas` changed."""
        from ..configdiff import MISSING
        return self.diff.value(key, document, side) if self.diff is not None else MISSING

    def keys(self, side: str = "new") -> list[tuple[Optional[str], str]]:
        """Every (document, key path) of one side, in no particular order."""
        return list(self.diff.index(side)) if self.diff is not None else []


RuleFn = Callable[[FileFacts, dict], Iterable[Hit]]


@dataclass(frozen=True)
class Rule:
    meta: RuleMeta
    check: RuleFn


RULES: dict[str, Rule] = {}


def rule(id: str, name: str, severity: str, summary: str, rationale: str, incident: str = "",
         kinds: Iterable[str] = (), **params: Any) -> Callable[[RuleFn], RuleFn]:
    def register(fn: RuleFn) -> RuleFn:
        if id in RULES:
            raise ValueError(f"duplicate rule id {id}")
        RULES[id] = Rule(RuleMeta(id, name, severity, summary, rationale, incident, frozenset(kinds),
                                  tuple(sorted(params.items()))), fn)
        return fn
    return register
