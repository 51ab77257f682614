"""Dockerfile front end: a small parser (no grammar, nothing executed or expanded) and the
key-path tree the differ walks:

    ARG.<KEY>                      global ARGs (before the first FROM)
    stage[0].FROM                  stages as a list; `stage[name=build]` when every stage is named
    stage[..].name / .platform     `AS name` (lowercased, as Docker does) / `--platform`
    stage[..].USER WORKDIR ENTRYPOINT CMD SHELL STOPSIGNAL HEALTHCHECK   last one wins
    stage[..].ENV.<KEY> ARG.<KEY> LABEL.<key>                             last one wins per key
    stage[..].RUN[i] COPY[i] ADD[i] EXPOSE[i] VOLUME[i] ONBUILD[i]        in order

Values are normalised so that spelling is not change: continuation lines joined and runs of
blanks squashed outside quotes (re-wrapping a RUN is no change), quotes removed from ENV/LABEL/
ARG values, `80/tcp` read as `80`, exec form `["/bin/sh", "-c", "x"]` read as shell form `x`
(other exec forms stay lists: exec vs shell form is a real runtime difference, PID 1 and
signals). WORKDIR holds the stage's effective directory. Because values depend on context
(SHELL, earlier WORKDIRs), a node's `.text` is its canonical value as JSON, not its source
bytes: equal text still means an equal value, which is all the differ relies on."""
from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Optional

from .flat import FlatError, Source
from .syntax import MAP, SCALAR, SEQ, PlainAdapter, PlainNode

INSTRUCTIONS = {"ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
                "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"}
_KEYED = ("ENV", "ARG", "LABEL")
_LISTS = ("RUN", "COPY", "ADD", "EXPOSE", "VOLUME", "ONBUILD")
DEFAULT_SHELL = ["/bin/sh", "-c"]
_DIRECTIVE = re.compile(r"#\s*([A-Za-z]+)\s*=\s*(.*?)\s*$")
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_HEREDOC = re.compile(r"<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")


@dataclass
class Instruction:
    keyword: str        # upper case
    row: int            # 0-based row of the keyword
    args: str           # text after the keyword: continuations joined, heredoc bodies appended
    offs: list          # source offset of each char of args
    start: int          # source offsets of the whole instruction
    end: int

    @property
    def line(self) -> int:
        return self.row + 1

    def span(self, s: int = 0, e: Optional[int] = None) -> tuple[int, int]:
        e = len(self.args) if e is None else e
        while s < e and self.args[s].isspace():
            s += 1
        while e > s and self.args[e - 1].isspace():
            e -= 1
        if s >= e:
            at = self.offs[s] if s < len(self.offs) else self.end
            return at, at
        return self.offs[s], self.offs[e - 1] + 1


@dataclass
class Stage:
    index: int
    from_: Instruction
    image: str
    name: Optional[str] = None
    platform: Optional[str] = None
    instructions: list = field(default_factory=list)


@dataclass
class Dockerfile:
    src: Source
    escape: str
    args: list = field(default_factory=list)    # global ARG instructions
    stages: list = field(default_factory=list)


# ---------------------------------------------------------------- words and values
def raw_words(text: str, escape: str = "\\") -> list[tuple[str, int, int]]:
    """Blank-separated words (quotes and escapes kept), with their positions in `text`."""
    words, i, n = [], 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        s, quote = i, None
        while i < n:
            c = text[i]
            if c == escape and quote != "'" and i + 1 < n:
                i += 2
                continue
            if quote:
                quote = None if c == quote else quote
            elif c in "\"'":
                quote = c
            elif c.isspace():
                break
            i += 1
        words.append((text[s:i], s, i))
    return words


def unquote(word: str, escape: str = "\\") -> str:
    """Quote removal as Docker's word processing does it (without variable expansion)."""
    out, i, quote = [], 0, None
    while i < len(word):
        c = word[i]
        if quote == "'":
            if c == "'":
                quote = None
            else:
                out.append(c)
        elif c == escape and i + 1 < len(word) and (quote is None or word[i + 1] in "\"$" + escape):
            out.append(word[i + 1])
            i += 1
        elif c in "\"'" and (quote is None or c == quote):
            quote = None if quote else c
        else:
            out.append(c)
        i += 1
    return "".join(out)


def squash(text: str) -> str:
    """Runs of blanks outside quotes become one space: wrapping a command is not changing it."""
    out, quote, blank = [], None, False
    for c in text.strip():
        if quote is None and c.isspace():
            blank = True
            continue
        if blank:
            out.append(" ")
            blank = False
        if quote is None and c in "\"'":
            quote = c
        elif c == quote:
            quote = None
        out.append(c)
    return "".join(out)


