"""Change records: Markdown with YAML front matter, pre-filled from a Report, and checked for the
fields the policy requires (`change_records.fields`).

A field is present when the front matter has a non-empty key of that name, or the body has a
heading of that name with real content below it. Placeholders (`TODO`, `TBD`) do not count, so a
generated record whose gaps were never filled is still reported. Pure: text in, text out."""
from __future__ import annotations

import bisect
import datetime as _dt
import json
import re
import shlex
from dataclasses import dataclass
from typing import Any, Optional, Sequence

import yaml

from .model import BLAST_RANK, ChangeSet, ConfigChange, FileReport, Finding, Report

DEFAULT_FIELDS = ("summary", "rollback", "validation")
MAX_FRONT_MATTER = 64 * 1024   # a record's front matter is a dozen keys; more is not a record
MAX_ITEMS = 50                 # changes listed per file; the Report has the rest
_PLACEHOLDER = re.compile(r"\b(?:TODO|TBD)\b")
# Records arrive with the change (untrusted): every pattern here runs in linear time, and the
# parts a backtracking regex would make quadratic (code spans, heading ends) are plain Python.
_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t](.*))?$")
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
_FENCED = re.compile(r"^ {0,3}(`{3,}|~{3,}).*?(?:^ {0,3}\1[ \t]*$|\Z)", re.S | re.M)
_TICKS = re.compile(r"`+")


# ------------------------------------------------------------------ reading
class _AliasRefused(Exception):
    def __init__(self, line: int):
        self.line = line


class _NoAliasLoader(yaml.SafeLoader):
    """safe_load without aliases: a few lines of anchors can expand into billions of nodes."""

    def compose_node(self, parent, index):  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            raise _AliasRefused(self.peek_event().start_mark.line)
        return super().compose_node(parent, index)


def split_front_matter(text: str) -> tuple[dict, str, list[str]]:
    """(front matter, body, errors). Malformed front matter is an error, never an exception;
    without a `---` first line the whole text is the body."""
    text = text.lstrip("\ufeff")
    lines = text.split("\n")
    if lines[0].rstrip() != "---":
        return {}, text, []
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "...")), None)
    if end is None:
        return {}, text, ["front matter: no closing '---' line"]
    raw, body = "\n".join(lines[1:end]), "\n".join(lines[end + 1:])
    if len(raw) > MAX_FRONT_MATTER:
        return {}, body, [f"front matter: larger than {MAX_FRONT_MATTER // 1024} KiB, not read"]
    try:
        loader = _NoAliasLoader(raw)
        try:
            data = loader.get_single_data()
        finally:
            loader.dispose()
    except _AliasRefused as exc:
        return {}, body, [f"front matter line {exc.line + 2}: anchors and aliases are not allowed"]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 2}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        return {}, body, [f"front matter{where}: invalid YAML: {problem}"]
    except (ValueError, TypeError, RecursionError) as exc:  # e.g. `created: 2026-13-45`
        return {}, body, [f"front matter: unreadable value: {type(exc).__name__}"]
    if data is None:
        return {}, body, []
    if not isinstance(data, dict):
        return {}, body, [f"front matter: expected a mapping, got {type(data).__name__}"]
    return {str(k): v for k, v in data.items()}, body, []


def prose(text: str) -> str:
    """The text a person wrote as prose: without HTML comments, fenced blocks and code spans."""
    text = _FENCED.sub("\n", _COMMENT.sub(" ", text))
    runs = [m.span() for m in _TICKS.finditer(text)]
    by_length: dict[int, list[int]] = {}
    for i, (start, end) in enumerate(runs):
        by_length.setdefault(end - start, []).append(i)
    out, pos, i = [], 0, 0
    while i < len(runs):  # a span closes at the next run of the same length (CommonMark)
        start, end = runs[i]
        same = by_length[end - start]
        k = bisect.bisect_right(same, i)
        if k == len(same):
            i += 1  # never closed: literal backticks
            continue
        out += [text[pos:start], " "]
        pos, i = runs[same[k]][1], same[k] + 1
    return "".join(out) + text[pos:]


def norm(name: str) -> str:
    """`Rollback plan:`, `rollback_plan`, `**Rollback-Plan**` -> `rollback plan`."""
    return " ".join(re.sub(r"[\W_]+", " ", name.lower()).split())


