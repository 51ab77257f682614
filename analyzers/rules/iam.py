"""Access rules: who may do what, and who can reach what. A permission edit is small text with a
large reach: a wildcard grant covers every current and future resource, a public CIDR every
address on the internet, and a database grant changes what the queries behind generated config
return (Cloudflare 2025-11-18)."""
from __future__ import annotations

import json
import re
from typing import Any, Iterable, Iterator, Optional

from ..configdiff import MISSING
from ..configdiff.semdiff import item_labels
from ..configdiff.syntax import MAP, SEQ
from ..model import ConfigChange
from .registry import FileFacts, Hit, rule
from .tree import at, documents, key_line, names, parent_of, plain, strings, synthetic, text_line
from .util import fmt, last_key

# ------------------------------------------------------------------ IAM-001
_RBAC_ROLES, _RBAC_BINDINGS = {"Role", "ClusterRole"}, {"RoleBinding", "ClusterRoleBinding"}
_PUBLIC_SUBJECTS = {("Group", "system:unauthenticated"), ("Group", "system:authenticated"),
                    ("User", "system:anonymous")}


@rule("IAM-001", "privilege-broadening", "warning",
      summary="A grant gains a wildcard action/resource/principal, cluster-admin, owner/editor or public members.",
      rationale="Credentials are only as safe as what they may do: `Action: \"*\"`, `Resource: \"*\"`, "
                "RBAC `*` verbs or resources, a cluster-admin binding or GCP owner/editor turn one leaked "
                "token or one buggy job into access to everything, including resources created later. "
                "Final-state scanners (kube-linter wildcard-in-rules and cluster-admin-role-binding, Polaris "
                "clusterrolebindingClusterAdmin, Checkov) flag such grants for as long as they exist; this "
                "rule flags the change that introduces one.",
      incident="Checkov/Polaris classics; blast radius of credentials",
      kinds=("config",), admin_roles=["cluster-admin"],
      broad_grants=["roles/owner", "roles/editor", "arn:aws:iam::aws:policy/AdministratorAccess",
                    "arn:aws:iam::aws:policy/PowerUserAccess", "arn:aws:iam::aws:policy/IAMFullAccess"],
      public_members=["allUsers", "allAuthenticatedUsers"])
def privilege_broadening(facts: FileFacts, params: dict) -> Iterable[Hit]:
    for label, kind, old, new in documents(facts, _RBAC_ROLES | _RBAC_BINDINGS):
        if kind in _RBAC_ROLES and isinstance(new, dict):
            yield from _rbac_rules(facts, label, kind, old, new)
        elif kind in _RBAC_BINDINGS and isinstance(new, dict):
            yield from _rbac_binding(facts, label, kind, old, new, names(params.get("admin_roles")))
    if "tatement" in (facts.file.new_text or ""):
        yield from _aws_statements(facts)
    yield from _broad_values(facts, names(params.get("broad_grants")), names(params.get("public_members")))


def _rbac_triples(rules: Any) -> set[tuple[str, str, str]]:
    out = set()
    for r in rules if isinstance(rules, list) else []:
        if isinstance(r, dict):
            groups = strings(r.get("apiGroups")) or [""]
            targets = strings(r.get("resources")) + strings(r.get("nonResourceURLs"))
            out |= {(g, t, v) for g in groups for t in targets for v in strings(r.get("verbs"))}
    return out


def _rbac_rules(facts, label, kind, old, new) -> Iterable[Hit]:
    before = {t for t in _rbac_triples(at(old, "rules")) if "*" in t}
    for i, r in enumerate(at(new, "rules") if isinstance(at(new, "rules"), list) else []):
        gained = {t for t in _rbac_triples([r]) if "*" in t} - before
        if not gained:
            continue
        field = next(f for f in ("verbs", "resources", "apiGroups", "nonResourceURLs") if "*" in strings(r.get(f)))
        key = f"rules[{i}].{field}"
        line = key_line(facts, key, label)
        reach = ("a verb wildcard includes delete, escalate, impersonate and any verb added later"
                 if field == "verbs" else "a wildcard covers every resource type, secrets included, "
                 "and any installed later")
        yield Hit(f"{kind} {fmt(at(new, 'metadata', 'name'))}: rules[{i}] now grants verbs {_fmt_list(r.get('verbs'))} "
                  f"on {_fmt_list(r.get('resources') or r.get('nonResourceURLs'))} in apiGroups "
                  f"{_fmt_list(r.get('apiGroups'))}; {reach}", line,
                  change=synthetic(key, MISSING, r.get(field), line, label, kind))