def exec_form(args: str) -> Optional[list[str]]:
    """`["a", "b"]` as a list; None for shell form (Docker falls back to shell form likewise)."""
    text = args.strip()
    if not text.startswith("["):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, list) and all(isinstance(v, str) for v in value) else None


def command(args: str, shell: Optional[list[str]]) -> Any:
    """A RUN/CMD/ENTRYPOINT/COPY value: a string for shell form, a list for exec form; an exec
    form that spells out the shell (`["/bin/sh", "-c", "x"]`) is the shell form `x`."""
    argv = exec_form(args)
    if argv is None:
        first, sep, rest = args.partition("\n")  # a heredoc body keeps its lines
        return squash(first) + sep + rest
    if shell is not None and len(argv) == len(shell) + 1 and argv[:-1] == shell:
        return squash(argv[-1])
    return argv


def port(word: str) -> str:
    value = word.lower()
    return value[:-4] if value.endswith("/tcp") else value


def split_pair(word: str) -> tuple[str, Optional[str]]:
    """`k=v` at the first `=` outside quotes; (word, None) when there is none."""
    quote = None
    for i, c in enumerate(word):
        if quote:
            quote = None if c == quote else quote
        elif c in "\"'":
            quote = c
        elif c == "=":
            return word[:i], word[i + 1:]
    return word, None


# ---------------------------------------------------------------- parsing
@lru_cache(maxsize=64)
def parse_dockerfile(text: str) -> Dockerfile:
    """The instructions of a Dockerfile grouped in stages; FlatError(line, message) if unreadable.
    Cached: the differ and the DKR rules read the same texts."""
    src = Source(text)
    rows = list(src.rows())
    escape, i = "\\", 0
    while i < len(rows):  # parser directives: only at the very top
        m = _DIRECTIVE.match(rows[i][2])
        if not m or m.group(1).lower() not in ("syntax", "escape", "check"):
            break
        if m.group(1).lower() == "escape":
            if m.group(2) not in ("\\", "`"):
                raise FlatError(i + 1, f"invalid escape directive {m.group(2)!r}")
            escape = m.group(2)
        i += 1
    df = Dockerfile(src, escape)
    continued = re.compile(re.escape(escape) + r"[ \t]*$")
    while i < len(rows):
        row, start, line = rows[i]
        lead = len(line) - len(line.lstrip())
        if lead == len(line) or line[lead] == "#":
            i += 1
            continue
        chars: list[str] = []
        offs: list[int] = []
        seg_start, seg = start + lead, line[lead:]
        while True:
            m = continued.search(seg)
            body = seg[:m.start()] if m else seg
            chars.append(body)
            offs.extend(range(seg_start, seg_start + len(body)))
            end = seg_start + len(body)
            i += 1
            if not m:
                break
            # comment and blank lines inside a continued instruction are dropped, as Docker does
            while i < len(rows) and (not rows[i][2].strip() or rows[i][2].lstrip().startswith("#")):
                i += 1
            if i >= len(rows):
                break
            _, seg_start, seg = rows[i]
        logical = "".join(chars)
        head = re.match(r"(\S+)\s*", logical)
        if head is None:
            continue  # a lone escape continued into nothing
        keyword = head.group(1).upper()
        if keyword not in INSTRUCTIONS:
            raise FlatError(row + 1, f"unknown Dockerfile instruction {head.group(1)}")
        ins = Instruction(keyword, row, logical[head.end():], offs[head.end():], start + lead, end)
        if keyword in ("RUN", "COPY", "ADD"):
            i = _heredocs(ins, rows, i, escape)
        _place(df, ins)
    return df


def _heredocs(ins: Instruction, rows: list, i: int, escape: str) -> int:
    """Append the bodies of `<<EOF` heredocs to the instruction; returns the next row. A marker
    without its terminator is left as plain text (it may be a shift, or inside a string)."""
    for m in _heredoc_markers(ins.args, escape):
        strip_tabs, word = m.group(1) == "-", m.group(3)
        for j in range(i, len(rows)):
            text = rows[j][2].lstrip("\t") if strip_tabs else rows[j][2]
            if text.rstrip() == word:
                break
        else:
            return i
        parts = [ins.args]
        for _, start, line in rows[i:j + 1]:
            ins.offs.append(ins.offs[-1] if ins.offs else start)
            parts.append(line)
            ins.offs.extend(range(start, start + len(line)))
        ins.args = "\n".join(parts)
        ins.end = rows[j][1] + len(rows[j][2])
        i = j + 1
    return i


def _heredoc_markers(args: str, escape: str) -> list:
    found, quote, k = [], None, 0
    while k < len(args):
        c = args[k]
        if c == escape and quote != "'":
            k += 2
            continue
        if quote:
            quote = None if c == quote else quote
        elif c in "\"'":
            quote = c
        elif args.startswith("<<", k) and not args.startswith("<<<", k) and (k == 0 or args[k - 1] != "<"):
            m = _HEREDOC.match(args, k)
            if m:
                found.append(m)
                k = m.end()
                continue
        k += 1
    return found


