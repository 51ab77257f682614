"""Path globs for policy files: `*` within a segment, `**` across segments, anchored at the
repository root. (fnmatch lets `*` cross `/`; CODEOWNERS patterns have their own matcher.)"""
from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=4096)
def glob_regex(pattern: str) -> re.Pattern[str]:
    pattern = pattern.lstrip("/")
    out, i, n = [], 0, len(pattern)
    while i < n:
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(c))
                i += 1
            else:
                body = pattern[i + 1:end].replace("\\", "\\\\")
                out.append("[^" + body[1:] + "]" if body.startswith("!") else "[" + body + "]")
                i = end + 1
        else:
            out.append(re.escape(c))
            i += 1
    return re.compile("".join(out) + r"\Z")


def glob_match(pattern: str, path: str) -> bool:
    return glob_regex(pattern).match(path) is not None


def any_match(patterns, path: str) -> bool:
    return any(glob_match(p, path) for p in patterns)
