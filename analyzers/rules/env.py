"""Environment wiring: where a service connects to (ENV-001) and what time it thinks it is (ENV-002).

Also the key-path helpers the dns/flags/schema rule modules share (segments, setting names,
the environment a key path is scoped to)."""
from __future__ import annotations

import re
from typing import Any, Iterable, Optional
from urllib.parse import urlsplit

from ..classify import DEFAULT_ENVIRONMENTS
from ..configdiff import MISSING
from ..model import ConfigChange
from .registry import FileFacts, Hit, rule
from .traffic import nonprod_marker  # TRF-003's test, so the two rules never report one change twice
from .util import duration, fmt, key_has, last_key, number, where

# -- key-path helpers (shared) ----------------------------------------------------------------
_SEG = re.compile(r'\["((?:[^"\\]|\\.)*)"\]|\[([^\]]*)\]|\.?([^.\[]+)')
_ENV_WORDS = {w: name for name, ws in DEFAULT_ENVIRONMENTS for w in ws}
NONPROD = {"staging", "dev", "test"}


def segments(key: str) -> list[tuple[str, str, int, int]]:
    """`a.b[0]["x.y"][name=api]` -> (kind, text, start, end) with kind key|index|ident."""
    out = []
    for m in _SEG.finditer(key):
        if m.group(1) is not None:
            out.append(("key", m.group(1).replace('\\"', '"'), m.start(), m.end()))
        elif m.group(2) is not None:
            text = m.group(2)
            out.append(("index" if text.isdigit() else "ident", text, m.start(), m.end()))
        else:
            out.append(("key", m.group(3), m.start(), m.end()))
    return out


def parent_key(key: str) -> str:
    """The key path one segment up (`a.b[0]` -> `a.b`, `a` -> ``)."""
    segs = segments(key)
    return key[:segs[-1][2]] if segs else ""


def words(text: str) -> list[str]:
    """`timeZone` -> [time, zone]; `DATABASE_URL` -> [database, url]."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
    return [w for w in re.split(r"[^A-Za-z0-9]+", text.lower()) if w]


def setting_name(key: str) -> str:
    """The name a reader gives the setting: the env var of `env[name=TZ].value`, else the last key."""
    segs = segments(key)
    if len(segs) >= 2 and segs[-1][1] == "value" and segs[-2][0] == "ident" and segs[-2][1].startswith("name="):
        return segs[-2][1][5:]
    return last_key(key)


def label(key: str) -> str:
    """How a message names a setting: `TZ` for `env[name=TZ].value`, else the whole key path."""
    name = setting_name(key)
    return name if name != last_key(key) else key


def key_environment(key: str) -> Optional[str]:
    """An environment named by a whole key segment (`environments.production.on`, `[name=dev]`)."""
    for kind, text, _, _ in segments(key):
        value = text.split("=", 1)[1] if kind == "ident" and "=" in text else text
        env = _ENV_WORDS.get(value.lower())
        if env:
            return env
    return None


def nonprod(facts: FileFacts, key: str = "") -> bool:
    """Whether a change only reaches a non-production environment (by path or key scope)."""
    return facts.environment in NONPROD or key_environment(key) in NONPROD


def existed(facts: FileFacts, change: ConfigChange, key: str) -> bool:
    """Whether `key` (a container of the changed setting) was in the old file."""
    if key == "":
        return bool(facts.file.old_text)
    return facts.value(key, change.document, "old") is not MISSING


# -- ENV-001 ----------------------------------------------------------------------------------
_ENDPOINT_WORDS = {"host", "hostname", "url", "uri", "endpoint", "dsn", "addr", "address", "server", "servers",
                   "broker", "brokers", "bootstrap", "upstream", "connection", "conn"}
_DEPENDENCY_WORDS = {"db", "database", "postgres", "postgresql", "pg", "mysql", "mariadb", "redis", "kafka", "amqp",
                     "rabbitmq", "rabbit", "mq", "queue", "sqs", "nats", "broker", "auth", "oauth", "oidc", "sso",
                     "ldap", "smtp", "mongo", "mongodb", "elasticsearch", "memcached", "cache", "vault", "upstream"}
_NOT_ENDPOINT = {"image", "registry", "repository", "repo", "homepage", "home", "docs", "documentation", "issues",
                 "bugs", "icon", "logo", "badge", "license", "schema", "chart", "source", "sources", "website",
                 "support", "help", "webhook", "dashboard", "link", "links", "avatar", "favicon", "changelog"}
# Inbound routing (Ingress hosts, mesh routes) is not a dependency endpoint: TRF-* judge it.
_ROUTING_KINDS = {"Ingress", "Gateway", "HTTPRoute", "GRPCRoute", "VirtualService", "DestinationRule", "Service",
                  "ServiceEntry", "IngressRoute"}
_ROUTING_SEGMENTS = {"annotations", "labels", "ingress", "hosts", "hostAliases", "tls", "rules", "gateways"}
_TEMPLATED = re.compile(r"\{\{|\$\{|\$\(|%\(|^(var|local|module|data)\.")
_HOSTPORT = re.compile(r"^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9_.\-]*[A-Za-z0-9_\-]))(?::(\d{1,5}))?$")
_PLACEHOLDER = re.compile(r"^(localhost|127\.0\.0\.1|0\.0\.0\.0|::1|changeme|todo|(.*\.)?example(\.(com|org|net))?)$")


def _endpoint_role(key: str) -> Optional[str]:
    """'host' for URL/host settings, 'port' for a dependency's port, None otherwise."""
    if key_has(key, *_ROUTING_SEGMENTS):
        return None
    name = words(setting_name(key))
    if not name or set(name) & _NOT_ENDPOINT:
        return None
    if "port" in name:
        context = set(name) | {w for seg in segments(key)[:-1] for w in words(seg[1])}
        return "port" if context & _DEPENDENCY_WORDS else None
    if set(name) & _ENDPOINT_WORDS or re.search(r"conn(ection)?_?str", setting_name(key), re.I):
        return "host"
    return None


