"""`changegate demo`: build a small online shop's repository, make the kind of "quick" prod config
change that caused the 99% order drop (one operator, replicas to zero, no ticket), and check it.

Everything is written from the constants below and committed with fixed authors and dates, so two
runs give the same commits and the same report."""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from string import Template
from typing import Optional

from analyzers.errors import ChangeGateError

_K8S = Template("""\
# checkout in $env: every order goes through these pods.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout
  namespace: $namespace
spec:
  replicas: $replicas
  selector:
    matchLabels: {app: checkout}
  template:
    metadata:
      labels: {app: checkout}
    spec:
      containers:
        - name: api
          image: registry.example.com/shop/checkout:1.8.2
          ports: [{containerPort: 8080}]
          resources: {requests: {cpu: 500m, memory: 512Mi}}
---
apiVersion: v1
kind: Service
metadata:
  name: checkout
  namespace: $namespace
spec:
  selector: {app: checkout}
  ports: [{port: 80, targetPort: 8080}]
""")
_HPA = """\
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: checkout
  namespace: shop
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: checkout}
  minReplicas: 4
  maxReplicas: 12
"""
POLICY = """\
# Read from the base revision: a change cannot relax the gate that judges it.
version: 1
base: main
ownership: {codeowners: github}
services:
  - name: checkout
    description: Turns carts into orders; an outage here stops all sales.
    paths: ["services/checkout/**", "deploy/*/checkout*.yaml", "deploy/helm/checkout/**",
            "config/flags/checkout.yaml", "infra/terraform/*/main.tf"]
    tier: 1
    owners: ["@shop/checkout"]
  - {name: catalog, paths: ["services/catalog/**", "deploy/*/catalog*.yaml"], tier: 2, owners: ["@shop/catalog"]}
environments:
  prod: ["**/prod/**", "**/values-prod.yaml"]
  staging: ["**/staging/**"]
control_plane: {paths: ["deploy/**", "infra/**", "config/flags/**"]}
rules:
  CAP-001: {severity: error}
review:
  - {name: tier-1 two-person review, if: {tier: [1]}, require: {approvals: 2}}
  - name: sre for prod control plane
    if: {kind: [control-plane], environment: [prod]}
    require: {approvals: 1, from: ["@shop/sre"]}
tickets:
  required_if: {any: [{blast_radius: [high, critical]}, {tier: [1], environment: [prod]}]}
  patterns: ['(?<![A-Z0-9])SHOP-[0-9]+', 'CHG[0-9]{7,}']
  look_in: [branch, commits, change_records]
change_records: {dir: .changes, required_if: {blast_radius: [critical]}, fields: [summary, rollback, validation]}
"""
CODEOWNERS = """\
# The last matching pattern wins.
*                        @shop/platform
/services/checkout/      @shop/checkout
/deploy/                 @shop/sre
/deploy/*/checkout.yaml  @shop/checkout @shop/sre
/deploy/helm/checkout/   @shop/checkout
/config/flags/           @shop/checkout
/infra/                  @shop/sre @shop/platform
/.changegate.yaml        @shop/sre @shop/platform
/.github/CODEOWNERS      @shop/platform
"""
README = """\
# shop

The checkout service of a small online shop, with its Kubernetes manifests, Helm values,
Terraform and feature flags. Built by `changegate demo`; try `changegate check` after editing.
"""
APP = '''\
"""checkout: turns a cart into an order."""
import json
from http.server import BaseHTTPRequestHandler, HTTPServer


class Orders(BaseHTTPRequestHandler):
    def do_POST(self):
        cart = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        total = sum(item["price"] * item["qty"] for item in cart.get("items", []))
        self.send_response(201)
        self.end_headers()
        self.wfile.write(json.dumps({"status": "accepted", "total": total}).encode())


if __name__ == "__main__":
    HTTPServer(("", 8080), Orders).serve_forever()
'''
HELM_VALUES = """\
# Defaults for the checkout chart; values-<env>.yaml override them.
replicaCount: 2
image: {repository: registry.example.com/shop/checkout, tag: "1.8.2"}
autoscaling: {enabled: false, minReplicas: 2, maxReplicas: 6}
"""
HELM_PROD = """\
replicaCount: 6
autoscaling: {enabled: true, minReplicas: 4, maxReplicas: 12}
"""
TERRAFORM = """\
# Workers that drain the checkout order queue.
resource "aws_autoscaling_group" "checkout_workers" {
  name                = "checkout-workers-prod"
  min_size            = 3
  max_size            = 12
  desired_capacity    = 4
  vpc_zone_identifier = ["subnet-0a1b2c3d", "subnet-0e5f6a7b"]

  launch_template {
    name    = "checkout-worker"
    version = "$Latest"
  }
}
"""
CHANGE_RECORD = """\
# SHOP-117: autoscaling group for checkout workers

summary: new ASG checkout-workers-prod (min 3, desired 4, max 12) for the order queue.
rollback: terraform apply of the previous revision; workers are stateless.
validation: queue depth stays under 100 for a day at peak.
"""
FLAGS = """\
# Feature flags for checkout, read by the service at start-up.
flags:
  - key: new-payment-flow
    description: Route card payments through the new payment service.
    enabled: true
    rollout: {percentage: 5}
  - key: express-shipping-banner
    enabled: false
    rollout: {percentage: 0}
"""
PROD = _K8S.substitute(env="prod", namespace="shop", replicas=6) + _HPA
STAGING = _K8S.substitute(env="staging", namespace="shop-staging", replicas=2)

