################################################################################
# In-cluster bootstrap (no ACK equivalent)
################################################################################

data "aws_eks_cluster_auth" "this" {
  name = module.eks.cluster_name
}

# Give the control plane and the access entries a moment to settle before Helm talks to the API
resource "time_sleep" "wait_for_cluster" {
  create_duration = "30s"

  triggers = {
    cluster_name     = module.eks.cluster_name
    cluster_endpoint = module.eks.cluster_endpoint
  }
}

resource "null_resource" "update_kubeconfig" {
  triggers = {
    cluster_name = module.eks.cluster_name
    endpoint     = module.eks.cluster_endpoint
  }

  provisioner "local-exec" {
    command = "aws eks update-kubeconfig --region ${var.region} --name ${module.eks.cluster_name} --alias ${var.cluster_name}"
  }
}

# SSH deploy key for the GitOps (Flux) bootstrap; the public half is registered on the git host
resource "tls_private_key" "flux_deploy_key" {
  algorithm   = "ECDSA"
  ecdsa_curve = "P256"
}

resource "helm_release" "aws_load_balancer_controller" {
  name       = "aws-load-balancer-controller"
  repository = "https://aws.github.io/eks-charts"
  chart      = "aws-load-balancer-controller"
  version    = "1.9.2"
  namespace  = "kube-system"

  values = [
    yamlencode({
      clusterName  = module.eks.cluster_name
      region       = var.region
      vpcId        = module.vpc.vpc_id
      replicaCount = 2
      serviceAccount = {
        create = true
        name   = "aws-load-balancer-controller"
      }
      enableServiceMutatorWebhook = false
    })
  ]

  set {
    name  = "podDisruptionBudget.maxUnavailable"
    value = "1"
  }

  depends_on = [time_sleep.wait_for_cluster]
}
