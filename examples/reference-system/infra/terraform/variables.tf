variable "region" {
  description = "The AWS region to deploy to."
  type        = string
  default     = "eu-west-1"
}

variable "dist_dir" {
  description = "The reference system's build output (`slipway build` writes dist/<function>/ there): relative to this folder, or absolute (the GitLab component sets TF_VAR_dist_dir). Relative keeps plans identical across checkouts."
  type        = string
  default     = "../../dist"
}

variable "uploads_bucket" {
  description = "The bucket whose `incoming/` uploads are ingested (bucket names are global: pick your own)."
  type        = string
  default     = "reference-uploads"
}

variable "reports_bucket" {
  description = "The bucket the stock report writes to."
  type        = string
  default     = "reference-reports"
}

variable "alexa_skill_id" {
  description = "The Alexa skill allowed to invoke the assistant."
  type        = string
  default     = "amzn1.ask.skill.00000000-0000-0000-0000-000000000000"
}

variable "llm_api_key_secret_arn" {
  description = "The ARN of the Secrets Manager secret holding the model API key (slipway.toml's LLM_API_KEY_SECRET_ID names it): the assistant may read it, at run time; the key is never in the package or the state."
  type        = string
  default     = null
}

variable "max_receive_count" {
  description = "Deliveries of a change request before it goes to the dead-letter queue."
  type        = number
  default     = 3
}

variable "visibility_timeout_seconds" {
  description = "How long a change request stays hidden after a delivery: six times the consumer's timeout in AWS. A failed message is delivered again only after it, so local runs shorten it to see the dead-letter queue within seconds."
  type        = number
  default     = 180
}
