"""Kubernetes / Prow OWNERS files (kubernetes/community contributors/guide/owners.md, Prow
repoowners): the approvers of a file are those of every OWNERS file from its directory up to
the root, stopping after one with `options: {no_parent_owners: true}`. Names in OWNERS_ALIASES
(at the root) expand to their members; logins are case-insensitive (Prow lowercases them).
`filters` maps a regex on the path relative to the OWNERS directory to approvers; when it is
set, Prow ignores the plain top-level keys."""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Any, Callable, Optional

from . import safe_yaml
from .model import Diagnostics, Section, union
from .regex_guard import risky_regex

FILENAME = "OWNERS"
ALIASES = "OWNERS_ALIASES"


@dataclass(frozen=True)
class Grant:
    approvers: tuple[str, ...]
    line: Optional[int]
    pattern: str
    regex: Optional[re.Pattern[str]] = None  # a filter; None = every file below


@dataclass(frozen=True)
class OwnersFile:
    path: str
    grants: tuple[Grant, ...]
    no_parent: bool


class OwnersFiles:
    """OWNERS files read on demand through `read`; `dirs` (directories that have one) spares
    reading where there is none, when the caller can list the tree."""

    def __init__(self, read: Callable[[str], Optional[bytes]], diags: Diagnostics,
                 dirs: Optional[set[str]] = None, has_aliases: Optional[bool] = None):
        self._read = read
        self._diags = diags
        self._dirs = dirs
        self._files: dict[str, Optional[OwnersFile]] = {}
        self._aliases: Optional[dict[str, tuple[str, ...]]] = None if has_aliases is not False else {}

    def match(self, path: str) -> Optional[Section]:
        directory = posixpath.dirname(path)
        found: list[tuple[OwnersFile, Grant]] = []
        while True:
            owners_file = self._file(directory)
            if owners_file is not None:
                relative = path[len(directory) + 1:] if directory else path
                found += [(owners_file, g) for g in owners_file.grants
                          if g.regex is None or g.regex.search(relative)]
                if owners_file.no_parent:
                    break
            if not directory:
                break
            directory = posixpath.dirname(directory)
        found = [(f, g) for f, g in found if g.approvers]
        if not found:
            return None
        nearest, grant = found[0]
        return Section("OWNERS", union(g.approvers for _, g in found), 1, False, grant.line, grant.pattern,
                       nearest.path)

    def _file(self, directory: str) -> Optional[OwnersFile]:
        if directory in self._files:
            return self._files[directory]
        parsed = None
        if self._dirs is None or directory in self._dirs:
            path = posixpath.join(directory, FILENAME) if directory else FILENAME
            data = self._read(path)
            if data is not None:
                parsed = self._parse(path, directory, data)
        self._files[directory] = parsed
        return parsed

    def _parse(self, path: str, directory: str, data: bytes) -> Optional[OwnersFile]:
        try:
            node, doc, utf8 = safe_yaml.load_one(data)
        except safe_yaml.YamlProblem as exc:
            self._diags.add(path, exc.line, f"{exc.message}; this OWNERS file is ignored", "error", "invalid-owners")
            return None
        if not utf8:
            self._diags.add(path, None, "not valid UTF-8", "warning", "encoding")
        if doc is None:
            return OwnersFile(path, (), False)
        if not isinstance(doc, dict):
            self._diags.add(path, 1, "an OWNERS file must be a mapping; it is ignored", "error", "invalid-owners")
            return None
        options = doc.get("options") if isinstance(doc.get("options"), dict) else {}
        no_parent = options.get("no_parent_owners") is True
        where = "/" + directory + "/" if directory else "/"
        grants: list[Grant] = []
        filters = doc.get("filters")
        if filters:
            if doc.get("approvers"):
                self._diags.add(path, safe_yaml.key_line(node, "approvers"), "top-level approvers are ignored "
                                "when `filters` is set (Prow reads one or the other)", "warning", "invalid-owners")
            if not isinstance(filters, dict):
                self._diags.add(path, safe_yaml.key_line(node, "filters"), "`filters` must be a mapping",
                                "error", "invalid-owners")
                filters = {}
            for expr, conf in filters.items():
                line = safe_yaml.key_line(node, "filters", str(expr))
                regex = self._regex(path, line, expr)
                if regex is not None and isinstance(conf, dict):
                    grants.append(Grant(self._logins(path, line, conf.get("approvers")), line, str(expr), regex))
        else:
            line = safe_yaml.key_line(node, "approvers")
            grants.append(Grant(self._logins(path, line, doc.get("approvers")), line, where))
        return OwnersFile(path, tuple(grants), no_parent)

    def _regex(self, path: str, line: Optional[int], expr: Any) -> Optional[re.Pattern[str]]:
        if not isinstance(expr, str):
            self._diags.add(path, line, f"filter {expr!r} is not a regex string; ignored", "error", "invalid-regex")
            return None
        why = risky_regex(expr)
        if why:
            self._diags.add(path, line, f"filter {expr!r} ignored: {why}", "error", "invalid-regex")
            return None
        return re.compile(expr)

    def _logins(self, path: str, line: Optional[int], value: Any) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self._diags.add(path, line, "approvers must be a list of GitHub logins or aliases; ignored",
                            "error", "invalid-owners")
            return ()
        aliases = self._load_aliases()
        out: list[str] = []
        for raw in value:
            login = _norm(raw)
            out += aliases.get(login, (login,)) if login else ()
        return union([["@" + login for login in out]])

    def _load_aliases(self) -> dict[str, tuple[str, ...]]:
        if self._aliases is not None:
            return self._aliases
        self._aliases = {}
        data = self._read(ALIASES)
        if data is None:
            return self._aliases
        try:
            _node, doc, _utf8 = safe_yaml.load_one(data)
        except safe_yaml.YamlProblem as exc:
            self._diags.add(ALIASES, exc.line, f"{exc.message}; aliases are not expanded", "error", "invalid-owners")
            return self._aliases
        table = doc.get("aliases") if isinstance(doc, dict) else None
        if not isinstance(table, dict):
            if doc is not None:
                self._diags.add(ALIASES, 1, "expected `aliases:` mapping names to lists of logins", "error",
                                "invalid-owners")
            return self._aliases
        for name, members in table.items():
            if isinstance(members, list) and all(isinstance(m, str) for m in members):
                self._aliases[_norm(str(name))] = tuple(m for m in (_norm(x) for x in members) if m)
            elif members is not None:
                self._diags.add(ALIASES, None, f"alias {name!r} must list logins; ignored", "error", "invalid-owners")
        return self._aliases


def _norm(login: str) -> str:
    """Prow's NormLogin: trimmed, lowercase, without a leading @."""
    return login.strip().lower().removeprefix("@")
