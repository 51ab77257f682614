"""Small Python parsers for flat config formats: INI (.ini/.cfg/.conf), Java .properties and
.env. Each builds PlainNode trees for the differ; nothing is evaluated or expanded. Also JSONC
(JSON with comments and trailing commas), which reuses the tree-sitter JSON front end.

Choices, shared by the three flat formats:
- Values stay strings, as their own loaders give them (configparser, java.util.Properties,
  python-dotenv); rules read numbers with util.number(). No type guessing: `"3"` stays `"3"`.
- A duplicate key: the last one wins, as in those loaders. A repeated INI section is merged.
- A leaf node's text is the exact source bytes of its value, so equal bytes mean equal value;
  a section's text is its source (its segments joined, when a section is repeated).
- Columns count UTF-8 bytes, like tree-sitter; a BOM is skipped (it stays in column counts)."""
from __future__ import annotations

import bisect
import re
from collections import OrderedDict
from typing import Any, Optional

from .syntax import MAP, SCALAR, JsonAdapter, PlainAdapter, PlainNode, Point


class FlatError(Exception):
    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line, self.message = line, message


class Source:
    """The text, its lines (without line ends), and offset -> Point conversion."""

    def __init__(self, text: str):
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.body = 1 if text.startswith("\ufeff") else 0  # first offset after a BOM

    def rows(self):
        """(row, start offset, line content without BOM or CR/LF)."""
        for row, start in enumerate(self.starts):
            end = self.starts[row + 1] - 1 if row + 1 < len(self.starts) else len(self.text)
            if row == 0:
                start = self.body
            line = self.text[start:end]
            yield row, start, line[:-1] if line.endswith("\r") else line

    def point(self, offset: int) -> Point:
        row = bisect.bisect_right(self.starts, offset) - 1
        head = self.text[self.starts[row]:offset]
        return Point(row, len(head) if head.isascii() else len(head.encode("utf-8", "surrogatepass")))

    def node(self, kind: str, start: int, end: int, value: Any = None, items: Optional[list] = None,
             text: Optional[bytes] = None) -> PlainNode:
        raw = self.text[start:end].encode("utf-8", "surrogatepass") if text is None else text
        return PlainNode(kind, raw, self.point(start), self.point(end), value, items or [])

    def empty_root(self, items: list) -> PlainNode:
        return self.node(MAP, 0, len(self.text), items=items)


def _items(entries: "OrderedDict[str, tuple]") -> list:
    return [(k, kn, vn) for k, (kn, vn) in entries.items()]


def _put(entries: "OrderedDict[str, tuple]", key: str, key_node, value_node) -> None:
    entries.pop(key, None)  # last wins, and sits where the reader last saw it
    entries[key] = (key_node, value_node)


# ---------------------------------------------------------------- INI
_QUOTES = ("\"", "'")


def _ini_value(raw: str) -> tuple[str, int]:
    """(value, length of its source in raw.strip()). Drops an inline ` ;` / ` #` comment
    (outside quotes) and one pair of enclosing quotes. configparser keeps both by default; PHP,
    git and most INI readers drop them, and reading `x = "a"` like `x = a` keeps a quoting or
    comment edit from showing as a value change."""
    value = raw.strip()
    if value[:1] in _QUOTES:
        close = value.find(value[0], 1)
        if close > 0 and (close == len(value) - 1 or re.match(r"\s+[;#]", value[close + 1:])):
            return value[1:close], close + 1
    m = re.search(r"\s[;#]", value)
    kept = (value[:m.start()] if m else value).rstrip()
    return kept, len(kept)


class IniAdapter(PlainAdapter):
    """INI: `[section]` headers, `key = value` and `key: value`, `;`/`#` comment lines, values
    continued on lines indented deeper than their key (as configparser). Keys before any section
    sit at the top level; `section.key` otherwise. A bare `key` (no separator) is an error here,
    as in configparser's default."""
    name = "ini"
    lenient = False

    def parse(self, source: str):
        src = Source(source)
        try:
            return _parse_ini(src), None
        except FlatError as e:
            if self.lenient:
                # Not INI (nginx.conf, haproxy.cfg, redis.conf ...): no key-level diff, no alarm.
                return src.node(SCALAR, 0, len(source), value=None), None
            return None, (e.line, e.message)


class ConfAdapter(IniAdapter):
    """.conf/.cfg: read as INI when the text is INI; many such files are not (nginx, haproxy,
    redis), and a parse error on each of their edits would be noise."""
    name = "conf"
    lenient = True


