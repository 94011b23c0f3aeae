# Plan-level tests with a mocked AWS provider: what the module plans from a
# slipway build folder, what variables override, and what it refuses.
#
# The build folders under tests/build/ are made by the test that runs this
# file (`cargo test -p slipway --test cli terraform::`), with slipway itself:
#   hello/          a real build: SQS, S3, Function URL and Alexa triggers, publish, alias "live"
#   with-layer/     hello with a dependencies layer
#   tampered/       hello whose zip was changed after the build
#   mixed/          hello whose function.json belongs to another function

mock_provider "aws" {
  # Mocked values are known while planning, so plan runs can assert on them.
  override_during = plan

  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_region" {
    defaults = { name = "us-east-1" }
  }
  mock_resource "aws_lambda_function" {
    defaults = {
      arn     = "arn:aws:lambda:us-east-1:123456789012:function:hello"
      version = "1"
    }
  }
  mock_resource "aws_lambda_alias" {
    defaults = { arn = "arn:aws:lambda:us-east-1:123456789012:function:hello:live" }
  }
  mock_resource "aws_lambda_layer_version" {
    defaults = { arn = "arn:aws:lambda:us-east-1:123456789012:layer:hello-dependencies:1" }
  }
  mock_resource "aws_lambda_code_signing_config" {
    defaults = { arn = "arn:aws:lambda:us-east-1:123456789012:code-signing-config:csc-0123456789abcdef0" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/hello-exec" }
  }
}

variables {
  build_dir = "tests/build/hello"
  role_arn  = "arn:aws:iam::123456789012:role/exec"
}

run "settings_come_from_the_build_folder" {
  command = plan

  assert {
    condition     = aws_lambda_function.this.source_code_hash == jsondecode(file("tests/build/hello/manifest.json")).artifact.code_sha256
    error_message = "source_code_hash must be the manifest's code_sha256"
  }
  assert {
    condition     = aws_lambda_function.this.filename == "tests/build/hello/hello.zip" && aws_lambda_function.this.s3_key == null
    error_message = "without a bucket the package is uploaded directly"
  }
  assert {
    condition     = aws_lambda_function.this.handler == "app.handler" && aws_lambda_function.this.runtime == "python3.12"
    error_message = "handler and runtime come from the manifest"
  }
  assert {
    condition     = aws_lambda_function.this.memory_size == 256 && aws_lambda_function.this.timeout == 20
    error_message = "memory and timeout come from slipway.toml"
  }
  assert {
    condition     = aws_lambda_function.this.environment[0].variables["GREETING"] == "hello"
    error_message = "environment comes from slipway.toml"
  }
  assert {
    condition     = aws_lambda_function.this.publish && aws_lambda_alias.this[0].name == "live"
    error_message = "publish and alias come from slipway.toml"
  }
  assert {
    condition     = aws_cloudwatch_log_group.this.name == "/aws/lambda/hello" && aws_cloudwatch_log_group.this.retention_in_days == 30
    error_message = "a log group with retention"
  }
  assert {
    condition = (
      aws_lambda_event_source_mapping.sqs["0"].event_source_arn == "arn:aws:sqs:us-east-1:123456789012:jobs" &&
      aws_lambda_event_source_mapping.sqs["0"].batch_size == 20 &&
      aws_lambda_event_source_mapping.sqs["0"].maximum_batching_window_in_seconds == 2 &&
      tolist(aws_lambda_event_source_mapping.sqs["0"].function_response_types) == tolist(["ReportBatchItemFailures"]) &&
      aws_lambda_event_source_mapping.sqs["0"].scaling_config[0].maximum_concurrency == 4 &&
      aws_lambda_event_source_mapping.sqs["0"].function_name == "arn:aws:lambda:us-east-1:123456789012:function:hello:live"
    )
    error_message = "the SQS mapping carries slipway.toml's settings and invokes the alias"
  }
  assert {
    condition = (
      aws_lambda_permission.s3["uploads"].source_arn == "arn:aws:s3:::uploads" &&
      aws_lambda_permission.s3["uploads"].source_account == "123456789012" &&
      aws_lambda_permission.s3["uploads"].principal == "s3.amazonaws.com" &&
      aws_lambda_permission.s3["uploads"].qualifier == "live"
    )
    error_message = "the S3 permission is scoped to the bucket and the account"
  }
  assert {
    condition = (
      aws_s3_bucket_notification.this["uploads"].lambda_function[0].filter_prefix == "incoming/" &&
      aws_s3_bucket_notification.this["uploads"].lambda_function[0].filter_suffix == ".csv" &&
      tolist(aws_s3_bucket_notification.this["uploads"].lambda_function[0].events) == tolist(["s3:ObjectCreated:*"])
    )
    error_message = "the S3 notification carries prefix, suffix and events"
  }
  assert {
    condition = (
      aws_lambda_function_url.this[0].authorization_type == "AWS_IAM" &&
      tolist(aws_lambda_function_url.this[0].cors[0].allow_origins) == tolist(["https://example.test"]) &&
      length(aws_lambda_permission.url_public) == 0
    )
    error_message = "the Function URL is AWS_IAM with slipway.toml's CORS, and not public"
  }
  assert {
    condition = (
      aws_lambda_permission.alexa["amzn1.ask.skill.0a1b2c3d-0000-4000-8000-000000000001"].principal == "alexa-appkit.amazon.com" &&
      aws_lambda_permission.alexa["amzn1.ask.skill.0a1b2c3d-0000-4000-8000-000000000001"].event_source_token == "amzn1.ask.skill.0a1b2c3d-0000-4000-8000-000000000001"
    )
    error_message = "the Alexa permission is scoped to the skill"
  }
  assert {
    condition     = output.code_sha256 == jsondecode(file("tests/build/hello/manifest.json")).artifact.code_sha256
    error_message = "code_sha256 output"
  }
}

