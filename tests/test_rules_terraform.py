"""Terraform rules on real changes to realistic modules: what TF-001..004 flag, at which
severity for which scope, and the routine edits they leave alone."""
import pytest

DATABASE_TF = """\
resource "aws_db_instance" "orders" {
  identifier              = "orders-prod"
  engine                  = "postgres"
  engine_version          = "15.4"
  instance_class          = "db.r6g.xlarge"
  allocated_storage       = 500
  storage_encrypted       = true
  db_subnet_group_name    = aws_db_subnet_group.orders.name
  vpc_security_group_ids  = [aws_security_group.db.id]
  backup_retention_period = 14
  deletion_protection     = true
  skip_final_snapshot     = false

  tags = local.tags

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_s3_bucket" "exports" {
  bucket = "acme-orders-exports"
  tags   = local.tags
}

resource "aws_iam_role_policy_attachment" "exporter" {
  role       = aws_iam_role.exporter.name
  policy_arn = aws_iam_policy.exports_write.arn
}

resource "aws_ebs_volume" "journal" {
  count             = 3
  availability_zone = "us-east-1a"
  size              = 200
}
"""

PROVIDERS_TF = """\
terraform {
  required_version = ">= 1.6"
  backend "s3" {
    bucket         = "acme-terraform-state"
    key            = "orders/terraform.tfstate"
    region         = "us-east-1"
    dynamodb_table = "terraform-locks"
  }
}

provider "aws" {
  region = "us-east-1"
  assume_role {
    role_arn = "arn:aws:iam::111111111111:role/terraform-deploy"
  }
}
"""

MODULES_TF = """\
module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "5.1.2"
  name    = "orders"
  cidr    = "10.20.0.0/16"
}

module "service_api" {
  source = "git::https://github.com/acme/tf-modules.git//ecs-service?ref=v1.4.0"
  name   = "api"
}

module "service_worker" {
  source = "git::https://github.com/acme/tf-modules.git//ecs-service?ref=v1.4.0"
  name   = "worker"
}

module "service_cron" {
  source = "git::https://github.com/acme/tf-modules.git//ecs-service?ref=v1.4.0"
  name   = "cron"
}
"""


def findings_after(repo, path, before, after):
    repo.write(path, before)
    repo.commit("base")
    if after is None:
        repo.delete(path)
    else:
        repo.write(path, after)
    return [f for f in repo.check_json()["findings"] if f["rule"].startswith("TF-")]


def summary(found):
    return [(f["rule"], f["severity"], f["line"], f["key"]) for f in found]


# ---------------------------------------------------------------- TF-001 destroy-or-replace
def test_replace_forcing_change_on_a_prod_database_is_an_error(repo):
    found = findings_after(repo, "infra/prod/database.tf", DATABASE_TF,
                           DATABASE_TF.replace('"postgres"', '"aurora-postgresql"'))
    assert summary(found) == [("TF-001", "error", 3, "resource.aws_db_instance.orders.engine")]
    assert "forces replacement" in found[0]["message"] and "stateful" in found[0]["message"]


def test_removed_bucket_and_renamed_bucket(repo):
    after = DATABASE_TF.replace('resource "aws_s3_bucket" "exports"', 'resource "aws_s3_bucket" "exports_v2"')
    found = findings_after(repo, "infra/prod/database.tf", DATABASE_TF, after)
    assert summary(found) == [("TF-001", "error", 21, "resource.aws_s3_bucket.exports")]
    assert "without a `moved` block" in found[0]["message"]


def test_removed_stateful_resource_in_staging_is_a_warning_and_in_dev_a_note(repo):
    after = DATABASE_TF.split('resource "aws_s3_bucket"')[0]
    repo.write("infra/staging/database.tf", DATABASE_TF)
    repo.write("infra/dev/database.tf", DATABASE_TF)
    repo.commit("base")
    repo.write("infra/staging/database.tf", after)
    repo.write("infra/dev/database.tf", after)
    found = [(f["path"], f["rule"], f["severity"], f["key"]) for f in repo.check_json()["findings"]
             if f["rule"].startswith("TF-")]
    assert found == [("infra/dev/database.tf", "TF-001", "info", "resource.aws_ebs_volume.journal"),
                     ("infra/dev/database.tf", "TF-001", "info", "resource.aws_s3_bucket.exports"),
                     ("infra/staging/database.tf", "TF-001", "warning", "resource.aws_ebs_volume.journal"),
                     ("infra/staging/database.tf", "TF-001", "warning", "resource.aws_s3_bucket.exports")]


