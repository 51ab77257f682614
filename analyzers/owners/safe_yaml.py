"""YAML from the analysed repository, read without trusting it: safe types only, no aliases
(an alias bomb expands a few hundred bytes into gigabytes), bounded nesting and size."""
from __future__ import annotations

from typing import Any, Optional

import yaml

MAX_BYTES = 1024 * 1024
MAX_DOCUMENTS = 100


class YamlProblem(Exception):
    def __init__(self, message: str, line: Optional[int] = None):
        super().__init__(message)
        self.message = message
        self.line = line


class _Loader(yaml.SafeLoader):
    def compose_node(self, parent, index):  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise YamlProblem("YAML aliases (*name) are not allowed in ownership files", event.start_mark.line + 1)
        return super().compose_node(parent, index)


def decode(data: bytes) -> tuple[str, bool]:
    """(text, was valid UTF-8). Invalid bytes become U+FFFD so the rest can still be read."""
    if len(data) > MAX_BYTES:
        raise YamlProblem(f"{len(data):,} bytes is over the {MAX_BYTES:,}-byte limit for ownership files")
    try:
        return data.decode("utf-8-sig"), True
    except UnicodeDecodeError:
        return data.decode("utf-8-sig", "replace"), False


def compose_all(text: str) -> list[yaml.Node]:
    """The documents of a YAML stream as nodes (positions kept), or YamlProblem."""
    loader = None
    try:
        loader = _Loader(text)  # the reader already refuses control characters here
        nodes: list[yaml.Node] = []
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                nodes.append(node)
            if len(nodes) > MAX_DOCUMENTS:
                raise YamlProblem(f"more than {MAX_DOCUMENTS} YAML documents")
        return nodes
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YamlProblem(f"invalid YAML: {exc.problem or exc.context}", mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(f"invalid YAML: {exc}") from None
    except RecursionError:
        raise YamlProblem("YAML nested too deeply") from None
    finally:
        if loader is not None:
            loader.dispose()


def to_python(node: yaml.Node) -> Any:
    """Plain Python data of one composed node (safe types only)."""
    loader = _Loader("")
    try:
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise YamlProblem(f"invalid YAML value: {getattr(exc, 'problem', None) or exc}",
                          mark.line + 1 if mark else None) from None
    except (RecursionError, TypeError, ValueError) as exc:
        raise YamlProblem(f"invalid YAML value: {exc}") from None
    finally:
        loader.dispose()


def key_line(node: Optional[yaml.Node], *keys: str) -> Optional[int]:
    """1-based line of the value at `keys` in a mapping node (of its key), or None."""
    line = None
    for key in keys:
        if not isinstance(node, yaml.MappingNode):
            return None
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                line, node = key_node.start_mark.line + 1, value_node
                break
        else:
            return None
    return line


def load_one(data: bytes) -> tuple[Optional[yaml.Node], Any, bool]:
    """(node, data, valid UTF-8) of a single-document file; an empty file is (None, None, ok)."""
    text, ok = decode(data)
    nodes = compose_all(text)
    if not nodes:
        return None, None, ok
    if len(nodes) > 1:
        raise YamlProblem("expected one YAML document, found several")
    return nodes[0], to_python(nodes[0]), ok
