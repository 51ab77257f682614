"""Blast radius: how far a change reaches, as a score 0-100 with the factors that explain it.

Additive weights with caps (docs/blast-radius.md has the table): five factor groups, each the sum
of its signals up to the group's cap; the score is their sum (at most 100), held under the ceiling
of a non-production environment. Each factor carries the weight it counted, so the weights shown
add up to the score. A file's level is its worst change plus what only the file says (how many
objects it touches, findings that belong to no single change)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from .classify import DEFAULT_ENVIRONMENTS
from .configdiff import MISSING
from .model import BlastFactor, BlastRadius, ConfigChange, Finding
from .rules.registry import FileFacts
from .rules.util import duration, fmt, last_key, quantity

GROUPS = ("scope", "propagation", "reversibility", "criticality", "magnitude")
CAPS = {"scope": 35, "propagation": 25, "reversibility": 25, "criticality": 25, "magnitude": 50}
CEILINGS = {"dev": 24, "test": 24, "staging": 49}  # outside production: at most low / medium
WEIGHTS = {  # group -> signal -> weight: the table of docs/blast-radius.md
    "scope": {"env-prod": 25, "env-staging": 10, "env-other": 10, "env-dev": 0, "env-test": 0,
              "shared-base": 25, "unscoped": 10, "targets": 10, "objects-3": 5, "objects-10": 10},
    "propagation": {"marked-global": 20, "kill-switch": 20, "flag-file": 15, "gitops-auto-sync": 10,
                    "stages-removed": 10},
    "reversibility": {"object-removed": 25, "irreversible-finding": 20, "guard-removed": 20,
                      "guard-weakened": 10, "key-removed": 5, "type-changed": 5},
    "criticality": {"tier-1": 20, "tier-2": 10, "shared-dependency": 10},
    "magnitude": {"finding-error": 30, "finding-warning": 10, "to-zero": 25, "x10": 20, "to-empty": 15,
                  "x2": 10, "from-zero": 10},
}
_GROUP = {signal: group for group, table in WEIGHTS.items() for signal in table}
# Rule ids whose findings say: cannot simply be rolled back / takes a safety net away / global channel.
# A rule's signal counts once with the same signal read from the keys (a guard key and TF-002, say).
RULE_SIGNALS = {"TF-001": "irreversible-finding", "K8S-001": "irreversible-finding", "TF-002": "guard-removed",
                "CAP-004": "guard-weakened", "K8S-002": "guard-weakened", "CI-001": "guard-weakened",
                "FLG-003": "kill-switch", "CI-002": "stages-removed"}

_TOKEN = re.compile(r"[^a-z0-9]+")
_SHARED_DIRS = {"common", "shared", "global", "defaults", "default"}
_GITOPS_DIRS = {"argocd", "argo-cd", "flux", "flux-system", "gitops"}
_TARGET_KEYS = {"region", "regions", "zone", "zones", "availability_zones", "availabilityzones", "azs",
                "location", "locations", "selector", "matchlabels", "matchexpressions", "nodeselector",
                "hosts", "targets", "clusters"}
_KILL = re.compile(r"(?:^|[^a-z])kill|killswitch|bypass|emergency|break_?glass")
_STAGED_KEYS = {"canary", "stages", "waves", "canarysteps", "bluegreen", "progressive", "analysis"}
_GUARD_KEYS = {"prevent_destroy", "deletion_protection", "deletionprotection", "termination_protection",
               "disable_api_termination", "create_before_destroy", "persistentvolumereclaimpolicy"}
_UNGUARD_KEYS = {"force_destroy", "skip_final_snapshot"}  # these take the net away when they become true
_ENV_KEYS = ("metadata.namespace", "spec.destination.namespace", "environment", "env", "stage",
             "ENVIRONMENT", "ENV", "APP_ENV", "global.environment", "locals.environment",
             "variable.environment.default", "metadata.labels.env", "metadata.labels.environment")
# Shared dependencies: (name, words of a Terraform type or Kubernetes kind, words of a key or path).
_DEPENDENCIES = (
    ("DNS", {"dns", "route53", "cloudflare_record", "dnsendpoint"}, {"dns", "route53", "nameservers", "coredns"}),
    ("IAM", {"iam", "role_assignment", "role", "clusterrole", "rolebinding", "clusterrolebinding"}, {"iam", "rbac"}),
    ("load balancer", {"lb", "alb", "elb", "nlb", "forwarding_rule", "backend_service", "url_map",
                       "target_group", "ingress", "gateway", "httproute"}, {"loadbalancer", "load_balancer"}),
    ("WAF", {"waf", "wafv2", "web_acl", "security_policy", "cloudflare_ruleset", "firewall"}, {"waf", "firewall"}),
    ("quota", {"quota", "resourcequota", "limitrange"}, {"quota", "quotas", "ratelimit", "rate_limit"}),
    ("BGP / anycast", {"bgp"}, {"bgp", "anycast", "anycast_prefixes", "advertised_ip_ranges"}),
)
_NOT_AMOUNT = re.compile(r"(?i:port|uid|gid|user|group|version|tag|revision|generation|index|year|date|code)s?$"
                         r"|(?:^id|_id|Id|ID)s?$")  # numbers that name things rather than measure them
_TF_OBJECT = re.compile(r"^((?:resource|data)\.[^.\[]+\.[^.\[]+|module\.[^.\[]+)")
_TF_WHOLE = re.compile(r"^(?:resource|data)\.[^.\[]+(?:\.[^.\[]+)?$|^module\.[^.\[]+$")  # a block or all of a type


def level_for(score: int) -> str:
    return "critical" if score >= 75 else "high" if score >= 50 else "medium" if score >= 25 else "low"


def env_class(name: Optional[str]) -> Optional[str]:
    """prod / staging / dev / test for a built-in or policy environment name; `other` otherwise."""
    if not name:
        return None
    words = set(_TOKEN.split(name.lower()))
    return next((cls for cls, names in DEFAULT_ENVIRONMENTS if name == cls or words & names), "other")


def score(factors: list[BlastFactor], environment: Optional[str] = None) -> BlastRadius:
    """Strongest signal first within each group; each counts what is left under its group's cap."""
    ranked = sorted(enumerate(factors), key=lambda p: (GROUPS.index(p[1].name), -p[1].weight, p[0]))
    used = dict.fromkeys(GROUPS, 0)
    total, out = 0, []
    for _, f in ranked:
        weight = max(0, min(f.weight, CAPS[f.name] - used[f.name], 100 - total))
        used[f.name] += weight
        total += weight
        out.append(BlastFactor(f.name, f.detail, weight))
    ceiling = CEILINGS.get(env_class(environment) or "")
    if ceiling is not None and total > ceiling:
        out.append(BlastFactor("scope", f"{environment}: at most {level_for(ceiling)}", ceiling - total))
        total = ceiling
    return BlastRadius(level_for(total), total, tuple(out))