# (author, ISO date, message, files): the history the risky change is measured against.
COMMITS = [
    (("Maya Chen", "maya@shop.example"), "2026-02-02T09:15:00Z",
     "Checkout service with prod and staging manifests\n\nAdds the policy and CODEOWNERS as well.",
     {"README.md": README, ".changegate.yaml": POLICY, ".github/CODEOWNERS": CODEOWNERS,
      "services/checkout/app.py": APP, "deploy/prod/checkout.yaml": PROD,
      "deploy/staging/checkout.yaml": STAGING}),
    (("Omar Haddad", "omar@shop.example"), "2026-02-09T14:40:00Z", "SHOP-101: Helm values for checkout",
     {"deploy/helm/checkout/values.yaml": HELM_VALUES, "deploy/helm/checkout/values-prod.yaml": HELM_PROD}),
    (("Priya Nair", "priya@shop.example"), "2026-02-16T11:05:00Z",
     "SHOP-117: autoscaling group for checkout workers",
     {"infra/terraform/prod/main.tf": TERRAFORM, ".changes/SHOP-117-checkout-workers.md": CHANGE_RECORD}),
    (("Maya Chen", "maya@shop.example"), "2026-02-23T16:30:00Z",
     "SHOP-123: new payment flow behind a flag at 5%", {"config/flags/checkout.yaml": FLAGS}),
]
# The uncommitted change: (path, [(old, new), ...]), each `old` occurring exactly once.
RISKY_EDITS = [
    ("deploy/prod/checkout.yaml", [("  replicas: 6\n", "  replicas: 0\n"),
                                   ("  minReplicas: 4\n", "  minReplicas: 1\n"),
                                   ("checkout:1.8.2", "checkout:1.9.0")]),
    ("deploy/staging/checkout.yaml", [("checkout:1.8.2", "checkout:1.9.0")]),
    ("config/flags/checkout.yaml", [("{percentage: 5}", "{percentage: 100}")]),
]
RISKY_SUMMARY = ("prod checkout replicas 6 → 0 and HPA minReplicas 4 → 1, image 1.8.2 → 1.9.0, "
                 "new-payment-flow rollout 5% → 100%, staging image bumped; uncommitted, no ticket")


def run_demo(directory: Optional[str], fmt: str) -> int:
    """Build the demo repository in `directory` (a new temp dir when None), then check its risky
    working-tree change and print the report in `fmt`.

    Returns 0 when the demo was built and checked, although the check itself finds errors and
    says "blocked": that is what the demo is for. Raises ChangeGateError (CLI exit 2) when the
    directory exists and is not empty, or git is missing or fails."""
    from analyzers.check import run_check
    from .formats import FORMATS
    from .formats.text import render as render_text, use_color

    root = _prepare(directory)
    try:
        _build(root)
    except BaseException:
        if directory is None:  # our own temp dir: leave nothing half-built behind
            shutil.rmtree(root, ignore_errors=True)
        raise
    # Keep JSON and SARIF parseable on stdout: the header goes to stderr for them.
    header_to = sys.stderr if fmt in ("json", "sarif") else sys.stdout
    header_to.write(f"Demo repository: {root}\nRisky change: {RISKY_SUMMARY}\n"
                    f"Re-run the check: changegate check -C {shlex.quote(root)}\n\n")
    header_to.flush()
    report = run_check(root, cwd=root)
    text = render_text(report, color=use_color(sys.stdout)) if fmt == "text" else FORMATS[fmt](report)
    sys.stdout.write(text)
    sys.stdout.flush()
    return 0


def _prepare(directory: Optional[str]) -> str:
    if directory is None:
        return os.path.abspath(tempfile.mkdtemp(prefix="changegate-demo-"))
    root = os.path.abspath(directory)
    if os.path.exists(root) and (not os.path.isdir(root) or os.listdir(root)):
        # Never build on top of someone's files: `git init` and the writes below would mix with them.
        raise ChangeGateError("not an empty directory; give a new or empty one", directory)
    try:
        os.makedirs(root, exist_ok=True)
    except OSError as exc:
        raise ChangeGateError(f"cannot create directory: {exc.strerror}", directory) from None
    return root


def _build(root: str) -> None:
    _git(root, None, "init", "-q", "-b", "main")
    for (name, email), date, message, files in COMMITS:
        for path, text in files.items():
            _write(root, path, text)
        _git(root, (name, email, date), "add", "-A", "--", *files)
        _git(root, (name, email, date), "commit", "-q", "--no-verify", "-m", message)
    for path, edits in RISKY_EDITS:
        with open(os.path.join(root, path), encoding="utf-8") as fh:
            text = fh.read()
        for old, new in edits:
            if text.count(old) != 1:  # a stale edit must fail loudly, not change nothing
                raise RuntimeError(f"demo edit {old!r} does not match {path} exactly once")
            text = text.replace(old, new)
        _write(root, path, text)


def _write(root: str, path: str, text: str) -> None:
    target = os.path.join(root, *path.split("/"))
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


def _git(root: str, who: Optional[tuple[str, str, str]], *args: str) -> None:
    # Drop inherited GIT_* (GIT_DIR from a hook would aim us at another repository) and the
    # user's global/system config (signing, hooks, templates): the demo must not depend on them.
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, LC_ALL="C")
    if who:
        name, email, date = who
        env.update(GIT_AUTHOR_NAME=name, GIT_AUTHOR_EMAIL=email, GIT_AUTHOR_DATE=date,
                   GIT_COMMITTER_NAME=name, GIT_COMMITTER_EMAIL=email, GIT_COMMITTER_DATE=date)
    try:
        proc = subprocess.run(["git", "-c", "commit.gpgsign=false", "-C", root, *args], env=env,
                              capture_output=True, check=False)
    except FileNotFoundError:
        raise ChangeGateError("git is not installed or not on PATH") from None
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ChangeGateError(f"git {args[0]} failed: {err[-1] if err else proc.returncode}", root)
