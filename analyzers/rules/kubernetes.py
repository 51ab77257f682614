"""Kubernetes rules: fields that force a delete+recreate, weakened health checks, image drift.

Also the small helpers the capacity and traffic rules share: how a key path splits, which
objects the change deleted or renamed, how to name an object, which environments to skip."""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Iterable, Optional

from ..configdiff import MISSING
from ..model import ConfigChange
from .registry import FileFacts, Hit, rule
from .util import duration, fmt, last_key, quantity, ratio, where

QUIET_ENVS = ("dev", "test")  # default `skip_envs`: throwaway environments are not worth a warning
_SEGMENTS = re.compile(r'\["((?:[^"\\]|\\.)*)"\]|\[([^\]]*)\]|([^.\[\]]+)')
_LAST = re.compile(r'\[(?:"(?:[^"\\]|\\.)*"|[^\]]*)\]$')
_TF = re.compile(r"^(?:resource\.|(data)\.)([^.\[]+)\.([^.\[]+)|^module\.([^.\[]+)")


# -- shared helpers -------------------------------------------------------------------------
def prod_error(facts: FileFacts) -> str:
    """Outage-class transitions are errors in production and warnings elsewhere."""
    return "error" if facts.environment == "prod" else "warning"


def quiet(facts: FileFacts, params: dict) -> bool:
    """Whether the file belongs to an environment the rule leaves alone (policy: `skip_envs`)."""
    return facts.environment is not None and facts.environment in (params.get("skip_envs", QUIET_ENVS) or ())


def segments(key: str) -> list[str]:
    """`a.b[name=x]["c.d"]` -> ['a', 'b', '[name=x]', 'c.d']: names bare, list items bracketed."""
    return list(_segments(key))


@lru_cache(maxsize=8192)  # every rule splits the same few thousand keys
def _segments(key: str) -> tuple[str, ...]:
    return tuple(q.replace('\\"', '"') if q is not None else f"[{i}]" if i is not None else n
                 for q, i, n in ((m.group(1), m.group(2), m.group(3)) for m in _SEGMENTS.finditer(key)))


def build_key(segs: list[str]) -> str:
    """The inverse of `segments`."""
    out = ""
    for s in segs:
        if s.startswith("["):
            out += s
        elif re.fullmatch(r"[A-Za-z0-9_\-/@$:]+", s):
            out += f".{s}" if out else s
        else:
            out += '["' + s.replace('"', '\\"') + '"]'
    return out


def parent(key: str) -> str:
    """The key path one level up: `a.b[0].c` -> `a.b[0]`, `a.b[0]` -> `a.b`."""
    m = _LAST.search(key)
    if m:
        return key[:m.start()]
    return key.rsplit(".", 1)[0] if "." in key else ""


def is_item(key: str) -> bool:
    """Whether the path ends in a list item (`a[0]`, `a[name=x]`), not a quoted key (`a["b.c"]`)."""
    last = _segments(key)[-1:]
    return bool(last) and last[0].startswith("[")


def names(key: str) -> list[str]:
    """The mapping keys of a path, list items dropped: `a[0].b` -> ['a', 'b']."""
    return [s for s in _segments(key) if not s.startswith("[")]


def gone_documents(facts: FileFacts) -> set[Optional[str]]:
    """Documents whose object was deleted (or renamed: the old identity is deleted). Removals
    inside them are the object's deletion, not a field dropped from a live object."""
    if facts.file.new_text is None or facts.file.status == "deleted":
        return {c.document for c in facts.changes} | {None}
    return {c.document for c in facts.changes if c.key == "kind" and c.op == "remove"}


def field_removals(facts: FileFacts) -> Iterable[ConfigChange]:
    """Keys removed from an object that still exists (one change per removed key)."""
    gone = gone_documents(facts)
    return (c for c in facts.changes if c.op == "remove" and c.document not in gone)


def removed_at(facts: FileFacts, c: ConfigChange) -> int:
    """The new-side line where a removed object used to be: the start of the hunk that deleted it."""
    if c.old_line is not None:
        for h in facts.file.hunks:
            if h.old_start <= c.old_line <= max(h.old_end, h.old_start):
                return max(h.start, 1)
    return c.line