run "variables_override_settings_and_keep_the_rest" {
  command = plan

  variables {
    name            = "hello-staging"
    memory_size     = 512
    environment     = { TABLE_NAME = "orders-staging" }
    tags            = { stage = "staging" }
    sqs             = [{ queue_arn = "arn:aws:sqs:us-east-1:123456789012:jobs-staging" }]
    s3              = [{ bucket = "uploads-staging" }]
    url_auth_type   = "NONE"
    alexa_skill_ids = []
    publish         = false
  }

  assert {
    condition     = aws_lambda_function.this.function_name == "hello-staging" && aws_lambda_function.this.memory_size == 512 && aws_lambda_function.this.timeout == 20
    error_message = "name and memory overridden, timeout kept"
  }
  assert {
    condition     = aws_lambda_function.this.environment[0].variables == tomap({ GREETING = "hello", TABLE_NAME = "orders-staging" })
    error_message = "environment merges name by name"
  }
  assert {
    condition     = aws_lambda_function.this.tags["stage"] == "staging" && aws_lambda_function.this.tags["team"] == "core"
    error_message = "tags merge"
  }
  assert {
    condition = (
      aws_lambda_event_source_mapping.sqs["0"].event_source_arn == "arn:aws:sqs:us-east-1:123456789012:jobs-staging" &&
      aws_lambda_event_source_mapping.sqs["0"].batch_size == 20
    )
    error_message = "a queue passed in keeps slipway.toml's batch settings"
  }
  assert {
    condition     = aws_s3_bucket_notification.this["uploads-staging"].lambda_function[0].filter_prefix == "incoming/"
    error_message = "a bucket passed in keeps slipway.toml's prefix"
  }
  assert {
    condition     = aws_lambda_function_url.this[0].authorization_type == "NONE" && aws_lambda_permission.url_public[0].function_url_auth_type == "NONE"
    error_message = "a public URL gets its permission"
  }
  assert {
    condition     = length(aws_lambda_permission.alexa) == 0 && !aws_lambda_function.this.publish && aws_lambda_alias.this[0].function_version == "$LATEST"
    error_message = "an empty list removes the Alexa trigger; without publish the alias follows $LATEST"
  }
}

