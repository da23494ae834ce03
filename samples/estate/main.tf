data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_availability_zones" "available" {
  state = "available"
}

locals {
  name       = var.cluster_name
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  # 3 x /19 private (nodes + pods), 3 x /22 public (load balancers, NAT)
  private_subnets = [for i, az in var.azs : cidrsubnet(var.vpc_cidr, 3, i)]
  public_subnets  = [for i, az in var.azs : cidrsubnet(var.vpc_cidr, 6, i + 48)]

  tags = merge(var.tags, {
    Cluster = var.cluster_name
  })
}

################################################################################
# Network
################################################################################

module "vpc" {
  source = "./modules/vpc"

  name = "${local.name}-vpc"
  cidr = var.vpc_cidr
  azs  = var.azs

  private_subnets = local.private_subnets
  public_subnets  = local.public_subnets

  enable_nat_gateway = true
  single_nat_gateway = false

  public_subnet_tags = {
    "kubernetes.io/role/elb"                    = "1"
    "kubernetes.io/cluster/${var.cluster_name}" = "shared"
  }

  private_subnet_tags = {
    "kubernetes.io/role/internal-elb"           = "1"
    "kubernetes.io/cluster/${var.cluster_name}" = "shared"
    "karpenter.sh/discovery"                    = var.cluster_name
  }

  tags = local.tags
}

################################################################################
# KMS key for EKS secrets envelope encryption
################################################################################

data "aws_iam_policy_document" "kms_eks" {
  statement {
    sid       = "EnableRootAccountPermissions"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid = "AllowClusterRoleUse"
    actions = [
      "kms:Encrypt",
      "kms:Decrypt",
      "kms:ReEncrypt*",
      "kms:GenerateDataKey*",
      "kms:DescribeKey",
    ]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:role/${var.cluster_name}-cluster"]
    }
  }
}

resource "aws_kms_key" "eks" {
  description             = "${var.cluster_name} EKS secrets encryption key"
  deletion_window_in_days = 14
  enable_key_rotation     = true
  policy                  = data.aws_iam_policy_document.kms_eks.json

  tags = local.tags
}

resource "aws_kms_alias" "eks" {
  name          = "alias/eks/${var.cluster_name}"
  target_key_id = aws_kms_key.eks.key_id
}

resource "aws_cloudwatch_log_group" "eks" {
  # Name mandated by EKS for control plane logs; created here so retention is managed
  name              = "/aws/eks/${var.cluster_name}/cluster"
  retention_in_days = 30

  tags = local.tags
}

################################################################################
# EKS
################################################################################

module "eks" {
  source = "./modules/eks"

  cluster_name    = var.cluster_name
  cluster_version = var.cluster_version

  vpc_id                   = module.vpc.vpc_id
  vpc_cidr_block           = module.vpc.vpc_cidr_block
  subnet_ids               = module.vpc.private_subnets
  control_plane_subnet_ids = module.vpc.private_subnets

  endpoint_public_access       = true
  endpoint_public_access_cidrs = ["203.0.113.0/24", "198.51.100.16/28"]

  kms_key_arn               = aws_kms_key.eks.arn
  enabled_cluster_log_types = ["api", "audit", "authenticator"]

  cluster_addons = {
    vpc-cni = {
      addon_version = "v1.18.5-eksbuild.1"
      configuration_values = jsonencode({
        env = {
          ENABLE_PREFIX_DELEGATION = "true"
          WARM_PREFIX_TARGET       = "1"
        }
      })
    }
    coredns = {
      addon_version = "v1.11.3-eksbuild.1"
    }
    kube-proxy = {
      addon_version = "v1.30.3-eksbuild.5"
    }
    aws-ebs-csi-driver = {
      addon_version            = "v1.35.0-eksbuild.1"
      service_account_role_arn = module.irsa_ebs_csi.iam_role_arn
    }
    eks-pod-identity-agent = {
      addon_version = "v1.3.2-eksbuild.2"
    }
  }

  access_entries = {
    platform-admin = {
      principal_arn = var.admin_role_arn
      policy_arn    = "arn:${local.partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
    }
  }

  pod_identity_associations = {
    aws-load-balancer-controller = {
      namespace       = "kube-system"
      service_account = "aws-load-balancer-controller"
      role_arn        = aws_iam_role.lb_controller.arn
    }
  }

  node_groups = var.node_groups

  tags = local.tags

  depends_on = [aws_cloudwatch_log_group.eks]
}

# Karpenter discovers the security group to attach to the nodes it launches by tag;
# the cluster primary security group is created by EKS itself, so tag it from outside.
resource "aws_ec2_tag" "karpenter_discovery" {
  resource_id = module.eks.cluster_primary_security_group_id
  key         = "karpenter.sh/discovery"
  value       = var.cluster_name
}

