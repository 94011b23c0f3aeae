# What the apply test's function needs around it: its queue, its bucket and
# an execution role from the submodule (moto, like Lambda, checks the role).

variable "build_dir" {
  type = string
}

resource "aws_sqs_queue" "jobs" {
  name                       = "jobs"
  visibility_timeout_seconds = 60
}

resource "aws_s3_bucket" "uploads" {
  bucket = "uploads"
}

module "role" {
  source    = "../../modules/execution-role"
  name      = "hello"
  build_dir = var.build_dir
}

output "role_arn" {
  value = module.role.role_arn
}

output "queue_arn" {
  value = aws_sqs_queue.jobs.arn
}

output "bucket" {
  value = aws_s3_bucket.uploads.bucket
}
