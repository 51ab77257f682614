"""Change tickets: find the Jira key or ServiceNow change number a change refers to, or a reasoned
exemption. Pure: branch name, commit messages and change-record texts in, a TicketResult out.

Where it looks, most explicit first: commit trailers (`Ticket: ABC-123`), the `ticket:` key of a
change record's front matter, the branch name, commit message text, a change record's prose.
The first hit decides; other tickets seen are listed, not lost."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Collection, Optional, Sequence, Union

from .changerecord import prose, split_front_matter

JIRA_PATTERN = r"(?<![A-Z0-9])[A-Z][A-Z0-9]{1,9}-[0-9]+"
SERVICENOW_PATTERN = r"CHG[0-9]{7,}"
DEFAULT_PATTERNS = (JIRA_PATTERN, SERVICENOW_PATTERN)
LOOK_IN = ("branch", "commits", "change_records")
# Look like Jira keys but name advisories, standards, encodings, algorithms, architectures and time
# zones. Applied to the default Jira pattern only: a user's own pattern means what it says.
NOT_TICKET_PREFIXES = frozenset({
    "CVE", "CWE", "CAPEC", "GHSA", "OSV", "PYSEC", "RUSTSEC", "GO", "DSA", "DLA", "USN", "ALAS", "ELSA",
    "UTF", "UCS", "SHA", "MD", "AES", "RSA", "DES", "CRC", "HMAC", "ISO", "IEC", "IEEE", "RFC", "ECMA",
    "ANSI", "PEP", "JSR", "TLS", "SSL", "HTTP", "HTTPS", "X86", "ARM", "WIN", "UTC", "GMT", "COVID",
    # incident and service vocabulary: SEV-1, P0-2, TIER-1, K8S-1 are not tickets
    "SEV", "SEVERITY", "TIER", "PRIO", "K8S", "EC2", "S3", "IPV4", "IPV6"})
# Lower-case branch names are folded to upper case, which turns ordinary words into "keys"
# (`hotfix-2` -> HOTFIX-2); these never count in that pass. An upper-case key is always read.
_BRANCH_WORDS = frozenset({
    "RELEASE", "RELEASES", "HOTFIX", "BUGFIX", "FIX", "FEATURE", "FEAT", "CHORE", "PATCH", "BACKPORT",
    "REVERT", "RC", "BUILD", "BUMP", "UPDATE", "UPGRADE", "DEPENDABOT", "RENOVATE", "WIP", "TEST", "TMP",
    "DEPS", "DOCS", "MAIN", "MASTER", "DEV", "DEVELOP", "STAGING", "PROD", "CANARY", "PR", "ADD", "REMOVE",
    "DROP", "SET", "SCALE", "USE", "MOVE", "ALLOW", "ENABLE", "DISABLE", "RENAME", "REFACTOR", "CLEANUP",
    "TRY", "SPIKE", "POC", "ROLLBACK", "ROLLOUT", "STEP", "PART", "PHASE", "ITER", "ROUND", "DAY", "WEEK"})
_BOT_BRANCH = re.compile(r"^(?:dependabot|renovate|snyk-|pre-commit-ci|greenkeeper)", re.I)  # `pyyaml-6`
TRAILER_KEYS = frozenset({
    "ticket", "tickets", "change", "change-ticket", "change-request", "change-id-ticket", "jira", "issue",
    "issues", "refs", "ref", "references", "fixes", "closes", "resolves", "related", "see-also"})
EXEMPT_TRAILERS = frozenset({"change-ticket-exempt", "ticket-exempt", "no-ticket"})
# linear-time patterns only: commit messages and records are written by whoever makes the change
_TRAILER = re.compile(r"^[ \t]*([A-Za-z][A-Za-z0-9-]*)[ \t]*:(.*)$", re.M)
_BRACKET_EXEMPT = re.compile(r"\[[ \t]*no[-_ ]?(?:ticket|jira)[ \t]*(?::([^\]\n]{0,300}))?\]", re.I)
_NO_REASON = {"none", "n/a", "na", "no", "nope", "todo", "tbd", "reason", "-", "x", "skip", "no reason"}

Message = Union[str, tuple[str, str]]  # a message, or (commit id, message)
PatternLike = Union[str, "re.Pattern[str]"]


@dataclass
class TicketResult:
    required: bool
    present: bool
    ticket: Optional[str] = None
    found_in: Optional[str] = None   # branch | trailer | commits | change_records
    where: Optional[str] = None      # branch name, commit, or record path (+ "front matter")
    exempt_reason: Optional[str] = None
    exempt_where: Optional[str] = None
    searched: tuple[str, ...] = ()
    others: list[str] = field(default_factory=list)  # what the other places named (first of each)
    notes: list[str] = field(default_factory=list)

    @property
    def satisfied(self) -> bool:
        return not self.required or self.present or self.exempt_reason is not None

    def fields(self) -> dict:
        """The Report's ticket requirement keys (DESIGN §4.2), extended."""
        return {"required": self.required, "present": self.present, "ticket": self.ticket,
                "found_in": self.found_in, "where": self.where, "searched": list(self.searched),
                "exempt_reason": self.exempt_reason, "exempt_where": self.exempt_where,
                "others": list(self.others), "notes": list(self.notes)}