def _rbac_binding(facts, label, kind, old, new, admin_roles) -> Iterable[Hit]:
    role, was = at(new, "roleRef", "name"), at(old, "roleRef", "name")
    name = fmt(at(new, "metadata", "name"))
    if role in admin_roles and was != role:
        line = key_line(facts, "roleRef.name", label)
        reach = "every namespace and object" if kind == "ClusterRoleBinding" else f"namespace {fmt(at(new, 'metadata', 'namespace'))}"
        yield Hit(f"{kind} {name} now binds {role}: full control of {reach} for "
                  f"{_fmt_list([s.get('name') for s in at(new, 'subjects') or [] if isinstance(s, dict)])}",
                  line, change=synthetic("roleRef.name", was, role, line, label, kind))
    old_subjects = {(s.get("kind"), s.get("name")) for s in at(old, "subjects") or [] if isinstance(s, dict)}
    for i, s in enumerate(at(new, "subjects") or []):
        ident = (s.get("kind"), s.get("name")) if isinstance(s, dict) else None
        if ident in _PUBLIC_SUBJECTS and ident not in old_subjects:
            index = facts.diff.index("new")
            key = next((k for k in (f"subjects[name={ident[1]}]", f"subjects[{i}]") if (label, k) in index), "subjects")
            line = key_line(facts, key, label)
            yield Hit(f"{kind} {name} now grants {fmt(at(new, 'roleRef', 'name'))} to {ident[1]}: every caller "
                      f"of the API server, not a named identity", line,
                      change=synthetic(key, MISSING, ident[1], line, label, kind))


def _fmt_list(value: Any) -> str:
    items = strings(value)
    return "[" + ", ".join(items[:6]) + (", …" if len(items) > 6 else "") + "]" if items else "[]"


# AWS policy statements: JSON/YAML documents, inline JSON strings, HCL aws_iam_policy_document blocks.
def _aws_statements(facts: FileFacts) -> Iterable[Hit]:
    before: dict[tuple, set] = {}
    for doc, scope, _, stmt, _ in _statements(facts, "old"):
        before.setdefault((doc, scope), set()).update(_broad(stmt))
    for doc, scope, path, stmt, inline in _statements(facts, "new"):
        broad = _broad(stmt)
        gained = {(broad[k], k[1]) for k in broad.keys() - before.get((doc, scope), set())}
        if not gained:
            continue
        fields = {k.lower().replace("_", ""): k for k in stmt}
        if "principal" in {g[0] for g in gained}:
            field = fields.get("principal") or fields.get("principals")
        elif any(_wild(a) for a, _ in broad.keys() - before.get((doc, scope), set())):
            field = next((fields[f] for f in ("action", "actions", "notaction", "notactions") if f in fields), None)
        else:
            field = next((fields[f] for f in ("resource", "resources", "notresource", "notresources") if f in fields), None)
        key = path if inline or field is None else f"{path}.{field}"
        line = key_line(facts, key, doc)
        if inline:  # point into the string: at the first action granted anew, else at a "*"
            named = sorted(a for a, _ in gained if a not in ("*", "principal"))
            line = text_line(facts, line, re.compile(re.escape(named[0]) if named else r'"\*"|:\*"'))
        label = stmt.get("Sid") or stmt.get("sid") or path
        yield Hit(f"policy statement {label}: {_describe(gained)}", line,
                  change=synthetic(key, MISSING, stmt.get(field) if field else None, line, doc))


def _statements(facts: FileFacts, side: str) -> Iterator[tuple[Optional[str], str, str, dict, bool]]:
    """(document, scope, key path, statement, inline?) for each policy statement of one side.
    Scope is the key path without list positions, so inserting a policy does not renumber one."""
    if facts.diff is None or facts.diff.adapter is None:
        return
    adapter = facts.diff.adapter
    for (doc, key), node in list(facts.diff.index(side).items()):
        if not key.endswith("]") and last_key(key).lower() == "statement":
            value, inline = plain(adapter, node), False
        elif adapter.kind(node) not in (MAP, SEQ) and isinstance(adapter.scalar(node), str) \
                and "Statement" in adapter.scalar(node):
            value, inline = at(_inline_policy(adapter.scalar(node)), "Statement"), True
        else:
            continue
        items = value if isinstance(value, list) else [value]
        # Item paths as the differ writes them (`Statement[Sid=ReadArtifacts]`), so lines resolve.
        labels = item_labels(adapter, adapter.seq_items(node)) if not inline and isinstance(value, list) else []
        for i, stmt in enumerate(items):
            if isinstance(stmt, dict):
                path = f"{key}[{labels[i]}]" if labels else key
                yield doc, re.sub(r"\[[^\]]*\]", "", key), path, stmt, inline


