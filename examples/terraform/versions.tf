terraform {
  required_version = ">= 1.9.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60, < 6.0"
    }
  }

  # State stays local unless a backend is added; see terraform/README.md
  # ("Remote state") for GitLab-managed state and Terraform Cloud.
}

provider "aws" {
  region = var.region
}
