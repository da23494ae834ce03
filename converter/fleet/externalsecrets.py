"""External Secrets Operator manifests: one ClusterSecretStore per (account, region) of the fleet's clusters
for AWS Secrets Manager, each authenticated with IRSA (`auth.jwt.serviceAccountRef`) through a role of *its*
account, namespaced SecretStores (own ServiceAccount and role) for the namespaces the fleet file scopes, and
one ExternalSecret per secret the estate needs.

Why per (account, region): a store reads the Secrets Manager of the region it names with the credentials of
the role it assumes. One store for the whole fleet gives a us-east-1 cluster in another account a store that
reads eu-west-1 with a role of the first account: wrong data at best, cross-account reads at worst. A role
ARN of another account than the store's is therefore refused (ToolError), never emitted.

Only *references* are written (Secrets Manager key + property); the values stay in AWS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from converter.fleet.argocd import secret_name
from converter.fleet.config import Application, ExternalSecretSpec, Fleet
from converter.model import ToolError

API = "external-secrets.io/v1"
ROLE_ARN = re.compile(r"^arn:aws(?:-cn|-us-gov|-iso(?:-[a-z])?)?:iam::(\d{12}):role/[\w+=,.@/-]{1,512}\Z", re.ASCII)


@dataclass(frozen=True)
class StoreScope:
    """Where one store reads: an AWS account and region (the clusters of the fleet that share both)."""

    account: str
    region: str
    clusters: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.account}-{self.region}"


def store_name(fleet: Fleet) -> str:
    return fleet.store.get("name", "aws-secrets-manager")


def scopes(fleet: Fleet) -> list[StoreScope]:
    """One scope per (account, region) of the fleet's clusters, in a stable order."""
    by: dict[tuple[str, str], list[str]] = {}
    for c in fleet.clusters:
        by.setdefault((c.account_id, c.region), []).append(c.name)
    return [StoreScope(a, r, tuple(cs)) for (a, r), cs in sorted(by.items())]


def hub_scope(fleet: Fleet) -> StoreScope:
    """The hub's store: `hub.accountId`/`hub.region`, else the store's region and the first cluster's account."""
    first = fleet.clusters[0] if fleet.clusters else None
    account = fleet.hub.get("accountId") or (first.account_id if first else "")
    region = (fleet.hub.get("region") or fleet.store.get("region") or (first.region if first else "us-east-1"))
    return StoreScope(str(account), region, ("hub",))


def locate(fleet: Fleet, specs: list[ExternalSecretSpec]) -> dict[str, list[ExternalSecretSpec]]:
    """Workload secrets by the store that can read them: `StoreScope.key` for a secret with accountId/region
    (its ARN's), "" for the rest (every cluster). A secret no cluster's store can read is refused rather than
    synced to clusters where it can only fail."""
    keys = {sc.key for sc in scopes(fleet)}
    out: dict[str, list[ExternalSecretSpec]] = {}
    for s in specs:
        key = f"{s.account_id}-{s.region}" if s.account_id else ""
        if key and key not in keys:
            raise ToolError(f"fleet file: externalSecrets secret {s.name}: it lives in account {s.account_id!r} "
                            f"region {s.region!r}, where no cluster of the fleet runs (stores: {', '.join(sorted(keys))})")
        out.setdefault(key, []).append(s)
    return out


def role_arn(fleet: Fleet, scope: StoreScope, pattern: str | None = None, namespace: str = "") -> str:
    """The IRSA role of a store: `store.roleARNs[<account>]`, else `store.roleARN`; both may hold `{account}`,
    `{region}` (and `{namespace}` for namespaced stores). Refused when it names another account than the
    store's: that role would read another account's secrets."""
    where = f"externalSecrets store {scope.key}" + (f" namespace {namespace}" if namespace else "")
    if pattern is None:
        pattern = str((fleet.store.get("roleARNs") or {}).get(scope.account) or fleet.store.get("roleARN") or "")
    if not pattern:
        return ""
    arn = (pattern.replace("{account}", scope.account).replace("{region}", scope.region)
           .replace("{namespace}", namespace))
    m = ROLE_ARN.match(arn)
    if m is None:
        raise ToolError(f"fleet file: {where}: role {arn!r} is not an IAM role ARN")
    if scope.account and m.group(1) != scope.account:
        raise ToolError(f"fleet file: {where} (clusters {', '.join(scope.clusters)}): role {arn} belongs to account "
                        f"{m.group(1)}, not {scope.account}; give the account its own role "
                        f"(externalSecrets.store.roleARNs.'{scope.account}' or an {{account}} pattern in roleARN)")
    return arn


def _sa(name: str, namespace: str, role: str, scope: StoreScope) -> dict[str, Any]:
    md: dict[str, Any] = {"name": name, "namespace": namespace, "labels": _labels(scope)}
    if role:
        md["annotations"] = {"eks.amazonaws.com/role-arn": role}
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": md}


def _labels(scope: StoreScope) -> dict[str, str]:
    return {"tf2kro.dev/account-id": scope.account, "tf2kro.dev/region": scope.region}


def _provider(scope: StoreScope, sa_ref: dict[str, str]) -> dict[str, Any]:
    return {"provider": {"aws": {"service": "SecretsManager", "region": scope.region,
                                 "auth": {"jwt": {"serviceAccountRef": sa_ref}}}}}


def store_docs(fleet: Fleet, scope: StoreScope, namespaced: bool = True) -> list[dict[str, Any]]:
    """ServiceAccount + ClusterSecretStore of one (account, region), then a ServiceAccount + SecretStore per
    namespace in `store.namespaces` (each with its own role, so one namespace cannot read another's keys)."""
    sa_name = fleet.store.get("serviceAccount", "external-secrets")
    sa_ns = fleet.store.get("serviceAccountNamespace", "external-secrets")
    docs = [
        _sa(sa_name, sa_ns, role_arn(fleet, scope), scope),
        {"apiVersion": API, "kind": "ClusterSecretStore",
         "metadata": {"name": store_name(fleet), "labels": _labels(scope)},
         "spec": _provider(scope, {"name": sa_name, "namespace": sa_ns})},
    ]
    for ns in (fleet.store.get("namespaces") or []) if namespaced else []:
        name = ns.get("serviceAccount", sa_name)
        docs.append(_sa(name, ns["namespace"], role_arn(fleet, scope, ns["roleARN"], ns["namespace"]), scope))
        docs.append({"apiVersion": API, "kind": "SecretStore",
                     "metadata": {"name": store_name(fleet), "namespace": ns["namespace"], "labels": _labels(scope)},
                     "spec": _provider(scope, {"name": name})})
    return docs


def store_ref(fleet: Fleet, namespace: str) -> dict[str, str]:
    """The store an ExternalSecret in `namespace` uses: its namespace's SecretStore if the fleet file scopes
    that namespace, else the ClusterSecretStore."""
    scoped = {n["namespace"] for n in fleet.store.get("namespaces") or []}
    return {"name": store_name(fleet), "kind": "SecretStore" if namespace in scoped else "ClusterSecretStore"}


def external_secret(fleet: Fleet, spec: ExternalSecretSpec, hub: bool = False) -> dict[str, Any]:
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
        # the hub has only its ClusterSecretStore; namespaced stores are a workload-cluster scope
        "secretStoreRef": ({"name": store_name(fleet), "kind": "ClusterSecretStore"} if hub
                           else store_ref(fleet, spec.namespace)),
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
            "secretStoreRef": store_ref(fleet, app.namespace),
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
