"""Peer comparison: Semgrep (local final-state rules) and Checkov (built-in checks) beside ChangeGate,
(a) timed on the 300-file benchmark repository against the same PyYAML floor as bench/run.py, and
(b) run on every corpus case (tests/corpus/*/*/case.yaml, found at run time). Prints Markdown;
always exits 0 (it reports, it doesn't assert), except `--setup` and `--selftest` on failure.

    python bench/peers.py --setup        # once: bench/out/peers-venv with the pinned peers
    python bench/peers.py                # timings + corpus table
    python bench/peers.py --no-timing    # corpus table only (or --no-corpus: timings only)
    python bench/peers.py --selftest     # each Semgrep rule fires on fixtures/fire, none on fixtures/quiet
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run as bench_run  # noqa: E402  (also puts the project on sys.path)
import peertools as pt  # noqa: E402

sys.path.insert(2, os.path.join(pt.ROOT, "tests"))  # the corpus helpers (and their conftest)
PEERS = ("semgrep", "checkov")
YES, NO = "✓", "—"


def available() -> dict[str, str]:
    """Peer -> version, for the peers that run here; prints why the others don't."""
    found = {}
    for tool in PEERS:
        version, reason = pt.tool_version(tool)
        if version:
            found[tool] = version
        else:
            print(f"{tool}: not used: {reason}", file=sys.stderr)
    return found


# ------------------------------------------------------------------ (a) timings on the bench repo
def timing(args: argparse.Namespace, peers: dict[str, str]) -> None:
    root, temporary = bench_run.prepare(args.keep)
    py, n = sys.executable, args.repeat
    checkov_out = os.path.join(tempfile.gettempdir(), f"changegate-peers-checkov-{os.getpid()}.json")
    steps = {
        "floor": lambda: bench_run.run([py, os.path.join(HERE, "floor.py"), root], root),
        "changegate": lambda: bench_run.run([py, "-m", "server", "check", "--format", "json", "--fail-on", "never"],
                                            root),
        "semgrep": lambda: pt.run_peer(pt.semgrep_argv("."), root),
        "checkov": lambda: pt.run_peer(pt.checkov_argv(".", pt.CHECKOV_BENCH_FRAMEWORKS), root, checkov_out),
    }
    steps = {k: v for k, v in steps.items() if k in ("floor", "changegate") or k in peers}
    times: dict[str, list[float]] = {k: [] for k in steps}
    last = {}
    try:
        for _ in range(n):  # rounds interleave the tools, so a burst of outside load hits all of them
            for name, step in steps.items():
                start = time.perf_counter()
                last[name] = step()
                times[name].append(time.perf_counter() - start)
        med = {k: statistics.median(v) for k, v in times.items()}
        report = json.loads(last["changegate"].stdout or '{"findings": []}')
        counts = {"floor": f"{json.loads(last['floor'].stdout or '{}').get('files')} files parsed",
                  "changegate": "findings: " + (", ".join(f"{k} × {v}" for k, v in sorted(
                      Counter(f["rule"] for f in report["findings"]).items())) or "none")}
        if "semgrep" in last:
            found = pt.semgrep_findings(last["semgrep"].stdout, root)
            counts["semgrep"] = f"{len(found)} findings ({len(set(f.path for f in found))} files)"
        if "checkov" in last:
            with open(checkov_out, encoding="utf-8") as fh:
                found = pt.checkov_findings(fh.read())
            counts["checkov"] = (f"{len(found):,} failed checks in {len(set(f.path for f in found))} files "
                                 f"({len(set(f.rule for f in found))} check ids)")
        labels = {"floor": "floor (list + cat-file + PyYAML CSafeLoader, both sides)",
                  "changegate": "`changegate check --format json`",
                  "semgrep": f"Semgrep {peers.get('semgrep', '')} (`bench/peers/semgrep-rules.yml`)",
                  "checkov": f"Checkov {peers.get('checkov', '')} (`--framework {pt.CHECKOV_BENCH_FRAMEWORKS}`)"}
        print(f"\n### Timings: 300-file repository, median of {n} interleaved rounds, {os.cpu_count()} CPUs, "
              f"Python {sys.version.split()[0]}\n")
        print("| tool | wall time | ratio to floor | result |\n|---|---:|---:|---|")
        for name in steps:
            print(f"| {labels[name]} | {med[name]:.2f} s | {med[name] / med['floor']:.2f} | {counts[name]} |")
    finally:
        if os.path.exists(checkov_out):
            os.remove(checkov_out)
        if temporary:
            shutil.rmtree(root, ignore_errors=True)


