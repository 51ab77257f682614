"""Traffic rules: where requests go, how much of them, and how far a change reaches."""
from __future__ import annotations

import ipaddress
import re
from typing import Any, Callable, Iterable, Optional
from urllib.parse import urlsplit

from ..model import ConfigChange
from .kubernetes import (QUIET_ENVS, build_key, field_removals, gone_documents, is_item, names,
                         object_name, parent, prod_error, quiet, segments)
from .registry import FileFacts, Hit, rule
from .util import fmt, last_key, number

_ITEM = re.compile(r'^(.+)\[[^\]"]*\]$')
_DESTINATIONS = ("destination", "name", "service", "serviceName", "backend_service", "virtual_node",
                 "target_group_arn", "arn")
_TRAFFIC_WORDS = re.compile(r"canary|traffic|split|route|routing|backend|upstream|weighted|stable", re.I)
_ROUTE53 = re.compile(r"^resource\.aws_route53_record\.([^.\[]+)\.weighted_routing_policy(?:\[0\])?\.weight$")


def _lists(facts: FileFacts, side: str) -> dict[tuple, list[str]]:
    """The item keys of every list of one side, by (document, list key): one pass over the file."""
    items: dict[tuple, list[str]] = {}
    for d, k in facts.keys(side):
        m = _ITEM.match(k)
        if m:
            items.setdefault((d, m.group(1)), []).append(k)
    return items


def _destination(facts: FileFacts, member: str, document: Optional[str], side: str) -> Optional[str]:
    """Where a weighted item sends its share: `reviews/v2`, a backend name, a target group."""
    for field in _DESTINATIONS:
        v = facts.value(f"{member}.{field}", document, side)
        if isinstance(v, dict) and v.get("host"):
            return "/".join(str(x) for x in (v.get("host"), v.get("subset")) if x)
        if isinstance(v, (str, int)) and v != "":
            return str(v)
    return None  # not a route (an affinity term has a weight too)


def _shares(members: list[str], weight_of: Callable, name_of: Callable) -> Optional[dict[str, float]]:
    """Destination -> percent of the traffic for one weighted set; None when not computable."""
    weights = {name_of(m): number(weight_of(m)) for m in members}
    if not weights or None in weights or len(weights) != len(members):
        return None
    if len(weights) == 1 and None in weights.values():
        return {k: 100.0 for k in weights}  # a lone route without a weight takes everything
    total = sum(w for w in weights.values() if w is not None)
    if None in weights.values() or total <= 0:
        return None
    return {k: 100 * w / total for k, w in weights.items()}


def _shift(before: Optional[dict], after: Optional[dict], step: float) -> Optional[tuple[str, str]]:
    """(`traffic to v2 goes 10% → 100% in one step`, `v2`) when a destination gains >= step points."""
    if not before or not after:
        return None
    delta = {d: after.get(d, 0.0) - before.get(d, 0.0) for d in set(before) | set(after)}
    dest = max(sorted(delta), key=lambda d: delta[d])
    if delta[dest] < step:
        return None
    return f"traffic to {dest} goes {before.get(dest, 0):.0f}% → {after.get(dest, 0):.0f}% in one step", dest


def _route53(facts: FileFacts, document: Optional[str], name: Any, side: str) -> Optional[dict[str, float]]:
    """Route53 weighted records answering for the same name: record -> percent of the answers."""
    found = {}
    for d, k in facts.keys(side):
        m = _ROUTE53.match(k) if d == document else None
        if m and facts.value(f"resource.aws_route53_record.{m.group(1)}.name", d, side) == name:
            found[m.group(1)] = k
    return _shares(list(found), lambda r: facts.value(found[r], document, side), lambda r: r)


def _canary(facts: FileFacts, members: list[str], steps: str, document: Optional[str], side: str) -> list[float]:
    found = []
    for m in members:
        w = number(facts.value(f"{m}.setWeight", document, side))
        if w is not None:
            found.append((number(m[len(steps) + 1:-1]) or 0, w))
    return [w for _, w in sorted(found)]