def _broad(stmt: dict) -> dict[tuple[str, str], str]:
    """(action, resource) pairs of an Allow statement that involve a wildcard, plus ("principal",
    "*") when anyone may use it; keys are lower-cased (IAM actions are case-insensitive), values
    are for display. `Describe*`/`List*` on "*" are left out: they read metadata and most accept
    no narrower resource."""
    s = {k.lower().replace("_", ""): v for k, v in stmt.items()}
    if str(s.get("effect", "Allow")).lower() != "allow":
        return {}  # a wildcard Deny narrows
    actions = {a.lower(): a for a in strings(s.get("action", s.get("actions")))}
    excepted = strings(s.get("notaction", s.get("notactions")))
    if excepted:  # Allow + NotAction: everything but a few actions
        actions = {"*": "every action except " + ", ".join(excepted[:3]) + (" …" if len(excepted) > 3 else "")}
    resources = ["*"] if "notresource" in s or "notresources" in s else \
        strings(s.get("resource", s.get("resources"))) or [""]
    out = {(a, r): shown for a, shown in actions.items() for r in resources
           if _wild(a) or r == "*" and not re.match(r"^[\w-]+:(describe|list)", a)}
    if "*" in _principals(s.get("principal", s.get("principals"))):
        out["principal", "*"] = "principal"
    return out


def _wild(action: str) -> bool:
    return action == "*" or action.endswith(":*")


def _principals(value: Any) -> list[str]:
    if isinstance(value, dict):
        return strings(value["identifiers"]) if "identifiers" in value else \
            [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _principals(v)]
    return strings(value)


def _describe(gained: set) -> str:
    if ("*", "*") in gained:  # only a plain Action "*" is shown as "*"
        return 'Action "*" on Resource "*" is administrator access to the whole account'
    by_action: dict[str, list[str]] = {}
    for a, r in sorted(gained):
        by_action.setdefault(a, []).append("every resource (*)" if r == "*" else r or "its resources")
    parts = ['Principal "*": anyone may use it' if a == "principal" else f"{a} on {', '.join(rs[:3])}"
             + (f" and {len(rs) - 3} more" if len(rs) > 3 else "") for a, rs in by_action.items()]
    return "now allows " + "; ".join(parts[:4]) + (f" and {len(parts) - 4} more" if len(parts) > 4 else "")


_HEREDOC = re.compile(r"^<<-?\s*(\w+)\s*\n(.*)\n\s*\1\s*$", re.S)


def _inline_policy(text: str) -> Any:
    """A policy written inside a string: JSON, a Terraform heredoc, or `jsonencode({...})`."""
    text = text.strip()
    m = _HEREDOC.match(text)
    text = m.group(2).strip() if m else text
    if text.startswith("jsonencode(") and text.endswith(")"):
        return _hcl_literal(text[len("jsonencode("):-1])
    try:
        return json.loads(text) if text.startswith("{") else None
    except ValueError:
        return None


_HCL_TOKEN = re.compile(r'\s*(?:("(?:[^"\\]|\\.)*")|([{}\[\],:=])|([^\s{}\[\],:="]+))')


def _hcl_literal(text: str) -> Any:
    """An HCL object/tuple literal as Python (read, never evaluated); references stay text.
    None when it holds anything else (function calls, for-expressions)."""
    tokens, pos = [], 0
    while pos < len(text):
        m = _HCL_TOKEN.match(text, pos)
        if not m or m.end() == pos:
            if text[pos:].strip():
                return None
            break
        tokens.append(m.group(1) or m.group(2) or m.group(3))
        pos = m.end()

    def value(i: int) -> tuple[Any, int]:
        t = tokens[i]
        if t == "{":
            out, i = {}, i + 1
            while tokens[i] != "}":
                k = json.loads(tokens[i]) if tokens[i].startswith('"') else tokens[i]
                if tokens[i + 1] not in ("=", ":"):
                    raise ValueError(k)
                out[k], i = value(i + 2)
                i += tokens[i] == ","
            return out, i + 1
        if t == "[":
            items, i = [], i + 1
            while tokens[i] != "]":
                v, i = value(i)
                items.append(v)
                i += tokens[i] == ","
            return items, i + 1
        if t.startswith('"'):
            return json.loads(t), i + 1
        if "(" in t or t in ("}", "]", ",", "=", ":", "for"):
            raise ValueError(t)
        return {"true": True, "false": False, "null": None}.get(t, t), i + 1
    try:
        result, end = value(0)
        return result if end == len(tokens) else None
    except (IndexError, ValueError):
        return None


