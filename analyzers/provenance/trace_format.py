"""Agent Trace records (agent-trace.dev, v0.1.0 RFC): the one format ChangeGate writes from agent
hooks and reads back, together with records other tools write.

A record is one JSON object per line of `.agent-trace/traces.jsonl` at the repository root.
Line numbers refer to the file at `vcs.revision` (the HEAD the edit was made on top of); every
range carries `content_hash` so a reader can tell whether the line is still the agent's text."""
from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable, Optional

TRACE_PATH = ".agent-trace/traces.jsonl"
VERSION = "0.1.0"
VENDOR_KEY = "dev.changegate"  # reverse-DNS key of our own metadata
# The reference implementation writes "1.0", which fails the schema's semver pattern: accept both.
_VERSION = re.compile(r"^\d+(\.\d+){1,2}$")
CONTRIBUTOR_TYPES = ("human", "ai", "mixed", "unknown")


def normalize_line(text: str) -> str:
    """What a hash covers: the line without its end-of-line and trailing blanks, so a formatter
    that only strips trailing whitespace or changes CRLF does not turn an AI line human."""
    return text.rstrip("\r\n").rstrip()


def line_hash(text: str) -> str:
    """A short per-line digest (64 bits of sha256) for our line-level metadata."""
    return hashlib.sha256(normalize_line(text).encode("utf-8", "surrogatepass")).hexdigest()[:16]


def content_hash(lines: Iterable[str]) -> str:
    """`sha256:<hex>` of the normalised lines of a range, joined with "\\n"."""
    joined = "\n".join(normalize_line(line) for line in lines)
    return "sha256:" + hashlib.sha256(joined.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class TraceRange:
    start_line: int  # 1-based, inclusive
    end_line: int
    content_hash: Optional[str] = None
    contributor: Optional[str] = None   # per-range override of the conversation's type
    model_id: Optional[str] = None


@dataclass(frozen=True)
class TraceEdit:
    """One file's ranges from one conversation of a record, flattened for readers."""
    record_id: str
    timestamp: str
    revision: Optional[str]
    path: str
    contributor: str          # human | ai | mixed | unknown
    model_id: Optional[str]
    tool: Optional[str]       # the agent: tool.name of the record
    ranges: tuple[TraceRange, ...]
    # ours only (metadata."dev.changegate".line_hashes): line -> line_hash(), so a human edit of one
    # line of a range marks that line, not the whole range
    line_hashes: Optional[dict[int, str]] = None


def make_record(*, path: str, ranges: list[tuple[int, int, str]], revision: Optional[str], tool: str,
                tool_version: Optional[str] = None, model_id: Optional[str] = None,
                session_id: Optional[str] = None, metadata: Optional[dict] = None,
                line_hashes: Optional[dict[int, str]] = None, now: Optional[datetime] = None) -> dict:
    """A record for one agent edit of one file: ranges are (start, end, content_hash);
    line_hashes (line -> line_hash) lets a reader judge each line on its own."""
    contributor: dict[str, Any] = {"type": "ai"}
    if model_id:
        contributor["model_id"] = model_id[:250]
    record: dict[str, Any] = {
        "version": VERSION, "id": str(uuid.uuid4()),
        "timestamp": (now or datetime.now(timezone.utc)).isoformat().replace("+00:00", "Z"),
        "tool": {"name": tool, **({"version": tool_version} if tool_version else {})},
        "files": [{"path": path, "conversations": [{
            "contributor": contributor,
            "ranges": [{"start_line": s, "end_line": e, "content_hash": h} for s, e, h in ranges]}]}]}
    if revision:
        record["vcs"] = {"type": "git", "revision": revision}
    meta = dict(metadata or {})
    if session_id:
        meta["session_id"] = session_id
    if line_hashes:
        meta["line_hashes"] = {path: {str(n): h for n, h in sorted(line_hashes.items())}}
    if meta:
        record["metadata"] = {VENDOR_KEY: meta}
    return record


def parse_record(line: str) -> list[TraceEdit]:
    """The edits of one JSONL line; [] for anything malformed (a reader never fails on a bad line)."""
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):
        return []
    if not isinstance(record, dict) or not isinstance(record.get("files"), list):
        return []
    if not _VERSION.match(str(record.get("version", ""))):
        return []
    vcs = record.get("vcs") if isinstance(record.get("vcs"), dict) else {}
    revision = vcs.get("revision") if isinstance(vcs.get("revision"), str) else None
    tool = record.get("tool") if isinstance(record.get("tool"), dict) else {}
    tool_name = tool.get("name") if isinstance(tool.get("name"), str) else None
    out = []
    for f in record["files"]:
        if not isinstance(f, dict) or not isinstance(f.get("path"), str):
            continue
        for conv in f.get("conversations") or []:
            if not isinstance(conv, dict):
                continue
            who = conv.get("contributor") if isinstance(conv.get("contributor"), dict) else {}
            kind = who.get("type") if who.get("type") in CONTRIBUTOR_TYPES else "unknown"
            model = who.get("model_id") if isinstance(who.get("model_id"), str) else None
            ranges = tuple(r for r in (_range(x) for x in conv.get("ranges") or []) if r is not None)
            if ranges:
                out.append(TraceEdit(str(record.get("id", "")), str(record.get("timestamp", "")), revision,
                                     f["path"].removeprefix("./"), kind, model, tool_name, ranges,
                                     _line_hashes(record, f["path"])))
    return out


def _range(raw: Any) -> Optional[TraceRange]:
    if not isinstance(raw, dict):
        return None
    start, end = raw.get("start_line"), raw.get("end_line")
    if not (isinstance(start, int) and isinstance(end, int)) or isinstance(start, bool) or start < 1 or end < start:
        return None
    who = raw.get("contributor") if isinstance(raw.get("contributor"), dict) else {}
    kind = who.get("type") if who.get("type") in CONTRIBUTOR_TYPES else None
    model = who.get("model_id") if isinstance(who.get("model_id"), str) else None
    digest = raw.get("content_hash") if isinstance(raw.get("content_hash"), str) else None
    return TraceRange(start, end, digest, kind, model)


def _line_hashes(record: dict, path: str) -> Optional[dict[int, str]]:
    meta = record.get("metadata")
    ours = meta.get(VENDOR_KEY) if isinstance(meta, dict) else None
    table = ours.get("line_hashes") if isinstance(ours, dict) else None
    hashes = table.get(path) if isinstance(table, dict) else None
    if not isinstance(hashes, dict):
        return None
    return {int(k): v for k, v in hashes.items() if isinstance(k, str) and k.isdigit() and isinstance(v, str)}
