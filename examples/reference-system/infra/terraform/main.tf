# The reference system's infrastructure: the items table and its change
# markers, the change queue with its dead-letter queue, the upload and report
# buckets, one least-privilege role per function, and the five functions
# from slipway's build folders (settings from slipway.toml through
# function.json; what exists only here is passed by reference).

locals {
  # What Terraform alone creates is tagged so; each function's tags are
  # slipway.toml's (from function.json), which `slipway verify --deployed`
  # compares with the live ones.
  tags = { system = "reference", managed-by = "terraform" }
  dist = startswith(var.dist_dir, "/") ? var.dist_dir : "${path.root}/${var.dist_dir}"
}

# ---- data ----------------------------------------------------------------------

resource "aws_dynamodb_table" "items" {
  name         = "items"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"

  attribute {
    name = "id"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  tags = local.tags
}

# One marker per applied change: what makes the consumer exactly-once.
resource "aws_dynamodb_table" "item_changes" {
  name         = "item-changes"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "change_id"

  attribute {
    name = "change_id"
    type = "S"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  tags = local.tags
}

resource "aws_sqs_queue" "changes_dlq" {
  name                      = "item-changes-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
  tags                      = local.tags
}

resource "aws_sqs_queue" "changes" {
  name = "item-changes"
  # Six times the consumer's timeout, as AWS advises for event source mappings.
  visibility_timeout_seconds = var.visibility_timeout_seconds
  sqs_managed_sse_enabled    = true
  tags                       = local.tags

  # The redrive policy is its own resource below: AWS answers it as JSON
  # that need not be byte-equal to what was sent, and reading it back here
  # would plan a change that is none on every run.
  lifecycle {
    ignore_changes = [redrive_policy]
  }
}

resource "aws_sqs_queue_redrive_policy" "changes" {
  queue_url = aws_sqs_queue.changes.id
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.changes_dlq.arn
    maxReceiveCount     = var.max_receive_count
  })
}

resource "aws_s3_bucket" "uploads" {
  bucket = var.uploads_bucket
  tags   = local.tags
}

resource "aws_s3_bucket" "reports" {
  bucket = var.reports_bucket
  tags   = local.tags
}

resource "aws_s3_bucket_public_access_block" "private" {
  for_each                = { uploads = aws_s3_bucket.uploads.id, reports = aws_s3_bucket.reports.id }
  bucket                  = each.value
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# ---- items API -----------------------------------------------------------------

module "items_api_role" {
  source = "../../../../terraform/modules/execution-role"

  name                = "items-api"
  dynamodb_table_arns = [aws_dynamodb_table.items.arn]
  tags                = local.tags
}

module "items_api" {
  source = "../../../../terraform"

  build_dir   = "${local.dist}/items-api"
  function    = "items-api"
  role_arn    = module.items_api_role.role_arn
  environment = { TABLE_NAME = aws_dynamodb_table.items.name }
}

# ---- change consumer -----------------------------------------------------------

module "change_consumer_role" {
  source = "../../../../terraform/modules/execution-role"

  name                = "change-consumer"
  sqs_queue_arns      = [aws_sqs_queue.changes.arn]
  dynamodb_table_arns = [aws_dynamodb_table.items.arn, aws_dynamodb_table.item_changes.arn]
  tags                = local.tags
}

module "change_consumer" {
  source = "../../../../terraform"

  build_dir = "${local.dist}/change-consumer"
  function  = "change-consumer"
  role_arn  = module.change_consumer_role.role_arn
  environment = {
    TABLE_NAME         = aws_dynamodb_table.items.name
    CHANGES_TABLE_NAME = aws_dynamodb_table.item_changes.name
  }
  sqs = [{ queue_arn = aws_sqs_queue.changes.arn }]
}

# ---- ingest --------------------------------------------------------------------

module "ingest_role" {
  source = "../../../../terraform/modules/execution-role"

  name                = "ingest"
  s3_read             = [{ bucket = aws_s3_bucket.uploads.bucket, prefix = "incoming/" }]
  dynamodb_table_arns = [aws_dynamodb_table.items.arn]
  tags                = local.tags
}

module "ingest" {
  source = "../../../../terraform"

  build_dir   = "${local.dist}/ingest"
  function    = "ingest"
  role_arn    = module.ingest_role.role_arn
  environment = { TABLE_NAME = aws_dynamodb_table.items.name }
  s3          = [{ bucket = aws_s3_bucket.uploads.bucket }]
}

# ---- assistant -----------------------------------------------------------------

module "assistant_role" {
  source = "../../../../terraform/modules/execution-role"

  name = "assistant"
  tags = local.tags
}

# Reading the model's key is the assistant's one extra permission.
resource "aws_iam_role_policy" "assistant_secret" {
  count = var.llm_api_key_secret_arn == null ? 0 : 1
  name  = "read-llm-api-key"
  role  = module.assistant_role.role_name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["secretsmanager:GetSecretValue"]
      Resource = var.llm_api_key_secret_arn
    }]
  })
}

module "assistant" {
  source = "../../../../terraform"

  build_dir = "${local.dist}/assistant"
  function  = "assistant"
  role_arn  = module.assistant_role.role_arn
  # The model's endpoint and key's secret id are in slipway.toml with the
  # rest of the function's settings, so `slipway verify --deployed` sees them.
  environment     = { SKILL_ID = var.alexa_skill_id }
  alexa_skill_ids = [var.alexa_skill_id]
}

# ---- stock report (arm64, C extension) -----------------------------------------

module "report_role" {
  source = "../../../../terraform/modules/execution-role"

  name                = "report"
  dynamodb_table_arns = [aws_dynamodb_table.items.arn]
  dynamodb_read_only  = true
  tags                = local.tags
}

resource "aws_iam_role_policy" "report_write" {
  name = "write-reports"
  role = module.report_role.role_name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["s3:PutObject"]
      Resource = "${aws_s3_bucket.reports.arn}/reports/*"
    }]
  })
}

module "report" {
  source = "../../../../terraform"

  build_dir = "${local.dist}/report"
  function  = "report"
  role_arn  = module.report_role.role_arn
  environment = {
    TABLE_NAME    = aws_dynamodb_table.items.name
    REPORT_BUCKET = aws_s3_bucket.reports.bucket
  }
}
