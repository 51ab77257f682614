"""Pipeline rules on real workflow files: what CI-001/002/003 flag, and the routine edits they leave alone."""
import pytest

from analyzers.check import run_check

WORKFLOW = """\
name: Deploy checkout

on:
  push:
    branches: [main]
  workflow_dispatch:

permissions:
  contents: read
  id-token: write

jobs:
  lint:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4.1.1
      - name: Lint
        run: make lint

  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4.1.1
      - uses: actions/cache@v4
        with:
          path: ~/.cache/pip
          key: pip-${{ hashFiles('requirements.txt') }}
      - name: Unit tests
        run: make test
      - name: Notify
        run: ./scripts/notify.sh

  deploy-staging:
    needs: [lint, test]
    runs-on: ubuntu-latest
    environment: staging
    steps:
      - uses: actions/checkout@v4.1.1
      - name: Deploy to staging
        run: |
          terraform init -input=false
          terraform apply plan.tfplan

  deploy-prod:
    needs: [deploy-staging]
    if: github.ref == 'refs/heads/main' && github.event_name == 'push'
    runs-on: ubuntu-latest
    environment:
      name: production
      url: https://shop.example.com
    strategy:
      max-parallel: 1
      matrix:
        region: [eu-west-1, us-east-1, ap-southeast-2]
    steps:
      - uses: actions/checkout@v4.1.1
      - name: Deploy to production
        run: |
          terraform init -input=false
          terraform apply plan.tfplan
"""
WF = ".github/workflows/deploy.yml"

GITLAB = """\
stages:
  - lint
  - test
  - deploy-staging
  - deploy-prod

default:
  image: hashicorp/terraform:1.9

.terraform:
  before_script:
    - terraform init -input=false

fmt:
  stage: lint
  script:
    - terraform fmt -check -recursive

validate:
  stage: test
  extends: .terraform
  script:
    - terraform validate
    - terraform plan -out=plan.tfplan
  artifacts:
    paths: [plan.tfplan]

notify:
  stage: test
  script:
    - ./scripts/notify.sh

deploy_staging:
  stage: deploy-staging
  extends: .terraform
  environment: staging
  script:
    - terraform apply plan.tfplan
  only:
    - main

deploy_prod:
  stage: deploy-prod
  extends: .terraform
  environment:
    name: production
  script:
    - terraform apply plan.tfplan
  rules:
    - if: '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH'
      when: manual
"""
GL = ".gitlab-ci.yml"

ROLLOUT = """\
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: checkout
  namespace: shop
spec:
  replicas: 12
  selector:
    matchLabels: {app: checkout}
  strategy:
    canary:
      canaryService: checkout-canary
      stableService: checkout-stable
      analysis:
        templates:
          - templateName: success-rate
        startingStep: 2
      steps:
        - setWeight: 5
        - pause: {duration: 10m}
        - setWeight: 25
        - pause: {duration: 10m}
        - setWeight: 50
        - pause: {}
  template:
    metadata:
      labels: {app: checkout}
    spec:
      containers:
        - name: api
          image: registry.example.com/shop/checkout:2.14.0
"""


def found(repo, path, before, after, rules=("CI-",)):
    """(rule, severity, line, key) of the warning+ findings of our family after one edit."""
    repo.write(path, before)
    repo.commit("base")
    repo.write(path, after)
    report = run_check(str(repo.root), cwd=str(repo.root))
    return [(f.rule, f.severity, f.line, f.key) for f in report.active_findings()
            if f.rule.startswith(rules) and f.severity in ("warning", "error")]


def edit(text, old, new):
    assert old in text, old
    return text.replace(old, new)


