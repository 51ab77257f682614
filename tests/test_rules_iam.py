"""Access rules on real policy files: IAM-001 privilege broadening, IAM-002 grants in migrations,
IAM-003 newly public. Each rule fires on the risky transition and stays quiet on routine edits."""
import json

import pytest

from analyzers.check import run_check
from analyzers.configdiff import syntax

needs_hcl = pytest.mark.skipif("hcl" not in syntax.ADAPTERS, reason="the HCL adapter is not installed yet")

POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "ReadArtifacts", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
         "Resource": ["arn:aws:s3:::shop-artifacts", "arn:aws:s3:::shop-artifacts/*"]},
        {"Sid": "Logs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": "*"},
    ],
}
POLICY_PATH = "iam/policies/deployer.json"

CLUSTER_ROLE = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: ci-deployer
rules:
  - apiGroups: ["apps"]
    resources: ["deployments"]
    verbs: ["get", "list", "patch"]
  - apiGroups: [""]
    resources: ["configmaps"]
    verbs: ["get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: ci-deployer
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: ci-deployer
subjects:
  - kind: ServiceAccount
    name: ci
    namespace: ci
"""

SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: checkout
  namespace: shop
spec:
  selector: {app: checkout}
  ports:
    - name: http
      port: 80
      targetPort: 8080
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: checkout
  namespace: shop
spec:
  podSelector: {matchLabels: {app: checkout}}
  ingress:
    - from:
        - ipBlock: {cidr: 10.0.0.0/8}
  egress:
    - to:
        - ipBlock: {cidr: 10.0.0.0/8}
"""

TERRAFORM = """\
data "aws_iam_policy_document" "deploy" {
  statement {
    sid       = "ReadArtifacts"
    actions   = ["s3:GetObject"]
    resources = ["arn:aws:s3:::shop-artifacts/*"]
  }
}

resource "aws_iam_policy" "ci" {
  name = "ci"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = ["ecr:GetAuthorizationToken"]
        Resource = "*"
      },
    ]
  })
}

resource "aws_security_group" "web" {
  name = "web"
  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/8"]
  }
  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["10.0.0.0/8"]
  }
}

resource "google_project_iam_member" "ci" {
  project = var.project
  role    = "roles/viewer"
  member  = "serviceAccount:ci@shop.iam.gserviceaccount.com"
}

resource "aws_s3_bucket_public_access_block" "assets" {
  bucket                  = aws_s3_bucket.assets.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}
"""

MIGRATION = """\
-- feature metadata for bot management
CREATE TABLE IF NOT EXISTS r0.features (
    name String,
    type String
) ENGINE = MergeTree ORDER BY name;
"""


def found(repo, path, before, after, family="IAM-"):
    """(rule, line, key) of the warning+ findings of our family after one edit."""
    if before is not None:
        repo.write(path, before)
    repo.write("README.md", "repo\n")
    repo.commit("base")
    repo.write(path, after)
    report = run_check(str(repo.root), cwd=str(repo.root))
    return [(f.rule, f.line, f.key) for f in report.active_findings()
            if f.rule.startswith(family) and f.severity in ("warning", "error")]


def policy(edit=None) -> str:
    doc = json.loads(json.dumps(POLICY))
    if edit:
        edit(doc["Statement"])
    return json.dumps(doc, indent=2) + "\n"


def edit(text, old, new):
    assert old in text, old
    return text.replace(old, new)


# ---------------------------------------------------------------- IAM-001: AWS policies
def test_service_wildcard_action_in_a_policy_file(repo):
    def widen(stmts):
        stmts[0]["Action"] = ["s3:*"]
    repo.write(POLICY_PATH, policy())
    repo.commit("base")
    repo.write(POLICY_PATH, policy(widen))
    findings = [f for f in repo.check_json()["findings"] if f["rule"] == "IAM-001"]
    assert [(f["severity"], f["line"], f["key"]) for f in findings] == [("warning", 7, "Statement[Sid=ReadArtifacts].Action")]
    assert "ReadArtifacts" in findings[0]["message"] and "s3:* on arn:aws:s3:::shop-artifacts" in findings[0]["message"]


def test_admin_statement_is_called_administrator_access(repo):
    def admin(stmts):
        stmts.append({"Sid": "Break", "Effect": "Allow", "Action": "*", "Resource": "*"})
    repo.write(POLICY_PATH, policy())
    repo.commit("base")
    repo.write(POLICY_PATH, policy(admin))
    message = [f["message"] for f in repo.check_json()["findings"] if f["rule"] == "IAM-001"]
    assert len(message) == 1 and "administrator access" in message[0]


@pytest.mark.parametrize("change", [
    # a new read-only action on a specific bucket ARN
    lambda s: s.append({"Sid": "ReadReports", "Effect": "Allow", "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::shop-reports/*"}),
    lambda s: s[1]["Action"].append("logs:DescribeLogStreams"),   # metadata read on "*"
    lambda s: s.insert(0, {"Sid": "DenyInsecure", "Effect": "Deny", "Action": "*", "Resource": "*",
                           "Condition": {"Bool": {"aws:SecureTransport": "false"}}}),
    lambda s: s.reverse(),                                         # statements reordered
    lambda s: s[0]["Resource"].pop(),                              # narrowed
])
def test_routine_policy_edits_are_not_flagged(repo, change):
    assert found(repo, POLICY_PATH, policy(), policy(change)) == []


def test_cloudformation_principal_star_inline_json_and_admin_managed_policy(repo):
    before = """\
Resources:
  DeployRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {Service: codebuild.amazonaws.com}
            Action: sts:AssumeRole
      ManagedPolicyArns:
        - arn:aws:iam::aws:policy/ReadOnlyAccess
  QueuePolicy:
    Type: AWS::SSM::Parameter
    Properties:
      Value: '{"Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:eu-west-1:1:q"}]}'
"""
    after = edit(before, "Principal: {Service: codebuild.amazonaws.com}", 'Principal: {AWS: "*"}')
    after = edit(after, "policy/ReadOnlyAccess", "policy/AdministratorAccess")
    after = edit(after, '"Action": "sqs:SendMessage"', '"Action": "sqs:*"')
    assert found(repo, "infra/iam.yaml", before, after) == [
        ("IAM-001", 8, "Resources.DeployRole.Properties.AssumeRolePolicyDocument.Statement[0].Principal"),
        ("IAM-001", 11, "Resources.DeployRole.Properties.ManagedPolicyArns[0]"),
        ("IAM-001", 15, "Resources.QueuePolicy.Properties.Value")]


# ---------------------------------------------------------------- IAM-001: Kubernetes RBAC
def test_rbac_wildcard_verbs_and_cluster_admin_binding(repo):
    after = edit(CLUSTER_ROLE, 'verbs: ["get", "list", "patch"]', 'verbs: ["*"]')
    after = edit(after, "  name: ci-deployer\nsubjects:", "  name: cluster-admin\nsubjects:")
    after += "  - kind: Group\n    name: system:authenticated\n    apiGroup: rbac.authorization.k8s.io\n"
    repo.write("deploy/prod/rbac.yaml", CLUSTER_ROLE)
    repo.commit("base")
    repo.write("deploy/prod/rbac.yaml", after)
    findings = [f for f in repo.check_json()["findings"] if f["rule"] == "IAM-001"]
    assert [(f["line"], f["key"]) for f in findings] == [
        (8, "rules[0].verbs"), (20, "roleRef.name"), (25, "subjects[name=system:authenticated]")]
    assert "ClusterRole ci-deployer" in findings[0]["message"]
    assert "cluster-admin" in findings[1]["message"] and "system:authenticated" in findings[2]["message"]


def test_rbac_routine_edits_are_not_flagged(repo):
    before = edit(CLUSTER_ROLE, 'verbs: ["get"]', 'verbs: ["*"]')  # an existing wildcard stays
    after = edit(before, 'verbs: ["get", "list", "patch"]', 'verbs: ["get", "list", "patch", "watch"]')
    after = edit(after, "  name: ci-deployer\nrules:", "  name: ci-deployer\n  labels: {team: platform}\nrules:")
    assert found(repo, "deploy/prod/rbac.yaml", before, after) == []


# ---------------------------------------------------------------- IAM-001: GCP
def test_gcp_editor_role_and_all_users(repo):
    before = "bindings:\n  - role: roles/viewer\n    members:\n      - group:sre@example.com\n"
    after = before + "  - role: roles/editor\n    members:\n      - allUsers\n"
    assert found(repo, "iam/gcp-policy.yaml", before, after) == [
        ("IAM-001", 5, "bindings[1].role"), ("IAM-001", 7, "bindings[1].members[0]")]


def test_gcp_owner_binding_moved_is_not_flagged(repo):
    before = ("bindings:\n  - role: roles/owner\n    members: [group:admins@example.com]\n"
              "  - role: roles/viewer\n    members: [group:sre@example.com]\n")
    after = ("bindings:\n  - role: roles/viewer\n    members: [group:sre@example.com]\n"
             "  - role: roles/owner\n    members: [group:admins@example.com]\n")
    assert found(repo, "iam/gcp-policy.yaml", before, after) == []


# ---------------------------------------------------------------- IAM-001 / IAM-003 / IAM-002: Terraform
@needs_hcl
def test_terraform_policy_document_jsonencode_and_owner_role(repo):
    after = edit(TERRAFORM, 'actions   = ["s3:GetObject"]', 'actions   = ["s3:*"]')
    after = edit(after, '        Resource = "*"\n      },\n',
                 '        Resource = "*"\n      },\n      {\n        Effect   = "Allow"\n'
                 '        Action   = "iam:PassRole"\n        Resource = "*"\n      },\n')
    after = edit(after, "roles/viewer", "roles/owner")
    assert found(repo, "infra/prod/iam.tf", TERRAFORM, after) == [
        ("IAM-001", 4, "data.aws_iam_policy_document.deploy.statement.actions"),
        ("IAM-001", 21, "resource.aws_iam_policy.ci.policy"),
        ("IAM-001", 46, "resource.google_project_iam_member.ci.role")]


@needs_hcl
def test_terraform_public_ingress_and_access_block(repo):
    after = edit(TERRAFORM, '    protocol    = "tcp"\n    cidr_blocks = ["10.0.0.0/8"]',
                 '    protocol    = "tcp"\n    cidr_blocks = ["0.0.0.0/0"]')
    after = edit(after, 'protocol    = "-1"\n    cidr_blocks = ["10.0.0.0/8"]',
                 'protocol    = "-1"\n    cidr_blocks = ["0.0.0.0/0"]')  # egress to anywhere: routine
    after = edit(after, "block_public_policy     = true", "block_public_policy     = false")
    assert found(repo, "infra/prod/edge.tf", TERRAFORM, after) == [
        ("IAM-003", 29, "resource.aws_security_group.web.ingress.cidr_blocks[0]"),
        ("IAM-003", 48, "resource.aws_s3_bucket_public_access_block.assets.block_public_policy")]


@needs_hcl
def test_terraform_database_grant_resource(repo):
    before = ('resource "postgresql_grant" "reader" {\n  database    = "features"\n  role        = "feature_generator"\n'
              '  schema      = "public"\n  object_type = "table"\n  privileges  = ["SELECT"]\n}\n')
    after = edit(before, '["SELECT"]', '["SELECT", "INSERT"]')
    assert found(repo, "infra/db/grants.tf", before, after) == [
        ("IAM-002", 6, "resource.postgresql_grant.reader.privileges[1]")]


# ---------------------------------------------------------------- IAM-002: SQL migrations
def test_grant_and_multiline_revoke_in_a_migration(repo):
    after = MIGRATION + ("\n-- let the generator read the underlying tables\nGRANT SELECT ON r0.* TO feature_generator;\n"
                         "REVOKE INSERT\n    ON default.features\n    FROM feature_generator;\n")
    repo.write("db/migrations/V41__features.sql", MIGRATION)
    repo.commit("base")
    repo.write("db/migrations/V41__features.sql", after)
    findings = [f for f in repo.check_json()["findings"] if f["rule"] == "IAM-002"]
    assert [(f["severity"], f["line"]) for f in findings] == [("warning", 8), ("warning", 9)]
    assert findings[1]["message"].startswith("REVOKE INSERT ON default.features FROM feature_generator:")


def test_new_migration_file_with_a_grant(repo):
    assert found(repo, "db/migrations/V42__grant.sql", None,
                 "ALTER ROLE feature_generator SET search_path = r0, default;\n") == \
        [("IAM-002", 1, "ALTER ROLE feature_generator SET search_path = r0, default")]


@pytest.mark.parametrize("after", [
    MIGRATION + "-- GRANT SELECT ON r0.* TO everyone;\n",                       # a comment
    MIGRATION + "CREATE INDEX idx_type ON r0.features (type);\n",              # no privilege change
])
def test_migrations_without_grants_are_not_flagged(repo, after):
    assert found(repo, "db/migrations/V41__features.sql", MIGRATION, after) == []


def test_grant_moved_within_the_file_is_not_flagged(repo):
    grant = "GRANT SELECT ON r0.features TO feature_generator;\n"
    assert found(repo, "db/migrations/V41__features.sql", grant + MIGRATION, MIGRATION + grant) == []


# ---------------------------------------------------------------- IAM-003: Kubernetes, JSON
def test_service_to_load_balancer_and_open_network_policy(repo):
    after = edit(SERVICE, "spec:\n  selector", "spec:\n  type: LoadBalancer\n  selector")
    after = edit(after, "  ingress:\n    - from:\n        - ipBlock: {cidr: 10.0.0.0/8}",
                 "  ingress:\n    - from:\n        - ipBlock: {cidr: 0.0.0.0/0}")
    after = edit(after, "  egress:\n    - to:\n        - ipBlock: {cidr: 10.0.0.0/8}",
                 "  egress:\n    - to:\n        - ipBlock: {cidr: 0.0.0.0/0}")
    assert found(repo, "deploy/prod/checkout-svc.yaml", SERVICE, after) == [
        ("IAM-003", 7, "spec.type"), ("IAM-003", 23, "spec.ingress[0].from[0].ipBlock.cidr")]


def test_internal_load_balancer_is_not_public(repo):
    after = edit(SERVICE, "  namespace: shop\nspec:\n  selector",
                 '  namespace: shop\n  annotations:\n    service.beta.kubernetes.io/aws-load-balancer-internal: "true"\n'
                 "spec:\n  type: LoadBalancer\n  selector")
    assert found(repo, "deploy/prod/checkout-svc.yaml", SERVICE, after) == []


def test_helm_values_service_type(repo):
    before = "image:\n  tag: 2.14.0\nservice:\n  type: ClusterIP\n  port: 80\n"
    after = edit(before, "type: ClusterIP", "type: NodePort")
    assert found(repo, "charts/checkout/values.yaml", before, after) == [("IAM-003", 4, "service.type")]


def test_bucket_acl_and_public_database(repo):
    before = json.dumps({"Resources": {
        "Assets": {"Type": "AWS::S3::Bucket", "Properties": {"AccessControl": "Private"}},
        "Db": {"Type": "AWS::RDS::DBInstance", "Properties": {"PubliclyAccessible": False}}}}, indent=2)
    after = edit(edit(before, '"Private"', '"PublicRead"'), '"PubliclyAccessible": false', '"PubliclyAccessible": true')
    assert found(repo, "infra/stack.json", before, after) == [
        ("IAM-003", 6, "Resources.Assets.Properties.AccessControl"),
        ("IAM-003", 12, "Resources.Db.Properties.PubliclyAccessible")]


def test_policy_params_extend_the_admin_roles(repo):
    # policy params are scalars: a list parameter is given as one comma-separated string
    repo.write(".changegate.yaml", 'version: 1\nrules:\n  IAM-001:\n    params: {admin_roles: "cluster-admin, admin"}\n')
    after = edit(CLUSTER_ROLE, "  name: ci-deployer\nsubjects:", "  name: admin\nsubjects:")
    assert found(repo, "deploy/prod/rbac.yaml", CLUSTER_ROLE, after) == [("IAM-001", 20, "roleRef.name")]