def sections(body: str) -> list[tuple[str, str]]:
    """(normalised heading, content up to the next heading of the same or a higher level)."""
    lines, heads, fence = body.split("\n"), [], None
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if fence:
            fence = None if stripped.startswith(fence) else fence
            continue
        if stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
            continue
        m = _HEADING.match(line)
        if m:
            heads.append((i, len(m.group(1)), norm(_closing_hashes(m.group(2) or ""))))
    ends, open_ = [len(lines)] * len(heads), []  # open_: headings whose section has not ended
    for n, (i, level, _) in enumerate(heads):
        while open_ and heads[open_[-1]][1] >= level:
            ends[open_.pop()] = i
        open_.append(n)
    return [(name, "\n".join(lines[i + 1:end])) for (i, _, name), end in zip(heads, ends)]


def _closing_hashes(title: str) -> str:
    """`Rollback ##` -> `Rollback` (an ATX heading's optional closing sequence)."""
    title = title.strip(" \t")
    bare = title.rstrip("#")
    return bare.rstrip(" \t") if bare != title and (not bare or bare[-1] in " \t") else title


def _filled(content: str) -> bool:
    """Real content: something alphanumeric outside comments, and no placeholder in the prose."""
    text = _COMMENT.sub(" ", content)
    return bool(re.search(r"[^\W_]", text)) and not _PLACEHOLDER.search(prose(text))


def _heading_is(heading: str, field: str) -> bool:
    return heading == field or heading.startswith(field + " ")  # `Rollback plan` is a rollback


def check_change_record(text: str, fields: Sequence[str] = DEFAULT_FIELDS) -> tuple[dict, list[str], list[str]]:
    """(front matter, missing fields, errors) of one record."""
    front, body, errors = split_front_matter(text)
    keys = {norm(k): v for k, v in front.items()}
    found = sections(body)
    missing = []
    for field in fields:
        want = norm(field)
        value = keys.get(want)
        if value not in (None, "", [], {}) and not _PLACEHOLDER.search(str(value)):
            continue
        if any(_heading_is(h, want) and _filled(c) for h, c in found):
            continue
        missing.append(field)
    return front, missing, errors


@dataclass(frozen=True)
class RecordCheck:
    path: str
    front_matter: dict
    missing: list[str]
    errors: list[str]


def change_records(changeset: ChangeSet, directory: str) -> list[tuple[str, str]]:
    """(path, text) of the records the change adds or edits under `directory`."""
    prefix = directory.strip("/") + "/"
    return sorted((f.path, f.new_text) for f in changeset.files
                  if f.path.startswith(prefix) and f.status != "deleted" and f.new_text is not None)


def best_record(records: Sequence[tuple[str, str]], fields: Sequence[str] = DEFAULT_FIELDS) -> Optional[RecordCheck]:
    """The most complete record of a change (fewest missing fields, then errors, then path)."""
    checks = [RecordCheck(path, *check_change_record(text, fields)) for path, text in records]
    return min(checks, key=lambda c: (len(c.missing), len(c.errors), c.path), default=None)


def record_name(ticket: Optional[str], branch: Optional[str], fallback: str = "change") -> str:
    """`ABC-123.md`, `feature-abc-123-fix.md`: one safe file name, never a path."""
    for candidate in (ticket, branch, fallback, "change"):
        slug = re.sub(r"[^A-Za-z0-9._-]+", "-", candidate or "").strip(".-_")[:80].strip(".-_")
        slug = re.sub(r"\.{2,}", ".", slug)
        if slug:
            return slug + ".md"
    return "change.md"


# ------------------------------------------------------------------ writing
_SECTIONS = ("summary", "blast", "rollback", "validation", "approvals")
_TITLES = {"summary": "Summary", "blast": "Blast radius", "rollback": "Rollback",
           "validation": "Validation", "approvals": "Approvals"}
_ALIASES = {"summary": "summary", "description": "summary", "changes": "summary", "what": "summary",
            "blast radius": "blast", "risk": "blast", "impact": "blast", "risk assessment": "blast",
            "rollback": "rollback", "rollback plan": "rollback", "backout": "rollback",
            "backout plan": "rollback", "back out plan": "rollback", "revert": "rollback",
            "validation": "validation", "validation plan": "validation", "verification": "validation",
            "test plan": "validation", "testing": "validation",
            "approvals": "approvals", "approvers": "approvals", "reviewers": "approvals"}
