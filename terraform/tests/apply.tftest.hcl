# Apply-level test against a moto server: the test that runs this file
# starts it and sets `AWS_ENDPOINT_URL=http://127.0.0.1:PORT`, which the
# provider uses for every service. Nothing leaves 127.0.0.1.

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "AKIASLIPWAYTESTING01"
  secret_key                  = "slipway-test-secret-Kq93bZ0wLx7vT2mN"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  s3_use_path_style           = true

}

variables {
  build_dir = "tests/build/hello"
}

run "setup" {
  module {
    source = "./tests/setup"
  }
}

run "apply_deploys_the_build" {
  variables {
    role_arn = run.setup.role_arn
  }

  assert {
    condition     = output.code_sha256 == jsondecode(file("tests/build/hello/manifest.json")).artifact.code_sha256
    error_message = "the module reports the manifest's code_sha256"
  }
  assert {
    condition     = aws_lambda_function.this.code_sha256 == output.code_sha256
    error_message = "the live CodeSha256 (as moto reports it) is the manifest's"
  }
  assert {
    condition     = output.version == "1" && endswith(output.alias_arn, ":live")
    error_message = "one version published, the alias on it"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.sqs["0"].batch_size == 20 && aws_lambda_event_source_mapping.sqs["0"].event_source_arn == run.setup.queue_arn
    error_message = "the SQS mapping exists with its batch size"
  }
  assert {
    condition     = output.function_url != null && aws_lambda_function_url.this[0].authorization_type == "AWS_IAM"
    error_message = "the Function URL exists and needs signed requests"
  }
}

run "uploads_through_s3_at_a_content_addressed_key" {
  variables {
    role_arn  = run.setup.role_arn
    s3_bucket = run.setup.bucket
    s3_prefix = "lambda/"
  }

  assert {
    condition     = aws_s3_object.package[0].key == "lambda/hello/${jsondecode(file("tests/build/hello/manifest.json")).artifact.sha256}.zip"
    error_message = "the object's key is the package's SHA-256"
  }
  assert {
    condition     = aws_lambda_function.this.s3_key == aws_s3_object.package[0].key && aws_lambda_function.this.code_sha256 == output.code_sha256
    error_message = "the function's code comes from the object, with the same CodeSha256"
  }
}

run "publishes_the_dependencies_layer" {
  variables {
    build_dir = "tests/build/with-layer"
    role_arn  = run.setup.role_arn
  }

  assert {
    condition     = aws_lambda_layer_version.dependencies[0].source_code_hash == jsondecode(file("tests/build/with-layer/manifest.json")).layer.code_sha256
    error_message = "the layer version carries the manifest's hash"
  }
  assert {
    condition     = aws_lambda_function.this.layers[0] == aws_lambda_layer_version.dependencies[0].arn && output.layer_version_arn == aws_lambda_layer_version.dependencies[0].arn
    error_message = "the function uses the layer version"
  }
}
