"""Kubernetes rules on real changes: immutable fields (K8S-001), weakened health checks (K8S-002)
and image drift (K8S-003) — what they flag, and the routine edits they leave alone."""
import pytest

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout
  namespace: shop
  labels: {app: checkout, team: payments}
spec:
  replicas: 6
  selector:
    matchLabels: {app: checkout}
  template:
    metadata:
      labels: {app: checkout}
    spec:
      containers:
        - name: api
          image: registry.shop.io/shop/checkout:1.8.2
          ports:
            - containerPort: 8080
          readinessProbe:
            httpGet: {path: /ready, port: 8080}
            periodSeconds: 5
            failureThreshold: 3
          livenessProbe:
            httpGet: {path: /live, port: 8080}
            periodSeconds: 10
            timeoutSeconds: 2
          startupProbe:
            httpGet: {path: /live, port: 8080}
            failureThreshold: 30
            periodSeconds: 5
"""

STATEFUL = """\
apiVersion: v1
kind: Service
metadata:
  name: ledger
  namespace: shop
spec:
  clusterIP: None
  selector: {app: ledger}
  ports:
    - port: 5432
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: ledger
  namespace: shop
spec:
  serviceName: ledger
  replicas: 3
  selector:
    matchLabels: {app: ledger}
  template:
    metadata:
      labels: {app: ledger}
    spec:
      containers:
        - name: postgres
          image: postgres:16.2
  volumeClaimTemplates:
    - metadata: {name: data}
      spec:
        accessModes: [ReadWriteOnce]
        storageClassName: gp3
        resources:
          requests: {storage: 100Gi}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: ledger-migrate
  namespace: shop
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: shop/ledger-migrate:4.1.0
"""


def findings_after(repo, path, before, after):
    repo.write(path, before)
    repo.commit("base")
    repo.write(path, after)
    return repo.check_json()["findings"]


def loud(found):
    """What the gate acts on: (rule, line) of every finding at warning or above."""
    return [(f["rule"], f["line"]) for f in found if f["severity"] in ("warning", "error")]


# -- K8S-001 immutable-field ------------------------------------------------------------------
def test_selector_change_on_a_live_deployment_is_flagged_once(repo):
    after = DEPLOYMENT.replace("matchLabels: {app: checkout}", "matchLabels: {app: checkout, track: stable}")
    found = findings_after(repo, "deploy/prod/checkout.yaml", DEPLOYMENT, after)
    assert loud(found) == [("K8S-001", 10)]
    f = found[0]
    assert (f["name"], f["severity"], f["key"]) == ("immutable-field", "warning", "spec.selector.matchLabels.track")
    assert "immutable" in f["message"] and "Deployment shop/checkout" in f["message"]


def test_statefulset_service_and_job_immutable_fields(repo):
    after = (STATEFUL.replace("clusterIP: None", "clusterIP: 10.96.14.2")
             .replace("serviceName: ledger", "serviceName: ledger-headless")
             .replace("storage: 100Gi", "storage: 200Gi")
             .replace("ledger-migrate:4.1.0", "ledger-migrate:4.2.0"))
    found = findings_after(repo, "deploy/prod/ledger.yaml", STATEFUL, after)
    assert [(f["rule"], f["key"]) for f in found if f["rule"] == "K8S-001"] == [
        ("K8S-001", "spec.clusterIP"),
        ("K8S-001", "spec.serviceName"),
        ("K8S-001", "spec.volumeClaimTemplates[0].spec.resources.requests.storage"),
        ("K8S-001", "spec.template.spec.containers[name=migrate].image")]


def test_renamed_object_is_a_delete_and_create(repo):
    after = STATEFUL.replace("  name: ledger\n  namespace: shop\nspec:\n  serviceName",
                             "  name: ledger-v2\n  namespace: shop\nspec:\n  serviceName")
    found = findings_after(repo, "deploy/prod/ledger.yaml", STATEFUL, after)
    assert loud(found) == [("K8S-001", 15)]
    assert "StatefulSet shop/ledger renamed to shop/ledger-v2" in found[0]["message"]
    assert "new, empty volumes" in found[0]["message"]


def test_mutable_edits_and_hook_jobs_are_not_flagged(repo):
    hooked = STATEFUL.replace("  name: ledger-migrate\n", "  name: ledger-migrate\n  annotations:\n"
                                                          "    argocd.argoproj.io/hook: PreSync\n")
    after = (hooked.replace("replicas: 3", "replicas: 5").replace("postgres:16.2", "postgres:16.3")
             .replace("ledger-migrate:4.1.0", "ledger-migrate:4.2.0")  # the hook Job is recreated by Argo CD
             .replace("  selector: {app: ledger}", "  selector: {app: ledger}\n  publishNotReadyAddresses: true"))
    assert loud(findings_after(repo, "deploy/prod/ledger.yaml", hooked, after)) == []


# -- K8S-002 health-check-weakened ------------------------------------------------------------
def test_removed_readiness_probe_is_flagged_at_its_place(repo):
    after = DEPLOYMENT.replace("""          readinessProbe:
            httpGet: {path: /ready, port: 8080}
            periodSeconds: 5
            failureThreshold: 3
