variable "cluster_name" {
  description = "Name of the EKS cluster the node group joins"
  type        = string
}

variable "cluster_version" {
  description = "Kubernetes version of the nodes"
  type        = string
}

variable "name" {
  description = "Short node group name (suffixed to the cluster name)"
  type        = string
}

variable "subnet_ids" {
  description = "Subnets the node group's Auto Scaling group spans"
  type        = list(string)
}

variable "vpc_security_group_ids" {
  description = "Security groups attached to the nodes through the launch template"
  type        = list(string)
  default     = []
}

variable "instance_types" {
  description = "Instance types, in order of preference"
  type        = list(string)
}

variable "capacity_type" {
  description = "ON_DEMAND or SPOT"
  type        = string
  default     = "ON_DEMAND"
}

variable "ami_type" {
  description = "EKS AMI type"
  type        = string
  default     = "AL2023_x86_64_STANDARD"
}

variable "disk_size" {
  description = "Root volume size in GiB (set on the launch template)"
  type        = number
  default     = 50
}

variable "min_size" {
  type = number
}

variable "max_size" {
  type = number
}

variable "desired_size" {
  description = "Initial desired size; later changes are owned by the cluster autoscaler"
  type        = number
}

variable "labels" {
  description = "Kubernetes labels for the nodes"
  type        = map(string)
  default     = {}
}

variable "taints" {
  description = "Kubernetes taints for the nodes"
  type = list(object({
    key    = string
    value  = optional(string)
    effect = string
  }))
  default = []
}

variable "tags" {
  description = "Tags for all resources"
  type        = map(string)
  default     = {}
}
