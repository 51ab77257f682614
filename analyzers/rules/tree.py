"""Whole-value helpers for rules that judge a document as data (IAM policies, CI pipelines):
plain values of a subtree, documents by kind, the line a key sits on, synthetic changes for
conclusions drawn across keys."""
from __future__ import annotations

import re
from typing import Any, Iterator, Optional

from ..configdiff import MISSING
from ..configdiff.semdiff import line_of
from ..configdiff.syntax import MAP, SEQ
from ..model import ConfigChange
from .registry import FileFacts

_PLAIN_BUDGET = 50_000  # nodes per value: more than any real policy or pipeline, bounded for hostile input


def plain(adapter, node, budget: Optional[list] = None) -> Any:
    """A node as plain Python, without the Report's summarising: rules that compare whole
    structures (policy statements, pipeline jobs) need all of it."""
    budget = budget if budget is not None else [_PLAIN_BUDGET]
    budget[0] -= 1
    kind = adapter.kind(node)
    if budget[0] < 0:
        return None
    if kind == MAP:
        return {k: plain(adapter, v, budget) for k, _, v in adapter.map_items(node)}
    if kind == SEQ:
        return [plain(adapter, v, budget) for v in adapter.seq_items(node)]
    return adapter.scalar(node)


def documents(facts: FileFacts, kinds: Optional[set] = None) -> Iterator[tuple[Optional[str], Optional[str], Any, Any]]:
    """(document label, Kubernetes kind, old value, new value) per document pair (only those of
    `kinds` when given: materialising is linear in the file); MISSING for an absent side."""
    diff = facts.diff
    if diff is None or diff.adapter is None:
        return
    for label, kind, old, new in diff.pairs:
        if kinds is not None and kind not in kinds:
            continue
        yield (label, kind, plain(diff.adapter, old) if old is not None else MISSING,
               plain(diff.adapter, new) if new is not None else MISSING)


def key_line(facts: FileFacts, key: str, document: Optional[str] = None) -> int:
    """New-side line of a key path: the change that names it, else the key in the new file,
    else its nearest surviving parent (a removed key is blamed where it used to be)."""
    for c in facts.changes:
        if c.key == key and c.document == document:
            return c.line
    index = facts.diff.index("new") if facts.diff is not None else {}
    probe = key
    while probe:
        node = index.get((document, probe))
        if node is not None:
            return _key_node_line(facts, probe, document) or line_of(node)
        probe = parent_of(probe)
    return 1


def parent_of(key: str) -> str:
    m = re.search(r'(\.[^.\[\]"]+|\[(?:"(?:[^"\\]|\\.)*"|[^\]]*)\])$', key)
    return key[:m.start()] if m else ""


def _key_node_line(facts: FileFacts, key: str, document: Optional[str]) -> Optional[int]:
    """The line of `key:` itself rather than of its value (a block mapping starts a line later)."""
    adapter = facts.diff.adapter
    parent = parent_of(key)
    name = key[len(parent):].lstrip(".")
    if name.startswith("["):
        return None
    node = (facts.diff.index("new").get((document, parent)) if parent else
            next((n for label, _, _, n in facts.diff.pairs if label == document), None))
    if node is None or adapter.kind(node) != MAP:
        return None
    return next((line_of(k) for k_name, k, _ in adapter.map_items(node) if k_name == name), None)


def text_line(facts: FileFacts, start: int, pattern: re.Pattern, span: int = 60) -> int:
    """The first new-side line at or after `start` matching `pattern` (inside a block scalar)."""
    lines = (facts.file.new_text or "").splitlines()
    for n in range(max(start, 1), min(len(lines), start + span) + 1):
        if pattern.search(lines[n - 1]):
            return n
    return start


def strings(value: Any) -> list[str]:
    """Every string in a scalar or list (`Action: "s3:*"` and `Action: ["s3:*"]` alike)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def names(value: Any) -> set[str]:
    """A list parameter, also given as one comma-separated string (the policy file's params
    take scalars)."""
    return {v.strip() for v in (value.split(",") if isinstance(value, str) else strings(value)) if v.strip()}


def at(value: Any, *path: str) -> Any:
    for name in path:
        value = value.get(name, MISSING) if isinstance(value, dict) else MISSING
    return value


def synthetic(key: str, old: Any, new: Any, line: int, document: Optional[str] = None,
              doc_kind: Optional[str] = None) -> ConfigChange:
    """A change that names what a rule judged (for the finding's key and fingerprint)."""
    op = "add" if old is MISSING else "remove" if new is MISSING else "replace"
    return ConfigChange(key=key, op=op, old=None if old is MISSING else old, new=None if new is MISSING else new,
                        line=line, document=document, doc_kind=doc_kind)
