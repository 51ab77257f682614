resource "aws_autoscaling_group" "web" {
  name                = "web-prod"
  min_size            = 6
  max_size            = 12
  desired_capacity    = 6
  vpc_zone_identifier = var.private_subnet_ids

  launch_template {
    id      = aws_launch_template.web.id
    version = "$Latest"
  }
}