def endpoint(value: Any, bare_ok: bool = False) -> Optional[tuple[tuple[str, ...], tuple[str, ...]]]:
    """(hosts, ports) of a URL, DSN, JDBC URL, libpq string, `host[:port]` or broker list; None
    for anything else (templated values, paths, free text). `bare_ok`: accept a single-label
    host (`redis`), for settings whose name says host."""
    if not isinstance(value, str) or not value.strip() or _TEMPLATED.search(value.strip()):
        return None
    text = value.strip()
    if text.startswith("jdbc:"):
        text = text[5:]
    if "://" in text:
        try:
            netloc = urlsplit(text).netloc
        except ValueError:
            return None
        parts = netloc.rsplit("@", 1)[-1].split(",")
    elif re.search(r"\bhost=", text):
        host = re.search(r"\bhost=(\S+)", text).group(1)
        port = re.search(r"\bport=(\d+)", text)
        parts = [host + (f":{port.group(1)}" if port else "")]
    else:
        parts = [p.strip() for p in text.split(",")]
    hosts, ports = [], []
    for part in parts:
        m = _HOSTPORT.match(part)
        host = m and (m.group(1) or m.group(2))
        if not host or not re.search(r"[A-Za-z0-9]", host):
            return None
        if not bare_ok and "://" not in text and "." not in host and ":" not in host and not m.group(3):
            return None  # a bare word ("primary", "on") is not evidently a host
        hosts.append(host.lower().rstrip("."))
        ports.append(m.group(3) or "")
    return tuple(sorted(hosts)), tuple(sorted(ports))


@rule("ENV-001", "endpoint-swap", "warning",
      summary="A host, URL, port or DSN of a dependency points somewhere else.",
      rationale="A changed endpoint silently rewires a service to another database, queue or identity "
                "provider: the config is valid, the service starts, and it talks to the wrong thing. "
                "Pointing production at a non-production name is TRF-003's finding; this one is any other "
                "host or port swap outside staging/dev.",
      incident="Cloudflare 1.1.1.1 2025-07-14 (production prefixes linked to another service)")
def endpoint_swap(facts: FileFacts, params: dict) -> Iterable[Hit]:
    if "ci" in facts.kinds:
        return
    for change in facts.leaves:
        if change.op not in ("replace", "type_change") or change.doc_kind in _ROUTING_KINDS \
                or nonprod(facts, change.key):
            continue
        role = _endpoint_role(change.key)
        if role == "port":
            old_port, new_port = number(change.old), number(change.new)
            if old_port is not None and new_port is not None and old_port != new_port:
                yield Hit(f"{change.key}: {fmt(change.old)} → {fmt(change.new)} moves {where(facts)} to "
                          f"another port of its dependency", change.line, change=change)
            continue
        if role != "host":
            continue
        bare = bool(set(words(setting_name(change.key))) & {"host", "hostname", "server", "broker", "brokers", "addr"})
        old, new = endpoint(change.old, bare), endpoint(change.new, bare)
        if old is None or new is None or old == new:
            continue
        if old[0] == new[0] and "" in old[1] + new[1]:
            continue  # the default port spelled out (or dropped): same endpoint
        if all(_PLACEHOLDER.match(h) for h in old[0]):
            continue  # wiring a placeholder up for the first time
        marker = nonprod_marker(change.new)
        if facts.environment == "prod" and marker and nonprod_marker(change.old) != marker:
            continue  # TRF-003 reports production pointing at non-production
        what = "host" if old[0] != new[0] else "port"
        yield Hit(f"{label(change.key)}: {fmt(change.old)} → {fmt(change.new)} points {where(facts)} at "
                  f"another {what}; check that it is the same service with the same data",
                  change.line, change=change)


