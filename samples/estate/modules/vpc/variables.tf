variable "name" {
  description = "Name prefix for all VPC resources"
  type        = string
}

variable "cidr" {
  description = "IPv4 CIDR block of the VPC"
  type        = string
}

variable "azs" {
  description = "Availability zones, one private and one public subnet each"
  type        = list(string)
}

variable "private_subnets" {
  description = "Private subnet CIDRs, same order as azs"
  type        = list(string)
}

variable "public_subnets" {
  description = "Public subnet CIDRs, same order as azs"
  type        = list(string)
}

variable "enable_nat_gateway" {
  description = "Create NAT gateways for the private subnets"
  type        = bool
  default     = true
}

variable "single_nat_gateway" {
  description = "Share one NAT gateway across all AZs (cheaper, not HA)"
  type        = bool
  default     = false
}

variable "enable_s3_endpoint" {
  description = "Create an S3 gateway endpoint on all route tables"
  type        = bool
  default     = true
}

variable "public_subnet_tags" {
  description = "Extra tags for public subnets"
  type        = map(string)
  default     = {}
}

variable "private_subnet_tags" {
  description = "Extra tags for private subnets"
  type        = map(string)
  default     = {}
}

variable "tags" {
  description = "Tags for all resources"
  type        = map(string)
  default     = {}
}
