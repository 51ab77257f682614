"""Terraform / HCL (.tf, .tfvars, .hcl) as the generic map/seq/scalar tree the differ walks.

Blocks become nested maps keyed by their type and labels (`resource.aws_instance.web.ami`,
`module.vpc.source`, `terraform.backend.s3.bucket`); blocks that share a type and labels become a
list (`ingress[0]`, or `provider.aws[...]` for aliased providers); top-level `locals` and
`terraform` blocks are merged. Label levels are synthetic PlainNodes whose `.text` joins the
source of the blocks they group, so byte-identical groups are still skipped unwalked; block
bodies and values stay tree-sitter nodes and are read lazily.

Values: literals as values, tuples as lists, objects as maps; every other expression (reference,
call, conditional, for, template with interpolation, heredoc) as its source text, with spacing
normalised so `terraform fmt` re-alignment is not a change. Nothing is ever evaluated."""
from __future__ import annotations

import re
from collections import OrderedDict
from typing import Any, Iterator, Optional

import tree_sitter_hcl

from .syntax import EMPTY, MAP, SCALAR, SEQ, Node, PlainNode, Point, SyntaxAdapter

MERGED_TOP_BLOCKS = ("locals", "terraform")   # several blocks read as one map
_WRAPPERS = {"expression", "literal_value", "collection_value", "template_expr", "operation"}
_ATOMIC = {"string_lit", "quoted_template", "heredoc_template"}  # kept verbatim in expression text
_ESCAPES = re.compile(r'\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)|\$\$\{|%%\{', re.S)
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
_KEYWORDS = {"for", "in", "if", "else", "endif", "endfor"}


class HclAdapter(SyntaxAdapter):
    name = "hcl"

    def __init__(self) -> None:
        super().__init__(tree_sitter_hcl.language())
        self._tops: OrderedDict[int, tuple[Node, list]] = OrderedDict()

    def documents(self, root: Node) -> list[Optional[Node]]:
        return [root]

    def kind(self, node: Optional[Any]) -> str:
        if node is None:
            return EMPTY
        if isinstance(node, PlainNode):
            return node.kind
        if node.type in ("config_file", "body", "block"):
            return MAP
        t = _core(node).type
        return MAP if t == "object" else SEQ if t == "tuple" else SCALAR

    def iter_items(self, node: Any) -> Iterator[tuple[str, Any, Optional[Any]]]:
        if isinstance(node, PlainNode):
            if node.value is not None and not node.items:  # a block: its body, read on first use
                node.items = _body_items(_bodies(node.value), top=False)
            return iter(node.items)
        if node.type == "config_file":
            # The file's top level is asked for several times per diff (document identity, the
            # walk, the index) and the base tree is reused across keystrokes: group it once.
            cached = self._tops.get(node.id)
            if cached is None or cached[0] is not node and cached[0].text != node.text:
                cached = self._tops[node.id] = (node, _body_items(_bodies(node), top=True))
                if len(self._tops) > 64:
                    self._tops.popitem(last=False)
            return iter(cached[1])
        if node.type in ("block", "body"):
            return iter(_body_items([node] if node.type == "body" else _bodies(node), top=False))
        return _object_items(_core(node))

    def seq_items(self, node: Any) -> list[Any]:
        if isinstance(node, PlainNode):
            return node.items
        return [c for c in _core(node).children if c.type == "expression"]

    def scalar(self, node: Optional[Any]) -> Any:
        if node is None:
            return None
        if isinstance(node, PlainNode):
            return node.value
        return _scalar(_core(node))

    def identity(self, item: Any) -> Optional[str]:
        """`alias=west` for a provider block among several of one provider (`default` for the
        one without an alias); the differ asks the adapter before its generic name/id/key."""
        block = item.value if isinstance(item, PlainNode) else None
        if block is None or block.type != "block" or _block_head(block)[0] != "provider":
            return None
        for key, _, value in _body_items(_bodies(block), top=False):
            if key == "alias":
                return f"alias={self.scalar(value)}"
        return "alias=default"


