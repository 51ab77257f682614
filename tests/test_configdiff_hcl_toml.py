"""Semantic diff of Terraform/HCL and TOML: key paths, ops, values, lines, and formatting-only
edits (`terraform fmt`, comments, reordering) that must read as no change at all."""
from analyzers.classify import config_language
from analyzers.configdiff import diff_config
from analyzers.configdiff.syntax import MAP, SEQ, adapter_for

MAIN_TF = """\
terraform {
  required_version = ">= 1.5"
  backend "s3" {
    bucket = "acme-tf-state"
    key    = "orders/prod.tfstate"
    region = "us-east-1"
  }
}

provider "aws" {
  region = var.region
}

locals {
  env  = "prod"
  tags = { Team = "orders", Env = local.env }
}

resource "aws_db_instance" "orders" {
  identifier        = "orders-prod"
  engine            = "postgres"
  instance_class    = "db.r6g.large"
  allocated_storage = 200
  tags              = merge(local.tags, { Name = "orders-${local.env}" })

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_security_group" "db" {
  name = "orders-db"
  ingress {
    from_port   = 5432
    to_port     = 5432
    cidr_blocks = ["10.0.0.0/16"]
  }
  ingress {
    from_port   = 22
    to_port     = 22
    cidr_blocks = ["10.1.0.0/16"]
  }
}

module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "5.1.2"
  cidr    = "10.0.0.0/16"
}

data "aws_caller_identity" "current" {}

output "db_endpoint" {
  value = aws_db_instance.orders.endpoint
}

variable "region" {
  type    = string
  default = "us-east-1"
}
"""


def changes(language, old, new):
    result = diff_config(language, old, new)
    assert result.error is None, result.error
    return [(c.key, c.op, c.old, c.new, c.line) for c in result.changes]


def value_of(language, text):
    """The whole file as plain Python (the Report's values summarise big subtrees)."""
    adapter = adapter_for(language)
    root, problem = adapter.parse(text)
    assert problem is None

    def plain(node):
        kind = adapter.kind(node)
        if kind == MAP:
            return {k: plain(v) for k, _, v in adapter.map_items(node)}
        if kind == SEQ:
            return [plain(v) for v in adapter.seq_items(node)]
        return adapter.scalar(node)
    return plain(adapter.documents(root)[0])


def test_languages_by_extension():
    assert [config_language(p) for p in ("main.tf", "prod.tfvars", "terragrunt.hcl", "Cargo.toml")] == \
        ["hcl", "hcl", "hcl", "toml"]


def test_blocks_become_key_paths_by_type_and_labels():
    value = value_of("hcl", MAIN_TF)
    assert value["terraform"]["backend"]["s3"]["bucket"] == "acme-tf-state"
    assert value["provider"]["aws"] == {"region": "var.region"}
    assert value["locals"]["tags"] == {"Team": "orders", "Env": "local.env"}
    db = value["resource"]["aws_db_instance"]["orders"]
    assert (db["allocated_storage"], db["lifecycle"], db["tags"]) == \
        (200, {"prevent_destroy": True}, 'merge(local.tags, { Name = "orders-${local.env}" })')
    assert [i["from_port"] for i in value["resource"]["aws_security_group"]["db"]["ingress"]] == [5432, 22]
    assert value["module"]["vpc"]["version"] == "5.1.2"
    assert value["data"]["aws_caller_identity"]["current"] == {}
    assert value["output"]["db_endpoint"]["value"] == "aws_db_instance.orders.endpoint"
    assert value["variable"]["region"] == {"type": "string", "default": "us-east-1"}


def test_attribute_changes_with_lines():
    new = MAIN_TF.replace("allocated_storage = 200", "allocated_storage = 400") \
                 .replace('"10.1.0.0/16"', '"0.0.0.0/0"').replace('"5.1.2"', '"6.0.0"')
    assert changes("hcl", MAIN_TF, new) == [
        ("resource.aws_db_instance.orders.allocated_storage", "replace", 200, 400, 23),
        ("resource.aws_security_group.db.ingress[1].cidr_blocks[0]", "replace", "10.1.0.0/16", "0.0.0.0/0", 41),
        ("module.vpc.version", "replace", "5.1.2", "6.0.0", 47),
    ]


