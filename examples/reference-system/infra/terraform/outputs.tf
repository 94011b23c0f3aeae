output "functions" {
  description = "Each function's ARN, version, code_sha256 and Function URL (when it has one)."
  value = {
    for name, m in {
      items-api       = module.items_api
      change-consumer = module.change_consumer
      ingest          = module.ingest
      assistant       = module.assistant
      report          = module.report
      } : name => {
      arn         = m.function_arn
      version     = m.version
      code_sha256 = m.code_sha256
      url         = m.function_url
    }
  }
}

output "queue_url" {
  description = "Where change requests go."
  value       = aws_sqs_queue.changes.url
}

output "dead_letter_queue_url" {
  description = "Where change requests end up after max_receive_count failed deliveries."
  value       = aws_sqs_queue.changes_dlq.url
}

output "uploads_bucket" {
  description = "Put CSV/JSON files under incoming/ here to ingest them."
  value       = aws_s3_bucket.uploads.bucket
}
