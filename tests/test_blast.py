"""Blast radius: a model a reviewer can predict (additive weights, caps, ceilings), per change and
per file, and the level each finding inherits from the change it judged."""
import re
from pathlib import Path

import pytest

from analyzers.blast import CAPS, CEILINGS, WEIGHTS, level_for, score
from analyzers.engine import analyze_file
from analyzers.model import BlastFactor, FileChange
from analyzers.policy import Policy, load_policy
from conftest import deployment

TIER_1 = 'version: 1\nservices:\n  - {name: checkout, paths: ["**/checkout*"], tier: 1}\n'


def blast(path, old, new, policy=None):
    """The file report and findings of one changed file, analysed in-process."""
    status = "added" if old is None else "deleted" if new is None else "modified"
    return analyze_file(FileChange(path, status, old_text=old, new_text=new),
                        load_policy(policy) if policy else Policy())


def level(path, old, new, policy=None):
    return blast(path, old, new, policy)[0].blast_radius


def factors(radius):
    return {(f.name, f.detail): f.weight for f in radius.factors}


def relabel(text, **labels):
    extra = ", ".join(f"{k}: {v}" for k, v in labels.items())
    return text.replace("  namespace: shop\n", f"  namespace: shop\n  labels: {{{extra}}}\n")


# ------------------------------------------------------------------ the model itself
def test_groups_are_capped_and_the_weights_shown_add_up_to_the_score():
    radius = score([BlastFactor("magnitude", "a", 30), BlastFactor("magnitude", "b", 25),
                    BlastFactor("scope", "prod", 25)])
    assert radius.score == 25 + CAPS["magnitude"] == 75 and radius.level == "critical"
    assert [(f.detail, f.weight) for f in radius.factors] == [("prod", 25), ("a", 30), ("b", 20)]
    assert sum(f.weight for f in radius.factors) == radius.score


@pytest.mark.parametrize("env,most", [("staging", "medium"), ("dev", "low"), ("test", "low"), ("prod", "critical")])
def test_a_non_production_environment_has_a_ceiling(env, most):
    radius = score([BlastFactor("scope", env, 25), BlastFactor("magnitude", "x", 50)], env)
    assert radius.level == most
    assert sum(f.weight for f in radius.factors) == radius.score
    if env in CEILINGS:
        assert radius.factors[-1].detail == f"{env}: at most {most}"


def test_thresholds():
    assert [level_for(s) for s in (0, 24, 25, 49, 50, 74, 75, 100)] == \
        ["low", "low", "medium", "medium", "high", "high", "critical", "critical"]


def test_same_inputs_same_score():
    args = ("deploy/prod/checkout.yaml", deployment(6), deployment(0), TIER_1)
    first, again = blast(*args), blast(*args)
    assert first[0].to_dict() == again[0].to_dict()
    assert [f.to_dict() for f in first[1]] == [f.to_dict() for f in again[1]]


# ------------------------------------------------------------------ monotonic in each factor
def test_prod_is_wider_than_staging_for_the_same_change():
    for old, new in ((deployment(6), deployment(0)), (deployment(6), deployment(6, "1.4.3"))):
        prod = level("deploy/prod/checkout.yaml", old, new)
        staging = level("deploy/staging/checkout.yaml", old, new)
        assert prod.score > staging.score


def test_tier_1_is_more_critical_than_an_untiered_service():
    old, new = deployment(6), deployment(3)
    tiered = level("deploy/prod/checkout.yaml", old, new, TIER_1)
    untiered = level("deploy/prod/cart.yaml", old, new, TIER_1)
    assert tiered.score - untiered.score == WEIGHTS["criticality"]["tier-1"]
    assert ("criticality", "tier 1 service checkout") in factors(tiered)


def test_scale_to_zero_is_bigger_than_a_label_change():
    zero = level("deploy/prod/checkout.yaml", deployment(6), deployment(0))
    label = level("deploy/prod/checkout.yaml", deployment(6), relabel(deployment(6), team="shop"))
    assert (zero.level, label.level) == ("critical", "medium")
    assert ("magnitude", "spec.replicas: 6 → 0 (to zero)") in factors(zero)


