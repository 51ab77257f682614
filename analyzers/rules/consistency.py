"""Consistency rules: values that are broken whatever the environment, so they run everywhere:
SCH-005 regexes that can backtrack catastrophically (Cloudflare 2019-07-02), SCH-006 pairs of
fields that contradict each other (Yin et al. SOSP'11), SCH-007 rows that no longer match their
declared fields (CrowdStrike 2024-07-19)."""
from __future__ import annotations

import re
from collections import Counter
from functools import partial
from typing import Any, Iterable, Optional

from ..configdiff import MISSING
from ..configdiff.semdiff import join
from ..model import ConfigChange
from .env import parent_key, segments, setting_name, words
from .registry import FileFacts, Hit, rule
from .schema import count
from .util import duration, fmt, last_key, quantity


# -- SCH-005 ----------------------------------------------------------------------------------
_PATTERN_WORDS = {"regex", "regexp", "regexes", "pattern", "patterns", "match", "matches", "rule", "rules",
                  "expression", "expr", "filter", "filters"}


@rule("SCH-005", "regex-risk", "warning",
      summary="An added/changed pattern has nested or adjacent unbounded quantifiers, or a narrow pattern "
              "becomes a catch-all.",
      rationale="Backtracking regex engines take exponential or polynomial time on patterns like "
                "`(a+)+` or `.*(?:.*=.*)`; one such rule pushed to every edge pins every CPU. A pattern "
                "turned into `.*` silently applies to everything.",
      incident="Cloudflare 2019-07-02 (WAF rule `.*(?:.*=.*)`, 27 min of global 502s)")
def regex_risk_rule(facts: FileFacts, params: dict) -> Iterable[Hit]:
    for change in facts.leaves:
        if change.op not in ("add", "replace", "type_change") or not isinstance(change.new, str):
            continue
        if not set(words(setting_name(change.key))) & _PATTERN_WORDS and not _looks_like_regex(change.new):
            continue
        old = change.old if change.op != "add" and isinstance(change.old, str) else None
        why = regex_risk(change.new, old)
        if why and not (old is not None and regex_risk(old) == why):  # judge what the change introduced
            yield Hit(f"{change.key}: {change.new!r} {why}", change.line, change=change)


def _looks_like_regex(text: str) -> bool:
    t = text.strip()
    return bool(re.search(r"\(\?[:=!<]|\\[dwsDWS][*+]|\.[*+]\)|\)[*+]", t)) or \
        (t.startswith("^") or t.endswith("$")) and bool(re.search(r"\\.|\(|\[|\.[*+]|\|", t))


_UNBOUNDED = re.compile(r"\*|\+|\{\d*,\}")
_QUANT = re.compile(r"(\*|\+|\?|\{\d*(?:,\d*)?\})[?+]?")


