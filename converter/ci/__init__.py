"""CI and approval around the GitOps trees tf2kro writes: GitHub Actions workflows that gate every PR and run the
scheduled drift scan, the same scan as an Argo Workflows CronWorkflow, CODEOWNERS and a branch-protection ruleset,
and the GPG keys ArgoCD verifies commits with.

Why here and as data: the workflow files (`templates/`) and their steps (`scripts/`, plain POSIX sh, so any CI
system can run them) are package data copied into the output nearly verbatim; the only values from the user
(targets: root, account, region, state; owners; the fleet path) reach them through JSON/YAML serialisers or
environment variables, never by pasting into a shell line or a `${{ }}` expression.

Entry points: `converter.ci.plan.plan_ci_files` (plan tree index) and `converter.ci.fleet.fleet_ci_files`
(fleet tree); nothing is imported here, so `tf2kro --help` stays fast.
"""
