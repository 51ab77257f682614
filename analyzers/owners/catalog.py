"""Backstage `catalog-info.yaml`: the `spec.owner` of a Component owns the directory holding the
file and everything below it (the nearest one wins). Backstage has no tier field, so the tier
comes from a label or annotation the caller names (e.g. `changegate.dev/tier`), with a value
such as "1", "tier-1" or "tier1"."""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Any, Callable, Optional

from . import safe_yaml
from .model import Diagnostics

FILENAMES = ("catalog-info.yaml", "catalog-info.yml")
_TIER = re.compile(r"(?:tier|t)?[\s_-]*(\d{1,3})", re.IGNORECASE)


@dataclass(frozen=True)
class Entity:
    source: str
    name: Optional[str]
    owner: Optional[str]
    owner_line: Optional[int]
    tier: Optional[int]


class Catalogs:
    """Catalog files read on demand; `files` (all catalog paths, when the caller can list the
    tree) spares reading where there is none."""

    def __init__(self, read: Callable[[str], Optional[bytes]], diags: Diagnostics,
                 tier_key: Optional[str] = None, files: Optional[set[str]] = None):
        self._read = read
        self._diags = diags
        self._tier_key = tier_key
        self._files = files
        self._by_dir: dict[str, Optional[Entity]] = {}

    def match(self, path: str) -> Optional[Entity]:
        """The Component of the nearest catalog file above `path` that has one."""
        directory = posixpath.dirname(path)
        while True:
            entity = self._entity(directory)
            if entity is not None:
                return entity
            if not directory:
                return None
            directory = posixpath.dirname(directory)

    def _entity(self, directory: str) -> Optional[Entity]:
        if directory in self._by_dir:
            return self._by_dir[directory]
        entity = None
        for name in FILENAMES:
            path = posixpath.join(directory, name) if directory else name
            if self._files is not None and path not in self._files:
                continue
            data = self._read(path)
            if data is not None:
                entity = self._parse(path, data)
                break
        self._by_dir[directory] = entity
        return entity

    def _parse(self, path: str, data: bytes) -> Optional[Entity]:
        try:
            text, utf8 = safe_yaml.decode(data)
            nodes = safe_yaml.compose_all(text)
            if not utf8:
                self._diags.add(path, None, "not valid UTF-8", "warning", "encoding")
            for node in nodes:
                doc = safe_yaml.to_python(node)
                if isinstance(doc, dict) and doc.get("kind") == "Component":
                    return self._component(path, node, doc)
        except safe_yaml.YamlProblem as exc:
            self._diags.add(path, exc.line, f"{exc.message}; this catalog file is ignored", "error", "invalid-catalog")
        return None

    def _component(self, path: str, node, doc: dict) -> Entity:
        metadata = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
        spec = doc.get("spec") if isinstance(doc.get("spec"), dict) else {}
        owner = spec.get("owner")
        owner_line = safe_yaml.key_line(node, "spec", "owner")
        if not isinstance(owner, str) or not owner.strip():
            self._diags.add(path, owner_line or safe_yaml.key_line(node, "spec"),
                            "Component has no spec.owner", "warning", "invalid-catalog")
            owner = None
        name = metadata.get("name") if isinstance(metadata.get("name"), str) else None
        return Entity(path, name, owner.strip() if owner else None, owner_line, self._tier(path, node, metadata))

    def _tier(self, path: str, node, metadata: dict) -> Optional[int]:
        if not self._tier_key:
            return None
        for field in ("labels", "annotations"):
            table = metadata.get(field)
            if isinstance(table, dict) and self._tier_key in table:
                value = table[self._tier_key]
                tier = parse_tier(value)
                if tier is None:
                    self._diags.add(path, safe_yaml.key_line(node, "metadata", field, self._tier_key),
                                    f"{self._tier_key}: {value!r} is not a tier (expected e.g. 1, tier-1, tier1)",
                                    "warning", "invalid-tier")
                return tier
        return None


def parse_tier(value: Any) -> Optional[int]:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str):
        match = _TIER.fullmatch(value.strip())
        if match:
            return int(match.group(1))
    return None
