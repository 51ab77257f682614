"""CODEOWNERS as GitLab reads it (ee/lib/gitlab/code_owners/file.rb and section_parser.rb).

- Sections: `[Name]`, optional `^[Name]`, approvals `[Name][N]`, default owners `[Name] @a @b`.
  Rules before the first header form the unnamed section "codeowners". Names are
  case-insensitive and duplicates merge under the first spelling; a section is optional only
  if every header of it is.
- Per section the last matching rule wins; the owners of a path are the union over sections.
  Rules are keyed by their normalised pattern, so a repeated pattern keeps its first position
  and takes the later owners (a Ruby hash, like a Python dict).
- `!pattern` excludes the path from its section; once excluded it cannot be included again
  in that section, wherever the exclusion is written.
- Patterns: `File.fnmatch` with FNM_PATHNAME | FNM_DOTMATCH after normalisation: `*` alone is
  `/**/*`, no leading `/` means any depth (`/**/`), a trailing `/` means everything below.
  Unlike GitHub, a slash in the middle does not anchor, and `[ ]` and a leading `\\#` work.
- Owners: @user, @group/subgroup, email, @@developer|maintainer|owner (plural accepted).
  Malformed owners are reported and ignored; inline comments are not supported, so owners
  written after a `#` still count.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from .model import DEFAULT_SECTION, Diagnostics, Section
from .ruleset import MiB, Buckets, text_lines

LOCATIONS = ("CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS")
MAX_BYTES = 16 * MiB  # GitLab documents no limit; this only keeps a runaway file out of memory

_HEADER = re.compile(r"(?P<optional>\^)?\[(?P<name>.*?)\](?:\[(?P<approvals>\d*?)\])?"
                     r"(?P<default_owners>\s+[@\w_.\-/\s+]*)?", re.ASCII)
_INVALID_HEADER = re.compile(r"\^?\[[^\]]+?\Z")
_SPLIT = re.compile(r"(?<!\\)\s+")
# reference_extractor.rb: emails, @names (gitlab path_regex namespace format), @@roles
_EMAIL = re.compile(r"[^@\s]{1,100}@[^@\s]{1,255}(?<!\W)", re.ASCII)
_SEGMENT = r"(?:[a-zA-Z0-9_.][a-zA-Z0-9_.\-]*[a-zA-Z0-9_\-]|[a-zA-Z0-9_])"
_NAME = re.compile(rf"(?<![\w@])@{_SEGMENT}(?:/{_SEGMENT})*", re.ASCII)
_ROLE = re.compile(r"@@(?:developer|maintainer|owner)s?\Z", re.IGNORECASE)

_MESSAGES = {
    "missing_entry_owner": "rule has no owners (GitLab cannot require an approval for it)",
    "missing_section_name": "section header has no name",
    "invalid_approval_requirement": "an optional section (^) cannot require a number of approvals",
    "invalid_section_format": "unparsable section header; GitLab reads this line as a rule",
    "invalid_section_owner_format": "section default owners name no user, group, email or role",
}


@dataclass(frozen=True)
class Entry:
    line: int
    pattern: str  # as written (without `!`)
    owners: tuple[str, ...]
    approvals: int
    optional: bool
    exclusion: bool


class GitLabCodeowners:
    def __init__(self, text: Optional[bytes], path: str, diags: Diagnostics):
        self.path = path
        self._diags = diags
        # section name -> normalised pattern -> entry, both in first-seen order
        self.sections: dict[str, dict[str, Entry]] = {DEFAULT_SECTION: {}}
        lines = None
        if text is not None:
            lines = text_lines(text, path, diags, limit=MAX_BYTES,
                               limit_note=f"ChangeGate does not load a CODEOWNERS file over {MAX_BYTES // MiB} MB")
        current = (DEFAULT_SECTION, False, 0, "")  # name, optional, approvals, default owners
        for number, raw in enumerate(lines or (), start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            header = self._header(line, number)
            if header is not None:
                current = header
                self.sections.setdefault(header[0], {})
                continue
            self._entry(line, number, current)
        self._compiled = [(name, self._optional(entries), _compile(entries))
                          for name, entries in self.sections.items() if entries]

    def _error(self, line: int, code: str, detail: str = "") -> None:
        self._diags.add(self.path, line, _MESSAGES.get(code, "") + detail, "error", code.replace("_", "-"))

    def _header(self, line: str, number: int) -> Optional[tuple[str, bool, int, str]]:
        match = _HEADER.match(line)
        if match is None:
            if _INVALID_HEADER.match(line):
                self._error(number, "invalid_section_format")
            return None
        name = match["name"]
        existing = list(self.sections)
        if existing[-1] != DEFAULT_SECTION:  # section_parser.rb#find_section_name
            name = next((k for k in existing if k.casefold() == name.casefold()), name)
        optional, approvals = bool(match["optional"]), int(match["approvals"] or 0)
        defaults = match["default_owners"] or ""
        if not name.strip():
            self._error(number, "missing_section_name")
        if optional and approvals > 0:
            self._error(number, "invalid_approval_requirement")
        if defaults.strip() and not references(defaults)[0]:
            self._error(number, "invalid_section_owner_format")
        return name, optional, approvals, defaults

    def _entry(self, line: str, number: int, current: tuple[str, bool, int, str]) -> None:
        name, optional, approvals, defaults = current
        parts = _SPLIT.split(line, maxsplit=1)
        pattern, owner_text = parts[0], parts[1] if len(parts) > 1 else ""
        exclusion = pattern.startswith("!")
        if exclusion:
            pattern = pattern[1:]
        owners: tuple[str, ...] = ()
        if not exclusion:
            found, malformed = references(owner_text)
            if malformed:
                hint = ("; inline comments are not supported, owners after `#` still count"
                        if any(m.startswith("#") for m in malformed) else "")
                self._error(number, "malformed_entry_owner",
                            "malformed owner " + ", ".join(repr(m) for m in malformed) + " ignored" + hint)
            if not owner_text.strip():
                found = references(defaults)[0]
                if not defaults.strip():
                    self._error(number, "missing_entry_owner")
            owners = tuple(found)
        self.sections[name][normalize(pattern)] = Entry(number, pattern, owners, approvals, optional, exclusion)

    @staticmethod
    def _optional(entries: dict[str, Entry]) -> bool:
        return all(e.optional for e in entries.values())

    def match(self, path: str) -> list[Section]:
        """One section per section that has a rule for the path (owners may be empty)."""
        rooted = "/" + path
        out: list[Section] = []
        for name, optional, (positive, excluded) in self._compiled:
            if excluded.best(path, rooted) is not None:
                continue
            entry = positive.best(path, rooted)
            if entry is not None:
                out.append(Section(name, entry.owners, max(1, entry.approvals), optional,
                                   entry.line, entry.pattern, self.path))
        return out


def _compile(entries: dict[str, Entry]) -> tuple[Buckets[Entry], Buckets[Entry]]:
    """(rules, exclusions) of one section; a later position in the section ranks higher."""
    ranked = [(rank, _lead(p), fnmatch_regex(p), e) for rank, (p, e) in enumerate(entries.items())]
    return (Buckets([r for r in ranked if not r[3].exclusion]),
            Buckets([r for r in ranked if r[3].exclusion]))


def _lead(normalized: str) -> tuple[str, ...]:
    """Bucket key (see ruleset.Buckets) of a normalised pattern."""
    segs = normalized[1:].split("/")
    literal = [bool(seg) and not any(c in seg for c in "*?[\\") for seg in segs]
    if segs[0] == "**" and len(segs) > 1:
        return ("", segs[1]) if literal[1] else ()
    lead: list[str] = []
    for seg, plain in zip(segs, literal, strict=True):
        if not plain:
            break
        lead.append(seg)
    return tuple(lead)


def references(text: str) -> tuple[list[str], list[str]]:
    """(owners, malformed tokens) of an owners text, token by token as GitLab validates it."""
    found: list[str] = []
    malformed: list[str] = []
    for token in text.split():
        if _ROLE.match(token):
            refs = [token]
        else:
            refs = [m.group(0) for m in _EMAIL.finditer(token)] + [m.group(0) for m in _NAME.finditer(token)]
        if refs:
            found.extend(r for r in refs if r not in found)
        else:
            malformed.append(token)
    return found, malformed


def normalize(pattern: str) -> str:
    """file.rb#normalize_pattern."""
    if pattern == "*":
        return "/**/*"
    if pattern.startswith("\\#"):
        pattern = pattern[1:]
    pattern = re.sub(r"\\\s+", " ", pattern)
    if not pattern.startswith("/"):
        pattern = "/**/" + pattern
    if pattern.endswith("/"):
        pattern += "**/*"
    return pattern


