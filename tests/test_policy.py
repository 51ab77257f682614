"""Policy loading: strict schema, errors that name the key and the line, read at the base."""
import pytest

from analyzers.errors import PolicyError
from analyzers.policy import load_policy
from conftest import deployment

FULL = """\
version: 1
base: main
ownership: {codeowners: gitlab}
services:
  - {name: checkout, paths: ["services/checkout/**", "deploy/*/checkout*.yaml"], tier: 1, owners: ["@shop/checkout"]}
environments: {prod: ["**/prod/**", "**/production/**"], staging: ["**/staging/**"]}
control_plane: {paths: ["ops/**"], code: [{language: python, calls: ["*.update_auto_scaling_group"]}]}
rules: {CAP-001: {severity: error}, CAP-002: {enabled: false, reason: "handled by admission"}}
review:
  - {name: tier-1 two-person review, if: {tier: [1]}, require: {approvals: 2}}
  - {name: sre for prod control plane, if: {kind: [control-plane], environment: [prod]},
     require: {approvals: 1, from: ["@shop/sre"]}}
  - {name: big, if: {any: [{changed_lines: ">200"}, {not: {environment: [dev]}}]}, require: {approvals: 1}}
tickets:
  required_if: {blast_radius: [high, critical]}
  patterns: ['(?<![A-Z0-9])[A-Z][A-Z0-9]{1,9}-[0-9]+', 'CHG[0-9]{7,}']
  look_in: [branch, commits, change_records]
change_records: {dir: .changes, required_if: {blast_radius: [critical]}, fields: [summary, rollback, validation]}
"""


def test_design_example_policy_loads():
    policy = load_policy(FULL)
    assert policy.base == "main" and policy.codeowners_dialect == "gitlab"
    assert policy.services[0].name == "checkout" and policy.services[0].tier == 1
    assert [r.name for r in policy.review] == ["tier-1 two-person review", "sre for prod control plane", "big"]
    assert policy.rules["CAP-002"].enabled is False and policy.rules["CAP-001"].severity == "error"
    assert policy.change_record_fields == ("summary", "rollback", "validation")


@pytest.mark.parametrize("text,line,words", [
    ("version: 1\nreviw: []\n", 2, "reviw: unknown key"),
    ("version: 2\n", 1, "version: expected one of: 1"),
    ("services:\n  - {name: a, paths: [x], tier: high}\n", 2, "services[0].tier: expected an integer"),
    ("services:\n  - {paths: [x]}\n", 2, "missing required key 'name'"),
    ("tickets:\n  patterns: ['([A-Z']\n", 2, "tickets.patterns[0]: invalid regular expression"),
    ("rules:\n  NOPE-001: {severity: error}\n", 2, "rules.NOPE-001: unknown rule id"),
    ("rules:\n  CAP-001: {severity: fatal}\n", 2, "rules.CAP-001.severity: expected one of: error, warning, info"),
    ("review:\n  - name: x\n    if: {tier: [1], colour: red}\n    require: {approvals: 2}\n", 3,
     "review[0].if.colour: unknown key"),
    ("review:\n  - {name: x, if: {changed_lines: lots}, require: {approvals: 1}}\n", 2, "changed_lines"),
    ("a: &x 1\nb: *x\n", 2, "anchors and aliases are not supported"),
    ("version: 1\n  bad: [\n", 2, "invalid YAML"),
    ("- just\n- a list\n", 1, "expected a mapping"),
])
def test_invalid_policy_names_key_and_line(text, line, words):
    with pytest.raises(PolicyError) as info:
        load_policy(text, ".changegate.yaml")
    assert info.value.line == line, str(info.value)
    assert words in str(info.value)
    assert str(info.value).startswith(f".changegate.yaml:{line}: ")


def test_broken_policy_at_base_exits_2_with_file_and_line(repo):
    repo.write(".changegate.yaml", "version: 1\nservices:\n  - {name: a, paths: [x], tierr: 1}\n")
    repo.write("deploy/prod/checkout.yaml", deployment())
    repo.commit("base")
    repo.write("deploy/prod/checkout.yaml", deployment(replicas=0))

    result = repo.cli("check")

    assert result.code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and ".changegate.yaml:3:" in lines[0] and "tierr" in lines[0]
    assert "Traceback" not in result.stderr


def test_policy_is_read_from_the_base_not_the_change(repo):
    repo.write(".changegate.yaml", "version: 1\nrules: {CAP-002: {severity: error}}\n")
    repo.write("deploy/prod/checkout.yaml", deployment())
    repo.commit("base")
    # The change tries to switch its own gate off: it is judged by the base policy anyway.
    repo.write(".changegate.yaml", "version: 1\nrules: {CAP-002: {enabled: false, reason: trust me}}\n")
    repo.write("deploy/prod/checkout.yaml", deployment(replicas=0))

    report = repo.check_json()

    rules = {f["rule"] for f in report["findings"]}
    assert "CAP-002" in rules
    assert "POL-001" in rules  # and the edit to the policy is itself flagged


def test_policy_can_override_severity_and_disable_rules(repo):
    repo.write(".changegate.yaml", "version: 1\nrules:\n  CAP-002: {severity: warning}\n"
                                   "  CAP-001: {enabled: false, reason: noisy here}\n")
    repo.write("deploy/prod/checkout.yaml", deployment(replicas=6))
    repo.write("deploy/prod/cart.yaml", deployment(replicas=6).replace("checkout", "cart"))
    repo.commit("base")
    repo.write("deploy/prod/checkout.yaml", deployment(replicas=0))
    repo.write("deploy/prod/cart.yaml", deployment(replicas=2).replace("checkout", "cart"))

    report = repo.check_json()

    assert [(f["rule"], f["severity"]) for f in report["findings"]] == [("CAP-002", "warning")]
    assert repo.cli("check").code == 0  # a warning does not fail the default --fail-on error


def test_explicit_policy_file_errors_name_that_file(repo, tmp_path):
    repo.write("a.yaml", "a: 1\n")
    repo.commit("base")
    bad = tmp_path / "strict.yaml"
    bad.write_text("version: 1\nunknown_thing: 1\n")

    result = repo.cli("check", "--policy", str(bad))

    assert result.code == 2 and f"{bad}:2:" in result.stderr


def test_rule_params_keep_lists_and_mappings():
    policy = load_policy("rules:\n  CAP-001: {params: {drop_ratio: 0.3, keys: [replicas, workers], m: {x: 1}}}\n")
    assert dict(policy.rules["CAP-001"].params) == {"drop_ratio": 0.3, "keys": ["replicas", "workers"], "m": {"x": 1}}