def _largest_step(weights: list[float]) -> float:
    """The biggest single increase of a canary's weight; no steps at all is one step to 100%."""
    weights = weights or [100.0]
    return max(b - a for a, b in zip([0.0] + weights, weights))


def _seq(weights: list[float]) -> str:
    return "[" + ", ".join(fmt(w) for w in weights) + "]" if weights else "no steps (straight to 100%)"


@rule("TRF-001", "traffic-shift", "warning",
      summary="A weighted route moves ≥25 points of traffic in one step (0 → 100 included), or "
              "canary setWeight steps are removed so one step moves ≥25 points.",
      rationale="A weight shift moves real users onto the other version or pool at once: if it is "
                "broken or smaller, that share of traffic fails before anyone can react. Gradual "
                "steps are the safety; removing them turns a canary into a big-bang cut-over.",
      incident="Google 2019-06-02 (a change reached far more than intended at once); the motivating "
               "99% order drop",
      step_points=25, skip_envs=QUIET_ENVS)
def traffic_shift(facts: FileFacts, params: dict) -> Iterable[Hit]:
    if quiet(facts, params) or "feature-flags" in facts.kinds:
        return  # variant weights of a flag file are FLG-001's rollout jumps: one report, not two
    step, gone = float(params.get("step_points", 25)), gone_documents(facts)
    groups: dict[tuple, list[ConfigChange]] = {}
    for c in facts.leaves:
        key, steps = last_key(c.key), re.match(r"^(.*\.steps)\[[^\]]*\]", c.key)
        if c.document in gone or "ffinity" in c.key:
            continue  # scheduling affinity weights are not traffic
        if steps and ("canary" in c.key or key == "setWeight"):
            groups.setdefault(("steps", c.document, steps.group(1)), []).append(c)
        elif key == "weight" and _ROUTE53.match(c.key):
            name = facts.value(f"resource.aws_route53_record.{_ROUTE53.match(c.key).group(1)}.name", c.document)
            groups.setdefault(("route53", c.document, name), []).append(c)
        elif key == "weight" and is_item(parent(c.key)):
            groups.setdefault(("list", c.document, parent(parent(c.key))), []).append(c)
        elif key in ("weight", "canaryWeight", "canary_weight") or key.endswith("canary-weight"):
            yield from _lone_weight(c, step)
    lists = {side: _lists(facts, side) for side in ("old", "new")} if groups else {}
    for (kind, document, group), changes in groups.items():
        first = changes[0]
        if kind == "steps":
            old, new = (_canary(facts, lists[s].get((document, group), []), group, document, s) for s in ("old", "new"))
            jump, old_jump = _largest_step(new), _largest_step(old)
            if old and jump >= step and jump > old_jump:
                yield Hit(f"canary setWeight steps of {object_name(facts, first)}: {_seq(old)} → {_seq(new)}: "
                          f"one step now moves {jump:.0f}% of the traffic at once (was {old_jump:.0f}%)",
                          first.line, change=first)
            continue
        if kind == "route53":
            hit = _shift(_route53(facts, document, group, "old"), _route53(facts, document, group, "new"), step)
            label, dest_of = f"weighted records for {fmt(group)}", (lambda x: names(x.key)[2])
        else:
            hit = _shift(*(_shares(lists[s].get((document, group), []),
                                   lambda m, s=s: facts.value(f"{m}.weight", document, s),
                                   lambda m, s=s: _destination(facts, m, document, s)) for s in ("old", "new")), step)
            label = f"{group} ({object_name(facts, first)})"
            dest_of = (lambda x: _destination(facts, parent(x.key), document, "new"))
        if hit:
            gainer = next((x for x in changes if x.op != "remove" and dest_of(x) == hit[1]), first)
            yield Hit(f"{label}: {hit[0]}", gainer.line, change=gainer)


