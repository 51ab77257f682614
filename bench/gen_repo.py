"""Generate the benchmark repository: 300 Kubernetes/Helm-like YAML files of 200-2,000 lines plus
one file of exactly 5,000 lines, committed, then ~5% of their scalar values changed in the working
tree (uncommitted), including a few `replicas` decreases.

Deterministic: one seeded random.Random drives everything (no set or dict-hash ordering), and git
runs with fixed author/committer/date, so the same seed gives the same commit id.

    python bench/gen_repo.py DIR [--seed N]
"""
from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
from typing import Any, Optional

SEED = 20240611
N_FILES = 300
MIN_LINES, MAX_LINES = 200, 2000
BIG_FILE = "clusters/prod/platform-all-in-one.yaml"
BIG_LINES = 5000
CHANGE_FRACTION = 0.05
REPLICA_DECREASES = 6   # each should trip CAP-001 (drop of half or more, or to one)
REPLICA_INCREASES = 6

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Bench Author", "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "Bench Author", "GIT_COMMITTER_EMAIL": "bench@example.com",
    "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z",
    # keep the user's/system's git config (hooks, signing, templates) out of the generated repo
    "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
}

SERVICES = ["checkout", "payments", "orders", "inventory", "search", "auth", "users", "notifications",
            "billing", "catalog", "cart", "shipping", "recommendations", "gateway", "ledger", "pricing",
            "reviews", "media", "analytics", "reporting", "fraud", "loyalty", "returns", "tax", "warehouse",
            "email", "sms", "webhooks", "scheduler", "identity", "sessions", "profile", "wishlist",
            "promotions", "invoices", "refunds", "audit", "metrics", "exporter", "indexer"]
ENVS = ["prod", "staging", "dev"]
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2"]
LOG_LEVELS = ["debug", "info", "warn", "error"]
PULL_POLICIES = ["IfNotPresent", "Always"]
ENV_VARS = ["LOG_LEVEL", "LOG_FORMAT", "DB_HOST", "DB_PORT", "DB_POOL_SIZE", "DB_TIMEOUT_MS", "CACHE_TTL",
            "CACHE_SIZE_MB", "REDIS_URL", "KAFKA_BROKERS", "KAFKA_TOPIC", "HTTP_TIMEOUT", "MAX_RETRIES",
            "RETRY_BACKOFF_MS", "FEATURE_NEW_CHECKOUT", "FEATURE_FAST_SEARCH", "WORKER_CONCURRENCY",
            "BATCH_SIZE", "RATE_LIMIT_RPS", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_SAMPLING_RATIO",
            "REGION", "TZ", "GOMAXPROCS", "JAVA_OPTS", "SENTRY_DSN", "METRICS_PORT", "GRPC_PORT",
            "SHUTDOWN_GRACE_SECONDS", "READ_ONLY_MODE"]
COMMENTS = ["tuned after load test", "keep in sync with the HPA", "see runbook", "owned by platform",
            "do not lower without a capacity review", "bumped for Black Friday", "TODO: move to secret",
            "default from chart"]
# Keys rules treat as capacity: only the explicit replicas edits below may touch them, so the
# findings stay predictable (a random decrease of minReplicas would be one more CAP finding).
CAPACITY_KEYS = ("replicas", "minReplicas", "maxReplicas", "minAvailable")


# ------------------------------------------------------------------ one-line nodes
class Scalar:
    """One `prefix value  # comment` line whose value can be mutated in the working tree."""

    def __init__(self, prefix: str, value: Any, kind: str, style: str = "plain", comment: str = "",
                 mutable: bool = True):
        self.prefix, self.value, self.kind, self.style = prefix, value, kind, style
        self.comment, self.mutable = comment, mutable

    def render(self) -> str:
        return self.prefix + fmt(self.value, self.style) + (f"  # {self.comment}" if self.comment else "")

    def slots(self) -> list:
        return [(self, None)] if self.mutable and self.kind != "replicas" else []

    def mutate(self, _slot, rng: random.Random) -> None:
        self.value = mutated(self.value, self.kind, rng)


