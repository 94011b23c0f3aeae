# A least-privilege execution role from what the function declares: its own
# log group, the queues it consumes, the bucket prefixes it is notified
# about, and the tables it names. Nothing account-wide, no wildcard actions.

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  settings = try(jsondecode(file("${var.build_dir}/function.json")), {})

  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.name
  account   = data.aws_caller_identity.current.account_id

  queue_arns = var.sqs_queue_arns != null ? var.sqs_queue_arns : [for t in try(local.settings.triggers.sqs, []) : t.queue_arn]
  s3_read = var.s3_read != null ? var.s3_read : [
    for t in try(local.settings.triggers.s3, []) : { bucket = t.bucket, prefix = try(coalesce(t.prefix), "") }
  ]

  log_group_arn = "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:/aws/lambda/${var.name}"

  dynamodb_actions = var.dynamodb_read_only ? [
    "dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan",
    ] : [
    "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem", "dynamodb:DeleteItem",
    "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:UpdateItem",
  ]

  statements = concat(
    [{
      Sid      = "OwnLogGroup"
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      Resource = ["${local.log_group_arn}:*"]
    }],
    length(local.queue_arns) == 0 ? [] : [{
      Sid      = "ConsumeQueues"
      Effect   = "Allow"
      Action   = ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"]
      Resource = local.queue_arns
    }],
    length(local.s3_read) == 0 ? [] : [{
      Sid      = "ReadNotifiedObjects"
      Effect   = "Allow"
      Action   = ["s3:GetObject"]
      Resource = [for r in local.s3_read : "arn:${local.partition}:s3:::${r.bucket}/${r.prefix}*"]
    }],
    length(var.dynamodb_table_arns) == 0 ? [] : [{
      Sid      = "TableItems"
      Effect   = "Allow"
      Action   = local.dynamodb_actions
      Resource = concat(var.dynamodb_table_arns, [for t in var.dynamodb_table_arns : "${t}/index/*"])
    }],
  )
}

resource "aws_iam_role" "this" {
  name                 = var.name
  path                 = var.path
  permissions_boundary = var.permissions_boundary
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account } }
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "this" {
  name   = "${var.name}-least-privilege"
  role   = aws_iam_role.this.id
  policy = jsonencode({ Version = "2012-10-17", Statement = local.statements })
}
