"""Traffic rules on real changes: weight shifts (TRF-001), dangling routes (TRF-002), production
pointing at non-production (TRF-003), scope widening (TRF-004) and BGP prefix changes (TRF-005)."""
import pytest

ROUTING = """\
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: reviews
  namespace: shop
spec:
  hosts: [reviews.shop.svc.cluster.local]
  http:
    - name: primary
      route:
        - destination: {host: reviews.shop.svc.cluster.local, subset: v1}
          weight: 90
        - destination: {host: reviews.shop.svc.cluster.local, subset: v2}
          weight: 10
---
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: reviews
  namespace: shop
spec:
  host: reviews.shop.svc.cluster.local
  subsets:
    - name: v1
      labels: {version: v1}
    - name: v2
      labels: {version: v2}
---
apiVersion: v1
kind: Service
metadata:
  name: reviews
  namespace: shop
spec:
  selector: {app: reviews, version: v1}
  ports:
    - port: 9080
"""

ROLLOUT = """\
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: checkout
  namespace: shop
spec:
  replicas: 10
  strategy:
    canary:
      canaryService: checkout-canary
      stableService: checkout-stable
      steps:
        - setWeight: 5
        - pause: {duration: 10m}
        - setWeight: 25
        - pause: {duration: 10m}
        - setWeight: 50
        - pause: {}
"""

ROUTE53 = """\
resource "aws_route53_record" "blue" {
  zone_id        = aws_route53_zone.main.zone_id
  name           = "api.shop.com"
  type           = "CNAME"
  ttl            = 60
  set_identifier = "blue"
  records        = ["blue-lb.shop.com"]

  weighted_routing_policy {
    weight = 90
  }
}

resource "aws_route53_record" "green" {
  zone_id        = aws_route53_zone.main.zone_id
  name           = "api.shop.com"
  type           = "CNAME"
  ttl            = 60
  set_identifier = "green"
  records        = ["green-lb.shop.com"]

  weighted_routing_policy {
    weight = 10
  }
}
"""


def findings_after(repo, path, before, after):
    repo.write(path, before)
    repo.commit("base")
    repo.write(path, after)
    return repo.check_json()["findings"]


def loud(found):
    return [(f["rule"], f["line"]) for f in found if f["severity"] in ("warning", "error")]


# -- TRF-001 traffic-shift --------------------------------------------------------------------
def test_istio_weight_flip_is_flagged_on_the_destination_that_gains(repo):
    after = ROUTING.replace("weight: 90", "weight: 0").replace("weight: 10", "weight: 100")
    found = findings_after(repo, "deploy/prod/reviews.yaml", ROUTING, after)
    assert loud(found) == [("TRF-001", 14)]
    assert "traffic to reviews.shop.svc.cluster.local/v2 goes 10% → 100% in one step" in found[0]["message"]


def test_gradual_weight_step_is_routine(repo):
    after = ROUTING.replace("weight: 90", "weight: 75").replace("weight: 10", "weight: 25")
    assert loud(findings_after(repo, "deploy/prod/reviews.yaml", ROUTING, after)) == []


def test_canary_steps_collapsed(repo):
    after = ROLLOUT.replace("        - setWeight: 5\n        - pause: {duration: 10m}\n"
                            "        - setWeight: 25\n        - pause: {duration: 10m}\n", "")
    found = findings_after(repo, "deploy/prod/checkout-rollout.yaml", ROLLOUT, after)
    trf = [f for f in found if f["rule"] == "TRF-001"]
    assert [(f["line"], f["severity"]) for f in trf] == [(13, "warning")]
    assert "[5, 25, 50] → [50]" in trf[0]["message"] and "50% of the traffic at once" in trf[0]["message"]


def test_canary_pause_lengthened_is_routine(repo):
    after = ROLLOUT.replace("duration: 10m", "duration: 30m")
    assert loud(findings_after(repo, "deploy/prod/checkout-rollout.yaml", ROLLOUT, after)) == []


