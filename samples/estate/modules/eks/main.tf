data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

locals {
  partition = data.aws_partition.current.partition
}

################################################################################
# Cluster IAM role
################################################################################

data "aws_iam_policy_document" "assume_role_policy" {
  statement {
    sid     = "EKSClusterAssumeRole"
    actions = ["sts:AssumeRole", "sts:TagSession"]

    principals {
      type        = "Service"
      identifiers = ["eks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "cluster" {
  name                  = "${var.cluster_name}-cluster"
  description           = "EKS control plane role for ${var.cluster_name}"
  assume_role_policy    = data.aws_iam_policy_document.assume_role_policy.json
  force_detach_policies = true

  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "cluster" {
  for_each = toset([
    "AmazonEKSClusterPolicy",
    "AmazonEKSVPCResourceController",
  ])

  role       = aws_iam_role.cluster.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/${each.value}"
}

################################################################################
# Cluster security group
#   egress: inline block; ingress: aws_security_group_rule + aws_vpc_security_group_ingress_rule
################################################################################

resource "aws_security_group" "cluster" {
  name        = "${var.cluster_name}-cluster"
  description = "EKS cluster security group"
  vpc_id      = var.vpc_id

  egress {
    description = "Allow all egress"
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }

  tags = merge(var.tags, { Name = "${var.cluster_name}-cluster" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_security_group_rule" "cluster" {
  for_each = {
    ingress_nodes_443 = {
      description = "Node groups to cluster API"
      from_port   = 443
      to_port     = 443
    }
  }

  type                     = "ingress"
  security_group_id        = aws_security_group.cluster.id
  source_security_group_id = aws_security_group.node.id
  protocol                 = "tcp"
  from_port                = each.value.from_port
  to_port                  = each.value.to_port
  description              = each.value.description
}

resource "aws_vpc_security_group_ingress_rule" "cluster_api_vpc" {
  security_group_id = aws_security_group.cluster.id
  description       = "Private API endpoint from inside the VPC"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = var.vpc_cidr_block

  tags = merge(var.tags, { Name = "${var.cluster_name}-api-from-vpc" })
}

################################################################################
# Node security group
#   ingress: aws_security_group_rule (self / source SG); egress: aws_vpc_security_group_egress_rule
################################################################################

resource "aws_security_group" "node" {
  name        = "${var.cluster_name}-node"
  description = "EKS node shared security group"
  vpc_id      = var.vpc_id

  tags = merge(var.tags, {
    Name                                        = "${var.cluster_name}-node"
    "kubernetes.io/cluster/${var.cluster_name}" = "owned"
  })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_security_group_rule" "node" {
  for_each = {
    ingress_self_all = {
      description = "Node to node all ports/protocols"
      protocol    = "-1"
      from_port   = 0
      to_port     = 0
      self        = true
      source_sg   = false
    }
    ingress_cluster_443 = {
      description = "Cluster API to node groups"
      protocol    = "tcp"
      from_port   = 443
      to_port     = 443
      self        = null
      source_sg   = true
    }
    ingress_cluster_kubelet = {
      description = "Cluster API to node kubelets"
      protocol    = "tcp"
      from_port   = 10250
      to_port     = 10250
      self        = null
      source_sg   = true
    }
    ingress_cluster_webhooks = {
      description = "Cluster API to node 4443-9443/tcp webhooks (metrics-server, lb-controller)"
      protocol    = "tcp"
      from_port   = 4443
      to_port     = 9443
      self        = null
      source_sg   = true
    }
  }

  type                     = "ingress"
  security_group_id        = aws_security_group.node.id
  protocol                 = each.value.protocol
  from_port                = each.value.from_port
  to_port                  = each.value.to_port
  description              = each.value.description
  self                     = each.value.self
  source_security_group_id = each.value.source_sg ? aws_security_group.cluster.id : null
}

resource "aws_vpc_security_group_egress_rule" "node_all" {
  security_group_id = aws_security_group.node.id
  description       = "Allow all egress"
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"

  tags = merge(var.tags, { Name = "${var.cluster_name}-node-egress-all" })
}

################################################################################
# Cluster
################################################################################

resource "aws_eks_cluster" "this" {
  name                          = var.cluster_name
  version                       = var.cluster_version
  role_arn                      = aws_iam_role.cluster.arn
  enabled_cluster_log_types     = var.enabled_cluster_log_types
  bootstrap_self_managed_addons = false

  access_config {
    authentication_mode                         = "API_AND_CONFIG_MAP"
    bootstrap_cluster_creator_admin_permissions = false
  }

  vpc_config {
    subnet_ids              = var.control_plane_subnet_ids
    security_group_ids      = [aws_security_group.cluster.id]
    endpoint_private_access = true
    endpoint_public_access  = var.endpoint_public_access
    public_access_cidrs     = var.endpoint_public_access_cidrs
  }

  kubernetes_network_config {
    ip_family         = "ipv4"
    service_ipv4_cidr = var.service_ipv4_cidr
  }

  encryption_config {
    resources = ["secrets"]

    provider {
      key_arn = var.kms_key_arn
    }
  }

  upgrade_policy {
    support_type = "STANDARD"
  }

  tags = var.tags

  depends_on = [
    aws_iam_role_policy_attachment.cluster,
    aws_security_group_rule.cluster,
    aws_security_group_rule.node,
  ]
}

################################################################################
# IRSA OIDC provider
################################################################################

data "tls_certificate" "this" {
  url = aws_eks_cluster.this.identity[0].oidc[0].issuer
}

resource "aws_iam_openid_connect_provider" "oidc_provider" {
  client_id_list  = ["sts.amazonaws.com"]
  thumbprint_list = [data.tls_certificate.this.certificates[0].sha1_fingerprint]
  url             = aws_eks_cluster.this.identity[0].oidc[0].issuer

  tags = merge(var.tags, { Name = "${var.cluster_name}-eks-irsa" })
}

################################################################################
# Access entries
################################################################################

resource "aws_eks_access_entry" "this" {
  for_each = var.access_entries

  cluster_name  = aws_eks_cluster.this.name
  principal_arn = each.value.principal_arn
  type          = "STANDARD"

  tags = var.tags
}

resource "aws_eks_access_policy_association" "this" {
  for_each = var.access_entries

  cluster_name  = aws_eks_cluster.this.name
  principal_arn = each.value.principal_arn
  policy_arn    = each.value.policy_arn

  access_scope {
    type = "cluster"
  }

  depends_on = [aws_eks_access_entry.this]
}

################################################################################
# Managed node groups
################################################################################

module "managed_node_group" {
  source   = "./modules/managed-node-group"
  for_each = var.node_groups

  cluster_name    = aws_eks_cluster.this.name
  cluster_version = aws_eks_cluster.this.version
  name            = each.key
  subnet_ids      = var.subnet_ids

  vpc_security_group_ids = [aws_security_group.node.id]

  instance_types = each.value.instance_types
  capacity_type  = each.value.capacity_type
  ami_type       = each.value.ami_type
  disk_size      = each.value.disk_size
  min_size       = each.value.min_size
  max_size       = each.value.max_size
  desired_size   = each.value.desired_size
  labels         = each.value.labels
  taints         = each.value.taints

  tags = var.tags
}

################################################################################
# Add-ons and Pod Identity
################################################################################

resource "aws_eks_addon" "this" {
  for_each = var.cluster_addons

  cluster_name                = aws_eks_cluster.this.name
  addon_name                  = each.key
  addon_version               = each.value.addon_version
  configuration_values        = each.value.configuration_values
  service_account_role_arn    = each.value.service_account_role_arn
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "OVERWRITE"

  timeouts {
    create = "20m"
    update = "20m"
    delete = "20m"
  }

  tags = var.tags

  # coredns and the EBS CSI controller need schedulable nodes
  depends_on = [module.managed_node_group]
}

resource "aws_eks_pod_identity_association" "this" {
  for_each = var.pod_identity_associations

  cluster_name    = aws_eks_cluster.this.name
  namespace       = each.value.namespace
  service_account = each.value.service_account
  role_arn        = each.value.role_arn

  tags = var.tags
}
