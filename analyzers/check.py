"""One check, end to end: resolve the base, load the trusted policy from it, collect, analyse."""
from __future__ import annotations

import os
from typing import Iterable, Optional

from .changes import change_base, collect
from .engine import analyze
from .errors import ChangeGateError
from .gitio import Git
from .model import Report
from .owners import OwnershipIndex, load_ownership
from .owners.gitsource import base_source
from .policy import POLICY_FILE, Policy, load_policy


def load_trusted_policy(git: Git, base_commit: Optional[str], policy_file: Optional[str] = None) -> Policy:
    """The policy as of the base revision (a change cannot weaken its own gate), or an explicit
    file the user named on the command line."""
    if policy_file:
        try:
            with open(policy_file, "rb") as fh:
                raw = fh.read()
        except OSError as exc:
            raise ChangeGateError(f"cannot read policy: {exc.strerror}", policy_file) from None
        return load_policy(_policy_text(raw, policy_file), policy_file)
    if base_commit is None:
        return Policy()
    raw = git.read_blob(base_commit, POLICY_FILE)
    return Policy() if raw is None else load_policy(_policy_text(raw, POLICY_FILE), POLICY_FILE)


def _policy_text(raw: bytes, source: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ChangeGateError(f"policy is not valid UTF-8 (byte {exc.start})", source) from None


def run_check(directory: str = ".", *, base: Optional[str] = None, staged: bool = False,
              commit: Optional[str] = None, paths: Iterable[str] = (), policy_file: Optional[str] = None,
              cwd: Optional[str] = None) -> Report:
    git = Git.discover(directory)
    base_ref = change_base(git, base, commit)
    policy = load_trusted_policy(git, base_ref.commit, policy_file)
    if not base and not commit and policy.base:
        # policy `base:` comes from the trusted base the default chain found, never from the change
        base_ref = change_base(git, policy.base, source=f"{POLICY_FILE} base:")
        policy = load_trusted_policy(git, base_ref.commit, policy_file)
    changeset = collect(git, base_ref, staged=staged, commit=commit, paths=paths, cwd=cwd or os.getcwd(),
                        max_file_bytes=policy.max_file_bytes)
    return analyze(changeset, policy, load_trusted_owners(git, base_ref.commit, policy))


def load_trusted_owners(git: Git, base_commit: Optional[str], policy: Policy) -> OwnershipIndex:
    """CODEOWNERS, OWNERS and catalog files as of the base revision (the working tree only in a
    repository with no commits, where there is no base to trust)."""
    read, list_paths = base_source(git, base_commit)
    return load_ownership(read, list_paths=list_paths, dialect=policy.codeowners_dialect,
                          codeowners_path=policy.codeowners_path, catalog_tier_key=policy.catalog_tier_key)