@dataclass(frozen=True)
class _Pattern:
    regex: "re.Pattern[str]"
    deny: bool  # the default Jira pattern: skip NOT_TICKET_PREFIXES


def compile_patterns(patterns: Sequence[PatternLike]) -> list[_Pattern]:
    out = []
    for p in patterns:
        regex = p if isinstance(p, re.Pattern) else re.compile(p)
        out.append(_Pattern(regex, regex.pattern == JIRA_PATTERN))
    return out


@lru_cache(maxsize=1)
def rule_ids() -> frozenset[str]:
    """Our own rule ids (CAP-002) look like Jira keys and fill commit messages and records."""
    from .rules import RULES  # late: the registry imports every rule module
    return frozenset(RULES)


def match_ticket(text: str, patterns: Sequence[PatternLike] = DEFAULT_PATTERNS, *, fold: bool = False,
                 ignore: Optional[Collection[str]] = None) -> Optional[str]:
    """The earliest ticket in `text`. `fold`: match case-insensitively and report upper case."""
    ignored = rule_ids() if ignore is None else frozenset(i.upper() for i in ignore)
    return _first(text, compile_patterns(patterns), ignored, fold)


def _first(text: str, pats: list[_Pattern], ignore: Collection[str], fold: bool) -> Optional[str]:
    subject, best = (text.upper() if fold else text), None
    for order, p in enumerate(pats):
        for m in p.regex.finditer(subject):
            key = m.group("ticket") if "ticket" in p.regex.groupindex else m.group(0)
            # folded, only a key that starts a branch segment: `fix/scale-to-3` is not TO-3
            if fold and m.start() and subject[m.start() - 1] not in "/_.":
                continue
            if key and not _rejected(key, p.deny, ignore, fold):
                best = min(best or (m.start(), order, key), (m.start(), order, key))
                break
    return best[2] if best else None


def _rejected(key: str, deny: bool, ignore: Collection[str], fold: bool) -> bool:
    prefix = key.split("-", 1)[0].upper()
    return (key.upper() in ignore
            or deny and (prefix in NOT_TICKET_PREFIXES or re.fullmatch(r"V[0-9]+", prefix) is not None)
            or fold and prefix in _BRANCH_WORDS)


def _split(message: Message) -> tuple[Optional[str], str]:
    return message if isinstance(message, tuple) else (None, message)


def _commit_label(sha: Optional[str], text: str) -> str:
    if sha:
        return f"commit {sha[:12]}"
    subject = text.strip().split("\n", 1)[0]
    return f'commit "{subject[:60]}{"…" if len(subject) > 60 else ""}"'


def _reason(raw: Optional[str]) -> Optional[str]:
    """A reason worth the name: three letters or digits, and not a placeholder."""
    text = " ".join((raw or "").split())
    if len(re.findall(r"[^\W_]", text)) < 3 or text.lower().strip(" .!") in _NO_REASON:
        return None
    return text