def test_route53_weighted_records_flip(repo):
    after = ROUTE53.replace("weight = 90", "weight = 0").replace("weight = 10", "weight = 100")
    found = findings_after(repo, "infra/prod/dns.tf", ROUTE53, after)
    trf = [f for f in found if f["rule"] == "TRF-001"]
    assert [f["line"] for f in trf] == [23]  # green's weight: the record that takes the traffic
    assert "weighted records for api.shop.com: traffic to green goes 10% → 100%" in trf[0]["message"]


def test_helm_canary_weight_jump(repo):
    values = "canary:\n  enabled: true\n  weight: 10\n"
    found = findings_after(repo, "charts/checkout/values-prod.yaml", values, values.replace("10", "100"))
    assert loud(found) == [("TRF-001", 3)]


# -- TRF-002 dangling-route -------------------------------------------------------------------
def test_route_to_undefined_subset(repo):
    after = ROUTING.replace("subset: v2}", "subset: v3}")
    found = findings_after(repo, "deploy/prod/reviews.yaml", ROUTING, after)
    assert loud(found) == [("TRF-002", 13)]
    assert "no DestinationRule here defines subset v3 of reviews (defined: v1, v2)" in found[0]["message"]


@pytest.mark.parametrize("env,severity", [("prod", "error"), ("staging", "warning")])
def test_dangling_route_is_an_error_only_in_prod(repo, env, severity):
    found = findings_after(repo, f"deploy/{env}/reviews.yaml", ROUTING, ROUTING.replace("subset: v2}", "subset: v3}"))
    assert [(f["rule"], f["severity"]) for f in found] == [("TRF-002", severity)]


def test_route_to_undefined_service(repo):
    after = ROUTING.replace("{host: reviews.shop.svc.cluster.local, subset: v2}", "{host: reviews-v2, subset: v2}")
    found = findings_after(repo, "deploy/prod/reviews.yaml", ROUTING, after)
    assert loud(found) == [("TRF-002", 13)]


def test_new_subset_defined_with_its_route_is_fine(repo):
    after = (ROUTING.replace("subset: v2}", "subset: v3}")
             .replace("      labels: {version: v2}\n", "      labels: {version: v2}\n    - name: v3\n"
                                                        "      labels: {version: v3}\n"))
    assert loud(findings_after(repo, "deploy/prod/reviews.yaml", ROUTING, after)) == []


def test_route_to_a_host_defined_elsewhere_is_not_judged(repo):
    vs = ROUTING.split("---\n")[0]  # no DestinationRule or Service in this file: nothing to compare with
    after = vs.replace("subset: v2}", "subset: v3}").replace(
        "{host: reviews.shop.svc.cluster.local, subset: v1}", "{host: ratings, subset: v1}")
    assert loud(findings_after(repo, "deploy/prod/reviews-vs.yaml", vs, after)) == []


# -- TRF-003 prod-refs-nonprod ----------------------------------------------------------------
CONFIG = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: checkout-config
  namespace: shop
  annotations:
    runbook: https://wiki.shop.io/runbooks/checkout
data:
  PAYMENTS_URL: https://payments.shop.internal/v2
  DATABASE_HOST: db-primary.prod.internal
  KAFKA_BOOTSTRAP_SERVERS: kafka-1.prod.internal:9092,kafka-2.prod.internal:9092
  FEATURE_SET: latest
