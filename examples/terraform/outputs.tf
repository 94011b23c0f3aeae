output "functions" {
  description = "Each function's ARN, published version, CodeSha256 (from slipway's manifest) and URL."
  value = {
    for name, m in {
      orders-consumer  = module.orders_consumer
      items-api        = module.items_api
      upload-inspector = module.upload_inspector
      ask-skill        = module.ask_skill
      } : name => {
      arn         = m.function_arn
      version     = m.version
      alias_arn   = m.alias_arn
      code_sha256 = m.code_sha256
      url         = m.function_url
    }
  }
}