def test_a_global_flag_file_reaches_further_than_local_config():
    flags = level("config/flags.yaml", "checkout:\n  new_flow: false\n", "checkout:\n  new_flow: true\n")
    local = level("config/app.yaml", "checkout:\n  new_flow: false\n", "checkout:\n  new_flow: true\n")
    assert flags.score > local.score
    assert ("propagation", "feature-flag file: every instance reads it at once") in factors(flags)


def test_comment_and_formatting_edits_in_prod_are_low():
    before = deployment(6)
    after = "# owned by the checkout team\n" + before.replace("replicas: 6", "replicas: 6   # two zones")
    radius = level("deploy/prod/checkout.yaml", before, after, TIER_1)
    assert (radius.level, radius.score) == ("low", 0)
    assert radius.factors[0].detail.startswith("no semantic change")


# ------------------------------------------------------------------ each factor's signals
def test_a_shared_base_fans_out_to_every_environment():
    helm = level("charts/checkout/values.yaml", "image: {tag: '1.0'}\n", "image: {tag: '1.1'}\n")
    base = level("k8s/base/deployment.yaml", deployment(6), deployment(6, "1.4.3"))
    overlay = level("k8s/overlays/ops/deployment.yaml", deployment(6), deployment(6, "1.4.3"))
    assert factors(helm) == {("scope", "shared by every environment: Helm chart default values"): 25}
    assert factors(base) == {("scope", "shared by every environment: Kustomize base"): 25}
    assert factors(overlay) == {("scope", "no environment: may apply to every environment"): 10}


def test_environment_read_from_the_namespace_when_the_path_has_none():
    prod = deployment(6).replace("namespace: shop", "namespace: shop-prod")
    radius = level("k8s/checkout.yaml", prod, prod.replace("1.4.2", "1.4.3"))
    assert factors(radius) == {("scope", "prod environment (metadata.namespace: shop-prod)"): 25}


def test_targets_and_number_of_objects_widen_the_scope():
    selector = level("deploy/prod/web.yaml", "spec:\n  nodeSelector: {zone: a}\n", "spec:\n  nodeSelector: {zone: b}\n")
    assert ("scope", "targets: spec.nodeSelector.zone decides where it applies") in factors(selector)
    docs = [deployment(2).replace("checkout", name) for name in ("a", "b", "c")]
    many = level("deploy/prod/apps.yaml", "---\n".join(docs), "---\n".join(d.replace("1.4.2", "1.5.0") for d in docs))
    assert ("scope", "touches 3 objects") in factors(many)


def test_propagation_channels():
    edge = "propagation: global\nbuffer: {size: 4}\n"
    marked = level("config/edge.yaml", edge, edge.replace("4", "5"))
    assert ("propagation", "marked propagation: global") in factors(marked)
    kill = level("config/runtime.yaml", "killswitches:\n  waf_rule: false\n", "killswitches:\n  waf_rule: true\n")
    assert ("propagation", "kill switch: killswitches.waf_rule") in factors(kill)
    app = ("apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: shop}\n"
           "spec:\n  source: {targetRevision: v1.2.0}\n  syncPolicy:\n    automated: {prune: true}\n")
    synced = level("apps/shop.yaml", app, app.replace("v1.2.0", "v1.3.0"))
    assert ("propagation", "auto-sync (Argo CD syncPolicy.automated): merged means deployed") in factors(synced)
    rollout = "spec:\n  strategy:\n    canary:\n      steps: [{setWeight: 10}, {pause: {}}]\n"
    collapsed = level("deploy/prod/rollout.yaml", rollout, "spec:\n  strategy: {}\n")
    assert any(n == "propagation" and d.startswith("staged rollout removed") for n, d in factors(collapsed))


