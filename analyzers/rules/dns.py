"""DNS rules: DNS is shared fate for everything behind a name (Salesforce 2021, Facebook 2021).

Records are recognised by shape, so one rule covers Terraform (`resource.aws_route53_record.www`,
google_dns_record_set, cloudflare_record, azurerm_dns_*_record), Terraform JSON, octoDNS-style
zone YAML, Route53 record-set JSON, CloudFormation RecordSets and external-dns DNSEndpoint
objects: a mapping with a record type (`type`/`Type`/`recordType`) next to its values."""
from __future__ import annotations

import posixpath
import re
from typing import Any, Iterable, Optional

from ..configdiff import MISSING
from ..model import ConfigChange
from .env import segments
from .registry import FileFacts, Hit, rule
from .util import duration, fmt, last_key, ratio, where

DNS_TYPES = {"A", "AAAA", "CNAME", "MX", "NS", "SOA", "TXT", "SRV", "CAA", "PTR", "ALIAS", "DS", "NAPTR", "SPF",
             "HTTPS", "SVCB", "ANAME", "DNAME", "SSHFP", "TLSA"}
TYPE_KEYS = ("type", "Type", "recordType", "record_type", "RecordType")
NAME_KEYS = ("name", "Name", "dnsName", "dns_name", "fqdn", "hostname")
TTL_KEYS = {"ttl", "TTL", "recordTTL", "record_ttl", "RecordTTL"}
# Attributes that do not change what a record answers: TTL is DNS-002's, the rest is metadata.
_NOT_ANSWER = TTL_KEYS | {"comment", "comments", "description", "tags", "labels", "allow_overwrite", "timeouts",
                          "lifecycle", "provider", "depends_on", "proxied", "octodns", "SetIdentifier",
                          "set_identifier", "health_check_id", "HealthCheckId", "weight", "Weight",
                          "weighted_routing_policy"}
_AZURE_RECORD = re.compile(r"^resource\.azurerm_(?:private_)?dns_([a-z]+)_record\.[^.\[]+$")
ZONE_TYPES = {"aws_route53_zone", "google_dns_managed_zone", "cloudflare_zone", "azurerm_dns_zone",
              "aws_route53_delegation_set", "aws_route53domains_registered_domain", "digitalocean_domain"}
_ZONE_ATTRS = {"name", "dns_name", "zone", "delegation_set_id", "name_servers", "name_server", "nameservers",
               "reference_name"}
_DELEGATION_KEYS = {"name_servers", "nameservers", "nameServers", "NameServers", "delegation_set_id",
                    "DelegationSetId"}
EXTERNAL_DNS = "external-dns.alpha.kubernetes.io/"
# A file can only hold a record if some type key (each of TYPE_KEYS ends in "type") is set to a
# DNS type, or it names an Azure record resource; values may be quoted, in YAML, JSON, HCL or TOML.
# Matched on lowercased text: Python's re is several times slower with IGNORECASE.
_MAY_HAVE_RECORDS = re.compile(
    r"type[\"']?\s*[:=]\s*[\"']?(?:%s)\b|azurerm_(?:private_)?dns_[a-z]+_record"
    % "|".join(sorted((t.lower() for t in DNS_TYPES), key=len, reverse=True)))


def record_prefix(facts: FileFacts, change: ConfigChange) -> Optional[tuple[str, Optional[str], Optional[str]]]:
    """(record key path, old type, new type) when the change is inside a DNS record, else None."""
    records = _records(facts)
    if not records:
        return None
    segs = segments(change.key)
    for n in range(len(segs) - 1, 0, -1):  # innermost container first; a record is never the leaf
        found = records.get((change.document, change.key[:segs[n][2]]))
        if found:
            return (change.key[:segs[n][2]],) + found
    return None


def _records(facts: FileFacts) -> dict[tuple[Optional[str], str], tuple[Optional[str], Optional[str]]]:
    """Every DNS record of the file: (document, key path) -> (old type, new type). Built once per
    file (kept on the facts object) from the keys named like a record type."""
    cached = facts.memo.get("dns_records")
    if cached is not None:
        return cached
    records: dict = {}
    if not _MAY_HAVE_RECORDS.search(facts.text().lower()):
        facts.memo["dns_records"] = records
        return records  # walking every key of every file costs more than the rest of the check
    for side in ("old", "new"):
        for doc, key in facts.keys(side):
            name = last_key(key)
            if name in TYPE_KEYS and key != name:
                prefix = key[:segments(key)[-1][2]]
            elif _AZURE_RECORD.match(key):
                prefix = key
            else:
                continue
            record_type = _record_type(facts, prefix, doc, side)
            if record_type:
                old, new = records.get((doc, prefix), (None, None))
                records[(doc, prefix)] = (record_type, new) if side == "old" else (old, record_type)
    facts.memo["dns_records"] = records
    return records