@dataclass(frozen=True)
class _Factor(BlastFactor):
    signal: str = ""  # which row of WEIGHTS, so one signal from a key and from a rule counts once


def _f(signal: str, detail: str) -> BlastFactor:
    return _Factor(_GROUP[signal], detail, WEIGHTS[_GROUP[signal]][signal], signal)


@dataclass
class Assessment:
    file: BlastRadius
    changes: list[BlastRadius] = field(default_factory=list)  # parallel to facts.changes
    findings: list[str] = field(default_factory=list)  # the level of each finding, in the given order


def assess(facts: FileFacts, findings: list[Finding], semantic: bool = True) -> Assessment:
    """Blast radius of each change, of the file, and the level each finding inherits (its change's,
    or the file's). `semantic`: the new side parsed, so there is a key-level diff."""
    ctx = _FileContext(facts)
    changes = facts.changes if semantic else []
    index: dict = {}
    for i, c in enumerate(changes):
        index.setdefault((c.document, c.key), i)
    leaves: list[list[ConfigChange]] = [[] for _ in changes]
    for leaf in facts.leaves if semantic else []:
        i = _owner(index, leaf)
        if i is not None:
            leaves[i].append(leaf)
    owners = [_owner(index, f.change) if f.change is not None else index.get((None, f.key)) if f.key else None
              for f in findings]
    mine: list[list[Finding]] = [[] for _ in changes]
    for f, i in zip(findings, owners):
        if i is not None:
            mine[i].append(f)
    loose = [f for f, i in zip(findings, owners) if i is None]  # findings of the file, not of one change
    signals = [ctx.factors(c, leaves[i]) for i, c in enumerate(changes)]
    blasts = [score(fs + _finding_factors(mine[i], fs), env) for i, (fs, env) in enumerate(signals)]
    if changes:
        extra = ctx.objects_touched(changes)
        # file factors raise a change by at most `bonus`: only changes within reach of the best can win
        bonus = sum(f.weight for f in extra + _finding_factors(loose))
        best = max(b.score for b in blasts)
        file_blast = max((score(fs + extra + _finding_factors(mine[i] + loose, fs), env)
                          for i, (fs, env) in enumerate(signals) if blasts[i].score >= best - bonus),
                         key=lambda b: b.score)
    elif semantic and facts.file.status != "renamed":  # parsed, and nothing but comments/format moved
        file_blast = score([BlastFactor("scope", "no semantic change: comments, formatting or key order")]
                           + _finding_factors(loose))
    else:  # no key-level diff (code, binary, broken file): judge the file as one change
        fs, env = ctx.factors(None, [])
        file_blast = score(fs + _finding_factors(loose, fs), env)
    return Assessment(file_blast, blasts, [blasts[i].level if i is not None else file_blast.level for i in owners])