def _lone_weight(c: ConfigChange, step: float) -> Iterable[Hit]:
    """A weight that is not one of a list: a percentage (Helm values `canary.weight`)."""
    old, new = number(c.old), number(c.new)
    if c.op == "replace" and old is not None and new is not None and 0 <= old <= 100 and new <= 100 \
            and abs(new - old) >= step and _TRAFFIC_WORDS.search(c.key):
        yield Hit(f"{c.key}: {fmt(c.old)} → {fmt(c.new)} moves {abs(new - old):.0f} points of traffic in one "
                  f"step", c.line, change=c)


# -- TRF-002 ------------------------------------------------------------------------------
_SERVICE_REF = re.compile(r"(?:backendRefs\[[^\]]*\]\.name|backend\.service\.name|backend\.serviceName|"
                          r"canaryService|stableService|destination\.host)$")


def _objects(facts: FileFacts, kind: str, side: str = "new") -> list[Optional[str]]:
    return [d for d, k in facts.keys(side) if k == "kind" and facts.value("kind", d, side) == kind]


def _short(host: Any) -> Optional[str]:
    """`reviews.shop.svc.cluster.local` / `reviews.shop` / `reviews` -> `reviews`; None for outside hosts."""
    if not isinstance(host, str) or not host or any(ch in host for ch in "*{}$ /:"):
        return None
    parts = host.split(".")
    return parts[0] if len(parts) <= 2 or host.endswith((".svc", ".svc.cluster.local")) else None


def _subsets(facts: FileFacts) -> dict[str, set[str]]:
    """Short host -> the subset names the DestinationRules of this file define for it."""
    out: dict[str, set[str]] = {}
    hosts = {d: _short(facts.value("spec.host", d)) for d in _objects(facts, "DestinationRule")}
    for d, k in facts.keys("new"):
        m = re.fullmatch(r"spec\.subsets\[name=(.+)\]", k) if hosts.get(d) else None
        if m:
            out.setdefault(hosts[d], set()).add(m.group(1))
    return out


@rule("TRF-002", "dangling-route", "warning", kinds=("kubernetes",),
      summary="A route is pointed at a subset or Service that this file does not define, where the "
              "file defines the others (an error in prod).",
      rationale="A route to a subset no DestinationRule declares, or to a Service that does not "
                "exist, sends its traffic nowhere: every request on it fails (Istio answers 503 NR). "
                "Only judged where the same file defines the candidates, so a miss is a real miss.",
      incident="Cloudflare 1.1.1.1 2025-07-14 (production prefixes linked to a service that did not "
               "serve them)", skip_envs=QUIET_ENVS)
def dangling_route(facts: FileFacts, params: dict) -> Iterable[Hit]:
    if quiet(facts, params):
        return
    gone, known = gone_documents(facts), {}
    for c in facts.leaves:
        if c.document in gone or c.op not in ("replace", "add") or not isinstance(c.new, str):
            continue
        if c.key.endswith("destination.subset"):
            if "subsets" not in known:
                known["subsets"] = _subsets(facts)
            subsets = known["subsets"]
            host = _short(facts.value(parent(c.key) + ".host", c.document))
            if host in subsets and c.new not in subsets[host]:
                yield Hit(f"{c.key}: {fmt(c.old) if c.op == 'replace' else 'added'} → {c.new}: no "
                                f"DestinationRule here defines subset {c.new} of {host} (defined: "
                                f"{', '.join(sorted(subsets[host]))}); requests on this route fail",
                                c.line, change=c, severity=prod_error(facts))
        elif c.op == "replace" and _SERVICE_REF.search(c.key):
            old, new = _short(c.old), _short(c.new)
            if not (old and new and old != new):
                continue
            if "services" not in known:
                known["services"] = {side: {str(facts.value("metadata.name", d, side))
                                            for d in _objects(facts, "Service", side)} for side in ("old", "new")}
            if old in known["services"]["old"] and new not in known["services"]["new"]:
                yield Hit(f"{c.key}: {c.old} → {c.new}: this file defines Service {old} but no Service "
                                f"{new}; traffic on this route goes nowhere", c.line, change=c,
                                severity=prod_error(facts))


