"""`changegate change-record`: run the check, write a change record pre-filled from its Report to
`<repo>/<change_records.dir>/<ticket-or-branch>.md`, print the path written.

An existing record is never overwritten without --force: it may hold the author's own words."""
from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Optional

from analyzers.changerecord import record_name, render_change_record
from analyzers.errors import ChangeGateError

EXIT_OK = 0


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser("change-record", help="write a change record pre-filled from the check",
                              description="Check the change, then write a change record (Markdown with "
                                          "front matter) for it under the policy's change_records.dir.")
    p.add_argument("--ticket", metavar="KEY", help="the change ticket (default: the one the check found)")
    p.add_argument("--base", metavar="REF", help="compare against the merge-base with REF")
    p.add_argument("--staged", action="store_true", help="record the index instead of the working tree")
    p.add_argument("--policy", metavar="FILE", help="use this policy file instead of the base revision's")
    p.add_argument("-C", dest="directory", metavar="DIR", default=".", help="run as if started in DIR")
    p.add_argument("--output", "-o", metavar="FILE",
                   help="write here instead of the records directory; '-' for stdout")
    p.add_argument("--force", action="store_true", help="overwrite an existing record")
    p.set_defaults(handler=run)
    return p


def run(args: argparse.Namespace) -> int:
    from analyzers.check import load_trusted_policy, run_check
    from analyzers.gitio import Git
    from analyzers.tickets import find_ticket, match_ticket

    git = Git.discover(args.directory)
    report = run_check(args.directory, base=args.base, staged=args.staged,
                       policy_file=getattr(args, "policy", None), cwd=os.path.abspath(args.directory))
    if not report.files:
        raise ChangeGateError(f"nothing to record: no changes against {report.base.ref or 'the base'}")
    policy = load_trusted_policy(git, report.base.commit, getattr(args, "policy", None))
    branch = git.current_branch()
    ticket = (args.ticket or "").strip() or _found_ticket(report)
    if not ticket and branch and "branch" in policy.ticket_look_in:  # whatever the check's own logic missed
        ticket = find_ticket(branch=branch, patterns=policy.ticket_patterns, look_in=("branch",)).ticket
    if args.ticket and match_ticket(ticket, policy.ticket_patterns) is None:
        sys.stderr.write(f"changegate: note: --ticket {ticket} matches none of the ticket patterns; "
                         "the check will not count it\n")
    text = render_change_record(report, ticket=ticket, branch=branch, fields=policy.change_record_fields,
                                author=_author(git))
    if args.output == "-":
        sys.stdout.flush()
        sys.stdout.buffer.write(text.encode("utf-8", "surrogateescape"))
        sys.stdout.buffer.flush()
        return EXIT_OK
    if args.output:
        target, inside = os.path.abspath(args.output), None
    else:
        head = git.resolve("HEAD")
        name = record_name(ticket, branch, f"change-{head[:12]}" if head else "change")
        target, inside = os.path.join(git.root, policy.change_records_dir, name), git.root
    _write_new(target, text, force=args.force, inside=inside)
    shown = os.path.relpath(target)
    print(shown if not shown.startswith("..") else target)
    return EXIT_OK


def _found_ticket(report) -> Optional[str]:
    return next((r.get("ticket") for r in report.requirements if r.kind == "ticket" and r.get("ticket")), None)


def _author(git) -> Optional[str]:
    name, email = git.text("config", "user.name"), git.text("config", "user.email")
    return f"{name} <{email}>" if name and email else name or None


def _write_new(target: str, text: str, *, force: bool, inside: Optional[str]) -> None:
    """Create `target` (or replace it with --force), never outside `inside` (the repository):
    the records dir comes from the policy, and a symlink in the tree could point anywhere."""
    shown = os.path.relpath(target)
    if inside is not None:
        root = os.path.realpath(inside)
        real = os.path.realpath(target)
        if os.path.commonpath([root, real]) != root or real == root:
            raise ChangeGateError(f"refusing to write a change record outside the repository: {real}")
    if os.path.isdir(target):
        raise ChangeGateError(f"{shown} is a directory")
    if os.path.lexists(target) and not force:
        raise ChangeGateError(f"{shown} already exists (use --force to overwrite it)")
    try:
        os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
        with open(target, "w" if force else "x", encoding="utf-8", errors="surrogateescape", newline="\n") as fh:
            fh.write(text)
    except FileExistsError:  # created between the check and the open
        raise ChangeGateError(f"{shown} already exists (use --force to overwrite it)") from None
    except OSError as exc:
        raise ChangeGateError(f"cannot write change record: {exc.strerror}", shown) from None
