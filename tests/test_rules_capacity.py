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


# -- CAP-003 autoscaler-ceiling ---------------------------------------------------------------
KEDA = """\
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: orders-worker, namespace: shop}
spec:
  scaleTargetRef: {name: orders-worker}
  minReplicaCount: 2
  maxReplicaCount: 10
  triggers:
    - type: kafka
      metadata: {topic: orders, lagThreshold: "50"}
"""


@pytest.mark.parametrize("path,before,after,line", [
    ("deploy/prod/hpa.yaml", hpa(4, 20), hpa(4, 60), 6),
    ("deploy/prod/orders-keda.yaml", KEDA, KEDA.replace("maxReplicaCount: 10", "maxReplicaCount: 50"), 7),
    ("ops/asg.json", '{"asg": {"min_size": 3, "max_size": 10}}', '{"asg": {"min_size": 3, "max_size": 40}}', 1),
])
def test_autoscaler_ceiling_raised_several_fold(repo, path, before, after, line):
    found = findings_after(repo, path, before, after)
    assert [(f["rule"], f["line"], f["severity"]) for f in found] == [("CAP-003", line, "warning")]
    assert "downstream capacity" in found[0]["message"]


@pytest.mark.parametrize("new_max", [30, 40])  # ×1.5 and exactly ×2: sized growth, not flagged
def test_autoscaler_ceiling_raised_modestly_is_routine(repo, new_max):
    assert findings_after(repo, "deploy/prod/hpa.yaml", hpa(4, 20), hpa(4, new_max)) == []


def test_ceiling_below_the_floor_is_reported_once(repo):
    found = findings_after(repo, "deploy/prod/hpa.yaml", hpa(4, 20), hpa(8, 6))
    assert [f["rule"] for f in found] == ["SCH-006"]  # cross-field-inconsistent owns min > max


# -- CAP-004 rollout-guard-weakened -----------------------------------------------------------
ROLLING = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: checkout, namespace: shop}
spec:
  replicas: 8
  minReadySeconds: 20
  progressDeadlineSeconds: 600
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 2
      maxUnavailable: 1
  selector:
    matchLabels: {app: checkout}
  template:
    metadata:
      labels: {app: checkout}
    spec:
      containers:
        - {name: api, image: "shop/checkout:1.4.2"}
"""

PDB = """\
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: checkout, namespace: shop}
spec:
  minAvailable: 6
  selector:
    matchLabels: {app: checkout}
"""


@pytest.mark.parametrize("edit,key,words", [
    (("maxUnavailable: 1", "maxUnavailable: 3"), "spec.strategy.rollingUpdate.maxUnavailable", "1 → 3"),
    (("maxSurge: 2\n      maxUnavailable: 1", "maxSurge: 0\n      maxUnavailable: 2"),
     "spec.strategy.rollingUpdate.maxUnavailable", "maxSurge 0"),
    (("type: RollingUpdate", "type: Recreate"), "spec.strategy.type", "stopped before any new one starts"),
    (("  minReadySeconds: 20\n", ""), "spec.minReadySeconds", "removed (was 20)"),
    (("progressDeadlineSeconds: 600", "progressDeadlineSeconds: 120"), "spec.progressDeadlineSeconds", "600 → 120"),
])
def test_rollout_guard_weakened(repo, edit, key, words):
    found = findings_after(repo, "deploy/prod/checkout.yaml", ROLLING, ROLLING.replace(*edit))
    assert [(f["rule"], f["key"]) for f in found] == [("CAP-004", key)]
    assert words in found[0]["message"]


@pytest.mark.parametrize("env,severity", [("prod", "error"), ("staging", "warning"), ("dev", None)])
def test_recreate_strategy_is_downtime_on_every_prod_deploy(repo, env, severity):
    after = ROLLING.replace("type: RollingUpdate", "type: Recreate")
    found = findings_after(repo, f"deploy/{env}/checkout.yaml", ROLLING, after)
    assert [(f["rule"], f["severity"]) for f in found] == ([("CAP-004", severity)] if severity else [])


def test_rollout_guards_tightened_are_fine(repo):
    after = (ROLLING.replace("maxUnavailable: 1", "maxUnavailable: 0")
             .replace("minReadySeconds: 20", "minReadySeconds: 30")
             .replace("progressDeadlineSeconds: 600", "progressDeadlineSeconds: 900"))
    assert findings_after(repo, "deploy/prod/checkout.yaml", ROLLING, after) == []


def test_pdb_loosened_or_removed(repo):
    repo.write("deploy/prod/pdb.yaml", PDB)
    repo.write("deploy/prod/all.yaml", ROLLING + "---\n" + PDB)
    repo.write("charts/checkout/values-prod.yaml", "podDisruptionBudget:\n  enabled: true\n  minAvailable: 2\n")
    repo.commit("base")
    repo.write("deploy/prod/pdb.yaml", PDB.replace("minAvailable: 6", "minAvailable: 7"))  # tighter: fine
    repo.write("deploy/prod/all.yaml", ROLLING)
    repo.write("charts/checkout/values-prod.yaml", "podDisruptionBudget:\n  enabled: false\n  minAvailable: 2\n")
    found = repo.check_json()["findings"]
    assert [(f["path"], f["rule"], f["line"]) for f in found] == [
        ("charts/checkout/values-prod.yaml", "CAP-004", 2),
        ("deploy/prod/all.yaml", "CAP-004", 20)]
    assert "PodDisruptionBudget shop/checkout removed" in found[1]["message"]


def test_pdb_min_available_lowered(repo):
    found = findings_after(repo, "deploy/prod/pdb.yaml", PDB, PDB.replace("minAvailable: 6", "minAvailable: 2"))
    assert [(f["rule"], f["line"]) for f in found] == [("CAP-004", 5)]
    assert "keeps fewer pods up" in found[0]["message"]


# -- CAP-005 resource-limit-cut ---------------------------------------------------------------
JVM = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: ledger, namespace: shop}
spec:
  replicas: 4
  template:
    spec:
      containers:
        - name: app
          image: shop/ledger:3.2.0
          args: ["-Xms1g", "-Xmx2g", "-jar", "/app/ledger.jar"]
          env:
            - {name: JAVA_TOOL_OPTIONS, value: "-XX:+UseG1GC -Xmx2g"}
            - {name: SPRING_DATASOURCE_HIKARI_MAXIMUMPOOLSIZE, value: "40"}
          resources:
            requests: {cpu: "1", memory: 1Gi}
            limits: {cpu: "2", memory: 3Gi}
"""


