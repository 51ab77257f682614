"""TOML as the generic map/seq/scalar tree: `[a.b]` tables and dotted keys become nested maps,
`[[x]]` arrays of tables become lists (so items are matched by `name`), inline tables maps.

Tables may be spread over the file (`[server]` … `[server.tls]`), so the table structure is
assembled up front into PlainNodes whose `.text` joins the source of everything that contributed
to them (equal text = equal content, so unchanged tables are skipped). Values stay tree-sitter
nodes and are decoded only when the differ asks."""
from __future__ import annotations

import hashlib
import tomllib
from collections import OrderedDict
from typing import Any, Iterator, Optional

import tree_sitter_toml

from .syntax import EMPTY, MAP, SCALAR, SEQ, Node, PlainNode, Point, SyntaxAdapter

_DATES = {"offset_date_time", "local_date_time", "local_date", "local_time"}
_KEYS = {"bare_key", "quoted_key", "dotted_key"}


class _Table:
    """A table under construction: ordered entries, plus the source that built it."""
    __slots__ = ("entries", "texts", "start", "end")

    def __init__(self) -> None:
        self.entries: dict[str, list] = {}  # key -> [key node, value: _Table | _Array | Node]
        self.texts: list[bytes] = []
        self.start: Optional[Point] = None
        self.end: Optional[Point] = None

    def touch(self, node: Node) -> None:
        self.texts.append(node.text)
        start, end = Point(*node.start_point), Point(*node.end_point)
        if self.start is None or (start.row, start.column) < (self.start.row, self.start.column):
            self.start = start
        if self.end is None or (end.row, end.column) > (self.end.row, self.end.column):
            self.end = end


class _Array:
    __slots__ = ("tables",)

    def __init__(self) -> None:
        self.tables: list[_Table] = []


class TomlAdapter(SyntaxAdapter):
    name = "toml"

    def __init__(self) -> None:
        super().__init__(tree_sitter_toml.language())
        self._built: OrderedDict[bytes, PlainNode] = OrderedDict()

    def documents(self, root: Node) -> list[Optional[Any]]:
        # Built trees are cached by content, like parse trees: the base side is asked for again
        # on every keystroke in the editor.
        key = hashlib.blake2b(root.text, digest_size=16).digest()
        built = self._built.get(key)
        if built is None:
            built = self._built[key] = _freeze(_document(root))
            if len(self._built) > 64:
                self._built.popitem(last=False)
        return [built]

    def kind(self, node: Optional[Any]) -> str:
        if node is None:
            return EMPTY
        if isinstance(node, PlainNode):
            return node.kind
        return MAP if node.type == "inline_table" else SEQ if node.type == "array" else SCALAR

    def iter_items(self, node: Any) -> Iterator[tuple[str, Any, Optional[Any]]]:
        if isinstance(node, PlainNode):
            return iter(node.items)
        table = _Table()
        table.touch(node)
        for pair in node.children:
            if pair.type == "pair":
                _add_pair(table, pair)
        return iter(_freeze(table).items)

    def seq_items(self, node: Any) -> list[Any]:
        if isinstance(node, PlainNode):
            return node.items
        return [c for c in node.children if c.is_named and c.type != "comment"]

    def scalar(self, node: Optional[Any]) -> Any:
        if node is None:
            return None
        if isinstance(node, PlainNode):
            return node.value
        text = node.text.decode("utf-8", "replace")
        if node.type in _DATES:
            return text
        if node.type == "float" and text.lstrip("+-") in ("inf", "nan"):
            return text  # JSON has no infinities: keep the TOML spelling
        return _literal(text)


def _literal(text: str) -> Any:
    """A TOML scalar read by the standard library's TOML reader (nothing is evaluated)."""
    try:
        return tomllib.loads("v = " + text)["v"]
    except (tomllib.TOMLDecodeError, KeyError):
        return text


def _key_parts(key: Node) -> list[tuple[str, Node]]:
    """`a."b.c".d` -> [("a", node), ("b.c", node), ("d", node)]."""
    out, stack = [], [key]
    while stack:
        n = stack.pop()
        if n.type == "dotted_key":
            stack.extend(reversed([c for c in n.children if c.type in _KEYS]))
        elif n.type == "quoted_key":
            value = _literal(n.text.decode("utf-8", "replace"))
            out.append((str(value), n))
        else:
            out.append((n.text.decode("utf-8", "replace"), n))
    return out


def _descend(table: _Table, parts: list[tuple[str, Node]], source: Node) -> _Table:
    """Walk (creating) sub-tables; through an array of tables, into its last element. Every
    table entered records `source`, so its text changes whenever something inside it does."""
    for name, key_node in parts:
        entry = table.entries.get(name)
        if entry is None or not isinstance(entry[1], (_Table, _Array)):
            entry = table.entries[name] = [key_node, _Table()]
        value = entry[1]
        if isinstance(value, _Array):
            if not value.tables:
                value.tables.append(_Table())
            value = value.tables[-1]
        table = value
        table.touch(source)
    return table


def _add_pair(table: _Table, pair: Node) -> None:
    key = next((c for c in pair.children if c.type in _KEYS), None)
    if key is None:
        return
    value = next((c for c in pair.children if c.is_named and c.type not in _KEYS and c.type != "comment"), None)
    parts = _key_parts(key)
    target = _descend(table, parts[:-1], pair) if len(parts) > 1 else table
    target.entries[parts[-1][0]] = [parts[-1][1], value]


def _document(root: Node) -> _Table:
    doc = _Table()
    doc.touch(root)
    current = doc
    for child in root.children:
        if child.type == "pair":
            _add_pair(current, child)
        elif child.type in ("table", "table_array_element"):
            key = next((c for c in child.children if c.type in _KEYS), None)
            if key is None:
                continue
            parts = _key_parts(key)
            parent = _descend(doc, parts[:-1], child)
            name, key_node = parts[-1]
            if child.type == "table":
                current = _descend(parent, [(name, key_node)], child)
            else:
                entry = parent.entries.get(name)
                if entry is None or not isinstance(entry[1], _Array):
                    entry = parent.entries[name] = [key_node, _Array()]
                current = _Table()
                entry[1].tables.append(current)
                current.touch(child)
            for pair in child.children:
                if pair.type == "pair":
                    _add_pair(current, pair)
    return doc


def _freeze(table: _Table) -> PlainNode:
    items = [(name, key_node, _freeze_value(value)) for name, (key_node, value) in table.entries.items()]
    start = table.start or Point(0, 0)
    return PlainNode(MAP, b"\n".join(table.texts), start, table.end or start, items=items)


def _freeze_value(value: Any) -> Any:
    if isinstance(value, _Table):
        return _freeze(value)
    if isinstance(value, _Array):
        tables = [_freeze(t) for t in value.tables]
        start = tables[0].start_point if tables else Point(0, 0)
        end = tables[-1].end_point if tables else start
        return PlainNode(SEQ, b"\n".join(t.text for t in tables), start, end, items=tables)
    return value