def test_a_marker_on_one_entry_makes_only_that_entry_global():
    before = "rules:\n  waf_sqli: {propagation: global, action: log}\n  audit: {action: log}\n"
    marked = level("config/edge.yaml", before, before.replace("action: log}\n  audit", "action: block}\n  audit"))
    local = level("config/edge.yaml", before, before.replace("audit: {action: log}", "audit: {action: block}"))
    assert ("propagation", "marked propagation: global") in factors(marked)
    assert "propagation" not in {n for n, _ in factors(local)}


def test_a_file_moved_without_edits_is_judged_where_it_lands():
    report, _ = analyze_file(FileChange("deploy/prod/checkout.yaml", "renamed", old_path="deploy/staging/checkout.yaml",
                                        old_text=deployment(6), new_text=deployment(6)), Policy())
    assert report.changes == [] and factors(report.blast_radius) == {("scope", "prod environment"): 25}


def test_reversibility_removals_and_guards():
    deleted = level("deploy/prod/checkout.yaml", deployment(6), None)
    assert factors(deleted)[("reversibility", "file deleted")] == 25 and deleted.level == "high"
    service = "---\napiVersion: v1\nkind: Service\nmetadata: {name: checkout, namespace: shop}\nspec: {}\n"
    doc = level("deploy/prod/checkout.yaml", deployment(6) + service, deployment(6))
    assert ("reversibility", "object removed: Service/shop/checkout") in factors(doc)
    key = level("deploy/prod/app.yaml", "app:\n  cache: {ttl: 30}\n", "app: {}\n")
    assert factors(key)[("reversibility", "key removed: app.cache")] == 5
    pv = "kind: PersistentVolume\nspec:\n  persistentVolumeReclaimPolicy: Retain\n"
    guard = level("deploy/prod/pv.yaml", pv, pv.replace("Retain", "Delete"))
    assert ("reversibility", "guard removed: spec.persistentVolumeReclaimPolicy: Retain → Delete") in factors(guard)


def test_magnitude_of_numeric_changes():
    cases = {("30s", "300s"): ("x10", "×10"), ("512Mi", "1Gi"): ("x2", "×2"), ("25%", "30%"): (None, None),
             ("30s", "1m"): ("x2", "×2"), ("'orders'", "''"): ("to-empty", "emptied")}
    for (old, new), (signal, shown) in cases.items():
        radius = level("config/prod/app.yaml", f"http:\n  limit: {old}\n", f"http:\n  limit: {new}\n")
        mags = {d: w for (n, d), w in factors(radius).items() if n == "magnitude" and d.startswith("http.")}
        if signal is None:
            assert mags == {}, (old, new)
        else:
            [(detail, weight)] = mags.items()
            assert shown in detail and weight == WEIGHTS["magnitude"][signal], (old, new, detail)
    port = level("config/prod/app.yaml", "http:\n  port: 8080\n", "http:\n  port: 80\n")
    assert not [n for n, _ in factors(port) if n == "magnitude"]  # a port names, it does not measure


def test_shared_dependencies():
    record = ('resource "aws_route53_record" "api" {\n  name = "api.example.com"\n  ttl  = 300\n'
              '  records = ["lb.example.com"]\n}\n')
    dns = level("infra/prod/dns.tf", record, record.replace("lb.example.com", "lb2.example.com"))
    ingress = ("apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: shop}\n"
               "spec:\n  rules: [{host: a.example.com}]\n")
    lb = level("deploy/prod/ingress.yaml", ingress, ingress.replace("a.example", "b.example"))
    assert ("criticality", "shared dependency: DNS") in factors(dns)
    assert ("criticality", "shared dependency: load balancer") in factors(lb)


# ------------------------------------------------------------------ end to end: the Report
MULTI = deployment(6) + "---\n" + deployment(6).replace("name: checkout", "name: cart")


