"""CODEOWNERS as GitHub reads it, and Bitbucket Cloud (documented as the same gitignore subset).

- Patterns: the gitignore subset of hmarr/codeowners (validated against GitHub): a pattern
  without a slash, or with only a trailing one, matches at any depth; any other slash anchors it
  at the root; `*` and `?` stay within a segment, `**` crosses them; a literal last segment also
  matches everything below it; `\\` escapes the next character. Case-sensitive.
- The last matching line wins, and a line without owners un-owns what it matches.
- GitHub documents that `!` negation, `[ ]` ranges and `\\#` escapes do not work. A `!` or
  `\\#` line is reported and ignored; brackets are reported and matched literally, as
  hmarr/codeowners does since "support dynamic route parameters" (`/apps/[param]/file.ts`).
- A line with invalid syntax (an owner that is not @user, @org/team or an email, `***`) is
  reported and skipped, as GitHub skips it. A file over 3 MB is not loaded at all.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from .model import DEFAULT_SECTION, Diagnostics, Section
from .ruleset import MiB, Buckets, text_lines

LOCATIONS = {"github": (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"),
             "bitbucket": (".bitbucket/CODEOWNERS",)}
MAX_BYTES = {"github": 3 * MiB, "bitbucket": 3 * MiB}
_FORGE = {"github": "GitHub", "bitbucket": "Bitbucket"}

# Owner forms (hmarr/codeowners parse.go; an EMU login carries an `_shortcode`).
_USER = re.compile(r"@[A-Za-z0-9_-]+\Z")
_TEAM = re.compile(r"@[A-Za-z0-9_-]+/[A-Za-z0-9._-]+\Z")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\Z")
# Bitbucket Cloud: a reviewer-selection suffix says how many to request, not who owns.
_BB_SELECTION = re.compile(r":(?:all|random\(\d+\)|least_busy\(\d+\))\Z")


@dataclass(frozen=True)
class Rule:
    line: int
    pattern: str
    owners: tuple[str, ...]


class GitHubCodeowners:
    """A parsed CODEOWNERS file of the github or bitbucket dialect."""

    def __init__(self, text: Optional[bytes], path: str, diags: Diagnostics, dialect: str = "github"):
        self.path = path
        self.dialect = dialect
        self.rules: list[Rule] = []
        forge = _FORGE[dialect]
        lines = None
        if text is not None:
            note = (f"{forge} does not load a CODEOWNERS file over {MAX_BYTES[dialect] // MiB} MB, "
                    "so no file has code owners")
            lines = text_lines(text, path, diags, limit=MAX_BYTES[dialect], limit_note=note)
        for number, line in enumerate(lines or (), start=1):
            rule = _parse_line(line, number, path, diags, dialect)
            if rule is not None:
                self.rules.append(rule)
        # Last match wins: a later line ranks higher.
        self._matcher: Buckets[Rule] = Buckets([(rank, literal_lead(r.pattern), pattern_regex(r.pattern), r)
                                                for rank, r in enumerate(self.rules)])

    def match(self, path: str) -> list[Section]:
        """The deciding rule as a one-element list (its owners may be empty), or []."""
        rule = self._matcher.best(path, path)
        if rule is None:
            return []
        return [Section(DEFAULT_SECTION, rule.owners, 1, False, rule.line, rule.pattern, self.path)]


def tokens(line: str) -> list[str]:
    """Split at unescaped blanks; an unescaped `#` that starts a token starts a comment
    (GitHub documents inline comments). A backslash stays in the token: the pattern
    translation gives it its meaning."""
    out: list[str] = []
    buf: list[str] = []
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c == "\\" and i + 1 < n:
            buf.append(line[i:i + 2])
            i += 2
            continue
        if c in " \t":
            if buf:
                out.append("".join(buf))
                buf = []
        elif c == "#" and not buf:
            break
        else:
            buf.append(c)
        i += 1
    if buf:
        out.append("".join(buf))
    return out


def _parse_line(line: str, number: int, path: str, diags: Diagnostics, dialect: str) -> Optional[Rule]:
    stripped = line.strip()
    if not stripped or stripped.startswith("#"):
        return None
    parts = tokens(stripped)
    if not parts:
        return None
    pattern, raw_owners = parts[0], parts[1:]
    forge = _FORGE[dialect]
    if pattern.startswith("!"):
        diags.add(path, number, f"`!` negation does not work in {forge} CODEOWNERS; this line is ignored "
                  "(a later line without owners un-owns instead)", "warning", "unsupported-syntax")
        return None
    if pattern.startswith("\\#"):
        diags.add(path, number, f"escaping a leading `#` with `\\` does not work in {forge} CODEOWNERS; "
                  "this line is ignored", "warning", "unsupported-syntax")
        return None
    if "***" in pattern:
        diags.add(path, number, f"invalid pattern {pattern!r}: three consecutive asterisks; "
                  f"{forge} skips this line", "error", "invalid-pattern")
        return None
    if "[" in pattern or "]" in pattern:
        diags.add(path, number, f"`[ ]` character ranges do not work in {forge} CODEOWNERS; "
                  f"the brackets in {pattern!r} are matched literally", "warning", "unsupported-syntax")
    if pattern.strip("/") == "":
        diags.add(path, number, f"pattern {pattern!r} matches nothing", "warning", "invalid-pattern")
    owners: list[str] = []
    bad: list[str] = []
    for raw in raw_owners:
        owner = _owner(raw, dialect)
        (owners if owner else bad).append(owner or raw)
    if bad:
        names = ", ".join(repr(b) for b in bad)
        diags.add(path, number, f"invalid owner {names}: expected @user, @org/team or an email address; "
                  f"{forge} skips this line", "error", "invalid-owner")
        return None
    return Rule(number, pattern, tuple(owners))


def _owner(token: str, dialect: str) -> Optional[str]:
    if dialect == "bitbucket":
        token = _BB_SELECTION.sub("", token)
    if _USER.match(token) or _TEAM.match(token) or _EMAIL.match(token):
        return token
    return None


def literal_lead(pattern: str) -> tuple[str, ...]:
    """Bucket key (see ruleset.Buckets): the literal directories a root-anchored pattern starts
    with, or `("", name)` for an any-depth pattern that needs `name` as a path component."""
    segs = pattern.split("/")
    literal = [bool(seg) and seg != "**" and not any(c in seg for c in "*?\\") for seg in segs]
    if segs[0] == "":
        segs, literal = segs[1:], literal[1:]
    elif len(segs) == 1 or (len(segs) == 2 and segs[1] == ""):
        return ("", segs[0]) if literal[0] else ()  # any depth: needs that name as a component
    elif segs[0] == "**":
        return ("", segs[1]) if literal[1] else ()
    lead: list[str] = []
    for seg, plain in zip(segs, literal, strict=True):
        if not plain:
            break
        lead.append(seg)
    return tuple(lead)


def pattern_regex(pattern: str) -> str:
    """A CODEOWNERS pattern as a regex source matching a whole repository-relative path."""
    if pattern.strip("/") == "":
        return "(?!)"
    segs = pattern.split("/")
    if segs[0] == "":
        segs = segs[1:]  # a leading slash anchors at the root
    elif (len(segs) == 1 or (len(segs) == 2 and segs[1] == "")) and segs[0] != "**":
        segs = ["**", *segs]  # one segment: at any depth
    if len(segs) > 1 and segs[-1] == "":
        segs[-1] = "**"  # a trailing slash means everything below
    last = len(segs) - 1
    out: list[str] = []
    need_slash = False
    for i, seg in enumerate(segs):
        if seg == "**":
            if i == 0 and i == last:
                out.append(".+")
            elif i == 0:
                out.append("(?:.+/)?")
                need_slash = False
            elif i == last:
                out.append("/.*")
            else:
                out.append("(?:/.+)?")
                need_slash = True
            continue
        if need_slash:
            out.append("/")
        if seg == "*":
            out.append("[^/]+")  # a lone `*` names one entry, never what is below it
        else:
            out.append(_segment(seg))
            if i == last:
                out.append("(?:/.*)?")  # a file pattern also owns what is below a directory of that name
        need_slash = True
    return "".join(out)


def _segment(seg: str) -> str:
    out: list[str] = []
    escaped = False
    for c in seg:
        if escaped:
            out.append(re.escape(c))
            escaped = False
        elif c == "\\":
            escaped = True
        elif c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        else:
            out.append(re.escape(c))
    return "".join(out)