class Flow:
    """A flow mapping on one line, `prefix{a: 1, b: x}`; each mutable entry is its own scalar."""

    def __init__(self, prefix: str, entries: list[tuple[str, Any, str, bool]]):
        self.prefix = prefix
        self.entries = [list(e) for e in entries]  # [key, value, kind, mutable]

    def render(self) -> str:
        return self.prefix + "{" + ", ".join(f"{k}: {fmt(v, 'plain')}" for k, v, _, _ in self.entries) + "}"

    def slots(self) -> list:
        return [(self, i) for i, e in enumerate(self.entries) if e[3]]

    def mutate(self, slot: int, rng: random.Random) -> None:
        entry = self.entries[slot]
        entry[1] = mutated(entry[1], entry[2], rng)


def fmt(value: Any, style: str) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float):
        text = f"{value:.2f}"
    else:
        text = str(value)
    if style == "double":
        return f'"{text}"'
    if style == "single":
        return f"'{text}'"
    return text


def mutated(value: Any, kind: str, rng: random.Random) -> Any:
    """A different value of the same kind, so every edit is a real semantic change."""
    if kind == "bool":
        return not value
    if kind == "int":
        return value + rng.choice([1, 2, 5, 10, 30])
    if kind == "port":
        return value + rng.randint(1, 99)
    if kind == "float":
        return round(value + rng.choice([0.05, 0.1, 0.25]), 2)
    if kind == "qint":  # an int spelled as a string ("20"): env values are strings in Kubernetes
        return str(int(value) + rng.choice([1, 5, 10]))
    if kind == "cpu":
        return f"{int(value[:-1]) * 2}m"
    if kind == "mem":
        return f"{int(value[:-2]) * 2}Mi"
    if kind == "dur":
        return f"{int(value[:-1]) + rng.choice([5, 15, 30])}s"
    if kind == "image":
        repo, _, tag = value.rpartition(":")
        major, minor, patch = (int(p) for p in tag.split("."))
        return f"{repo}:{major}.{minor}.{patch + rng.randint(1, 4)}"
    if kind == "version":
        major, minor, patch = (int(p) for p in value.split("."))
        return f"{major}.{minor + 1}.{patch}"
    if kind == "level":
        return rng.choice([lvl for lvl in LOG_LEVELS if lvl != value])
    if kind == "pull":
        return next(p for p in PULL_POLICIES if p != value)
    if kind == "region":
        return rng.choice([r for r in REGIONS if r != value])
    return f"{value}-{rng.choice(['v2', 'next', 'canary', 'blue', 'green'])}"  # free text


