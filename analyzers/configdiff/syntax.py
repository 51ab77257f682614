"""tree-sitter front ends that present YAML and JSON as one generic tree of mappings,
sequences and scalars, with source lines. Parsed trees are cached by content hash so an
unchanged base is parsed once per process (the editor path re-asks for it on every keystroke)."""
from __future__ import annotations

import hashlib
import importlib
import json
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional

import tree_sitter
import tree_sitter_json
import tree_sitter_yaml

Node = tree_sitter.Node
MAP, SEQ, SCALAR, ALIAS, EMPTY = "map", "seq", "scalar", "alias", "empty"


class SyntaxAdapter:
    """Turns one language's concrete syntax into the generic view the differ walks.

    The differ reads nodes by duck type: `.text` (bytes; equal bytes = unchanged subtree),
    `.start_point`/`.end_point` (`.row`, `.column`, 0-based). tree-sitter nodes have these;
    formats parsed in Python build PlainNode, which has them too."""
    name = ""

    def __init__(self, language: Any):
        self.parser = tree_sitter.Parser(tree_sitter.Language(language))

    def parse(self, source: str) -> tuple[Optional[Any], Optional[tuple[int, str]]]:
        """(root, None), or (None, (line, message)) when the text does not parse."""
        root = TREES.parse(self.name, source.encode("utf-8", "surrogatepass")).root_node
        bad = first_error_line(root)
        if bad is not None:
            return None, (bad, f"{self.name.upper()} syntax error")
        return root, None

    def documents(self, root: Node) -> list[Optional[Node]]:
        raise NotImplementedError

    def unwrap(self, node: Optional[Node]) -> Optional[Node]:
        return node

    def kind(self, node: Optional[Node]) -> str:
        raise NotImplementedError

    def iter_items(self, node: Node) -> Iterator[tuple[str, Node, Optional[Node]]]:
        raise NotImplementedError

    def map_items(self, node: Node) -> list[tuple[str, Node, Optional[Node]]]:
        return list(self.iter_items(node))

    def seq_items(self, node: Node) -> list[Node]:
        raise NotImplementedError

    def scalar(self, node: Optional[Node]) -> Any:
        raise NotImplementedError


# ---------------------------------------------------------------- YAML
_YAML_WRAPPERS = {"block_node", "flow_node", "plain_scalar"}
_YAML_SKIP = {"anchor", "tag", "comment"}
_YAML_MAPS = {"block_mapping", "flow_mapping"}
_YAML_SEQS = {"block_sequence", "flow_sequence"}


class YamlAdapter(SyntaxAdapter):
    name = "yaml"

    def __init__(self) -> None:
        super().__init__(tree_sitter_yaml.language())

    def documents(self, root: Node) -> list[Optional[Node]]:
        docs = []
        for child in root.children:
            if child.type == "document":
                content = [c for c in child.children if c.type in ("block_node", "flow_node")]
                docs.append(content[0] if content else None)
        return docs

    def unwrap(self, node: Optional[Node]) -> Optional[Node]:
        return _unwrap_yaml(node)[0]

    def kind(self, node: Optional[Node]) -> str:
        node = self.unwrap(node)
        if node is None:
            return EMPTY
        t = node.type
        if t in _YAML_MAPS:
            return MAP
        if t in _YAML_SEQS:
            return SEQ
        if t == "alias":
            return ALIAS
        return SCALAR

    def iter_items(self, node: Node) -> Iterator[tuple[str, Node, Optional[Node]]]:
        for pair in self.unwrap(node).children:
            if pair.type not in ("block_mapping_pair", "flow_pair"):
                if pair.type == "flow_node":  # `{a}`: a key with no value
                    yield _text_key(self.scalar(pair)), pair, None
                continue
            key = pair.child_by_field_name("key")
            value = pair.child_by_field_name("value")
            yield (self.key_text(key) if key is not None else ""), key or pair, value

    def key_text(self, key: Node) -> str:
        # Nearly every key is a bare word: read it straight off the leaf (the hot path of a diff).
        if key.child_count == 1:
            plain = key.child(0)
            if plain.type == "plain_scalar":
                leaf = plain.child(0)
                if leaf is not None and leaf.type == "string_scalar":
                    return leaf.text.decode("utf-8", "replace")
        return _text_key(self.scalar(key))

    def seq_items(self, node: Node) -> list[Node]:
        node = self.unwrap(node)
        if node.type == "block_sequence":
            out = []
            for item in node.children:
                if item.type == "block_sequence_item":
                    content = [c for c in item.children if c.type in ("block_node", "flow_node")]
                    out.append(content[0] if content else item)
            return out
        return [c for c in node.children if c.type in ("flow_node", "flow_pair")]

    def scalar(self, node: Optional[Node]) -> Any:
        node, tag = _unwrap_yaml(node)
        if node is None:
            return None
        text = node.text.decode("utf-8", "replace")
        t = node.type
        if t == "alias":
            return text  # never expanded: `*name` stands for itself (no alias bombs)
        if tag == "!!str":
            t = "string_scalar"
        if t == "integer_scalar":
            return _yaml_int(text)
        if t == "float_scalar":
            return _yaml_float(text)
        if t == "boolean_scalar":
            return text.lower() == "true"
        if t == "null_scalar":
            return None
        if t == "double_quote_scalar":
            return _double_quoted(text)
        if t == "single_quote_scalar":
            return text[1:-1].replace("''", "'")
        if t == "block_scalar":
            return _block_scalar(text)
        return text


