resource "aws_instance" "bastion" {
  ami                    = "ami-0c7217cdde317cfec"
  instance_type          = "t3.medium"
  subnet_id              = var.public_subnet_id
  vpc_security_group_ids = [aws_security_group.bastion.id]
  monitoring             = true

  metadata_options {
    http_tokens = "required"
  }

  tags = {
    Name        = "bastion-staging"
    Environment = "staging"
  }
}

resource "aws_db_instance" "orders" {
  identifier          = "orders-staging"
  engine              = "postgres"
  engine_version      = "15.4"
  instance_class      = "db.t4g.large"
  allocated_storage   = 50
  skip_final_snapshot = true
}
