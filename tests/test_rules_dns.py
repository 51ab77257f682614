"""DNS rules on real changes: DNS-001 (critical records, delegation, external-dns) and DNS-002 (TTL jumps)."""
import json

ROUTE53_TF = """\
resource "aws_route53_zone" "main" {
  name = "shop.example"
}

resource "aws_route53_record" "apex" {
  zone_id = aws_route53_zone.main.zone_id
  name    = "shop.example"
  type    = "A"
  ttl     = 300
  records = ["203.0.113.10"]
}

resource "aws_route53_record" "www" {
  zone_id = aws_route53_zone.main.zone_id
  name    = "www.shop.example"
  type    = "CNAME"
  ttl     = {www_ttl}
  records = ["{www_target}"]
}

resource "aws_route53_record" "api" {
  zone_id = aws_route53_zone.main.zone_id
  name    = "api.shop.example"
  type    = "A"
  ttl     = 60
  records = ["{api_ip}"]
}
"""

ZONE_YAML = """\
# octoDNS zone: shop.example.
'':
  - type: NS
    values:
      - ns-1.awsdns-01.org.
      - ns-2.awsdns-02.net.
  - type: MX
    values:
      - exchange: mx1.mail.example.net.
        preference: 10
  - type: TXT
    value: v=spf1 include:mail.example.net ~all
www:
  type: CNAME
  ttl: 300
  value: shop-lb-1.eu-west-1.elb.amazonaws.com.
api:
  type: A
  ttl: 60
  values:
    - 203.0.113.21
    - 203.0.113.22
"""

SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: storefront
  namespace: shop
  annotations:
    external-dns.alpha.kubernetes.io/hostname: {hosts}
    external-dns.alpha.kubernetes.io/ttl: "{ttl}"
spec:
  type: LoadBalancer
  selector: {{app: storefront}}
  ports:
    - port: 443
      targetPort: 8443