# -- TRF-003 ------------------------------------------------------------------------------
_NONPROD_TOKENS = {"staging", "stage", "stg", "test", "dev", "nonprod", "sandbox", "localhost", "qa", "uat"}
# a key whose name ends like one of these holds a host (API_URL, databaseHost, bootstrap.servers)
_HOSTISH = re.compile(r"(host|hostname|url|uri|endpoint|address|addr|server|dsn|domain|upstream|origin|broker|"
                      r"bootstrap|proxy|jdbc|connectionstring|target)s?$")


def _host_like_key(key: str) -> bool:
    return bool(_HOSTISH.search(re.sub(r"[^a-z0-9]", "", key.lower())))


def _hosts(value: str) -> list[str]:
    """Host names in a value: URLs, DSNs, `host:port` lists, bare host names."""
    out = []
    for part in re.split(r"[,\s;]+", value.strip()):
        part = re.sub(r"^jdbc:", "", part)
        if "://" in part:
            try:
                out.append(urlsplit(part).hostname or "")
            except ValueError:
                continue
        elif re.fullmatch(r"[A-Za-z0-9.\-*]+(:\d+)?", part) and ("." in part or "-" in part or part == "localhost"):
            out.append(part.split(":")[0].lower())
    return [h for h in out if h]


def nonprod_marker(value: Any) -> Optional[str]:
    """The non-production token a host/URL value points at (`db.staging.internal` -> staging)."""
    for host in _hosts(value) if isinstance(value, str) else ():
        if host in ("127.0.0.1", "::1") or host.startswith("127."):
            return host
        if host in ("example.com", "example.org") or host.endswith((".example.com", ".example.org")):
            return "example." + host.rsplit(".", 1)[-1]
        if "non-prod" in host:
            return "non-prod"
        hit = next((t for t in re.split(r"[.\-_]", host) if t in _NONPROD_TOKENS), None)
        if hit:
            return hit
    return None


@rule("TRF-003", "prod-refs-nonprod", "warning",
      summary="In a production file, a host/URL/endpoint value now points at staging, test, dev, "
              "sandbox, localhost or example.com.",
      rationale="Production wired to a non-production dependency works until that dependency is "
                "reset, scaled down or refreshed, and then production fails with it. The token must "
                "stand alone in the host name: `devops`, `latest` or `contest` do not count.",
      incident="Cloudflare 1.1.1.1 2025-07-14 (production prefixes linked to a non-production service)")
def prod_refs_nonprod(facts: FileFacts, params: dict) -> Iterable[Hit]:
    if facts.environment != "prod":
        return
    for c in facts.leaves:
        if c.op not in ("add", "replace", "type_change") or not isinstance(c.new, str):
            continue
        env = re.search(r"\[name=([^\]]+)\]\.value$", c.key)  # env[name=API_URL].value: the name says
        label, parts = env.group(1) if env else last_key(c.key), names(c.key)
        in_meta = parts[-2:-1] in (["labels"], ["annotations"])  # doc links in annotations are not wiring
        if not (_host_like_key(label) or (not in_meta and "://" in c.new)):
            continue
        marker = nonprod_marker(c.new)
        if marker and nonprod_marker(c.old) != marker:
            yield Hit(f"{c.key}: {fmt(c.new)} points production at `{marker}`", c.line, change=c)


# -- TRF-004 ------------------------------------------------------------------------------
_TARGETS = re.compile(r"^(regions|zones|availability_zones|availabilityZones|azs|clusters|locations|datacenters|"
                      r"target_clusters|targets|hosts|namespaces|environments|region|zone|cluster|target)$")