def test_report_has_file_levels_factors_and_a_level_per_change(repo):
    repo.write("deploy/prod/shop.yaml", MULTI)
    repo.write("deploy/staging/shop.yaml", MULTI)
    repo.commit("base")
    repo.write("deploy/prod/shop.yaml", deployment(0) + "---\n" +
               deployment(6, "1.4.3").replace("name: checkout", "name: cart"))
    repo.write("deploy/staging/shop.yaml", MULTI.replace("1.4.2", "1.4.3"))

    report = repo.check_json()

    files = {f["path"]: f for f in report["files"]}
    prod = files["deploy/prod/shop.yaml"]
    assert prod["blast_radius"]["level"] == "critical" and prod["blast_radius"]["score"] == 75
    assert {"name": "scope", "detail": "prod environment", "weight": 25} in prod["blast_radius"]["factors"]
    assert sum(f["weight"] for f in prod["blast_radius"]["factors"]) == prod["blast_radius"]["score"]
    per_change = {(c["document"], c["key"]): c["blast_radius"] for c in prod["changes"]}
    assert per_change == {("Deployment/shop/checkout", "spec.replicas"): "critical",
                          ("Deployment/shop/cart", "spec.template.spec.containers[name=api].image"): "medium"}
    assert files["deploy/staging/shop.yaml"]["blast_radius"]["level"] == "low"
    [cap2] = [f for f in report["findings"] if f["rule"] == "CAP-002"]
    assert cap2["blast_radius"] == per_change[("Deployment/shop/checkout", "spec.replicas")]


def test_finding_on_a_leaf_of_an_added_subtree_takes_that_change_level(repo):
    before = "spec:\n  replicas: 4\n"
    repo.write("deploy/staging/api.yaml", before)
    repo.commit("base")
    repo.write("deploy/staging/api.yaml", before + "  strategy:\n    rollingUpdate: {maxUnavailable: 100%}\n")

    report = repo.check_json()

    [change] = report["files"][0]["changes"]
    assert change["key"] == "spec.strategy" and change["op"] == "add"
    found = [f for f in report["findings"] if f["key"] == "spec.strategy.rollingUpdate.maxUnavailable"]
    assert found and all(f["blast_radius"] == change["blast_radius"] for f in found)


def test_a_finding_without_a_change_takes_the_file_level(repo):
    repo.write("deploy/prod/api.yaml", "spec:\n  replicas: 4\n")
    repo.commit("base")
    repo.write("deploy/prod/api.yaml", "spec:\n  replicas: [4\n")

    report = repo.check_json()

    [cfg] = [f for f in report["findings"] if f["rule"] == "CFG-001"]
    assert cfg["blast_radius"] == report["files"][0]["blast_radius"]["level"] == "medium"


def test_high_blast_asks_for_a_ticket_and_a_comment_edit_does_not(repo):
    repo.write("deploy/prod/checkout.yaml", deployment(6))
    repo.commit("base")
    repo.write("deploy/prod/checkout.yaml", "# checkout: two zones\n" + deployment(6))
    quiet = repo.check_json()
    repo.write("deploy/prod/checkout.yaml", deployment(0))
    loud = repo.check_json()

    def ticket(report):
        return next(r for r in report["requirements"] if r["kind"] == "ticket")["required"]

    assert (quiet["files"][0]["blast_radius"]["level"], ticket(quiet), quiet["verdict"]) == ("low", False, "clear")
    assert loud["files"][0]["blast_radius"]["level"] == "critical" and ticket(loud)
    record = next(r for r in loud["requirements"] if r["kind"] == "change-record")
    assert record["required"] is True


# ------------------------------------------------------------------ the documentation matches the code
def test_docs_list_every_signal_with_its_weight_and_every_cap():
    doc = (Path(__file__).parent.parent / "docs" / "blast-radius.md").read_text(encoding="utf-8")
    for group, table in WEIGHTS.items():
        assert re.search(rf"\|\s*\*\*{group}\*\*\s*\|\s*{CAPS[group]}\s*\|", doc), group
        for signal, weight in table.items():
            assert re.search(rf"\|\s*`{signal}`\s*\|\s*{weight}\s*\|", doc), signal
    for env, ceiling in CEILINGS.items():
        assert re.search(rf"\|\s*{env}\s*\|\s*{ceiling}\s*\|", doc), env
