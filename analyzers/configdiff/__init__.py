"""Semantic config diff: parse old and new with tree-sitter, compare by key path."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from ..model import ConfigChange
from .semdiff import MAX_DEPTH, MISSING, Differ, build_index, item_labels, join, line_of, walk_steps
from .syntax import MAP, MAX_BLOCK_LEVELS, SEQ, Node, SyntaxAdapter, adapter_for, too_deep_line



@dataclass(frozen=True)
class SyntaxProblem:
    side: str  # "old" | "new"
    line: int
    message: str


@dataclass
class ConfigDiff:
    changes: list[ConfigChange] = field(default_factory=list)
    # the first syntax problem; the diff is skipped when the new side is broken
    error: Optional[SyntaxProblem] = None
    leaves: list[ConfigChange] = field(default_factory=list)  # scalar-level changes, for rules
    adapter: Optional[SyntaxAdapter] = None
    # (document label, doc kind, old document node, new document node)
    pairs: list[tuple[Optional[str], Optional[str], Optional[Node], Optional[Node]]] = field(default_factory=list)
    _indexes: dict = field(default_factory=dict, repr=False)
    _children: dict = field(default_factory=dict, repr=False)  # node_at's per-container listings

    def index(self, side: str = "new") -> dict[tuple[Optional[str], str], Node]:
        """Every node of one side by (document label, key path), built on first use: rules that
        compare fields (HPA min vs max, PDB vs replicas) look values up here."""
        if side not in self._indexes:
            docs = [(label, old if side == "old" else new) for label, _, old, new in self.pairs]
            self._indexes[side] = build_index(self.adapter, docs) if self.adapter else {}
        return self._indexes[side]

    def value(self, key: str, document: Optional[str] = None, side: str = "new") -> Any:
        """The value at a key path (MISSING when absent); small subtrees are materialised."""
        if side in self._indexes:
            node = self._indexes[side].get((document, key), MISSING)
        else:
            node = self.node_at(key, document, side)
        return MISSING if node is MISSING else Differ(self.adapter).value(node)

    def node_at(self, key: str, document: Optional[str] = None, side: str = "new") -> Any:
        """The node at a key path, found by walking down from the document: a rule that looks up a
        few sibling keys must not pay for indexing the whole file. Each container's children are
        listed once per side and reused by later lookups."""
        if self.adapter is None or not key:
            return MISSING
        node = next((old if side == "old" else new for label, _, old, new in self.pairs if label == document), None)
        if node is None:
            return MISSING
        for depth, (container, step) in enumerate(walk_steps(key)):
            if depth >= MAX_DEPTH:
                return MISSING
            slot = (side, document, container)
            children = self._children.get(slot)
            if children is None:
                children = self._children[slot] = self._list_children(node)
            node = children.get(step, MISSING)
            if node is MISSING:
                return MISSING
        return node

    def _list_children(self, node: Node) -> dict:
        kind = self.adapter.kind(node)
        out: dict = {}
        if kind == MAP:
            for k, _, v in self.adapter.map_items(node):
                out.setdefault(("key", k), v)  # the first of duplicate keys, as build_index does
        elif kind == SEQ:
            items = self.adapter.seq_items(node)
            for label, v in zip(item_labels(self.adapter, items), items):
                out.setdefault(("item", label), v)
        return out
    documents: list[dict] = field(default_factory=list)  # top-level values of the new side (k8s kinds)


def _k8s_identity(adapter: SyntaxAdapter, doc: Optional[Node]) -> Optional[str]:
    if adapter.kind(doc) != MAP:
        return None
    top = {k: v for k, _, v in adapter.map_items(doc)}
    kind = adapter.scalar(top.get("kind")) if "kind" in top else None
    if not isinstance(kind, str):
        return None
    name = namespace = None
    meta = top.get("metadata")
    if adapter.kind(meta) == MAP:
        fields = {k: v for k, _, v in adapter.map_items(meta)}
        name = adapter.scalar(fields.get("name")) if "name" in fields else None
        namespace = adapter.scalar(fields.get("namespace")) if "namespace" in fields else None
    parts = [kind] + ([str(namespace)] if namespace else []) + ([str(name)] if name is not None else [])
    return "/".join(parts)


def _summary(adapter: SyntaxAdapter, doc: Optional[Node]) -> dict:
    """apiVersion/kind of a document: enough for classification without a full parse."""
    out: dict = {}
    if adapter.kind(doc) == MAP:
        for k, _, v in adapter.map_items(doc):
            if k in ("apiVersion", "kind") and adapter.kind(v) == "scalar":
                out[k] = adapter.scalar(v)
    return out


def diff_config(language: str, old_text: Optional[str], new_text: Optional[str]) -> ConfigDiff:
    adapter = adapter_for(language)
    result = ConfigDiff(adapter=adapter)
    new_root, result.error = _parse("new", language, new_text)
    if result.error is not None:
        return result
    old_root, old_error = _parse("old", language, old_text)
    if old_error is not None:
        result.error = old_error  # a broken base says nothing trustworthy: treat everything as added
    old_docs = adapter.documents(old_root) if old_root is not None else []
    new_docs = adapter.documents(new_root) if new_root is not None else []
    result.documents = [_summary(adapter, d) for d in new_docs]
    for label, old_doc, new_doc in _pair_documents(adapter, old_docs, new_docs):
        doc_kind = _summary(adapter, new_doc if new_doc is not None else old_doc).get("kind")
        result.pairs.append((label, doc_kind if isinstance(doc_kind, str) else None, old_doc, new_doc))
        differ = Differ(adapter, label, result.pairs[-1][1])
        if old_doc is None and new_doc is None:
            continue
        if old_doc is None or new_doc is None:
            node = new_doc if new_doc is not None else old_doc
            op = "add" if new_doc is not None else "remove"
            if adapter.kind(node) == MAP:  # one change per top-level key: rules see e.g. `spec.replicas`
                for key, key_node, value in adapter.map_items(node):
                    if op == "add":
                        differ.emit(join("", key), op, None, value, line_of(key_node))
                    else:
                        differ.emit(join("", key), op, value, None, 1, line_of(key_node))
            elif node is not None:
                differ.emit("", op, old_doc, new_doc, line_of(new_doc) if new_doc else 1,
                            None if new_doc else line_of(old_doc))
        else:
            differ.diff("", old_doc, new_doc, line_of(new_doc))
        result.changes.extend(differ.changes)
        result.leaves.extend(differ.leaves)
    return result


def _parse(side: str, language: str, text: Optional[str]) -> tuple[Optional[Node], Optional[SyntaxProblem]]:
    if not text:
        return None, None
    deep = too_deep_line(language, text)
    if deep is not None:
        return None, SyntaxProblem(side, deep, f"nested deeper than {MAX_BLOCK_LEVELS} levels")
    root, problem = adapter_for(language).parse(text)
    if problem is not None:
        return None, SyntaxProblem(side, problem[0], problem[1])
    return root, None


def _pair_documents(adapter, old_docs, new_docs):
    multi = len(old_docs) > 1 or len(new_docs) > 1
    old_ids = [_k8s_identity(adapter, d) for d in old_docs]
    new_ids = [_k8s_identity(adapter, d) for d in new_docs]
    by_identity = (all(old_ids) and all(new_ids) and len(set(old_ids)) == len(old_ids)
                   and len(set(new_ids)) == len(new_ids))
    if by_identity:
        old_map = dict(zip(old_ids, old_docs))
        new_set = set(new_ids)
        for ident, doc in zip(new_ids, new_docs):
            yield (ident if multi else None), old_map.get(ident), doc
        for ident, doc in zip(old_ids, old_docs):
            if ident not in new_set:
                yield (ident if multi else None), doc, None
        return
    for n in range(max(len(old_docs), len(new_docs))):
        yield (f"document[{n}]" if multi else None), \
            old_docs[n] if n < len(old_docs) else None, new_docs[n] if n < len(new_docs) else None
