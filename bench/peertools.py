"""The peer tools for bench/peers.py: Semgrep and Checkov, run from their own virtualenv
(bench/out/peers-venv), offline, and their JSON read into one finding shape.

Nothing here imports the peers: they run as subprocesses, so their dependencies never meet
ChangeGate's.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from typing import NamedTuple, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(HERE, "out")
VENV = os.path.join(OUT, "peers-venv")
BIN = os.path.join(VENV, "bin")
RULES = os.path.join(HERE, "peers", "semgrep-rules.yml")
FIXTURES = os.path.join(HERE, "peers", "fixtures")

# The bench repository holds only Kubernetes manifests and Helm values, so Checkov gets just the
# frameworks that apply (the fastest fair setting; all IaC frameworks add ~50% on that repo).
CHECKOV_BENCH_FRAMEWORKS = "kubernetes,helm"
# The corpus has K8s, Helm, Terraform, Dockerfiles and CI files. Left out: secrets (not a config
# risk), sca_*/sast_* (need the Prisma platform), kustomize (runs `kubectl version`, which tries
# to reach a cluster). helm is disabled by Checkov itself when the `helm` binary is missing.
CHECKOV_CORPUS_FRAMEWORKS = ("kubernetes,helm,terraform,dockerfile,github_actions,gitlab_ci,cloudformation,"
                             "ansible,argo_workflows,azure_pipelines,bitbucket_pipelines,circleci_pipelines,"
                             "serverless")

# Credentials that would switch either tool to its online platform: never passed on.
_PLATFORM_VARS = ("SEMGREP_APP_TOKEN", "SEMGREP_APP_URL", "SEMGREP_URL", "BC_API_KEY", "PRISMA_API_URL",
                  "BC_FROM_BRANCH", "BC_SOURCE", "CKV_API_KEY")


class Finding(NamedTuple):
    rule: str
    path: str      # relative to the scanned directory, "/"-separated, no leading "./" or "/"
    line: int
    context: str   # what the tool's own baseline mode compares: matched text (Semgrep), resource (Checkov)


def peer_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in _PLATFORM_VARS}
    env.update({
        "SEMGREP_ENABLE_VERSION_CHECK": "0", "SEMGREP_SEND_METRICS": "off",
        # keep Semgrep's settings/version cache out of $HOME
        "SEMGREP_SETTINGS_FILE": os.path.join(OUT, "semgrep-settings.yml"),
        "SEMGREP_VERSION_CACHE_PATH": os.path.join(OUT, "semgrep-version-cache"),
        "SEMGREP_LOG_FILE": os.path.join(OUT, "semgrep-last.log"),
        "BC_SKIP_MAPPING": "TRUE",  # no download of Checkov-id -> platform-id mapping
    })
    return env


def pins() -> list[str]:
    """The `peers` optional-dependency group of pyproject.toml: the one place the versions live."""
    with open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8") as fh:
        text = fh.read()
    try:
        import tomllib
        return tomllib.loads(text)["project"]["optional-dependencies"]["peers"]
    except ImportError:  # Python 3.10: read the small array by hand
        block = re.search(r"^peers\s*=\s*\[(.*?)\]", text, re.S | re.M)
        return re.findall(r'"([^"]+)"', block.group(1)) if block else []


def setup() -> int:
    """Create bench/out/peers-venv and install the pinned peers into it."""
    requirements = pins()
    if not requirements:
        print("no `peers` group in pyproject.toml", file=sys.stderr)
        return 1
    if not os.path.exists(os.path.join(BIN, "python")):
        print(f"creating {VENV}")
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    print(f"installing {' '.join(requirements)} (takes a minute or two)")
    proc = subprocess.run([os.path.join(BIN, "python"), "-m", "pip", "install", "--quiet",
                           "--disable-pip-version-check", *requirements])
    if proc.returncode != 0:
        return proc.returncode
    for tool in ("semgrep", "checkov"):
        version, reason = tool_version(tool)
        print(f"{tool}: {version or 'NOT USABLE: ' + reason}")
    return 0


def tool_version(tool: str) -> tuple[Optional[str], str]:
    """(version, "") if the tool runs here, else (None, why not)."""
    exe = os.path.join(BIN, tool)
    if not os.path.exists(exe):
        return None, f"{exe} is missing; run `python bench/peers.py --setup`"
    try:
        proc = subprocess.run([exe, "--version"], capture_output=True, text=True, env=peer_env(), timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"`{tool} --version` failed: {exc}"
    if proc.returncode != 0:
        return None, f"`{tool} --version` exited {proc.returncode}: {proc.stderr.strip()[-300:]}"
    return proc.stdout.strip().splitlines()[-1], ""


def semgrep_argv(target: str = ".") -> list[str]:
    return [os.path.join(BIN, "semgrep"), "scan", "--config", RULES, "--metrics=off", "--disable-version-check",
            "--json", "--quiet", target]


def checkov_argv(directory: str, frameworks: str) -> list[str]:
    return [os.path.join(BIN, "checkov"), "-d", directory, "--framework", frameworks, "--quiet", "-o", "json",
            "--skip-download"]


def run_peer(argv: list[str], cwd: str, out_path: Optional[str] = None) -> subprocess.CompletedProcess:
    """Run one peer. Its exit code means "found something" for Checkov, so it is not an error here;
    with `out_path`, stdout goes to that file (Checkov's JSON on the bench repo is ~200 MB)."""
    if out_path:
        with open(out_path, "w", encoding="utf-8") as out:
            proc = subprocess.run(argv, cwd=cwd, stdout=out, stderr=subprocess.PIPE, text=True, env=peer_env())
    else:
        proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, env=peer_env())
    if proc.returncode not in (0, 1):
        print(f"warning: {os.path.basename(argv[0])} exited {proc.returncode}: {proc.stderr.strip()[-400:]}",
              file=sys.stderr)
    return proc


def _rel(path: str) -> str:
    path = path.replace(os.sep, "/")
    while path.startswith(("./", "/")):
        path = path[1:] if path.startswith("/") else path[2:]
    return path


def semgrep_findings(stdout: str, scanned_dir: str) -> list[Finding]:
    data = json.loads(stdout or "{}")
    for err in data.get("errors") or []:
        print(f"semgrep: {err.get('type')}: {str(err.get('message'))[:300]}", file=sys.stderr)
    found = []
    for r in data.get("results") or []:
        path = _rel(r["path"])
        try:  # the matched source text (the JSON's `lines` needs a login): what --baseline-commit compares
            with open(os.path.join(scanned_dir, path), "rb") as fh:
                raw = fh.read()
            context = " ".join(raw[r["start"]["offset"]:r["end"]["offset"]].decode("utf-8", "replace").split())
        except OSError:
            context = ""
        found.append(Finding(r["check_id"].rsplit(".", 1)[-1], path, r["start"]["line"], context))
    return found


def checkov_findings(text: str) -> list[Finding]:
    data = json.loads(text or "[]")
    reports = data if isinstance(data, list) else [data]
    found = []
    for report in reports:
        if report.get("summary", {}).get("parsing_errors"):
            print(f"checkov {report.get('check_type')}: {report['summary']['parsing_errors']} parsing errors: "
                  f"{report.get('results', {}).get('parsing_errors')}", file=sys.stderr)
        for f in (report.get("results") or {}).get("failed_checks") or []:
            line = (f.get("file_line_range") or [0])[0]
            # Checkov's --baseline keys a failure by file, resource and check id
            found.append(Finding(f["check_id"], _rel(f["file_path"]), line, f.get("resource") or ""))
    return found