# ---------------------------------------------------------------- blocks and bodies
def _bodies(node: Node) -> list[Node]:
    return [c for c in node.children if c.type == "body"]


def _block_head(block: Node) -> tuple[str, list[tuple[str, Node]]]:
    """(type, [(label, label node)]) of a block."""
    kind, labels = "", []
    for c in block.children:
        if c.type == "block_start":
            break
        if c.type == "identifier" and not kind:
            kind = _text(c)
        elif c.type in ("string_lit", "identifier"):
            labels.append((_string(c) if c.type == "string_lit" else _text(c), c))
    return kind, labels


def _block_node(block: Node) -> PlainNode:
    """A block as a map value. Its text is its body, so a block renamed with an unchanged body
    is one `rename`, and an unchanged block is skipped."""
    body = _bodies(block)
    return PlainNode(MAP, body[0].text if body else b"", block.start_point, block.end_point, value=block)


def _body_items(bodies: list[Node], top: bool) -> list[tuple[str, Any, Optional[Any]]]:
    """Attributes as they are; blocks grouped into a trie by (type, labels...), in source order."""
    entries: dict[str, tuple] = {}  # key -> ("attr", ident, value) | ("merged", ident, blocks) | ("trie", ident, entry)
    for body in bodies:
        for child in body.children:
            if child.type == "attribute":
                ident = child.child(0)
                value = next((c for c in child.children if c.type == "expression"), None)
                name = _text(ident)
                if entries.get(name, ("attr",))[0] == "attr":
                    entries[name] = ("attr", ident, value)  # a repeated attribute: the last one counts
            elif child.type == "block":
                kind, labels = _block_head(child)
                if top and kind in MERGED_TOP_BLOCKS and not labels:
                    found = entries.setdefault(kind, ("merged", child.child(0), []))
                    if found[0] == "merged":
                        found[2].append(child)
                    continue
                found = entries.setdefault(kind, ("trie", child.child(0), [child.child(0), [], {}]))
                if found[0] != "trie":
                    continue
                entry = found[2]
                for label, node in labels:  # trie entry: [key node, blocks ending here, children]
                    entry = entry[2].setdefault(label, [node, [], {}])
                entry[1].append(child)
    out: list[tuple[str, Any, Optional[Any]]] = []
    for key, (what, ident, data) in entries.items():
        if what == "attr":
            out.append((key, ident, data))
        elif what == "merged":
            out.append((key, ident, _block_node(data[0]) if len(data) == 1 else
                        _plain(MAP, _body_items([b for blk in data for b in _bodies(blk)], top=False), data)))
        else:
            out.append((key, ident, _group(data)))
    return out


def _group(entry: list) -> PlainNode:
    """A trie level as a map of labels, a list of same-labelled blocks, or one block."""
    _, direct, children = entry
    if not children:
        if len(direct) == 1:
            return _block_node(direct[0])
        return _plain(SEQ, [_block_node(b) for b in direct], direct)
    items = [(label, sub[0], _group(sub)) for label, sub in children.items()]
    if direct:  # `x {}` beside `x "label" {}`: rare; keep the unlabelled ones reachable
        items.append(("_", direct[0].child(0), _group([None, direct, {}])))
    return _plain(MAP, items, _all_blocks(entry))


def _all_blocks(entry: list) -> list[Node]:
    out, stack = [], [entry]
    while stack:
        _, direct, children = stack.pop()
        out.extend(direct)
        stack.extend(children.values())
    return sorted(out, key=lambda b: b.start_byte)


def _plain(kind: str, items: list, blocks: list[Node]) -> PlainNode:
    blocks = sorted(blocks, key=lambda b: b.start_byte)
    first, last = blocks[0], blocks[-1]
    return PlainNode(kind, b"\n".join(b.text for b in blocks), Point(*first.start_point),
                     Point(*last.end_point), items=items)


