variable "region" {
  description = "AWS region of the estate"
  type        = string
  default     = "eu-west-1"
}

variable "env" {
  description = "Environment name, used in names and the Environment default tag"
  type        = string
}

variable "team" {
  description = "Owning team (Team default tag)"
  type        = string
  default     = "platform"
}

variable "cluster_name" {
  description = "Name of the EKS cluster"
  type        = string
}

variable "cluster_version" {
  description = "Kubernetes minor version of the control plane"
  type        = string
  default     = "1.30"
}

variable "vpc_cidr" {
  description = "IPv4 CIDR of the VPC"
  type        = string
  default     = "10.20.0.0/16"
}

variable "azs" {
  description = "Availability zones to spread subnets over"
  type        = list(string)
}

variable "node_groups" {
  description = "EKS managed node groups, keyed by short name"
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
}

variable "admin_role_arn" {
  description = "IAM role granted cluster-admin through an EKS access entry"
  type        = string
}

variable "route53_zone_id" {
  description = "Hosted zone external-dns is allowed to manage"
  type        = string
}

variable "db_instance_class" {
  description = "Instance class of the application Postgres database"
  type        = string
  default     = "db.t4g.medium"
}

variable "tags" {
  description = "Extra tags applied to every resource (on top of the provider default_tags)"
  type        = map(string)
  default     = {}
}
