module "queue_orders" {
  source = "git::https://github.com/acme/terraform-modules.git//sqs-queue?ref=v3.0.0"

  name                       = "orders"
  visibility_timeout_seconds = 60
  dlq_max_receive_count      = 5
}

module "queue_payments" {
  source = "git::https://github.com/acme/terraform-modules.git//sqs-queue?ref=v3.0.0"

  name                       = "payments"
  visibility_timeout_seconds = 120
  dlq_max_receive_count      = 3
}

module "queue_notifications" {
  source = "git::https://github.com/acme/terraform-modules.git//sqs-queue?ref=v3.0.0"

  name                       = "notifications"
  visibility_timeout_seconds = 30
  dlq_max_receive_count      = 10
}