# ------------------------------------------------------------------ documents
class Gen:
    """Builds documents for one file. `uid` keeps names (and so K8s identities) unique per file."""

    def __init__(self, rng: random.Random, svc: str, env: str):
        self.rng, self.svc, self.env = rng, svc, env
        self.ns = f"{svc}-{env}"
        self.uid = 0

    def next_name(self, part: str) -> str:
        self.uid += 1
        return f"{self.svc}-{part}-{self.uid}"

    def maybe_comment(self) -> str:
        return self.rng.choice(COMMENTS) if self.rng.random() < 0.08 else ""

    def replicas(self, lo: int = 2, hi: int = 12) -> int:
        return self.rng.randint(lo, hi) if self.env == "prod" else self.rng.randint(lo, max(lo, 4))

    def header(self, kind: str, api: str, name: str, out: list, annotations: bool = True) -> None:
        r = self.rng
        out += ["---", f"# {kind} {name} ({self.env})", f"apiVersion: {api}", f"kind: {kind}", "metadata:",
                f"  name: {name}", f"  namespace: {self.ns}", "  labels:",
                f"    app.kubernetes.io/name: {self.svc}", f"    app.kubernetes.io/instance: {name}",
                Scalar("    app.kubernetes.io/version: ", f"1.{r.randint(0, 30)}.{r.randint(0, 9)}", "version", "double"),
                "    app.kubernetes.io/managed-by: Helm",
                Scalar("    tier: ", r.choice(["frontend", "backend", "data"]), "text")]
        if annotations:
            out += ["  annotations:",
                    Scalar("    deployment.kubernetes.io/revision: ", str(r.randint(1, 90)), "qint", "double"),
                    Scalar("    reloader.stakater.com/auto: ", r.choice(["true", "false"]), "text", "double",
                           mutable=False)]

    def env_items(self, indent: str, count: int) -> list:
        r, out = self.rng, []
        for var in r.sample(ENV_VARS, count):
            out.append(f"{indent}- name: {var}")
            if var == "LOG_LEVEL":
                out.append(Scalar(f"{indent}  value: ", r.choice(LOG_LEVELS), "level"))
            elif var == "REGION":
                out.append(Scalar(f"{indent}  value: ", r.choice(REGIONS), "region"))
            elif var.startswith(("FEATURE_", "READ_ONLY")):
                out.append(Scalar(f"{indent}  value: ", r.choice(["true", "false"]), "text", "double",
                                  mutable=False))
            elif var == "OTEL_SAMPLING_RATIO":
                out.append(Scalar(f"{indent}  value: ", f"{r.choice([0.01, 0.05, 0.1, 0.25])}", "text", "double"))
            elif var in ("DB_HOST", "REDIS_URL", "KAFKA_BROKERS", "OTEL_EXPORTER_OTLP_ENDPOINT", "SENTRY_DSN"):
                if r.random() < 0.3:  # some values come from secrets: a nested flow mapping
                    out += [f"{indent}  valueFrom:",
                            Flow(f"{indent}    secretKeyRef: ", [("name", f"{self.svc}-secrets", "text", False),
                                                                 ("key", var.lower().replace("_", "-"), "text", False)])]
                else:
                    out.append(Scalar(f"{indent}  value: ", f"{self.svc}.{self.env}.internal", "text"))
            elif var in ("TZ", "LOG_FORMAT", "JAVA_OPTS", "KAFKA_TOPIC"):
                fixed = {"TZ": "UTC", "LOG_FORMAT": "json", "JAVA_OPTS": "-Xmx512m", "KAFKA_TOPIC": f"{self.svc}-events"}
                out.append(Scalar(f"{indent}  value: ", fixed[var], "text", "single"))
            else:
                out.append(Scalar(f"{indent}  value: ", str(r.choice([1, 2, 3, 5, 8, 10, 20, 30, 64, 100, 250])),
                                  "qint", "double"))
        return out

    def container(self, indent: str, name: str, main: bool) -> list:
        r = self.rng
        port = r.choice([8080, 8000, 3000, 9000, 5000])
        out = [f"{indent}- name: {name}",
               Scalar(f"{indent}  image: ", f"registry.example.com/{self.svc}/{name}:{r.randint(1, 4)}.{r.randint(0, 40)}.{r.randint(0, 20)}", "image"),
               Scalar(f"{indent}  imagePullPolicy: ", r.choice(PULL_POLICIES), "pull"),
               f'{indent}  args: ["--port={port}", "--log-level={r.choice(LOG_LEVELS)}", "--metrics"]',
               f"{indent}  ports:"]
        for pname, p in (("http", port), ("metrics", 9090))[: 2 if main else 1]:
            out += [f"{indent}    - name: {pname}", Scalar(f"{indent}      containerPort: ", p, "port"),
                    f"{indent}      protocol: TCP"]
        out.append(f"{indent}  env:")
        out += self.env_items(indent + "    ", r.randint(4, 16) if main else r.randint(2, 5))
        cpu, mem = r.choice([50, 100, 200, 250, 500]), r.choice([64, 128, 256, 512, 1024])
        out += [f"{indent}  resources:",
                Flow(f"{indent}    requests: ", [("cpu", f"{cpu}m", "cpu", True), ("memory", f"{mem}Mi", "mem", True)]),
                Flow(f"{indent}    limits: ", [("cpu", f"{cpu * 4}m", "cpu", True), ("memory", f"{mem * 2}Mi", "mem", True)])]
        for probe in ("livenessProbe", "readinessProbe") if main else ():
            out += [f"{indent}  {probe}:",
                    Flow(f"{indent}    httpGet: ", [("path", "/healthz" if probe[0] == "l" else "/ready", "text", False),
                                                   ("port", "http", "text", False)]),
                    Scalar(f"{indent}    initialDelaySeconds: ", r.choice([5, 10, 15, 30]), "int", comment=self.maybe_comment()),
                    Scalar(f"{indent}    periodSeconds: ", r.choice([5, 10, 20]), "int"),
                    Scalar(f"{indent}    timeoutSeconds: ", r.choice([1, 2, 3, 5]), "int"),
                    Scalar(f"{indent}    failureThreshold: ", r.choice([3, 5, 6]), "int")]
        out += [f"{indent}  volumeMounts:", f"{indent}    - name: config",
                Scalar(f"{indent}      mountPath: ", f"/etc/{self.svc}", "text"),
                Scalar(f"{indent}      readOnly: ", True, "bool")]
        return out

    def deployment(self) -> list:
        r, out = self.rng, []
        name = self.next_name(r.choice(["api", "web", "worker", "consumer", "grpc"]))
        self.header("Deployment", "apps/v1", name, out)
        out += ["spec:",
                Scalar("  replicas: ", self.replicas(), "replicas", comment=self.maybe_comment()),
                Scalar("  revisionHistoryLimit: ", r.choice([3, 5, 10]), "int"),
                Scalar("  progressDeadlineSeconds: ", 600, "int"),
                "  strategy:", "    type: RollingUpdate",
                Flow("    rollingUpdate: ", [("maxSurge", "25%", "text", False), ("maxUnavailable", 0, "int", False)]),
                "  selector:", "    matchLabels:", f"      app.kubernetes.io/name: {self.svc}",
                f"      app.kubernetes.io/instance: {name}",
                "  template:", "    metadata:", "      labels:", f"        app.kubernetes.io/name: {self.svc}",
                f"        app.kubernetes.io/instance: {name}", "      annotations:",
                Scalar("        prometheus.io/scrape: ", "true", "text", "double", mutable=False),
                Scalar("        prometheus.io/port: ", "9090", "qint", "double"),
                "    spec:",
                f"      serviceAccountName: {self.svc}",
                Scalar("      terminationGracePeriodSeconds: ", r.choice([30, 60, 120]), "int"),
                Scalar("      automountServiceAccountToken: ", r.random() < 0.5, "bool"),
                Flow("      securityContext: ", [("runAsNonRoot", True, "bool", False), ("runAsUser", 1000, "int", True),
                                                 ("fsGroup", 2000, "int", True)]),
                "      containers:"]
        out += self.container("        ", "app", True)
        for n in range(r.choice([0, 0, 1, 2])):
            out += self.container("        ", f"sidecar-{n}", False)
        out += ["      volumes:", "        - name: config", "          configMap:",
                f"            name: {self.svc}-config",
                "      nodeSelector:", "        kubernetes.io/os: linux",
                Scalar("        topology.kubernetes.io/region: ", r.choice(REGIONS), "region"),
                "      tolerations:"]
        for n in range(r.randint(1, 3)):
            out += [f"        - key: dedicated-{n}", "          operator: Equal",
                    Scalar("          value: ", self.svc, "text"), "          effect: NoSchedule"]
        return out

    def service(self) -> list:
        r, out = self.rng, []
        self.header("Service", "v1", self.next_name("svc"), out, annotations=False)
        out += ["spec:", "  type: ClusterIP", "  selector:", f"    app.kubernetes.io/name: {self.svc}", "  ports:"]
        for pname in ("http", "grpc", "metrics")[: r.randint(1, 3)]:
            out += [f"    - name: {pname}", Scalar("      port: ", r.choice([80, 443, 8080, 9090]), "port"),
                    f"      targetPort: {pname}", "      protocol: TCP"]
        return out

    def hpa(self) -> list:
        r, out = self.rng, []
        self.header("HorizontalPodAutoscaler", "autoscaling/v2", self.next_name("hpa"), out, annotations=False)
        lo = self.replicas()
        out += ["spec:", "  scaleTargetRef:", "    apiVersion: apps/v1", "    kind: Deployment",
                f"    name: {self.svc}", Scalar("  minReplicas: ", lo, "replicas"),
                Scalar("  maxReplicas: ", lo * r.choice([2, 3, 5]), "replicas"), "  metrics:",
                "    - type: Resource", "      resource:", "        name: cpu", "        target:",
                "          type: Utilization", Scalar("          averageUtilization: ", r.choice([60, 70, 80]), "int"),
                "  behavior:", "    scaleDown:",
                Scalar("      stabilizationWindowSeconds: ", r.choice([60, 300, 600]), "int")]
        return out

    def pdb(self) -> list:
        out = []
        self.header("PodDisruptionBudget", "policy/v1", self.next_name("pdb"), out, annotations=False)
        out += ["spec:", Scalar("  minAvailable: ", self.rng.randint(1, 3), "replicas"), "  selector:",
                "    matchLabels:", f"      app.kubernetes.io/name: {self.svc}"]
        return out

    def configmap(self, entries: Optional[int] = None, name: Optional[str] = None) -> list:
        """A ConfigMap; with `entries` it has exactly 7 + entries lines (used to pad files exactly)."""
        r, out = self.rng, []
        name = name or self.next_name("config")
        out += ["---", "apiVersion: v1", "kind: ConfigMap", "metadata:", f"  name: {name}",
                f"  namespace: {self.ns}", "data:"]
        if entries is None:
            entries = r.randint(8, 40)
            out += ["  application.yaml: |", "    server:", f"      port: {r.choice([8080, 8000])}",
                    f"      threads: {r.randint(4, 64)}", "    cache:", f"      ttl: {r.randint(10, 600)}s"]
        for n in range(entries):
            key = f"{r.choice(['timeout', 'limit', 'batch', 'ratio', 'enabled', 'endpoint', 'region'])}.{n}"
            out.append(self.data_entry(f"  {key}: ", key))
        return out

    def data_entry(self, prefix: str, key: str) -> Scalar:
        r = self.rng
        if key.startswith(("timeout", "limit", "batch")):
            return Scalar(prefix, str(r.randint(1, 5000)), "qint", "double")
        if key.startswith("ratio"):
            return Scalar(prefix, f"{r.random():.2f}", "text", "double")
        if key.startswith("enabled"):
            return Scalar(prefix, r.choice(["true", "false"]), "text", "double", mutable=False)
        if key.startswith("region"):
            return Scalar(prefix, r.choice(REGIONS), "region")
        return Scalar(prefix, f"https://{self.svc}-{r.randint(1, 99)}.{self.env}.example.com", "text", "single")

    # -------------------------------------------------------------- Helm values (one document)
    def values_worker(self, n: int) -> list:
        r = self.rng
        out = [f"  - name: worker-{n}",
               Scalar("    replicas: ", self.replicas(1, 8), "replicas"),
               Scalar("    queue: ", r.choice(["orders", "emails", "events", "payments", "exports"]) + f"-{n}", "text"),
               Scalar("    concurrency: ", r.choice([1, 2, 4, 8, 16]), "int", comment=self.maybe_comment()),
               Scalar("    timeout: ", f"{r.choice([10, 30, 60, 120])}s", "dur"),
               Scalar("    enabled: ", r.random() < 0.8, "bool"),
               Scalar("    retryRatio: ", r.choice([0.1, 0.25, 0.5]), "float"),
               Flow("    resources: ", [("cpu", f"{r.choice([100, 200, 500])}m", "cpu", True),
                                        ("memory", f"{r.choice([128, 256, 512])}Mi", "mem", True)]),
               "    env:"]
        out += self.env_items("      ", r.randint(1, 6))
        return out

    def values(self, target: int) -> list:
        r = self.rng
        out = [f"# Values for {self.svc} in {self.env}. Generated for the ChangeGate benchmark.",
               Scalar("replicas: ", self.replicas(), "replicas", comment=self.maybe_comment()),
               "image:", f"  repository: registry.example.com/{self.svc}/app",
               Scalar("  tag: ", f"{r.randint(1, 4)}.{r.randint(0, 40)}.{r.randint(0, 20)}", "version", "double"),
               Scalar("  pullPolicy: ", r.choice(PULL_POLICIES), "pull"),
               Flow("service: ", [("type", "ClusterIP", "text", False), ("port", 80, "port", True)]),
               "ingress:", Scalar("  enabled: ", True, "bool"), "  className: nginx", "  hosts:",
               f"    - host: {self.svc}.{self.env}.example.com", "      paths:", "        - path: /",
               "          pathType: Prefix",
               "resources:",
               Flow("  requests: ", [("cpu", "100m", "cpu", True), ("memory", "128Mi", "mem", True)]),
               Flow("  limits: ", [("cpu", "500m", "cpu", True), ("memory", "512Mi", "mem", True)]),
               "autoscaling:", Scalar("  enabled: ", r.random() < 0.5, "bool"),
               Scalar("  minReplicas: ", 2, "replicas"), Scalar("  maxReplicas: ", 10, "replicas"),
               Scalar("  targetCPUUtilizationPercentage: ", r.choice([60, 70, 80]), "int"),
               "podAnnotations:", Scalar("  sidecar.istio.io/inject: ", "true", "text", "double", mutable=False),
               "env:"]
        out += self.env_items("  ", r.randint(5, 12))
        out.append("workers:")
        n = 0
        while True:
            block = self.values_worker(n)
            if len(out) + len(block) + 2 > target:  # leave room for the featureFlags padding
                break
            out += block
            n += 1
        out.append("featureFlags:")  # pads the file to exactly `target` lines
        for k in range(target - len(out)):
            out.append(Scalar(f"  flag_{k:04d}: ", r.random() < 0.5, "bool"))
        return out

    def manifests(self, target: int) -> list:
        """A multi-document manifest file of exactly `target` lines."""
        r, out = self.rng, [f"# Rendered manifests for {self.svc} ({self.env}). Do not edit by hand."]
        makers = [self.deployment, self.deployment, self.service, self.configmap, self.hpa, self.pdb]
        misses = 0
        while misses < 4:
            doc = r.choice(makers)()
            if len(out) + len(doc) + 8 <= target:  # 8: the smallest padding ConfigMap
                out += doc
            else:
                misses += 1
        out += self.configmap(entries=target - len(out) - 7, name=f"{self.svc}-padding")
        return out


