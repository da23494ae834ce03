output "cluster_name" {
  description = "EKS cluster name"
  value       = module.eks.cluster_name
}

output "cluster_endpoint" {
  description = "EKS API server endpoint"
  value       = module.eks.cluster_endpoint
}

output "oidc_provider_arn" {
  description = "IAM OIDC provider of the cluster (for IRSA)"
  value       = module.eks.oidc_provider_arn
}

output "vpc_id" {
  description = "VPC id"
  value       = module.vpc.vpc_id
}

output "private_subnet_ids" {
  description = "Private subnet ids (nodes, RDS)"
  value       = module.vpc.private_subnets
}

output "ecr_repository_url" {
  description = "Application image repository"
  value       = aws_ecr_repository.app.repository_url
}

output "db_endpoint" {
  description = "Postgres endpoint (host:port)"
  value       = aws_db_instance.postgres.endpoint
}

output "db_password" {
  description = "Postgres master password"
  value       = random_password.db.result
  sensitive   = true
}

output "flux_deploy_public_key" {
  description = "Public half of the Flux deploy key"
  value       = tls_private_key.flux_deploy_key.public_key_openssh
}
