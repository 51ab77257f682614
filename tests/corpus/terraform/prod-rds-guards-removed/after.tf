locals {
  tags = {
    Service     = "orders"
    Environment = "prod"
    ManagedBy   = "terraform"
  }
}

resource "aws_db_subnet_group" "orders" {
  name       = "orders-prod"
  subnet_ids = data.terraform_remote_state.network.outputs.private_subnet_ids
  tags       = local.tags
}

resource "aws_db_instance" "orders" {
  identifier                   = "orders-prod"
  engine                       = "postgres"
  engine_version               = "15.4"
  instance_class               = "db.r6g.2xlarge"
  allocated_storage            = 1000
  max_allocated_storage        = 4000
  storage_encrypted            = true
  kms_key_id                   = aws_kms_key.orders_db.arn
  db_subnet_group_name         = aws_db_subnet_group.orders.name
  vpc_security_group_ids       = [aws_security_group.orders_db.id]
  multi_az                     = true
  backup_retention_period      = 14
  performance_insights_enabled = true
  deletion_protection          = false
  skip_final_snapshot          = false
  final_snapshot_identifier    = "orders-prod-final"
  tags                         = local.tags

  lifecycle {
    ignore_changes  = [password]
  }
}
