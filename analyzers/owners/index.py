"""One index over every ownership source of a revision: CODEOWNERS (one dialect), Kubernetes
OWNERS files and Backstage catalog files. Everything is read through `read`, which the caller
points at the BASE revision so a change cannot weaken its own gate."""
from __future__ import annotations

import posixpath
from typing import Callable, Iterable, Optional, Union

from . import catalog, github, gitlab, k8s
from .model import DIALECTS, Diagnostic, Diagnostics, OwnerAnswer, Section, union

Reader = Callable[[str], Optional[bytes]]
Codeowners = Union[github.GitHubCodeowners, gitlab.GitLabCodeowners]
_CACHE_SIZE = 65536


class TooLarge(Exception):
    """`read` may raise this instead of returning a blob too large to hold in memory."""

    def __init__(self, size: int):
        super().__init__(f"{size} bytes")
        self.size = size


def codeowners_locations(dialect: str) -> tuple[str, ...]:
    """Where the forge looks, in its order; the first file found is the one used."""
    return gitlab.LOCATIONS if dialect == "gitlab" else github.LOCATIONS[dialect]


def detect_dialect(read: Reader, paths: Optional[set[str]] = None) -> str:
    """The forge whose own directory holds a CODEOWNERS file; github when none does."""
    for dialect, path in (("github", ".github/CODEOWNERS"), ("gitlab", ".gitlab/CODEOWNERS"),
                          ("bitbucket", ".bitbucket/CODEOWNERS")):
        if (path in paths) if paths is not None else _exists(read, path):
            return dialect
    return "github"


def _exists(read: Reader, path: str) -> bool:
    try:
        return read(path) is not None
    except TooLarge:
        return True


def load_ownership(read: Reader, *, list_paths: Optional[Callable[[], Iterable[str]]] = None,
                   dialect: Optional[str] = "github", codeowners_path: Optional[str] = None,
                   catalog_tier_key: Optional[str] = None) -> "OwnershipIndex":
    """Build the index.

    read(path) -> bytes of a repository-relative file, or None when it does not exist; it may
        raise TooLarge(size). Only ownership files are ever read.
    list_paths() -> every file path of the revision (e.g. `git ls-tree -r --name-only BASE`).
        Optional: it tells where OWNERS and catalog files are; without it they are probed
        through `read` in the directories of the paths looked up.
    dialect: github | gitlab | bitbucket, or None to pick the forge whose directory
        (.github/, .gitlab/, .bitbucket/) has a CODEOWNERS file (github otherwise).
    codeowners_path: read this file instead of searching the dialect's locations.
    catalog_tier_key: label/annotation of catalog-info.yaml that gives the tier.
    """
    known = set(list_paths()) if list_paths is not None else None
    if dialect is None:
        dialect = detect_dialect(read, known)
    if dialect not in DIALECTS:
        raise ValueError(f"unknown CODEOWNERS dialect {dialect!r} (expected one of {', '.join(DIALECTS)})")
    return OwnershipIndex(read, dialect, known, codeowners_path, catalog_tier_key)


