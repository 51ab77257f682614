"""Line diff for hunks: patience anchoring (unique lines, longest increasing run) with a plain
prefix/suffix trim between anchors. Pure Python and close to linear on config files, where
difflib's SequenceMatcher costs several times a YAML parse. One algorithm for every client, so
the editor and the CLI agree on hunk boundaries."""
from __future__ import annotations

from bisect import bisect_left
from typing import Sequence

from .model import Hunk

Opcode = tuple[int, int, int, int]  # old[i1:i2] replaced by new[j1:j2] (0-based, half-open)


def _unique_matches(a: Sequence[str], b: Sequence[str], a0: int, a1: int, b0: int, b1: int) -> list[tuple[int, int]]:
    count_a: dict[str, int] = {}
    where_a: dict[str, int] = {}
    for i in range(a0, a1):
        line = a[i]
        count_a[line] = count_a.get(line, 0) + 1
        where_a[line] = i
    count_b: dict[str, int] = {}
    where_b: dict[str, int] = {}
    for j in range(b0, b1):
        line = b[j]
        if count_a.get(line) == 1:
            count_b[line] = count_b.get(line, 0) + 1
            where_b[line] = j
    pairs = sorted((where_a[line], j) for line, j in where_b.items() if count_b[line] == 1)
    return _longest_increasing(pairs)


def _longest_increasing(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Longest chain of pairs increasing in both coordinates (pairs sorted by the first)."""
    tails: list[int] = []  # smallest b-index ending a chain of each length
    tail_idx: list[int] = []
    back: list[int] = []
    for n, (_, j) in enumerate(pairs):
        k = bisect_left(tails, j)
        if k == len(tails):
            tails.append(j)
            tail_idx.append(n)
        else:
            tails[k] = j
            tail_idx[k] = n
        back.append(tail_idx[k - 1] if k else -1)
    chain: list[tuple[int, int]] = []
    n = tail_idx[-1] if tail_idx else -1
    while n >= 0:
        chain.append(pairs[n])
        n = back[n]
    chain.reverse()
    return chain


def _diff(a: Sequence[str], b: Sequence[str], a0: int, a1: int, b0: int, b1: int, out: list[Opcode]) -> None:
    stack = [(a0, a1, b0, b1)]
    while stack:
        a0, a1, b0, b1 = stack.pop()
        while a0 < a1 and b0 < b1 and a[a0] == b[b0]:
            a0 += 1
            b0 += 1
        while a0 < a1 and b0 < b1 and a[a1 - 1] == b[b1 - 1]:
            a1 -= 1
            b1 -= 1
        if a0 == a1 or b0 == b1:
            if a0 != a1 or b0 != b1:
                out.append((a0, a1, b0, b1))
            continue
        anchors = _unique_matches(a, b, a0, a1, b0, b1)
        if not anchors:
            out.append((a0, a1, b0, b1))
            continue
        # Recurse into the gaps between anchors (pushed in reverse so they pop in order).
        gaps = []
        pa, pb = a0, b0
        for i, j in anchors:
            gaps.append((pa, i, pb, j))
            pa, pb = i + 1, j + 1
        gaps.append((pa, a1, pb, b1))
        stack.extend(reversed(gaps))


def diff_opcodes(a: Sequence[str], b: Sequence[str]) -> list[Opcode]:
    out: list[Opcode] = []
    _diff(a, b, 0, len(a), 0, len(b), out)
    out.sort()
    return out


def hunks(old_text: str | None, new_text: str | None) -> list[Hunk]:
    """Hunks between two texts, with 1-based new-side line ranges."""
    a = (old_text or "").splitlines()
    b = (new_text or "").splitlines()
    result = []
    for i1, i2, j1, j2 in diff_opcodes(a, b):
        if j2 > j1:
            start, end = j1 + 1, j2
        else:  # pure deletion: anchor on the new-side line the removed lines followed
            start = end = max(j1, 1)
        result.append(Hunk(start=start, end=end, old_start=i1 + 1, old_end=max(i2, i1 + 1),
                           added=j2 - j1, removed=i2 - i1))
    return result
