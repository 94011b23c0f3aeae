output "role_arn" {
  description = "The role's ARN, for the root module's `role_arn`."
  value       = aws_iam_role.this.arn
}

output "role_name" {
  description = "The role's name."
  value       = aws_iam_role.this.name
}

output "policy" {
  description = "The inline policy granted, as JSON."
  value       = aws_iam_role_policy.this.policy
}
