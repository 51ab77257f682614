"""Environment rules: ENV-001 (a dependency endpoint points elsewhere) and ENV-002 (time semantics)."""

from conftest import rules_of, warnings_after

APP_CONFIG = """\
service: orders
log_level: {log_level}
database:
  url: {db_url}
  pool_size: 20
  port: {db_port}
payments:
  base_url: {payments_url}
  timeout: 30s
delivery:
  timezone: {tz}
  cutoff_hour: {cutoff}
  date_format: "{date_format}"
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: orders
  namespace: shop
spec:
  replicas: 4
  template:
    spec:
      containers:
        - name: api
          image: shop/orders:2.3.1
          env:
            - name: REDIS_HOST
              value: {redis}
            - name: TZ
              value: {tz}
            - name: LOG_LEVEL
              value: info
"""

CRONJOB = """\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly-invoices
spec:
  schedule: "0 2 * * *"
{tz}  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - name: invoices
              image: shop/invoices:1.0.4
"""


def app(log_level="info", db_url="postgres://orders@orders-db-1.prod.internal:5432/orders", db_port=5432,
        payments_url="https://api.payments.example.net/v1", tz="Europe/Berlin", cutoff=14,
        date_format="%d.%m.%Y"):
    return APP_CONFIG.format(log_level=log_level, db_url=db_url, db_port=db_port, payments_url=payments_url,
                             tz=tz, cutoff=cutoff, date_format=date_format)


def deployment(redis="redis-primary.shop.svc.cluster.local", tz="Europe/Berlin"):
    return DEPLOYMENT.format(redis=redis, tz=tz)


# -- ENV-001 ------------------------------------------------------------------------------------
def test_database_host_swap_is_flagged(repo):
    found = warnings_after(repo, "config/prod/orders.yaml", app(),
                           app(db_url="postgres://orders@orders-db-2.prod.internal:5432/orders"))
    assert rules_of(found) == [("ENV-001", "database.url")]
    f = found[0]
    assert (f["name"], f["line"], f["severity"]) == ("endpoint-swap", 4, "warning")
    assert "another host" in f["message"]


def test_dependency_port_change_is_flagged(repo):
    found = warnings_after(repo, "config/prod/orders.yaml", app(), app(db_port=6432))
    assert rules_of(found) == [("ENV-001", "database.port")]


def test_url_path_version_bump_and_log_level_are_routine(repo):
    after = app(log_level="debug", payments_url="https://api.payments.example.net/v2")
    assert warnings_after(repo, "config/prod/orders.yaml", app(), after) == []


def test_staging_endpoint_change_is_routine(repo):
    before = app(db_url="postgres://orders@orders-db-1.staging.internal:5432/orders")
    after = app(db_url="postgres://orders@orders-db-3.staging.internal:5432/orders")
    assert warnings_after(repo, "config/staging/orders.yaml", before, after) == []


def test_prod_pointed_at_staging_is_left_to_trf003(repo):
    found = warnings_after(repo, "config/prod/orders.yaml", app(),
                           app(db_url="postgres://orders@orders-db-1.staging.internal:5432/orders"))
    assert [f["rule"] for f in found] == ["TRF-003"]  # one finding, not two


def test_env_var_host_in_a_deployment_and_dotenv(repo):
    found = warnings_after(repo, "deploy/prod/orders.yaml", deployment(),
                           deployment(redis="redis-cache-eu2.shop.svc.cluster.local"))
    assert rules_of(found) == [("ENV-001", "spec.template.spec.containers[name=api].env[name=REDIS_HOST].value")]
    assert found[0]["message"].startswith("REDIS_HOST:")
    repo.write(".env.production", "DATABASE_URL=postgres://app@db-1.internal/app\nLOG_LEVEL=info\n")
    repo.commit("dotenv")
    repo.write(".env.production", "DATABASE_URL=postgres://app@db-9.internal/app\nLOG_LEVEL=warn\n")
    assert rules_of([f for f in repo.check_json()["findings"] if f["severity"] != "info"]) == [
        ("ENV-001", "DATABASE_URL")]


def test_templated_endpoints_are_not_judged(repo):
    before = app(db_url='"{{ .Values.database.url }}"')
    after = app(db_url='"${DATABASE_URL}"')
    assert warnings_after(repo, "config/prod/orders.yaml", before, after) == []


# -- ENV-002 ------------------------------------------------------------------------------------
def test_time_zone_cutoff_and_date_format_changes(repo):
    after = app(tz="UTC", cutoff=16, date_format="%m/%d/%Y")
    found = warnings_after(repo, "config/prod/orders.yaml", app(), after)
    assert rules_of(found) == [("ENV-002", "delivery.timezone"), ("ENV-002", "delivery.cutoff_hour"),
                               ("ENV-002", "delivery.date_format")]
    assert found[0]["name"] == "time-semantics" and "time zone" in found[0]["message"]
    assert "cut-off" in found[1]["message"] and "date/time format" in found[2]["message"]


def test_tz_env_var_in_deployment(repo):
    found = warnings_after(repo, "deploy/prod/orders.yaml", deployment(), deployment(tz="UTC"))
    assert rules_of(found) == [("ENV-002", "spec.template.spec.containers[name=api].env[name=TZ].value")]
    assert found[0]["message"].startswith("TZ: Europe/Berlin → UTC")


def test_cronjob_gains_a_time_zone(repo):
    found = warnings_after(repo, "deploy/prod/invoices.yaml", CRONJOB.format(tz=""),
                           CRONJOB.format(tz="  timeZone: America/New_York\n"))
    assert rules_of(found) == [("ENV-002", "spec.timeZone")]
    assert "added" in found[0]["message"]


def test_new_cronjob_with_time_zone_is_not_a_change_of_semantics(repo):
    repo.write("README.md", "x\n")
    repo.commit("base")
    repo.write("deploy/prod/invoices.yaml", CRONJOB.format(tz="  timeZone: America/New_York\n"))
    assert [f for f in repo.check_json()["findings"] if f["rule"] == "ENV-002"] == []


def test_staging_time_zone_and_routine_timeout_change(repo):
    assert warnings_after(repo, "config/staging/orders.yaml", app(), app(tz="UTC")) == []
    repo.write("config/prod/orders.yaml", app())
    repo.commit("base 2")
    repo.write("config/prod/orders.yaml", app().replace("timeout: 30s", "timeout: 45s"))
    assert [f for f in repo.check_json()["findings"] if f["severity"] != "info"] == []


def test_thresholds_and_retention_named_like_time_settings_are_not_flagged(repo):
    before = "ranking:\n  score_cutoff: 0.7\n  sla_target: 99.9\nbackups:\n  retention_hours: 12\n"
    after = "ranking:\n  score_cutoff: 0.8\n  sla_target: 99.95\nbackups:\n  retention_hours: 18\n"
    assert [f for f in warnings_after(repo, "config/prod/ranking.yaml", before, after) if f["rule"] == "ENV-002"] == []
