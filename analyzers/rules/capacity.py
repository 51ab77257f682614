"""Capacity rules: removing serving capacity is the classic instant outage (S3 2017, Google 2019)."""
from __future__ import annotations

import math
import re
from dataclasses import replace
from typing import Iterable, Optional

from ..configdiff import MISSING
from ..model import ConfigChange
from .kubernetes import (QUIET_ENVS, field_removals, gone_documents, names, object_name, parent,
                         prod_error, quiet, removed_at)
from .registry import FileFacts, Hit, rule
from .util import fmt, last_key, number, quantity, where

# Last key-path segment naming a count of serving instances (K8s, Helm, HPA, ASG, ECS, KEDA).
CAPACITY_KEY = re.compile(
    r"(?:^|[._\[])(replicas|replicaCount|replica_count|minReplicas|min_replicas|minReplicaCount|"
    r"min_size|minSize|desired_capacity|desiredCapacity|desired_count|desiredCount|instance_count|"
    r"instanceCount|node_count|nodeCount|min_capacity|minCapacity|min_node_count|max_size|maxSize|"
    r"maxReplicas|max_replicas)$")
_CEILING_KEYS = {"max_size", "maxSize", "maxReplicas", "max_replicas"}


def _capacity_key(change: ConfigChange) -> Optional[str]:
    last = change.key.rsplit(".", 1)[-1]
    m = CAPACITY_KEY.search(last)
    return m.group(1) if m else None


@rule("CAP-001", "capacity-drop", "warning",
      summary="A replica or instance count drops by half or more, or to one.",
      rationale="Removing serving capacity is the classic instant outage: the remaining instances "
                "take the whole load at once, and a mistyped count removes far more than intended.",
      incident="AWS S3 2017-02-28 (one input removed a larger set of servers); Google 2019-06-02",
      drop_ratio=0.5)
def capacity_drop(facts: FileFacts, params: dict) -> Iterable[Hit]:
    ratio = float(params.get("drop_ratio", 0.5))
    for change in facts.leaves:
        key = _capacity_key(change)
        if not key or key in _CEILING_KEYS or change.op not in ("replace", "type_change"):
            continue
        old, new = number(change.old), number(change.new)
        if old is None or new is None or new <= 0 or new >= old:
            continue  # increases are fine; zero is CAP-002's
        if new <= old * ratio or (new <= 1 < old):
            pct = round(100 * (old - new) / old)
            yield Hit(f"{change.key}: {fmt(change.old)} → {fmt(change.new)} removes {pct}% of the "
                      f"capacity of {where(facts)}", change.line, change=change)


@rule("CAP-002", "scale-to-zero", "error",
      summary="A capacity key becomes 0, or maxUnavailable becomes 100%.",
      rationale="Zero replicas (or letting a rollout take every pod down at once) is a total loss of "
                "serving capacity for everything behind it.",
      incident="AWS S3 2017-02-28; the motivating 99% order drop (one operator, one config change)")
def scale_to_zero(facts: FileFacts, params: dict) -> Iterable[Hit]:
    for change in facts.leaves:
        if change.op not in ("replace", "type_change", "add"):
            continue
        last = change.key.rsplit(".", 1)[-1]
        if last == "maxUnavailable" and str(change.new).strip() == "100%" and str(change.old).strip() != "100%":
            yield Hit(f"{change.key}: {fmt(change.old)} → 100% lets a rollout take every pod of "
                      f"{where(facts)} down at once", change.line, change=change)
            continue
        if not _capacity_key(change):
            continue
        old, new = number(change.old), number(change.new)
        if new == 0 and (old is None or old > 0):
            was = f"{fmt(change.old)} → 0" if change.op != "add" else "added as 0"
            yield Hit(f"{change.key}: {was} scales {where(facts)} to zero", change.line, change=change)


# -- CAP-003 ------------------------------------------------------------------------------
# Autoscaler ceilings (HPA, KEDA, ASG, eksctl, app autoscaling, GKE, AKS). A ceiling below its
# floor is SCH-006's (cross-field-inconsistent): one finding per mistake.
_CEILINGS = {"maxReplicas", "max_replicas", "maxReplicaCount", "max_size", "maxSize", "max_capacity",
             "maxCapacity", "max_node_count", "maxNodeCount", "max_count", "maxCount"}