# ---------------------------------------------------------------- routine edits stay quiet
@pytest.mark.parametrize("changes", [
    [("actions/checkout@v4.1.1", "actions/checkout@v4.1.2")],
    [("name: Unit tests", "name: Run unit tests")],
    [("key: pip-${{ hashFiles('requirements.txt') }}", "key: pip-v2-${{ hashFiles('requirements*.txt') }}")],
    [("  workflow_dispatch:\n", "  workflow_dispatch:\n  pull_request:\n    branches: [main]\n")],
    [("        run: ./scripts/notify.sh\n", "        run: ./scripts/notify.sh\n        continue-on-error: true\n")],
    [("needs: [lint, test]", "needs: [test, lint]")],
    [("needs: [deploy-staging]", "needs: [deploy-staging, lint]")],
    [("max-parallel: 1", "max-parallel: 2")],
    [("environment: staging", "environment: staging-eu")],
])
def test_routine_workflow_edits_are_not_flagged(repo, changes):
    after = WORKFLOW
    for old, new in changes:
        after = edit(after, old, new)
    assert found(repo, WF, WORKFLOW, after, rules=("CI-", "IAM-")) == []


def test_routine_gitlab_edits_are_not_flagged(repo):
    after = edit(GITLAB, "hashicorp/terraform:1.9", "hashicorp/terraform:1.9.8")
    after = edit(after, "    - terraform validate\n", "    - terraform validate -no-color\n")
    after = edit(after, "    - ./scripts/notify.sh\n", "    - ./scripts/notify.sh\n  allow_failure: true\n")
    assert found(repo, GL, GITLAB, after) == []


# ---------------------------------------------------------------- CI-001 GitHub Actions
def test_production_environment_removed_is_an_error_at_the_job(repo):
    after = edit(WORKFLOW, "    environment:\n      name: production\n      url: https://shop.example.com\n", "")
    repo.write(WF, WORKFLOW)
    repo.commit("base")
    repo.write(WF, after)
    findings = [f for f in repo.check_json()["findings"] if f["rule"] == "CI-001"]
    assert [(f["severity"], f["key"], f["old"]) for f in findings] == \
        [("error", "jobs.deploy-prod.environment", "production")]
    assert "protection rules" in findings[0]["message"] and findings[0]["line"] == 47  # the removed key is blamed on the line before it


def test_staging_environment_removed_is_a_warning(repo):
    after = edit(WORKFLOW, "    environment: staging\n", "")
    assert found(repo, WF, WORKFLOW, after) == [("CI-001", "warning", 35, "jobs.deploy-staging.environment")]


def test_test_dependency_removed_from_deploy_job(repo):
    after = edit(WORKFLOW, "needs: [lint, test]", "needs: [lint]")
    assert found(repo, WF, WORKFLOW, after) == [("CI-001", "warning", 34, "jobs.deploy-staging.needs")]


def test_dependency_still_required_through_another_job_is_not_flagged(repo):
    # deploy-prod drops its direct `test` need, but still waits on deploy-staging, which needs test
    before = edit(WORKFLOW, "needs: [deploy-staging]", "needs: [deploy-staging, test]")
    assert found(repo, WF, before, WORKFLOW) == []


def test_continue_on_error_on_a_test_step(repo):
    after = edit(WORKFLOW, "        run: make test\n", "        run: make test\n        continue-on-error: true\n")
    assert found(repo, WF, WORKFLOW, after) == [("CI-001", "warning", 30, "jobs.test.steps[2].continue-on-error")]


@pytest.mark.parametrize("condition,flagged", [
    ("github.event_name == 'push'", True),            # the branch guard dropped
    ("always()", True),
    ("", True),                                        # the whole condition removed
    ("github.ref == 'refs/heads/main' && github.event_name == 'push' && !cancelled()", False),
    ("github.ref == 'refs/heads/main'", True),
    ("github.ref == 'refs/heads/main' && github.event_name == 'push' || github.event_name == 'workflow_dispatch'", True),
    ("success() && github.ref == 'refs/heads/main' && github.event_name == 'push'", False),
])
def test_deploy_condition_loosened(repo, condition, flagged):
    old = "    if: github.ref == 'refs/heads/main' && github.event_name == 'push'\n"
    after = edit(WORKFLOW, old, f"    if: {condition}\n" if condition else "")
    result = found(repo, WF, WORKFLOW, after)
    assert [r[0] for r in result] == (["CI-001"] if flagged else [])