def test_nested_block_removed_and_added():
    new = MAIN_TF.replace("  lifecycle {\n    prevent_destroy = true\n  }\n", "") \
                 .replace('  name = "orders-db"\n', '  name = "orders-db"\n  timeouts {\n    delete = "2h"\n  }\n')
    assert changes("hcl", MAIN_TF, new) == [
        ("resource.aws_db_instance.orders.lifecycle", "remove", {"prevent_destroy": True}, None, 24),
        ("resource.aws_security_group.db.timeouts", "add", None, {"delete": "2h"}, 30),
    ]


def test_resource_removed_and_resource_renamed():
    removed = MAIN_TF.replace('data "aws_caller_identity" "current" {}\n', "")
    assert changes("hcl", MAIN_TF, removed) == [("data", "remove", {"aws_caller_identity": {"current": {}}}, None, 45)]
    renamed = MAIN_TF.replace('resource "aws_security_group" "db"', 'resource "aws_security_group" "database"')
    assert changes("hcl", MAIN_TF, renamed) == [("resource.aws_security_group.database", "rename", "db", "database", 31)]


def test_several_providers_of_one_name_are_a_list():
    old = 'provider "aws" {\n  region = "us-east-1"\n}\n\nprovider "aws" {\n  alias  = "west"\n  region = "us-west-2"\n}\n'
    new = old.replace("us-west-2", "us-west-1")
    assert [(k, op, o, n, line) for k, op, o, n, line in changes("hcl", old, new)] == \
        [(changes("hcl", old, new)[0][0], "replace", "us-west-2", "us-west-1", 7)]
    key = changes("hcl", old, new)[0][0]
    assert key == "provider.aws[alias=west].region"  # matched by alias, not by position
    adapter = adapter_for("hcl")
    root, _ = adapter.parse(new)
    providers = dict((k, v) for k, _, v in adapter.map_items(root))["provider"]
    items = dict((k, v) for k, _, v in adapter.map_items(providers))["aws"]
    assert [adapter.identity(i) for i in adapter.seq_items(items)] == ["alias=default", "alias=west"]


def test_several_locals_and_terraform_blocks_read_as_one():
    old = 'locals {\n  a = 1\n}\n\nlocals {\n  b = 2\n}\n\nterraform {\n  required_version = ">= 1.5"\n}\n'
    new = old.replace("b = 2", "b = 3")
    assert changes("hcl", old, new) == [("locals.b", "replace", 2, 3, 6)]
    assert value_of("hcl", old) == {"locals": {"a": 1, "b": 2}, "terraform": {"required_version": ">= 1.5"}}


def test_values_literals_templates_heredocs_and_expressions():
    text = ('a = "x\\"y\\n"\nb = "$${literal}"\nc = -1.5\nd = null\ne = [1, true, "s"]\n'
            'f = var.enabled ? 3 : 0\ng = <<-EOT\n  hi\n  EOT\nh = "${var.env}-db"\ni = {}\n')
    assert value_of("hcl", text) == {"a": 'x"y\n', "b": "${literal}", "c": -1.5, "d": None, "e": [1, True, "s"],
                                     "f": "var.enabled ? 3 : 0", "g": "<<-EOT\n  hi\n  EOT", "h": "${var.env}-db",
                                     "i": {}}


def test_tfvars_are_top_level_keys():
    old = 'region        = "us-east-1"\ninstance_type = "t3.large"\nmin_size      = 4\n'
    new = 'region        = "us-east-1"\ninstance_type = "t3.xlarge"\nmin_size      = 4\n'
    assert changes("hcl", old, new) == [("instance_type", "replace", "t3.large", "t3.xlarge", 2)]


