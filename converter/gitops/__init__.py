"""GitOps delivery of a migration plan: the ArgoCD AppProjects/Applications that sync `tf2kro plan` output, and the
`argocd-cm` health checks (Lua, kept as data files under `health/`) for ACK objects, kro instances and RGDs and
Applications (so an app-of-apps waits on each phase's health between sync waves)."""