run "s3_uploads_are_content_addressed" {
  command = plan

  variables {
    s3_bucket = "artifacts"
    s3_prefix = "lambda/"
  }

  assert {
    condition     = aws_s3_object.package[0].key == "lambda/hello/${jsondecode(file("tests/build/hello/manifest.json")).artifact.sha256}.zip"
    error_message = "the key is the package's SHA-256"
  }
  assert {
    condition     = aws_lambda_function.this.s3_bucket == "artifacts" && aws_lambda_function.this.s3_key == aws_s3_object.package[0].key && aws_lambda_function.this.filename == null
    error_message = "the function takes its code from the object"
  }
}

run "the_dependencies_layer_is_a_layer_version" {
  command = plan

  variables {
    build_dir = "tests/build/with-layer"
    layers    = ["arn:aws:lambda:us-east-1:123456789012:layer:shared:3"]
  }

  assert {
    condition     = aws_lambda_layer_version.dependencies[0].source_code_hash == jsondecode(file("tests/build/with-layer/manifest.json")).layer.code_sha256
    error_message = "the layer's hash is the manifest's"
  }
  assert {
    condition = (
      aws_lambda_function.this.layers[0] == "arn:aws:lambda:us-east-1:123456789012:layer:hello-dependencies:1" &&
      aws_lambda_function.this.layers[1] == "arn:aws:lambda:us-east-1:123456789012:layer:shared:3"
    )
    error_message = "the dependencies layer comes first, then the listed ones"
  }
}

run "code_signing_config" {
  command = plan

  variables {
    signing_profile_version_arns = ["arn:aws:signer:us-east-1:123456789012:/signing-profiles/slipway/abcdef0123"]
  }

  assert {
    condition = (
      aws_lambda_code_signing_config.this[0].policies[0].untrusted_artifact_on_deployment == "Enforce" &&
      aws_lambda_function.this.code_signing_config_arn == "arn:aws:lambda:us-east-1:123456789012:code-signing-config:csc-0123456789abcdef0"
    )
    error_message = "a code signing configuration is created, enforcing, and attached"
  }
}

run "execution_role_is_least_privilege" {
  command = plan

  module {
    source = "./modules/execution-role"
  }

  variables {
    name                = "hello"
    dynamodb_table_arns = ["arn:aws:dynamodb:us-east-1:123456789012:table/orders"]
  }

  assert {
    condition = (
      jsondecode(aws_iam_role_policy.this.policy).Statement[0].Resource[0] == "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/hello:*" &&
      jsondecode(aws_iam_role_policy.this.policy).Statement[1].Resource == ["arn:aws:sqs:us-east-1:123456789012:jobs"] &&
      jsondecode(aws_iam_role_policy.this.policy).Statement[2].Resource == ["arn:aws:s3:::uploads/incoming/*"] &&
      contains(jsondecode(aws_iam_role_policy.this.policy).Statement[3].Resource, "arn:aws:dynamodb:us-east-1:123456789012:table/orders/index/*")
    )
    error_message = "the policy names the log group, the declared queue and bucket prefix, and the table"
  }
  assert {
    condition     = alltrue([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : alltrue([for a in s.Action : !strcontains(a, "*")])])
    error_message = "no wildcard actions"
  }
}

# ---- refused at plan time ----------------------------------------------------------

run "a_missing_build_folder_is_refused" {
  command = plan
  variables {
    build_dir = "tests/build/missing"
  }
  expect_failures = [var.build_dir]
}

run "a_tampered_package_is_refused" {
  command = plan
  variables {
    build_dir = "tests/build/tampered"
  }
  expect_failures = [aws_lambda_function.this]
}

run "a_manifest_for_another_function_is_refused" {
  command = plan
  variables {
    function = "orders"
  }
  expect_failures = [aws_lambda_function.this]
}

run "a_build_folder_mixing_two_functions_is_refused" {
  command = plan
  variables {
    build_dir = "tests/build/mixed"
  }
  expect_failures = [aws_lambda_function.this]
}

run "a_role_that_is_not_an_arn_is_refused" {
  command = plan
  variables {
    role_arn = "hello-exec"
  }
  expect_failures = [var.role_arn]
}
