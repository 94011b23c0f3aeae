terraform {
  # Tested with Terraform 1.11.4 and the AWS provider 5.100.0.
  required_version = ">= 1.9.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60, < 6.0"
    }
  }
}
