# The repository's example functions, deployed from slipway's build folders
# together with what they need, in one `terraform apply`:
#
#   cd examples/<each> && slipway build      # dist/<function>/
#   cd examples/terraform && terraform init && terraform apply
#
# Settings come from each example's slipway.toml (through function.json);
# what exists only here (the queue, the table, the bucket, the roles) is
# passed by reference.

locals {
  tags = { project = "slipway-examples" }
}

# ---- SQS → Lambda → DynamoDB ------------------------------------------------------

resource "aws_sqs_queue" "orders_dlq" {
  name                      = "orders-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
  tags                      = local.tags
}

resource "aws_sqs_queue" "orders" {
  name = "orders"
  # Longer than the function's timeout, as Lambda requires (6x, as AWS advises).
  visibility_timeout_seconds = 60
  sqs_managed_sse_enabled    = true
  tags                       = local.tags

  lifecycle {
    # Owned by aws_sqs_queue_redrive_policy.orders below.
    ignore_changes = [redrive_policy]
  }
}

# Failed messages go to the dead-letter queue after three receives.
resource "aws_sqs_queue_redrive_policy" "orders" {
  queue_url = aws_sqs_queue.orders.id
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.orders_dlq.arn
    maxReceiveCount     = 3
  })
}

resource "aws_dynamodb_table" "orders" {
  name         = "orders"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "order_id"

  attribute {
    name = "order_id"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  tags = local.tags
}

module "orders_consumer_role" {
  source = "../../terraform/modules/execution-role"

  name                = "orders-consumer"
  build_dir           = "${var.dist}/sqs-to-dynamodb/dist/orders-consumer"
  sqs_queue_arns      = [aws_sqs_queue.orders.arn]
  dynamodb_table_arns = [aws_dynamodb_table.orders.arn]
  tags                = local.tags
}

module "orders_consumer" {
  source = "../../terraform"

  build_dir   = "${var.dist}/sqs-to-dynamodb/dist/orders-consumer"
  function    = "orders-consumer"
  role_arn    = module.orders_consumer_role.role_arn
  environment = { TABLE_NAME = aws_dynamodb_table.orders.name }
  sqs         = [{ queue_arn = aws_sqs_queue.orders.arn }]
  tags        = local.tags
}

# ---- Function URL API ----------------------------------------------------------------

module "items_api_role" {
  source = "../../terraform/modules/execution-role"

  name = "items-api"
  tags = local.tags
}

module "items_api" {
  source = "../../terraform"

  build_dir = "${var.dist}/function-url-api/dist/items-api"
  function  = "items-api"
  role_arn  = module.items_api_role.role_arn
  tags      = local.tags
}

# ---- S3 trigger ----------------------------------------------------------------------

resource "aws_s3_bucket" "uploads" {
  bucket = var.uploads_bucket
  tags   = local.tags
}

resource "aws_s3_bucket_public_access_block" "uploads" {
  bucket                  = aws_s3_bucket.uploads.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

module "upload_inspector_role" {
  source = "../../terraform/modules/execution-role"

  name    = "upload-inspector"
  s3_read = [{ bucket = aws_s3_bucket.uploads.bucket, prefix = "incoming/" }]
  tags    = local.tags
}

module "upload_inspector" {
  source = "../../terraform"

  build_dir = "${var.dist}/s3-trigger/dist/upload-inspector"
  function  = "upload-inspector"
  role_arn  = module.upload_inspector_role.role_arn
  s3        = [{ bucket = aws_s3_bucket.uploads.bucket }]
  tags      = local.tags
}

# ---- Alexa skill -----------------------------------------------------------------------

module "ask_skill_role" {
  source = "../../terraform/modules/execution-role"

  name = "ask-skill"
  tags = local.tags
}

module "ask_skill" {
  source = "../../terraform"

  build_dir = "${var.dist}/alexa-skill/dist/ask-skill"
  function  = "ask-skill"
  role_arn  = module.ask_skill_role.role_arn
  tags      = local.tags
}
