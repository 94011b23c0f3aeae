# Deploys one function from a slipway build folder. What slipway wrote is the
# desired state: the package and its hash from manifest.json, the settings
# from function.json (slipway.toml resolved). Variables override settings.

locals {
  manifest_file = "${var.build_dir}/manifest.json"
  settings_file = "${var.build_dir}/function.json"

  # Guarded reads: a missing or unreadable file is reported by the checks
  # below with the file's name, not by a parse error here.
  manifest = try(jsondecode(file(local.manifest_file)), {})
  settings = try(jsondecode(file(local.settings_file)), {})

  function = try(local.manifest.function, "")
  name     = coalesce(var.name, var.function, local.function, "unknown")

  package_file = "${var.build_dir}/${try(local.manifest.artifact.file, "${local.function}.zip")}"
  # Lambda's CodeSha256 as slipway computed it. Terraform never hashes the zip
  # for the plan, so the plan depends on the bytes alone, not on the machine.
  code_sha256    = try(local.manifest.artifact.code_sha256, "")
  package_sha256 = try(local.manifest.artifact.sha256, "")

  has_layer         = try(local.manifest.layer, null) != null
  layer_file        = local.has_layer ? "${var.build_dir}/${local.manifest.layer.file}" : null
  layer_code_sha256 = local.has_layer ? local.manifest.layer.code_sha256 : null
  layer_sha256      = local.has_layer ? local.manifest.layer.sha256 : null

  role_arn = try(coalesce(var.role_arn, try(local.settings.role, null)), null)

  memory_size = coalesce(var.memory_size, try(local.settings.memory, null), 128)
  timeout     = coalesce(var.timeout, try(local.settings.timeout, null), 3)
  environment = merge(try(local.settings.environment, {}), var.environment)
  description = try(coalesce(var.description, try(local.settings.description, null)), null)
  tags        = merge(try(local.settings.tags, {}), var.tags)
  publish     = coalesce(var.publish, try(local.settings.publish, null), false)
  alias       = try(coalesce(var.alias, try(local.settings.alias, null)), null)

  s3_bucket = try(coalesce(var.s3_bucket, try(local.settings.s3_bucket, null)), null)
  s3_prefix = try(coalesce(var.s3_prefix, try(local.settings.s3_prefix, null)), "")

  extra_layers = var.layers != null ? var.layers : try(tolist(local.settings.layers), [])
  layers = concat(
    local.has_layer ? [aws_lambda_layer_version.dependencies[0].arn] : [],
    local.extra_layers,
  )

  create_code_signing_config = length(var.signing_profile_version_arns) > 0
  code_signing_config_arn = local.create_code_signing_config ? aws_lambda_code_signing_config.this[0].arn : try(
    coalesce(var.code_signing_config_arn, try(local.settings.code_signing_config_arn, null)), null
  )

  log_group_name = "/aws/lambda/${local.name}"
}

data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}

# ---- the package -------------------------------------------------------------

# The key is the package's SHA-256: the same bytes are stored (and uploaded) once.
resource "aws_s3_object" "package" {
  count = local.s3_bucket == null ? 0 : 1

  bucket = local.s3_bucket
  key    = "${local.s3_prefix}${local.name}/${local.package_sha256}.zip"
  source = local.package_file
  # The key already names the content; no MD5 of a possibly large file.
  checksum_algorithm = "SHA256"
  tags               = local.tags
}

resource "aws_s3_object" "layer" {
  count = local.s3_bucket != null && local.has_layer ? 1 : 0

  bucket             = local.s3_bucket
  key                = "${local.s3_prefix}${local.name}/${local.layer_sha256}-layer.zip"
  source             = local.layer_file
  checksum_algorithm = "SHA256"
  tags               = local.tags
}

resource "aws_lambda_layer_version" "dependencies" {
  count = local.has_layer ? 1 : 0

  layer_name               = "${local.name}-dependencies"
  description              = "Dependencies of ${local.name}, built by slipway"
  filename                 = local.s3_bucket == null ? local.layer_file : null
  s3_bucket                = local.s3_bucket
  s3_key                   = local.s3_bucket == null ? null : aws_s3_object.layer[0].key
  source_code_hash         = local.layer_code_sha256
  compatible_runtimes      = [local.manifest.runtime]
  compatible_architectures = [local.manifest.architecture]
  # Published versions of the function keep using the layer version they
  # were published with; removing it would break a rollback.
  skip_destroy = true
}

