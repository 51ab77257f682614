# Public zone for the storefront; records managed here only.
resource "aws_route53_zone" "main" {
  name = "shop.example"
}

resource "aws_route53_record" "www" {
  zone_id = aws_route53_zone.main.zone_id
  name    = "www.shop.example"
  type    = "CNAME"
  ttl     = 600
  records = ["shop-lb-1.eu-west-1.elb.amazonaws.com"]
}

resource "aws_route53_record" "api" {
  zone_id = aws_route53_zone.main.zone_id
  name    = "api.shop.example"
  type    = "A"
  ttl     = 60
  records = ["203.0.113.30"]
}