def _broad_values(facts: FileFacts, grants: set, members: set) -> Iterable[Hit]:
    """GCP owner/editor roles, AWS admin managed policies and public members, wherever they are set."""
    counts: dict[tuple[str, str], int] = {}
    for c in facts.leaves:
        if c.op not in ("add", "replace", "type_change"):
            continue
        for v in strings(c.new):
            if v not in grants | members or v in strings(c.old):
                continue
            for side in ("old", "new"):
                if (side, v) not in counts:
                    counts[side, v] = _count(facts, side, v)
            if counts["new", v] <= counts["old", v]:
                continue  # moved or renamed, not granted anew
            what = f"grants {v}, a blanket role over everything in its scope" if v in grants else \
                f"adds {v}: anyone on the internet{' with a Google account' if v == 'allAuthenticatedUsers' else ''}"
            yield Hit(f"{c.key}: {what}", c.line, change=c)


def _count(facts: FileFacts, side: str, value: str) -> int:
    adapter = facts.diff.adapter
    return sum(1 for node in facts.diff.index(side).values()
               if adapter.kind(node) not in (MAP, SEQ) and adapter.scalar(node) == value)


# ------------------------------------------------------------------ IAM-002
_SQL_GRANT = re.compile(r"(?:^|;)\s*((?:GRANT|REVOKE)\b|ALTER\s+(?:ROLE|USER|DEFAULT\s+PRIVILEGES)\b)", re.I)
_DB_GRANT_RESOURCE = re.compile(
    r"^resource\.((?:postgresql|mysql|clickhouse|snowflake|mssql|redshift|cockroach\w*)_"
    r"(?:grant|role|user|default_privileges)\w*\.[^.\[]+)")


@rule("IAM-002", "grant-on-config-source", "warning",
      summary="A migration grants, revokes or alters database roles or privileges.",
      rationale="A permission change on a database changes what every query run under that role "
                "returns, including metadata queries that generate config: Cloudflare's 2025-11-18 "
                "outage began with a ClickHouse grant that made such a query return duplicate rows, "
                "doubling a generated feature file past a hard limit in every proxy.",
      incident="Cloudflare 2025-11-18 (ClickHouse permission change, feature file doubled)")
def grant_on_config_source(facts: FileFacts, params: dict) -> Iterable[Hit]:
    if facts.file.path.lower().endswith(".sql") and facts.file.new_text:
        yield from _sql_grants(facts)
    seen = set()
    for c in facts.leaves if "terraform" in facts.kinds else ():
        m = _DB_GRANT_RESOURCE.match(c.key)
        if m and m.group(1) not in seen and not re.search(r"password|comment|description", last_key(c.key), re.I):
            seen.add(m.group(1))
            yield Hit(f"{m.group(1)} changes database privileges ({c.op} {last_key(c.key)}): what queries "
                      f"under that role return changes, including ones that generate config", c.line, change=c)


def _sql_grants(facts: FileFacts) -> Iterable[Hit]:
    new_lines = facts.file.new_text.splitlines()
    before: dict[str, int] = {}
    for stmt, _ in _sql_statements((facts.file.old_text or "").splitlines(), None):
        before[stmt] = before.get(stmt, 0) + 1
    added = {n for h in facts.file.hunks if h.added for n in range(h.start, h.end + 1)}
    after: dict[str, int] = {}
    for stmt, line in _sql_statements(new_lines, added):
        after[stmt] = after.get(stmt, 0) + 1
        if after[stmt] > before.get(stmt, 0):  # a statement moved within the file is not new
            yield Hit(f"{stmt[:160]}: a privilege change in a migration alters what every query under "
                      f"that role sees, including queries that generate config", line,
                      change=synthetic(stmt[:80], MISSING, stmt[:160], line))


def _sql_statements(lines: list[str], only: Optional[set]) -> Iterator[tuple[str, int]]:
    """(normalised statement, 1-based line) of each GRANT/REVOKE/ALTER ROLE starting on a line in `only`."""
    for n, raw in enumerate(lines, 1):
        code = raw.split("--", 1)[0]
        if (only is not None and n not in only) or not code.strip():
            continue
        for m in _SQL_GRANT.finditer(code):
            text = code[m.start(1):]
            k = n
            while ";" not in text and k < min(len(lines), n + 10):
                text += " " + lines[k].split("--", 1)[0]
                k += 1
            yield " ".join(text.split(";", 1)[0].split()), n


# ------------------------------------------------------------------ IAM-003
_PUBLIC_CIDRS = {"0.0.0.0/0", "::/0"}
_INGRESS_PATH = re.compile(r"ingress|source_?ranges|loadBalancerSourceRanges|authorized_networks|ipBlock|"
                           r"source_address_prefix", re.I)