def _record_type(facts: FileFacts, prefix: str, document: Optional[str], side: str) -> Optional[str]:
    m = _AZURE_RECORD.match(prefix)
    if m:
        return m.group(1).upper()
    for tk in TYPE_KEYS:
        value = facts.value(f"{prefix}.{tk}", document, side)
        if isinstance(value, str) and value.upper() in DNS_TYPES:
            return value.upper()
    return None


def is_dns_ttl(facts: FileFacts, change: ConfigChange) -> bool:
    """Whether the change is a DNS record's TTL (DNS-002's, not SCH-004's)."""
    name = last_key(change.key)
    if name.startswith(EXTERNAL_DNS):
        return name == EXTERNAL_DNS + "ttl"
    return name in TTL_KEYS and record_prefix(facts, change) is not None


def _zones(facts: FileFacts) -> set[str]:
    """Zone names this file declares (Terraform zones), plus the file's own name (`example.com.yaml`)."""
    zones = {posixpath.splitext(posixpath.basename(facts.file.path))[0].rstrip(".").lower()}
    for side in ("old", "new"):
        for doc, key in facts.keys(side):
            parts = key.split(".")
            if len(parts) == 4 and parts[0] == "resource" and parts[1] in ZONE_TYPES \
                    and parts[3] in ("name", "dns_name", "zone"):
                zone = facts.value(key, doc, side)
                if isinstance(zone, str):
                    zones.add(zone.rstrip(".").lower())
    return zones


def _apex(facts: FileFacts, prefix: str, document: Optional[str], side: str, zones: set[str]) -> bool:
    """A zone apex: `@`, empty name (octoDNS `''`), a zone name declared in the file, the zone
    file's own name, or a bare two-label domain."""
    name: Any = MISSING
    for nk in NAME_KEYS:
        name = facts.value(f"{prefix}.{nk}", document, side)
        if name is not MISSING:
            break
    if name is MISSING:
        first = segments(prefix)[0]
        name = first[1] if first[0] == "key" and not prefix.startswith("resource.") else MISSING
    if not isinstance(name, str):
        return False
    name = name.strip().rstrip(".").lower()
    if name in ("", "@"):
        return True
    if "{" in name or "$" in name or name.startswith(("var.", "local.", "each.")):
        return False
    return name in zones or re.fullmatch(r"[a-z0-9-]+\.[a-z]{2,}", name) is not None


def _zone_change(facts: FileFacts, change: ConfigChange) -> Optional[tuple[str, str]]:
    """(zone key, what happened) when the change deletes a zone or changes its delegation."""
    segs = segments(change.key)
    if len(segs) >= 4 and segs[0][1] == "resource" and segs[1][1] in ZONE_TYPES:
        zone = change.key[:segs[2][3]]
        if change.op == "remove" and facts.value(zone, change.document, "new") is MISSING:
            # TF-001 (destroy-or-replace) reports a destroyed zone in Terraform; say it once
            return None if "terraform" in facts.kinds else (zone, "zone deleted")
        return (zone, "zone name or delegation changed") if segs[3][1] in _ZONE_ATTRS else None
    for kind, text, start, _ in segs:
        if text in _DELEGATION_KEYS and not any(s[1] == "dnsConfig" for s in segs):
            return change.key[:start].rstrip(".") or text, "delegation or name servers changed"
    return None


@rule("DNS-001", "dns-critical-record", "warning",
      summary="An NS, SOA, MX, CNAME or zone-apex record's values change or the record is deleted; "
              "a zone's delegation changes; external-dns hostnames/targets change.",
      rationale="Everything behind a name shares its fate: a wrong NS set or apex record takes every "
                "service of the zone off the internet, resolvers cache the mistake for the TTL, and "
                "rolling back does not un-cache it.",
      incident="Salesforce 2021-05-11 (a DNS change pushed to all servers at once); Facebook 2021-10-04",
      types=("NS", "SOA", "MX", "CNAME"))