# (rule id prefixes, file kinds, key words, checks): what a reviewer watches after each kind of change
_VALIDATION = (
    (("CAP-",), (), {"replicas", "minreplicas", "maxreplicas", "min_size", "max_size", "desired_capacity",
                     "resources", "limits", "requests", "autoscaling"},
     ["Ready replicas reach the desired count and stay there (`kubectl rollout status`, `kubectl get deploy,hpa`); "
      "the autoscaler is not pinned at its minimum or maximum",
      "CPU and memory saturation of the affected pods stays in its normal range for 30 minutes"]),
    (("TRF-", "ENV-001"), (), {"weight", "weights", "routes", "route", "ingress", "timeout", "retries",
                               "backends", "upstream", "upstreams"},
     ["Error rate and latency per route and backend stay at their baseline (compare each changed route)",
      "Requests reach only the intended backends: no new 404/503 on old routes"]),
    (("DNS-",), (), {"dns", "ttl", "cname", "nameservers", "record", "records"},
     ["The changed names resolve to the new values from several resolvers (`dig @1.1.1.1`, `dig @8.8.8.8`, "
      "the internal resolver)", "The old TTL has passed before the change is called done"]),
    (("IAM-",), (), {"iam", "rbac", "roles", "permissions", "statement", "principal", "actions"},
     ["The intended principals can do what they need and removed access is denied "
      "(policy simulator, `kubectl auth can-i`)"]),
    (("FLG-",), ("feature-flags",), set(),
     ["The flag service serves the new value in each targeted environment and segment",
      "The metrics the flag guards stay at their baseline; the kill switch still works"]),
    (("TF-",), ("terraform",), set(), ["`terraform plan` shows only the expected resources: no unexpected "
                                      "destroy or replace"]),
    (("K8S-",), ("kubernetes", "helm"), set(), ["`kubectl diff` against the live cluster shows only these "
                                                "changes, and the rollout completes"]),
    (("CI-",), ("ci",), set(), ["The pipeline runs on this branch with every required stage and check"]),
    (("DKR-",), ("dockerfile",), set(), ["The image builds; the container starts and passes its health checks"]),
    (("CODE-",), ("code",), set(), ["Tests cover the changed control-plane calls; dry-run where the API allows"]),
)


