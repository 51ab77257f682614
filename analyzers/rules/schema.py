"""Shape rules: values whose size, emptiness, type, magnitude or consistency changes in a way the
consumer did not expect (Cloudflare 2025-11-18 and 2025-12-05, Google Cloud 2025-06-12,
CrowdStrike 2024-07-19; Yin et al. SOSP'11: illegal values and cross-parameter inconsistencies).

Judgement rules (SCH-001..004) stay quiet for staging/dev/test, CI files (CI-* own them) and
lockfiles. SCH-005..007 (consistency.py) describe something broken wherever it is."""
from __future__ import annotations

import json
import re
from typing import Any, Iterable, Optional

from ..model import ConfigChange
from .capacity import CAPACITY_KEY
from .dns import is_dns_ttl
from .env import nonprod, parent_key, segments, setting_name, words
from .flags import flag_value_leaf
from .registry import FileFacts, Hit, rule
from .util import duration, fmt, key_has, last_key, quantity, ratio, unit_of, where

_SUMMARY = re.compile(r"<(?:list of (\d+) items|mapping of (\d+) keys)>")
_LOCKFILE = re.compile(r"(^|[.\-_])lock([.\-_]|$)|shrinkwrap", re.I)
# Source text of an expression kept as a string (HCL references, Helm/Actions templates)
EXPRESSION = re.compile(r"^\s*(var|local|module|data|each|count|path|terraform|self)\.|\$\{|\{\{|^\s*[a-z_]+\(")


def judged(facts: FileFacts) -> bool:
    """Whether the judgement rules (SCH-001..004) look at this file: not CI (CI-* own it), not a
    lockfile a package manager rewrites."""
    return "ci" not in facts.kinds and not _LOCKFILE.search(facts.file.path.rsplit("/", 1)[-1])


def count(value: Any) -> Optional[int]:
    """Entries of a list/map value, also when the Report summarised it as `<list of N items>`."""
    if isinstance(value, (list, dict)):
        return len(value)
    m = _SUMMARY.fullmatch(value) if isinstance(value, str) else None
    return int(m.group(1) or m.group(2)) if m else None


def _containers(facts: FileFacts, ops: tuple[str, ...]) -> dict[tuple[Optional[str], str], int]:
    """(document, container key) -> first line, for containers whose entries were added/removed."""
    out: dict[tuple[Optional[str], str], int] = {}
    for c in facts.changes:
        if c.op in ops and segments(c.key):
            key = (c.document, parent_key(c.key))
            out[key] = min(out.get(key, c.line), c.line)
    return out


# -- SCH-001 ----------------------------------------------------------------------------------
_MAX_NAMES = ("x_max_items", "maxitems", "max_items", "maxentries", "max_entries")


def _limits(facts: FileFacts) -> dict[tuple[Optional[str], str], list[str]]:
    """(document, parent key) -> keys there that may declare a maximum count, read once per file."""
    out: dict[tuple[Optional[str], str], list[str]] = {}
    for doc, key in facts.keys("new"):
        k = last_key(key).lower().replace("-", "_")
        if k in _MAX_NAMES or k.startswith("max") or k.endswith(("_max", "_limit")):
            out.setdefault((doc, parent_key(key)), []).append(key)
    return out


def _declared_max(facts: FileFacts, limits: dict, doc: Optional[str], container: str) -> Optional[tuple[str, float]]:
    name = last_key(container).lower()
    for key in limits.get((doc, parent_key(container)), ()):
        k = last_key(key).lower().replace("-", "_")
        if k in _MAX_NAMES or k in (f"max_{name}", f"max{name}", f"{name}_max", f"{name}_limit"):
            limit = quantity(facts.value(key, doc))
            if limit is not None:
                return last_key(key), limit
    return None


@rule("SCH-001", "cardinality-jump", "warning",
      summary="A list at least doubles in entries (from min_items up), or crosses a declared maximum.",
      rationale="Consumers preallocate for the sizes they have seen; generated config that suddenly "
                "doubles overflows a fixed cap and the consumer panics fleet-wide.",
      incident="Cloudflare 2025-11-18 (Bot Management feature file doubled past a 200-feature cap)",
      ratio=2.0, min_items=8)
def cardinality_jump(facts: FileFacts, params: dict) -> Iterable[Hit]:
    factor, min_items = float(params.get("ratio", 2.0)), int(params.get("min_items", 8))
    if not judged(facts):
        return
    limits = None
    for (doc, container), line in _containers(facts, ("add",)).items():
        if nonprod(facts, container):
            continue
        old_v, new_v = facts.value(container, doc, "old"), facts.value(container, doc, "new")
        if _kind(old_v) != "list" or _kind(new_v) != "list":
            continue  # maps grow by design (translations, dependencies); generated lists overflow caps
        old_n, new_n = count(old_v), count(new_v)
        if not old_n or new_n is None:
            continue
        limits = _limits(facts) if limits is None else limits
        declared = _declared_max(facts, limits, doc, container)
        crossed = declared is not None and old_n <= declared[1] < new_n
        if crossed or (old_n >= min_items and new_n >= old_n * factor):
            why = f"past its declared {declared[0]} of {fmt(declared[1])}" if crossed else f"×{new_n / old_n:.1f}"
            change = ConfigChange(container, "replace", old_n, new_n, line=line, document=doc)
            yield Hit(f"{container or 'the document'}: {old_n} → {new_n} entries ({why}); consumers that "
                      f"size buffers by what they have seen may overflow", line, change=change)