"""


@pytest.mark.parametrize("old,new,token", [
    ("https://payments.shop.internal/v2", "https://payments.staging.shop.internal/v2", "staging"),
    ("db-primary.prod.internal", "db-primary.dev.internal", "dev"),
    ("kafka-2.prod.internal:9092", "kafka-test-2.internal:9092", "test"),
    ("db-primary.prod.internal", "localhost", "localhost"),
    ("https://payments.shop.internal/v2", "http://127.0.0.1:8080/v2", "127.0.0.1"),
    ("https://payments.shop.internal/v2", "https://payments.example.com/v2", "example.com"),
])
def test_prod_pointed_at_nonprod(repo, old, new, token):
    found = findings_after(repo, "deploy/prod/checkout-config.yaml", CONFIG, CONFIG.replace(old, new))
    assert [f["rule"] for f in found if f["severity"] != "info"] == ["TRF-003"]
    assert f"`{token}`" in found[0]["message"]


@pytest.mark.parametrize("old,new", [
    ("https://payments.shop.internal/v2", "https://payments-v3.shop.internal/v3"),
    ("db-primary.prod.internal", "db-devops-tools.prod.internal"),  # `devops` is not `dev`
    ("https://wiki.shop.io/runbooks/checkout", "https://wiki.dev.shop.io/runbooks/checkout"),  # a doc link
    ("FEATURE_SET: latest", "FEATURE_SET: contest-2026"),
])
def test_prod_values_without_a_nonprod_token(repo, old, new):
    found = findings_after(repo, "deploy/prod/checkout-config.yaml", CONFIG, CONFIG.replace(old, new))
    assert [f for f in found if f["rule"] == "TRF-003"] == []  # (ENV-001 may still note a new endpoint)


def test_staging_file_may_point_at_staging(repo):
    after = CONFIG.replace("payments.shop.internal", "payments.staging.shop.internal")
    assert loud(findings_after(repo, "deploy/staging/checkout-config.yaml", CONFIG, after)) == []


# -- TRF-004 scope-widening -------------------------------------------------------------------
APPSET = """\
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: edge-proxy, namespace: argocd}
spec:
  generators:
    - clusters:
        selector:
          matchLabels: {env: prod, canary: "true"}
  template:
    metadata: {name: "edge-proxy-{{name}}"}
    spec:
      project: edge
      source: {repoURL: https://git.shop.io/edge.git, path: proxy, targetRevision: main}
      destination: {server: "{{server}}", namespace: edge}
"""


def test_selector_loosened_reaches_every_cluster(repo):
    after = APPSET.replace('matchLabels: {env: prod, canary: "true"}', "matchLabels: {env: prod}")
    found = findings_after(repo, "argocd/prod/edge-proxy.yaml", APPSET, after)
    assert loud(found) == [("TRF-004", 8)]
    assert "loosens a selector" in found[0]["message"]


def test_service_selector_narrowed_is_fine_widened_is_not(repo):
    widened = ROUTING.replace("selector: {app: reviews, version: v1}", "selector: {app: reviews}")
    assert loud(findings_after(repo, "deploy/prod/reviews.yaml", ROUTING, widened)) == [("TRF-004", 35)]
    repo.commit("widen")
    assert loud(findings_after(repo, "deploy/prod/reviews.yaml", widened, ROUTING)) == []


@pytest.mark.parametrize("before,after,flagged", [
    ("regions: [us-east-1]\n", "regions: [us-east-1, eu-west-1, ap-south-1]\n", True),
    ("regions: [us-east-1, eu-west-1]\n", "regions: [us-east-1, eu-west-1, ap-south-1]\n", False),
    ("- hosts: web-canary\n  roles: [nginx]\n", "- hosts: all\n  roles: [nginx]\n", True),
    ("targets: {clusters: [prod-use1]}\n", "targets: {clusters: ['*']}\n", True),
])
def test_target_lists(repo, before, after, flagged):
    found = findings_after(repo, "ops/rollout/edge-config.yaml", before, after)
    assert [f["rule"] for f in found if f["severity"] != "info"] == (["TRF-004"] if flagged else [])


def test_terraform_count_expands(repo):
    before = 'module "edge_nodes" {\n  source = "./modules/edge"\n  count  = 2\n}\n'
    found = findings_after(repo, "infra/prod/edge.tf", before, before.replace("= 2", "= 10"))
    assert [(f["rule"], f["key"]) for f in found if f["rule"] == "TRF-004"] == [("TRF-004", "module.edge_nodes.count")]


# -- TRF-005 bgp-prefix-change ----------------------------------------------------------------
ROUTER = """\
resource "google_compute_router" "edge" {
  name    = "edge"
  network = "prod-net"
  bgp {
    asn            = 64514
    advertise_mode = "CUSTOM"
    advertised_ip_ranges {
      range = "203.0.113.0/24"
    }
    advertised_ip_ranges {
      range = "198.51.100.0/24"
    }
  }
}
"""

METALLB = """\
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: anycast, namespace: metallb-system}
spec:
  ipAddressPools: [anycast-dns]
  communities: ["65535:65282"]
  aggregationLength: 32
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: anycast-dns, namespace: metallb-system}
spec:
  addresses: [192.0.2.53/32]
