"""Capacity rules on real changes: what CAP-001 and CAP-002 flag, and what they leave alone."""
import pytest

from conftest import deployment

HPA = """\
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: checkout}
spec:
  minReplicas: {min}
  maxReplicas: {max}
"""


def hpa(min_replicas, max_replicas=20):
    return HPA.replace("{min}", str(min_replicas)).replace("{max}", str(max_replicas))


def findings_after(repo, path, before, after):
    repo.write(path, before)
    repo.commit("base")
    repo.write(path, after)
    return repo.check_json()["findings"]


def test_scale_to_zero_is_an_error_at_the_replicas_line(repo):
    found = findings_after(repo, "deploy/prod/checkout.yaml", deployment(6), deployment(0))
    assert len(found) == 1
    f = found[0]
    assert (f["rule"], f["name"], f["severity"], f["line"], f["key"], f["old"], f["new"]) == \
        ("CAP-002", "scale-to-zero", "error", 7, "spec.replicas", 6, 0)
    assert "prod" in f["message"] and f["blast_radius"] in ("high", "critical")


@pytest.mark.parametrize("old,new,flagged", [(6, 3, True), (6, 4, False), (3, 1, True), (2, 1, True), (1, 1, False),
                                             (3, 6, False)])
def test_capacity_drop_threshold(repo, old, new, flagged):
    found = findings_after(repo, "deploy/prod/checkout.yaml", deployment(old), deployment(new))
    assert [f["rule"] for f in found] == (["CAP-001"] if flagged else [])


def test_hpa_min_replicas_drop_and_helm_replica_count(repo):
    repo.write("deploy/prod/hpa.yaml", hpa(4))
    repo.write("charts/checkout/values-prod.yaml", "replicaCount: 8\nimage: {tag: '1.0'}\n")
    repo.commit("base")
    repo.write("deploy/prod/hpa.yaml", hpa(1, max_replicas=2))  # maxReplicas is a ceiling: not CAP-001
    repo.write("charts/checkout/values-prod.yaml", "replicaCount: 0\nimage: {tag: '1.0'}\n")

    found = repo.check_json()["findings"]

    assert [(f["path"], f["rule"], f["key"]) for f in found] == [
        ("charts/checkout/values-prod.yaml", "CAP-002", "replicaCount"),
        ("deploy/prod/hpa.yaml", "CAP-001", "spec.minReplicas")]


def test_max_unavailable_to_100_percent(repo):
    before = "spec:\n  strategy:\n    rollingUpdate: {maxUnavailable: 25%}\n"
    found = findings_after(repo, "deploy/prod/api.yaml", before, before.replace("25%", "100%"))
    assert [(f["rule"], f["key"]) for f in found] == [("CAP-002", "spec.strategy.rollingUpdate.maxUnavailable")]


def test_new_file_with_zero_replicas_is_flagged(repo):
    repo.write("README.md", "x\n")
    repo.commit("base")
    repo.write("deploy/prod/new.yaml", deployment(0))
    assert [f["rule"] for f in repo.check_json()["findings"]] == ["CAP-002"]


def test_json_config_is_diffed_too(repo):
    found = findings_after(repo, "ops/asg.json", '{"asg": {"desired_capacity": 12}}', '{"asg": {"desired_capacity": 2}}')
    assert [(f["rule"], f["key"], f["old"], f["new"]) for f in found] == [("CAP-001", "asg.desired_capacity", 12, 2)]


def test_suppression_with_reason_waives_and_is_itself_reported(repo):
    after = deployment(0).replace("  replicas: 0", "  # changegate: allow CAP-002 -- draining for migration, CHG0012345\n"
                                                   "  replicas: 0")
    found = findings_after(repo, "deploy/prod/checkout.yaml", deployment(6), after)
    by_rule = {f["rule"]: f for f in found}
    assert by_rule["CAP-002"]["suppressed"] == "draining for migration, CHG0012345"
    assert by_rule["SUP-001"]["severity"] == "info"
    assert repo.cli("check").code == 0  # the waived error no longer fails the gate


def test_suppression_without_reason_is_ignored(repo):
    after = deployment(0).replace("  replicas: 0", "  replicas: 0  # changegate: allow CAP-002")
    found = findings_after(repo, "deploy/prod/checkout.yaml", deployment(6), after)
    assert [(f["rule"], f.get("suppressed")) for f in found] == [("CAP-002", None)]


def test_fingerprint_survives_unrelated_edits(repo):
    repo.write("deploy/prod/checkout.yaml", deployment(6))
    repo.commit("base")
    repo.write("deploy/prod/checkout.yaml", deployment(0))
    first = repo.check_json()["findings"][0]["fingerprint"]
    repo.write("deploy/prod/checkout.yaml", "# a comment that shifts every line\n\n" + deployment(0))
    second = repo.check_json()["findings"][0]
    assert second["fingerprint"] == first and second["line"] == 9
