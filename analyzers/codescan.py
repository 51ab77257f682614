"""Calls in the changed hunks of code files (Python, Go, TypeScript/JavaScript, shell).

Pure: the new text is parsed once with tree-sitter (trees cached by content hash, like
configdiff's TREES), queried only over the changed line ranges, and each call expression that
touches an added or changed line comes back as a `Call` record. Nothing is ever executed."""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Iterable, Optional

import tree_sitter

from .configdiff.syntax import TreeCache
from .model import FileChange, Hunk

Node = tree_sitter.Node

EXTENSIONS = {".py": "python", ".pyw": "python", ".go": "go", ".ts": "typescript", ".mts": "typescript",
              ".cts": "typescript", ".tsx": "tsx", ".js": "javascript", ".jsx": "javascript",
              ".mjs": "javascript", ".cjs": "javascript", ".sh": "bash", ".bash": "bash"}
# Policy `control_plane.code[].language` names -> the family of grammars they cover.
FAMILIES = {"python": "python", "py": "python", "go": "go", "golang": "go",
            "typescript": "js", "ts": "js", "tsx": "js", "javascript": "js", "js": "js", "node": "js",
            "shell": "bash", "bash": "bash", "sh": "bash"}
LANGUAGE_FAMILY = {"python": "python", "go": "go", "typescript": "js", "tsx": "js", "javascript": "js",
                   "bash": "bash"}

# One query per language: every call-like node, its callee and its arguments.
_CALLS = {
    "python": "(call function: (_) @callee arguments: (_) @args) @call",
    "go": "(call_expression function: (_) @callee arguments: (_) @args) @call",
    "js": """(call_expression function: (_) @callee arguments: (_) @args) @call
             (new_expression constructor: (_) @callee arguments: (_) @args) @call""",
    # a heredoc fed to a command (`kubectl apply -f - <<EOF`) is part of what the command does
    "bash": """(redirected_statement body: (command name: (command_name) @callee) @call) @span
               (command name: (command_name) @callee) @call @span""",
}
# Nodes whose interior lines belong to a nested function, not to the call around it.
_FUNCTIONS = {"func_literal", "arrow_function", "function_expression", "function", "generator_function",
              "class", "lambda"}
_STRINGS = {"string", "template_string", "interpreted_string_literal", "raw_string_literal", "raw_string"}
_NAME = re.compile(r"([A-Za-z_$][\w$]*)$")
_QUOTES = re.compile(r'^[rRbBuUfF]{0,2}("""|\'\'\'|"|\'|`)(.*)\1$', re.S)