# -- ENV-002 ----------------------------------------------------------------------------------
_CLOCK = re.compile(r"^\s*([01]?\d|2[0-3])[:h][0-5]\d(\s*[-–]\s*([01]?\d|2[0-3])[:h][0-5]\d)?\s*$")
_OFFSET = re.compile(r"^\s*[+-]\d{1,2}(:?\d{2})?\s*$")
_TIME_PATTERN = re.compile(r"%[YmdHMSjbBaAzZIpyfe]|(?<![A-Za-z])(yyyy|YYYY|yy|MM|dd|DD|HH|hh|mm|ss|SSS)(?![A-Za-z])")
_OFFSET_CONTEXT = {"utc", "tz", "time", "timezone", "hour", "hours", "minute", "minutes", "day", "days",
                   "delivery", "dispatch", "clock", "gmt", "zone"}
_TIME_WORDS = {"hour", "hours", "minute", "minutes", "day", "days", "time", "date", "deadline", "window"}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def _time_value(value: Any) -> bool:
    """A clock time, a date, or a duration with its unit (`14:00`, `2024-11-29`, `2h`)."""
    if not isinstance(value, str):
        return False
    return bool(_CLOCK.match(value) or _DATE.match(value.strip()) or
                (duration(value) is not None and number(value) is None))


def _time_setting(key: str, old: Any, new: Any) -> Optional[str]:
    """What kind of time semantics a setting carries, judged by its name (and value shape)."""
    name = setting_name(key)
    w = words(name)
    joined = "".join(w)
    if joined in ("tz", "timezone", "timezoneid", "defaulttimezone", "usertimezone") or "timezone" in w \
            or ("time" in w and "zone" in w) or "tz" in w:
        return "time zone"
    if "locale" in w or name.upper() in ("LANG", "LC_ALL", "LC_TIME"):
        return "locale"
    if {"date", "time", "datetime", "timestamp"} & set(w) and {"format", "fmt", "pattern", "layout"} & set(w):
        return "date/time format"
    if {"format", "fmt"} & set(w) and all(isinstance(v, str) and _TIME_PATTERN.search(v) for v in (old, new)):
        return "date/time format"
    if "offset" in w and (set(w) & _OFFSET_CONTEXT or any(isinstance(v, str) and _OFFSET.match(v) for v in (old, new))):
        return "time offset"
    values = [v for v in (old, new) if v is not None]
    timeish = bool(_TIME_WORDS & set(w)) or bool(values) and all(_time_value(v) for v in values)
    if ("cutoff" in w or ("cut" in w and "off" in w) or "sla" in w) and timeish:
        return "cut-off"  # not `score_cutoff: 0.7` or `sla_target: 99.9`
    if values and not {"timeout", "ttl", "interval", "seconds", "minutes"} & set(w):
        if all(isinstance(v, str) and _CLOCK.match(v) for v in values) and \
                {"hour", "hours", "time", "window", "deadline", "start", "end", "open", "opens", "close",
                 "closes"} & set(w):
            return "clock time"  # "14:00", "09:00-17:00"
        if all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 23 for v in values) and "hour" in w:
            return "cut-off"  # delivery_hour: 14
    return None


@rule("ENV-002", "time-semantics", "warning",
      summary="A time zone, locale, date/time format, time offset or cut-off hour changes.",
      rationale="Time settings fail silently: nothing crashes, every timestamp, cut-off and delivery "
                "window just shifts. These need a reviewer who knows which consumers read them.",
      incident="The motivating incident: an AI-assisted change gave customers wrong delivery times")
def time_semantics(facts: FileFacts, params: dict) -> Iterable[Hit]:
    if "ci" in facts.kinds:
        return
    for change in facts.leaves:
        if change.op not in ("replace", "type_change", "remove", "add") or nonprod(facts, change.key):
            continue
        what = _time_setting(change.key, change.old, change.new)
        if what is None:
            continue
        if change.op == "add":
            segs = segments(change.key)
            env_item = setting_name(change.key) != last_key(change.key)  # env[name=TZ].value: the env list
            owner = change.key[:segs[-2][2]] if env_item else parent_key(change.key)
            if not existed(facts, change, owner):
                continue  # part of something new, not a change to existing behaviour
            text = f"{label(change.key)} added as {fmt(change.new)} (was the default)"
        elif change.op == "remove":
            text = f"{label(change.key)} removed (was {fmt(change.old)}; now the default)"
        else:
            text = f"{label(change.key)}: {fmt(change.old)} → {fmt(change.new)}"
        yield Hit(f"{text}: the {what} of {where(facts)} changes; times shift silently, check every "
                  f"consumer of this setting", change.line, change=change)