def test_branch_guard_removed_from_a_deploy_step(repo):
    before = edit(WORKFLOW, "      - name: Deploy to production\n",
                  "      - name: Deploy to production\n        if: github.ref == 'refs/heads/main'\n")
    after = edit(before, "        if: github.ref == 'refs/heads/main'\n", "")
    assert found(repo, WF, before, after) == [
        ("CI-001", "warning", 57, "jobs.deploy-prod.steps[1].if")]


@pytest.mark.parametrize("command,label", [
    ("terraform apply -auto-approve", "-auto-approve"),
    ("git commit -am 'bump' --no-verify && git push", "--no-verify"),
    ("git commit -am 'release [skip ci]' && git push", "[skip ci]"),
    ("helm upgrade checkout ./chart --force", "--force"),
])
def test_bypass_flag_added_to_a_deploy_command(repo, command, label):
    after = edit(WORKFLOW, "          terraform apply plan.tfplan\n\n  deploy-prod",
                 f"          {command}\n\n  deploy-prod")
    repo.write(WF, WORKFLOW)
    repo.commit("base")
    repo.write(WF, after)
    findings = [f for f in repo.check_json()["findings"] if f["rule"] == "CI-001"]
    assert [(f["line"], f["key"]) for f in findings] == [(42, "jobs.deploy-staging")]
    assert label in findings[0]["message"]


def test_force_with_lease_and_existing_flags_are_not_flagged(repo):
    before = edit(WORKFLOW, "terraform apply plan.tfplan\n\n  deploy-prod",
                  "terraform apply -auto-approve\n\n  deploy-prod")
    after = edit(before, "terraform init -input=false\n          terraform apply -auto-approve",
                 "terraform init -input=false -upgrade\n          git push --force-with-lease\n"
                 "          terraform apply -auto-approve")
    assert found(repo, WF, before, after) == []


# ---------------------------------------------------------------- CI-001 GitLab CI
def test_gitlab_manual_gate_removed_from_prod_deploy_is_an_error(repo):
    after = edit(GITLAB, "      when: manual\n", "")
    assert found(repo, GL, GITLAB, after) == [("CI-001", "error", 49, "deploy_prod.rules")]


def test_gitlab_validation_allowed_to_fail(repo):
    after = edit(GITLAB, "  artifacts:\n", "  allow_failure: true\n  artifacts:\n")
    assert found(repo, GL, GITLAB, after) == [("CI-001", "warning", 25, "validate.allow_failure")]


def test_gitlab_deploy_filters_widened(repo):
    after = edit(GITLAB, "  only:\n    - main\n", "  only:\n    - main\n    - branches\n")
    after = edit(after, "  stage: deploy-prod\n", "  stage: deploy-prod\n  needs: []\n")
    assert found(repo, GL, GITLAB, after) == [
        ("CI-001", "warning", 39, "deploy_staging.only"),
        ("CI-001", "warning", 45, "deploy_prod.needs")]


# ---------------------------------------------------------------- CI-002
def test_canary_steps_collapsed_and_analysis_removed(repo):
    after = edit(ROLLOUT, """        - setWeight: 5
        - pause: {duration: 10m}
        - setWeight: 25
        - pause: {duration: 10m}
        - setWeight: 50
        - pause: {}
""", "        - setWeight: 100\n")
    after = edit(after, "      analysis:\n        templates:\n          - templateName: success-rate\n"
                        "        startingStep: 2\n", "")
    result = found(repo, "deploy/prod/checkout-rollout.yaml", ROLLOUT, after)
    assert [(r[0], r[3]) for r in result] == [("CI-002", "spec.strategy.canary.analysis"),
                                              ("CI-002", "spec.strategy.canary.steps")]