@rule("CAP-003", "autoscaler-ceiling", "warning",
      summary="An autoscaler maximum (HPA maxReplicas, KEDA maxReplicaCount, ASG max_size) is raised "
              "more than 2×.",
      rationale="A ceiling is the last cap on how much load a scale-up puts on fixed downstream "
                "capacity: load-balancer slots, database connections, quotas. Raising it several-fold "
                "lets one bad deploy or traffic spike exhaust them.",
      incident="Slack 2020-05-12 (autoscaled +75%, then HAProxy server slots ran out)",
      raise_ratio=2.0, min_added=4, skip_envs=QUIET_ENVS)
def autoscaler_ceiling(facts: FileFacts, params: dict) -> Iterable[Hit]:
    if quiet(facts, params):
        return
    limit, min_added = float(params.get("raise_ratio", 2.0)), float(params.get("min_added", 4))
    for c in facts.leaves:
        if c.op not in ("replace", "type_change") or last_key(c.key) not in _CEILINGS:
            continue
        old, new = number(c.old), number(c.new)
        if old and new and new > old * limit and new - old >= min_added:
            yield Hit(f"{c.key}: {fmt(c.old)} → {fmt(c.new)} (×{new / old:.1f}) lets {object_name(facts, c)} scale "
                      f"far past what downstream capacity (LB slots, DB connections, quota) was sized for",
                      c.line, change=c)


# -- CAP-004 ------------------------------------------------------------------------------
_SURGE = {"maxUnavailable": "maxSurge", "max_unavailable": "max_surge"}
_GUARD_SECONDS = {"minReadySeconds", "progressDeadlineSeconds", "min_ready_seconds", "progress_deadline_seconds"}
_PDB = {"podDisruptionBudget", "podDisruptionBudgets", "pdb", "disruptionBudget", "pod_disruption_budget"}
_WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "Rollout", "ReplicaSet"}


def _in_pdb(c: ConfigChange) -> bool:
    return c.doc_kind == "PodDisruptionBudget" or any(n in _PDB for n in names(c.key))


def _budget(value, replicas: Optional[float], round_up: bool) -> Optional[tuple[str, float]]:
    """A maxUnavailable/minAvailable value as ('%', n) or ('#', n); percent of known replicas -> '#'."""
    if isinstance(value, str) and value.strip().endswith("%"):
        pct = number(value.strip()[:-1])
        if pct is None:
            return None
        if replicas is None:
            return ("%", pct)
        count = replicas * pct / 100
        return ("#", float(math.ceil(count) if round_up else math.floor(count)))
    n = number(value)
    return ("#", n) if n is not None else None


def _compare(old, new, replicas: Optional[float], round_up: bool) -> Optional[float]:
    """new - old in one unit, or None when they cannot be compared."""
    a, b = _budget(old, replicas, round_up), _budget(new, replicas, round_up)
    if a is None or b is None:
        return None
    if a[0] != b[0]:
        a, b = _budget(old, None, round_up), _budget(new, None, round_up)
        if a[0] != b[0]:
            return None
    return b[1] - a[1]


@rule("CAP-004", "rollout-guard-weakened", "warning",
      summary="A rollout or disruption guard weakens: maxUnavailable up, strategy → Recreate (an error in prod), "
              "minReadySeconds/progressDeadlineSeconds dropped or halved, a PodDisruptionBudget "
              "removed or loosened.",
      rationale="These settings decide how much capacity a rollout or a node drain may take away at "
                "once and how quickly a bad version is noticed. Loosening them turns the next routine "
                "deploy or node upgrade into a capacity drop.",
      incident="AWS S3 2017-02-28 (capacity removed faster than the system could take); Google SRE "
               "progressive rollouts",
      seconds_drop_ratio=0.5, skip_envs=QUIET_ENVS)