# ------------------------------------------------------------------ repository
def build_files(rng: random.Random) -> dict[str, list]:
    files: dict[str, list] = {}
    for i in range(N_FILES):
        svc, env = SERVICES[i % len(SERVICES)], rng.choice(ENVS)
        target = rng.randint(MIN_LINES, MAX_LINES)
        gen = Gen(rng, svc, env)
        if rng.random() < 0.3:
            path, lines = f"charts/{svc}/values-{env}-{i:03d}.yaml", gen.values(target)
        else:
            comp = rng.choice(["app", "workers", "api", "stack", "platform"])
            path, lines = f"deploy/{env}/{svc}/{comp}-{i:03d}.yaml", gen.manifests(target)
        assert len(lines) == target, (path, len(lines), target)
        files[path] = lines
    files[BIG_FILE] = Gen(rng, "platform", "prod").manifests(BIG_LINES)
    assert len(files[BIG_FILE]) == BIG_LINES
    return files


def render(lines: list) -> str:
    return "".join((line if isinstance(line, str) else line.render()) + "\n" for line in lines)


def write_all(root: str, files: dict[str, list]) -> None:
    for path, lines in files.items():
        full = os.path.join(root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(render(lines))


def git(root: str, *args: str) -> None:
    env = {**os.environ, **GIT_ENV}
    subprocess.run(["git", "-c", "commit.gpgsign=false", "-c", "core.hooksPath=" + os.devnull, "-C", root, *args],
                   env=env, check=True, stdout=subprocess.DEVNULL)


def mutate(rng: random.Random, files: dict[str, list]) -> dict[str, int]:
    """Change ~5% of the mutable scalars (uniformly over all files) and a few replicas counts."""
    slots, replicas = [], []
    for path, lines in files.items():
        for line in lines:
            if isinstance(line, str):
                continue
            slots += line.slots()
            if isinstance(line, Scalar) and line.kind == "replicas" and line.prefix.strip() == "replicas:":
                replicas.append(line)
    chosen = rng.sample(slots, round(CHANGE_FRACTION * len(slots)))
    for node, slot in chosen:
        node.mutate(slot, rng)
    big = [s for s in replicas if s.value >= 4]
    picked = rng.sample(big, REPLICA_DECREASES + REPLICA_INCREASES)
    for s in picked[:REPLICA_DECREASES]:
        s.value = s.value // 2 if rng.random() < 0.5 else 1
    for s in picked[REPLICA_DECREASES:]:
        s.value += rng.randint(1, 4)
    return {"scalars": len(slots), "changed": len(chosen), "replicas_down": REPLICA_DECREASES,
            "replicas_up": REPLICA_INCREASES}


def generate(root: str, seed: int = SEED) -> dict:
    """Build the repository in `root` (created if missing, must not already be a repository)."""
    os.makedirs(root, exist_ok=True)
    if os.path.exists(os.path.join(root, ".git")):
        raise SystemExit(f"{root} is already a git repository")
    rng = random.Random(seed)
    files = build_files(rng)
    write_all(root, files)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Baseline: rendered manifests and Helm values")
    stats = mutate(rng, files)
    write_all(root, files)  # working tree only: the change under test stays uncommitted
    stats.update(files=len(files), lines=sum(len(v) for v in files.values()), big_file=BIG_FILE)
    return stats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    stats = generate(args.directory, args.seed)
    print(", ".join(f"{k}={v}" for k, v in stats.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