def _owner(index: dict, change: ConfigChange) -> Optional[int]:
    """The Report change a leaf belongs to: same document, its key or the nearest parent key."""
    for key in [change.key] + _parents(change.key):
        if (change.document, key) in index:
            return index[(change.document, key)]
    return None


def _parents(key: str) -> list[str]:
    """`a.b[name=x].c` -> [`a.b[name=x]`, `a.b`, `a`]: cut at `.` and `[` outside brackets."""
    cuts, depth, quoted = [], 0, False
    for i, ch in enumerate(key):
        if ch == '"' and depth:
            quoted = not quoted
        elif not quoted and ch in "[]." and (ch != "." or depth == 0):
            if ch != "]" and depth == 0 and i:
                cuts.append(i)
            depth += {"[": 1, "]": -1, ".": 0}[ch]
    return [key[:i] for i in reversed(cuts)]


def _segments(key: str) -> set[str]:
    return {last_key(k).lower() for k in [key] + _parents(key)} - {""}


def _finding_factors(findings: list[Finding], present: list[BlastFactor] = ()) -> list[BlastFactor]:
    """The worst finding's severity (magnitude), and the signals of RULE_SIGNALS not already present."""
    have = {getattr(f, "signal", "") for f in present}
    counted = [f for f in findings if f.severity in ("warning", "error")]
    worst = max(counted, key=lambda f: (f.severity == "error", f.rule), default=None)
    out = []
    if worst is not None:
        waived = " (waived)" if worst.suppressed is not None else ""
        out.append(_f(f"finding-{worst.severity}", f"{worst.rule} {worst.name}: {worst.severity}{waived}"))
    for signal in sorted({RULE_SIGNALS[f.rule] for f in counted if f.rule in RULE_SIGNALS} - have):
        rules = sorted({f"{f.rule} {f.name}" for f in counted if RULE_SIGNALS.get(f.rule) == signal})
        out.append(_f(signal, ", ".join(rules)))
    return out


def _magnitude(c: ConfigChange) -> Optional[BlastFactor]:
    if c.op not in ("replace", "type_change") or _NOT_AMOUNT.search(last_key(c.key)):
        return None
    old, new = _amounts(c.old, c.new)
    shown = f"{c.key}: {fmt(c.old)} → {fmt(c.new)}"
    if old is None or new is None:
        return _f("to-empty", f"{shown} (emptied)") if _empty(c.new) and not _empty(c.old) else None
    if old == new:
        return None
    if new == 0 or old == 0:
        return _f("to-zero", f"{shown} (to zero)") if new == 0 else _f("from-zero", f"{shown} (from zero)")
    r = abs(new / old)
    if (new > 0) != (old > 0) or r >= 2 or r <= 0.5:
        return _f("x10" if r >= 10 or r <= 0.1 else "x2", f"{shown} (×{r:.3g})")
    return None