def rollout_guard_weakened(facts: FileFacts, params: dict) -> Iterable[Hit]:
    if quiet(facts, params):
        return
    gone = gone_documents(facts)
    for c in facts.leaves:
        if c.document in gone:
            continue
        why = _weakened(facts, c, params)
        if why:  # Recreate means downtime on every deploy: an error in production
            yield Hit(f"{c.key}: {why}", c.line, change=c,
                            severity=prod_error(facts) if "→ Recreate" in why else None)
    for c in field_removals(facts):
        if last_key(c.key) in _GUARD_SECONDS and number(c.old):
            yield Hit(f"{c.key}: removed (was {fmt(c.old)}) from {object_name(facts, c)}: "
                      f"{_seconds_effect(last_key(c.key))}", c.line, change=c)
    yield from _pdb_removed(facts)


def _weakened(facts: FileFacts, c: ConfigChange, params: dict) -> Optional[str]:
    key = last_key(c.key)
    if c.op not in ("replace", "type_change", "add"):
        return None
    if key in _SURGE and str(c.new).strip() != "100%":  # 100% is CAP-002's
        old = c.old
        if c.op == "add":  # Kubernetes defaults a Deployment's rollingUpdate to 25% / 25%
            if not (c.doc_kind == "Deployment" and "rollingUpdate" in names(c.key)) or \
                    facts.value(parent(c.key), c.document, "old") is MISSING:
                return None
            old = "25%"
        pdb = _in_pdb(c)
        replicas = None if pdb else number(facts.value("spec.replicas", c.document))
        delta = _compare(old, c.new, replicas, round_up=False)
        if delta is None or delta <= 0:
            return None
        if pdb:
            return f"{fmt(old)} → {fmt(c.new)}: {object_name(facts, c)} lets more pods be evicted at once"
        surge = facts.value(f"{parent(c.key)}.{_SURGE[key]}", c.document)
        extra = ", and with maxSurge 0 they go down before replacements come up" if number(surge) == 0 else ""
        return (f"{fmt(old)} → {fmt(c.new)}: a rollout of {object_name(facts, c)} may take more pods out of "
                f"service at once{extra}")
    if key in ("minAvailable", "min_available") and _in_pdb(c) and c.op != "add":
        delta = _compare(c.old, c.new, None, round_up=True)
        if delta is not None and delta < 0:
            return (f"{fmt(c.old)} → {fmt(c.new)}: the disruption budget keeps fewer pods up during "
                    f"drains and upgrades ({object_name(facts, c)})")
    if key == "type" and names(c.key)[-2:-1] in (["strategy"], ["deploymentStrategy"]) and c.new == "Recreate" \
            and (c.op != "add" or facts.value(parent(c.key), c.document, "old") is not MISSING):  # not new
        return (f"{fmt(c.old) if c.op != 'add' else 'RollingUpdate (default)'} → Recreate: every pod of "
                f"{object_name(facts, c)} is stopped before any new one starts")
    if key in _GUARD_SECONDS and c.op != "add":
        old, new = number(c.old), number(c.new)
        if old and new is not None and new <= old * float(params.get("seconds_drop_ratio", 0.5)):
            return f"{fmt(c.old)} → {fmt(c.new)} in {object_name(facts, c)}: {_seconds_effect(key)}"
    if key == "enabled" and _in_pdb(c) and c.old is True and c.new is False:
        return "true → false removes the PodDisruptionBudget: a node drain may evict every pod at once"
    return None


def _seconds_effect(key: str) -> str:
    if key.startswith("min"):
        return "new pods count as available sooner, so a crashing version rolls further before it shows"
    return ("the rollout is declared failed on a different clock (600s when unset): slow rollouts abort "
            "midway with versions mixed, or stuck ones go unnoticed longer")


def _pdb_removed(facts: FileFacts) -> Iterable[Hit]:
    kinds = [(c.op, c.old if c.op == "remove" else c.new) for c in facts.changes if c.key == "kind"]
    if facts.file.new_text is None or any(
            k in _WORKLOADS and kinds.count(("remove", k)) > kinds.count(("add", k)) for _, k in kinds):
        return  # the whole app is going away, not just its budget
    removed = [c for c in facts.changes if c.key == "kind" and c.op == "remove" and c.old == "PodDisruptionBudget"]
    for c in removed[kinds.count(("add", "PodDisruptionBudget")):]:
        line = removed_at(facts, c)
        yield Hit(f"PodDisruptionBudget {(c.document or '').split('/', 1)[-1] or facts.file.path} removed: "
                  f"a node drain or upgrade may evict every pod at once", line, change=replace(c, line=line))


