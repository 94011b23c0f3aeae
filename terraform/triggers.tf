# Triggers from slipway.toml (function.json), or from the variables that
# replace them. Triggers invoke the alias when there is one, so they follow
# releases, as `slipway deploy` wires them.

locals {
  invoke_target = local.alias == null ? aws_lambda_function.this.arn : aws_lambda_alias.this[0].arn
  partition     = data.aws_partition.current.partition
  account_id    = data.aws_caller_identity.current.account_id

  settings_sqs = try(local.settings.triggers.sqs, [])
  sqs = var.sqs == null ? local.settings_sqs : [
    for i, t in var.sqs : {
      queue_arn                  = t.queue_arn
      batch_size                 = coalesce(t.batch_size, try(local.settings_sqs[i].batch_size, null), 10)
      batching_window            = coalesce(t.batching_window, try(local.settings_sqs[i].batching_window, null), 0)
      report_batch_item_failures = coalesce(t.report_batch_item_failures, try(local.settings_sqs[i].report_batch_item_failures, null), false)
      maximum_concurrency        = try(coalesce(t.maximum_concurrency, try(local.settings_sqs[i].maximum_concurrency, null)), null)
      enabled                    = coalesce(t.enabled, try(local.settings_sqs[i].enabled, null), true)
    }
  ]

  settings_s3 = try(local.settings.triggers.s3, [])
  s3 = var.s3 == null ? local.settings_s3 : [
    for i, t in var.s3 : {
      bucket = t.bucket
      events = coalesce(t.events, try(local.settings_s3[i].events, null), ["s3:ObjectCreated:*"])
      prefix = try(coalesce(t.prefix, try(local.settings_s3[i].prefix, null)), null)
      suffix = try(coalesce(t.suffix, try(local.settings_s3[i].suffix, null)), null)
    }
  ]
  # One notification configuration per bucket holds all of its triggers.
  s3_buckets = { for t in local.s3 : t.bucket => t... }

  settings_url = try(local.settings.triggers.url, null)
  url          = coalesce(var.url, local.settings_url != null)
  url_auth     = coalesce(var.url_auth_type, try(local.settings_url.auth, null), "AWS_IAM")
  url_cors     = var.url_cors != null ? var.url_cors : try(local.settings_url.cors, null)

  alexa_skill_ids = var.alexa_skill_ids != null ? var.alexa_skill_ids : [for a in try(local.settings.triggers.alexa, []) : a.skill_id]
}

# ---- SQS ----------------------------------------------------------------------------

resource "aws_lambda_event_source_mapping" "sqs" {
  # Keyed by position: queue ARNs passed by reference are unknown at plan time.
  for_each = { for i, t in local.sqs : tostring(i) => t }

  function_name                      = local.invoke_target
  event_source_arn                   = each.value.queue_arn
  batch_size                         = each.value.batch_size
  maximum_batching_window_in_seconds = each.value.batching_window
  function_response_types            = each.value.report_batch_item_failures ? ["ReportBatchItemFailures"] : []
  enabled                            = each.value.enabled

  dynamic "scaling_config" {
    for_each = each.value.maximum_concurrency == null ? [] : [each.value.maximum_concurrency]
    content {
      maximum_concurrency = scaling_config.value
    }
  }
}

# ---- S3 ------------------------------------------------------------------------------

resource "aws_lambda_permission" "s3" {
  for_each = local.s3_buckets

  statement_id   = "slipway-s3-${replace(each.key, "/[^A-Za-z0-9_-]/", "_")}"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.this.function_name
  qualifier      = local.alias
  principal      = "s3.amazonaws.com"
  source_arn     = "arn:${local.partition}:s3:::${each.key}"
  source_account = local.account_id
}

resource "aws_s3_bucket_notification" "this" {
  for_each = local.s3_buckets

  bucket = each.key

  dynamic "lambda_function" {
    for_each = each.value
    content {
      id                  = "slipway-${local.name}-${lambda_function.key}"
      lambda_function_arn = local.invoke_target
      events              = lambda_function.value.events
      filter_prefix       = lambda_function.value.prefix
      filter_suffix       = lambda_function.value.suffix
    }
  }

  depends_on = [aws_lambda_permission.s3]
}

# ---- Function URL ----------------------------------------------------------------------

resource "aws_lambda_function_url" "this" {
  count = local.url ? 1 : 0

  function_name      = aws_lambda_function.this.function_name
  qualifier          = local.alias
  authorization_type = local.url_auth

  dynamic "cors" {
    for_each = local.url_cors == null ? [] : [local.url_cors]
    content {
      allow_origins     = cors.value.allow_origins
      allow_methods     = cors.value.allow_methods
      allow_headers     = cors.value.allow_headers
      expose_headers    = cors.value.expose_headers
      allow_credentials = cors.value.allow_credentials
      max_age           = cors.value.max_age
    }
  }
}

# A public URL needs a resource policy statement, as Lambda's console adds.
resource "aws_lambda_permission" "url_public" {
  count = local.url && local.url_auth == "NONE" ? 1 : 0

  statement_id           = "slipway-url-public"
  action                 = "lambda:InvokeFunctionUrl"
  function_name          = aws_lambda_function.this.function_name
  qualifier              = local.alias
  principal              = "*"
  function_url_auth_type = "NONE"
}

# ---- Alexa Skills Kit ----------------------------------------------------------------------

resource "aws_lambda_permission" "alexa" {
  for_each = toset(local.alexa_skill_ids)

  statement_id       = "slipway-alexa-${trimprefix(each.key, "amzn1.ask.skill.")}"
  action             = "lambda:InvokeFunction"
  function_name      = aws_lambda_function.this.function_name
  qualifier          = local.alias
  principal          = "alexa-appkit.amazon.com"
  event_source_token = each.key
}