def fnmatch_regex(pattern: str) -> str:
    """Ruby File.fnmatch with FNM_PATHNAME | FNM_DOTMATCH as a regex source: `*` and `?` stay
    within a segment, `**/` at the start of a segment is zero or more directories (elsewhere
    `**` is `*`), `[...]` is a class that never matches `/`, `\\` escapes."""
    out: list[str] = []
    i, n = 0, len(pattern)
    segment_start = True
    while i < n:
        if segment_start and pattern.startswith("**/", i):
            while pattern.startswith("**/", i):
                i += 3
                while i < n and pattern[i] == "/":
                    i += 1
            out.append("(?:[^/]*/)*")
            continue
        c = pattern[i]
        i += 1
        segment_start = c == "/"
        if c == "*":
            while i < n and pattern[i] == "*":
                i += 1
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            cls, i = _bracket(pattern, i)
            out.append(cls)
        elif c == "\\" and i < n:
            out.append(re.escape(pattern[i]))
            i += 1
        else:
            out.append(re.escape(c))
    return "".join(out)


def _bracket(pattern: str, i: int) -> tuple[str, int]:
    """Ruby's bracket(): `[!..]`/`[^..]` negate, `a-z` ranges, `\\` escapes; an unclosed or
    empty class matches nothing. Returns the regex and the index after `]`."""
    n = len(pattern)
    negate = i < n and pattern[i] in "!^"
    if negate:
        i += 1
    items: list[str] = []
    while i < n and pattern[i] != "]":
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            i += 1
            c = pattern[i]
        i += 1
        if i + 1 < n and pattern[i] == "-" and pattern[i + 1] != "]":
            hi = pattern[i + 1]
            if hi == "\\" and i + 2 < n:
                hi, i = pattern[i + 2], i + 1
            i += 2
            items.append(f"{re.escape(c)}-{re.escape(hi)}" if c <= hi else "")
        else:
            items.append(re.escape(c))
    if i >= n:
        return "(?!)", n
    body = "".join(items)
    if negate:
        return f"[^/{body}]", i + 1
    return (f"(?!/)[{body}]" if body else "(?!)"), i + 1