# -- SCH-002 ----------------------------------------------------------------------------------
_EMPTYABLE = {"annotations", "labels", "nodeselector", "tolerations", "affinity", "podannotations", "podlabels",
              "extraenv", "extraargs", "extravolumes", "extravolumemounts", "args", "description", "comment",
              "comments", "notes", "tags", "prefix", "suffix", "nameoverride", "fullnameoverride", "resources",
              "subpath", "finalizers", "example", "examples", "default", "defaults"}
_BLANK = ("", None, [], {})


def _blank(value: Any) -> bool:
    return any(value == b and type(value) is type(b) for b in _BLANK)


@rule("SCH-002", "blank-required", "warning",
      summary="A previously non-empty value becomes \"\", null, [] or {}.",
      rationale="A consumer that never saw the field empty rarely guards against it: a blank field "
                "turns into a null dereference on every node that reads it.",
      incident="Google Cloud 2025-06-12 (policy data with unintended blank fields crashed Service Control)")
def blank_required(facts: FileFacts, params: dict) -> Iterable[Hit]:
    if "dockerfile" in facts.kinds or not judged(facts):
        return
    seen = set()
    candidates = [(c.document, c.key, c) for c in facts.leaves if c.op in ("replace", "type_change")
                  and _blank(c.new) and not _blank(c.old)]
    for (doc, container), line in _containers(facts, ("remove",)).items():
        if container and count(facts.value(container, doc, "new")) == 0 and count(facts.value(container, doc, "old")):
            old = facts.value(container, doc, "old")
            candidates.append((doc, container, ConfigChange(container, "replace", old, facts.value(container, doc),
                                                            line=line, document=doc)))
    for doc, key, change in sorted(candidates, key=lambda t: t[2].line):
        name = "".join(words(setting_name(key)))
        if (doc, key) in seen or name in _EMPTYABLE or nonprod(facts, key) or key_has(key, "annotations", "labels"):
            continue
        seen.add((doc, key))
        n = count(change.old)
        was = fmt(change.old) if n is None else f"{n} entr{'y' if n == 1 else 'ies'}"
        yield Hit(f"{key}: {was} → "
                  f"{_say_blank(change.new)}; a consumer of {where(facts)} that expects a value may crash on it",
                  change.line, change=change)


def _say_blank(value: Any) -> str:
    return {str: '""', list: "[]", dict: "{}"}.get(type(value), "null")


# -- SCH-003 ----------------------------------------------------------------------------------
_STRING_ONLY = {"annotations", "labels", "data", "stringData", "args", "command"}
_VERSION_WORDS = {"version", "tag", "appversion", "release"}
_INT_OR_STRING = {"maxUnavailable", "maxSurge", "minAvailable", "targetPort", "port"}


def type_risk(facts: FileFacts, change: ConfigChange) -> Optional[str]:
    """Why a type change is risky, or None when it is a harmless respelling or someone else's."""
    old, new = change.old, change.new
    if change.op != "type_change" or old is None or _blank(new):
        return None  # blanks are SCH-002's
    if "feature-flags" in facts.kinds and flag_value_leaf(change.key):
        return None  # FLG-002 judges flag values
    if any(isinstance(v, str) and EXPRESSION.search(v) for v in (old, new)):
        return None  # a literal replaced by a reference/template (`3` -> `var.replicas`)
    kinds = (_kind(old), _kind(new))
    if set(kinds) == {"list", "map"} and "terraform" in facts.kinds:
        return None  # HCL: one nested block reads as a map, two as a list; the block count is TF's
    if "list" in kinds or "map" in kinds:
        return f"{kinds[0]} → {kinds[1]}"
    if "kubernetes" in facts.kinds and last_key(change.key) in _INT_OR_STRING:
        return None  # IntOrString fields: 1 and "25%" (or a named port) are both valid
    if kinds == ("string", "number"):
        return None if old.strip() == fmt(new) else f"string {_show(old)} → number {fmt(new)}: the text changed"
    if kinds == ("number", "string"):
        if set(words(setting_name(change.key))) & _VERSION_WORDS or \
                ("kubernetes" in facts.kinds and (key_has(change.key, *_STRING_ONLY) or ".env[" in change.key)):
            return None  # quoting a version, or a field Kubernetes requires as a string
        return "number → string"
    if kinds == ("string", "bool") and old.strip().lower() == fmt(new):
        return None  # "true" → true: unquoting
    return f"{kinds[0]} → {kinds[1]}"


