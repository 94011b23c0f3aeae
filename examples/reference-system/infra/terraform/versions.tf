terraform {
  required_version = ">= 1.9.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60, < 6.0"
    }
  }

  # GitLab-managed state: the pipeline's Terraform jobs configure this
  # backend through TF_HTTP_* variables (address, lock, credentials); a
  # laptop does the same (docs/reference-system.md, step 3). Local runs and
  # tests pass `-backend=false` or a backend file of their own.
  backend "http" {}
}

provider "aws" {
  region = var.region
}