def regex_risk(rx: str, old: Optional[str] = None) -> Optional[str]:
    """Structural ReDoS check (the pattern is read, never compiled or run): nested unbounded
    quantifiers with no mandatory separator in the group (`(a+)+`, `(\\w+\\s?)*`), two adjacent
    unbounded wildcards (`.*.*`, `.*(?:.*=.*)`), or a narrow pattern replaced by a catch-all."""
    catch_all = re.sub(r"[\^$()]|\?:", "", rx.strip()) in (".*", ".+", ".*?", ".+?")
    if catch_all and old is not None and \
            re.sub(r"[\^$()]|\?:", "", old.strip()) not in (".*", ".+", ".*?", ".+?"):
        return "now matches everything: every request/path/key the rule used to single out"
    # groups: [has unbounded inside, separator atoms, unbounded atoms, has alternation]
    stack: list[list] = [[False, set(), set(), False]]
    last_wild, i, n = False, 0, len(rx)
    while i < n:
        c = rx[i]
        if c == "(":
            i += 1
            if rx.startswith("?", i):
                m = re.match(r"\?(?:P?<[A-Za-z_]\w*>|<=|<!|[:=!>]|[a-zA-Z-]+[:)])", rx[i:])
                i += m.end() if m else 1
            stack.append([False, set(), set(), False])
            continue
        if c == "|":
            stack[-1][3], last_wild = True, False
            i += 1
            continue
        if c == ")":
            group = stack.pop() if len(stack) > 1 else [False, set(), set(), False]
            i += 1
            q = _QUANT.match(rx, i)
            unbounded = bool(q and _UNBOUNDED.match(q.group(1)))
            if unbounded and group[0] and (group[3] or not (group[1] - group[2])):
                return "nests unbounded quantifiers: catastrophic backtracking on a non-matching input"
            stack[-1][0] = stack[-1][0] or group[0] or unbounded
            if q:
                i = q.end()
            continue
        if c in "^$":
            i += 1
            continue
        if c == "\\":
            atom, i = rx[i:i + 2], i + 2
        elif c == "[":
            m = re.match(r"\[\^?\]?(?:\\.|[^\]\\])*\]", rx[i:])
            atom = m.group(0) if m else c
            i += len(atom)
        else:
            atom, i = c, i + 1
        q = _QUANT.match(rx, i)
        unbounded = bool(q and _UNBOUNDED.match(q.group(1)))
        wild = unbounded and (atom == "." or atom.startswith("[^") or atom in ("\\S", "\\W", "\\D"))
        if wild and last_wild:
            return "has adjacent unbounded wildcards: polynomial backtracking on long inputs"
        last_wild = wild
        if unbounded:
            stack[-1][0] = True
            stack[-1][2].add(atom)
        elif not q or q.group(1) not in ("?", "*") and not q.group(1).startswith("{0"):
            if atom != ".":
                stack[-1][1].add(atom)  # a mandatory atom: iterations cannot overlap freely
        if q:
            i = q.end()
    return None


# -- SCH-006 ----------------------------------------------------------------------------------
_MINMAX = re.compile(r"^(min|Min|MIN)(.*)$")
_PER_TRY = ("perTryTimeout", "per_try_timeout")


def _pairs(change: ConfigChange) -> Iterable[tuple[str, str, str, Any]]:
    """(lower key, upper key, what, parser) pairs the changed key takes part in: lower must not
    exceed upper."""
    key, parent, name = change.key, parent_key(change.key), last_key(change.key)
    sibling = partial(join, parent)  # a key next to the changed one
    m = _MINMAX.match({"max": "min", "Max": "Min", "MAX": "MIN"}.get(name[:3], name[:3]) + name[3:])
    if m:
        upper = {"min": "max", "Min": "Max", "MIN": "MAX"}[m.group(1)]
        yield sibling(m.group(1) + m.group(2)), sibling(upper + m.group(2)), "minimum exceeds maximum", quantity
        if m.group(2) in ("_size", "Size"):
            desired = "desired_capacity" if m.group(2) == "_size" else "desiredCapacity"
            yield sibling(desired), sibling(upper + m.group(2)), "desired capacity exceeds maximum", quantity
            yield sibling(m.group(1) + m.group(2)), sibling(desired), "minimum exceeds desired capacity", quantity
    elif name in ("desired_capacity", "desiredCapacity"):
        size = "_size" if "_" in name else "Size"
        yield key, sibling("max" + size), "desired capacity exceeds maximum", quantity
        yield sibling("min" + size), key, "minimum exceeds desired capacity", quantity
    segs = segments(key)
    if len(segs) >= 2 and segs[-2][1] in ("requests", "limits"):
        base = key[:segs[-2][2]]
        yield join(join(base, "requests"), name), join(join(base, "limits"), name), "request exceeds limit", quantity
    if name in _PER_TRY:
        route = parent_key(parent)
        yield key, f"{route}.timeout" if route else "timeout", "per-try timeout exceeds the route timeout", duration
    elif name == "timeout":
        for retry in ("retries.perTryTimeout", "retry_policy.per_try_timeout", "retryPolicy.perTryTimeout"):
            yield sibling(retry), key, "per-try timeout exceeds the route timeout", duration
    w = words(name)
    if "timeout" in w and ("client" in w or "upstream" in w):
        other = name.replace("client", "upstream") if "client" in w else name.replace("upstream", "client")
        client, upstream = (key, sibling(other)) if "client" in w else (sibling(other), key)
        yield client, upstream, "client timeout exceeds the upstream timeout", duration


