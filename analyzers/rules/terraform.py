"""Terraform rules, judged on the HCL diff (no plan needed): what the next `apply` will destroy,
which safety nets the change takes down, which module bumps reach many resources at once, and
which edits move the whole configuration to another account, region or state.

Expressions are never evaluated: where both sides of a value are references (`var.region` →
`local.region`) the rules say nothing, since the effective value is unknown."""
from __future__ import annotations

import re
from typing import Iterable, Optional

from ..configdiff import MISSING
from ..model import ConfigChange
from .registry import FileFacts, Hit, rule
from .util import fmt, last_key, number, where

# Attributes that make the provider destroy and re-create the resource ("forces replacement" in
# `terraform plan`), from the providers' documentation. Deliberately small: the common types
# where a replacement loses data or identity. A plan's `replace_paths` is the full truth.
FORCES_NEW = {
    "aws_db_instance": ("engine", "identifier", "availability_zone", "storage_encrypted", "kms_key_id",
                        "username", "db_name", "character_set_name", "timezone"),
    "aws_rds_cluster": ("cluster_identifier", "engine", "database_name", "master_username",
                        "storage_encrypted", "kms_key_id", "availability_zones"),
    "aws_s3_bucket": ("bucket", "bucket_prefix"),
    "aws_instance": ("ami", "availability_zone", "subnet_id", "key_name", "private_ip", "tenancy"),
    "aws_ebs_volume": ("availability_zone", "encrypted", "kms_key_id", "snapshot_id"),
    "aws_efs_file_system": ("creation_token", "encrypted", "kms_key_id", "performance_mode"),
    "aws_kms_key": ("customer_master_key_spec", "key_spec", "key_usage", "multi_region"),
    "aws_dynamodb_table": ("name", "hash_key", "range_key"),
    "aws_elasticache_cluster": ("cluster_id", "engine", "availability_zone"),
    "aws_route53_zone": ("name",),
    "aws_sqs_queue": ("name", "fifo_queue"),
    "google_sql_database_instance": ("name", "region", "project"),
    "google_storage_bucket": ("name", "location", "project"),
    "google_compute_disk": ("name", "zone", "type", "image", "snapshot"),
    "google_bigquery_dataset": ("dataset_id", "location", "project"),
    "google_kms_crypto_key": ("name", "key_ring"),
    "azurerm_storage_account": ("name", "location", "resource_group_name"),
    "azurerm_mssql_server": ("name", "location", "resource_group_name"),
    "azurerm_postgresql_flexible_server": ("name", "location", "resource_group_name"),
    "azurerm_key_vault": ("name", "location", "resource_group_name"),
    "azurerm_managed_disk": ("name", "location", "resource_group_name", "create_option"),
}
# Types whose destruction loses data (or every record/key that depends on them).
STATEFUL = (set(FORCES_NEW) - {"aws_instance"}) | {
    "aws_elasticache_replication_group", "aws_opensearch_domain", "aws_elasticsearch_domain",
    "aws_docdb_cluster", "aws_redshift_cluster", "aws_secretsmanager_secret", "aws_backup_vault",
    "aws_ecr_repository", "aws_kinesis_stream", "aws_msk_cluster", "google_sql_database",
    "google_bigquery_table", "google_kms_key_ring", "google_dns_managed_zone", "google_redis_instance",
    "google_spanner_instance", "google_spanner_database", "azurerm_mssql_database",
    "azurerm_mysql_flexible_server", "azurerm_cosmosdb_account", "azurerm_dns_zone", "azurerm_redis_cache"}
# Guards: protected while true / protected while false.
GUARD_TRUE = {"prevent_destroy", "deletion_protection", "deletion_protection_enabled",
              "enable_deletion_protection", "disable_api_termination", "termination_protection",
              "enable_termination_protection"}
