"""The files that decide a change's gate. They are read at the base revision, and editing them is
itself a finding (POL-001) that needs the review of their owners."""
from __future__ import annotations

import posixpath
from typing import Optional

from .policy import POLICY_FILE

CODEOWNERS_LOCATIONS = ("CODEOWNERS", ".github/CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS",
                        ".bitbucket/CODEOWNERS")
# found in any directory: Kubernetes/Prow OWNERS and Backstage catalog descriptors
_ANYWHERE = {"OWNERS": "OWNERS", "OWNERS_ALIASES": "OWNERS_ALIASES", "catalog-info.yaml": "service catalog",
             "catalog-info.yml": "service catalog"}


def trusted_kind(path: Optional[str]) -> Optional[str]:
    """'policy', 'codeowners', 'OWNERS', ... when the path is a gate file, else None."""
    if not path:
        return None
    if path == POLICY_FILE:
        return "policy"
    if path in CODEOWNERS_LOCATIONS:
        return "codeowners"
    return _ANYWHERE.get(posixpath.basename(path))