################################################################################
# IRSA roles
################################################################################

data "aws_iam_policy_document" "ebs_csi_kms" {
  statement {
    actions = [
      "kms:CreateGrant",
      "kms:ListGrants",
      "kms:RevokeGrant",
    ]
    resources = [aws_kms_key.eks.arn]

    condition {
      test     = "Bool"
      variable = "kms:GrantIsForAWSResource"
      values   = ["true"]
    }
  }

  statement {
    actions = [
      "kms:Encrypt",
      "kms:Decrypt",
      "kms:ReEncrypt*",
      "kms:GenerateDataKey*",
      "kms:DescribeKey",
    ]
    resources = [aws_kms_key.eks.arn]
  }
}

module "irsa_ebs_csi" {
  source = "./modules/irsa"

  role_name                  = "${var.cluster_name}-ebs-csi"
  oidc_provider_arn          = module.eks.oidc_provider_arn
  namespace_service_accounts = ["kube-system:ebs-csi-controller-sa"]

  policy_name = "${var.cluster_name}-ebs-csi-kms"
  policy_json = data.aws_iam_policy_document.ebs_csi_kms.json

  additional_policy_arns = {
    AmazonEBSCSIDriverPolicy = "arn:${local.partition}:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
  }

  tags = local.tags
}

data "aws_iam_policy_document" "external_dns" {
  statement {
    actions   = ["route53:ChangeResourceRecordSets"]
    resources = ["arn:${local.partition}:route53:::hostedzone/${var.route53_zone_id}"]
  }
}

data "aws_iam_policy_document" "external_dns_list" {
  statement {
    actions = [
      "route53:ListHostedZones",
      "route53:ListResourceRecordSets",
      "route53:ListTagsForResource",
    ]
    resources = ["*"]
  }
}

module "irsa_external_dns" {
  source = "./modules/irsa"

  role_name                  = "${var.cluster_name}-external-dns"
  oidc_provider_arn          = module.eks.oidc_provider_arn
  namespace_service_accounts = ["external-dns:external-dns"]

  policy_name        = "${var.cluster_name}-external-dns"
  policy_json        = data.aws_iam_policy_document.external_dns.json
  inline_policy_json = data.aws_iam_policy_document.external_dns_list.json

  tags = local.tags
}

################################################################################
# Pod Identity role for the AWS Load Balancer Controller
################################################################################

data "aws_iam_policy_document" "lb_controller_assume" {
  statement {
    actions = ["sts:AssumeRole", "sts:TagSession"]

    principals {
      type        = "Service"
      identifiers = ["pods.eks.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "lb_controller" {
  statement {
    sid = "Describe"
    actions = [
      "ec2:DescribeAvailabilityZones",
      "ec2:DescribeInstances",
      "ec2:DescribeSecurityGroups",
      "ec2:DescribeSubnets",
      "ec2:DescribeVpcs",
      "elasticloadbalancing:DescribeListeners",
      "elasticloadbalancing:DescribeLoadBalancers",
      "elasticloadbalancing:DescribeTargetGroups",
      "elasticloadbalancing:DescribeTargetHealth",
    ]
    resources = ["*"]
  }

  statement {
    sid = "ManageLoadBalancers"
    actions = [
      "elasticloadbalancing:CreateListener",
      "elasticloadbalancing:CreateLoadBalancer",
      "elasticloadbalancing:CreateTargetGroup",
      "elasticloadbalancing:DeleteLoadBalancer",
      "elasticloadbalancing:DeleteTargetGroup",
      "elasticloadbalancing:ModifyLoadBalancerAttributes",
      "elasticloadbalancing:RegisterTargets",
      "elasticloadbalancing:DeregisterTargets",
      "elasticloadbalancing:AddTags",
    ]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/elbv2.k8s.aws/cluster"
      values   = [var.cluster_name]
    }
  }
}

resource "aws_iam_role" "lb_controller" {
  name               = "${var.cluster_name}-aws-load-balancer-controller"
  description        = "Pod Identity role for kube-system/aws-load-balancer-controller"
  assume_role_policy = data.aws_iam_policy_document.lb_controller_assume.json

  tags = local.tags
}

resource "aws_iam_policy" "lb_controller" {
  name        = "${var.cluster_name}-aws-load-balancer-controller"
  description = "AWS Load Balancer Controller permissions (trimmed)"
  policy      = data.aws_iam_policy_document.lb_controller.json

  tags = local.tags
}

resource "aws_iam_role_policy_attachment" "lb_controller" {
  role       = aws_iam_role.lb_controller.name
  policy_arn = aws_iam_policy.lb_controller.arn
}