_PUBLIC_ACLS = {"public-read", "public-read-write", "authenticated-read", "publicread", "publicreadwrite",
                "authenticatedread"}
_BLOCK_KEYS = {"blockpublicacls", "blockpublicpolicy", "ignorepublicacls", "restrictpublicbuckets"}
_INTERNAL_LB = re.compile(r"internal|load-balancer-type|load-balancer-scheme", re.I)


@rule("IAM-003", "newly-public", "warning",
      summary="Something becomes reachable from the internet: 0.0.0.0/0 ingress, public bucket ACL, "
              "public-access block lifted, Service ClusterIP → LoadBalancer/NodePort.",
      rationale="Exposure is a transition: final-state scanners flag a public bucket or an open "
                "security group as long as it stays so, and are waived once; the change that opens "
                "it is the moment a reviewer can still ask whether it should be public at all.",
      incident="Checkov/KICS classics (open security groups, public S3 buckets)",
      kinds=("config",))
def newly_public(facts: FileFacts, params: dict) -> Iterable[Hit]:
    for c in facts.leaves:
        name = last_key(c.key).lower().replace("_", "").replace("-", "")
        new, old = strings(c.new), strings(c.old)
        if c.op in ("add", "replace", "type_change") and set(new) & _PUBLIC_CIDRS - set(old) \
                and _ingress(facts, c):
            yield Hit(f"{c.key}: {fmt(c.old) if c.op != 'add' else 'added as'} → {fmt(c.new)} opens it to "
                      f"every address on the internet", c.line, change=c)
        elif name in ("acl", "accesscontrol", "predefinedacl", "cannedacl") and c.op != "remove" \
                and {v.lower() for v in new} & _PUBLIC_ACLS and not {v.lower() for v in old} & _PUBLIC_ACLS:
            yield Hit(f"{c.key}: {fmt(c.old)} → {fmt(c.new)} makes the bucket's objects public", c.line, change=c)
        elif name in _BLOCK_KEYS and c.old is True and c.new is not True and _parent_kept(facts, c):
            yield Hit(f"{c.key}: true → {fmt(c.new) if c.op != 'remove' else 'removed (false)'} lifts a "
                      f"public-access block", c.line, change=c)
        elif name == "publicaccessprevention" and c.old == "enforced" and c.new != "enforced" \
                and _parent_kept(facts, c):
            yield Hit(f"{c.key}: enforced → {fmt(c.new)} allows the bucket to be made public", c.line, change=c)
        elif name == "publiclyaccessible" and c.new is True and c.old is not True:
            yield Hit(f"{c.key}: {fmt(c.old)} → true gives the database a public endpoint", c.line, change=c)
        elif name == "type" and c.new in ("LoadBalancer", "NodePort") and c.old not in ("LoadBalancer", c.new) \
                and _service_type(facts, c):
            yield Hit(f"{c.key}: {fmt(c.old) if c.op != 'add' else 'ClusterIP (default)'} → {c.new} exposes "
                      f"the service outside the cluster", c.line, change=c)


def _ingress(facts: FileFacts, c: ConfigChange) -> bool:
    if re.search(r"egress|outbound", c.key, re.I):
        return False
    if _INGRESS_PATH.search(c.key) or re.search(r"SecurityGroupIngress|CidrIp", c.key):
        return True
    m = re.match(r"^(resource\.[^.]+\.[^.\[]+)", c.key)  # aws_security_group_rule, azurerm NSG rule
    if m:
        kind = facts.value(m.group(1) + ".type", c.document)
        direction = facts.value(m.group(1) + ".direction", c.document)
        return kind == "ingress" or str(direction).lower() == "inbound"
    return False


def _parent_kept(facts: FileFacts, c: ConfigChange) -> bool:
    """A flag removed with its whole bucket or resource is a deletion, not an exposure."""
    parent = parent_of(c.key)
    return c.op != "remove" or facts.value(parent, c.document) is not MISSING


def _service_type(facts: FileFacts, c: ConfigChange) -> bool:
    """spec.type of a Service (or `service.type` in Helm values) that is not an internal load balancer."""
    if c.doc_kind == "Service" and c.key == "spec.type":
        annotations = facts.value("metadata.annotations", c.document)
    elif c.key.endswith("ervice.type") and "helm" in facts.kinds:
        annotations = facts.value(parent_of(c.key) + ".annotations", c.document)
    else:
        return False
    return not any(_INTERNAL_LB.search(str(k)) and str(v).lower() in ("true", "internal")
                   for k, v in (annotations.items() if isinstance(annotations, dict) else ()))