def object_name(facts: FileFacts, change: ConfigChange) -> str:
    """`Deployment shop/checkout`, `aws_autoscaling_group.web`, or the file's service/path."""
    m = _TF.match(change.key)
    if m:
        return f"module.{m.group(4)}" if m.group(4) else ("data." if m.group(1) else "") + f"{m.group(2)}.{m.group(3)}"
    if change.document and "/" in change.document:
        kind, _, rest = change.document.partition("/")
        return f"{kind} {rest}"
    name = facts.value("metadata.name", change.document)
    if change.doc_kind and isinstance(name, str):
        ns = facts.value("metadata.namespace", change.document)
        return f"{change.doc_kind} {ns}/{name}" if isinstance(ns, str) else f"{change.doc_kind} {name}"
    return where(facts)


def _was(c: ConfigChange) -> str:
    return {"add": f"added ({fmt(c.new)})", "remove": f"removed (was {fmt(c.old)})"}.get(
        c.op, f"{fmt(c.old)} → {fmt(c.new)}")


# -- K8S-001 ------------------------------------------------------------------------------
_SELECTOR_KINDS = {"Deployment", "ReplicaSet", "DaemonSet", "StatefulSet", "Job"}
_STS_MUTABLE = {"replicas", "ordinals", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy",
                "minReadySeconds", "revisionHistoryLimit"}
_HOOKS = ("helm.sh/hook", "argocd.argoproj.io/hook")


def _immutable_field(facts: FileFacts, c: ConfigChange) -> Optional[str]:
    parts = names(c.key)
    if len(parts) < 2 or parts[0] != "spec":
        return None
    kind, top = c.doc_kind, parts[1]
    if kind in _SELECTOR_KINDS and top == "selector" or kind == "StatefulSet" and top not in _STS_MUTABLE:
        return f"spec.{top}"
    if kind == "Job" and top in ("template", "completionMode") and not _recreated_by_tool(facts, c.document):
        return f"spec.{top}"
    if kind == "Service" and top in ("clusterIP", "clusterIPs"):
        if c.op == "remove" and c.old != "None" or c.op == "add" and c.new in ("", None):
            return None  # dropping an allocated IP from the manifest, or asking for any IP: allowed
        return f"spec.{top}"
    if kind == "PersistentVolumeClaim" and top != "volumeAttributesClassName":
        if parts[1:4] == ["resources", "requests", "storage"]:
            old, new = quantity(c.old), quantity(c.new)
            return "spec.resources.requests.storage" if old and new and new < old else None  # may only grow
        return f"spec.{top}"
    return None


def _recreated_by_tool(facts: FileFacts, document: Optional[str]) -> bool:
    """Hook Jobs (Helm, Argo CD) are deleted and created again by the tool: no apply conflict."""
    notes = facts.value("metadata.annotations", document)
    if not isinstance(notes, dict):
        return False
    sync = str(notes.get("argocd.argoproj.io/sync-options", ""))
    return any(h in notes for h in _HOOKS) or "Replace=true" in sync or "Force=true" in sync


def _renames(facts: FileFacts) -> Iterable[tuple[ConfigChange, ConfigChange]]:
    """(removed `kind`, added `kind`) pairs of one kind: an object renamed or moved namespace."""
    if facts.file.status != "modified":
        return
    removed = [c for c in facts.changes if c.key == "kind" and c.op == "remove" and isinstance(c.old, str)]
    added = [c for c in facts.changes if c.key == "kind" and c.op == "add" and isinstance(c.new, str)]
    for kind in dict.fromkeys(c.old for c in removed):
        olds, news = [c for c in removed if c.old == kind], [c for c in added if c.new == kind]
        if len(olds) == len(news):  # unequal counts: objects were added or deleted, not renamed
            yield from zip(olds, news)


def _identity(facts: FileFacts, document: Optional[str], side: str) -> str:
    name, ns = (facts.value(f"metadata.{k}", document, side) for k in ("name", "namespace"))
    return f"{ns}/{fmt(name)}" if isinstance(ns, str) else fmt(name)


