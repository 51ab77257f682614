"""Capacity rules: removing serving capacity is the classic instant outage (S3 2017, Google 2019)."""
from __future__ import annotations

import re
from typing import Iterable, Optional

from ..model import ConfigChange
from .registry import FileFacts, Hit, rule
from .util import fmt, number, where

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
