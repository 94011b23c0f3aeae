output "function_name" {
  description = "The Lambda function's name."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "The unqualified function ARN."
  value       = aws_lambda_function.this.arn
}

output "version" {
  description = "The latest published version (`$LATEST` without publishing)."
  value       = aws_lambda_function.this.version
}

output "alias_arn" {
  description = "The alias ARN, or null without an alias."
  value       = try(aws_lambda_alias.this[0].arn, null)
}

output "invoke_arn" {
  description = "The ARN API Gateway invokes (the alias's when there is one)."
  value       = local.alias == null ? aws_lambda_function.this.invoke_arn : aws_lambda_alias.this[0].invoke_arn
}

output "function_url" {
  description = "The Function URL, or null without one."
  value       = try(aws_lambda_function_url.this[0].function_url, null)
}

output "code_sha256" {
  description = "The package's CodeSha256 from slipway's manifest; `slipway verify --deployed` checks the live function against it."
  value       = local.code_sha256
}

output "layer_version_arn" {
  description = "The dependencies layer version, or null without one."
  value       = try(aws_lambda_layer_version.dependencies[0].arn, null)
}

output "log_group_name" {
  description = "The function's log group."
  value       = aws_cloudwatch_log_group.this.name
}

output "settings" {
  description = "The settings slipway wrote (function.json), for root modules that build on them."
  value       = local.settings
}
