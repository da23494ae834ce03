output "iam_role_arn" {
  description = "ARN of the IRSA role"
  value       = aws_iam_role.this.arn
}

output "iam_role_name" {
  description = "Name of the IRSA role"
  value       = aws_iam_role.this.name
}

output "iam_policy_arn" {
  description = "ARN of the customer managed policy"
  value       = aws_iam_policy.this.arn
}
