# ---- the build --------------------------------------------------------------

variable "build_dir" {
  description = "The function's build folder as `slipway build` wrote it (`dist/<function>/`). Give it relative to the root module (e.g. `\"$${path.root}/../dist/orders\"`) so every checkout plans the same path."
  type        = string

  validation {
    condition     = fileexists("${var.build_dir}/manifest.json")
    error_message = "var.build_dir: no manifest.json in the build folder; run `slipway build` first (or point build_dir at dist/<function>/)."
  }

  validation {
    condition     = fileexists("${var.build_dir}/function.json")
    error_message = "var.build_dir: no function.json in the build folder; it comes from `slipway build` 0.1 or newer, so rebuild with a current slipway."
  }
}

variable "function" {
  description = "The function's name in `slipway.toml`. The build folder's manifest must be for this function. Defaults to the manifest's function."
  type        = string
  default     = null
}

variable "name" {
  description = "The Lambda function's name in AWS. Defaults to the slipway function's name."
  type        = string
  default     = null
}

# ---- settings that override slipway.toml -------------------------------------
# Every null or empty value below keeps what slipway.toml says (read from
# function.json); a value given here wins, so resources created in the same
# root module (a queue, a bucket, a role) can be passed by reference.

variable "role_arn" {
  description = "The execution role's ARN. Defaults to `role` in slipway.toml; the `modules/execution-role` submodule makes a least-privilege one."
  type        = string
  default     = null

  validation {
    condition     = var.role_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$", var.role_arn))
    error_message = "var.role_arn is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)."
  }
}

variable "memory_size" {
  description = "Memory in MB (128–10240)."
  type        = number
  default     = null

  validation {
    condition     = var.memory_size == null || (coalesce(var.memory_size, 128) >= 128 && coalesce(var.memory_size, 128) <= 10240)
    error_message = "var.memory_size must be between 128 and 10240 MB."
  }
}

variable "timeout" {
  description = "Timeout in seconds (1–900)."
  type        = number
  default     = null

  validation {
    condition     = var.timeout == null || (coalesce(var.timeout, 1) >= 1 && coalesce(var.timeout, 1) <= 900)
    error_message = "var.timeout must be between 1 and 900 seconds."
  }
}

variable "environment" {
  description = "Environment variables merged over slipway.toml's, name by name (e.g. a table name from a resource in the root module)."
  type        = map(string)
  default     = {}
}

variable "layers" {
  description = "Layer version ARNs (besides the dependencies layer), replacing slipway.toml's list."
  type        = list(string)
  default     = null
}

variable "description" {
  description = "The function's description."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags merged over slipway.toml's, applied to every resource the module creates."
  type        = map(string)
  default     = {}
}

variable "publish" {
  description = "Publish a version when code or configuration changes."
  type        = bool
  default     = null
}

variable "alias" {
  description = "An alias moved to each published version (or `$LATEST` without publishing); triggers and the Function URL then use it."
  type        = string
  default     = null
}

variable "s3_bucket" {
  description = "Upload packages through this bucket, at a content-addressed key (the package's SHA-256), so the same bytes are uploaded once."
  type        = string
  default     = null
}

variable "s3_prefix" {
  description = "Key prefix for uploads to `s3_bucket`."
  type        = string
  default     = null
}

variable "code_signing_config_arn" {
  description = "An existing code signing configuration to attach."
  type        = string
  default     = null
}

variable "signing_profile_version_arns" {
  description = "Signer profile version ARNs: when given, the module creates a code signing configuration trusting them and attaches it."
  type        = list(string)
  default     = []
}

variable "untrusted_artifact_on_deployment" {
  description = "What the created code signing configuration does with unsigned code: `Enforce` (refuse) or `Warn`."
  type        = string
  default     = "Enforce"

  validation {
    condition     = contains(["Enforce", "Warn"], var.untrusted_artifact_on_deployment)
    error_message = "var.untrusted_artifact_on_deployment must be Enforce or Warn."
  }
}

# ---- logs and tracing --------------------------------------------------------

variable "log_retention_days" {
  description = "Retention of the function's log group `/aws/lambda/<name>`."
  type        = number
  default     = 30
}

variable "log_kms_key_arn" {
  description = "KMS key encrypting the log group (CloudWatch Logs' own encryption otherwise)."
  type        = string
  default     = null
}

variable "tracing_mode" {
  description = "X-Ray tracing: `PassThrough` or `Active`."
  type        = string
  default     = "PassThrough"
}

variable "reserved_concurrent_executions" {
  description = "Reserved concurrency; -1 leaves the function unreserved."
  type        = number
  default     = -1
}

variable "dead_letter_target_arn" {
  description = "An SQS queue or SNS topic for failed asynchronous invocations."
  type        = string
  default     = null
}

variable "kms_key_arn" {
  description = "KMS key encrypting the environment variables (Lambda's own key otherwise)."
  type        = string
  default     = null
}

# ---- triggers ------------------------------------------------------------------

variable "sqs" {
  description = "SQS event source mappings replacing slipway.toml's. Attributes left out take the value of slipway.toml's mapping at the same position, so `[{ queue_arn = aws_sqs_queue.orders.arn }]` swaps in a queue and keeps the batch settings."
  type = list(object({
    queue_arn                  = string
    batch_size                 = optional(number)
    batching_window            = optional(number)
    report_batch_item_failures = optional(bool)
    maximum_concurrency        = optional(number)
    enabled                    = optional(bool)
  }))
  default = null
}

variable "s3" {
  description = "S3 notifications replacing slipway.toml's. Attributes left out take the value of slipway.toml's trigger at the same position. Bucket names must be known at plan time."
  type = list(object({
    bucket = string
    events = optional(list(string))
    prefix = optional(string)
    suffix = optional(string)
  }))
  default = null
}

variable "url" {
  description = "Whether the function has a Function URL (null: as slipway.toml says)."
  type        = bool
  default     = null
}

variable "url_auth_type" {
  description = "The Function URL's auth: `AWS_IAM` (signed requests) or `NONE` (public)."
  type        = string
  default     = null

  validation {
    condition     = var.url_auth_type == null || contains(["AWS_IAM", "NONE"], coalesce(var.url_auth_type, "AWS_IAM"))
    error_message = "var.url_auth_type must be AWS_IAM or NONE."
  }
}

variable "url_cors" {
  description = "The Function URL's CORS settings, replacing slipway.toml's."
  type = object({
    allow_origins     = optional(list(string), [])
    allow_methods     = optional(list(string), [])
    allow_headers     = optional(list(string), [])
    expose_headers    = optional(list(string), [])
    allow_credentials = optional(bool, false)
    max_age           = optional(number)
  })
  default = null
}

variable "alexa_skill_ids" {
  description = "Alexa skills allowed to invoke the function, replacing slipway.toml's."
  type        = list(string)
  default     = null

  validation {
    condition     = var.alexa_skill_ids == null || alltrue([for id in coalesce(var.alexa_skill_ids, []) : can(regex("^amzn1\\.ask\\.skill\\.[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", id))])
    error_message = "var.alexa_skill_ids: every entry must be an Alexa skill id (amzn1.ask.skill.<uuid>)."
  }
}
