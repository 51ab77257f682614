"""Shared machinery: decoding a trusted file into lines, and matching a path against many
compiled patterns fast (the lookup runs for every changed file, and on every keystroke)."""
from __future__ import annotations

import re
from typing import Generic, Optional, Sequence, TypeVar

from .model import Diagnostics

T = TypeVar("T")

MiB = 1024 * 1024
_MAX_ENCODING_NOTES = 10


def text_lines(data: bytes, path: str, diags: Diagnostics, *, limit: int, limit_note: str) -> Optional[list[str]]:
    """bytes -> lines (1-based line i is lines[i-1]), or None when the file is not loaded.
    Bytes that are not UTF-8 are kept as surrogate escapes, so a pattern still matches the path
    git reports for the same bytes, and each such line is reported."""
    if len(data) > limit:
        diags.add(path, None, f"{path} is {len(data):,} bytes; {limit_note}", "error", "too-large")
        return None
    if b"\0" in data[:8000]:  # git's binary test
        diags.add(path, None, f"{path} looks binary (NUL byte); it is ignored", "error", "binary")
        return None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    lines: list[str] = []
    bad: list[int] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        raw = raw[:-1] if raw.endswith(b"\r") else raw
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            lines.append(raw.decode("utf-8", "surrogateescape"))
            bad.append(number)
    for number in bad[:_MAX_ENCODING_NOTES]:
        diags.add(path, number, "line is not valid UTF-8", "warning", "encoding")
    if len(bad) > _MAX_ENCODING_NOTES:
        diags.add(path, None, f"{len(bad) - _MAX_ENCODING_NOTES} more lines are not valid UTF-8",
                  "warning", "encoding")
    return lines


class FirstMatch(Generic[T]):
    """Patterns in priority order (first wins), each a regex source that must match the whole
    path. Compiled lazily into alternations of a few hundred branches: the regex engine walks
    the branches in C, in order, which is much faster than one Python-level test per pattern,
    and `lastindex` names the branch that matched."""

    CHUNK = 256

    def __init__(self, items: Sequence[tuple[str, T]]):
        self._sources = [source for source, _ in items]
        self._payloads = [payload for _, payload in items]
        self._chunks: list[Optional[re.Pattern[str]]] = [None] * -(-len(items) // self.CHUNK)

    def __len__(self) -> int:
        return len(self._payloads)

    def _chunk(self, index: int) -> re.Pattern[str]:
        compiled = self._chunks[index]
        if compiled is None:
            part = self._sources[index * self.CHUNK:(index + 1) * self.CHUNK]
            compiled = re.compile("|".join(f"((?:{source})\\Z)" for source in part))
            self._chunks[index] = compiled
        return compiled

    def first_index(self, path: str) -> Optional[int]:
        for index in range(len(self._chunks)):
            match = self._chunk(index).match(path)
            if match is not None:
                return index * self.CHUNK + match.lastindex - 1  # type: ignore[operator]
        return None

    def first(self, path: str) -> Optional[T]:
        index = self.first_index(path)
        return None if index is None else self._payloads[index]

    def any(self, path: str) -> bool:
        return self.first_index(path) is not None


class Buckets(Generic[T]):
    """Rules with a rank (higher wins), bucketed by the literal directories a pattern starts
    with (`/services/api/**` can only match paths under services/api), or by a literal name
    an any-depth pattern needs as one of the path's components (key `("", name)`), so a lookup
    tries the few buckets of its own path instead of every rule of a file thousands of lines
    long."""

    DEPTH = 4

    def __init__(self, rules: Sequence[tuple[int, tuple[str, ...], str, T]]):
        """rules: (rank, literal leading segments, regex source, payload)."""
        groups: dict[tuple[str, ...], list[tuple[int, str, T]]] = {}
        for rank, lead, source, payload in rules:
            groups.setdefault(lead[:self.DEPTH], []).append((rank, source, payload))
        self._groups: dict[tuple[str, ...], FirstMatch[tuple[int, T]]] = {
            key: FirstMatch([(source, (rank, payload)) for rank, source, payload in sorted(group, key=_neg_rank)])
            for key, group in groups.items()}

    def best(self, path: str, subject: str) -> Optional[T]:
        """The highest-ranked payload whose regex matches `subject`; `path` (repository-relative)
        picks the buckets."""
        parts = path.split("/")
        keys = [tuple(parts[:n]) for n in range(min(len(parts), self.DEPTH) + 1)]
        keys += [("", name) for name in dict.fromkeys(parts)]
        best: Optional[tuple[int, T]] = None
        for key in keys:
            group = self._groups.get(key)
            if group is not None:
                hit = group.first(subject)
                if hit is not None and (best is None or hit[0] > best[0]):
                    best = hit
        return None if best is None else best[1]


def _neg_rank(item: tuple) -> int:
    return -item[0]