_TARGET_LISTS = re.compile(r"^(regions|zones|availability_zones|availabilityZones|azs|clusters|locations|"
                           r"datacenters|target_clusters)$")  # lists whose growth is a wider rollout
_SELECTORS = {"selector", "nodeSelector", "node_selector", "matchLabels", "match_labels", "matchExpressions",
              "match_expressions", "podSelector", "namespaceSelector", "workloadSelector", "clusterSelector"}
_NOT_WIDENING = {"PodDisruptionBudget", "ServiceMonitor", "PodMonitor"}  # wider there is not riskier
_OWN_SELECTOR = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}  # K8S-001 (immutable)


def _length(v: Any, maps: bool = False) -> Optional[int]:
    """Items in a list (or a map, for for_each), also when the value was summarised."""
    summary = re.fullmatch(r"<(list|mapping) of (\d+) (?:items|keys)>", v) if isinstance(v, str) else None
    if summary and (maps or summary.group(1) == "list"):
        return int(summary.group(2))
    return len(v) if isinstance(v, list) or maps and isinstance(v, dict) else None


def _loosened(facts: FileFacts, c: ConfigChange) -> bool:
    """A removal that makes a selector match more (not a workload's own immutable selector)."""
    parts = names(c.key)
    if c.doc_kind in _NOT_WIDENING or c.doc_kind in _OWN_SELECTOR and parts[:2] == ["spec", "selector"]:
        return False
    if c.doc_kind == "Service" and not facts.value("spec.selector", c.document):
        return False  # a Service without a selector has no managed endpoints: it matches nothing, not more
    return parts[-1] in _SELECTORS or len(parts) > 1 and parts[-1 if is_item(c.key) else -2] in _SELECTORS


@rule("TRF-004", "scope-widening", "warning",
      summary="The set of targets grows to all: region/zone/cluster lists more than 2×, `hosts: all` "
              "or `*`, a selector removed or loosened, count/for_each more than 2×.",
      rationale="The change was written and reviewed for a few targets and now applies to many; "
                "whatever is wrong with it is wrong everywhere at once.",
      incident="Google 2019-06-02 (a change meant for a few servers in one region hit several regions)",
      grow_ratio=2.0, skip_envs=QUIET_ENVS)
def scope_widening(facts: FileFacts, params: dict) -> Iterable[Hit]:
    if quiet(facts, params):
        return
    grow, seen, gone = float(params.get("grow_ratio", 2.0)), set(), gone_documents(facts)
    for c in facts.leaves:
        if c.document in gone or c.op not in ("add", "replace", "type_change"):
            continue
        key = last_key(c.key)
        if _TARGETS.match(key) and str(c.new).strip() in ("*", "all") and str(c.old).strip() not in ("*", "all"):
            yield Hit(f"{c.key}: {fmt(c.old) if c.op != 'add' else 'added'} → {c.new} targets everything",
                      c.line, change=c)
            continue
        target = parent(c.key) if is_item(c.key) else c.key
        terraform = names(target)[:1] in (["resource"], ["module"], ["data"])
        if not (_TARGET_LISTS.match(key) or terraform and key in ("count", "for_each")) or (c.document, target) in seen:
            continue
        seen.add((c.document, target))
        before, after = (facts.value(target, c.document, s) for s in ("old", "new"))
        a, b = (number(before), number(after)) if key == "count" else \
            (_length(before, key == "for_each"), _length(after, key == "for_each"))
        if a and b and b > a * grow:
            yield Hit(f"{target}: {fmt(a)} → {fmt(b)} targets ({b / a:.1f}×): reviewed for a few, now "
                      f"applied to many", c.line, change=c)
    for c in field_removals(facts):
        if _loosened(facts, c):
            parts = names(c.key)
            effect = "its pods may now be scheduled on any node" if {"nodeSelector", "node_selector"} & set(parts) \
                else "it now matches more"
            yield Hit(f"{c.key}: removed (was {fmt(c.old)}) loosens a selector of {object_name(facts, c)}: "
                      f"{effect}", c.line, change=c)


