variable "region" {
  description = "The AWS region to deploy to."
  type        = string
  default     = "us-east-1"
}

variable "dist" {
  description = "Where the examples' build folders are, relative to this folder (each example builds into its own dist/)."
  type        = string
  default     = ".."
}

variable "uploads_bucket" {
  description = "The bucket the upload inspector watches (bucket names are global: pick your own)."
  type        = string
  default     = "slipway-example-uploads"
}