def _clean(value: str) -> str:
    """Undecodable path bytes arrive as lone surrogates; a record is UTF-8 text."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _code(value: str) -> str:
    value = _clean(value).replace("\r", " ").replace("\n", " ")
    ticks = "`" * (max((len(r) for r in re.findall(r"`+", value)), default=0) + 1)
    pad = " " if value.startswith("`") or value.endswith("`") or not value.strip() else ""
    return f"{ticks}{pad}{value}{pad}{ticks}"


def _esc(value: str) -> str:
    return re.sub(r"([\\`*_\[\]<>|~#])", r"\\\1", _clean(value).replace("\n", " "))


def _val(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = value if isinstance(value, str) and "\n" not in value and value.strip() == value and value \
        else json.dumps(value, ensure_ascii=False, default=str)
    return _code(text if len(text) <= 120 else text[:117] + "…")


def _at(f: FileReport, c: ConfigChange) -> str:
    doc = f" ({_code(c.document)})" if c.document else ""
    return f"{_code(f.path)}{doc}"


def _findings_of(report: Report, f: FileReport, c: ConfigChange) -> list[Finding]:
    def under(key: Optional[str]) -> bool:
        return bool(key) and (key == c.key or key.startswith((c.key + ".", c.key + "[")))
    return [x for x in report.active_findings() if x.path == f.path and under(x.key)
            and (x.change is None or x.change.document == c.document)]


def _summary(report: Report, risk: str) -> list[str]:
    errors = sum(1 for x in report.active_findings() if x.severity == "error")
    out = ["<!-- Say why: the request, incident or design this change answers. -->", "",
           f"{_n(len(report.files), 'changed file')}, {_n(len(report.active_findings()), 'finding')} "
           f"({_n(errors, 'error')}); highest blast radius: **{risk}**.", ""]
    for f in report.files:
        levels = f.change_blast if len(f.change_blast) == len(f.changes) else [f.blast_radius] * len(f.changes)
        claimed: set[int] = set()
        for c, blast in list(zip(f.changes, levels))[:MAX_ITEMS]:
            hits = _findings_of(report, f, c)
            claimed.update(id(x) for x in hits)
            why = [f"{x.rule} {x.name}" for x in hits] + [f"blast radius {blast.level}"]
            out.append(f"- {_at(f, c)}: {_words(c)} ({', '.join(why)})")
        if len(f.changes) > MAX_ITEMS:
            out.append(f"- {_code(f.path)}: … and {len(f.changes) - MAX_ITEMS} more changes (see the check report)")
        if not f.changes:
            lines = sum(h.added + h.removed for h in f.hunks)
            out.append(f"- {_code(f.path)}: {f.status}" + (f", {lines} lines changed" if lines else "")
                       + (f" ({_esc(f.skipped)})" if f.skipped else "") + f" (blast radius {f.blast_radius.level})")
        for x in report.active_findings():
            if x.path == f.path and id(x) not in claimed:  # file-wide, or about a key left unchanged
                out.append(f"  - {x.rule} {x.name} ({x.severity}): {_code(x.message)}")
    return out


def _n(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


# op -> (what changed, how to undo it); a rename's old/new are the key names, `key` the new path
_WORDS = {"add": ("{key} added: {new}", "remove {key} (added as {new})"),
          "remove": ("{key} removed (was {old})", "restore {key}: {old}"),
          "rename": ("key {old} renamed to {new} ({key})", "rename key {new} back to {old} ({key})"),
          "reorder": ("{key} reordered", "restore the previous order of {key}")}
_REPLACE = ("{key} {old} → {new}", "set {key} back to {old} (now {new})")


def _words(c: ConfigChange, inverse: bool = False) -> str:
    template = _WORDS.get(c.op, _REPLACE)[inverse]
    return template.format(key=_code(c.key), old=_val(c.old), new=_val(c.new))


def _blast(report: Report, risk: str) -> list[str]:
    out = [f"**{risk}**: the highest level of {_n(len(report.files), 'changed file')}.", ""]
    for f in sorted(report.files, key=lambda f: (-f.blast_radius.score, f.path)):
        b = f.blast_radius
        # details quote config values: as code, so a value never reads as prose (or as a ticket)
        why = ", ".join(f"{_code(x.detail)} {x.weight:+d}" for x in b.factors if x.weight) or "no risk factors"
        out.append(f"- {_code(f.path)}: {b.level} (score {b.score}): {why}")
    return out


def _shell(paths: list[str]) -> str:
    return " ".join(shlex.quote(_clean(p)) for p in paths[:20])


def _rollback(report: Report) -> list[str]:
    base = report.base.commit
    out = ["Undo each change:", ""]
    for f in report.files:
        if f.status == "added":
            out.append(f"- delete {_code(f.path)} (added by this change)")
        elif f.status == "deleted":
            out.append(f"- restore {_code(f.path)} from the base revision")
        elif f.status == "renamed" and f.old_path:
            out.append(f"- rename {_code(f.path)} back to {_code(f.old_path)}")
        if f.status == "modified" and not f.changes:
            out.append(f"- restore the base version of {_code(f.path)}")
        for c in f.changes[:MAX_ITEMS] if f.status in ("modified", "renamed") else []:
            out.append(f"- {_at(f, c)}: {_words(c, inverse=True)}")
        if len(f.changes) > MAX_ITEMS:
            out.append(f"- {_code(f.path)}: … and {len(f.changes) - MAX_ITEMS} more (restore the whole file)")
    out += ["", "Or undo all of it at once:", "", "- after merge: `git revert <merge commit>` and ship the revert "
            "through the same pipeline"]
    if base and report.files:
        restore = [f.old_path or f.path for f in report.files if f.status != "added"]
        drop = [f.path for f in report.files if f.status in ("added", "renamed")]
        cmds = ([f"git checkout {base[:12]} -- {_shell(restore)}"] if restore else []) \
            + ([f"git rm -- {_shell(drop)}"] if drop else [])
        more = " (first 20 files; the list above has all)" if max(len(restore), len(drop)) > 20 else ""
        out.append(f"- before merge, back to the base revision{more}: " + " && ".join(_code(c) for c in cmds))
    return out


def _validation(report: Report) -> list[str]:
    rules = {x.rule for x in report.active_findings()}
    kinds = {k for f in report.files for k in f.kinds}
    words = {w for f in report.files for c in f.changes for w in re.split(r"[^a-z0-9_]+", c.key.lower()) if w}
    items: list[str] = []
    for prefixes, kinds_, keys, checks in _VALIDATION:
        if any(r.startswith(prefixes) for r in rules) or kinds & set(kinds_) or words & keys:
            items += checks
    if any(f.environment in ("prod", "production") for f in report.files):
        items.append("Applied to a non-production environment first and checked there the same way")
    scope = sorted({f.service for f in report.files if f.service}) or [f.path for f in report.files][:5]
    items.append(f"Alerts and dashboards for {', '.join(_code(s) for s in scope) or 'the affected services'} "
                 "stay quiet for 30 minutes after rollout; roll back (see above) on any regression")
    return [f"- [ ] {item}" for item in items]


def _approvals(report: Report, approvers: Sequence[str]) -> list[str]:
    out = []
    for r in (r for r in report.requirements if r.kind == "review"):
        n, who = r.get("approvals") or 0, ", ".join(r.get("from") or []) or "any reviewer other than the author"
        out.append(f"- [ ] {_esc(str(r.get('rule')))}: {n} approval{'s' if n != 1 else ''} from {_esc(who)}")
    if approvers:
        out.append(f"- Approvers: {_esc(', '.join(approvers))}")
    return out or ["- [ ] One reviewer other than the author (no review rule applies)"]


def render_change_record(report: Report, *, ticket: Optional[str], branch: Optional[str],
                         approvers: Optional[Sequence[str]] = None, fields: Sequence[str] = DEFAULT_FIELDS,
                         author: Optional[str] = None, created: Optional[_dt.date] = None) -> str:
    """A record pre-filled from the Report whose required sections (named after `fields`) pass
    check_change_record. Fields it cannot fill get a `TODO` section, so the check still asks."""
    risk = max((f.blast_radius.level for f in report.files), key=BLAST_RANK.__getitem__, default="low")
    if approvers is None:  # everyone a review rule names, and the suggested minimal set where there is one
        suggested = (getattr(report, "reviewers", None) or {}).get("suggested") or []
        approvers = sorted({o for r in report.requirements if r.kind == "review" for o in r.get("from") or []}
                           | {s for s in suggested if isinstance(s, str)})
    front = {"ticket": ticket, "risk": risk,
             "services": sorted({f.service for f in report.files if f.service}),
             "environments": sorted({f.environment for f in report.files if f.environment}),
             "approvers": list(approvers), "author": author,
             "created": (created or _dt.date.today()).isoformat(), "branch": branch,
             "base": report.base.commit[:12] if report.base.commit else None,
             "files": [f.path for f in report.files]}
    front = {k: v for k, v in front.items() if v is not None or k == "ticket"}
    front = json.loads(_clean(json.dumps(front, ensure_ascii=False)))
    titles = dict(_TITLES)
    for field in fields:  # the policy's own names become the headings the check looks for
        kind = _ALIASES.get(norm(field))
        if kind and titles[kind] == _TITLES[kind]:
            titles[kind] = field.replace("_", " ").strip().capitalize()
    build = {"summary": lambda: _summary(report, risk), "blast": lambda: _blast(report, risk),
             "rollback": lambda: _rollback(report), "validation": lambda: _validation(report),
             "approvals": lambda: _approvals(report, approvers)}
    title = ticket or branch or "change"
    out = ["---", yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=1000).rstrip("\n"), "---", "",
           f"# Change record: {_code(title)}", ""]
    for kind in _SECTIONS:
        out += [f"## {titles[kind]}", "", *build[kind](), ""]
    covered = set(_ALIASES) | {norm(k) for k, v in front.items() if v not in (None, "", [])}
    for field in fields:
        if norm(field) not in covered:
            out += [f"## {field.replace('_', ' ').strip().capitalize()}", "",
                    f"TODO: {_esc(field)} (required by the policy's change_records.fields)", ""]
    return "\n".join(out).rstrip("\n") + "\n"