GUARD_FALSE = {"force_destroy", "skip_final_snapshot"}
# Provider arguments that decide which account, region or cluster every resource lands in.
PROVIDER_TARGET = {"region", "profile", "project", "account_id", "allowed_account_ids", "subscription_id",
                   "tenant_id", "config_context", "config_path", "host", "assume_role",
                   "assume_role_with_web_identity"}
BACKEND_BENIGN = {"encrypt", "acl", "max_retries", "skip_credentials_validation", "skip_region_validation",
                  "skip_metadata_api_check", "skip_requesting_account_id"}

_RESOURCE = re.compile(r"^resource\.([^.\[]+)\.([^.\[]+)$")
_IN_RESOURCE = re.compile(r"^resource\.([^.\[]+)\.([^.\[]+)\.([^.\[]+)")
_MODULE = re.compile(r"^module\.([^.\[]+)$")
_PROVIDER = re.compile(r"^provider\.([^.\[]+)(\[[^\]]*\])?\.([^.\[]+)")
_BACKEND = re.compile(r"^(terraform\.(backend|cloud)|remote_state)(\.|$)")
_REFERENCE = re.compile(r"^(var|local|module|data|each|count|path|terraform|self)\.|^[a-z_][a-z0-9_]*\(")
_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")


def _grade(facts: FileFacts, prod: str, staging: str, unscoped: Optional[str] = None) -> str:
    """Severity by environment: info in dev/test; an unscoped root or shared module may reach
    prod, so it is graded as prod unless the rule says otherwise."""
    env = facts.environment
    if env in ("dev", "test"):
        return "info"
    return staging if env == "staging" else prod if env == "prod" or unscoped is None else unscoped


def _addresses(facts: FileFacts, side: str, pattern: re.Pattern = _RESOURCE) -> set[tuple[str, ...]]:
    return {m.groups() for _, key in facts.keys(side) for m in [pattern.match(key)] if m}


def _moved_away(facts: FileFacts) -> set[str]:
    """Addresses named by `moved`/`removed` blocks: renamed in state or forgotten, not destroyed."""
    found = set()
    for doc, key in facts.keys("new"):
        if re.match(r"^(moved|removed)(\[\d+\])?\.from$", key):
            found.add(str(facts.value(key, doc)))
    return found


def _anchor(facts: FileFacts, key: str) -> Optional[ConfigChange]:
    """The change that removed (or renamed) `key` or one of its parents."""
    name = key.rsplit(".", 1)[-1]
    parent = key.rsplit(".", 1)[0]
    for c in facts.changes:
        if c.op == "rename" and c.key.rsplit(".", 1)[0] == parent and c.old == name:
            return c
        if c.op == "remove" and (key == c.key or key.startswith(c.key + ".")):
            return c
    return None


def _expression(facts: FileFacts, change: ConfigChange, side: str) -> bool:
    """Whether one side of a change is an unevaluated expression (a reference, call, ...)."""
    value = change.old if side == "old" else change.new
    if not isinstance(value, str):
        return False
    span = change.old_span if side == "old" else change.span
    text = facts.file.old_text if side == "old" else facts.file.new_text
    if span and text:
        line = text.split("\n")[span[0] - 1].encode("utf-8", "surrogatepass")[span[1] - 1:]
        return not line.startswith((b'"', b"<<"))
    return bool(_REFERENCE.match(value))


def _unknowable(facts: FileFacts, change: ConfigChange) -> bool:
    return _expression(facts, change, "old") and _expression(facts, change, "new")


def _hit(facts: FileFacts, message: str, change: ConfigChange, severity: str) -> Hit:
    return Hit(message, change.line, change=change, severity=severity)