def _parse_ini(src: Source) -> PlainNode:
    top: OrderedDict = OrderedDict()
    sections: OrderedDict = OrderedDict()  # name -> [header key node, entries, [(start, end)]]
    entries, segment = top, None
    open_entry = None  # [entries, key, key node, indent, value start, value end, [lines]]

    def close_entry():
        nonlocal open_entry
        if open_entry is not None:
            ents, key, key_node, _, vs, ve, lines = open_entry
            _put(ents, key, key_node, src.node(SCALAR, vs, ve, "\n".join(lines).strip("\n")))
            open_entry = None

    end_of_text = len(src.text)
    for row, start, line in src.rows():
        body = line.strip()
        indent = len(line) - len(line.lstrip())
        if not body or body[0] in "#;":
            continue
        if open_entry is not None and indent > open_entry[3]:
            value, used = _ini_value(body)
            open_entry[5] = start + indent + used
            open_entry[6].append(value)
            continue
        close_entry()
        if body.startswith("["):
            close = body.find("]")
            rest = body[close + 1:].strip() if close > 0 else ""
            if close < 0 or (rest and rest[0] not in "#;"):
                raise FlatError(row + 1, "INI section header without a closing ]")
            name = body[1:close].strip()
            if not name:
                raise FlatError(row + 1, "INI section header without a name")
            name_at = start + line.index(name, indent + 1)
            if segment is not None:
                segment[1] = start
            if name not in sections:
                sections[name] = [src.node(SCALAR, name_at, name_at + len(name), name), OrderedDict(), []]
            entries = sections[name][1]
            segment = [start + indent, end_of_text]
            sections[name][2].append(segment)
            continue
        m = re.search(r"[=:]", body)
        if m is None or not body[:m.start()].strip():
            raise FlatError(row + 1, "expected `key = value` in INI")
        key = body[:m.start()].strip()
        key_at = start + indent
        raw = body[m.end():]
        value_at = start + indent + m.end() + (len(raw) - len(raw.lstrip()))
        value, used = _ini_value(raw)
        open_entry = [entries, key, src.node(SCALAR, key_at, key_at + len(key), key), indent,
                      value_at, value_at + used, [value]]
    close_entry()
    items = [i for i in _items(top) if i[0] not in sections]  # a section beats a same-named key
    for name, (key_node, ents, segments) in sections.items():
        text = b"\x00".join(src.text[s:e].encode("utf-8", "surrogatepass") for s, e in segments)
        node = src.node(MAP, segments[0][0], segments[-1][1], items=_items(ents), text=text)
        items.append((name, key_node, node))
    return src.empty_root(items)


# ---------------------------------------------------------------- .properties
_PROP_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}


def _unescape_properties(text: str, line: int) -> str:
    if "\\" not in text:
        return text
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c != "\\" or i + 1 >= len(text):
            out.append(c)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "u":
            digits = text[i + 2:i + 6]
            if not re.fullmatch(r"[0-9A-Fa-f]{4}", digits):
                raise FlatError(line, "malformed \\uxxxx escape in .properties")
            out.append(chr(int(digits, 16)))
            i += 6
            continue
        out.append(_PROP_ESCAPES.get(nxt, nxt))
        i += 2
    return "".join(out)


class PropertiesAdapter(PlainAdapter):
    """java.util.Properties.load: `key=value`, `key: value`, `key value`; a line ending in an odd
    number of backslashes continues (the next line's leading blanks dropped); `#`/`!` comment
    lines; escapes `\\t \\n \\uXXXX`. The whole key is ONE path segment (quoted: `["a.b"]`).
    Like Java, trailing blanks of a value are kept."""
    name = "properties"

    def parse(self, source: str):
        src = Source(source)
        try:
            return _parse_properties(src), None
        except FlatError as e:
            return None, (e.line, e.message)


def _logical_lines(src: Source):
    """(first row, logical text, source offset of each char, end offset) per logical line."""
    rows = list(src.rows())
    i = 0
    while i < len(rows):
        row, start, line = rows[i]
        lead = len(line) - len(line.lstrip(" \t\f"))
        if lead == len(line) or line[lead] in "#!":
            i += 1
            continue
        chars, offs, first = [], [], row
        seg_start, seg = start + lead, line[lead:]
        while True:
            backslashes = len(seg) - len(seg.rstrip("\\"))
            cont = backslashes % 2 == 1
            body = seg[:-1] if cont else seg
            chars.append(body)
            offs.extend(range(seg_start, seg_start + len(body)))
            end = seg_start + len(body)
            i += 1
            if not cont or i >= len(rows):
                break
            _, start, line = rows[i]
            lead = len(line) - len(line.lstrip(" \t\f"))
            seg_start, seg = start + lead, line[lead:]
        yield first, "".join(chars), offs, end


def _parse_properties(src: Source) -> PlainNode:
    entries: OrderedDict = OrderedDict()
    for row, text, offs, end in _logical_lines(src):
        if not text.strip(" \t\f"):
            continue  # a lone `\` continued into nothing
        i = 0
        while i < len(text) and text[i] not in "=: \t\f":
            i += 2 if text[i] == "\\" else 1
        key_end = min(i, len(text))
        j = key_end
        while j < len(text) and text[j] in " \t\f":
            j += 1
        if j < len(text) and text[j] in "=:":
            j += 1
            while j < len(text) and text[j] in " \t\f":
                j += 1
        key = _unescape_properties(text[:key_end], row + 1)
        value = _unescape_properties(text[j:], row + 1)
        key_node = src.node(SCALAR, offs[0], offs[key_end - 1] + 1 if key_end else offs[0], key)
        vs = offs[j] if j < len(text) else end
        _put(entries, key, key_node, src.node(SCALAR, vs, max(vs, end), value))
    return src.empty_root(_items(entries))


