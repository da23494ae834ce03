"""The scheduled drift scan for teams that run it in-cluster: an Argo Workflows CronWorkflow on the hub.

One step group, one fan-out step per AWS account (`withItems` over that account's roots), each pod running the
same ci/drift.sh as the GitHub job, from the repository checked out by Argo's git artifact. Each account's step
runs as its own ServiceAccount annotated for IRSA with that account's read-only role (the role must trust the
hub cluster's OIDC provider), so no long-lived AWS key exists anywhere. The executor needs only
`workflowtaskresults` create/patch in the namespace (Role + RoleBinding per ServiceAccount).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from converter import __version__
from converter.ci.targets import Target

NAMESPACE = "tf2kro-drift"
READ_ROLE = "tf2kro-read-only"
SCHEDULE = "17 5 * * *"
PART_OF = {"app.kubernetes.io/part-of": "tf2kro", "app.kubernetes.io/component": "drift-scan"}
PARAMS = ("target", "state", "region", "hcl", "env", "root")
ENV_OF = {"target": "TARGET", "state": "STATE", "region": "REGION", "hcl": "HCL", "env": "TARGET_ENV", "root": "ROOT"}


def _sa(account: str) -> str:
    return f"tf2kro-drift-{account}"


def _account_template(account: str, tree: str = "") -> dict[str, Any]:
    env = [{"name": ENV_OF[k], "value": f"{{{{inputs.parameters.{k}}}}}"} for k in PARAMS]
    env.append({"name": "OUT", "value": "/tmp/report"})
    # ci/drift.sh pushes the result as metrics for the fleet dashboard when this is set (empty: not pushed)
    env.append({"name": "TF2KRO_PUSHGATEWAY_URL", "value": "{{workflow.parameters.pushgateway}}"})
    return {
        "name": f"drift-{account}",
        "serviceAccountName": _sa(account),
        "inputs": {
            "parameters": [{"name": k} for k in PARAMS],
            "artifacts": [{"name": "repo", "path": "/work/src",
                           "git": {"repo": "{{workflow.parameters.repo}}", "revision": "{{workflow.parameters.revision}}",
                                   "depth": 1}}],
        },
        "retryStrategy": {"limit": "2", "retryPolicy": "OnError"},  # pod errors only; findings (exit 1) never retried
        "container": {
            "image": "{{workflow.parameters.image}}",
            "command": ["/bin/sh", f"/work/src/{tree}/ci/drift.sh" if tree else "/work/src/ci/drift.sh"],
            "workingDir": "/work/src",
            "env": env,
            "resources": {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"memory": "2Gi"}},
            "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": False,
                                "capabilities": {"drop": ["ALL"]}},
        },
    }


def drift_cronworkflow(targets: list[Target], namespace: str = NAMESPACE, read_role: str = READ_ROLE,
                       tree: str = "") -> list[dict[str, Any]]:
    """Namespace, per account a ServiceAccount (IRSA) + Role + RoleBinding, and the CronWorkflow. `tree`: where
    the plan tree lives in the repository (its ci/drift.sh; the state paths are repository paths)."""
    by_account: dict[str, list[Target]] = defaultdict(list)
    for t in targets:
        by_account[t.account].append(t)
    docs: list[dict[str, Any]] = [{"apiVersion": "v1", "kind": "Namespace",
                                   "metadata": {"name": namespace, "labels": dict(PART_OF)}}]
    for account in sorted(by_account):
        sa = _sa(account)
        docs.append({"apiVersion": "v1", "kind": "ServiceAccount",
                     "metadata": {"name": sa, "namespace": namespace, "labels": dict(PART_OF),
                                  "annotations": {"eks.amazonaws.com/role-arn": f"arn:aws:iam::{account}:role/{read_role}"}}})
    docs.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                 "metadata": {"name": "tf2kro-drift-executor", "namespace": namespace, "labels": dict(PART_OF)},
                 "rules": [{"apiGroups": ["argoproj.io"], "resources": ["workflowtaskresults"],
                            "verbs": ["create", "patch"]}]})
    docs.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                 "metadata": {"name": "tf2kro-drift-executor", "namespace": namespace, "labels": dict(PART_OF)},
                 "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "tf2kro-drift-executor"},
                 "subjects": [{"kind": "ServiceAccount", "name": _sa(a), "namespace": namespace}
                              for a in sorted(by_account)]})
    group = []
    for account in sorted(by_account):
        items = [{"target": t.name, "state": t.state, "region": t.region, "hcl": t.hcl, "env": t.env, "root": t.root}
                 for t in sorted(by_account[account], key=lambda t: t.name)]
        group.append({"name": f"account-{account}", "template": f"drift-{account}",
                      "arguments": {"parameters": [{"name": k, "value": f"{{{{item.{k}}}}}"} for k in PARAMS]},
                      "withItems": items})
    templates: list[dict[str, Any]] = [{"name": "scan", "steps": [group]}]
    templates.extend(_account_template(a, tree) for a in sorted(by_account))
    docs.append({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "CronWorkflow",
        "metadata": {"name": "tf2kro-drift-scan", "namespace": namespace, "labels": dict(PART_OF)},
        "spec": {
            "schedules": [SCHEDULE],
            "timezone": "UTC",
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 3600,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 10,
            "workflowSpec": {
                "entrypoint": "scan",
                "arguments": {"parameters": [
                    # set these three for your installation (the repository this tree is committed to, and the
                    # tf2kro image: `docker build -t ... .` from the tf2kro repository, pinned by digest)
                    {"name": "repo", "value": "https://git.example.com/platform/migration.git"},
                    {"name": "revision", "value": "main"},
                    {"name": "image", "value": f"ghcr.io/example-org/tf2kro:{__version__}"},
                    # the Pushgateway the fleet's Prometheus scrapes (docs/monitoring.md); empty: nothing pushed
                    {"name": "pushgateway", "value": ""},
                ]},
                "parallelism": 8,
                "activeDeadlineSeconds": 7200,
                "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001,
                                    "seccompProfile": {"type": "RuntimeDefault"}},
                "podGC": {"strategy": "OnPodSuccess"},
                "ttlStrategy": {"secondsAfterCompletion": 604800},
                "templates": templates,
            },
        },
    })
    return docs