def _kinds(facts: FileFacts) -> dict[Optional[str], Any]:
    """Kubernetes kind of every document of the new side."""
    return {doc: facts.value("kind", doc) for doc, key in facts.keys("new") if key == "kind"}


def _pdb_pairs(facts: FileFacts, change: ConfigChange, kinds: Optional[dict]) -> Iterable[tuple]:
    """((doc, minAvailable key), (doc, replicas key)) for a PDB and the workload it selects."""
    if change.doc_kind not in ("PodDisruptionBudget", "Deployment", "StatefulSet"):
        return
    pdbs = [d for d, k in kinds.items() if k == "PodDisruptionBudget"]
    workloads = [d for d, k in kinds.items() if k in ("Deployment", "StatefulSet")]
    for pdb in pdbs:
        selector = facts.value("spec.selector.matchLabels", pdb)
        for wl in workloads:
            labels = facts.value("spec.template.metadata.labels", wl)
            same_ns = facts.value("metadata.namespace", pdb) == facts.value("metadata.namespace", wl)
            selects = isinstance(selector, dict) and isinstance(labels, dict) and selector and \
                selector.items() <= labels.items()
            same_name = facts.value("metadata.name", pdb) == facts.value("metadata.name", wl)
            if same_ns and (selects or same_name) and change.document in (pdb, wl):
                yield (pdb, "spec.minAvailable"), (wl, "spec.replicas"), "PDB minAvailable ≥ replicas", quantity


def _inconsistent(facts: FileFacts, low: tuple, high: tuple, what: str, parse: Any, side: str) -> Optional[tuple]:
    a_raw, b_raw = facts.value(low[1], low[0], side), facts.value(high[1], high[0], side)
    if what.startswith("PDB"):
        if isinstance(a_raw, str) and a_raw.strip() == "100%" and b_raw is not MISSING:
            return a_raw, b_raw
        a, r = quantity(a_raw), quantity(b_raw)
        return (a_raw, b_raw) if a is not None and r is not None and r > 0 and a >= r else None
    a, b = parse(a_raw), parse(b_raw)
    return (a_raw, b_raw) if a is not None and b is not None and a > b else None


@rule("SCH-006", "cross-field-inconsistent", "warning",
      summary="The change makes two related fields contradict: min > max, requests > limits, PDB "
              "minAvailable ≥ the workload's replicas, per-try/client timeout > route/upstream timeout.",
      rationale="12-30% of real parameter mistakes are inconsistencies between parameters: each value "
                "is valid alone, together they cannot hold (an apply that fails, a drain that hangs, "
                "retries that never happen).",
      incident="Yin et al. SOSP'11 (inconsistent parameters); Azure Front Door 2025-10-29 (inconsistent "
               "config passed validation)")
def cross_field_inconsistent(facts: FileFacts, params: dict) -> Iterable[Hit]:
    seen, kinds = set(), None
    for change in facts.leaves:
        if change.op not in ("replace", "type_change", "add"):
            continue
        doc = change.document
        pairs = [((doc, lo), (doc, hi), what, parse) for lo, hi, what, parse in _pairs(change)]
        if last_key(change.key) in ("minAvailable", "replicas") and change.document is not None:
            kinds = _kinds(facts) if kinds is None else kinds
            pairs += list(_pdb_pairs(facts, change, kinds))
        for low, high, what, parse in pairs:
            now = _inconsistent(facts, low, high, what, parse, "new")
            if now is None or (low, high) in seen or _inconsistent(facts, low, high, what, parse, "old"):
                continue  # consistent now, or already inconsistent before this change
            seen.add((low, high))
            yield Hit(f"{what}: {_name(low, high, 0)} = {fmt(now[0])}, {_name(low, high, 1)} = {fmt(now[1])} "
                      f"after {change.key}: {fmt(change.old)} → {fmt(change.new)}; {_EFFECT[what]}",
                      change.line, change=change)


