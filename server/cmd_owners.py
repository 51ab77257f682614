"""`changegate owners PATH...` (DESIGN §4.1): who owns these paths, by the ownership files of the
base revision (a change cannot pick its own reviewers), and which line decided."""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Optional

from analyzers.changes import change_base
from analyzers.check import load_trusted_policy
from analyzers.errors import ChangeGateError
from analyzers.gitio import Git
from analyzers.owners import DIALECTS, OwnerAnswer, OwnershipIndex, load_ownership
from analyzers.owners.gitsource import base_source
from analyzers.policy import POLICY_FILE

_MAX_CODEOWNERS = 64 * 1024 * 1024


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("owners", help="show who owns paths and the rule that decides it")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="paths, relative to where you stand (after -C)")
    parser.add_argument("--dialect", choices=DIALECTS, default=None,
                        help="CODEOWNERS dialect (default: the policy's ownership.codeowners, github)")
    parser.add_argument("--codeowners", metavar="FILE",
                        help="read this CODEOWNERS file from disk instead of the base revision's")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("-C", dest="directory", metavar="DIR", default=".", help="run as if started in DIR")
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return parser


def run(args: argparse.Namespace) -> int:
    git = Git.discover(args.directory)
    base = change_base(git, None, None)
    policy = load_trusted_policy(git, base.commit)
    if policy.base:  # as `check` does: the trusted default base may name another base
        base = change_base(git, policy.base, source=f"{POLICY_FILE} base:")
        policy = load_trusted_policy(git, base.commit)
    paths = [_repo_path(git, p, os.path.abspath(args.directory)) for p in args.paths]
    read, list_paths = base_source(git, base.commit)
    # the same dialect and tier key `check` uses, so both name the same owners
    dialect = args.dialect or policy.codeowners_dialect
    codeowners_path = policy.codeowners_path
    if args.codeowners:
        codeowners_path, read = args.codeowners, _with_file(read, args.codeowners)
    index = load_ownership(read, list_paths=list_paths, dialect=dialect, codeowners_path=codeowners_path,
                           catalog_tier_key=policy.catalog_tier_key)
    if args.format == "json":
        payload = index.to_json(paths)
        payload["base"] = {"ref": base.ref, "commit": base.commit}
        _emit(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    else:
        _emit(render_text(index, paths, base.ref, base.commit))
    return 0


def _repo_path(git: Git, path: str, cwd: str) -> str:
    here = os.path.realpath(cwd)
    root = os.path.realpath(git.root)
    rel = os.path.relpath(os.path.normpath(os.path.join(here, path)), root)
    if rel == os.curdir or rel == os.pardir or rel.startswith(os.pardir + os.sep):
        raise ChangeGateError(f"path is not a file in the repository: {path}")
    return rel.replace(os.sep, "/")


def _with_file(read, path: str):
    """`read`, except that `path` comes from disk (the user named it on the command line)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(_MAX_CODEOWNERS + 1)
    except OSError as exc:
        raise ChangeGateError(f"cannot read CODEOWNERS: {exc.strerror}", path) from None
    return lambda p: data if p == path else read(p)


def render_text(index: OwnershipIndex, paths: list[str], ref: Optional[str], commit: Optional[str]) -> str:
    where = f"base {ref} ({commit[:12]})" if commit else "the working tree (no commits yet)"
    lines = [f"Owners at {where}; {index.dialect} CODEOWNERS: {index.codeowners or 'none found'}"]
    width = min(max(len(p) for p in paths), 60)
    for path in paths:
        lines += _answer_lines(index.lookup(path), width)
    problems = index.diagnostics
    if problems:
        lines += ["", "Problems in ownership files:"] + [f"  {d}" for d in problems]
    return "\n".join(lines) + "\n"


def _answer_lines(answer: OwnerAnswer, width: int) -> list[str]:
    owners = " ".join(answer.owners) if answer.owners else "no owners"
    decided = f"{answer.source}:{answer.line}" + (f" {answer.pattern}" if answer.pattern else "") \
        if answer.source else ""
    if answer.source and not answer.owners:
        decided += " (a rule without owners)"
    head = f"{answer.path:<{width}}  {owners}" + (f"  ({decided})" if decided else "")
    out = [head]
    if len(answer.sections) > 1 or any(s.optional or s.approvals > 1 for s in answer.sections):
        for s in answer.sections:
            label = ("^" if s.optional else "") + s.name + (f" [{s.approvals} approvals]" if s.approvals > 1 else "")
            rule = f"{s.source}:{s.line}" + (f" {s.pattern}" if s.pattern else "")
            out.append(f"    {label}: {' '.join(s.owners)}  ({rule})")
    if answer.tier is not None or answer.catalog_owner:
        bits = ([f"tier {answer.tier}"] if answer.tier is not None else []) + \
               ([f"catalog owner {answer.catalog_owner}"] if answer.catalog_owner else [])
        out.append(f"    {', '.join(bits)}  ({answer.catalog})")
    return out


def _emit(text: str) -> None:
    # UTF-8 whatever the locale; undecodable path bytes go out as they came in
    sys.stdout.flush()
    sys.stdout.buffer.write(text.encode("utf-8", "surrogateescape"))
    sys.stdout.buffer.flush()
