terraform {
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.40"
    }
  }

  backend "s3" {
    bucket         = "acme-terraform-state-prod"
    key            = "payments/terraform.tfstate"
    region         = "us-east-1"
    dynamodb_table = "terraform-locks"
    encrypt        = true
  }
}

provider "aws" {
  region              = "us-east-1"
  allowed_account_ids = ["123456789012"]

  default_tags {
    tags = {
      Service     = "payments"
      Environment = "prod"
    }
  }
}

provider "aws" {
  alias  = "dr"
  region = "us-west-2"
}