@rule("TF-001", "destroy-or-replace", "error", kinds=("terraform",),
      summary="The next apply destroys or replaces a stateful resource (block removed or renamed "
              "without `moved`, a replace-forcing attribute changed, count lowered) or a module.",
      rationale="A destroy is the one Terraform change that cannot be rolled back: the data in a "
                "database, bucket, volume or key goes with it, and a replace-forcing attribute turns "
                "an innocent-looking edit into destroy-then-create. Graded by scope: error in prod "
                "(or an unscoped root/module), warning in staging, info in dev/test.",
      incident="AWS S3 2017-02-28 (a removal far larger than intended); checkov's `__change_actions__` "
               "delete policies")
def destroy_or_replace(facts: FileFacts, params: dict) -> Iterable[Hit]:
    if facts.parse_error is not None:
        return
    old, new = _addresses(facts, "old"), _addresses(facts, "new")
    moved = _moved_away(facts)
    for typ, name in sorted(old - new):
        address = f"resource.{typ}.{name}"
        guarded = any(facts.value(f"{address}.{k}", side="old") is True
                      for k in ("lifecycle.prevent_destroy", "deletion_protection"))
        if f"{typ}.{name}" in moved or not (typ in STATEFUL or guarded):
            continue
        c = _anchor(facts, address) or ConfigChange(address, "remove", line=1)
        what = "stateful: its data goes with it" if typ in STATEFUL else "it was marked prevent_destroy"
        if c.op == "rename":
            msg = (f"{address} renamed to {c.new} without a `moved` block: Terraform destroys it and "
                   f"creates an empty one ({what})")
        else:
            msg = f"{address} removed: the next apply destroys it ({what}) in {where(facts)}"
        yield _hit(facts, msg, c if c.key == address else ConfigChange(address, "remove", line=c.line,
                                                                      old_line=c.old_line), _grade(facts, "error", "warning"))
    for c in facts.leaves:
        m = _IN_RESOURCE.match(c.key)
        if not m or c.key != f"resource.{m[1]}.{m[2]}.{m[3]}" or (m[1], m[2]) not in old & new:
            continue
        typ, attr = m[1], m[3]
        if attr in FORCES_NEW.get(typ, ()) and c.op in ("replace", "type_change") and not _unknowable(facts, c):
            severity = _grade(facts, "error", "warning") if typ in STATEFUL else _grade(facts, "warning", "info")
            yield _hit(facts, f"{c.key}: {fmt(c.old)} → {fmt(c.new)} forces replacement: Terraform "
                              f"destroys {typ}.{m[2]} and creates a new one"
                              + (" (stateful: its data does not carry over)" if typ in STATEFUL else ""),
                       c, severity)
        elif attr == "count" and typ in STATEFUL and c.op == "replace":
            before, after = number(c.old), number(c.new)
            if before is not None and after is not None and after < before:
                yield _hit(facts, f"{c.key}: {fmt(c.old)} → {fmt(c.new)} destroys {int(before - after)} "
                                  f"instance(s) of stateful {typ}.{m[2]}", c, _grade(facts, "error", "warning"))
    for (name,) in sorted(_addresses(facts, "old", _MODULE) - _addresses(facts, "new", _MODULE)):
        if f"module.{name}" in moved:
            continue
        c = _anchor(facts, f"module.{name}") or ConfigChange(f"module.{name}", "remove", line=1)
        yield _hit(facts, f"module.{name} removed: the next apply destroys every resource it manages "
                          f"in {where(facts)}", ConfigChange(f"module.{name}", "remove", line=c.line,
                                                             old_line=c.old_line),
                   _grade(facts, "warning", "info"))


@rule("TF-002", "guard-removed", "warning", kinds=("terraform",),
      summary="prevent_destroy or deletion protection turned off, force_destroy/skip_final_snapshot "
              "turned on, create_before_destroy removed, or ignore_changes widened to all.",
      rationale="These settings are the last safety net between a mistaken apply and lost data or "
                "downtime; taking one down is how the next, unrelated change becomes destructive. "
                "Warning in prod, staging and unscoped roots; info in dev/test.",
      incident="GitLab 2017-01-31 (the backups that should have caught the deletion were not there)")