# ------------------------------------------------------------------ (b) the corpus
def corpus(args: argparse.Namespace, peers: dict[str, str]) -> None:
    from test_corpus import CASES, _build, _load  # discovered now, so cases added later are included
    from analyzers.check import run_check

    work = tempfile.mkdtemp(prefix="changegate-peers-")
    try:
        rows, trees = [], {"after": os.path.join(work, "after"), "before": os.path.join(work, "before")}
        for case in CASES:
            cid = f"{case.parent.name}/{case.name}"
            if args.cases and args.cases not in cid:
                continue
            slug = cid.replace("/", "__")
            try:
                spec = _load(case)
                repo = _build(case, spec, Path(work) / "repos" / slug)
                report = run_check(str(repo.root), cwd=str(repo.root))
            except Exception as exc:  # a case another helper is still writing: report it, go on
                rows.append({"id": cid, "error": f"{type(exc).__name__}: {exc}"[:200]})
                continue
            flagged = sorted((f.rule, f.path, f.line, f.severity) for f in report.active_findings()
                             if f.severity in ("warning", "error"))
            expected = sorted((e["rule"], e["path"], e["line"], e["severity"]) for e in spec.get("expect") or [])
            for side, tree in trees.items():  # the peers see files only: each side as a plain tree
                for path, sides in spec["files"].items():
                    if sides.get(side):
                        target = Path(tree) / slug / path
                        target.parent.mkdir(parents=True, exist_ok=True)
                        target.write_bytes((case / sides[side]).read_bytes())
            rows.append({"id": cid, "slug": slug, "risky": bool(expected), "changegate": bool(flagged),
                         "as_expected": flagged == expected, "cg_rules": sorted({f[0] for f in flagged}),
                         "changed": {f"{slug}/{p}" for p, s in spec["files"].items() if s.get("after")}})
        results = {tool: scan(tool, trees) for tool in peers}
        table(rows, results, peers)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def scan(tool: str, trees: dict[str, str]) -> dict[str, list[pt.Finding]]:
    """One run per side over all cases at once (each case in its own folder), findings by side."""
    out = {}
    for side, tree in trees.items():
        os.makedirs(tree, exist_ok=True)
        if tool == "semgrep":
            # an empty .semgrepignore replaces Semgrep's default one, which skips tests/, build/, …
            Path(tree, ".semgrepignore").write_text("", encoding="utf-8")
            out[side] = pt.semgrep_findings(pt.run_peer(pt.semgrep_argv("."), tree).stdout, tree)
        else:
            out[side] = pt.checkov_findings(pt.run_peer(pt.checkov_argv(".", pt.CHECKOV_CORPUS_FRAMEWORKS),
                                                        tree).stdout)
    return out


def verdicts(row: dict, found: dict[str, list[pt.Finding]]) -> tuple[bool, bool, list[str]]:
    """(flagged on the final state, flagged with only new findings vs the before state, rule ids)."""
    after = [f for f in found["after"] if f.path in row["changed"]]
    before = Counter((f.rule, f.path, f.context) for f in found["before"])
    new = Counter((f.rule, f.path, f.context) for f in after) - before  # what the tool's baseline mode keeps
    return bool(after), bool(new), sorted({f.rule for f in after})


