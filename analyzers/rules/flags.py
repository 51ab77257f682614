"""Feature-flag rules: flags ship code paths to everyone at once (Slack 2020, Knight Capital 2012,
Cloudflare 2025-12-05). Formats: LaunchDarkly exports (`on`, `variations`, rollout weights in
thousandths of a percent), Unleash (`enabled`, `strategies[].parameters.rollout`), flagd (`state`,
`variants`, `defaultVariant`, `targeting.fractional`), Flipt, and plain `features: {x: true}` files."""
from __future__ import annotations

import posixpath
import re
from typing import Iterable, Optional

from ..configdiff import MISSING
from ..configdiff.semdiff import join
from ..model import ConfigChange
from .env import key_environment, nonprod, parent_key, segments, words
from .registry import FileFacts, Hit, rule
from .util import fmt, last_key, number, where

FLAG_CONTAINERS = {"flags", "features", "toggles", "featureflags", "feature_flags", "feature-flags", "switches"}
ENABLE_KEYS = {"enabled", "enable", "on", "active", "isenabled", "is_enabled"}
_ROLLOUT_WORDS = {"rollout", "percent", "percentage", "pct", "weight"}
_GATE_WORDS = {"targeting", "constraints", "rules", "clauses", "targets", "segments", "userids", "conditions"}
VARIATION_SEGMENTS = {"variations", "variants", "treatments"}
_VARIATION_META = {"name", "description", "_id", "id", "key", "label", "weight", "stickiness", "weighttype"}
VALUE_TYPE_KEYS = {"kind", "type", "valuetype", "value_type", "flagtype", "flag_type", "returntype", "return_type"}
VALUE_TYPES = {"boolean", "bool", "string", "number", "int", "integer", "float", "double", "json", "object",
               "multivariate", "array"}
DEFAULT_KEYS = {"default", "defaultvalue", "default_value"}
_KILL = {"killswitch", "bypass", "emergency", "breakglass"}  # "kill" alone (kill_timeout) only in flag files
_DISABLE = {"disable", "disabled", "disables"}
_PROPAGATION_KEYS = {"propagation", "propagation_channel", "channel", "config_channel", "distribution"}
_MAY_MARK_GLOBAL = re.compile("|".join(sorted(_PROPAGATION_KEYS)))  # matched on lowercased text
_GLOBAL_VALUES = {"global", "instant", "immediate", "global-config", "all-at-once", "fleet-wide"}
_GLOBAL_PATH = re.compile(r"(^|/)global[-_]?config(s)?(/|\.|$)", re.I)


# -- FLG-001 ----------------------------------------------------------------------------------
def _share(facts: FileFacts, change: ConfigChange, side: str) -> Optional[float]:
    """The percentage of traffic a rollout value stands for on one side, or None."""
    raw = change.old if side == "old" else change.new
    value = number(raw.strip().rstrip("%")) if isinstance(raw, str) else number(raw)
    if value is None:
        return None
    segs = segments(change.key)
    if any(s[1] == "fractional" for s in segs):  # flagd: [["on", 10], ["off", 90]] weights are relative
        at = max(i for i, s in enumerate(segs) if s[1] == "fractional")
        pairs = facts.value(change.key[:segs[at][3]], change.document, side)
        total = sum(number(p[1]) or 0 for p in pairs if isinstance(p, list) and len(p) == 2) \
            if isinstance(pairs, list) else 0
        return 100 * value / total if total else None
    if len(segs) >= 2 and segs[-2][0] in ("index", "ident"):  # weights of a list of variations: relative to their sum
        items = facts.value(change.key[:segs[-2][2]], change.document, side)
        name = segs[-1][1]
        if isinstance(items, list) and all(isinstance(i, dict) for i in items):
            total = sum(number(i.get(name)) or 0 for i in items)
            if total:
                return 100 * value / total
    return value / 1000 if value > 100 else value  # LaunchDarkly weights are in thousandths of a percent


