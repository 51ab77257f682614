"""`check --format sarif` on real repositories, validated against the official OASIS SARIF 2.1.0
schema (vendored from oasis-tcs/sarif-spec, Schemata/sarif-schema-2.1.0.json)."""
import json
import re
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from jsonschema import Draft4Validator
from jsonschema.validators import validator_for

from conftest import deployment, mixed_change

SCHEMA_FILE = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}
# RFC 3986 characters a relative reference may hold (percent-encoding included).
URI_REFERENCE = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*")


@pytest.fixture(scope="module")
def schema() -> dict:
    data = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert data["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    assert data["id"].endswith("/sarif-schema-2.1.0.json")
    return data


def sarif(repo, *args: str) -> tuple[dict, str]:
    result = repo.cli("check", "--format", "sarif", "--fail-on", "never", *args)
    assert result.code == 0, result.stderr
    return json.loads(result.stdout), result.stdout


def test_output_validates_against_the_official_schema(repo, schema):
    mixed_change(repo)
    log, _ = sarif(repo)

    cls = validator_for(schema)
    assert cls is Draft4Validator  # the schema declares draft-04
    cls.check_schema(schema)
    errors = sorted(cls(schema, format_checker=cls.FORMAT_CHECKER).iter_errors(log), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)
    assert log["version"] == "2.1.0" and log["$schema"].startswith("https://")
    assert len(log["runs"]) == 1


def test_driver_lists_every_registered_rule_in_stable_order(repo):
    mixed_change(repo)
    log, _ = sarif(repo)
    listed = repo.cli("rules", "--format", "json")
    assert listed.code == 0, listed.stderr
    registry = {r["id"]: r for r in listed.json()}

    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "ChangeGate"
    assert driver["version"] == metadata.version("changegate")
    # Only a real home page from the package metadata; never an invented address.
    assert "informationUri" not in driver or urlsplit(driver["informationUri"]).scheme in ("http", "https")
    ids = [r["id"] for r in driver["rules"]]
    assert ids == sorted(registry)
    for rule in driver["rules"]:
        meta = registry[rule["id"]]
        assert rule["name"] == meta["name"]
        assert rule["shortDescription"]["text"] == meta["summary"]
        assert rule["fullDescription"]["text"] == meta["rationale"]
        assert rule["defaultConfiguration"]["level"] == LEVELS[meta["severity"]]
        assert meta["rationale"] in rule["help"]["text"]
        if meta["incident"]:
            assert meta["incident"] in rule["help"]["text"]
        assert "changegate" in rule["properties"]["tags"]


def test_results_mirror_the_json_report(repo):
    mixed_change(repo)
    log, _ = sarif(repo)
    report = repo.check_json()
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]

    assert [r["ruleId"] for r in results] == [f["rule"] for f in report["findings"]]
    assert {"CAP-002", "CAP-001", "CFG-001", "SUP-001"} <= {r["ruleId"] for r in results}
    for result, finding in zip(results, report["findings"]):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] == LEVELS[finding["severity"]]
        assert result["message"]["text"] == finding["message"]
        assert result["partialFingerprints"] == {"changegate/v1": finding["fingerprint"]}
        [location] = result["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"] == {"uri": finding["path"], "uriBaseId": "%SRCROOT%"}
        region = physical["region"]
        assert region["startLine"] == finding["line"] >= 1
        assert region["endLine"] >= region["startLine"]
        props = result["properties"]
        assert (props["key"], props["old"], props["new"], props["blast_radius"]) == (
            finding["key"], finding["old"], finding["new"], finding["blast_radius"])
        if "suppressed" in finding:
            assert result["suppressions"] == [{"kind": "inSource", "justification": finding["suppressed"]}]
        else:
            assert "suppressions" not in result
    suppressed = [r for r in results if "suppressions" in r]
    assert [r["ruleId"] for r in suppressed] == ["CAP-001"]
    assert suppressed[0]["suppressions"][0]["justification"] == "canary pool shrinks, CHG0012345"
    assert "%SRCROOT%" in run["originalUriBaseIds"]
    assert run["properties"]["verdict"] == report["verdict"]


def test_output_is_byte_identical_across_runs_and_with_output_file(repo, tmp_path):
    mixed_change(repo)
    _, first = sarif(repo)
    _, second = sarif(repo)
    assert first == second

    target = tmp_path / "out" / "changegate.sarif"
    target.parent.mkdir()
    result = repo.cli("check", "--format", "sarif", "--fail-on", "never", "--output", str(target))
    assert result.code == 0, result.stderr
    assert result.stdout == ""
    assert target.read_text(encoding="utf-8") == first


def test_awkward_paths_become_valid_relative_uris(repo, schema):
    repo.write("README.md", "base\n")
    repo.commit("base")
    path = "deploy/prod/a,b:c d%.yaml"
    repo.write(path, "spec:\n  replicas: 0\n")
    log, _ = sarif(repo)

    [result] = [r for r in log["runs"][0]["results"] if r["ruleId"] == "CAP-002"]
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert URI_REFERENCE.fullmatch(uri), uri
    assert urlsplit(uri).scheme == ""  # "a,b:c" must not read as a scheme
    assert unquote(uri) == path
    assert not list(Draft4Validator(schema).iter_errors(log))


def test_clean_tree_has_rules_and_no_results(repo, schema):
    repo.write("deploy/prod/checkout.yaml", deployment())
    repo.commit("base")
    log, _ = sarif(repo)

    run = log["runs"][0]
    assert run["results"] == []
    assert run["tool"]["driver"]["rules"]
    assert not list(Draft4Validator(schema).iter_errors(log))
