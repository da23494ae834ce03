output "node_group_arn" {
  description = "ARN of the EKS managed node group"
  value       = aws_eks_node_group.this.arn
}

output "node_group_id" {
  description = "<cluster>:<node group> id"
  value       = aws_eks_node_group.this.id
}

output "iam_role_arn" {
  description = "ARN of the node IAM role"
  value       = aws_iam_role.this.arn
}

output "launch_template_id" {
  description = "ID of the launch template"
  value       = aws_launch_template.this.id
}