def test_resource_limits_and_jvm_heap_cut(repo):
    after = (JVM.replace('"-Xmx2g", "-jar"', '"-Xmx512m", "-jar"').replace("memory: 3Gi", "memory: 1536Mi")
             .replace('cpu: "2"', "cpu: 1500m"))
    found = findings_after(repo, "deploy/prod/ledger.yaml", JVM, after)
    assert [(f["rule"], f["key"]) for f in found] == [
        ("CAP-005", "spec.template.spec.containers[name=app].args[1]"),
        ("CAP-005", "spec.template.spec.containers[name=app].resources.limits.memory")]  # cpu -25%: not flagged
    assert "cuts the JVM heap (-Xmx) of Deployment shop/ledger by 75%" in found[0]["message"]
    assert "by 50%" in found[1]["message"]


def test_pool_size_cut_in_config(repo):
    before = "spring:\n  datasource:\n    hikari:\n      maximum-pool-size: 40\n      minimum-idle: 10\n"
    found = findings_after(repo, "services/ledger/config/application-prod.yaml", before,
                           before.replace("40", "10").replace("minimum-idle: 10", "minimum-idle: 2"))
    assert [(f["rule"], f["key"], f["old"], f["new"]) for f in found] == [
        ("CAP-005", "spring.datasource.hikari.maximum-pool-size", 40, 10)]


def test_resources_raised_or_trimmed_are_routine(repo):
    after = (JVM.replace("memory: 3Gi", "memory: 4Gi").replace('"-Xmx2g", "-jar"', '"-Xmx3g", "-jar"')
             .replace("requests: {cpu: \"1\", memory: 1Gi}", "requests: {cpu: 750m, memory: 1Gi}"))
    assert findings_after(repo, "deploy/prod/ledger.yaml", JVM, after) == []


def test_pool_size_env_var_cut(repo):
    after = JVM.replace('MAXIMUMPOOLSIZE, value: "40"', 'MAXIMUMPOOLSIZE, value: "10"')
    found = findings_after(repo, "deploy/prod/ledger.yaml", JVM, after)
    assert [(f["rule"], f["old"], f["new"]) for f in found] == [("CAP-005", "40", "10")]
    assert "pool size" in found[0]["message"]


def test_policy_sets_thresholds_and_quiet_environments(repo):
    repo.write(".changegate.yaml", "version: 1\nrules:\n  CAP-005: {params: {cut_ratio: 0.8}}\n"
                                   "  CAP-003: {params: {skip_envs: [dev, test, staging]}}\n")
    repo.write("deploy/prod/ledger.yaml", JVM)
    repo.write("deploy/staging/hpa.yaml", hpa(2, 10))
    repo.commit("base")
    repo.write("deploy/prod/ledger.yaml", JVM.replace("memory: 3Gi", "memory: 1Gi"))  # -67%: under the 80% bar
    repo.write("deploy/staging/hpa.yaml", hpa(2, 50))
    assert repo.check_json()["findings"] == []