resource "aws_lambda_code_signing_config" "this" {
  count = local.create_code_signing_config ? 1 : 0

  description = "Signed packages only, for ${local.name}"
  allowed_publishers {
    signing_profile_version_arns = var.signing_profile_version_arns
  }
  policies {
    untrusted_artifact_on_deployment = var.untrusted_artifact_on_deployment
  }
}

# ---- the function ----------------------------------------------------------------

resource "aws_cloudwatch_log_group" "this" {
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn
  tags              = local.tags
}

resource "aws_lambda_function" "this" {
  function_name = local.name
  role          = local.role_arn
  handler       = try(local.manifest.handler, null)
  runtime       = try(local.manifest.runtime, null)
  architectures = [try(local.manifest.architecture, "x86_64")]
  memory_size   = local.memory_size
  timeout       = local.timeout
  description   = local.description
  layers        = local.layers
  publish       = local.publish

  filename         = local.s3_bucket == null ? local.package_file : null
  s3_bucket        = local.s3_bucket
  s3_key           = local.s3_bucket == null ? null : aws_s3_object.package[0].key
  source_code_hash = local.code_sha256

  code_signing_config_arn        = local.code_signing_config_arn
  kms_key_arn                    = var.kms_key_arn
  reserved_concurrent_executions = var.reserved_concurrent_executions

  dynamic "environment" {
    for_each = length(local.environment) > 0 ? [1] : []
    content {
      variables = local.environment
    }
  }

  dynamic "dead_letter_config" {
    for_each = var.dead_letter_target_arn == null ? [] : [1]
    content {
      target_arn = var.dead_letter_target_arn
    }
  }

  tracing_config {
    mode = var.tracing_mode
  }

  tags = local.tags

  # Lambda writes to /aws/lambda/<name>; made first, so its retention holds.
  depends_on = [aws_cloudwatch_log_group.this]

  lifecycle {
    precondition {
      condition     = local.manifest != {}
      error_message = "${local.manifest_file}: missing or not JSON; run `slipway build` for this function."
    }
    precondition {
      condition     = local.settings != {}
      error_message = "${local.settings_file}: missing or not JSON; run `slipway build` for this function."
    }
    precondition {
      condition     = var.function == null || local.function == var.function
      error_message = "${local.manifest_file} is for function \"${local.function}\", not \"${coalesce(var.function, "?")}\" (var.function); point var.build_dir at dist/${coalesce(var.function, "?")}/."
    }
    precondition {
      condition     = try(local.settings.function, "") == local.function
      error_message = "${local.settings_file} is for function \"${try(local.settings.function, "")}\" but ${local.manifest_file} for \"${local.function}\": the build folder mixes two builds; rebuild it with `slipway build`."
    }
    precondition {
      condition     = fileexists(local.package_file) && try(filesha256(local.package_file), "") == local.package_sha256
      error_message = "${local.package_file} does not match the SHA-256 in ${local.manifest_file}: the package was changed or replaced after the build; rebuild with `slipway build` and check `slipway verify`."
    }
    precondition {
      condition     = !local.has_layer || (fileexists(coalesce(local.layer_file, "-")) && try(filesha256(local.layer_file), "") == local.layer_sha256)
      error_message = "${coalesce(local.layer_file, "the layer zip")} does not match the SHA-256 in ${local.manifest_file}: rebuild with `slipway build`."
    }
    precondition {
      condition     = local.role_arn != null && can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", coalesce(local.role_arn, "-")))
      error_message = "no execution role: set var.role_arn (or `role` in slipway.toml), e.g. from the modules/execution-role submodule."
    }
  }
}

resource "aws_lambda_alias" "this" {
  count = local.alias == null ? 0 : 1

  name             = local.alias
  description      = "Moved by Terraform to each version slipway's package publishes"
  function_name    = aws_lambda_function.this.function_name
  function_version = local.publish ? aws_lambda_function.this.version : "$LATEST"
}