def table(rows: list[dict], results: dict, peers: dict[str, str]) -> None:
    tools = ["changegate", *peers]
    names = {"changegate": "ChangeGate", "semgrep": "Semgrep", "checkov": "Checkov"}
    ok = [r for r in rows if "error" not in r]
    for row in ok:
        for tool in peers:
            row[tool], row[tool + "_new"], row[tool + "_rules"] = verdicts(row, results[tool])
    head = ["case", "risky or routine", *(names[t] for t in tools), *(f"{names[t]} (new only)" for t in peers)]
    print(f"\n### Corpus: {len(ok)} cases ({sum(r['risky'] for r in ok)} risky, "
          f"{sum(not r['risky'] for r in ok)} routine); {YES} flagged, {NO} not flagged\n")
    print("| " + " | ".join(head) + " |\n|" + "---|" * len(head))
    for row in ok:
        marks = [YES if row[t] else NO for t in tools] + [YES if row[t + "_new"] else NO for t in peers]
        if not row["as_expected"]:
            marks[0] += " (≠ expect)"
        print(f"| {row['id']} | {'risky' if row['risky'] else 'routine'} | " + " | ".join(marks) + " |")
    risky, routine = [r for r in ok if r["risky"]], [r for r in ok if not r["risky"]]

    def rate(group: list[dict], key: str) -> str:
        hits = sum(bool(r[key]) for r in group)
        return f"{hits}/{len(group)} ({100 * hits / len(group):.0f}%)" if group else "n/a"

    keys = [*tools, *(t + "_new" for t in peers)]
    print("| **recall on risky** | | " + " | ".join(rate(risky, k) for k in keys) + " |")
    print("| **false-positive rate on routine** | | " + " | ".join(rate(routine, k) for k in keys) + " |")
    print("\nWhat fired (warning+ for ChangeGate; on the changed files' final state for the peers):\n")
    for row in ok:
        parts = [f"ChangeGate {', '.join(row['cg_rules']) or '-'}"]
        for tool in peers:
            ids = row[tool + "_rules"]
            shown = ", ".join(ids[:8]) + (f" +{len(ids) - 8} more" if len(ids) > 8 else "")
            parts.append(f"{names[tool]} {shown or '-'}")
        print(f"- {row['id']}: " + "; ".join(parts))
    for row in rows:
        if "error" in row:
            print(f"- {row['id']}: NOT RUN ({row['error']})")


# ------------------------------------------------------------------ self-test of the Semgrep rules
def selftest() -> int:
    import yaml
    with open(pt.RULES, encoding="utf-8") as fh:
        ids = {r["id"] for r in yaml.safe_load(fh)["rules"]}
    fired = {}
    for side in ("fire", "quiet"):
        tree = os.path.join(pt.FIXTURES, side)
        fired[side] = pt.semgrep_findings(pt.run_peer(pt.semgrep_argv("."), tree).stdout, tree)
    silent = sorted(ids - {f.rule for f in fired["fire"]})
    noisy = sorted(f"{f.rule} {f.path}:{f.line}" for f in fired["quiet"])
    print(f"{len(ids)} rules; fire on fixtures/fire: {len(ids) - len(silent)}; findings on fixtures/quiet: {len(noisy)}")
    for rule in silent:
        print(f"  did not fire: {rule}")
    for finding in noisy:
        print(f"  false positive: {finding}")
    return 1 if silent or noisy else 0


def main() -> int:
    parser = argparse.ArgumentParser(description="ChangeGate vs Semgrep and Checkov (prints Markdown)")
    parser.add_argument("--setup", action="store_true", help="create bench/out/peers-venv with the pinned peers")
    parser.add_argument("--selftest", action="store_true", help="check the Semgrep rules against bench/peers/fixtures")
    parser.add_argument("--keep", metavar="DIR", help="build the bench repository here, or reuse it")
    parser.add_argument("--repeat", type=int, default=3, metavar="N", help="timing rounds (median; default 3)")
    parser.add_argument("--no-timing", action="store_true", help="skip the 300-file timings")
    parser.add_argument("--no-corpus", action="store_true", help="skip the corpus table")
    parser.add_argument("--cases", metavar="TEXT", help="only corpus cases whose family/case contains TEXT")
    args = parser.parse_args()
    if args.setup:
        return pt.setup()
    peers = available()
    if args.selftest:
        return selftest() if "semgrep" in peers else 1
    print(f"peers: {', '.join(f'{k} {v}' for k, v in peers.items()) or 'none usable'}")
    try:
        if not args.no_timing:
            timing(args, peers)
        if not args.no_corpus:
            corpus(args, peers)
    except Exception:  # a broken benchmark still reports, and still exits 0
        traceback.print_exc()
    return 0


if __name__ == "__main__":
    sys.exit(main())
