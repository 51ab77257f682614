"""Regexes written in the analysed repository run in Python's backtracking engine here, while
their authors wrote them for Go's linear-time RE2 (Prow). Refuse what RE2 would refuse and
what could backtrack catastrophically, so a hostile OWNERS file cannot hang the editor."""
from __future__ import annotations

import re
from typing import Optional

try:  # Python 3.11+
    import re._parser as _sre_parse  # type: ignore[import-not-found]
    import re._constants as _sre_constants  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as _sre_constants  # type: ignore[no-redef]
    import sre_parse as _sre_parse  # type: ignore[no-redef]

MAX_LENGTH = 1000
_REPEATS = {name for name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") if hasattr(_sre_constants, name)}
_NOT_RE2 = {"GROUPREF": "backreferences", "GROUPREF_EXISTS": "conditional groups",
            "ASSERT": "lookarounds", "ASSERT_NOT": "lookarounds"}


def risky_regex(expr: str) -> Optional[str]:
    """Why `expr` is not used, or None when it is safe to run."""
    if len(expr) > MAX_LENGTH:
        return f"longer than {MAX_LENGTH} characters"
    try:
        re.compile(expr)
        parsed = _sre_parse.parse(expr)
    except (re.error, RecursionError, OverflowError) as exc:
        return f"invalid regex: {exc}"
    return _walk(parsed, inside_repeat=False)


def _walk(items, inside_repeat: bool) -> Optional[str]:
    for op, arg in items:
        name = str(op)
        if name in _NOT_RE2:
            return f"{_NOT_RE2[name]} are not RE2 syntax"
        if name in _REPEATS:
            _low, high, sub = arg
            unbounded = high > 1
            if unbounded and inside_repeat:
                return "nested repetition could take exponential time"
            if unbounded and _has_branch(sub):
                return "repeated alternation could take exponential time"
            why = _walk(sub, inside_repeat or unbounded)
        elif name == "SUBPATTERN":
            why = _walk(arg[-1], inside_repeat)
        elif name == "BRANCH":
            why = next((w for w in (_walk(b, inside_repeat) for b in arg[1]) if w), None)
        else:
            why = None
        if why:
            return why
    return None


def _has_branch(items) -> bool:
    for op, arg in items:
        name = str(op)
        if name == "BRANCH":
            return True
        if name == "SUBPATTERN" and _has_branch(arg[-1]):
            return True
    return False