def _amounts(old, new) -> tuple[Optional[float], Optional[float]]:
    """Both sides as quantities (500m, 1Gi, 25%) if both parse so, else both as durations (90s)."""
    old, new = (v.strip()[:-1] if isinstance(v, str) and v.strip().endswith("%") else v for v in (old, new))
    q = quantity(old), quantity(new)
    return q if None not in q else (duration(old), duration(new))


def _empty(value) -> bool:
    return value is None or value is MISSING or (not isinstance(value, bool) and value in ("", [], {}))


def _guard_removed(c: ConfigChange) -> bool:
    name = last_key(c.key).lower()
    on = [v is True or str(v).lower() in ("true", "yes", "retain") for v in (c.old, c.new)]
    if name in _GUARD_KEYS:
        return on[0] and (c.op == "remove" or not on[1])
    return name in _UNGUARD_KEYS and not on[0] and c.op != "remove" and on[1]


def _dependency(kinds: set[str], words: set[str]) -> Optional[str]:
    return next((name for name, kind_words, key_words in _DEPENDENCIES if kinds & kind_words or words & key_words),
                None)


def _kind_words(c: ConfigChange) -> set[str]:
    """The Kubernetes kind and the Terraform resource type (its words and word pairs) of a change."""
    words = {c.doc_kind.lower()} if c.doc_kind else set()
    m = _TF_OBJECT.match(c.key)
    if m and not c.key.startswith("module."):
        parts = m.group(1).split(".")[1].lower().split("_")
        words |= set(parts) | {f"{a}_{b}" for a, b in zip(parts, parts[1:])}
    return words


