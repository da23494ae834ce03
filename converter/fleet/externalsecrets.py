"""External Secrets Operator manifests: a ClusterSecretStore for AWS Secrets Manager authenticated with IRSA
(`auth.jwt.serviceAccountRef`), its ServiceAccount, and one ExternalSecret per secret the estate needs.

Only *references* are written (Secrets Manager key + property); the values stay in AWS.
"""

from __future__ import annotations

from typing import Any

from converter.fleet.argocd import secret_name
from converter.fleet.config import Application, ExternalSecretSpec, Fleet

API = "external-secrets.io/v1"


def store_name(fleet: Fleet) -> str:
    return fleet.store.get("name", "aws-secrets-manager")


def service_account(fleet: Fleet) -> dict[str, Any]:
    md: dict[str, Any] = {"name": fleet.store.get("serviceAccount", "external-secrets"),
                          "namespace": fleet.store.get("serviceAccountNamespace", "external-secrets")}
    if fleet.store.get("roleARN"):
        md["annotations"] = {"eks.amazonaws.com/role-arn": fleet.store["roleARN"]}
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": md}


def cluster_secret_store(fleet: Fleet, region: str | None = None) -> dict[str, Any]:
    region = region or fleet.store.get("region") or (fleet.clusters[0].region if fleet.clusters else "us-east-1")
    return {
        "apiVersion": API,
        "kind": "ClusterSecretStore",
        "metadata": {"name": store_name(fleet)},
        "spec": {
            "provider": {"aws": {
                "service": "SecretsManager",
                "region": region,
                "auth": {"jwt": {"serviceAccountRef": {
                    "name": fleet.store.get("serviceAccount", "external-secrets"),
                    "namespace": fleet.store.get("serviceAccountNamespace", "external-secrets"),
                }}},
            }},
        },
    }


def external_secret(fleet: Fleet, spec: ExternalSecretSpec) -> dict[str, Any]:
    md: dict[str, Any] = {"name": spec.name, "namespace": spec.namespace}
    ann = {}
    if spec.source:
        ann["tf2kro.dev/terraform-address"] = spec.source
    if spec.used_by:
        ann["tf2kro.dev/used-by"] = (f"{spec.used_by.get('kind')}/{spec.used_by.get('name')} "
                                     f"{spec.used_by.get('field', '')}").strip()
    if ann:
        md["annotations"] = ann
    body: dict[str, Any] = {
        "refreshInterval": "1h",
        "secretStoreRef": {"name": store_name(fleet), "kind": "ClusterSecretStore"},
        "target": {"name": spec.name, "creationPolicy": "Owner", "deletionPolicy": "Retain"},
    }
    if spec.data:
        body["data"] = [
            {"secretKey": key, "remoteRef": {"key": spec.remote_key, **({"property": prop} if prop else {})}}
            for key, prop in sorted(spec.data.items())
        ]
    else:
        body["dataFrom"] = [{"extract": {"key": spec.remote_key}}]
    return {"apiVersion": API, "kind": "ExternalSecret", "metadata": md, "spec": body}


def app_external_secret(fleet: Fleet, app: Application) -> dict[str, Any] | None:
    if not app.secret_values:
        return None
    keys = {}
    remote = app.secret_values[0].remote_key
    data = []
    for sv in app.secret_values:
        key = sv.property or sv.name.split(".")[-1]
        keys[key] = sv.name
        data.append({"secretKey": key, "remoteRef": {"key": sv.remote_key, **({"property": sv.property} if sv.property else {})}})
    return {
        "apiVersion": API,
        "kind": "ExternalSecret",
        "metadata": {"name": secret_name(app), "namespace": app.namespace,
                     "annotations": {"tf2kro.dev/helm-values": ",".join(sorted(keys.values())),
                                     "tf2kro.dev/remote-key": remote}},
        "spec": {
            "refreshInterval": "1h",
            "secretStoreRef": {"name": store_name(fleet), "kind": "ClusterSecretStore"},
            "target": {"name": secret_name(app), "creationPolicy": "Owner"},
            "data": data,
        },
    }


def password_patch(fleet: Fleet, spec: ExternalSecretSpec, estate: Any = None) -> dict[str, Any] | None:
    """A kustomize strategic-merge patch pointing DBInstance/DBCluster.spec.masterUserPassword at the Secret.

    The patch names only the Secret (never the value); the identifiers are repeated so the patch is a valid
    partial object of the kind."""
    ub = spec.used_by
    if not ub or ub.get("field") != "spec.masterUserPassword":
        return None
    kind = ub.get("kind", "DBInstance")
    ident_field = "dbInstanceIdentifier" if kind == "DBInstance" else "dbClusterIdentifier"
    spec_body: dict[str, Any] = {"masterUserPassword": {"name": spec.name, "key": "password",
                                                        "namespace": spec.namespace}}
    if estate is not None:
        for mo in estate.result.objects.values():
            if mo.conversion.object_name == ub.get("name") and mo.mapping.kind == kind:
                body = mo.conversion.body or {}
                for f in (ident_field, "dbInstanceClass", "engine"):
                    if f in (body.get("spec") or {}):
                        spec_body[f] = body["spec"][f]
    return {
        "apiVersion": "rds.services.k8s.aws/v1alpha1",
        "kind": kind,
        "metadata": {"name": ub.get("name"), "namespace": ub.get("namespace", fleet.hub_namespace)},
        "spec": dict(sorted(spec_body.items())),
    }