def test_count_cut_on_volumes_destroys_instances(repo):
    found = findings_after(repo, "infra/prod/database.tf", DATABASE_TF, DATABASE_TF.replace("count             = 3",
                                                                                             "count             = 1"))
    assert summary(found) == [("TF-001", "error", 32, "resource.aws_ebs_volume.journal.count")]
    assert "destroys 2 instance(s)" in found[0]["message"]


def test_moved_block_rename_in_place_change_and_stateless_removal_are_not_flagged(repo):
    after = DATABASE_TF.replace('"aws_s3_bucket" "exports"', '"aws_s3_bucket" "exports_v2"') \
        .replace('resource "aws_iam_role_policy_attachment" "exporter" {\n  role       = aws_iam_role.exporter.name\n'
                 '  policy_arn = aws_iam_policy.exports_write.arn\n}\n', "") \
        .replace('"db.r6g.xlarge"', '"db.r6g.2xlarge"').replace("allocated_storage       = 500",
                                                              "allocated_storage       = 800")
    after += "\nmoved {\n  from = aws_s3_bucket.exports\n  to   = aws_s3_bucket.exports_v2\n}\n"
    assert findings_after(repo, "infra/prod/database.tf", DATABASE_TF, after) == []


def test_engine_moved_behind_a_variable_is_not_judged(repo):
    before = DATABASE_TF.replace('"postgres"', "var.engine")
    assert findings_after(repo, "infra/prod/database.tf", before, before.replace("var.engine", "local.engine")) == []


def test_module_removed_in_prod_is_a_warning(repo):
    after = MODULES_TF.split('module "service_cron"')[0]
    found = findings_after(repo, "infra/prod/services.tf", MODULES_TF, after)
    assert summary(found) == [("TF-001", "warning", 13, "module.service_cron")]


# ---------------------------------------------------------------- TF-002 guard-removed
def test_prevent_destroy_and_deletion_protection_removed_in_prod(repo):
    after = DATABASE_TF.replace("  lifecycle {\n    prevent_destroy = true\n  }\n", "") \
        .replace("deletion_protection     = true", "deletion_protection     = false") \
        .replace("skip_final_snapshot     = false", "skip_final_snapshot     = true")
    found = findings_after(repo, "infra/prod/database.tf", DATABASE_TF, after)
    assert summary(found) == [
        ("TF-002", "warning", 11, "resource.aws_db_instance.orders.deletion_protection"),
        ("TF-002", "warning", 12, "resource.aws_db_instance.orders.skip_final_snapshot"),
        ("TF-002", "warning", 14, "resource.aws_db_instance.orders.lifecycle.prevent_destroy")]


def test_guards_on_module_inputs_variable_defaults_and_force_destroy(repo):
    before = ('module "db" {\n  source              = "terraform-aws-modules/rds/aws"\n  version             = "6.3.1"\n'
              '  deletion_protection = true\n}\n\nvariable "prevent_destroy" {\n  type    = bool\n  default = true\n}\n\n'
              'resource "aws_s3_bucket" "logs" {\n  bucket = "acme-logs"\n}\n')
    after = before.replace("deletion_protection = true", "deletion_protection = false") \
        .replace("default = true", "default = false").replace('bucket = "acme-logs"\n',
                                                              'bucket = "acme-logs"\n  force_destroy = true\n')
    found = findings_after(repo, "infra/prod/logging.tf", before, after)
    assert summary(found) == [("TF-002", "warning", 4, "module.db.deletion_protection"),
                              ("TF-002", "warning", 9, "variable.prevent_destroy.default"),
                              ("TF-002", "warning", 14, "resource.aws_s3_bucket.logs.force_destroy")]


def test_guards_added_or_google_default_are_not_flagged(repo):
    before = ('resource "google_sql_database_instance" "main" {\n  name             = "orders"\n'
              '  database_version = "POSTGRES_15"\n  region           = "europe-west1"\n'
              '  deletion_protection = true\n}\n\nresource "aws_s3_bucket" "logs" {\n  bucket = "acme-logs"\n}\n')
    after = before.replace("  deletion_protection = true\n", "") \
        .replace('bucket = "acme-logs"\n', 'bucket = "acme-logs"\n  lifecycle {\n    prevent_destroy = true\n  }\n')
    assert findings_after(repo, "infra/prod/db.tf", before, after) == []


# ---------------------------------------------------------------- TF-003 wide-module-bump
def test_major_bump_in_prod_root_and_ref_bump_of_a_thrice_used_module(repo):
    after = MODULES_TF.replace('"5.1.2"', '"6.0.0"').replace("?ref=v1.4.0", "?ref=v2.0.0")
    found = findings_after(repo, "terraform/shared/services.tf", MODULES_TF, after)
    # unscoped: only the module used three times is flagged, once per instance
    assert summary(found) == [("TF-003", "warning", 9, "module.service_api.source"),
                              ("TF-003", "warning", 14, "module.service_worker.source"),
                              ("TF-003", "warning", 19, "module.service_cron.source")]
    assert "3 instances" in found[0]["message"]


