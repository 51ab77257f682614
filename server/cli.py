"""`changegate` command line (DESIGN §4.1). Exit codes: 0 ok, 1 findings at or above
--fail-on, 2 usage or configuration error (one line on stderr, naming file and line)."""
from __future__ import annotations

import argparse
import os
import sys
import traceback
from typing import Optional, Sequence

from analyzers.errors import ChangeGateError
from analyzers.model import SEVERITY_RANK

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, like every other usage error
        self.exit(EXIT_USAGE, f"changegate: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="changegate", description="Controlled friction for config and control-plane changes.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for internal errors")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    check = sub.add_parser("check", help="analyse the change against its base revision")
    check.add_argument("paths", nargs="*", metavar="PATH", help="narrow the check to these paths")
    check.add_argument("--base", metavar="REF", help="compare against the merge-base with REF")
    mode = check.add_mutually_exclusive_group()
    mode.add_argument("--staged", action="store_true", help="check the index instead of the working tree")
    mode.add_argument("--commit", metavar="REV", help="check the change made by one commit")
    check.add_argument("--format", choices=("text", "json", "sarif", "markdown", "github"), default="text")
    check.add_argument("--fail-on", choices=("error", "warning", "info", "never"), default="error",
                       help="exit 1 when a finding has this severity or higher (default: error)")
    check.add_argument("--policy", metavar="FILE", help="use this policy file instead of the base revision's")
    check.add_argument("-C", dest="directory", metavar="DIR", default=".", help="run as if started in DIR")
    check.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout")
    check.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    rules = sub.add_parser("rules", help="list the built-in rules, or explain one")
    rules.add_argument("rule_id", nargs="?", metavar="ID", help="explain this rule (e.g. CAP-002)")
    rules.add_argument("--format", choices=("text", "json"), default="text")

    from . import cmd_owners
    cmd_owners.add_parser(sub)

    from .cmd_change_record import add_parser as add_change_record
    add_change_record(sub)

    demo = sub.add_parser("demo", help="build a sample repository with a risky change and check it")
    demo.add_argument("directory", nargs="?", help="where to build it (default: a new temp directory)")
    demo.add_argument("--format", choices=("text", "json", "sarif", "markdown", "github"), default="text")
    return parser


def _check(args: argparse.Namespace) -> int:
    from analyzers.check import run_check
    from .formats import FORMATS
    from .formats.text import render as render_text, use_color

    if args.output and os.path.isdir(args.output):
        raise ChangeGateError(f"--output is a directory: {args.output}")
    directory = args.directory
    # Paths on the command line are relative to where the user stands, after -C.
    cwd = os.path.abspath(directory)
    report = run_check(directory, base=args.base, staged=args.staged, commit=args.commit,
                       paths=args.paths, policy_file=args.policy, cwd=cwd)
    if args.format == "text":
        text = render_text(report, color=not args.output and use_color(sys.stdout))
    else:
        text = FORMATS[args.format](report)
    _write(text, args.output)
    if args.fail_on == "never":
        return EXIT_OK
    floor = SEVERITY_RANK[args.fail_on]
    failing = any(SEVERITY_RANK[f.severity] >= floor for f in report.active_findings())
    return EXIT_FINDINGS if failing else EXIT_OK


def _write(text: str, output: Optional[str]) -> None:
    if output:
        try:
            with open(output, "w", encoding="utf-8", errors="surrogateescape", newline="\n") as fh:
                fh.write(text)
        except OSError as exc:
            raise ChangeGateError(f"cannot write output: {exc.strerror}", output) from None
    else:
        # Always UTF-8, whatever the locale says; undecodable path bytes go out as they came in.
        sys.stdout.flush()
        sys.stdout.buffer.write(text.encode("utf-8", "surrogateescape"))
        sys.stdout.buffer.flush()


def _rules(args: argparse.Namespace) -> int:
    import json
    from analyzers.rules import RULES

    if args.rule_id:
        rule = RULES.get(args.rule_id.upper())
        if rule is None:
            raise ChangeGateError(f"unknown rule id: {args.rule_id} (run `changegate rules` for the list)")
        metas = [rule.meta]
    else:
        metas = [RULES[k].meta for k in sorted(RULES)]
    if args.format == "json":
        payload = [_rule_dict(m) for m in metas]
        _write(json.dumps(payload[0] if args.rule_id else payload, indent=2, ensure_ascii=False) + "\n", None)
    elif args.rule_id:
        _write(_explain(metas[0]), None)
    else:
        _write("".join(f"{m.id}  {m.name:<28} {m.severity:<8} {m.summary}\n" for m in metas), None)
    return EXIT_OK


def _rule_dict(m) -> dict:
    return {"id": m.id, "name": m.name, "severity": m.severity, "summary": m.summary,
            "rationale": m.rationale, "incident": m.incident, "kinds": sorted(m.kinds), "params": dict(m.params)}


def _explain(m) -> str:
    import textwrap
    lines = [f"{m.id} {m.name} (default severity: {m.severity})", "", m.summary, ""]
    lines += textwrap.wrap(m.rationale, 96) + [""]
    if m.incident:
        lines += textwrap.wrap(f"Incident: {m.incident}", 96) + [""]
    if m.kinds:
        lines.append(f"Applies to: {', '.join(sorted(m.kinds))} files")
    if m.params:
        lines.append("Parameters (override in .changegate.yaml under rules: {" + m.id + ": {params: {...}}}):")
        lines += [f"  {k}: {v!r}" for k, v in m.params]
    lines.append(f"Waive one finding: # changegate: allow {m.id} -- <reason>")
    return "\n".join(lines).rstrip() + "\n"


def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo
    return run_demo(args.directory, args.format)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    from . import cmd_owners
    from .cmd_change_record import run as change_record
    handlers = {"check": _check, "rules": _rules, "demo": _demo, "owners": cmd_owners.run,
                "change-record": change_record}
    try:
        return handlers[args.command](args)
    except ChangeGateError as exc:
        sys.stderr.write(f"changegate: error: {exc}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # never a traceback for the user, unless asked for
        if getattr(args, "debug", False):
            traceback.print_exc()
        else:
            sys.stderr.write(f"changegate: internal error: {type(exc).__name__}: {exc} (run with --debug for details)\n")
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