# -- CAP-005 ------------------------------------------------------------------------------
# pool-size keys and env var names: pool_size, maximum-pool-size, DB_POOL_SIZE, maxConnections
_POOL = re.compile(r"(?:^|[_\-.])(?:max(?:imum)?[_-]?)?(?:pool[_-]?size|poolsize|connection[_-]?pool[_-]?size|"
                   r"connections|pool|thread[_-]?pool[_-]?size|worker[_-]?threads|threads)$", re.I)
_NOT_POOL = re.compile(r"(?:^|[_\-.])(?:pool|connections|threads)$", re.I)  # without max/size: not a size
_MIN = re.compile(r"(?:^|[_\-.])min|^min", re.I)  # a smaller minimum pool is not a cut
_XMX = re.compile(r"-Xmx(\d+)([kKmMgGtT]?)\b")
_RAM_PCT = re.compile(r"-XX:MaxRAMPercentage=(\d+(?:\.\d+)?)")
_JVM_UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


def _resource_amount(c: ConfigChange) -> Optional[tuple[Optional[float], Optional[float], str]]:
    """(old, new, what) for a resource size, JVM heap or pool size change; None if not one."""
    parts, key = names(c.key), last_key(c.key)
    env = re.search(r"\[name=([^\]]+)\]\.value$", c.key)  # env[name=DB_POOL_SIZE].value: the name says
    name = env.group(1) if env else key
    if key in ("memory", "cpu") and len(parts) > 1 and parts[-2] in ("limits", "requests"):
        return quantity(c.old), quantity(c.new), f"{key} {parts[-2][:-1]}"
    if key == "memory_size" or key in ("memory", "cpu") and parts[:2] == ["resource", "aws_ecs_task_definition"]:
        return number(c.old), number(c.new), key
    pooled = parts[-2:-1] and parts[-2].lower() in ("pool", "connectionpool") and key in ("max", "size")
    maxed = re.search(r"max", name, re.I)
    if _POOL.search(name) and not (_NOT_POOL.search(name) and not maxed) and not _MIN.search(name) or pooled:
        return number(c.old), number(c.new), "pool size"
    if isinstance(c.old, str) and isinstance(c.new, str):
        for pattern, what in ((_XMX, "JVM heap (-Xmx)"), (_RAM_PCT, "JVM MaxRAMPercentage")):
            a, b = pattern.search(c.old), pattern.search(c.new)
            if a and b:
                return _jvm(a), _jvm(b), what
    return None


def _jvm(m: re.Match) -> float:
    return float(m.group(1)) * (_JVM_UNITS[m.group(2).lower()] if m.lastindex and m.lastindex > 1 else 1)


@rule("CAP-005", "resource-limit-cut", "warning",
      summary="A memory/CPU limit or request, a JVM heap (-Xmx) or a pool size is cut by half or more.",
      rationale="Halving memory or CPU across a fleet turns normal load into OOM kills and CPU "
                "throttling on every replica at once; a halved connection or thread pool queues "
                "requests until they time out. The change looks like tidying up, and hits everywhere.",
      incident="Google 2020-12-14 (a quota cut took the auth database down); Cloudflare 2025-12-05 "
               "(a buffer size change was part of the trigger)",
      cut_ratio=0.5, skip_envs=QUIET_ENVS)
def resource_limit_cut(facts: FileFacts, params: dict) -> Iterable[Hit]:
    if quiet(facts, params):
        return
    keep = 1 - float(params.get("cut_ratio", 0.5))
    gone = gone_documents(facts)
    for c in facts.leaves:
        if c.document in gone or c.op not in ("replace", "type_change"):
            continue
        found = _resource_amount(c)
        if not found:
            continue
        old, new, what = found
        if old and new is not None and 0 <= new <= old * keep:
            yield Hit(f"{c.key}: {fmt(c.old)} → {fmt(c.new)} cuts the {what} of {object_name(facts, c)} by "
                      f"{round(100 * (old - new) / old)}%", c.line, change=c)