class OwnershipIndex:
    def __init__(self, read: Reader, dialect: str, known: Optional[set[str]],
                 codeowners_path: Optional[str], catalog_tier_key: Optional[str]):
        self.dialect = dialect
        self._diags = Diagnostics()
        self.codeowners: Optional[str] = None  # the CODEOWNERS file in use
        self._codeowners = self._load_codeowners(read, codeowners_path, known)
        owners_dirs = catalog_files = None
        if known is not None:
            owners_dirs = {posixpath.dirname(p) for p in known if posixpath.basename(p) == k8s.FILENAME}
            catalog_files = {p for p in known if posixpath.basename(p) in catalog.FILENAMES}
        self._owners_files = k8s.OwnersFiles(read, self._diags, owners_dirs,
                                             None if known is None else k8s.ALIASES in known)
        self._catalogs = catalog.Catalogs(read, self._diags, catalog_tier_key, catalog_files)
        self._cache: dict[str, OwnerAnswer] = {}

    @property
    def diagnostics(self) -> list[Diagnostic]:
        """Problems in the ownership files read so far (OWNERS and catalog files are read when
        a lookup first needs them), in the order found."""
        return list(self._diags.items)

    def _load_codeowners(self, read: Reader, explicit: Optional[str], known: Optional[set[str]]) -> Optional[Codeowners]:
        candidates = (explicit,) if explicit else codeowners_locations(self.dialect)
        for path in candidates:
            if known is not None and not explicit and path not in known:
                continue
            try:
                data = read(path)
            except TooLarge as exc:  # the forge would not load it either: no file has code owners
                self.codeowners = path
                self._diags.add(path, None, f"{path} is {exc.size:,} bytes; it is too large to load, so no file "
                                "has code owners", "error", "too-large")
                return None
            if data is not None:
                self.codeowners = path
                return self._parse_codeowners(data, path)
        if explicit:
            self._diags.add(explicit, None, f"the CODEOWNERS file {explicit} does not exist", "warning", "missing")
        return None

    def _parse_codeowners(self, data: bytes, path: str) -> Codeowners:
        if self.dialect == "gitlab":
            return gitlab.GitLabCodeowners(data, path, self._diags)
        return github.GitHubCodeowners(data, path, self._diags, self.dialect)

    def lookup(self, path: str) -> OwnerAnswer:
        """Owners of one repository-relative path (with `/`), cached."""
        path = _normalize(path)
        answer = self._cache.get(path)
        if answer is None:
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()
            answer = self._cache[path] = self._answer(path)
        return answer

    def _answer(self, path: str) -> OwnerAnswer:
        matched: list[Section] = self._codeowners.match(path) if self._codeowners else []
        prow = self._owners_files.match(path)
        if prow is not None:
            matched.append(prow)
        entity = self._catalogs.match(path)
        if not matched and entity is not None and entity.owner:
            # the catalog owner stands in only where no CODEOWNERS or OWNERS rule speaks
            directory = posixpath.dirname(entity.source)
            matched.append(Section("catalog", (entity.owner,), 1, False, entity.owner_line,
                                   f"/{directory}/" if directory else "/", entity.source))
        sections = tuple(s for s in matched if s.owners)
        decider = matched[0] if matched else None
        return OwnerAnswer(
            path=path, owners=union(s.owners for s in sections),
            line=decider.line if decider else None, pattern=decider.pattern if decider else None,
            source=decider.source if decider else None, sections=sections,
            tier=entity.tier if entity else None, catalog_owner=entity.owner if entity else None,
            catalog=entity.source if entity else None)

    def tier(self, path: str) -> Optional[int]:
        """The tier of the nearest catalog Component above `path`, if the caller named its key."""
        return self.lookup(path).tier

    def ownership(self, path: str):
        """The answer as analyzers.model.Ownership (the engine's OwnerLookup protocol), or None
        when no ownership file has a rule for the path."""
        from ..model import OwnerSection, Ownership  # late: the engine's model is not ours to load

        answer = self.lookup(path)
        if answer.source is None:
            return None
        return Ownership(answer.source, answer.line, answer.pattern,
                         tuple(OwnerSection(s.name, s.owners, s.approvals, s.optional) for s in answer.sections))

    def to_json(self, paths: Iterable[str]) -> dict:
        """DESIGN §4.1 `owners --format json`, plus `diagnostics`."""
        answers = {p: self.lookup(p) for p in paths}
        return {"version": 1, "dialect": self.dialect, "codeowners": self.codeowners,
                "paths": {p: a.to_dict() for p, a in answers.items()},
                "diagnostics": [d.to_dict() for d in self.diagnostics]}


def _normalize(path: str) -> str:
    while path.startswith("./"):
        path = path[2:]
    return path.lstrip("/")


def check_file(path: str, data: bytes, dialect: Optional[str] = "github") -> list[Diagnostic]:
    """Problems in one ownership file's own text (an edited CODEOWNERS or OWNERS), as the forge
    would meet them: the rule for `changegate check` and the editor's diagnostics in that file."""
    diags = Diagnostics()
    name = posixpath.basename(path)
    if name == k8s.FILENAME:
        k8s.OwnersFiles(lambda p: data if p == path else None, diags, {posixpath.dirname(path)}, False) \
            ._file(posixpath.dirname(path))
    elif name == "CODEOWNERS":
        dialect = dialect or next((d for d, where in (("gitlab", ".gitlab/"), ("bitbucket", ".bitbucket/"))
                                   if path.startswith(where)), "github")
        if dialect == "gitlab":
            gitlab.GitLabCodeowners(data, path, diags)
        else:
            github.GitHubCodeowners(data, path, diags, dialect)
    return diags.items
