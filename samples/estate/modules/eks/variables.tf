variable "cluster_name" {
  description = "Name of the EKS cluster"
  type        = string
}

variable "cluster_version" {
  description = "Kubernetes <major>.<minor> version"
  type        = string
}

variable "vpc_id" {
  description = "VPC the cluster and node security groups live in"
  type        = string
}

variable "vpc_cidr_block" {
  description = "CIDR of the VPC, allowed to reach the private API endpoint"
  type        = string
}

variable "subnet_ids" {
  description = "Subnets for the managed node groups"
  type        = list(string)
}

variable "control_plane_subnet_ids" {
  description = "Subnets for the control plane ENIs"
  type        = list(string)
}

variable "endpoint_public_access" {
  description = "Expose the API server publicly (restricted by endpoint_public_access_cidrs)"
  type        = bool
  default     = false
}

variable "endpoint_public_access_cidrs" {
  description = "CIDRs allowed to reach the public API endpoint"
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "service_ipv4_cidr" {
  description = "Kubernetes service CIDR"
  type        = string
  default     = "172.20.0.0/16"
}

variable "kms_key_arn" {
  description = "KMS key used for envelope encryption of Kubernetes secrets"
  type        = string
}

variable "enabled_cluster_log_types" {
  description = "Control plane log types sent to CloudWatch"
  type        = list(string)
  default     = ["audit", "api", "authenticator"]
}

variable "cluster_addons" {
  description = "EKS add-ons keyed by add-on name"
  type = map(object({
    addon_version            = optional(string)
    configuration_values     = optional(string)
    service_account_role_arn = optional(string)
  }))
  default = {}
}

variable "access_entries" {
  description = "Access entries, each with one access policy at cluster scope"
  type = map(object({
    principal_arn = string
    policy_arn    = string
  }))
  default = {}
}

variable "pod_identity_associations" {
  description = "EKS Pod Identity associations keyed by name"
  type = map(object({
    namespace       = string
    service_account = string
    role_arn        = string
  }))
  default = {}
}

variable "node_groups" {
  description = "Managed node groups (see root variable node_groups)"
  type = map(object({
    instance_types = list(string)
    capacity_type  = optional(string, "ON_DEMAND")
    ami_type       = optional(string, "AL2023_x86_64_STANDARD")
    disk_size      = optional(number, 50)
    min_size       = number
    max_size       = number
    desired_size   = number
    labels         = optional(map(string), {})
    taints = optional(list(object({
      key    = string
      value  = optional(string)
      effect = string
    })), [])
  }))
  default = {}
}

variable "tags" {
  description = "Tags for all resources"
  type        = map(string)
  default     = {}
}