def guard_removed(facts: FileFacts, params: dict) -> Iterable[Hit]:
    if facts.parse_error is not None:
        return
    new_resources = _addresses(facts, "new")
    new_modules = _addresses(facts, "new", _MODULE)
    severity = _grade(facts, "warning", "warning")
    for c in facts.leaves:
        m = _IN_RESOURCE.match(c.key)
        if m and (m[1], m[2]) not in new_resources:
            continue  # the resource itself goes: TF-001's to judge
        mod = re.match(r"^module\.([^.\[]+)\.", c.key)
        if mod and (mod[1],) not in new_modules:
            continue
        var = re.match(r"^variable\.([^.\[]+)\.default$", c.key)
        guard = var[1] if var else last_key(c.key)
        old, new = c.old if c.op != "add" else MISSING, c.new if c.op != "remove" else MISSING
        if guard in GUARD_TRUE and old is True and new is not True:
            if new is MISSING and guard == "deletion_protection" and m and m[1].startswith("google_"):
                continue  # the google provider defaults deletion_protection to true
            yield _hit(facts, f"{c.key}: true → {fmt(new)} turns off {guard} for "
                              f"{_owner_of(c.key)} in {where(facts)}", c, severity)
        elif guard in GUARD_FALSE and new is True and old is not True:
            yield _hit(facts, f"{c.key}: {fmt(old)} → true: {_owner_of(c.key)} can now be destroyed "
                              f"{'with its contents' if guard == 'force_destroy' else 'without a final snapshot'}",
                       c, severity)
        elif guard == "create_before_destroy" and old is True and new is not True:
            yield _hit(facts, f"{c.key}: true → {fmt(new)}: replacements of {_owner_of(c.key)} now destroy "
                              f"before creating (downtime while the new one comes up)", c, severity)
        elif guard == "ignore_changes" and new == "all" and old != "all":
            yield _hit(facts, f"{c.key}: → all: Terraform stops reconciling {_owner_of(c.key)}, so drift "
                              f"and manual changes are no longer seen", c, severity)


def _owner_of(key: str) -> str:
    m = _IN_RESOURCE.match(key) or re.match(r"^(module)\.([^.\[]+)", key)
    return f"{m[1]}.{m[2]}" if m else key


@rule("TF-003", "wide-module-bump", "warning", kinds=("terraform",),
      summary="A module's source or version changes (beyond a patch) in a prod root, or for a "
              "module instantiated many times.",
      rationale="A module bump rewrites every resource the module manages, in every place it is "
                "used, in one apply; a minor or major bump in a prod root or a widely instantiated "
                "module deserves its own review and a staged rollout.",
      incident="Google 2019-06-02 (a configuration meant for a few servers applied to many)",
      min_instances=3)
def wide_module_bump(facts: FileFacts, params: dict) -> Iterable[Hit]:
    if facts.parse_error is not None:
        return
    wanted = int(params.get("min_instances", 3))
    both = _addresses(facts, "old", _MODULE) & _addresses(facts, "new", _MODULE)
    for c in facts.leaves:
        m = re.match(r"^module\.([^.\[]+)\.(source|version)$", c.key)
        if not m or (m[1],) not in both or c.op not in ("replace", "type_change", "remove"):
            continue
        if c.op != "remove" and (_patch_only(c.old, c.new, m[2]) or _unknowable(facts, c)):
            continue
        fan_out = _instances(facts, m[1])
        if facts.environment != "prod" and fan_out < wanted:
            continue
        scope = f"each of its {fan_out} instances here" if fan_out >= wanted else f"the prod root {facts.file.path}"
        yield _hit(facts, f"module.{m[1]} {_bump(c, m[2])}: every resource the module manages may change in "
                          f"one apply, in {scope}", c, _grade(facts, "warning", "warning"))