def _exemptions(messages: Sequence[Message]) -> list[tuple[Optional[str], str]]:
    """(reason or None, where) for every exemption token in the messages, in order."""
    out = []
    for message in messages:
        sha, text = _split(message)
        where = _commit_label(sha, text)
        for m in _TRAILER.finditer(text):
            if m.group(1).lower() in EXEMPT_TRAILERS:
                out.append((_reason(m.group(2)), f"{where} trailer {m.group(1)}"))
        for m in _BRACKET_EXEMPT.finditer(text):
            out.append((_reason(m.group(1)), f"{where} {m.group(0)[:40]}"))
    return out


def find_ticket(*, branch: Optional[str], commit_messages: Sequence[Message] = (),
                records: Sequence[tuple[str, str]] = (), patterns: Sequence[PatternLike] = DEFAULT_PATTERNS,
                look_in: Collection[str] = LOOK_IN, required: bool = False,
                ignore: Optional[Collection[str]] = None, allow_exemptions: bool = True) -> TicketResult:
    """Find the change's ticket. `records`: (path, text) of the change records in the change
    (changerecord.change_records). `ignore`: strings never taken as tickets (default: rule ids).
    An exemption needs a reason; one without is ignored and said so in `notes`."""
    pats = compile_patterns(patterns)
    ignore = rule_ids() if ignore is None else frozenset(i.upper() for i in ignore)
    notes: list[str] = []
    hits: list[tuple[str, str, str]] = []  # (ticket, found_in, where) in order of precedence

    def scan(text: str, found_in: str, where: str, fold: bool = False) -> bool:
        key = _first(text, pats, ignore, fold)
        if key:
            hits.append((key, found_in, where))
        return key is not None

    messages = [_split(m) for m in commit_messages] if "commits" in look_in else []
    for sha, text in messages:
        for m in _TRAILER.finditer(text):
            if m.group(1).lower() in TRAILER_KEYS:
                scan(m.group(2).strip(), "trailer", f"{_commit_label(sha, text)} trailer {m.group(1)}")
    bodies: list[tuple[str, str]] = []
    for path, text in records if "change_records" in look_in else ():
        front, body, errors = split_front_matter(text)
        notes += [f"{path}: {e} (its ticket: key was not read)" for e in errors]
        value = next((v for k, v in front.items() if k.strip().lower() == "ticket"), None)
        values = value if isinstance(value, list) else [value] if value not in (None, "") else []
        for v in values:
            if not scan(str(v), "change_records", f"{path} front matter"):
                notes.append(f"{path}: front matter ticket {str(v)[:40]!r} matches no ticket pattern")
        bodies.append((path, body))
    # `feature/abc-123-fix` is ABC-123: common, and only ever folded in branch names
    if branch and "branch" in look_in and not scan(branch, "branch", branch) \
            and not _BOT_BRANCH.match(branch) and scan(branch, "branch", branch, fold=True):
        notes.append(f"{hits[-1][0]} read from the lower-case branch name {branch}")
    for sha, text in messages:
        scan(text, "commits", _commit_label(sha, text))
    for path, body in bodies:
        scan(prose(body), "change_records", path)  # not code spans: config values quoted there

    result = TicketResult(required=required, present=bool(hits), searched=tuple(s for s in LOOK_IN if s in look_in),
                          notes=notes)
    if hits:
        result.ticket, result.found_in, result.where = hits[0]
        result.others = sorted({t for t, _, _ in hits} - {result.ticket})
    # exemptions are declarations in commit messages, read whatever look_in says
    for reason, where in _exemptions(commit_messages):
        if not allow_exemptions:
            notes.append(f"exemption ignored: the policy allows none ({where})")
        elif reason is None:
            notes.append(f"exemption without a reason ignored ({where})")
        elif result.exempt_reason is None:
            result.exempt_reason, result.exempt_where = reason, where
    if result.present and result.exempt_reason:
        notes.append(f"exemption not needed: ticket {result.ticket} found ({result.exempt_where})")
    return result
