"""Inline suppressions, in the file's own comment syntax, reason required:
`# changegate: allow CAP-001 -- scaling down the canary pool, CHG0012345`
(also after //, --, ;). It covers its own line and the line below."""
from __future__ import annotations

import re
from typing import Optional

SUPPRESSION = re.compile(r"changegate:\s*allow\s+([A-Z]{2,5}-\d{3}(?:\s*,\s*[A-Z]{2,5}-\d{3})*)\s*--\s*(\S.*?)\s*$")
Table = dict[int, dict[str, str]]


def suppressions(text: Optional[str]) -> Table:
    """line -> {rule: reason} for lines that carry a suppression comment."""
    out: Table = {}
    if not text or "changegate:" not in text:
        return out
    for n, line in enumerate(text.splitlines(), 1):
        if "changegate:" in line:
            m = SUPPRESSION.search(line)
            if m:
                out[n] = {r.strip(): m.group(2) for r in m.group(1).split(",")}
    return out


def reason_for(table: Table, rule: str, line: int) -> Optional[str]:
    for n in (line, line - 1):
        reason = table.get(n, {}).get(rule)
        if reason:
            return reason
    return None


def added(new: Table, old: Table) -> list[tuple[int, str, str]]:
    """(line, rule, reason) of suppressions in `new` that `old` did not have."""
    before = {(rule, reason) for entry in old.values() for rule, reason in entry.items()}
    return [(line, rule, reason) for line, entry in sorted(new.items())
            for rule, reason in sorted(entry.items()) if (rule, reason) not in before]