def _place(df: Dockerfile, ins: Instruction) -> None:
    if ins.keyword == "FROM":
        words = raw_words(ins.args, df.escape)
        flags = [w for w in words if w[0].startswith("--")]
        rest = [w for w in words if not w[0].startswith("--")]
        if not rest:
            raise FlatError(ins.line, "FROM needs an image")
        if len(rest) not in (1, 3) or (len(rest) == 3 and rest[1][0].lower() != "as"):
            raise FlatError(ins.line, "FROM takes an image and an optional `AS name`")
        platform = next((unquote(w[0].split("=", 1)[1], df.escape) for w in flags
                         if w[0].lower().startswith("--platform=")), None)
        df.stages.append(Stage(len(df.stages), ins, unquote(rest[0][0], df.escape),
                               rest[2][0].lower() if len(rest) == 3 else None, platform))
    elif df.stages:
        df.stages[-1].instructions.append(ins)
    elif ins.keyword == "ARG":
        df.args.append(ins)
    else:
        raise FlatError(ins.line, f"{ins.keyword} before the first FROM")


# ---------------------------------------------------------------- the tree
def keyed_values(ins: Instruction, escape: str) -> list[tuple[str, Optional[str], tuple[int, int], tuple[int, int]]]:
    """ENV/LABEL/ARG: (key, value, key span, value span); `ENV K V` (legacy) and `ENV K=V ...`."""
    words = raw_words(ins.args, escape)
    if not words:
        raise FlatError(ins.line, f"{ins.keyword} needs arguments")
    out = []
    if ins.keyword != "ARG" and split_pair(words[0][0])[1] is None:
        word, s, e = words[0]
        if len(words) < 2:
            raise FlatError(ins.line, f"{ins.keyword} {word} needs a value")
        v0 = words[1][1]
        return [(unquote(word, escape), unquote(ins.args[v0:].strip(), escape), ins.span(s, e), ins.span(v0))]
    for word, s, e in words:
        key, value = split_pair(word)
        if value is None and ins.keyword != "ARG":
            raise FlatError(ins.line, f"{ins.keyword} expects key=value, got {word!r}")
        cut = s + len(key) + 1
        out.append((unquote(key, escape), None if value is None else unquote(value, escape),
                    ins.span(s, s + len(key)), ins.span(cut, e) if value is not None else ins.span(e, e)))
    return out


def healthcheck(ins: Instruction, shell: list[str], escape: str) -> Any:
    """`NONE`, or {"interval": "30s", ..., "CMD": command}."""
    value: dict = {}
    for word, s, e in raw_words(ins.args, escape):
        if word.upper() == "NONE" and not value:
            return "NONE"
        if word.upper() == "CMD":
            value["CMD"] = command(ins.args[e:], shell)
            return value
        if not word.startswith("--") or "=" not in word:
            break
        name, _, setting = word[2:].partition("=")
        value[name.lower()] = unquote(setting, escape)
    raise FlatError(ins.line, "HEALTHCHECK needs CMD or NONE")


