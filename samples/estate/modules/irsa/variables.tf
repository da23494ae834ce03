variable "role_name" {
  description = "Name of the IAM role"
  type        = string
}

variable "oidc_provider_arn" {
  description = "ARN of the cluster's IAM OIDC provider"
  type        = string
}

variable "namespace_service_accounts" {
  description = "Service accounts allowed to assume the role, as <namespace>:<name>"
  type        = list(string)
}

variable "policy_name" {
  description = "Name of the customer managed policy created for the role"
  type        = string
}

variable "policy_json" {
  description = "Customer managed policy document attached to the role"
  type        = string
}

variable "additional_policy_arns" {
  description = "Extra (AWS managed) policies to attach, keyed by a static name"
  type        = map(string)
  default     = {}
}

variable "inline_policy_json" {
  description = "Optional inline policy embedded in the role"
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for all resources"
  type        = map(string)
  default     = {}
}