@rule("K8S-001", "immutable-field", "warning", kinds=("kubernetes", "helm"),
      summary="A field Kubernetes will not update in place changes (selector, volumeClaimTemplates, "
              "clusterIP, Job template), or an existing object is renamed.",
      rationale="The API server rejects the update ('field is immutable'), so the rollout stalls; "
                "forcing it (--force, Replace=true, a rename) deletes the live object and creates a "
                "new one: pods, endpoints, volumes and load-balancer addresses go away in between. "
                "Like a Terraform replace, it should be planned, not discovered.",
      incident="Kubernetes CEL transition rules (oldSelf) encode the same immutability; "
               "AWS S3 2017-02-28 shows how fast removed capacity turns into an outage",
      skip_envs=QUIET_ENVS)
def immutable_field(facts: FileFacts, params: dict) -> Iterable[Hit]:
    if quiet(facts, params):
        return
    gone, seen = gone_documents(facts), set()
    for c in facts.changes:
        field = _immutable_field(facts, c) if c.doc_kind and c.document not in gone else None
        if field and (c.document, field) not in seen:
            seen.add((c.document, field))
            yield Hit(f"{c.key}: {_was(c)} — {field} of {object_name(facts, c)} is immutable: the apply "
                      f"is rejected, and forcing it deletes and recreates the object", c.line, change=c)
    for old, new in _renames(facts):
        before, after = _identity(facts, old.document, "old"), _identity(facts, new.document, "new")
        if before == after:
            continue
        line = next((c.line for c in facts.leaves if c.document == new.document and c.key == "metadata.name"
                     and c.op == "add"), new.line)
        change = ConfigChange("metadata.name", "rename", before, after, line, old.old_line, new.document, new.new)
        extra = "; its pods start on new, empty volumes" if new.new == "StatefulSet" else ""
        yield Hit(f"{new.new} {before} renamed to {after}: a new object is created and the old one "
                  f"deleted (pruned), not updated in place{extra}", line, change=change)
    if "helm" in facts.kinds and facts.file.status == "modified":
        for c in facts.changes:
            if c.key in ("fullnameOverride", "nameOverride") and c.op in ("add", "remove", "replace"):
                yield Hit(f"{c.key}: {_was(c)} renames every object the chart renders: each is deleted "
                          f"and created again under the new name", c.line, change=c)


# -- K8S-002 ------------------------------------------------------------------------------
PROBES = {"readinessProbe", "livenessProbe", "startupProbe", "readiness_probe", "liveness_probe", "startup_probe"}
_CHECKS = PROBES | {"health_check", "healthCheck", "healthcheck", "readiness", "liveness", "startup"}
_STARTUP = {"startupProbe", "startup_probe", "startup"}  # patient by design: a high threshold is the point
# threshold key -> (Kubernetes default when added to an existing probe, judged when it falls too)
_SLACK = {"failureThreshold": (3, True), "periodSeconds": (10, False), "timeoutSeconds": (1, True),
          "failure_threshold": (None, True), "period_seconds": (None, False), "timeout_seconds": (None, True),
          "unhealthy_threshold": (None, True), "unhealthyThreshold": (None, True), "interval": (None, False),
          "intervalSeconds": (None, False), "timeout": (None, True)}


def _check_of(key: str) -> Optional[str]:
    return next((n for n in reversed(names(key)[:-1]) if n in _CHECKS), None)


def _probe_effect(probe: str) -> str:
    if probe.startswith("readiness"):
        return "pods get traffic before they are ready and keep it when they hang"
    if probe.startswith("liveness"):
        return "a hung container is never restarted; it stays hung until someone notices"
    return "liveness checks start at once, so slow-starting containers can be killed in a loop"


@rule("K8S-002", "health-check-weakened", "warning",
      summary="A readiness/liveness/startup probe is removed, or its thresholds move ×3 or more "
              "(a new probe path or port is noted at info).",
      rationale="Health checks decide which instances get traffic and which get restarted. Without "
                "a readiness probe a hung pod keeps its share of requests; a tripled failureThreshold "
                "or timeout keeps a dead one in rotation three times longer; a probe cut to a third "
                "ejects or restarts healthy pods under load, which cascades.",
      incident="Azure Front Door 2025-10-29 (nodes marked unhealthy dropped out); Facebook 2021-10-04 "
               "(health-check-driven withdrawal took every DNS server out)",
      slack_ratio=3.0, skip_envs=QUIET_ENVS)