# -- TRF-005 ------------------------------------------------------------------------------
_PREFIX_KEYS = re.compile(r"^(prefix[_-]?lists?|prefixes|advertised[_-]?ip[_-]?ranges|advertisedIPRanges|"
                          r"advertised[_-]?(prefixes|routes|networks)|announce(d|ments?)?|withdraw(n|s|als?)?|"
                          r"anycast([_-]?(prefix(es)?|ips?|ranges?))?|bgp[_-]?(prefixes|announcements?|networks)|"
                          r"aws_ec2_managed_prefix_list|serviceClusterIPs|serviceExternalIPs|"
                          r"serviceLoadBalancerIPs)$", re.I)
_BGP_KINDS = {"BGPAdvertisement", "BGPConfiguration", "CiliumBGPPeeringPolicy", "CiliumBGPAdvertisement"}


def _prefixes(v: Any) -> set[str]:
    """Every IP prefix/address in a value (a string, or a list/map of them), normalised."""
    if isinstance(v, (dict, list)):
        return set().union(*(_prefixes(x) for x in (v.values() if isinstance(v, dict) else v)))
    if not isinstance(v, str) or len(v) < 3 or not re.fullmatch(r"[0-9a-fA-F:.]+(/\d{1,3})?", v.strip()):
        return set()
    try:
        return {str(ipaddress.ip_network(v.strip(), strict=False))}
    except ValueError:
        return set()


def _summarised(v: Any) -> bool:
    return isinstance(v, str) and v.startswith("<") and v.endswith(">")


@rule("TRF-005", "bgp-prefix-change", "warning",
      summary="An announced/withdrawn prefix set, prefix list, advertised IP range or anycast prefix "
              "changes (a prefix dropped in prod is an error).",
      rationale="Prefix announcements decide whether a whole service is reachable from the internet. "
                "Withdrawing one takes everything behind it offline at once, worldwide; announcing "
                "the wrong one draws traffic to the wrong place.",
      incident="Facebook 2021-10-04 (BGP routes withdrawn, everything unreachable); Cloudflare 1.1.1.1 "
               "2025-07-14 (prefixes withdrawn after a topology change)")
def bgp_prefix_change(facts: FileFacts, params: dict) -> Iterable[Hit]:
    groups: dict[tuple, list[ConfigChange]] = {}
    for c in facts.leaves:
        if not (_prefixes(c.old) or _prefixes(c.new)):
            continue
        segs = segments(c.key)
        at = next((i for i, n in enumerate(segs) if _PREFIX_KEYS.match(n)), None)
        if at is None and c.doc_kind not in _BGP_KINDS:
            continue
        if at == 1 and segs[0] in ("resource", "data") and len(segs) > 2:
            at = 2  # a prefix-list resource type: group by the resource
        groups.setdefault((c.document, build_key(segs[:at + 1]) if at is not None else "spec"), []).append(c)
    for (document, group), changes in groups.items():
        before, after = (facts.value(group, document, s) for s in ("old", "new"))
        if _summarised(before) or _summarised(after):  # too big to copy: judge the changed leaves
            before = [c.old for c in changes if c.op != "add"]
            after = [c.new for c in changes if c.op != "remove"]
        dropped, added = sorted(_prefixes(before) - _prefixes(after)), sorted(_prefixes(after) - _prefixes(before))
        if not dropped and not added:
            continue  # reordered or reformatted: the set is the same
        what = "; ".join(p for p in (f"drops {', '.join(dropped)}" if dropped else "",
                                     f"adds {', '.join(added)}" if added else "") if p)
        first = changes[0]  # a withdrawal takes whatever is behind it offline: an error in production
        yield Hit(f"{group} ({object_name(facts, first)}): {what} — reachability of everything behind "
                        f"these prefixes changes", first.line, change=first,
                        severity=prod_error(facts) if dropped else None)