""", "")
    found = findings_after(repo, "deploy/prod/checkout.yaml", DEPLOYMENT, after)
    assert loud(found) == [("K8S-002", 18)]  # anchored on the key before it
    assert found[0]["key"] == "spec.template.spec.containers[name=api].readinessProbe"
    assert "traffic before they are ready" in found[0]["message"]


@pytest.mark.parametrize("old,new,flagged", [
    ("timeoutSeconds: 2", "timeoutSeconds: 10", True),    # ×5: a hung pod stays in rotation
    ("timeoutSeconds: 2", "timeoutSeconds: 4", False),    # ×2: tuning
    ("failureThreshold: 3\n", "failureThreshold: 1\n", True),  # ÷3: healthy pods ejected under load
    ("failureThreshold: 30", "failureThreshold: 120", False),  # a startup probe is meant to be patient
])
def test_probe_threshold_moves(repo, old, new, flagged):
    found = findings_after(repo, "deploy/prod/checkout.yaml", DEPLOYMENT, DEPLOYMENT.replace(old, new, 1))
    assert [f["rule"] for f in found if f["severity"] != "info"] == (["K8S-002"] if flagged else [])


def test_threshold_added_to_an_existing_probe_is_compared_to_the_default(repo):
    after = DEPLOYMENT.replace("            periodSeconds: 5\n",
                               "            periodSeconds: 5\n            timeoutSeconds: 5\n")
    found = findings_after(repo, "deploy/prod/checkout.yaml", DEPLOYMENT, after)
    assert loud(found) == [("K8S-002", 23)]
    assert "1 → 5" in found[0]["message"]


def test_deleting_a_whole_deployment_is_not_a_probe_removal(repo):
    repo.write("deploy/prod/worker.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: w}\ndata: {a: '1'}\n")
    found = findings_after(repo, "deploy/prod/checkout.yaml", DEPLOYMENT + "---\n" + STATEFUL, STATEFUL)
    assert [f for f in found if f["rule"] == "K8S-002"] == []


def test_helm_values_probe_removed_and_probe_path_changed(repo):
    values = ("replicaCount: 3\nlivenessProbe:\n  httpGet: {path: /healthz, port: http}\n"
              "readinessProbe:\n  httpGet: {path: /ready, port: http}\n")
    found = findings_after(repo, "charts/checkout/values.yaml", values,
                           values.replace("/healthz", "/live").replace(
                               "readinessProbe:\n  httpGet: {path: /ready, port: http}\n", ""))
    assert loud(found) == [("K8S-002", 2)]  # the removal; a new probe path is not a weakening


# -- K8S-003 image-drift --------------------------------------------------------------------
@pytest.mark.parametrize("new,why", [
    ("registry.shop.io/shop/checkout:latest", "no longer pinned"),
    ("registry.shop.io/shop/checkout", "no longer pinned"),
    ("docker.io/shopmirror/checkout:1.8.2", "registry changes from registry.shop.io to docker.io"),
    ("registry.shop.io/shop/checkout:2.0.0", "major version jump 1.8.2 → 2.0.0"),
])
def test_image_drift(repo, new, why):
    after = DEPLOYMENT.replace("registry.shop.io/shop/checkout:1.8.2", new)
    found = findings_after(repo, "deploy/prod/checkout.yaml", DEPLOYMENT, after)
    assert loud(found) == [("K8S-003", 17)]
    assert why in found[0]["message"]


def test_digest_to_tag_is_drift(repo):
    digest = "sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945"
    pinned = DEPLOYMENT.replace(":1.8.2", "@" + digest)
    found = findings_after(repo, "deploy/prod/checkout.yaml", pinned, DEPLOYMENT)
    assert loud(found) == [("K8S-003", 17)] and "digest becomes a mutable tag" in found[0]["message"]


@pytest.mark.parametrize("new,note", [("1.8.3", False), ("v1.8.2-hotfix1", False), ("1.9.0", True)])
def test_patch_and_minor_bumps_are_routine(repo, new, note):
    after = DEPLOYMENT.replace("checkout:1.8.2", f"checkout:{new}")
    found = findings_after(repo, "deploy/prod/checkout.yaml", DEPLOYMENT, after)
    assert loud(found) == []
    assert [f["severity"] for f in found] == (["info"] if note else [])  # a minor bump is noted, not gated


def test_helm_image_tag_major_jump_and_latest(repo):
    values = "image:\n  repository: ghcr.io/shop/checkout\n  tag: \"2.3.1\"\nsidecar:\n  image:\n    tag: v0.9.1\n"
    after = values.replace("2.3.1", "3.0.0").replace("v0.9.1", "latest")
    found = findings_after(repo, "charts/checkout/values-prod.yaml", values, after)
    assert loud(found) == [("K8S-003", 3), ("K8S-003", 6)]


def test_image_latest_in_a_dev_overlay_is_left_alone(repo):
    after = DEPLOYMENT.replace("checkout:1.8.2", "checkout:latest")
    assert loud(findings_after(repo, "deploy/dev/checkout.yaml", DEPLOYMENT, after)) == []


def test_helm_fullname_override_renames_everything(repo):
    values = "fullnameOverride: checkout\nreplicaCount: 3\n"
    found = findings_after(repo, "charts/checkout/values-prod.yaml", values, values.replace("checkout", "checkout-v2"))
    assert loud(found) == [("K8S-001", 1)] and "renames every object" in found[0]["message"]


def test_load_balancer_health_check_loosened_in_terraform(repo):
    tg = """\
resource "aws_lb_target_group" "api" {
  name     = "api-prod"
  port     = 8080
  protocol = "HTTP"
  vpc_id   = var.vpc_id

  health_check {
    path                = "/healthz"
    interval            = 10
    unhealthy_threshold = 2
    healthy_threshold   = 3
  }
}
"""
    after = tg.replace("unhealthy_threshold = 2", "unhealthy_threshold = 10").replace("/healthz", "/")
    found = findings_after(repo, "infra/prod/lb.tf", tg, after)
    assert loud(found) == [("K8S-002", 10)]
    notes = {f["severity"]: f["message"] for f in found}
    assert "aws_lb_target_group.api is noticed 5× later" in notes["warning"]
    assert "health_check check now asks another endpoint" in notes["info"]  # a new path is only a note