def test_prod_root_minor_bump_is_flagged_but_patch_bump_is_not(repo):
    found = findings_after(repo, "infra/prod/network.tf", MODULES_TF, MODULES_TF.replace('"5.1.2"', '"5.2.0"'))
    assert summary(found) == [("TF-003", "warning", 3, "module.vpc.version")]


@pytest.mark.parametrize("path,old,new", [
    ("infra/prod/network.tf", '"5.1.2"', '"5.1.3"'),                    # patch bump in prod
    ("infra/prod/network.tf", "?ref=v1.4.0", "?ref=v1.4.2"),           # patch ref bump of a shared module
    ("infra/staging/network.tf", '"5.1.2"', '"6.0.0"'),                 # single instance, not prod
])
def test_routine_module_bumps_are_not_flagged(repo, path, old, new):
    assert findings_after(repo, path, MODULES_TF, MODULES_TF.replace(old, new)) == []


# ---------------------------------------------------------------- TF-004 provider-account-region
def test_provider_region_role_and_backend_changes_in_prod_are_errors(repo):
    after = PROVIDERS_TF.replace('region = "us-east-1"\n  assume_role', 'region = "eu-west-1"\n  assume_role') \
        .replace("111111111111", "222222222222").replace('"orders/terraform.tfstate"', '"orders/prod.tfstate"')
    found = findings_after(repo, "infra/prod/providers.tf", PROVIDERS_TF, after)
    assert summary(found) == [("TF-004", "error", 5, "terraform.backend.s3.key"),
                              ("TF-004", "error", 12, "provider.aws.region"),
                              ("TF-004", "error", 14, "provider.aws.assume_role.role_arn")]
    assert "another region" in found[1]["message"] and "another account" in found[2]["message"]


def test_backend_change_outside_prod_is_a_warning(repo):
    found = findings_after(repo, "infra/staging/providers.tf", PROVIDERS_TF,
                           PROVIDERS_TF.replace('"acme-terraform-state"', '"acme-tf-state-v2"'))
    assert summary(found) == [("TF-004", "warning", 4, "terraform.backend.s3.bucket")]


def test_new_alias_provider_reference_refactor_and_encrypt_flag_are_not_flagged(repo):
    before = PROVIDERS_TF.replace('region = "us-east-1"\n  assume_role', 'region = var.region\n  assume_role')
    after = before.replace("region = var.region", "region = local.region") \
        .replace('    dynamodb_table = "terraform-locks"\n', '    dynamodb_table = "terraform-locks"\n    encrypt        = true\n')
    after += '\nprovider "aws" {\n  alias  = "dr"\n  region = "us-west-2"\n}\n'
    assert findings_after(repo, "infra/prod/providers.tf", before, after) == []


def test_lifecycle_guards_warn_in_staging_and_are_notes_in_dev(repo):
    before = ('resource "aws_lb" "public" {\n  name               = "shop-public"\n  load_balancer_type = "application"\n'
              '  enable_deletion_protection = true\n\n  lifecycle {\n    create_before_destroy = true\n'
              '    ignore_changes        = [tags]\n  }\n}\n')
    after = before.replace("true\n\n", "false\n\n").replace("    create_before_destroy = true\n", "") \
        .replace("[tags]", "all")
    for env in ("staging", "dev"):
        repo.write(f"infra/{env}/lb.tf", before)
    repo.commit("base")
    for env in ("staging", "dev"):
        repo.write(f"infra/{env}/lb.tf", after)
    found = [(f["path"].split("/")[1], f["severity"], f["key"]) for f in repo.check_json()["findings"]
             if f["rule"] == "TF-002"]
    keys = ["resource.aws_lb.public.enable_deletion_protection", "resource.aws_lb.public.lifecycle.create_before_destroy",
            "resource.aws_lb.public.lifecycle.ignore_changes"]
    assert sorted(found) == sorted([("dev", "info", k) for k in keys] + [("staging", "warning", k) for k in keys])


def test_deleting_a_file_with_a_database_is_a_destroy(repo):
    found = findings_after(repo, "infra/prod/database.tf", DATABASE_TF, None)
    assert [(f["rule"], f["severity"], f["key"]) for f in found] == [
        ("TF-001", "error", "resource.aws_db_instance.orders"),
        ("TF-001", "error", "resource.aws_ebs_volume.journal"),
        ("TF-001", "error", "resource.aws_s3_bucket.exports")]
