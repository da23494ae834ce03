region          = "eu-west-1"
env             = "staging"
team            = "platform"
cluster_name    = "platform-staging"
cluster_version = "1.30"
vpc_cidr        = "10.20.0.0/16"
azs             = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]

admin_role_arn  = "arn:aws:iam::111122223333:role/platform-admin"
route53_zone_id = "Z0451823AB7CDEF9XYZ12"

db_instance_class = "db.t4g.medium"

node_groups = {
  general = {
    instance_types = ["m6i.large", "m5.large"]
    min_size       = 2
    max_size       = 6
    desired_size   = 3
    labels = {
      "workload-class" = "general"
    }
  }
  spot = {
    instance_types = ["m6i.xlarge", "m5.xlarge", "m5a.xlarge"]
    capacity_type  = "SPOT"
    disk_size      = 80
    min_size       = 0
    max_size       = 10
    desired_size   = 2
    labels = {
      "workload-class" = "batch"
      "lifecycle"      = "spot"
    }
    taints = [
      {
        key    = "spot"
        value  = "true"
        effect = "NO_SCHEDULE"
      }
    ]
  }
}

tags = {
  Project    = "platform"
  CostCenter = "cc-4410"
}