# ---------------------------------------------------------------- expressions
def _core(node: Node) -> Node:
    """Strip expression wrappers and parentheses down to the node that decides the value."""
    while node.type in _WRAPPERS:
        kids = [c for c in node.children if c.type != "comment"]
        if len(kids) == 1:
            node = kids[0]
        elif node.type == "expression" and len(kids) == 3 and kids[0].type == "(" and kids[2].type == ")":
            node = kids[1]
        else:
            break
    return node


def _object_items(obj: Node) -> Iterator[tuple[str, Node, Optional[Node]]]:
    for elem in obj.children:
        if elem.type == "object_elem":
            key, val = elem.child_by_field_name("key"), elem.child_by_field_name("val")
            yield _key_text(key), key, val


def _key_text(key: Node) -> str:
    core = _core(key)
    if core.type == "variable_expr" and core.child_count == 1:
        return _text(core)
    value = _scalar(core)
    return value if isinstance(value, str) else _text_of_value(value)


def _text_of_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)


def _scalar(node: Node) -> Any:
    t = node.type
    if t == "numeric_lit":
        return _number(_text(node))
    if t == "bool_lit":
        return _text(node) == "true"
    if t == "null_lit":
        return None
    if t == "string_lit":
        return _string(node)
    if t == "quoted_template":  # interpolation: the template as written, without its quotes
        return _text(node)[1:-1]
    if t == "heredoc_template":
        return _text(node)
    if t == "unary_operation" and node.child_count == 2 and node.child(0).type == "-":
        inner = _core(node.child(1))
        if inner.type == "numeric_lit":
            return -_number(_text(inner))
    return expression_text(node)


def _number(text: str) -> Any:
    try:
        return int(text) if re.fullmatch(r"\d+", text) else float(text)
    except ValueError:
        return text


def _string(node: Node) -> str:
    """A quoted literal without interpolation, escapes decoded."""
    raw = "".join(_text(c) for c in node.children if c.type not in ("quoted_template_start", "quoted_template_end"))
    return _ESCAPES.sub(_unescape, raw)


def _unescape(m: re.Match) -> str:
    whole = m.group(0)
    if whole == "$${":
        return "${"
    if whole == "%%{":
        return "%{"
    code = m.group(1)
    if code[0] in "uU" and len(code) > 1:
        try:
            return chr(int(code[1:], 16))
        except ValueError:
            return whole
    return _SIMPLE_ESCAPES.get(code, whole)


def expression_text(node: Node) -> str:
    """The expression's source with canonical spacing: a function of its tokens only, so
    whitespace, line breaks and comments inside it never read as a change."""
    tokens: list[tuple[str, bool]] = []  # (text, is a unary operator)
    stack = [(node, False)]
    while stack:
        n, unary = stack.pop()
        if n.type == "comment":
            continue
        if n.child_count == 0 or n.type in _ATOMIC:
            tokens.append((_text(n), unary))
            continue
        kids = n.children
        is_unary = n.type == "unary_operation"
        stack.extend((c, is_unary and i == 0) for i, c in reversed(list(enumerate(kids))))
    out: list[str] = []
    prev: Optional[tuple[str, bool]] = None
    for tok in tokens:
        if prev is not None and _space_between(prev, tok[0]):
            out.append(" ")
        out.append(tok[0])
        prev = tok
    return "".join(out)


def _space_between(prev: tuple[str, bool], tok: str) -> bool:
    p, p_unary = prev
    if p_unary or p in ("(", "[", ".", "!", "${", "%{"):
        return False
    if tok in (")", "]", ",", ".", "...", ".*") or (tok == "}" and p == "{"):
        return False
    operand = p not in _KEYWORDS and (re.search(r"[\w\"\)\]]$", p) is not None or p in (".*", "[*]"))
    if tok in ("(", "[", "[*]") and operand:
        return False  # call, index, splat
    return True


def _text(node: Node) -> str:
    return node.text.decode("utf-8", "replace")
