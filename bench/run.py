"""ChangeGate benchmark: `changegate check` on a large generated repository against a floor
(read both sides of every changed file and parse them with PyYAML's C loader), plus the
5,000-line file on its own. Prints a table; always exits 0 (benchmarks report, they don't assert).

    python bench/run.py [--keep DIR] [--repeat N] [--profile]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from typing import Callable

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # gen_repo sits next to this file
sys.path.insert(1, os.path.dirname(HERE))  # the project, in case it is not installed

import gen_repo  # noqa: E402

CHECK_RATIO_TARGET = 1.5
BIG_FILE_TARGET_S = 0.3


def median_time(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Median wall time of `repeat` runs, and the last run's result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def run(argv: list[str], cwd: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"warning: {' '.join(argv[1:4])}... exited {proc.returncode}: {proc.stderr.strip()[-400:]}",
              file=sys.stderr)
    return proc


def prepare(keep: str | None) -> tuple[str, bool]:
    """The repository to measure, and whether it is a temp dir to delete afterwards."""
    if keep:
        if os.path.isdir(os.path.join(keep, ".git")):
            print(f"reusing {keep}")
            return keep, False
        root = keep
    else:
        root = tempfile.mkdtemp(prefix="changegate-bench-")
    start = time.perf_counter()
    stats = gen_repo.generate(root)
    print(f"generated {root} in {time.perf_counter() - start:.1f}s: {stats['files']} files, "
          f"{stats['lines']:,} lines, {stats['changed']:,} of {stats['scalars']:,} scalars changed "
          f"+ {stats['replicas_down']} replicas decreases, {stats['replicas_up']} increases")
    return root, not keep


def in_process_big_file(root: str, repeat: int) -> tuple[float, float, int]:
    """diff_config (and the whole run_check) on the 5,000-line file inside this process."""
    from analyzers.check import run_check
    from analyzers.configdiff import diff_config
    from analyzers.configdiff.syntax import TREES

    old = subprocess.run(["git", "-C", root, "cat-file", "blob", f"HEAD:{gen_repo.BIG_FILE}"],
                         capture_output=True, check=True).stdout.decode("utf-8")
    with open(os.path.join(root, gen_repo.BIG_FILE), encoding="utf-8") as fh:
        new = fh.read()
    diff_config("yaml", "a: 1\n", "a: 2\n")  # warm up: builds the parser once, as a long-lived process would

    def diff() -> int:
        TREES.entries.clear()  # the parse cache would otherwise turn repeats into cache hits
        return len(diff_config("yaml", old, new).changes)

    diff_s, changes = median_time(diff, repeat)

    def check() -> None:
        TREES.entries.clear()
        run_check(root, paths=[gen_repo.BIG_FILE], cwd=root)

    check_s, _ = median_time(check, repeat)
    return diff_s, check_s, changes


def profile_check(root: str) -> None:
    """cProfile of one in-process full check: where the time goes beyond the floor."""
    import cProfile
    import pstats
    from analyzers.check import run_check
    from analyzers.configdiff.syntax import TREES
    from server.formats import FORMATS

    TREES.entries.clear()
    prof = cProfile.Profile()
    prof.enable()
    FORMATS["json"](run_check(root, cwd=root))
    prof.disable()
    stats = pstats.Stats(prof, stream=sys.stdout).strip_dirs()
    print("\n== cProfile: in-process check of the whole repository (top 25 by cumulative, then by own time)")
    stats.sort_stats("cumulative").print_stats(25)
    stats.sort_stats("tottime").print_stats(25)


def bench(args: argparse.Namespace) -> None:
    root, temporary = prepare(args.keep)
    py, n = sys.executable, args.repeat
    try:
        startup_s, _ = median_time(lambda: run([py, "-c", "pass"], root), max(n, 5))
        import_s, _ = median_time(lambda: run([py, "-c", "import analyzers.check, server.cli, server.formats"],
                                              root), max(n, 5))
        floor_s, floor = median_time(lambda: run([py, os.path.join(HERE, "floor.py"), root], root), n)
        # `-m server` instead of the console script: no dependence on PATH
        check_s, check = median_time(lambda: run([py, "-m", "server", "check", "--format", "json",
                                                  "--fail-on", "never"], root), n)
        big_s, big = median_time(lambda: run([py, "-m", "server", "check", "--format", "json", "--fail-on",
                                              "never", gen_repo.BIG_FILE], root), n)
        diff_s, run_check_s, big_changes = in_process_big_file(root, n)

        floor_info = json.loads(floor.stdout or "{}")
        report = json.loads(check.stdout or '{"files": [], "findings": []}')
        big_report = json.loads(big.stdout or '{"files": []}')
        changes = sum(len(f["changes"]) for f in report["files"])
        rules: dict[str, int] = {}
        for f in report["findings"]:
            rules[f["rule"]] = rules.get(f["rule"], 0) + 1
        ratio = check_s / floor_s if floor_s else float("nan")

        def mark(ok: bool) -> str:
            return "ok" if ok else "OVER"

        rows = [
            ("python -c pass (interpreter start-up)", f"{startup_s:.3f} s", ""),
            ("import changegate modules (incl. start-up)", f"{import_s:.3f} s", ""),
            ("FLOOR: list + cat-file + PyYAML CSafeLoader, both sides", f"{floor_s:.3f} s", ""),
            ("changegate check --format json (whole repo)", f"{check_s:.3f} s", ""),
            ("ratio check / floor", f"{ratio:.2f}",
             f"target <= {CHECK_RATIO_TARGET}  {mark(ratio <= CHECK_RATIO_TARGET)}"),
            ("5,000-line file: diff_config in-process", f"{diff_s:.3f} s",
             f"target < {BIG_FILE_TARGET_S} s  {mark(diff_s < BIG_FILE_TARGET_S)}"),
            ("5,000-line file: run_check in-process (git calls incl.)", f"{run_check_s:.3f} s", ""),
            ("5,000-line file: changegate check PATH (subprocess)", f"{big_s:.3f} s",
             f"incl. ~{import_s:.2f} s start-up + imports"),
            ("changed files (floor / check JSON)", f"{floor_info.get('files')} / {len(report['files'])}", ""),
            ("semantic changes found (whole repo)", f"{changes:,}", ""),
            ("semantic changes, 5,000-line file (JSON / in-process)",
             f"{sum(len(f['changes']) for f in big_report['files'])} / {big_changes}", ""),
            ("findings", ", ".join(f"{k}={v}" for k, v in sorted(rules.items())) or "none", ""),
        ]
        print(f"\nmedian of {n} runs, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}\n")
        width = max(len(r[0]) for r in rows)
        for label, value, note in rows:
            print(f"{label:<{width}}  {value:>12}  {note}".rstrip())
        if args.profile:
            profile_check(root)
    finally:
        if temporary:
            shutil.rmtree(root, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description="ChangeGate benchmark (prints; always exits 0)")
    parser.add_argument("--keep", metavar="DIR", help="build the repository here, or reuse it if it exists")
    parser.add_argument("--repeat", type=int, default=3, metavar="N", help="runs per measurement (median)")
    parser.add_argument("--profile", action="store_true", help="also cProfile one in-process check")
    args = parser.parse_args()
    try:
        bench(args)
    except Exception:  # a broken benchmark still reports, and still exits 0
        traceback.print_exc()
    return 0


if __name__ == "__main__":
    sys.exit(main())
