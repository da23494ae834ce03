"""Fleet: from an estate (or a fleet file) to the GitOps layer around the converted infrastructure.

`tf2kro fleet init` derives a fleet file (clusters, environments, applications) from a Terraform state;
`tf2kro fleet` renders ArgoCD (cluster Secrets, AppProjects, ApplicationSets, app-of-apps), Flagger, External
Secrets and Gatekeeper manifests from it; `tf2kro fleet upgrade` plans a blue/green EKS upgrade as PR-sized steps.
"""