def test_terraform_fmt_realignment_comments_and_reordering_are_no_change():
    new = MAIN_TF.replace('  identifier        = "orders-prod"\n  engine            = "postgres"\n',
                          '  # the engine is pinned by the DBA team\n  engine = "postgres" // keep\n'
                          '  identifier = "orders-prod"\n') \
                 .replace("merge(local.tags, { Name = \"orders-${local.env}\" })",
                          "merge(local.tags,{\n    Name = \"orders-${local.env}\"\n  })") \
                 .replace("    from_port   = 5432\n    to_port     = 5432\n", "    to_port = 5432\n    from_port = 5432\n")
    new = "# Orders database\n/* reviewed */\n" + new.replace('module "vpc" {', 'module "vpc"   {')
    assert new != MAIN_TF
    assert changes("hcl", MAIN_TF, new) == []


def test_blocks_reordered_are_no_change():
    head, _, tail = MAIN_TF.partition('module "vpc"')
    module = 'module "vpc"' + tail.split("\n\n", 1)[0] + "\n\n"
    new = module + head + tail.split("\n\n", 1)[1]
    assert changes("hcl", MAIN_TF, new) == []


def test_malformed_hcl_is_a_syntax_problem_with_its_line():
    broken = MAIN_TF.replace('  allocated_storage = 200\n', '  allocated_storage = 200 {\n')
    result = diff_config("hcl", MAIN_TF, broken)
    assert (result.error.side, result.error.line, result.error.message) == ("new", 23, "HCL syntax error")
    assert result.changes == []


# ---------------------------------------------------------------- TOML
CONFIG_TOML = """\
# service settings
title = "orders"
limits.max_connections = 200

[server]
host = "0.0.0.0"
port = 8080
started = 2024-05-01T10:00:00Z

[server.tls]
enabled = true
ciphers = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"]

[[upstream]]
name = "payments"
url = "https://payments.internal:8443"
timeout = 2.5

[[upstream]]
name = "stock"
url = "https://stock.internal:8443"
retry = { attempts = 3, backoff.initial = "100ms" }
"""


def test_toml_tables_dotted_keys_and_arrays_of_tables():
    value = value_of("toml", CONFIG_TOML)
    assert value["limits"] == {"max_connections": 200}
    assert value["server"]["tls"]["enabled"] is True
    assert value["server"]["started"] == "2024-05-01T10:00:00Z"
    assert [u["name"] for u in value["upstream"]] == ["payments", "stock"]
    assert value["upstream"][1]["retry"] == {"attempts": 3, "backoff": {"initial": "100ms"}}


def test_toml_changes_match_table_array_items_by_name():
    new = CONFIG_TOML.replace("port = 8080", "port = 9090").replace("timeout = 2.5", "timeout = 30.0") \
                     .replace("attempts = 3", "attempts = 5").replace("enabled = true", "enabled = false")
    new = new.replace("[[upstream]]\nname = \"payments\"", "[[upstream]]\nname = \"audit\"\nurl = \"x\"\n\n"
                      "[[upstream]]\nname = \"payments\"")
    assert changes("toml", CONFIG_TOML, new) == [
        ("server.port", "replace", 8080, 9090, 7),
        ("server.tls.enabled", "replace", True, False, 11),
        ("upstream[name=audit]", "add", None, {"name": "audit", "url": "x"}, 14),
        ("upstream[name=payments].timeout", "replace", 2.5, 30.0, 21),
        ("upstream[name=stock].retry.attempts", "replace", 3, 5, 26),
    ]


def test_toml_formatting_comments_and_table_order_are_no_change():
    new = CONFIG_TOML.replace("port = 8080", "port    = 8080   # http") \
                     .replace('limits.max_connections = 200', '[limits]\nmax_connections = 200') \
                     .replace("title = \"orders\"\n", "title = 'orders'\n")
    # [limits] as a table must come after the root keys: move it to the end
    head, table, rest = new.partition("[limits]\nmax_connections = 200\n")
    new = head + rest + "\n" + table
    assert changes("toml", CONFIG_TOML, new) == []


def test_malformed_toml_is_a_syntax_problem_with_its_line():
    result = diff_config("toml", CONFIG_TOML, CONFIG_TOML.replace("port = 8080", "port = = 8080"))
    assert (result.error.side, result.error.line, result.error.message) == ("new", 7, "TOML syntax error")