"""


def test_advertised_range_replaced(repo):
    found = findings_after(repo, "infra/prod/router.tf", ROUTER, ROUTER.replace("198.51.100.0/24", "198.51.100.0/23"))
    assert loud(found) == [("TRF-005", 11)]
    assert "drops 198.51.100.0/24; adds 198.51.100.0/23" in found[0]["message"]


def test_anycast_announce_list_shrinks(repo):
    before = "bird:\n  anycast_prefixes:\n    - 192.0.2.0/24\n    - 2001:db8::/48\n  asn: 64512\n"
    found = findings_after(repo, "ops/edge/prod/bird.yaml", before, before.replace("    - 2001:db8::/48\n", ""))
    assert loud(found) == [("TRF-005", 3)] and "drops 2001:db8::/48" in found[0]["message"]
    assert found[0]["severity"] == "error"  # a withdrawal in production


def test_new_prefix_announced_is_a_warning(repo):
    before = "bird:\n  anycast_prefixes:\n    - 192.0.2.0/24\n  asn: 64512\n"
    found = findings_after(repo, "ops/edge/prod/bird.yaml", before,
                           before.replace("    - 192.0.2.0/24\n", "    - 192.0.2.0/24\n    - 198.51.100.0/24\n"))
    assert [(f["rule"], f["severity"]) for f in found] == [("TRF-005", "warning")]


def test_bgp_unrelated_edits_are_fine(repo):
    router = ROUTER.replace('network = "prod-net"', 'network = "prod-net"\n  region  = "us-central1"')
    assert loud(findings_after(repo, "infra/prod/router.tf", ROUTER, router)) == []
    repo.commit("region")
    pref = METALLB.replace("aggregationLength: 32", "aggregationLength: 32\n  localPref: 100")
    assert loud(findings_after(repo, "deploy/prod/metallb.yaml", METALLB, pref)) == []


def test_affinity_weights_are_not_traffic(repo):
    dep = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: search, namespace: shop}
spec:
  template:
    spec:
      affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
            - weight: 100
              podAffinityTerm:
                labelSelector: {matchLabels: {app: search}}
                topologyKey: kubernetes.io/hostname
            - weight: 10
              podAffinityTerm:
                labelSelector: {matchLabels: {app: search}}
                topologyKey: topology.kubernetes.io/zone
"""
    after = dep.replace("weight: 100", "weight: 20").replace("weight: 10\n", "weight: 90\n")
    assert loud(findings_after(repo, "deploy/prod/search.yaml", dep, after)) == []


def test_policy_step_points(repo):
    repo.write(".changegate.yaml", "version: 1\nrules:\n  TRF-001: {params: {step_points: 50}}\n")
    repo.commit("policy")
    after = ROUTING.replace("weight: 90", "weight: 60").replace("weight: 10", "weight: 40")
    assert loud(findings_after(repo, "deploy/prod/reviews.yaml", ROUTING, after)) == []