def _unwrap_yaml(node: Optional[Node]) -> tuple[Optional[Node], Optional[str]]:
    """Strip block/flow/plain wrappers, anchors and comments; return the content node and the
    tag (`!!str`) if one was given. None content means an empty value (`key:` or `&a` alone)."""
    tag = None
    while node is not None and node.type in _YAML_WRAPPERS:
        if node.child_count == 1:  # the common case, without building a child list
            child = node.child(0)
            if child.type in _YAML_SKIP:
                return None, tag
            node = child
            continue
        inner = None
        for c in node.children:
            if c.type == "tag":
                tag = c.text.decode("utf-8", "replace")
            elif c.type not in _YAML_SKIP and inner is None:
                inner = c
        node = inner
    return node, tag


def _yaml_int(text: str) -> Any:
    cleaned = text.replace("_", "")
    try:
        if cleaned.lower().startswith(("0x", "0o", "-0x", "+0x")):
            return int(cleaned, 0)
        return int(cleaned, 10)
    except ValueError:
        return text


def _yaml_float(text: str) -> Any:
    lowered = text.lower()
    if lowered in (".inf", "+.inf", "-.inf", ".nan"):
        return text  # JSON has no infinities: keep the YAML spelling
    try:
        return float(text)
    except ValueError:
        return text


def _double_quoted(text: str) -> str:
    try:
        return json.loads(text)
    except ValueError:
        return re.sub(r"\s*\n\s*", " ", text[1:-1])  # YAML-only escapes or folded lines


def _block_scalar(text: str) -> str:
    header, _, body = text.partition("\n")
    lines = body.split("\n")
    indent = min((len(l) - len(l.lstrip(" ")) for l in lines if l.strip()), default=0)
    lines = [l[indent:] for l in lines]
    joined = "\n".join(lines).rstrip("\n") + "\n"
    if header.lstrip().startswith(">"):
        joined = re.sub(r"(?<!\n)\n(?!\n)", " ", joined.rstrip("\n")) + "\n"
    return joined


def _text_key(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)


# ---------------------------------------------------------------- JSON
class JsonAdapter(SyntaxAdapter):
    name = "json"

    def __init__(self) -> None:
        super().__init__(tree_sitter_json.language())

    def documents(self, root: Node) -> list[Optional[Node]]:
        values = [c for c in root.children if c.is_named and c.type != "comment"]
        return values[:1] or [None]

    def kind(self, node: Optional[Node]) -> str:
        if node is None:
            return EMPTY
        return {"object": MAP, "array": SEQ}.get(node.type, SCALAR)

    def iter_items(self, node: Node) -> Iterator[tuple[str, Node, Optional[Node]]]:
        for pair in node.children:
            if pair.type == "pair":
                key = pair.child_by_field_name("key")
                yield _text_key(self.scalar(key)), key, pair.child_by_field_name("value")

    def seq_items(self, node: Node) -> list[Node]:
        return [c for c in node.children if c.is_named and c.type != "comment"]

    def scalar(self, node: Optional[Node]) -> Any:
        if node is None:
            return None
        text = node.text.decode("utf-8", "replace")
        try:
            return json.loads(text)
        except ValueError:
            return text


# ---------------------------------------------------------------- formats without tree-sitter
@dataclass(frozen=True)
class Point:
    row: int
    column: int


@dataclass(eq=False)
class PlainNode:
    """A node of a format parsed in Python (INI, .env, Dockerfile ...), shaped like a
    tree-sitter node for the differ. MAP items are (key, key node, value node); SEQ items nodes."""
    kind: str
    text: bytes
    start_point: Point
    end_point: Point
    value: Any = None
    items: list = field(default_factory=list)