# ---------------------------------------------------------------- .env
_ENV_LINE = re.compile(r"(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_.\-]*)[ \t]*(=?)[ \t]*")
_DQ_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\"": "\"", "\\": "\\", "'": "'", "a": "\a",
               "b": "\b", "f": "\f", "v": "\v"}


class DotenvAdapter(PlainAdapter):
    """.env (python-dotenv / docker compose): `KEY=value`, `export KEY=value`; single quotes are
    literal (`\\'` aside), double quotes take escapes and may span lines; an unquoted value ends at
    a ` #` comment. `${VAR}` stays as written (nothing is expanded). A bare `KEY` is a variable
    passed through from the environment (value null); any other line is a syntax problem."""
    name = "dotenv"

    def parse(self, source: str):
        src = Source(source)
        try:
            return _parse_dotenv(src), None
        except FlatError as e:
            return None, (e.line, e.message)


def _parse_dotenv(src: Source) -> PlainNode:
    text, entries = src.text, OrderedDict()
    rows = list(src.rows())
    i = 0
    while i < len(rows):
        row, start, line = rows[i]
        i += 1
        lead = len(line) - len(line.lstrip())
        if lead == len(line) or line[lead] == "#":
            continue
        m = _ENV_LINE.match(line, lead)
        if m is None:
            raise FlatError(row + 1, "expected KEY=value in .env")
        key = m.group(1)
        key_node = src.node(SCALAR, start + m.start(1), start + m.end(1), key)
        rest = line[m.end():]
        if not m.group(2):
            if rest and not rest.startswith("#"):
                raise FlatError(row + 1, "expected KEY=value in .env")
            _put(entries, key, key_node, None)
            continue
        vs = start + m.end()
        if rest[:1] in _QUOTES:
            quote = rest[0]
            close = _closing_quote(text, vs + 1, quote)
            if close < 0:
                raise FlatError(row + 1, f"unterminated {quote} quote in .env")
            raw = text[vs + 1:close]
            value = _decode_quoted(raw, quote)
            after_row = bisect.bisect_right(src.starts, close) - 1
            tail = text[close + 1:src.starts[after_row + 1] if after_row + 1 < len(src.starts) else len(text)]
            tail = tail.strip()
            if tail and not tail.startswith("#"):
                raise FlatError(after_row + 1, "unexpected text after a quoted .env value")
            while i < len(rows) and rows[i][0] <= after_row:
                i += 1  # the rows inside a multi-line value are the value's
            _put(entries, key, key_node, src.node(SCALAR, vs, close + 1, value))
            continue
        if rest.startswith("#") and line[m.end() - 1] in " \t":
            value = ""  # `KEY= # note`: a comment, the value is empty (`KEY=#x` is "#x")
        else:
            value = re.sub(r"\s+#.*", "", rest).rstrip()
        _put(entries, key, key_node, src.node(SCALAR, vs, vs + len(value), value))
    return src.empty_root(_items(entries))


def _closing_quote(text: str, at: int, quote: str) -> int:
    while at < len(text):
        c = text[at]
        if c == "\\":
            at += 2
            continue
        if c == quote:
            return at
        at += 1
    return -1


def _decode_quoted(raw: str, quote: str) -> str:
    raw = raw.replace("\r\n", "\n")
    if quote == "'":
        return raw.replace("\\'", "'").replace("\\\\", "\\")
    return re.sub(r"\\(.)", lambda m: _DQ_ESCAPES.get(m.group(1), m.group(0)), raw, flags=re.S)


# ---------------------------------------------------------------- JSON with comments
# tree-sitter-json already reads // and /* */ comments; a trailing comma it takes for an error.
_JSONC_COMMENT = r"//[^\n]*\n|/\*(?:[^*]|\*(?!/))*\*/"  # cannot stretch past its own end
_JSONC_TOKENS = re.compile(r'"(?:[^"\\\n]|\\.)*"|' + _JSONC_COMMENT + r'|,(?=(?:\s|' + _JSONC_COMMENT + r')*[}\]])')


class JsoncAdapter(JsonAdapter):
    """JSON with comments and trailing commas (tsconfig.json, .vscode/*.json, devcontainer.json,
    *.jsonc). A trailing comma becomes a blank before parsing: byte offsets stay put."""
    name = "jsonc"

    def parse(self, source: str):
        return super().parse(_JSONC_TOKENS.sub(lambda m: " " if m.group(0) == "," else m.group(0), source))