def _show(value: Any) -> str:
    """Quotes kept: in a type change `3` and `"3"` are the point."""
    return json.dumps(value, ensure_ascii=False, default=str) if isinstance(value, (str, list, dict)) else fmt(value)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, list) or isinstance(value, str) and value.startswith("<list of"):
        return "list"
    return "map" if isinstance(value, dict) or count(value) is not None else "string"


@rule("SCH-003", "type-change", "warning",
      summary="A value changes type: number → string, bool → \"false\", scalar ↔ list/map.",
      rationale="38-54% of real parameter mistakes are illegal values; a type change is the cheapest "
                "one to see. Typed consumers fail to parse it, untyped ones (templates) misread it: "
                "the string \"false\" is true.",
      incident="Yin et al. SOSP'11; CrowdStrike 2024-07-19 (content the consumer could not read)")
def type_change(facts: FileFacts, params: dict) -> Iterable[Hit]:
    if not judged(facts):
        return
    for change in facts.leaves:
        if nonprod(facts, change.key):
            continue
        why = type_risk(facts, change)
        if why:
            yield Hit(f"{change.key}: {_show(change.old)} → {_show(change.new)} changes type ({why}); check every "
                      f"consumer of {where(facts)} parses the new form", change.line, change=change)


# -- SCH-004 ----------------------------------------------------------------------------------
_MAGNITUDE = re.compile(r"timeout|ttl|interval|limit|size|buffer|retries|retry"
                        r"|[_\-](ms|s|sec|secs|seconds|bytes|kb|mb)$")
_CAMEL_UNIT = re.compile(r"[a-z0-9](Ms|Sec|Secs|Seconds|Bytes)$")
_TIME_NAME = re.compile(r"(?i:timeout|ttl|interval|retry|delay|period|[_\-](ms|s|sec|secs|seconds)$)"
                        r"|[a-z](Ms|Sec|Seconds)$")
_PROBES = ("readinessProbe", "livenessProbe", "startupProbe")
# how many old objects to keep: a bigger number costs a little storage and changes no behaviour
_RETENTION = re.compile(r"(?i)history_?limit$|revisions?_?to_?keep$|^keep_?last$")


def _magnitudes(name: str, old: Any, new: Any) -> Optional[tuple[float, float]]:
    order = (duration, quantity) if _TIME_NAME.search(name) else (quantity, duration)
    for parse in order:
        a, b = parse(old), parse(new)
        if a is not None and b is not None:
            return a, b
    return None


@rule("SCH-004", "magnitude-or-unit", "warning",
      summary="A timeout/ttl/interval/limit/size/buffer/retries value changes 10× or more, or its unit "
              "changes along with a 4×+ change in magnitude (128KB → 1MB).",
      rationale="Order-of-magnitude typos and unit slips (seconds read as milliseconds, KB as MB) are "
                "valid config that behaves nothing like what was meant; zero or -1 often means "
                "'no limit' or 'disabled'.",
      incident="Cloudflare 2025-12-05 (body buffer 128 KB → 1 MB preceded the outage); AWS S3 2017-02-28",
      factor=10, unit_factor=4)
def magnitude_or_unit(facts: FileFacts, params: dict) -> Iterable[Hit]:
    factor, unit_factor = float(params.get("factor", 10)), float(params.get("unit_factor", 4))
    if not judged(facts):
        return
    for change in facts.leaves:
        if change.op != "replace" or nonprod(facts, change.key):
            continue  # type changes are SCH-003's
        name = setting_name(change.key)
        if not (_MAGNITUDE.search(name.lower()) or _CAMEL_UNIT.search(name)) or CAPACITY_KEY.search(name) \
                or key_has(change.key, *_PROBES) or is_dns_ttl(facts, change) or _RETENTION.search(name):
            continue  # capacity is CAP-*'s, probes K8S-002's, DNS TTLs DNS-002's
        values = _magnitudes(name, change.old, change.new)
        if values is None:
            continue
        r = ratio(*values)
        if r is None:
            continue
        u_old, u_new = unit_of(change.old), unit_of(change.new)
        unit_slip = u_old and u_new and u_old != u_new and (r >= unit_factor or r <= 1 / unit_factor)
        if not (r >= factor or r <= 1 / factor or unit_slip):
            continue
        if values[1] <= 0:
            why = "0 or a negative value often means 'no limit' or 'disabled'"
        else:
            why = f"×{r:.3g}" + (f", unit {u_old} → {u_new}" if u_old and u_new and u_old != u_new else "")
        yield Hit(f"{change.key}: {fmt(change.old)} → {fmt(change.new)} ({why}); check the unit and the "
                  f"order of magnitude", change.line, change=change)