class PlainAdapter(SyntaxAdapter):
    """Base for formats whose parser builds PlainNode trees (subclasses implement parse)."""

    def __init__(self) -> None:  # no tree-sitter grammar
        pass

    def documents(self, root: Any) -> list[Optional[Any]]:
        return [root]

    def kind(self, node: Optional[Any]) -> str:
        return EMPTY if node is None else node.kind

    def iter_items(self, node: Any) -> Iterator[tuple[str, Any, Optional[Any]]]:
        return iter(node.items)

    def seq_items(self, node: Any) -> list[Any]:
        return node.items

    def scalar(self, node: Optional[Any]) -> Any:
        return None if node is None else node.value


# language -> "module:Class"; imported on first use so a check pays only for what it reads
ADAPTERS: dict[str, str] = {
    "yaml": "analyzers.configdiff.syntax:YamlAdapter",
    "json": "analyzers.configdiff.syntax:JsonAdapter",
    "hcl": "analyzers.configdiff.hcl:HclAdapter",
    "toml": "analyzers.configdiff.toml:TomlAdapter",
    "ini": "analyzers.configdiff.flat:IniAdapter",
    "conf": "analyzers.configdiff.flat:ConfAdapter",  # .conf/.cfg: INI when the text is INI
    "properties": "analyzers.configdiff.flat:PropertiesAdapter",
    "dotenv": "analyzers.configdiff.flat:DotenvAdapter",
    "jsonc": "analyzers.configdiff.flat:JsoncAdapter",
    "dockerfile": "analyzers.configdiff.dockerfile:DockerfileAdapter",
}
_ADAPTERS: dict[str, SyntaxAdapter] = {}


def adapter_for(language: str) -> SyntaxAdapter:
    if language not in _ADAPTERS:
        module, _, cls = ADAPTERS[language].partition(":")
        _ADAPTERS[language] = getattr(importlib.import_module(module), cls)()
    return _ADAPTERS[language]


class TreeCache:
    """Parsed trees by (language, content hash), least recently used out first: the editor asks
    again on every keystroke, and an unchanged side of a diff is parsed once."""

    def __init__(self, parse_with: Callable[[str], tree_sitter.Parser], size: int = 128):
        self.parse_with = parse_with
        self.size = size
        self.entries: OrderedDict[tuple[str, bytes], tree_sitter.Tree] = OrderedDict()

    def parse(self, language: str, source: bytes) -> tree_sitter.Tree:
        key = (language, hashlib.blake2b(source, digest_size=16).digest())
        tree = self.entries.get(key)
        if tree is None:
            tree = self.parse_with(language).parse(source)
            self.entries[key] = tree
            if len(self.entries) > self.size:
                self.entries.popitem(last=False)
        else:
            self.entries.move_to_end(key)
        return tree


TREES = TreeCache(lambda language: adapter_for(language).parser)


# tree-sitter-yaml's scanner keeps its indentation stack in a fixed serialization buffer and
# crashes the process past ~250 open block levels; refuse such input before it reaches C.
MAX_BLOCK_LEVELS = 120
_DEEP_INDENT = re.compile(r"^[ \t?:-]{200,}", re.M)
_INDICATORS = re.compile(r"(?:[-?:](?:[ \t]+|$))+")


def too_deep_line(language: str, source: str) -> Optional[int]:
    """1-based line where block nesting passes MAX_BLOCK_LEVELS, or None. A line-prefix regex
    rules out nearly every file at C speed; only suspicious ones get the exact count."""
    if language != "yaml" or not _DEEP_INDENT.search(source):
        return None
    stack: list[int] = []
    for n, line in enumerate(source.split("\n"), 1):
        body = line.lstrip(" ")
        if not body or body.startswith("#"):
            continue
        column = len(line) - len(body)
        while stack and stack[-1] >= column:
            stack.pop()
        stack.append(column)
        m = _INDICATORS.match(body)  # "- - ? x": each indicator opens one more level
        if m:
            stack.extend(column + k + 1 for k in range(m.group(0).count("-") + m.group(0).count("?")))
        if len(stack) > MAX_BLOCK_LEVELS:
            return n
    return None


def first_error_line(root: Node) -> Optional[int]:
    """1-based line of the first syntax error, or None when the tree is clean."""
    if not root.has_error:
        return None
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            return node.start_point.row + 1
        stack.extend(reversed([c for c in node.children if c.has_error or c.is_error or c.is_missing]))
    return root.start_point.row + 1