def test_canary_pause_lengthened_is_not_flagged(repo):
    after = edit(ROLLOUT, "        - setWeight: 25\n        - pause: {duration: 10m}",
                 "        - setWeight: 25\n        - pause: {duration: 30m}")
    after = edit(after, "checkout:2.14.0", "checkout:2.14.1")
    assert found(repo, "deploy/prod/checkout-rollout.yaml", ROLLOUT, after) == []


def test_blue_green_auto_promotion_turned_on(repo):
    before = """\
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: search}
spec:
  strategy:
    blueGreen:
      activeService: search-active
      previewService: search-preview
      autoPromotionEnabled: false
"""
    after = edit(before, "autoPromotionEnabled: false", "autoPromotionEnabled: true")
    assert found(repo, "deploy/prod/search.yaml", before, after) == \
        [("CI-002", "warning", 9, "spec.strategy.blueGreen.autoPromotionEnabled")]


def test_deploy_waves_merged_and_matrix_unthrottled(repo):
    after = edit(WORKFLOW, "needs: [deploy-staging]", "needs: [lint, test]")
    after = edit(after, "      max-parallel: 1\n", "")
    assert found(repo, WF, WORKFLOW, after) == [
        ("CI-002", "warning", 45, "jobs.deploy-prod.needs"),
        ("CI-002", "warning", 52, "jobs.deploy-prod.strategy.max-parallel")]


def test_gitlab_deploy_stage_merged(repo):
    after = edit(GITLAB, "  - deploy-staging\n", "")
    after = edit(after, "stage: deploy-staging", "stage: deploy-prod")
    assert found(repo, GL, GITLAB, after) == [("CI-002", "warning", 1, "stages")]


def test_batch_size_to_100_percent(repo):
    before = "rollout:\n  strategy: waves\n  batchSize: 10%\n  regions: [eu-west-1, us-east-1]\n"
    after = edit(before, "batchSize: 10%", "batchSize: 100%")
    assert found(repo, "deploy/prod/rollout.yaml", before, after) == [("CI-002", "warning", 3, "rollout.batchSize")]


# ---------------------------------------------------------------- CI-003
def test_branch_filter_widened_to_every_branch(repo):
    after = edit(WORKFLOW, "branches: [main]", "branches: ['**']")
    assert found(repo, WF, WORKFLOW, after) == [("CI-003", "warning", 5, "on.push.branches")]


def test_push_trigger_without_branch_filter(repo):
    after = edit(WORKFLOW, "  push:\n    branches: [main]\n", "  push:\n")
    assert found(repo, WF, WORKFLOW, after) == [("CI-003", "warning", 4, "on.push")]


def test_new_deploy_workflow_on_every_push(repo):
    repo.write("README.md", "x\n")
    workflow = ("name: release\non: push\njobs:\n  publish:\n    runs-on: ubuntu-latest\n"
                "    steps:\n      - run: helm upgrade --install api ./chart\n")
    assert found(repo, ".github/workflows/release.yml", "", workflow) == [("CI-003", "warning", 2, "on")]


def test_tag_only_push_trigger_is_not_widening(repo):
    after = edit(WORKFLOW, "  push:\n    branches: [main]\n", "  push:\n    tags: ['v*']\n")
    assert found(repo, WF, WORKFLOW, after) == []


def test_deploy_job_gains_production_targets(repo):
    after = edit(WORKFLOW, "    environment: staging\n", "    environment: production\n")
    after = edit(after, "region: [eu-west-1, us-east-1, ap-southeast-2]", "region: [eu-west-1, us-east-1, ap-southeast-2, all]")
    assert found(repo, WF, WORKFLOW, after) == [
        ("CI-003", "warning", 36, "jobs.deploy-staging.environment"),
        ("CI-003", "warning", 54, "jobs.deploy-prod.strategy.matrix.region[3]")]


def test_policy_can_raise_a_pipeline_rule(repo):
    repo.write(".changegate.yaml", "version: 1\nrules:\n  CI-003: {severity: error}\n")
    after = edit(WORKFLOW, "branches: [main]", "branches: ['**']")
    assert found(repo, WF, WORKFLOW, after) == [("CI-003", "error", 5, "on.push.branches")]
