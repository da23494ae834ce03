locals {
  # arn:aws:iam::<account>:oidc-provider/oidc.eks.<region>.amazonaws.com/id/<id>  ->  oidc.eks.<region>.amazonaws.com/id/<id>
  oidc_provider = element(split("oidc-provider/", var.oidc_provider_arn), 1)
}

data "aws_iam_policy_document" "assume_role" {
  statement {
    sid     = "IRSA"
    effect  = "Allow"
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [var.oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.oidc_provider}:sub"
      values   = [for sa in var.namespace_service_accounts : "system:serviceaccount:${sa}"]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.oidc_provider}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name                  = var.role_name
  description           = "IRSA role for ${join(", ", var.namespace_service_accounts)}"
  assume_role_policy    = data.aws_iam_policy_document.assume_role.json
  max_session_duration  = 3600
  force_detach_policies = true

  tags = var.tags
}

resource "aws_iam_policy" "this" {
  name        = var.policy_name
  description = "Permissions for ${var.role_name}"
  policy      = var.policy_json

  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "this" {
  role       = aws_iam_role.this.name
  policy_arn = aws_iam_policy.this.arn
}

resource "aws_iam_role_policy_attachment" "additional" {
  for_each = var.additional_policy_arns

  role       = aws_iam_role.this.name
  policy_arn = each.value
}

resource "aws_iam_role_policy" "inline" {
  count = var.inline_policy_json != null ? 1 : 0

  name   = "${var.role_name}-inline"
  role   = aws_iam_role.this.id
  policy = var.inline_policy_json
}