@dataclass(frozen=True)
class Call:
    """A call that touches a changed line. `callee` is the called expression's source text with
    whitespace removed (`asg.update_auto_scaling_group`, `kubectl`); `args` the arguments' source
    (for shell: everything after the command name, heredoc included); `strings` the contents of
    the string literals among the arguments, in order (for shell: the command's words)."""
    line: int
    end_line: int
    callee: str
    args: str
    language: str
    kind: str = "call"  # call | new | command
    strings: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The last segment of the callee: `update_auto_scaling_group`, `Patch`, `kubectl`."""
        m = _NAME.search(self.callee)
        return m.group(1) if m else ""

    @property
    def receiver(self) -> str:
        """What the method is called on (`asg`, `self.client`), or "" for a plain function."""
        return self.callee[: len(self.callee) - len(self.name)].rstrip(".?:")


def language_for(path: str) -> Optional[str]:
    return EXTENSIONS.get(posixpath.splitext(path)[1].lower())


def changed_lines(hunks: Iterable[Hunk], side: str = "new") -> frozenset[int]:
    """New-side lines that were added or changed (pure deletions add none); with side="old", the
    old-side lines that were removed or changed."""
    if side == "old":
        return frozenset(n for h in hunks if h.removed > 0 for n in range(h.old_start, h.old_end + 1))
    return frozenset(n for h in hunks if h.added > 0 for n in range(h.start, h.end + 1))


def _side(change: FileChange, side: str) -> tuple[Optional[str], Optional[str], frozenset[int]]:
    """(language, text, changed lines) of one side of a file; no language when not scannable."""
    text = change.old_text if side == "old" else change.new_text
    path = (change.old_path or change.path) if side == "old" else change.path
    language = language_for(path)
    if language is None or text is None or change.skipped:
        return None, None, frozenset()
    return language, text, changed_lines(change.hunks, side)


# ---------------------------------------------------------------- parsing
_LANGUAGES: dict[str, tree_sitter.Language] = {}


def grammar(language: str) -> tree_sitter.Language:
    if language not in _LANGUAGES:
        if language == "python":
            import tree_sitter_python as mod
            raw = mod.language()
        elif language == "go":
            import tree_sitter_go as mod
            raw = mod.language()
        elif language in ("typescript", "tsx"):
            import tree_sitter_typescript as mod
            raw = mod.language_typescript() if language == "typescript" else mod.language_tsx()
        elif language == "javascript":
            import tree_sitter_javascript as mod
            raw = mod.language()
        elif language == "bash":
            import tree_sitter_bash as mod
            raw = mod.language()
        else:
            raise ValueError(f"no grammar for {language}")
        _LANGUAGES[language] = tree_sitter.Language(raw)
    return _LANGUAGES[language]


TREES = TreeCache(lambda language: tree_sitter.Parser(grammar(language)), size=64)
_QUERIES: dict[tuple[str, str], tree_sitter.Query] = {}


def query(language: str, source: str) -> tree_sitter.Query:
    key = (language, source)
    if key not in _QUERIES:
        _QUERIES[key] = tree_sitter.Query(grammar(language), source)
    return _QUERIES[key]


def tree(language: str, text: str) -> tree_sitter.Tree:
    return TREES.parse(language, text.encode("utf-8", "surrogatepass"))


def text_of(node: Optional[Node]) -> str:
    return node.text.decode("utf-8", "replace") if node is not None and node.text is not None else ""


def _ranges(lines: frozenset[int]) -> list[tuple[int, int]]:
    """Consecutive 1-based lines as (first, last) runs."""
    runs: list[tuple[int, int]] = []
    for n in sorted(lines):
        if runs and n == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    return runs


def changed_matches(language: str, text: str, lines: frozenset[int], source: str, anchor: str,
                    key: Optional[str] = None) -> list[dict[str, list[Node]]]:
    """Matches of `source` whose `anchor` capture spans a changed line, in text order (outer
    first). The query runs only over the changed runs (QueryCursor point range). Matches that
    share the node captured as `key` (default: the anchor) are reported once, the widest kept."""
    root = tree(language, text).root_node
    q = query(language, source)
    found: list[tuple[tuple[int, int], tuple[int, int], dict[str, list[Node]]]] = []
    for first, last in _ranges(lines):
        cursor = tree_sitter.QueryCursor(q)
        cursor.set_point_range((first - 1, 0), (last, 0))
        for _, caps in cursor.matches(root):
            span = caps.get(anchor, [None])[0]
            ident = caps.get(key or anchor, [None])[0]
            if span is None or ident is None or not _own_lines(span) & lines:
                continue
            found.append(((ident.start_byte, -span.end_byte), (ident.start_byte, ident.end_byte), caps))
    found.sort(key=lambda item: item[0])
    seen: set[tuple[int, int]] = set()
    out = []
    for _, ident, caps in found:
        if ident not in seen:
            seen.add(ident)
            out.append(caps)
    return out


def _own_lines(node: Node) -> set[int]:
    """1-based lines of `node`, minus the interior lines of functions nested inside it (a change
    inside a callback's body is not a change to the call that receives the callback)."""
    own = set(range(node.start_point.row + 1, node.end_point.row + 2))
    if len(own) < 3:
        return own
    stack = list(node.children)
    while stack:
        child = stack.pop()
        if child.type in _FUNCTIONS:
            own -= set(range(child.start_point.row + 2, child.end_point.row + 1))
            continue
        if child.end_point.row > child.start_point.row:
            stack.extend(child.children)
    return own


# ---------------------------------------------------------------- calls
def changed_calls(language: str, text: Optional[str], lines: frozenset[int]) -> list[Call]:
    """Every call expression (shell: command) that touches one of `lines`, in text order."""
    if not text or not lines or language not in LANGUAGE_FAMILY:
        return []
    family = LANGUAGE_FAMILY[language]
    out: list[Call] = []
    anchor = "span" if family == "bash" else "call"
    for caps in changed_matches(language, text, lines, _CALLS[family], anchor, key="call"):
        node, callee = caps["call"][0], caps["callee"][0]
        if family == "bash":
            out.append(_command(node, caps["span"][0], callee, language))
            continue
        args = caps["args"][0]
        out.append(Call(line=node.start_point.row + 1, end_line=node.end_point.row + 1,
                        callee=re.sub(r"\s+", "", text_of(callee)), args=text_of(args), language=language,
                        kind="new" if node.type == "new_expression" else "call",
                        strings=tuple(string_literals(args))))
    return out


def file_calls(change: FileChange, side: str = "new") -> list[Call]:
    """The changed calls of one side of a file; [] for files that are not code we read."""
    language, text, lines = _side(change, side)
    return changed_calls(language, text, lines) if language else []


def _command(node: Node, end: Node, name: Node, language: str) -> Call:
    source = end.text or b""
    args = source[name.end_byte - end.start_byte:].decode("utf-8", "replace")
    line = text_of(node)  # the command itself, without the heredoc body
    words = shell_words(line[line.find(text_of(name)):])
    return Call(line=node.start_point.row + 1, end_line=end.end_point.row + 1, callee=text_of(name),
                args=args, language=language, kind="command", strings=tuple(words))


def string_literals(node: Node) -> Iterable[str]:
    """Contents of the string literals under `node`, outermost only, quotes and prefixes removed."""
    stack = [node]
    found: list[Node] = []
    while stack:
        current = stack.pop()
        if current.type in _STRINGS:
            found.append(current)
            continue
        if current.type in _FUNCTIONS:
            continue
        stack.extend(reversed(current.children))
    for literal in found:
        raw = text_of(literal)
        m = _QUOTES.match(raw)
        yield m.group(2) if m else raw


def shell_words(command: str) -> list[str]:
    """A shell command line split into words, quotes removed; never evaluated."""
    flat = re.sub(r"\\\r?\n", " ", command)
    words = re.findall(r"""'[^']*'|"(?:[^"\\]|\\.)*"|[^\s'"]+(?:'[^']*'|"(?:[^"\\]|\\.)*"|[^\s'"]*)*""", flat)
    return [w[1:-1] if len(w) > 1 and w[0] == w[-1] and w[0] in "'\"" else w for w in words]


# ---------------------------------------------------------------- config reads (CODE-002)
@dataclass(frozen=True)
class ConfigRead:
    """A read of parsed config (or the environment) in a changed line that fails hard when the
    value is missing: `how` is subscript | env | chain | ignored-error | unchecked-error."""
    line: int
    end_line: int
    text: str
    how: str
    source: str  # the parser or container involved: json.load, os.environ, strconv.Atoi


PY_PARSERS = {"json.load", "json.loads", "yaml.safe_load", "yaml.load", "yaml.full_load", "yaml.unsafe_load",
              "toml.load", "toml.loads", "tomllib.load", "tomllib.loads", "tomli.load", "tomli.loads",
              "ujson.load", "ujson.loads", "orjson.loads"}
JS_PARSERS = {"JSON.parse", "JSON5.parse", "yaml.load", "yaml.parse", "YAML.parse", "jsYaml.load", "jsyaml.load",
              "toml.parse", "TOML.parse"}
GO_CONFIG_PARSERS = {"json.Unmarshal", "yaml.Unmarshal", "toml.Unmarshal", "toml.Decode", "toml.DecodeFile",
                     "viper.ReadInConfig", "viper.Unmarshal", "os.ReadFile", "ioutil.ReadFile", "hclsimple.DecodeFile"}
GO_VALUE_PARSERS = {"strconv.Atoi", "strconv.ParseInt", "strconv.ParseUint", "strconv.ParseFloat", "strconv.ParseBool",
                    "time.ParseDuration"}
# Parsers that read text from anywhere (an HTTP body as often as a config file) count only when
# the text or the variable looks like configuration.
_GENERIC_PARSERS = {"json.loads", "ujson.loads", "orjson.loads", "JSON.parse", "JSON5.parse"}
_CONFIGISH = re.compile(r"(?i)read|environ|getenv|process\.env|conf|cfg|setting")
_GO_DECODE = re.compile(r"\.NewDecoder\(.*\)\.Decode$")
_PY_ASSIGN = "(assignment left: (identifier) @name right: (call function: (_) @fn))"
_JS_ASSIGN = """(variable_declarator name: (identifier) @name value: (_) @value)
                (assignment_expression left: (identifier) @name right: (_) @value)"""
_JS_WRAPPERS = {"parenthesized_expression", "as_expression", "satisfies_expression", "non_null_expression",
                "await_expression", "type_assertion"}
_GO_ONE_CALL = "right: (expression_list . (call_expression function: (_) @fn) .)"
_GO_ASSIGN = f"""[(short_var_declaration left: (expression_list) @left {_GO_ONE_CALL})
                  (assignment_statement left: (expression_list) @left {_GO_ONE_CALL})] @stmt
                 (expression_statement (call_expression function: (_) @fn)) @stmt"""


def go_parser(callee: str) -> Optional[str]:
    """The config/value parser a Go callee names, or None."""
    if callee in GO_CONFIG_PARSERS or callee in GO_VALUE_PARSERS:
        return callee
    return "Decoder.Decode" if _GO_DECODE.search(callee) else None


def config_reads(language: str, text: Optional[str], lines: frozenset[int]) -> list[ConfigRead]:
    if not text or not lines:
        return []
    family = LANGUAGE_FAMILY.get(language)
    if family == "python":
        return list(_py_reads(text, lines))
    if family == "js":
        return list(_js_reads(language, text, lines))
    if family == "go":
        return list(_go_reads(text, lines))
    return []


def file_config_reads(change: FileChange, side: str = "new") -> list[ConfigRead]:
    language, text, lines = _side(change, side)
    return config_reads(language, text, lines) if language else []


def _configish(fn: str, call: Node, name: str = "") -> bool:
    args = text_of(call.child_by_field_name("arguments"))
    return fn not in _GENERIC_PARSERS or bool(_CONFIGISH.search(args + " " + name))


def _read(node: Node, how: str, source: str) -> ConfigRead:
    return ConfigRead(node.start_point.row + 1, node.end_point.row + 1, text_of(node), how, source)


def _all(language: str, text: str, source: str) -> list[dict[str, list[Node]]]:
    return [caps for _, caps in tree_sitter.QueryCursor(query(language, source)).matches(tree(language, text).root_node)]


def _guarded(node: Node) -> bool:
    """Inside a try block, or the target of an assignment/del: not a fragile read."""
    parent, child = node.parent, node
    if parent is not None and parent.type in ("assignment", "augmented_assignment", "assignment_expression",
                                              "augmented_assignment_expression") \
            and parent.child_by_field_name("left") == child:
        return True
    while parent is not None:
        if parent.type in ("try_statement", "delete_statement"):
            return True
        parent = parent.parent
    return False


def _chain_top(node: Node, types: tuple[str, ...]) -> tuple[Node, int]:
    """The outermost `a[...]...` / `a.b.c` chain around `node`, and how many accesses it has."""
    depth = 1
    while node.parent is not None and node.parent.type in types \
            and node.parent.child_by_field_name("object" if types[0] != "subscript" else "value") == node:
        node, depth = node.parent, depth + 1
    return node, depth


def _py_reads(text: str, lines: frozenset[int]) -> Iterable[ConfigRead]:
    names = {text_of(c["name"][0]) for c in _all("python", text, _PY_ASSIGN)
             if text_of(c["fn"][0]) in PY_PARSERS and _configish(text_of(c["fn"][0]), c["fn"][0].parent,
                                                                 text_of(c["name"][0]))}
    for caps in changed_matches("python", text, lines, "(subscript value: (_) @value) @sub", "sub"):
        sub, value = caps["sub"][0], caps["value"][0]
        top, _ = _chain_top(sub, ("subscript",))  # `cfg["a"]["b"]` is reported once, whole
        if _guarded(top):
            continue
        source = text_of(value.child_by_field_name("function")) if value.type == "call" else text_of(value)
        if value.type == "call" and source in PY_PARSERS and _configish(source, value):
            yield _read(top, "subscript", source)
        elif source == "os.environ":
            yield _read(top, "env", source)
        elif value.type == "identifier" and source in names:
            yield _read(top, "subscript", source)


def _unwrap(node: Node) -> Node:
    while node.type in _JS_WRAPPERS and node.named_child_count:
        node = node.named_children[-1] if node.type == "await_expression" else node.named_children[0]
    return node


def _js_reads(language: str, text: str, lines: frozenset[int]) -> Iterable[ConfigRead]:
    def parsed(node: Node, name: str = "") -> Optional[str]:
        node = _unwrap(node)
        fn = re.sub(r"\s+", "", text_of(node.child_by_field_name("function"))) if node.type == "call_expression" else ""
        return fn if fn in JS_PARSERS and _configish(fn, node, name) else None

    names = {text_of(c["name"][0]) for c in _all(language, text, _JS_ASSIGN)
             if parsed(c["value"][0], text_of(c["name"][0]))}
    access = "[(member_expression object: (_) @obj) (subscript_expression object: (_) @obj)] @access"
    for caps in changed_matches(language, text, lines, access, "access"):
        node, obj = caps["access"][0], caps["obj"][0]
        source = parsed(obj) or (text_of(obj) if obj.type == "identifier" and text_of(obj) in names else None)
        if source is None:
            continue
        top, depth = _chain_top(node, ("member_expression", "subscript_expression"))
        if depth >= 2 and "?." not in text_of(top) and not _guarded(top):
            yield _read(top, "chain", source)


def _go_reads(text: str, lines: frozenset[int]) -> Iterable[ConfigRead]:
    for caps in changed_matches("go", text, lines, _GO_ASSIGN, "stmt"):
        stmt, fn = caps["stmt"][0], re.sub(r"\s+", "", text_of(caps["fn"][0]))
        source = go_parser(fn)
        if source is None:
            continue
        if "left" not in caps:  # `json.Unmarshal(b, &cfg)` as a statement: the error is dropped
            if source not in GO_VALUE_PARSERS:
                yield _read(stmt, "ignored-error", source)
            continue
        names = [text_of(n) for n in caps["left"][0].named_children]
        if names[-1] == "_":
            yield _read(stmt, "ignored-error", source)
        elif re.fullmatch(r"err|\w*Err", names[-1]):
            following = stmt.next_named_sibling
            while following is not None and following.type == "comment":
                following = following.next_named_sibling
            if following is None or not re.search(rf"\b{re.escape(names[-1])}\b", text_of(following)):
                yield _read(stmt, "unchecked-error", source)
