"""Semantic diff over the generic tree: key paths, old -> new values, source lines.

Subtrees whose source text is byte-identical are skipped without being walked, so the cost
follows the size of the change, not of the file. Named list items are matched by identity
(`name`, `id`, `key`; Kubernetes documents by apiVersion/kind/namespace/name), other lists by a
line-diff of their items, so inserting one element does not turn into N replacements."""
from __future__ import annotations

import re
from typing import Any, Optional

from ..linediff import diff_opcodes
from ..model import ConfigChange
from .syntax import ALIAS, EMPTY, MAP, SCALAR, SEQ, Node, SyntaxAdapter

IDENTITY_KEYS = ("name", "id", "key", "containerPort", "Sid")  # Sid: AWS policy statements
MAX_DEPTH = 64          # deeper than any real config; guards the walk against hostile nesting
MAX_VALUE_NODES = 40    # larger added/removed subtrees are summarised, not copied into the Report
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_\-/@$:]+$")


def key_segment(key: str) -> str:
    return key if _PLAIN_KEY.match(key) else '"' + key.replace('"', '\\"') + '"'


def join(path: str, key: str) -> str:
    seg = key_segment(key)
    if seg.startswith('"'):
        return f"{path}[{seg}]" if path else f"[{seg}]"
    return f"{path}.{seg}" if path else seg


_STEP = re.compile(r'\["((?:[^"\\]|\\.)*)"\]|\[([^\]"]*)\]|\.?([^.\[]+)')


def walk_steps(key: str) -> list[tuple[str, tuple[str, str]]]:
    """The inverse of join() and the item labels: `a["x.y"][name=api].b` ->
    [("", ("key","a")), ("a", ("key","x.y")), ('a["x.y"]', ("item","name=api")), (…, ("key","b"))],
    each step with the key path of the container it is taken in."""
    steps = []
    for m in _STEP.finditer(key):
        if m.group(1) is not None:
            step = ("key", m.group(1).replace('\\"', '"'))
        elif m.group(2) is not None:
            step = ("item", m.group(2))
        else:
            step = ("key", m.group(3))
        steps.append((key[:m.start()], step))
    return steps


def line_of(node: Optional[Node]) -> int:
    return node.start_point.row + 1 if node is not None else 1


def span_of(node: Optional[Node]) -> Optional[tuple[int, int, int, int]]:
    """1-based (line, column, end line, end column) of a node; columns count UTF-8 bytes."""
    if node is None:
        return None
    s, e = node.start_point, node.end_point
    return (s.row + 1, s.column + 1, e.row + 1, e.column + 1)


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING = _Missing()  # "no such key", as distinct from a key whose value is null


def build_index(adapter: SyntaxAdapter, docs: list[tuple[Optional[str], Optional[Node]]]) -> dict:
    """(document label, key path) -> node, for every node of the given documents."""
    index: dict = {}
    for label, root in docs:
        if root is None:
            continue
        stack = [("", root, 0)]
        while stack:
            path, node, depth = stack.pop()
            if path:
                index[(label, path)] = node
            kind = adapter.kind(node)
            if depth >= MAX_DEPTH:
                continue
            if kind == MAP:
                stack.extend((join(path, k), v, depth + 1) for k, _, v in adapter.map_items(node))
            elif kind == SEQ:
                items = adapter.seq_items(node)
                stack.extend((f"{path}[{label}]", v, depth + 1) for label, v in zip(item_labels(adapter, items), items))
    return index


def item_labels(adapter: SyntaxAdapter, items: list[Node]) -> list[str]:
    """How list items appear in key paths: `name=api` when every item has a distinct identity,
    else the position. The differ, the index and rules that build keys must all agree."""
    differ = Differ(adapter)
    ids = [differ.identity(i) for i in items]
    if ids and None not in ids and len(set(ids)) == len(ids):
        return ids
    return [str(n) for n in range(len(items))]