def _bump(c: ConfigChange, attr: str) -> str:
    if c.op == "remove":
        return f"{attr} unpinned (floats to the newest release)"
    old, new = str(c.old).partition("?ref="), str(c.new).partition("?ref=")
    if attr == "source" and old[1] and new[1] and old[0] == new[0]:
        return f"ref {old[2]} → {new[2]}"
    return f"{attr} {fmt(c.old)} → {fmt(c.new)}"


def _patch_only(old, new, attr: str) -> bool:
    """Same major.minor on both sides (a source must also keep its address, only its ref moves)."""
    if not isinstance(old, str) or not isinstance(new, str):
        return False
    if attr == "source":
        (old_base, _, old_ref), (new_base, _, new_ref) = old.partition("?ref="), new.partition("?ref=")
        if old_base != new_base:
            return False
        old, new = old_ref, new_ref
    a, b = _VERSION.search(old), _VERSION.search(new)
    return bool(a and b and a.group(1, 2) == b.group(1, 2))


def _instances(facts: FileFacts, name: str) -> int:
    """How many module instances share this module's source (count/for_each literals included)."""
    source = str(facts.value(f"module.{name}.source")).partition("?ref=")[0]
    total = 0
    for (other,) in _addresses(facts, "new", _MODULE):
        if str(facts.value(f"module.{other}.source")).partition("?ref=")[0] != source:
            continue
        count, each = facts.value(f"module.{other}.count"), facts.value(f"module.{other}.for_each")
        total += int(number(count) or 0) if count is not MISSING else \
            len(each) if isinstance(each, (list, dict)) else 1
    return total


@rule("TF-004", "provider-account-region", "error", kinds=("terraform",),
      summary="A provider's region, account, role, project or cluster context changes, or the state "
              "backend does.",
      rationale="Every resource of the configuration follows its provider and its state: changing "
                "either points the next apply at another account, region or state file, where "
                "Terraform sees nothing and plans to create (or orphan) everything. Error in prod, "
                "warning in staging and unscoped roots, info in dev/test.",
      incident="generic: state and account mix-ups behind duplicate or orphaned stacks")
def provider_account_region(facts: FileFacts, params: dict) -> Iterable[Hit]:
    if facts.parse_error is not None or facts.file.old_text is None:
        return
    severity = _grade(facts, "error", "warning", unscoped="warning")
    providers = {key for _, key in facts.keys("old") if key.startswith("provider.")} & \
                {key for _, key in facts.keys("new") if key.startswith("provider.")}
    for c in facts.leaves:
        m = _PROVIDER.match(c.key)
        if not m or m[3] not in PROVIDER_TARGET or _unknowable(facts, c):
            continue
        owner = f"provider.{m[1]}{m[2] or ''}"
        if owner not in providers or (c.op == "add" and not m[3].startswith("assume_role")):
            continue  # a new provider, or a setting pinned for the first time
        yield _hit(facts, f"{c.key}: {fmt(c.old if c.op != 'add' else MISSING)} → "
                          f"{fmt(c.new if c.op != 'remove' else MISSING)}: every {m[1]} resource using this "
                          f"provider moves to another {_target_word(m[3])} ({where(facts)})", c, severity)
    for c in facts.changes:
        if not _BACKEND.match(c.key) or last_key(c.key) in BACKEND_BENIGN or _unknowable(facts, c):
            continue
        yield _hit(facts, f"{_backend_transition(c)}: this root module's state moves ({where(facts)}); "
                          f"without `init -migrate-state` the next plan starts from an empty state", c, severity)


def _target_word(attr: str) -> str:
    return {"region": "region", "project": "project", "host": "cluster", "config_context": "cluster",
            "config_path": "cluster"}.get(attr, "account")


def _backend_transition(c: ConfigChange) -> str:
    if c.op == "add":
        return f"{c.key} added"
    if c.op == "remove":
        return f"{c.key} removed"
    return f"{c.key}: {fmt(c.old)} → {fmt(c.new)}"