_EFFECT = {"minimum exceeds maximum": "the pair is rejected, or the ceiling silently wins",
           "desired capacity exceeds maximum": "the apply is rejected",
           "minimum exceeds desired capacity": "the apply is rejected",
           "request exceeds limit": "Kubernetes rejects the pod spec",
           "PDB minAvailable ≥ replicas": "no pod may ever be evicted, so node drains and upgrades hang",
           "per-try timeout exceeds the route timeout": "the route times out before a retry can happen",
           "client timeout exceeds the upstream timeout": "the upstream gives up first and the client "
                                                         "waits for an answer that will not come"}


def _name(low: tuple, high: tuple, which: int) -> str:
    """The key without the prefix both keys share (`requests.cpu`), with its document when they differ."""
    keys = (low[1], high[1])
    common = 0
    for a, b in zip(segments(keys[0]), segments(keys[1])):
        if a[:2] != b[:2]:
            break
        common = a[3]
    short = keys[which][common:].lstrip(".") or keys[which]
    doc = (low, high)[which][0]
    return f"{doc} {short}" if low[0] != high[0] and doc else short


# -- SCH-007 ----------------------------------------------------------------------------------
_HEADER_KEYS = ("fields", "columns", "header", "headers")


_ROW_KEYS = ("rows", "values", "data", "instances", "records", "entries", "items")


def _row_lengths(facts: FileFacts, key: str, doc: Optional[str], side: str) -> Optional[list[int]]:
    if not isinstance(facts.value(f"{key}[0]", doc, side), list):
        return None  # not a list of rows: decided without reading the whole list
    n = count(facts.value(key, doc, side))
    if not n or n > 5000:
        return None
    lengths = [count(facts.value(f"{key}[{i}]", doc, side)) for i in range(n)]
    return None if any(x is None for x in lengths) else lengths  # type: ignore[return-value]


@rule("SCH-007", "arity-mismatch", "warning",
      summary="Rows of a list of tuples no longer have the same number of fields, or no longer match "
              "the declared fields/columns.",
      rationale="A consumer that indexes row fields by position reads past the end of a short row: "
                "template and instances must agree on the number of fields.",
      incident="CrowdStrike 2024-07-19 (template type with 21 fields, instances supplying 20)")
def arity_mismatch(facts: FileFacts, params: dict) -> Iterable[Hit]:
    touched: dict = {}
    for c in facts.leaves:
        segs = segments(c.key)
        for n in range(1, len(segs)):
            if segs[n][0] in ("index", "ident"):
                container = c.key[:segs[n][2]]
                touched.setdefault((c.document, container), c)
                if last_key(container) in _HEADER_KEYS:  # the declared fields changed: re-check the rows
                    parent = parent_key(container)
                    for rows in _ROW_KEYS:
                        touched.setdefault((c.document, f"{parent}.{rows}" if parent else rows), c)
    for (doc, key), change in touched.items():
        new = _row_lengths(facts, key, doc, "new")
        if not new or len(new) < 2 and not _header(facts, key, doc, "new"):
            continue
        old = _row_lengths(facts, key, doc, "old") or []
        header_new, header_old = _header(facts, key, doc, "new"), _header(facts, key, doc, "old")
        if old and (len(set(old)) > 1 or header_old and set(old) != {header_old}):
            continue  # the mismatch was already there
        # against the declared fields, else against the most common row length (ties: the first row's)
        expected = header_new or Counter(new).most_common(1)[0][0]
        odd = next((i for i, x in enumerate(new) if x != expected), None)
        if odd is None:
            continue
        where_ = f"{header_new} declared fields" if header_new else f"{expected} fields in the other rows"
        yield Hit(f"{key}[{odd}] has {new[odd]} fields, against {where_}; a consumer reading fields by "
                  f"position goes out of bounds", change.line, change=change)


def _header_of(facts: FileFacts, key: str, doc: Optional[str], side: str = "new") -> list:
    parent = parent_key(key)
    for h in _HEADER_KEYS:
        value = facts.value(f"{parent}.{h}" if parent else h, doc, side)
        if isinstance(value, list) and value and not all(isinstance(v, list) for v in value):
            return value
    return []


def _header(facts: FileFacts, key: str, doc: Optional[str], side: str) -> Optional[int]:
    return len(_header_of(facts, key, doc, side)) or None