class _Builder:
    def __init__(self, df: Dockerfile):
        self.df, self.src = df, df.src

    def leaf(self, value: Any, span: tuple[int, int]) -> PlainNode:
        return self.node(SCALAR, value, span)

    def node(self, kind: str, value: Any, span: tuple[int, int], items: Optional[list] = None) -> PlainNode:
        # text: the value as JSON for a leaf; a composite's from its children's (JSON has no \x1f)
        if kind == MAP:
            text = b"{" + b"\x1f".join(_JSON(k).encode("utf-8", "surrogatepass") + b"=" + vn.text
                                       for k, _, vn in items or []) + b"}"
        elif kind == SEQ:
            text = b"[" + b"\x1f".join(n.text for n in items or []) + b"]"
        else:
            text = _JSON(value).encode("utf-8", "surrogatepass")
        return PlainNode(kind, text, self.src.point(span[0]), self.src.point(span[1]), value, items or [])

    def keyword(self, ins: Instruction) -> PlainNode:
        return self.leaf(ins.keyword, (ins.start, ins.start + len(ins.keyword)))

    def value_node(self, value: Any, span: tuple[int, int]) -> PlainNode:
        if isinstance(value, list):
            return self.node(SEQ, value, span, [self.leaf(v, span) for v in value])
        if isinstance(value, dict):
            return self.node(MAP, value, span, [(k, self.leaf(k, span), self.value_node(v, span))
                                                for k, v in value.items()])
        return self.leaf(value, span)

    def mapping(self, entries: dict, span: tuple[int, int]) -> PlainNode:
        """entries: key -> (key node, value node)."""
        value = {k: v.value for k, (_, v) in entries.items()}
        return self.node(MAP, value, span, [(k, kn, vn) for k, (kn, vn) in entries.items()])

    def keyed(self, group: list[Instruction]) -> PlainNode:
        entries: dict = {}
        for ins in group:
            for key, value, kspan, vspan in keyed_values(ins, self.df.escape):
                entries.pop(key, None)
                entries[key] = (self.leaf(key, kspan), self.leaf(value, vspan))
        return self.mapping(entries, (group[0].start, group[-1].end))

    def list_items(self, ins: Instruction, shell: list[str]) -> list[PlainNode]:
        kw, esc = ins.keyword, self.df.escape
        if kw == "ONBUILD":
            return [self.leaf(squash(ins.args), ins.span())]
        if kw in ("RUN", "COPY", "ADD"):
            return [self.value_node(command(ins.args, shell if kw == "RUN" else None), ins.span())]
        argv = exec_form(ins.args) if kw == "VOLUME" else None
        if argv is not None:
            return [self.leaf(v, ins.span()) for v in argv]
        return [self.leaf(port(unquote(w, esc)) if kw == "EXPOSE" else unquote(w, esc), ins.span(s, e))
                for w, s, e in raw_words(ins.args, esc)]

    def stage(self, stage: Stage) -> PlainNode:
        esc = self.df.escape
        head = stage.from_
        entries: dict = {}
        words = [w for w in raw_words(head.args, esc) if not w[0].startswith("--")]
        entries["FROM"] = (self.keyword(head), self.leaf(stage.image, head.span(words[0][1], words[0][2])))
        if stage.name is not None:
            entries["name"] = (self.leaf("name", head.span(words[1][1], words[1][2])),
                               self.leaf(stage.name, head.span(words[2][1], words[2][2])))
        if stage.platform is not None:
            entries["platform"] = (self.keyword(head), self.leaf(stage.platform, head.span()))
        keyed: dict[str, list[Instruction]] = {}
        lists: dict[str, tuple[list[Instruction], list[PlainNode]]] = {}
        shell, workdir = DEFAULT_SHELL, None
        for ins in stage.instructions:
            kw = ins.keyword
            if kw in _KEYED or kw in _LISTS:
                entries.setdefault(kw, None)  # placeholder: keeps first-appearance order
                if kw in _KEYED:
                    keyed.setdefault(kw, []).append(ins)
                else:
                    group, nodes = lists.setdefault(kw, ([], []))
                    group.append(ins)
                    nodes.extend(self.list_items(ins, shell))
                continue
            if kw == "SHELL":
                shell = exec_form(ins.args) or shell
                value: Any = exec_form(ins.args) or squash(ins.args)
            elif kw in ("CMD", "ENTRYPOINT"):
                value = command(ins.args, shell)
            elif kw == "WORKDIR":
                path = unquote(ins.args.strip(), esc)
                workdir = path if workdir is None or path.startswith("/") or re.match(r"[A-Za-z]:", path) \
                    else posixpath.normpath(posixpath.join(workdir, path))
                value = workdir
            elif kw == "HEALTHCHECK":
                value = healthcheck(ins, shell, esc)
            else:  # USER, STOPSIGNAL, MAINTAINER
                value = unquote(ins.args.strip(), esc)
            entries.pop(kw, None)
            entries[kw] = (self.keyword(ins), self.value_node(value, ins.span()))
        for kw, group in keyed.items():
            entries[kw] = (self.keyword(group[0]), self.keyed(group))
        for kw, (group, nodes) in lists.items():
            entries[kw] = (self.keyword(group[0]),
                           self.node(SEQ, [n.value for n in nodes], (group[0].start, group[-1].end), nodes))
        last = stage.instructions[-1].end if stage.instructions else head.end
        return self.mapping(entries, (head.start, last))

    def root(self) -> PlainNode:
        entries: dict = {}
        df = self.df
        if df.args:
            entries["ARG"] = (self.keyword(df.args[0]), self.keyed(df.args))
        if df.stages:
            stages = [self.stage(s) for s in df.stages]
            last = df.stages[-1]
            end = last.instructions[-1].end if last.instructions else last.from_.end
            entries["stage"] = (self.keyword(df.stages[0].from_),
                                self.node(SEQ, [s.value for s in stages], (df.stages[0].from_.start, end), stages))
        return self.mapping(entries, (0, len(df.src.text)))


class DockerfileAdapter(PlainAdapter):
    name = "dockerfile"

    def parse(self, source: str):
        try:
            df = parse_dockerfile(source)
            return _Builder(df).root(), None
        except FlatError as e:
            return None, (e.line, e.message)