def _is_rollout(key: str) -> bool:
    segs = segments(key)
    if len(segs) >= 3 and segs[-1][0] == "index" and segs[-1][1] == "1" and any(s[1] == "fractional" for s in segs):
        return True  # flagd: the weight of a [variant, weight] pair
    return bool(set(words(last_key(key))) & _ROLLOUT_WORDS)


def _enables(facts: FileFacts, change: ConfigChange) -> bool:
    """`enabled: false → true`, `state: DISABLED → ENABLED`, `features.x: false → true`, and a flagd
    `defaultVariant` moving from a false variant to a true one."""
    name = last_key(change.key).lower()
    old, new = change.old, change.new
    if name == "defaultvariant" and isinstance(old, str) and isinstance(new, str):
        variants = join(parent_key(change.key), "variants")
        return facts.value(join(variants, old), change.document, "old") is False and \
            facts.value(join(variants, new), change.document) is True
    if name == "state" and isinstance(old, str) and isinstance(new, str):
        return old.upper() in ("DISABLED", "OFF", "INACTIVE") and new.upper() in ("ENABLED", "ON", "ACTIVE")
    if old is not False or new is not True:
        return False
    if name in ENABLE_KEYS:
        return True
    parent = segments(parent_key(change.key))
    return bool(parent) and parent[-1][1].lower() in FLAG_CONTAINERS


def _rollout_group(key: str) -> str:
    """The set of weights a rollout value is part of: the fractional/variation list, or itself."""
    segs = segments(key)
    if any(s[1] == "fractional" for s in segs):
        at = max(i for i, s in enumerate(segs) if s[1] == "fractional")
        return key[:segs[at][3]]
    if len(segs) >= 2 and segs[-2][0] in ("index", "ident"):
        return key[:segs[-2][2]]
    return key


def _gated(facts: FileFacts, change: ConfigChange) -> bool:
    """Whether the enabled flag still reaches only part of the traffic: a rollout whose largest
    share is under 100%, or non-empty targeting/constraints/rules."""
    prefix = parent_key(change.key)
    parent = segments(prefix)
    if not prefix or parent[-1][1].lower() in FLAG_CONTAINERS:
        return False  # a plain `features: {x: true}` flag has nothing to gate it
    largest: dict[str, float] = {}
    for doc, key in facts.keys("new"):
        if doc != change.document or not key.startswith((prefix + ".", prefix + "[")):
            continue
        if any(s[1].lower() in _GATE_WORDS for s in segments(key[len(prefix):])):
            if facts.value(key, doc) not in ({}, [], None, MISSING):
                return True
        elif _is_rollout(key):
            share = _share(facts, ConfigChange(key, "replace", None, facts.value(key, doc), document=doc), "new")
            if share is not None:
                group = _rollout_group(key)
                largest[group] = max(share, largest.get(group, 0.0))
    return any(v < 100 for v in largest.values())


@rule("FLG-001", "flag-rollout-jump", "warning", kinds=("feature-flags",),
      summary="A flag's rollout jumps (0 → 50%+, or more than ×2 by 10+ points), or a flag is switched "
              "on for everyone in a production/default scope with no percentage or targeting.",
      rationale="A flag flip ships a code path to every user at once; a big percentage step skips the "
                "stage where a problem shows up on a few users first.",
      incident="Slack 2020-05-12 (a percentage-rollout flag triggered the day's cascade); Knight Capital 2012",
      step=2.0, min_step_points=10, first_step=50)
