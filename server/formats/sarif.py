"""`--format sarif`: SARIF 2.1.0 as GitHub code scanning accepts it (one run, rules from the
registry, one result per finding). Byte-identical for the same Report: no timestamps, no
absolute paths, insertion-ordered keys."""
from __future__ import annotations

import json
from importlib import metadata
from typing import Any, Optional
from urllib.parse import quote

from analyzers.model import Finding, Report
from analyzers.rules import RULES, RuleMeta

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
TOOL_NAME = "ChangeGate"
FINGERPRINT_KEY = "changegate/v1"  # bump the suffix if Finding.fingerprint ever changes meaning
SRCROOT = "%SRCROOT%"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def render(report: Report) -> str:
    rules, index = _rules(report.findings)
    run: dict[str, Any] = {
        "tool": {"driver": {
            "name": TOOL_NAME,
            "version": _version(),
            "rules": rules,
        }},
        # A description rather than a file:// URI: an absolute path would differ per machine,
        # and a consumer such as code scanning reads the relative URIs against its own checkout.
        "originalUriBaseIds": {SRCROOT: {"description": {"text": "The root of the git repository."}}},
        "results": [_result(f, index) for f in report.findings],
        "properties": {
            "verdict": report.verdict,
            "base": report.base.to_dict(),
            "requirements": [r.to_dict() for r in report.requirements],
            "reviewers": report.to_dict()["reviewers"],
            "ai_share": report.ai_share,
            "ai_hunks": [{"path": f.path, "start": h.start, "end": h.end, **ai}
                         for f in report.files for h, ai in zip(f.hunks, f.hunk_ai) if ai],
        },
    }
    home = _information_uri()
    if home:
        run["tool"]["driver"]["informationUri"] = home
    log = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2, ensure_ascii=False, default=str) + "\n"


def _rules(findings: list[Finding]) -> tuple[list[dict], dict[str, int]]:
    """Every registered rule, sorted by id, so ruleIndex values are stable across runs; a finding
    whose rule is not registered gets a minimal descriptor after them, so its index stays valid."""
    descriptors = [_descriptor(RULES[rid].meta) for rid in sorted(RULES)]
    known = {d["id"] for d in descriptors}
    extra = sorted({(f.rule, f.name) for f in findings if f.rule not in known})
    for rule_id, name in extra:
        if rule_id not in known:
            known.add(rule_id)
            descriptors.append({"id": rule_id, "name": name,
                                "shortDescription": {"text": name},
                                "properties": {"tags": ["changegate"]}})
    return descriptors, {d["id"]: i for i, d in enumerate(descriptors)}


def _descriptor(meta: RuleMeta) -> dict:
    text = [meta.summary, "", meta.rationale]
    markdown = [f"**{meta.summary}**", "", meta.rationale]
    if meta.incident:
        text += ["", f"Incident: {meta.incident}"]
        markdown += ["", f"*Incident:* {meta.incident}"]
    config: dict[str, Any] = {"level": LEVELS.get(meta.severity, "warning")}
    if meta.params:
        config["parameters"] = dict(meta.params)
    return {
        "id": meta.id,
        "name": meta.name,
        "shortDescription": {"text": meta.summary},
        "fullDescription": {"text": meta.rationale},
        "help": {"text": "\n".join(text), "markdown": "\n".join(markdown)},
        "defaultConfiguration": config,
        "properties": {"tags": sorted({"changegate", *meta.kinds})},
    }


def _result(f: Finding, index: dict[str, int]) -> dict:
    start = max(1, f.line or 1)
    end = max(start, f.end_line or start)
    out: dict[str, Any] = {
        "ruleId": f.rule,
        "ruleIndex": index[f.rule],
        "level": LEVELS.get(f.severity, "warning"),
        "message": {"text": f.message},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": artifact_uri(f.path), "uriBaseId": SRCROOT},
            "region": {"startLine": start, "endLine": end},
        }}],
    }
    if f.fingerprint:
        out["partialFingerprints"] = {FINGERPRINT_KEY: f.fingerprint}
    if f.suppressed is not None:
        out["suppressions"] = [{"kind": "inSource", "justification": f.suppressed}]
    out["properties"] = {"key": f.key, "old": f.old, "new": f.new, "blast_radius": f.blast_radius}
    if f.ai is not None:
        out["properties"]["ai"] = f.ai  # the flagged line was written by an assistant
    return out


def artifact_uri(path: str) -> str:
    """A relative URI reference for a repo-relative path. Everything outside the unreserved set is
    percent-encoded: a ':' in the first segment would otherwise read as a scheme, and spaces, '%'
    or newlines are not allowed in a URI at all."""
    return quote(path, safe="/")


def _version() -> str:
    try:
        return metadata.version("changegate")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def _information_uri() -> Optional[str]:
    return _metadata_home()  # only a real home page: SARIF makes the field optional


def _metadata_home() -> Optional[str]:
    try:
        meta = metadata.metadata("changegate")
    except metadata.PackageNotFoundError:
        return None
    urls = [u.split(",", 1)[-1].strip() for u in (meta.get_all("Project-URL") or [])]
    urls.append(meta.get("Home-page") or "")
    return next((u for u in urls if u.startswith(("https://", "http://"))), None)
