variable "name" {
  description = "The role's name; also the Lambda function's name, whose log group the role may write to."
  type        = string
}

variable "build_dir" {
  description = "A slipway build folder (`dist/<function>/`): the queues and buckets its function.json declares are granted. Null grants only what the variables below name."
  type        = string
  default     = null

  validation {
    condition     = var.build_dir == null || fileexists("${coalesce(var.build_dir, "-")}/function.json")
    error_message = "var.build_dir: no function.json in the build folder; run `slipway build` first."
  }
}

variable "sqs_queue_arns" {
  description = "Queues the function consumes (receive, delete, change visibility), replacing the build folder's."
  type        = list(string)
  default     = null
}

variable "s3_read" {
  description = "Buckets (and key prefixes) the function reads, replacing the build folder's S3 triggers."
  type = list(object({
    bucket = string
    prefix = optional(string, "")
  }))
  default = null
}

variable "dynamodb_table_arns" {
  description = "DynamoDB tables the function reads and writes (items only: no table administration)."
  type        = list(string)
  default     = []
}

variable "dynamodb_read_only" {
  description = "Grant only reads on `dynamodb_table_arns`."
  type        = bool
  default     = false
}

variable "permissions_boundary" {
  description = "A permissions boundary policy ARN, where the account requires one."
  type        = string
  default     = null
}

variable "path" {
  description = "The role's IAM path."
  type        = string
  default     = "/"
}

variable "tags" {
  description = "Tags for the role."
  type        = map(string)
  default     = {}
}