def health_check_weakened(facts: FileFacts, params: dict) -> Iterable[Hit]:
    if quiet(facts, params):
        return
    factor, gone = float(params.get("slack_ratio", 3.0)), gone_documents(facts)
    for c in field_removals(facts):
        if last_key(c.key) in PROBES:
            yield Hit(f"{c.key} removed from {object_name(facts, c)}: {_probe_effect(last_key(c.key))}",
                      c.line, change=c)
    for c in facts.changes:
        if c.op == "rename" and c.old in PROBES and c.new != c.old:
            yield Hit(f"{c.old} renamed to {c.new} in {object_name(facts, c)}: {_probe_effect(c.old)}",
                      c.line, change=c)
    for c in facts.leaves:
        probe, key = _check_of(c.key), last_key(c.key)
        if probe is None or c.document in gone or c.op not in ("replace", "add"):
            continue
        if key == "enabled" and c.op == "replace" and c.old is True and c.new is False:
            yield Hit(f"{c.key}: true → false turns the {probe} check off for {object_name(facts, c)}",
                      c.line, change=c)
        if key in ("path", "port") and c.op == "replace":
            yield Hit(f"{c.key}: {fmt(c.old)} → {fmt(c.new)}: the {probe} check now asks another endpoint; "
                            f"make sure it fails when the service cannot serve", c.line, change=c, severity="info")
        if key not in _SLACK:
            continue
        default, judge_fall = _SLACK[key]
        old = duration(c.old) if c.op == "replace" else _default_if_probe_existed(facts, c, default)
        r = ratio(old, duration(c.new))  # counts and seconds; compose-style "30s" too
        was = f"{fmt(c.old if c.op == 'replace' else old)} → {fmt(c.new)}"
        if r is not None and r >= factor and probe not in _STARTUP:
            yield Hit(f"{c.key}: {was} (×{r:.0f}): a failing instance of {object_name(facts, c)} is noticed "
                      f"{r:.0f}× later and keeps its traffic meanwhile", c.line, change=c)
        elif r and judge_fall and r <= 1 / factor:
            yield Hit(f"{c.key}: {was} makes the {probe} check {1 / r:.0f}× stricter: healthy instances of "
                      f"{object_name(facts, c)} get ejected or restarted under load", c.line, change=c)


def _default_if_probe_existed(facts: FileFacts, c: ConfigChange, default: Optional[int]) -> Optional[float]:
    """A threshold added to a probe that already existed replaces the Kubernetes default."""
    if default is None or facts.value(parent(c.key), c.document, "old") is MISSING:
        return None
    return float(default)


# -- K8S-003 ------------------------------------------------------------------------------
_IMAGE = re.compile(r"^(?:(?P<reg>[^/]+)/)?(?P<repo>[^:@]+(?:/[^:@]+)*)(?::(?P<tag>[\w][\w.\-]{0,127}))?"
                    r"(?:@(?P<digest>[A-Za-z0-9]+:[0-9a-fA-F]{32,}))?$")
_DOCKER_HUB = {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}
_SEMVER = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+._].*)?$")
_TEMPLATED = re.compile(r"[${} ]")
_MINOR = "\x00"  # marks a reason that is only worth an info note


def parse_image(ref: Any) -> Optional[dict]:
    """`registry/repo:tag@sha256:…` -> {registry, repo, tag, digest}; None for templated values."""
    m = _IMAGE.match(ref.strip()) if isinstance(ref, str) and ref.strip() and not _TEMPLATED.search(ref) else None
    if not m:
        return None
    reg, repo = m.group("reg"), m.group("repo")
    if reg and not ("." in reg or ":" in reg or reg == "localhost"):
        reg, repo = None, f"{reg}/{repo}"  # `shop/checkout`: a Docker Hub namespace, not a host
    reg = "docker.io" if reg is None or reg in _DOCKER_HUB else reg
    return {"registry": reg, "repo": repo, "tag": m.group("tag"), "digest": m.group("digest")}