def flag_rollout_jump(facts: FileFacts, params: dict) -> Iterable[Hit]:
    step = float(params.get("step", 2.0))
    min_points = float(params.get("min_step_points", 10))
    first = float(params.get("first_step", 50))
    seen: set[tuple[Optional[str], str]] = set()
    for change in facts.leaves:
        if change.op not in ("replace", "type_change") or nonprod(facts, change.key) or killswitch(change.key):
            continue
        if _is_rollout(change.key):
            old, new = _share(facts, change, "old"), _share(facts, change, "new")
            if old is None or new is None or new <= old:
                continue
            jump = (old == 0 and new >= first) or (old > 0 and new / old > step and new - old >= min_points)
            scope = _rollout_group(change.key)
            if jump and (change.document, scope) not in seen:
                seen.add((change.document, scope))
                yield Hit(f"{change.key}: rollout {_pct(old)} → {_pct(new)} in one step; {where(facts)} "
                          f"ships this code path to {new - old:.0f} more points of its traffic at once",
                          change.line, change=change)
        elif _enables(facts, change) and not _gated(facts, change):
            scope = key_environment(change.key) or facts.environment or "every environment"
            yield Hit(f"{change.key}: {fmt(change.old)} → {fmt(change.new)} turns the flag on for all traffic "
                      f"in {scope} at once, with no percentage rollout or targeting", change.line, change=change)


def _pct(value: float) -> str:
    return f"{value:.0f}%" if value >= 1 or value == 0 else f"{value:.2g}%"


# -- FLG-002 ----------------------------------------------------------------------------------
def flag_value_leaf(key: str) -> bool:
    """Whether FLG-002 judges this key of a flag file (variation values, defaults, value types)."""
    name = last_key(key).lower()
    return any(s[1] in VARIATION_SEGMENTS for s in segments(key)) or name in DEFAULT_KEYS or name in VALUE_TYPE_KEYS


def _repurposed(facts: FileFacts, change: ConfigChange) -> Optional[tuple[str, str]]:
    """(flag key path, what changed) when an existing flag's meaning changes."""
    segs = segments(change.key)
    name = last_key(change.key).lower()
    if change.op == "reorder" and segs and segs[-1][1] in VARIATION_SEGMENTS:
        return parent_key(change.key), "variations reordered: rules that pick a variation by position now serve another"
    if name in VALUE_TYPE_KEYS and change.op == "replace" and \
            all(isinstance(v, str) and v.lower() in VALUE_TYPES for v in (change.old, change.new)):
        return parent_key(change.key), f"value type {change.old} → {change.new}"
    if name in DEFAULT_KEYS and change.op == "type_change":
        return parent_key(change.key), f"default {fmt(change.old)} → {fmt(change.new)} changes type"
    at = next((i for i, s in enumerate(segs) if s[1] in VARIATION_SEGMENTS), None)
    if at is None or at + 1 >= len(segs):
        return None
    flag = change.key[:segs[at][2]].rstrip(".")
    if segs[-1][0] == "key" and segs[-1][1].lower() in _VARIATION_META and len(segs) > at + 2:
        return None  # a variation's name/description/weight: labels, not meaning
    if facts.value(flag, change.document, "new") is MISSING:
        return None  # the whole flag went away: that is a removal, not a reuse
    old, new = change.old, change.new
    if change.op == "remove":
        return flag, f"variation {change.key[segs[at][2]:]} removed (was {fmt(old)}); rules and code that " \
                     f"pick variations by position or name now get another one"
    if change.op == "type_change":
        return flag, f"variation value {fmt(old)} → {fmt(new)} changes type"
    if change.op == "replace" and (isinstance(old, bool) and isinstance(new, bool)
                                   or isinstance(old, str) and isinstance(new, str)):
        return flag, f"variation value {fmt(old)} → {fmt(new)}"
    return None


@rule("FLG-002", "flag-semantics-change", "warning", kinds=("feature-flags",),
      summary="An existing flag keeps its key but its value type, default type or variation values change.",
      rationale="Code deployed at different times reads the same flag key: when the key is kept but "
                "its meaning changes, old binaries reactivate or misread a code path. Retire the key "
                "and add a new one instead.",
      incident="Knight Capital 2012-08-01 (a repurposed flag re-enabled dead Power Peg code; $440M in 45 min)")
def flag_semantics_change(facts: FileFacts, params: dict) -> Iterable[Hit]:
    seen: set[tuple[Optional[str], str]] = set()
    for change in facts.leaves:
        if change.op not in ("replace", "type_change", "remove", "reorder") or nonprod(facts, change.key):
            continue
        found = _repurposed(facts, change)
        if found is None or (change.document, found[0]) in seen:
            continue
        seen.add((change.document, found[0]))
        yield Hit(f"flag {found[0]}: {found[1]}; the key is kept but its meaning changes for every binary "
                  f"that reads it — use a new flag key", change.line, change=change)


