"""`--format json`: the Report of DESIGN §4.2. Byte-identical for the same state."""
from __future__ import annotations

import json

from analyzers.model import Report


def render(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=2, sort_keys=False, ensure_ascii=False, default=str) + "\n"
