"""Small helpers that rules share: key names, numbers, quantities, durations, wording."""
from __future__ import annotations

import re
from typing import Any, Iterable, Optional

from ..configdiff import MISSING
from ..model import ConfigChange
from .registry import FileFacts

_SEGMENT = re.compile(r'\[[^\]]*\]$')


def last_key(key: str) -> str:
    """`spec.template.spec.containers[name=api].image` -> `image`; `a.b[2]` -> `b`;
    `x["app.kubernetes.io/name"]` -> `app.kubernetes.io/name`."""
    while key.endswith("]"):
        m = re.search(r'\["((?:[^"\\]|\\.)*)"\]$', key)
        if m:
            return m.group(1).replace('\\"', '"')
        stripped = _SEGMENT.sub("", key)
        if stripped == key:
            break
        key = stripped
    return key.rsplit(".", 1)[-1]


def key_has(key: str, *names: str) -> bool:
    """Whether any dot-segment of the key path is one of `names` (case-insensitive)."""
    wanted = {n.lower() for n in names}
    return any(seg.split("[", 1)[0].lower() in wanted for seg in key.split("."))


def changes_of(facts: FileFacts, ops: Iterable[str] = ("replace", "type_change")) -> Iterable[ConfigChange]:
    ops = set(ops)
    return (c for c in facts.leaves if c.op in ops)


def number(value: Any) -> Optional[float]:
    """A plain number, from a number or a numeric string; None otherwise (bools are not numbers)."""
    if isinstance(value, bool) or value is None or value is MISSING:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+(\.\d+)?\s*", value):
        return float(value)
    return None


_QUANTITY = re.compile(r"^\s*([-+]?\d+(?:\.\d+)?)\s*(Ki|Mi|Gi|Ti|Pi|Ei|k|K|M|G|T|P|E|m|KB|MB|GB|TB|kb|mb|gb|B|b)?\s*$")
_FACTORS = {None: 1, "": 1, "m": 1e-3, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
            "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
            "B": 1, "b": 1, "KB": 1e3, "kb": 1e3, "MB": 1e6, "mb": 1e6, "GB": 1e9, "gb": 1e9, "TB": 1e12}


def quantity(value: Any) -> Optional[float]:
    """Kubernetes-style quantities and byte sizes: `500m` -> 0.5, `1Gi`, `512Mi`, `128KB`."""
    n = number(value)
    if n is not None:
        return n
    if not isinstance(value, str):
        return None
    m = _QUANTITY.match(value)
    return float(m.group(1)) * _FACTORS[m.group(2)] if m else None


def unit_of(value: Any) -> Optional[str]:
    """The unit suffix of a quantity or duration string (`Mi`, `ms`, `s`), or None."""
    if not isinstance(value, str):
        return None
    m = re.fullmatch(r"\s*[-+]?\d+(?:\.\d+)?\s*([A-Za-z]+)\s*", value)
    return m.group(1) if m else None


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)")
_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(value: Any) -> Optional[float]:
    """Go-style durations in seconds: `30s`, `1m30s`, `250ms`, `2h`. Plain numbers pass through."""
    n = number(value)
    if n is not None:
        return n
    if not isinstance(value, str):
        return None
    text = value.strip()
    parts = _DURATION.findall(text)
    if not parts or "".join(a + b for a, b in parts) != text:
        return None
    return sum(float(a) * _SECONDS[b] for a, b in parts)


def ratio(old: Optional[float], new: Optional[float]) -> Optional[float]:
    """new / old, or None when either is missing or old is zero."""
    if old is None or new is None or old == 0:
        return None
    return new / old


def fmt(value: Any) -> str:
    """A value as a reviewer reads it: 3 not 3.0, strings bare, missing as 'absent'."""
    if value is MISSING:
        return "absent"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


def where(facts: FileFacts) -> str:
    """`checkout in prod`, or the path when no service owns the file."""
    scope = facts.service or facts.file.path
    return f"{scope} in {facts.environment}" if facts.environment else scope


def transition(change: ConfigChange) -> str:
    """`spec.replicas: 3 → 0` (or `added`/`removed`)."""
    if change.op == "add":
        return f"{change.key}: added as {fmt(change.new)}"
    if change.op == "remove":
        return f"{change.key}: removed (was {fmt(change.old)})"
    return f"{change.key}: {fmt(change.old)} → {fmt(change.new)}"