# -- FLG-003 ----------------------------------------------------------------------------------
def killswitch(key: str, strong_only: bool = False) -> Optional[str]:
    """The key segment naming a kill switch / bypass / emergency path, if any."""
    for kind, text, _, _ in segments(key):
        value = text.split("=", 1)[1] if kind == "ident" and "=" in text else text
        ws = words(value)
        pairs = {a + b for a, b in zip(ws, ws[1:])}
        if (set(ws) | pairs) & _KILL or (not strong_only and set(ws) & (_DISABLE | {"kill"})):
            return value
    return None


def _global_scopes(facts: FileFacts) -> list[tuple[Optional[str], str, str]]:
    """(document, key prefix, marker) of every part of the file marked as globally propagated."""
    if _GLOBAL_PATH.search(posixpath.dirname(facts.file.path) + "/" + posixpath.basename(facts.file.path)):
        return [(None, "", "a global config path")]
    scopes = []
    if not _MAY_MARK_GLOBAL.search((facts.file.new_text or "").lower()):
        return scopes  # no marker key anywhere: skip the walk over every key of the file
    for doc, key in facts.keys("new"):
        name = last_key(key)
        if name.lower() in _PROPAGATION_KEYS or name.endswith("/propagation"):
            value = facts.value(key, doc)
            if isinstance(value, str) and value.strip().lower() in _GLOBAL_VALUES:
                prefix = parent_key(key)
                if segments(prefix) and segments(prefix)[-1][1] in ("annotations", "metadata"):
                    prefix = ""  # a file/document-level marker
                scopes.append((doc, prefix, f"{name}: {value}"))
    return scopes


@rule("FLG-003", "killswitch-global", "warning",
      summary="A kill switch / bypass / emergency / break-glass key changes, or any change lands in a "
              "file or key marked `propagation: global`.",
      rationale="Kill switches and global config channels skip gradual rollout by design: the change "
                "reaches the whole fleet within seconds, so a mistake there is a fleet-wide outage "
                "before anyone can react.",
      incident="Cloudflare 2025-12-05 (a killswitch pushed through the global config system; 25 min, "
               "~28% of HTTP traffic); Salesforce 2021-05-11 (emergency path skipped staggering)")
def killswitch_global(facts: FileFacts, params: dict) -> Iterable[Hit]:
    if "ci" in facts.kinds or nonprod(facts):
        return
    scopes = _global_scopes(facts)
    reported: set[tuple[Optional[str], str]] = set()
    strong_only = "feature-flags" not in facts.kinds
    for change in facts.leaves:
        if change.op not in ("replace", "type_change") or nonprod(facts, change.key):
            continue
        switch = killswitch(change.key, strong_only)
        if switch is None:
            continue
        scope = next((s for s in scopes if s[0] == change.document and _under(change.key, s[1])), None)
        channel = f" through the global channel ({scope[2]})" if scope else ""
        reported.add((change.document, change.key))
        yield Hit(f"{change.key}: {fmt(change.old)} → {fmt(change.new)} flips kill switch / bypass "
                  f"'{switch}'{channel}; it reaches all of {where(facts)} at once, with no staged rollout",
                  change.line, change=change)
    for doc, prefix, marker in scopes:
        inside = [c for c in facts.changes if c.document == doc and _under(c.key, prefix)
                  and not any(r[0] == doc and _under(r[1], c.key) for r in reported)]
        if inside:
            first = min(inside, key=lambda c: c.line)
            where_ = prefix or facts.file.path
            yield Hit(f"{len(inside)} change(s) in {where_} ({marker}) propagate to the whole fleet within "
                      f"seconds, with no staged rollout; first: {first.key}", first.line, change=first)


def _under(key: str, prefix: str) -> bool:
    return not prefix or key == prefix or key.startswith((prefix + ".", prefix + "["))