"""


def tf(www_ttl=300, www_target="shop-lb-1.eu-west-1.elb.amazonaws.com", api_ip="203.0.113.20"):
    return ROUTE53_TF.replace("{www_ttl}", str(www_ttl)).replace("{www_target}", www_target) \
        .replace("{api_ip}", api_ip)


def warnings_after(repo, path, before, after):
    repo.write(path, before)
    repo.commit("base")
    repo.write(path, after)
    return [(f["rule"], f["key"]) for f in repo.check_json()["findings"] if f["severity"] != "info"]


def findings_after(repo, path, before, after):
    repo.write(path, before)
    repo.commit("base")
    repo.write(path, after)
    return [f for f in repo.check_json()["findings"] if f["severity"] != "info"]


def test_cname_retarget_in_terraform_is_flagged_at_its_line(repo):
    found = findings_after(repo, "infra/dns/main.tf", tf(), tf(www_target="shop-lb-2.eu-west-1.elb.amazonaws.com"))
    assert [(f["rule"], f["name"], f["line"], f["key"]) for f in found] == [
        ("DNS-001", "dns-critical-record", 18, "resource.aws_route53_record.www.records[0]")]
    assert "CNAME record resource.aws_route53_record.www" in found[0]["message"]


def test_plain_a_record_change_and_small_ttl_change_are_routine(repo):
    # a non-apex A record moving to a new IP and a TTL 300 -> 600 are day-to-day DNS edits
    assert warnings_after(repo, "infra/dns/main.tf", tf(), tf(www_ttl=600, api_ip="203.0.113.30")) == []


def test_apex_record_change_is_flagged_even_for_an_a_record(repo):
    before = tf()
    after = before.replace('records = ["203.0.113.10"]', 'records = ["198.51.100.7"]')
    found = findings_after(repo, "infra/dns/main.tf", before, after)
    assert [(f["rule"], f["key"]) for f in found] == [("DNS-001", "resource.aws_route53_record.apex.records[0]")]
    assert "apex A record" in found[0]["message"]


def test_ttl_jump_terraform(repo):
    found = findings_after(repo, "infra/dns/main.tf", tf(), tf(www_ttl=86400))
    assert [(f["rule"], f["name"], f["line"], f["old"], f["new"]) for f in found] == [
        ("DNS-002", "dns-ttl-jump", 17, 300, 86400)]
    assert "×288" in found[0]["message"]


def test_octodns_zone_apex_ns_and_mx_changes(repo):
    after = ZONE_YAML.replace("ns-2.awsdns-02.net.", "ns1.new-provider.example.").replace(
        "mx1.mail.example.net.", "mx.other-mail.example.")
    found = warnings_after(repo, "dns/zones/shop.example.yaml", ZONE_YAML, after)
    assert found == [("DNS-001", '[""][0].values[1]'), ("DNS-001", '[""][1].values[0].exchange')]


def test_octodns_new_record_and_a_record_edits_are_routine(repo):
    after = ZONE_YAML.replace("    - 203.0.113.22\n", "    - 203.0.113.23\n") + \
        "status:\n  type: CNAME\n  value: status.hosted-status.example.\n"
    assert warnings_after(repo, "dns/zones/shop.example.yaml", ZONE_YAML, after) == []


def test_octodns_ttl_cut_by_more_than_ten(repo):
    after = ZONE_YAML.replace("  ttl: 300\n", "  ttl: 5\n")
    assert warnings_after(repo, "dns/zones/shop.example.yaml", ZONE_YAML, after) == [("DNS-002", "www.ttl")]


def test_route53_record_set_json_mx_deleted(repo):
    sets = {"ResourceRecordSets": [
        {"Name": "shop.example.", "Type": "MX", "TTL": 3600,
         "ResourceRecords": [{"Value": "10 mx1.mail.example.net."}]},
        {"Name": "cdn.shop.example.", "Type": "CNAME", "TTL": 300,
         "ResourceRecords": [{"Value": "d111111abcdef8.cloudfront.net"}]}]}
    after = {"ResourceRecordSets": sets["ResourceRecordSets"][1:]}
    found = findings_after(repo, "dns/records.json", json.dumps(sets, indent=2), json.dumps(after, indent=2))
    assert [f["rule"] for f in found] == ["DNS-001"]
    assert "MX record ResourceRecordSets[0] deleted" in found[0]["message"]


def test_zone_delegation_change_in_terraform(repo):
    before = 'resource "aws_route53_zone" "main" {\n  name              = "shop.example"\n' \
             '  delegation_set_id = "N1PA6795SAMPLE"\n}\n'
    after = before.replace("N1PA6795SAMPLE", "N2QB7806OTHER")
    found = findings_after(repo, "infra/dns/zone.tf", before, after)
    assert [(f["rule"], f["key"]) for f in found] == [("DNS-001", "resource.aws_route53_zone.main.delegation_set_id")]
    assert "delegation" in found[0]["message"]


def test_external_dns_hostname_dropped_and_ttl_jump(repo):
    before = SERVICE.format(hosts="shop.example,www.shop.example", ttl=60)
    after = SERVICE.format(hosts="www.shop.example", ttl=3600)
    found = findings_after(repo, "deploy/prod/storefront-svc.yaml", before, after)
    assert sorted(f["rule"] for f in found) == ["DNS-001", "DNS-002"]
    dns1 = next(f for f in found if f["rule"] == "DNS-001")
    assert "shop.example no longer published" in dns1["message"] and dns1["line"] == 7


def test_external_dns_hostname_added_is_routine(repo):
    before = SERVICE.format(hosts="www.shop.example", ttl=60)
    after = SERVICE.format(hosts="www.shop.example,m.shop.example", ttl=120)
    assert warnings_after(repo, "deploy/prod/storefront-svc.yaml", before, after) == []


def test_record_types_are_a_parameter(repo):
    repo.write(".changegate.yaml", "version: 1\nrules:\n  DNS-001: {params: {types: [NS]}}\n")
    found = findings_after(repo, "infra/dns/main.tf", tf(), tf(www_target="shop-lb-2.eu-west-1.elb.amazonaws.com"))
    assert found == []  # CNAME is no longer critical under this policy


PROVIDERS_TF = """\
resource "google_dns_record_set" "mx" {
  managed_zone = "shop-prod"
  name         = "shop.example."
  type         = "MX"
  ttl          = 3600
  rrdatas      = ["%s"]
}

resource "azurerm_dns_cname_record" "www" {
  name                = "www"
  zone_name           = "shop.example"
  resource_group_name = "dns"
  ttl                 = 300
  record              = "%s"
}

resource "cloudflare_record" "blog" {
  zone_id = var.zone_id
  name    = "blog"
  type    = "CNAME"
  content = "%s"
}
"""


def test_google_azure_and_cloudflare_records(repo):
    before = PROVIDERS_TF % ("10 mx1.mail.example.net.", "lb1.example.net", "shop.ghost.io")
    after = PROVIDERS_TF % ("10 mx2.mail.example.net.", "lb2.example.net", "shop.hashnode.network")
    assert warnings_after(repo, "infra/dns/records.tf", before, after) == [
        ("DNS-001", "resource.google_dns_record_set.mx.rrdatas[0]"),
        ("DNS-001", "resource.azurerm_dns_cname_record.www.record"),
        ("DNS-001", "resource.cloudflare_record.blog.content")]


def test_terraform_zone_destroy_is_reported_once_by_tf001(repo):
    zone = 'resource "aws_route53_zone" "legacy" {\n  name = "old-shop.example"\n}\n'
    keep = 'resource "aws_route53_zone" "main" {\n  name = "shop.example"\n}\n'
    found = warnings_after(repo, "infra/dns/zones.tf", keep + zone, keep)
    assert "DNS-001" not in [rule for rule, _ in found]