def dns_critical_record(facts: FileFacts, params: dict) -> Iterable[Hit]:
    critical = {str(t).upper() for t in params.get("types", ("NS", "SOA", "MX", "CNAME"))}
    seen: set[tuple[Optional[str], str]] = set()
    zones: Optional[set[str]] = None
    whole: dict[str, set] = {}
    for c in facts.changes:
        if c.op in ("add", "remove"):
            whole.setdefault(c.op, set()).add((c.document, c.key))
    for change in facts.leaves:
        if change.op not in ("replace", "type_change", "remove", "add"):
            continue
        name = last_key(change.key)
        if name.startswith(EXTERNAL_DNS):
            hit = _external_dns(facts, change, name)
            if hit:
                yield hit
            continue
        zone = _zone_change(facts, change) if change.op != "add" else None
        if zone is not None:
            if (change.document, zone[0]) not in seen:
                seen.add((change.document, zone[0]))
                yield Hit(f"{zone[0]}: {zone[1]} ({_say(change)}); every name in the zone depends on it",
                          change.line, change=change)
            continue
        found = record_prefix(facts, change)
        if found is None or (change.document, found[0]) in seen:
            continue
        prefix, old_type, new_type = found
        # a list index names another record on the other side once an item is added/removed before it
        if (change.document, prefix) in whole.get("remove", ()):
            new_type = None
        if (change.document, prefix) in whole.get("add", ()):
            old_type = None
        if old_type is None:
            continue  # a new record: nothing answered by it yet
        if name in _NOT_ANSWER and new_type is not None:
            continue
        if zones is None:
            zones = _zones(facts)
        apex = _apex(facts, prefix, change.document, "old", zones)
        if not ({old_type, new_type} & critical or apex):
            continue
        seen.add((change.document, prefix))
        kind = old_type if old_type == new_type or new_type is None else f"{old_type} → {new_type}"
        label = f"{'apex ' if apex else ''}{kind} record {prefix}"
        if new_type is None:
            yield Hit(f"{label} deleted; resolvers keep answering from cache, and everything that "
                      f"resolves it in {where(facts)} breaks", change.line, change=change)
        else:
            yield Hit(f"{label} changes ({_say(change)}); DNS is shared fate for everything behind the "
                      f"name, and a mistake stays cached for the TTL", change.line, change=change)


def _say(change: ConfigChange) -> str:
    if change.op == "remove":
        return f"{change.key} removed, was {fmt(change.old)}"
    if change.op == "add":
        return f"{change.key} added as {fmt(change.new)}"
    return f"{change.key}: {fmt(change.old)} → {fmt(change.new)}"


def _hostnames(value: Any) -> set[str]:
    return {h.strip().rstrip(".").lower() for h in str(value or "").split(",") if h.strip()}


def _external_dns(facts: FileFacts, change: ConfigChange, name: str) -> Optional[Hit]:
    what = name[len(EXTERNAL_DNS):]
    if what not in ("hostname", "target", "internal-hostname") or change.op == "add":
        return None
    if what.endswith("hostname") and change.op != "remove":
        dropped = _hostnames(change.old) - _hostnames(change.new)
        if not dropped:
            return None  # only names added
        return Hit(f"external-dns {what}: {', '.join(sorted(dropped))} no longer published by {where(facts)}; "
                   f"external-dns deletes those records", change.line, change=change)
    return Hit(f"external-dns {what}: {_say(change)}; external-dns rewrites the published records",
               change.line, change=change)


@rule("DNS-002", "dns-ttl-jump", "warning",
      summary="A DNS record's TTL grows or shrinks by 10× or more.",
      rationale="A long TTL keeps a bad answer cached long after the rollback (recovery time); a very "
                "short one multiplies resolver and authoritative query load.",
      incident="Salesforce 2021-05-11 (recovery slowed while the bad DNS answers stayed cached)",
      factor=10)
def dns_ttl_jump(facts: FileFacts, params: dict) -> Iterable[Hit]:
    factor = float(params.get("factor", 10))
    for change in facts.leaves:
        if change.op not in ("replace", "type_change") or not is_dns_ttl(facts, change):
            continue
        old, new = duration(change.old), duration(change.new)
        r = ratio(old, new)
        if r is None or factor > r > 1 / factor:
            continue
        if r >= factor:
            why = "a wrong answer will stay cached that much longer, and rollback waits for it"
        else:
            why = "resolvers will ask that much more often"
        yield Hit(f"{change.key}: TTL {fmt(change.old)} → {fmt(change.new)} (×{_times(r)}); {why}",
                  change.line, change=change)


def _times(r: float) -> str:
    return f"{r:.0f}" if r >= 1 else f"1/{1 / r:.0f}" if r > 0 else "0"