def major(tag: Optional[str]) -> Optional[int]:
    """The major version of a semver-like tag (`v2.1.0-alpine` -> 2); None for shas, builds, dates."""
    m = _SEMVER.match(tag or "")
    return int(m.group(1)) if m and int(m.group(1)) < 1000 else None  # 2024.01 is a date, not a major


def _major_jump(old_tag: Optional[str], new_tag: Optional[str]) -> Optional[str]:
    a, b = _SEMVER.match(old_tag or ""), _SEMVER.match(new_tag or "")
    if major(old_tag) is None or major(new_tag) is None:
        return None
    if a.group(1) != b.group(1):
        return f"major version {'jump' if int(b.group(1)) > int(a.group(1)) else 'downgrade'} {old_tag} → {new_tag}"
    if a.group(2) != b.group(2):
        return f"{_MINOR}minor version {old_tag} → {new_tag}: new behaviour ships with this config edit"
    return None  # a patch bump is routine


def _moved(old: str, new: str) -> str:
    return f"registry changes from {old} to {new}: the code now comes from another source"


def image_drift(old: Any, new: Any) -> Optional[str]:
    """Why an image reference change is drift, or None for a routine bump (patch or minor)."""
    o, n = parse_image(old), parse_image(new)
    if o is None or n is None:
        return None
    if o["registry"] != n["registry"]:
        return _moved(o["registry"], n["registry"])
    if o["digest"] and not n["digest"]:
        return "a pinned digest becomes a mutable tag: what runs can change without a commit"
    if n["tag"] in (None, "latest") and not n["digest"] and (o["digest"] or o["tag"] not in (None, "latest")):
        return f"the image is no longer pinned (`{n['tag'] or 'no tag'}` = whatever was pushed last)"
    return _major_jump(o["tag"], n["tag"]) if o["repo"] == n["repo"] else None


def _split_drift(key: str, old: Any, new: Any) -> Optional[str]:
    """Helm-style split values: `image.tag`, `image.registry`, `image.repository`."""
    if not (isinstance(old, str) and isinstance(new, str) and old and new) or _TEMPLATED.search(new):
        return None
    if key == "registry":
        return _moved(old, new)
    if key == "repository":
        o, n = parse_image(old), parse_image(new)
        return _moved(o["registry"], n["registry"]) if o and n and o["registry"] != n["registry"] else None
    if new == "latest" and old != "latest":
        return "the tag becomes `latest` (= whatever was pushed last)"
    return _major_jump(old, new)


@rule("K8S-003", "image-drift", "warning",
      summary="An image reference drifts: digest → tag, tag → latest or none, another registry, or a "
              "major version jump. A minor bump is an info note; a patch bump is routine.",
      rationale="The image is the code. Unpinning it, pulling it from another registry or jumping a "
                "major version ships unreviewed behaviour through what looks like a config edit, and "
                "nodes that pull at different times run different code (version skew).",
      incident="Knight Capital 2012-08-01 (one server of eight ran different code)",
      skip_envs=QUIET_ENVS)
def image_drift_rule(facts: FileFacts, params: dict) -> Iterable[Hit]:
    if quiet(facts, params) or facts.kinds & {"dockerfile", "ci"}:
        return  # FROM lines are the Dockerfile rules' business; CI job images do not serve traffic
    gone = gone_documents(facts)
    for c in facts.leaves:
        key, up = last_key(c.key), names(c.key)[-2:-1]
        split = up in (["image"], ["images"])
        if c.op == "remove" and key == "digest" and split and c.document not in gone:
            yield Hit(f"{c.key}: removed (was {fmt(c.old)}) in {object_name(facts, c)}: a pinned digest "
                      f"becomes a mutable tag", c.line, change=c)
        if c.op not in ("replace", "type_change"):
            continue
        if key in ("image", "imageRef", "image_ref"):
            why = image_drift(c.old, c.new)
        elif key in ("imageTag", "image_tag") or split and key in ("tag", "registry", "repository"):
            why = _split_drift(key if key in ("registry", "repository") else "tag", c.old, c.new)
        else:
            continue
        if why:
            yield Hit(f"{c.key}: {fmt(c.old)} → {fmt(c.new)} in {object_name(facts, c)}: {why.lstrip(_MINOR)}",
                            c.line, change=c, severity="info" if why.startswith(_MINOR) else None)
