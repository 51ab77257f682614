terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "5.40.0"
    }
  }
}

module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "5.5.1"

  name            = "core-prod"
  cidr            = "10.10.0.0/16"
  azs             = ["us-east-1a", "us-east-1b", "us-east-1c"]
  private_subnets = ["10.10.1.0/24", "10.10.2.0/24", "10.10.3.0/24"]
  public_subnets  = ["10.10.101.0/24", "10.10.102.0/24", "10.10.103.0/24"]
}

module "eks" {
  source = "git::https://github.com/acme/terraform-modules.git//eks-cluster?ref=v4.2.0"

  cluster_name    = "core-prod"
  cluster_version = "1.29"
  subnet_ids      = module.vpc.private_subnets
}