class Differ:
    def __init__(self, adapter: SyntaxAdapter, document: Optional[str] = None, doc_kind: Optional[str] = None):
        self.a = adapter
        self.document = document
        self.doc_kind = doc_kind
        self.changes: list[ConfigChange] = []  # compact: one per changed key, for the Report
        self.leaves: list[ConfigChange] = []   # every scalar-level change, for the rules

    # -- values -------------------------------------------------------------------------
    def value(self, node: Optional[Node]) -> Any:
        """A JSON-able value for the Report: scalars as they are, small subtrees copied,
        big ones summarised (the key path and line already say where they are)."""
        budget = [MAX_VALUE_NODES]
        return self._materialize(node, budget, 0)

    def _materialize(self, node: Optional[Node], budget: list[int], depth: int) -> Any:
        kind = self.a.kind(node)
        budget[0] -= 1
        if kind in (SCALAR, ALIAS, EMPTY):
            return self.a.scalar(node)
        if kind == MAP:
            items = self.a.map_items(node)
            if budget[0] < len(items) or depth > 8:
                return f"<mapping of {len(items)} keys>"
            return {k: self._materialize(v, budget, depth + 1) for k, _, v in items}
        items = self.a.seq_items(node)
        if budget[0] < len(items) or depth > 8:
            return f"<list of {len(items)} items>"
        return [self._materialize(v, budget, depth + 1) for v in items]

    def emit(self, key: str, op: str, old: Optional[Node], new: Optional[Node], line: int,
             old_line: Optional[int] = None, old_value: Any = MISSING, new_value: Any = MISSING) -> None:
        """Record a change. Values are read from the nodes unless given (a rename's values are
        the key names); the nodes also give the change its source ranges."""
        change = ConfigChange(
            key=key, op=op,
            old=(self.value(old) if old is not None else None) if old_value is MISSING else old_value,
            new=(self.value(new) if new is not None else None) if new_value is MISSING else new_value,
            line=line, old_line=old_line, document=self.document, doc_kind=self.doc_kind,
            span=span_of(new), old_span=span_of(old))
        self.changes.append(change)
        subtree = new if op == "add" else old if op == "remove" else None
        if subtree is not None and self.a.kind(subtree) in (MAP, SEQ):
            self._expand_leaves(key, op, subtree, line)
        else:
            self.leaves.append(change)

    def _expand_leaves(self, key: str, op: str, root: Node, anchor: int) -> None:
        """Rules judge values, so an added or removed subtree is also listed leaf by leaf
        (`spec.replicas: 0` inside a new Deployment). Kept apart from the Report's changes."""
        stack = [(key, root, 0)]
        while stack:
            path, node, depth = stack.pop()
            kind = self.a.kind(node)
            if kind == MAP and depth < MAX_DEPTH:
                stack.extend((join(path, k), v, depth + 1) for k, _, v in reversed(self.a.map_items(node)))
            elif kind == SEQ and depth < MAX_DEPTH:
                stack.extend((f"{path}[{i}]", v, depth + 1) for i, v in reversed(list(enumerate(self.a.seq_items(node)))))
            elif kind not in (MAP, SEQ):
                value = self.a.scalar(node)
                self.leaves.append(ConfigChange(
                    key=path, op=op, old=value if op == "remove" else None, new=value if op == "add" else None,
                    line=line_of(node) if op == "add" else anchor,
                    old_line=line_of(node) if op == "remove" else None, document=self.document,
                    doc_kind=self.doc_kind))

    # -- walk ---------------------------------------------------------------------------
    def diff(self, path: str, old: Optional[Node], new: Optional[Node], anchor: int, depth: int = 0) -> None:
        """`anchor` is the new-side line to blame when `new` is absent."""
        if old is not None and new is not None and old.text == new.text:
            return
        ko, kn = self.a.kind(old), self.a.kind(new)
        new_line = line_of(new) if new is not None else anchor
        old_line = line_of(old) if old is not None else None
        if depth >= MAX_DEPTH:
            self.emit(path, "replace", old, new, new_line, old_line,
                      old_value=f"<nested deeper than {MAX_DEPTH}>", new_value=f"<nested deeper than {MAX_DEPTH}>")
            return
        if ko == MAP and kn == MAP:
            self._diff_map(path, old, new, depth)
        elif ko == SEQ and kn == SEQ:
            self._diff_seq(path, old, new, depth)
        elif ko in (SCALAR, ALIAS, EMPTY) and kn in (SCALAR, ALIAS, EMPTY):
            ov, nv = self.a.scalar(old), self.a.scalar(new)
            if ov == nv and type(ov) is type(nv):
                return  # same value, other spelling ("3" -> '3', comment moved)
            op = "type_change" if ov is not None and nv is not None and _type(ov) != _type(nv) else "replace"
            self.emit(path, op, old, new, new_line, old_line, old_value=ov, new_value=nv)
        else:
            self.emit(path, "type_change", old, new, new_line, old_line)

    def _diff_map(self, path: str, old: Node, new: Node, depth: int) -> None:
        old_items = {k: (kn, v) for k, kn, v in self.a.map_items(old)}
        new_items = {k: (kn, v) for k, kn, v in self.a.map_items(new)}
        removed = [k for k in old_items if k not in new_items]
        added = [k for k in new_items if k not in old_items]
        # A removed and an added key with the same value text is one rename, not two changes.
        renamed: dict[str, str] = {}
        if removed and added:
            by_text: dict[bytes, list[str]] = {}
            for k in removed:
                v = old_items[k][1]
                if v is not None:
                    by_text.setdefault(v.text, []).append(k)
            for k in added:
                v = new_items[k][1]
                candidates = by_text.get(v.text) if v is not None else None
                if candidates:
                    renamed[candidates.pop(0)] = k
        for k, (key_node, value) in new_items.items():
            if k in old_items:
                self.diff(join(path, k), old_items[k][1], value, line_of(key_node), depth + 1)
        anchors = self._removal_anchors(old_items, new_items, line_of(new))
        for k in removed:
            old_key, old_value = old_items[k]
            anchor = anchors[k]
            if k in renamed:
                nk = renamed[k]
                self.emit(join(path, nk), "rename", old_key, new_items[nk][0], line_of(new_items[nk][0]),
                          line_of(old_key), old_value=k, new_value=nk)
            else:
                self.emit(join(path, k), "remove", old_value, None, anchor, line_of(old_key))
        renamed_targets = set(renamed.values())
        for k in added:
            if k not in renamed_targets:
                key_node, value = new_items[k]
                self.emit(join(path, k), "add", None, value, line_of(key_node))

    @staticmethod
    def _removal_anchors(old_items: dict, new_items: dict, first_line: int) -> dict[str, int]:
        """Blame a removed key on the new line of the surviving key that preceded it."""
        anchors, last = {}, first_line
        for k in old_items:
            if k in new_items:
                last = line_of(new_items[k][0])
            else:
                anchors[k] = last
        return anchors

    def identity(self, item: Node) -> Optional[str]:
        own = getattr(self.a, "identity", None)  # a format may know better (HCL provider aliases)
        if own is not None:
            ident = own(item)
            if ident is not None:
                return ident
        if self.a.kind(item) != MAP:
            return None
        found: dict[str, Node] = {}
        for k, _, v in self.a.iter_items(item):
            if k in IDENTITY_KEYS and v is not None and self.a.kind(v) == SCALAR:
                found[k] = v
                if k == IDENTITY_KEYS[0]:
                    break  # `name` wins: no need to read the rest of the item
        for name in IDENTITY_KEYS:
            if name in found:
                return f"{name}={self.a.scalar(found[name])}"
        return None

    def _diff_seq(self, path: str, old: Node, new: Node, depth: int) -> None:
        old_items, new_items = self.a.seq_items(old), self.a.seq_items(new)
        old_ids = [self.identity(i) for i in old_items]
        new_ids = [self.identity(i) for i in new_items]
        if (old_ids and new_ids and None not in old_ids and None not in new_ids
                and len(set(old_ids)) == len(old_ids) and len(set(new_ids)) == len(new_ids)):
            self._diff_named(path, new, old_items, new_items, old_ids, new_ids, depth)
            return
        old_texts = [i.text for i in old_items]
        new_texts = [i.text for i in new_items]
        if old_texts == new_texts:
            return  # only spacing or comments between items changed
        if sorted(old_texts) == sorted(new_texts):
            self.emit(path, "reorder", old, new, line_of(new), line_of(old),
                      old_value=len(old_items), new_value=len(new_items))
            return
        for i1, i2, j1, j2 in diff_opcodes(old_texts, new_texts):
            paired = min(i2 - i1, j2 - j1)
            for n in range(paired):
                self.diff(f"{path}[{j1 + n}]", old_items[i1 + n], new_items[j1 + n],
                          line_of(new_items[j1 + n]), depth + 1)
            for n in range(i1 + paired, i2):
                anchor = line_of(new_items[j2 - 1]) if j2 > 0 else line_of(new)
                self.emit(f"{path}[{n}]", "remove", old_items[n], None, anchor, line_of(old_items[n]))
            for n in range(j1 + paired, j2):
                self.emit(f"{path}[{n}]", "add", None, new_items[n], line_of(new_items[n]))

    def _diff_named(self, path, new, old_items, new_items, old_ids, new_ids, depth) -> None:
        old_by_id = dict(zip(old_ids, old_items))
        new_by_id = dict(zip(new_ids, new_items))
        for ident, item in zip(new_ids, new_items):
            if ident in old_by_id:
                self.diff(f"{path}[{ident}]", old_by_id[ident], item, line_of(item), depth + 1)
            else:
                self.emit(f"{path}[{ident}]", "add", None, item, line_of(item))
        anchor = line_of(new)  # blame a removal on the surviving item that preceded it
        for ident, item in zip(old_ids, old_items):
            if ident in new_by_id:
                anchor = line_of(new_by_id[ident])
            else:
                self.emit(f"{path}[{ident}]", "remove", item, None, anchor, line_of(item))
        # Named items are a set keyed by identity: moving one is not a change.


def _type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__
