resource "aws_security_group" "postgres" {
  name        = "orders-postgres"
  description = "Orders database"
  vpc_id      = module.vpc.vpc_id

  ingress {
    description = "Postgres from the app subnets"
    from_port   = 5432
    to_port     = 5432
    protocol    = "tcp"
    cidr_blocks = ["10.20.0.0/16", "10.21.0.0/16"]
  }

  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "google_storage_bucket_iam_member" "reports_reader" {
  bucket = google_storage_bucket.reports.name
  role   = "roles/storage.objectViewer"
  member = "group:analysts@example.com"
}
