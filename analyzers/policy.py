"""`.changegate.yaml`: loaded from the base revision, validated against a strict schema.

Every error names the key path and the line; unknown keys are errors (a typo in a gate must
not silently switch it off). Anchors and aliases are refused, so a hostile policy cannot
expand into a billion nodes."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import yaml

from .errors import PolicyError

POLICY_FILE = ".changegate.yaml"
DIALECTS = ("github", "gitlab", "bitbucket")
LOOK_IN = ("branch", "commits", "change_records")
DEFAULT_TICKET_PATTERNS = [r"(?<![A-Z0-9])[A-Z][A-Z0-9]{1,9}-[0-9]+", r"CHG[0-9]{7,}"]
DEFAULT_MAX_FILE_BYTES = 2 * 1024 * 1024
PREDICATE_KEYS = ("paths", "kind", "environment", "tier", "service", "blast_radius", "ai_authored",
                  "rule", "changed_lines", "all", "any", "not")


@dataclass(frozen=True)
class Service:
    name: str
    paths: tuple[str, ...]
    tier: Optional[int] = None
    owners: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReviewRule:
    name: str
    condition: dict
    approvals: int
    reviewers: tuple[str, ...] = ()  # `from`: users and teams; empty = anyone but the author
    distinct_teams: bool = False  # the approvals must come from that many different teams of `from`
    exclude_author: bool = True  # the author's own approval never counts (as on every forge)
    line: Optional[int] = None  # where the rule is written in the policy, for tracing a requirement


@dataclass(frozen=True)
class RuleSetting:
    severity: Optional[str] = None
    enabled: bool = True
    reason: Optional[str] = None
    params: tuple[tuple[str, Any], ...] = ()


@dataclass
class Policy:
    path: Optional[str] = None  # where it was read from; None means built-in defaults
    version: int = 1
    base: Optional[str] = None
    codeowners_dialect: Optional[str] = None  # None: the forge whose directory has a CODEOWNERS, else github
    codeowners_path: Optional[str] = None
    catalog_tier_key: str = "changegate.dev/tier"  # catalog-info.yaml label/annotation giving the tier
    services: list[Service] = field(default_factory=list)
    environments: Optional[dict[str, list[str]]] = None  # None: the built-in path heuristics
    control_plane_paths: list[str] = field(default_factory=list)
    control_plane_code: list[dict] = field(default_factory=list)
    rules: dict[str, RuleSetting] = field(default_factory=dict)
    review: Optional[list[ReviewRule]] = None  # None: the built-in defaults (DESIGN §4.3)
    ticket_required_if: dict = field(default_factory=lambda: {"blast_radius": ["high", "critical"]})
    ticket_patterns: list[re.Pattern[str]] = field(
        default_factory=lambda: [re.compile(p) for p in DEFAULT_TICKET_PATTERNS])
    ticket_look_in: tuple[str, ...] = LOOK_IN
    change_records_dir: str = ".changes"
    change_records_required_if: dict = field(default_factory=lambda: {"blast_radius": ["critical"]})
    change_record_fields: tuple[str, ...] = ("summary", "rollback", "validation")
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES


# ------------------------------------------------------------------ validation helpers
class _Checker:
    def __init__(self, source: str):
        self.source = source

    def fail(self, node: yaml.Node, where: str, message: str) -> PolicyError:
        prefix = f"{where}: " if where else ""
        return PolicyError(prefix + message, self.source, node.start_mark.line + 1)

    def mapping(self, node: yaml.Node, where: str, allowed: tuple[str, ...]) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, where, "expected a mapping")
        out: dict[str, yaml.Node] = {}
        for key_node, value in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key == "<<":
                raise self.fail(key_node, where, "merge keys (<<) are not supported")
            if key not in allowed:
                raise self.fail(key_node, _join(where, str(key)),
                                f"unknown key (expected one of: {', '.join(allowed)})")
            if key in out:
                raise self.fail(key_node, _join(where, key), "duplicate key")
            out[key] = value
        return out

    def seq(self, node: yaml.Node, where: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, where, "expected a list")
        return node.value

    def scalar(self, node: yaml.Node, where: str, kind: type, choices: tuple = ()) -> Any:
        value = _plain(node)
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if not ok:
            raise self.fail(node, where, f"expected {_kind_name(kind)}, got {_describe(value)}")
        if choices and value not in choices:
            raise self.fail(node, where, f"expected one of: {', '.join(map(str, choices))}; got {value!r}")
        return value

    def strings(self, node: yaml.Node, where: str) -> list[str]:
        if isinstance(node, yaml.ScalarNode):
            return [self.scalar(node, where, str)]
        return [self.scalar(item, f"{where}[{n}]", str) for n, item in enumerate(self.seq(node, where))]

    def regex(self, node: yaml.Node, where: str) -> re.Pattern[str]:
        text = self.scalar(node, where, str)
        try:
            return re.compile(text)
        except re.error as exc:
            raise self.fail(node, where, f"invalid regular expression: {exc}") from None

    def predicate(self, node: yaml.Node, where: str) -> dict:
        fields = self.mapping(node, where, PREDICATE_KEYS)
        out: dict[str, Any] = {}
        for key, value in fields.items():
            at = _join(where, key)
            if key in ("all", "any"):
                out[key] = [self.predicate(item, f"{at}[{n}]") for n, item in enumerate(self.seq(value, at))]
            elif key == "not":
                out[key] = self.predicate(value, at)
            elif key == "ai_authored":
                out[key] = self.scalar(value, at, bool)
            elif key == "tier":
                items = value.value if isinstance(value, yaml.SequenceNode) else [value]
                out[key] = [self.scalar(item, f"{at}[{n}]", int) for n, item in enumerate(items)]
            elif key == "changed_lines":
                text = str(_plain(value))
                if not re.fullmatch(r"\s*(>=|<=|>|<|==)?\s*\d+\s*", text):
                    raise self.fail(value, at, f"expected a comparison such as \">200\", got {text!r}")
                out[key] = text.strip()
            elif key == "blast_radius":
                out[key] = [self._choice(item, at, ("low", "medium", "high", "critical"))
                            for item in _as_list(value)]
            else:
                out[key] = self.strings(value, at)
        return out

    def _choice(self, node: yaml.Node, where: str, choices: tuple[str, ...]) -> str:
        return self.scalar(node, where, str, choices)


def _as_list(node: yaml.Node) -> list[yaml.Node]:
    return node.value if isinstance(node, yaml.SequenceNode) else [node]


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _kind_name(kind: type) -> str:
    return {str: "a string", int: "an integer", bool: "true or false", dict: "a mapping"}.get(kind, kind.__name__)


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, (list, dict)):
        return "a list" if isinstance(value, list) else "a mapping"
    return f"{value!r}"


_CONSTRUCTOR = yaml.SafeLoader("")


def _plain(node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return _CONSTRUCTOR.construct_object(node)
    return [] if isinstance(node, yaml.SequenceNode) else {}


class _NoAliasComposer(yaml.SafeLoader):
    def compose_node(self, parent, index):  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise PolicyError("anchors and aliases are not supported in the policy",
                              None, event.start_mark.line + 1)
        return super().compose_node(parent, index)


# ------------------------------------------------------------------ loading
def load_policy(text: Optional[str], source: str = POLICY_FILE) -> Policy:
    """Parse and validate policy text. None or empty text gives the built-in defaults."""
    if text is None or not text.strip():
        return Policy(path=source if text is not None else None)
    try:
        loader = _NoAliasComposer(text)
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
    except PolicyError as exc:
        exc.path = source
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise PolicyError(f"invalid YAML: {exc.problem or exc.context}", source,
                          mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise PolicyError(f"invalid YAML: {exc}", source) from None
    if root is None:
        return Policy(path=source)
    return _build(_Checker(source), root, source)


TOP_KEYS = ("version", "base", "ownership", "services", "environments", "control_plane", "rules",
            "review", "tickets", "change_records", "limits")


def _build(c: _Checker, root: yaml.Node, source: str) -> Policy:
    top = c.mapping(root, "", TOP_KEYS)
    policy = Policy(path=source)
    handlers: dict[str, Callable[[yaml.Node], None]] = {
        "version": lambda n: _version(c, n, policy),
        "base": lambda n: setattr(policy, "base", c.scalar(n, "base", str)),
        "ownership": lambda n: _ownership(c, n, policy),
        "services": lambda n: _services(c, n, policy),
        "environments": lambda n: _environments(c, n, policy),
        "control_plane": lambda n: _control_plane(c, n, policy),
        "rules": lambda n: _rules(c, n, policy),
        "review": lambda n: _review(c, n, policy),
        "tickets": lambda n: _tickets(c, n, policy),
        "change_records": lambda n: _change_records(c, n, policy),
        "limits": lambda n: _limits(c, n, policy),
    }
    for key, node in top.items():
        handlers[key](node)
    return policy


def _version(c: _Checker, node: yaml.Node, policy: Policy) -> None:
    policy.version = c.scalar(node, "version", int, (1,))


def _ownership(c: _Checker, node: yaml.Node, policy: Policy) -> None:
    fields = c.mapping(node, "ownership", ("codeowners", "path", "catalog_tier"))
    if "codeowners" in fields:
        policy.codeowners_dialect = c.scalar(fields["codeowners"], "ownership.codeowners", str, DIALECTS)
    if "path" in fields:
        policy.codeowners_path = c.scalar(fields["path"], "ownership.path", str)
    if "catalog_tier" in fields:
        policy.catalog_tier_key = c.scalar(fields["catalog_tier"], "ownership.catalog_tier", str)


def _services(c: _Checker, node: yaml.Node, policy: Policy) -> None:
    seen: set[str] = set()
    for n, item in enumerate(c.seq(node, "services")):
        at = f"services[{n}]"
        fields = c.mapping(item, at, ("name", "paths", "tier", "owners", "description"))
        for required in ("name", "paths"):
            if required not in fields:
                raise c.fail(item, at, f"missing required key '{required}'")
        name = c.scalar(fields["name"], f"{at}.name", str)
        if name in seen:
            raise c.fail(fields["name"], f"{at}.name", f"duplicate service name {name!r}")
        seen.add(name)
        policy.services.append(Service(
            name=name, paths=tuple(c.strings(fields["paths"], f"{at}.paths")),
            tier=c.scalar(fields["tier"], f"{at}.tier", int) if "tier" in fields else None,
            owners=tuple(c.strings(fields["owners"], f"{at}.owners")) if "owners" in fields else ()))


def _environments(c: _Checker, node: yaml.Node, policy: Policy) -> None:
    if not isinstance(node, yaml.MappingNode):
        raise c.fail(node, "environments", "expected a mapping of environment name to path globs")
    envs: dict[str, list[str]] = {}
    for key_node, value in node.value:
        name = c.scalar(key_node, "environments", str)
        envs[name] = c.strings(value, f"environments.{name}")
    policy.environments = envs


def _control_plane(c: _Checker, node: yaml.Node, policy: Policy) -> None:
    fields = c.mapping(node, "control_plane", ("paths", "code"))
    if "paths" in fields:
        policy.control_plane_paths = c.strings(fields["paths"], "control_plane.paths")
    for n, item in enumerate(c.seq(fields["code"], "control_plane.code") if "code" in fields else []):
        at = f"control_plane.code[{n}]"
        spec = c.mapping(item, at, ("language", "calls"))
        policy.control_plane_code.append({
            "language": c.scalar(spec["language"], f"{at}.language", str) if "language" in spec else None,
            "calls": c.strings(spec["calls"], f"{at}.calls") if "calls" in spec else []})


RULE_ID = re.compile(r"^[A-Z]{2,5}-\d{3}$")


def _rules(c: _Checker, node: yaml.Node, policy: Policy) -> None:
    from .rules import RULES  # the registry knows which ids exist

    if not isinstance(node, yaml.MappingNode):
        raise c.fail(node, "rules", "expected a mapping of rule id to settings")
    for key_node, value in node.value:
        rule_id = c.scalar(key_node, "rules", str)
        at = f"rules.{rule_id}"
        if rule_id not in RULES:
            raise c.fail(key_node, at, "unknown rule id (see `changegate rules`)")
        fields = c.mapping(value, at, ("severity", "enabled", "reason", "params"))
        params: dict[str, Any] = {}
        if "params" in fields:
            params_node = fields["params"]
            if not isinstance(params_node, yaml.MappingNode):
                raise c.fail(params_node, f"{at}.params", "expected a mapping")
            params = {_plain(k): _CONSTRUCTOR.construct_object(v, deep=True) for k, v in params_node.value}
        policy.rules[rule_id] = RuleSetting(
            severity=c.scalar(fields["severity"], f"{at}.severity", str, ("error", "warning", "info"))
            if "severity" in fields else None,
            enabled=c.scalar(fields["enabled"], f"{at}.enabled", bool) if "enabled" in fields else True,
            reason=c.scalar(fields["reason"], f"{at}.reason", str) if "reason" in fields else None,
            params=tuple(sorted(params.items(), key=lambda kv: str(kv[0]))))


def _review(c: _Checker, node: yaml.Node, policy: Policy) -> None:
    rules = []
    for n, item in enumerate(c.seq(node, "review")):
        at = f"review[{n}]"
        fields = c.mapping(item, at, ("name", "if", "require"))
        if "name" not in fields or "require" not in fields:
            raise c.fail(item, at, "a review rule needs 'name' and 'require'")
        require = c.mapping(fields["require"], f"{at}.require",
                            ("approvals", "from", "distinct_teams", "exclude_author"))
        approvals = c.scalar(require["approvals"], f"{at}.require.approvals", int) if "approvals" in require else 1
        if approvals < 0:
            raise c.fail(require["approvals"], f"{at}.require.approvals", "must not be negative")
        reviewers = tuple(c.strings(require["from"], f"{at}.require.from")) if "from" in require else ()
        distinct = c.scalar(require["distinct_teams"], f"{at}.require.distinct_teams", bool) \
            if "distinct_teams" in require else False
        if distinct and len([r for r in reviewers if "/" in r]) < approvals:
            raise c.fail(require["distinct_teams"], f"{at}.require.distinct_teams",
                         f"needs at least {approvals} teams (@org/team) in 'from'")
        rules.append(ReviewRule(
            name=c.scalar(fields["name"], f"{at}.name", str),
            condition=c.predicate(fields["if"], f"{at}.if") if "if" in fields else {},
            approvals=approvals, reviewers=reviewers, distinct_teams=distinct,
            exclude_author=c.scalar(require["exclude_author"], f"{at}.require.exclude_author", bool)
            if "exclude_author" in require else True,
            line=item.start_mark.line + 1))
    policy.review = rules


def _tickets(c: _Checker, node: yaml.Node, policy: Policy) -> None:
    fields = c.mapping(node, "tickets", ("required_if", "patterns", "look_in"))
    if "required_if" in fields:
        policy.ticket_required_if = c.predicate(fields["required_if"], "tickets.required_if")
    if "patterns" in fields:
        policy.ticket_patterns = [c.regex(p, f"tickets.patterns[{n}]")
                                  for n, p in enumerate(c.seq(fields["patterns"], "tickets.patterns"))]
    if "look_in" in fields:
        policy.ticket_look_in = tuple(c.scalar(p, f"tickets.look_in[{n}]", str, LOOK_IN)
                                      for n, p in enumerate(c.seq(fields["look_in"], "tickets.look_in")))


def _change_records(c: _Checker, node: yaml.Node, policy: Policy) -> None:
    fields = c.mapping(node, "change_records", ("dir", "required_if", "fields"))
    if "dir" in fields:
        policy.change_records_dir = c.scalar(fields["dir"], "change_records.dir", str).strip("/")
    if "required_if" in fields:
        policy.change_records_required_if = c.predicate(fields["required_if"], "change_records.required_if")
    if "fields" in fields:
        policy.change_record_fields = tuple(c.strings(fields["fields"], "change_records.fields"))


def _limits(c: _Checker, node: yaml.Node, policy: Policy) -> None:
    fields = c.mapping(node, "limits", ("max_file_bytes",))
    if "max_file_bytes" in fields:
        value = c.scalar(fields["max_file_bytes"], "limits.max_file_bytes", int)
        if value <= 0:
            raise c.fail(fields["max_file_bytes"], "limits.max_file_bytes", "must be positive")
        policy.max_file_bytes = value