class _FileContext:
    """What the file says once (environment, fan-out, channel, tier), then each change's signals."""

    def __init__(self, facts: FileFacts):
        self.facts = facts
        f = facts.file
        dirs = set(f.path.lower().split("/")[:-1])
        name = f.path.lower().rsplit("/", 1)[-1]
        stem = name.split(".", 1)[0]
        kinds = facts.kinds
        self.deployable = bool(kinds & {"config", "control-plane", "dockerfile", "code"})
        self.unscoped = bool(kinds & {"config", "control-plane", "dockerfile"})
        self.shared = None
        if facts.environment is None and kinds & {"config", "control-plane"}:
            self.shared = ("Helm chart default values" if "helm" in kinds and name in ("values.yaml", "values.yml")
                           else "Helm chart templates" if "helm" in kinds and "templates" in dirs
                           else "Kustomize base" if dirs & {"base", "bases"}
                           else "Terraform module" if "terraform" in kinds and "modules" in dirs
                           else "shared config" if dirs & _SHARED_DIRS or stem in _SHARED_DIRS else None)
        text = (f.new_text or "") + (f.old_text or "")
        self.global_at = self._marked_global() if "propagation" in text else set()
        self.gitops = ("Argo CD syncPolicy.automated" if "syncPolicy" in text and any(
                           k.endswith("syncPolicy.automated") for _, k in facts.keys("new"))
                       else "Flux reconciles this file" if "toolkit.fluxcd.io" in text
                       else f"GitOps path {f.path}" if dirs & _GITOPS_DIRS else None)
        self.path_dependency = _dependency(set(), dirs | set(_TOKEN.split(stem)))
        self.removed_docs = {label for label, _, old, new in (facts.diff.pairs if facts.diff else [])
                             if old is not None and new is None}
        self._env: dict = {}

    def _marked_global(self) -> set:
        """(document, key prefix) of every `propagation: global` marker, on either side."""
        return {(doc, (_parents(key) or [""])[0]) for side in ("new", "old") for doc, key in self.facts.keys(side)
                if last_key(key) == "propagation" and str(self.facts.value(key, doc, side)).lower() == "global"}

    def environment(self, c: Optional[ConfigChange]) -> tuple[Optional[str], str]:
        """The path's environment, else one read from the document's namespace or an env key."""
        if self.facts.environment:
            return self.facts.environment, f"{self.facts.environment} environment"
        doc = c.document if c else None
        if doc not in self._env:
            values = ((k, self.facts.value(k, doc)) for k in (_ENV_KEYS if self.facts.diff else ()))
            self._env[doc] = next(((env_class(v), f"{env_class(v)} environment ({k}: {v})") for k, v in values
                                   if isinstance(v, str) and env_class(v) != "other"), (None, ""))
        return self._env[doc]

    def factors(self, c: Optional[ConfigChange], leaves: list[ConfigChange]) -> tuple[list[BlastFactor], Optional[str]]:
        """The factors of one change (or of the whole file when `c` is None), and its environment."""
        env, env_detail = self.environment(c)
        out: list[BlastFactor] = []
        if env and self.deployable:
            out.append(_f(f"env-{env_class(env)}", env_detail))
        elif self.shared:
            out.append(_f("shared-base", f"shared by every environment: {self.shared}"))
        elif self.unscoped:
            out.append(_f("unscoped", "no environment: may apply to every environment"))
        if "feature-flags" in self.facts.kinds:
            out.append(_f("flag-file", "feature-flag file: every instance reads it at once"))
        if self.gitops:
            out.append(_f("gitops-auto-sync", f"auto-sync ({self.gitops}): merged means deployed"))
        if self.facts.tier in (1, 2):
            out.append(_f(f"tier-{self.facts.tier}", f"tier {self.facts.tier} service {self.facts.service or ''}"
                          .strip()))
        dependency = self.path_dependency
        if c is not None:
            words = _segments(c.key)
            dependency = _dependency(_kind_words(c), words.union(*(_TOKEN.split(w) for w in words))) or dependency
            out += self._change_signals(c, [c] + leaves)
        elif self.facts.file.status == "deleted":
            out.append(_f("object-removed", "file deleted"))
        if dependency:
            out.append(_f("shared-dependency", f"shared dependency: {dependency}"))
        return out, env

    def _change_signals(self, c: ConfigChange, keys: list[ConfigChange]) -> list[BlastFactor]:
        out: list[BlastFactor] = []
        segments = set().union(*(_segments(k.key) for k in keys))
        if segments & _TARGET_KEYS or "terraform" in self.facts.kinds and segments & {"count", "for_each"}:
            out.append(_f("targets", f"targets: {c.key} decides where it applies"))
        if any(doc == c.document and _within(c.key, prefix) for doc, prefix in self.global_at):
            out.append(_f("marked-global", "marked propagation: global"))
        if any(_KILL.search(s) for s in segments):
            out.append(_f("kill-switch", f"kill switch: {c.key}"))
        if segments & _STAGED_KEYS and (c.op == "remove" or c.op in ("replace", "type_change") and _empty(c.new)):
            out.append(_f("stages-removed", f"staged rollout removed: {c.key}"))
        guard = next((k for k in keys if _guard_removed(k)), None)
        if guard is not None:
            out.append(_f("guard-removed", f"guard removed: {guard.key}: {fmt(guard.old)} → {fmt(guard.new)}"))
        if c.op in ("remove", "rename"):
            whole = ("file deleted" if self.facts.file.status == "deleted"
                     else f"object removed: {c.document or self.facts.file.path}" if c.document in self.removed_docs
                     else f"object removed: {c.key}" if _TF_WHOLE.match(c.key) else None)
            out.append(_f("object-removed", whole) if whole else _f("key-removed", f"key {c.op}d: {c.key}"))
        elif c.op == "type_change":
            out.append(_f("type-changed", f"type changed: {type(c.old).__name__} → {type(c.new).__name__}"))
        magnitude = _magnitude(c)
        return out + ([magnitude] if magnitude else [])

    def objects_touched(self, changes: list[ConfigChange]) -> list[BlastFactor]:
        objects = {c.document for c in changes if c.document} | \
                  {m.group(1) for c in changes for m in [_TF_OBJECT.match(c.key)] if m}
        if len(objects) < 3:
            return []
        return [_f("objects-10" if len(objects) >= 10 else "objects-3", f"touches {len(objects)} objects")]


def _within(key: str, prefix: str) -> bool:
    """The key is the marked prefix, lies under it, or is a parent that carries the marker."""
    return prefix == "" or key == prefix or any(
        a.startswith(b) and a[len(b)] in ".[" for a, b in ((key, prefix), (prefix, key)) if len(a) > len(b))
