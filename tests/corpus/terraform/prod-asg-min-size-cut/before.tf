resource "aws_launch_template" "web" {
  name_prefix   = "web-prod-"
  image_id      = data.aws_ami.web.id
  instance_type = "c6i.xlarge"

  iam_instance_profile {
    name = aws_iam_instance_profile.web.name
  }

  tag_specifications {
    resource_type = "instance"
    tags          = local.tags
  }
}

resource "aws_autoscaling_group" "web" {
  name                      = "web-prod"
  min_size                  = 12
  max_size                  = 48
  desired_capacity          = 16
  health_check_type         = "ELB"
  health_check_grace_period = 120
  vpc_zone_identifier       = var.private_subnet_ids
  target_group_arns         = [aws_lb_target_group.web.arn]

  launch_template {
    id      = aws_launch_template.web.id
    version = "$Latest"
  }

  instance_refresh {
    strategy = "Rolling"
    preferences {
      min_healthy_percentage = 90
    }
  }

  tag {
    key                 = "Service"
    value               = "web"
    propagate_at_launch = true
  }
}
