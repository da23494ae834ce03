"""Blue/green EKS upgrade as an ordered set of PR-sized step directories.

The green cluster is a second kro instance of the cluster phase (its own RGD kind `<Env><Root>GreenCluster`): same
VPC subnets, IAM roles, security groups, KMS key and launch templates as blue (read through `externalRef`), new
Cluster / Nodegroups / AccessEntries that are *created* (no adoption annotations; label `tf2kro.dev/lifecycle:
created`; tags name green, not Terraform), plus what green needs that blue got elsewhere: its IAM OIDC provider
(from the green Cluster's issuer), IRSA trust for it (a rewrite of the convert phases whose roles trust blue's
provider), an access entry for the ArgoCD deployer role, blue's Pod Identity associations. Add-on versions are
chosen for the target Kubernetes version from `eks:DescribeAddonVersions` (read-only; or a captured JSON file).
ArgoCD learns green through a cluster Secret rendered by kro from the live Cluster status, labelled
`cluster-generation: green-staged` so the fleet's ApplicationSets ignore it; the platform apps, then the workload
waves (fleet file order) are deployed to it as Applications rendered from the same ApplicationSet templates.
Traffic then moves through weighted Route53 records; blue is decommissioned last, after a soak.

Every blue name is computed with converter/emit/naming.py for convert's `--env` (default: convert's default),
so this plan and `tf2kro convert` agree byte for byte. Gates, rollbacks and the Applications that run them:
converter/fleet/gates.py.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from converter.emit.kro import SCHEMA_GROUP, EmitOptions, emit_phases
from converter.emit.naming import Naming, fit, sanitize, with_suffix
from converter.emit.writer import dump_yaml
from converter.fleet import argocd, gates
from converter.fleet.config import Cluster, Fleet, _vkey, check_fleet_names
from converter.model import ToolError

ADOPTION_KEYS = ("services.k8s.aws/adoption-policy", "services.k8s.aws/adoption-fields", "services.k8s.aws/adopted")
LIFECYCLE = "tf2kro.dev/lifecycle"
CREATED_LABELS = {LIFECYCLE: "created", argocd.GEN_LABEL: "green"}
DELETION = "services.k8s.aws/deletion-policy"
CLUSTER_BOUND = ("Cluster", "Nodegroup", "AccessEntry", "FargateProfile", "IdentityProviderConfig")
STAGED = "green-staged"  # green's ArgoCD label until the fleet file makes it the cluster of record
MANAGED_BY = "tf2kro"  # tag value on objects the upgrade creates (Terraform never managed them)
GREEN_OIDC_ID = "greenOidcProvider"
ARGOCD_ACCESS_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
WAVE_LABEL = "tf2kro.dev/upgrade-wave"
CONVERT_DEFAULT_ENV = EmitOptions().env  # `tf2kro convert --env` default
_ARN_MARK, _HOST_MARK = "@@tf2kro-green-oidc-arn@@", "@@tf2kro-green-oidc-host@@"


# --------------------------------------------------------------------------------------------- add-on versions


def _addon_version_key(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", v))


def load_addon_versions(path: str | Path) -> dict[str, Any]:
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ToolError(f"cannot read add-on versions file: {exc.strerror}", source=str(path)) from None
    except ValueError as exc:
        raise ToolError(f"add-on versions file is not JSON (expected `aws eks describe-addon-versions` output): {exc}",
                        source=str(path)) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("addons"), list):
        raise ToolError("add-on versions file: expected an object with an `addons` list", source=str(path))
    return doc


def fetch_addon_versions(version: str, names: list[str], clients: Any) -> dict[str, Any]:
    """`eks:DescribeAddonVersions` for the target version (read-only, paginated), through the one guarded client
    factory (`converter.diff.aws.AwsClients`: allow-list, retry config, call counting). Any AWS error is one
    ToolError line (exit 2), never a traceback."""
    from converter.diff.aws import one_line_aws_errors

    addons: list[dict[str, Any]] = []

    def read() -> None:
        paginator = clients.client("eks").get_paginator("describe_addon_versions")
        for name in names:
            for page in paginator.paginate(kubernetesVersion=version, addonName=name):
                addons.extend(page.get("addons") or [])

    one_line_aws_errors("eks:DescribeAddonVersions", "pass --addon-versions FILE (`aws eks describe-addon-versions` "
                        "output) to plan offline", read)
    return {"addons": addons}


def choose_addon_versions(describe: dict[str, Any], installed: dict[str, str], k8s_version: str) -> dict[str, dict[str, Any]]:
    """For each installed add-on, the version compatible with `k8s_version`: the EKS default for that version if
    there is one, else the newest compatible. Raises when an add-on has no compatible version."""
    by_name: dict[str, list[dict[str, Any]]] = {}
    for a in describe.get("addons") or []:
        by_name.setdefault(a.get("addonName", ""), []).extend(a.get("addonVersions") or [])
    chosen: dict[str, dict[str, Any]] = {}
    missing = []
    for name, current in sorted(installed.items()):
        compatible = []
        for v in by_name.get(name, []):
            for comp in v.get("compatibilities") or []:
                if str(comp.get("clusterVersion")) == k8s_version:
                    compatible.append((bool(comp.get("defaultVersion")), v.get("addonVersion", "")))
                    break
        if not compatible:
            missing.append(name)
            continue
        defaults = [ver for d, ver in compatible if d]
        pick = max(defaults or [ver for _d, ver in compatible], key=_addon_version_key)
        chosen[name] = {"from": current, "to": pick, "reason": "EKS default for " + k8s_version if defaults
                        else "newest version compatible with " + k8s_version,
                        "compatibleVersions": sorted({ver for _d, ver in compatible}, key=_addon_version_key)}
    if missing:
        raise ToolError(f"no add-on version compatible with Kubernetes {k8s_version} for: {', '.join(missing)} "
                        "(check the describe_addon_versions input)")
    return chosen


# --------------------------------------------------------------------------------------------- green cluster


def _replace_strings(node: Any, old: str, new: str) -> Any:
    if isinstance(node, dict):
        return {k: _replace_strings(v, old, new) for k, v in node.items()}
    if isinstance(node, list):
        return [_replace_strings(v, old, new) for v in node]
    if node == old:
        return new
    return node


def retag(spec: dict[str, Any], cluster: str) -> None:
    """Tags of an object tf2kro *creates* for green: `Cluster` names green, `ManagedBy` is not Terraform (Terraform
    never managed it). Both tag shapes: EKS maps and IAM `[{key, value}]` lists."""
    tags = spec.get("tags")
    if isinstance(tags, dict):
        if "Cluster" in tags or not tags:
            tags["Cluster"] = cluster
        if "ManagedBy" in tags:
            tags["ManagedBy"] = MANAGED_BY
    elif isinstance(tags, list):
        for t in tags:
            if isinstance(t, dict) and t.get("key") == "Cluster":
                t["value"] = cluster
            if isinstance(t, dict) and t.get("key") == "ManagedBy":
                t["value"] = MANAGED_BY


def _ready(rid: str) -> list[str]:
    return ["${" + rid + '.status.conditions.exists(c, c.type == "ACK.ResourceSynced" && c.status == "True")}']


def blue_oidc(phases: list[Any], blue: Cluster) -> tuple[str, str, dict[str, Any]] | None:
    """(ARN, issuer host path, template) of blue's IAM OIDC provider in the converted estate: the provider whose URL
    carries blue's OIDC id (the endpoint host's first label), or the only provider."""
    found = []
    for po in phases:
        for r in po.rgd["spec"]["resources"]:
            t = r.get("template") or {}
            if t.get("kind") == "OpenIDConnectProvider":
                arn = json.loads(t["metadata"]["annotations"].get("services.k8s.aws/adoption-fields", "{}")).get("arn", "")
                found.append((arn, str((t.get("spec") or {}).get("url", "")).removeprefix("https://"), t))
    oidc_id = urlparse(blue.server).hostname.split(".")[0].lower() if blue.server else ""
    mine = [f for f in found if oidc_id and f[1].lower().endswith("/id/" + oidc_id)]
    pick = mine or (found if len(found) == 1 else [])
    return pick[0] if pick else None


def _instance_cluster(inst: Any) -> str | None:
    """The EKS cluster a state instance belongs to (`name` of an aws_eks_cluster, `cluster_name` of the objects bound
    to one), None when it is not cluster-bound."""
    if inst.type == "aws_eks_cluster":
        return str(inst.attributes.get("name") or "")
    if inst.type.startswith("aws_eks_") and "cluster_name" in inst.attributes:
        return str(inst.attributes.get("cluster_name") or "")
    return None


def require_blue_in_state(estate: Any, blue: Cluster, state_ref: str | None = None) -> None:
    """Refuse to plan an upgrade of a cluster the estate does not hold: green is built from blue's objects in the
    state, and another cluster's node groups, subnets and access entries must never stand in for them."""
    names = sorted({str(i.attributes.get("name")) for i in estate.state.instances
                    if i.type == "aws_eks_cluster" and i.mode == "managed"})
    if blue.name not in names:
        src = state_ref or getattr(estate.state, "path", None) or "the state"
        raise ToolError(f"cluster {blue.name!r} has no aws_eks_cluster in the state "
                        f"(state clusters: {', '.join(names) or 'none'}); pass its own state with --state",
                        source=str(src))


def _other_cluster_addresses(estate: Any, blue: Cluster) -> set[str]:
    """Terraform addresses of cluster-bound instances of clusters other than blue (kept out of green)."""
    return {i.address for i in estate.state.instances
            if (c := _instance_cluster(i)) is not None and c != blue.name}


def green_rgd(estate: Any, blue: Cluster, env: str, namespace: str, green_name: str, version: str,
              fleet: Fleet | None = None) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """(rgd, instance, {blue object name -> green object name}) for the green cluster phase: blue's cluster-bound
    objects copied (created, not adopted), plus what green needs that blue got elsewhere: its IAM OIDC provider
    (from the green Cluster's issuer) and an access entry for the ArgoCD deployer role."""
    # emitted under blue's names (externalRefs must find blue's objects); the green RGD, instance and created
    # objects are then renamed with converter.emit.naming under `<env>-green`
    root = getattr(estate, "root", "root")
    phases = emit_phases(estate.result, estate.graph, EmitOptions(env=env, namespace=namespace, root=root,
                                                                   phases=("cluster",), size_budget=None), estate.hcl)
    if not phases:
        raise ToolError("the estate has no cluster phase (no aws_eks_cluster mapped)")
    po = phases[0]
    rgd, inst = copy.deepcopy(po.rgd), copy.deepcopy(po.instance)
    # the green instance is another part of the same (env, root): part `green-cluster` (no phase is named so)
    names = Naming(env, root)
    kind = names.kind("green-cluster")
    rgd["metadata"]["name"] = names.rgd_name("green-cluster", SCHEMA_GROUP)
    rgd["spec"]["schema"]["kind"] = inst["kind"] = kind
    spec_schema = rgd["spec"]["schema"]["spec"]
    spec_schema.setdefault("clusterName", 'string | required=true description="Name of the EKS cluster"')
    spec_schema.setdefault("clusterVersion", 'string | required=true description="Kubernetes minor version"')
    renamed: dict[str, str] = {}
    resources = []
    cluster_id = ""
    principals = set()
    others = _other_cluster_addresses(estate, blue)
    for r in rgd["spec"]["resources"]:
        t = r.get("template")
        if t is not None and (t["metadata"].get("annotations") or {}).get("tf2kro.dev/terraform-address") in others:
            continue  # another cluster's object in the same state
        if t is None:
            r.setdefault("externalRef", {}).setdefault("metadata", {})["namespace"] = namespace
            resources.append(r)
            continue
        if t["kind"] == "LaunchTemplate":  # shared with blue: read, never recreated
            resources.append({"id": r["id"], "externalRef": {"apiVersion": t["apiVersion"], "kind": t["kind"],
                                                             "metadata": {"name": t["metadata"]["name"],
                                                                          "namespace": namespace}}})
            continue
        md = t["metadata"]
        ann = {k: v for k, v in (md.get("annotations") or {}).items() if k not in ADOPTION_KEYS}
        if "tf2kro.dev/terraform-address" in ann:
            ann["tf2kro.dev/blue-terraform-address"] = ann.pop("tf2kro.dev/terraform-address")
        ann[DELETION] = "retain"
        md["annotations"] = dict(sorted(ann.items()))
        md["labels"] = {**(md.get("labels") or {}), **CREATED_LABELS}
        new_name = with_suffix(md["name"], "-green")
        renamed[md["name"]] = new_name
        md["name"] = new_name
        spec = t.setdefault("spec", {})
        t["spec"] = spec = _replace_strings(spec, blue.name, "${schema.spec.clusterName}")
        retag(spec, "${schema.spec.clusterName}")
        if t["kind"] == "Cluster":
            spec["name"] = "${schema.spec.clusterName}"
            spec["version"] = "${schema.spec.clusterVersion}"
            cluster_id = r["id"]
        if t["kind"] == "Nodegroup":
            spec["version"] = "${schema.spec.clusterVersion}"
            spec.pop("releaseVersion", None)  # an AMI release of the old version
        if t["kind"] == "AccessEntry":
            principals.add(spec.get("principalARN"))
        resources.append(r)
    base_tags = {}
    for r in resources:
        if (r.get("template") or {}).get("kind") == "Cluster":
            base_tags = dict(r["template"]["spec"].get("tags") or {})
    region = "${schema.spec.region}" if "region" in spec_schema else blue.region
    all_phases = emit_phases(estate.result, estate.graph, EmitOptions(env=env, namespace=namespace, root=root,
                                                                       size_budget=None), estate.hcl)
    blue_provider = blue_oidc(all_phases, blue)
    oidc_name = (with_suffix(blue_provider[2]["metadata"]["name"], "-green") if blue_provider
                 else names.object_name(f"{sanitize(green_name, 'green')}-oidc-provider"))
    client_ids = list(((blue_provider[2].get("spec") or {}).get("clientIDs") if blue_provider else None)
                      or ["sts.amazonaws.com"])
    resources.append({"id": GREEN_OIDC_ID, "template": {
        "apiVersion": "iam.services.k8s.aws/v1alpha1", "kind": "OpenIDConnectProvider",
        "metadata": {"name": oidc_name, "labels": dict(CREATED_LABELS),
                     "annotations": {DELETION: "retain", "services.k8s.aws/region": region}},
        # the issuer exists only once green is ACTIVE: kro waits for the Cluster status (hard reference)
        "spec": {"url": "${" + cluster_id + ".status.identity.oidc.issuer}", "clientIDs": client_ids,
                 "tags": [{"key": k, "value": v} for k, v in sorted(base_tags.items())]},
    }, "readyWhen": _ready(GREEN_OIDC_ID)})
    renamed["<oidc-provider>"] = oidc_name
    if fleet is not None and fleet.role_arn(blue) not in principals:
        entry = with_suffix(names.object_name("argocd-deployer-access-entry"), "-green")
        resources.append({"id": "argocdDeployerAccessEntry", "template": {
            "apiVersion": "eks.services.k8s.aws/v1alpha1", "kind": "AccessEntry",
            "metadata": {"name": entry, "labels": dict(CREATED_LABELS),
                         "annotations": {DELETION: "retain", "services.k8s.aws/region": region}},
            "spec": {"clusterName": "${" + cluster_id + ".spec.name}", "principalARN": fleet.role_arn(blue),
                     "type": "STANDARD", "tags": base_tags,
                     "accessPolicies": [{"policyARN": ARGOCD_ACCESS_POLICY, "accessScope": {"type": "cluster"}}]},
        }, "readyWhen": _ready("argocdDeployerAccessEntry")})
        renamed["<argocd-access-entry>"] = entry
    rgd["spec"]["resources"] = resources
    rgd["spec"]["schema"]["status"] = {"oidcIssuer": "${" + cluster_id + ".status.identity.oidc.issuer}",
                                       "oidcProviderARN": "${" + GREEN_OIDC_ID + ".status.ackResourceMetadata.arn}"}
    rgd["metadata"]["annotations"]["tf2kro.dev/cluster-generation"] = "green"
    rgd["metadata"]["annotations"]["tf2kro.dev/upgrade-of"] = blue.name
    inst["metadata"]["name"] = names.instance_name("green-cluster")
    inst["metadata"]["labels"] = dict(CREATED_LABELS)
    inst["spec"]["clusterName"] = green_name
    inst["spec"]["clusterVersion"] = version
    return rgd, inst, renamed


# --------------------------------------------------------------------------------------------- IRSA trust


def _irsa_statements(doc: dict[str, Any], provider_arn: str) -> list[dict[str, Any]]:
    return [st for st in doc.get("Statement") or []
            if "sts:AssumeRoleWithWebIdentity" in ([st.get("Action")] if isinstance(st.get("Action"), str)
                                                   else st.get("Action") or [])
            and (st.get("Principal") or {}).get("Federated") == provider_arn]


def irsa_phases(estate: Any, blue: Cluster, env: str, namespace: str, green_oidc_object: str, mode: str
                ) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    """The convert phases (same options as `tf2kro convert`, so the same parts and names) whose IRSA roles trust
    blue's OIDC provider, rewritten: mode `add` appends a green statement next to each blue one (Federated = green's
    provider ARN, condition keys on green's issuer, both read by kro from the green provider), mode `remove` keeps
    only the green statements and lets ACK delete blue's provider. Returns ({part: [rgd]}, [role names]); a role
    whose web-identity trust policy is not a literal JSON document is listed as `?name` (to be done by hand)."""
    phases = emit_phases(estate.result, estate.graph, EmitOptions(env=env, namespace=namespace,
                                                                   root=getattr(estate, "root", "root")), estate.hcl)
    found = blue_oidc(phases, blue)
    if not found:
        return {}, []
    blue_arn, blue_host, _tpl = found
    out: dict[str, list[dict[str, Any]]] = {}
    roles: list[str] = []
    unreadable: list[str] = []
    for po in phases:
        rgd = copy.deepcopy(po.rgd)
        changed = False
        for r in rgd["spec"]["resources"]:
            t = r.get("template") or {}
            if t.get("kind") == "OpenIDConnectProvider" and mode == "remove" and \
                    str((t.get("spec") or {}).get("url", "")).removeprefix("https://") == blue_host:
                t["metadata"]["annotations"][DELETION] = "delete"
                t["metadata"].setdefault("labels", {})[LIFECYCLE] = "decommission"
                changed = True
            if t.get("kind") != "Role":
                continue
            raw = (t.get("spec") or {}).get("assumeRolePolicyDocument")
            try:
                doc = json.loads(raw) if isinstance(raw, str) else None
            except ValueError:
                doc = None
            if not isinstance(doc, dict):
                if isinstance(raw, str) and "AssumeRoleWithWebIdentity" in raw:
                    unreadable.append(t["metadata"]["name"])  # a computed document: cannot be rewritten safely
                continue
            if not _irsa_statements(doc, blue_arn):
                continue
            greens = []
            for st in _irsa_statements(doc, blue_arn):
                # the ARN contains the host: replace it first
                g = json.loads(json.dumps(st).replace(blue_arn, _ARN_MARK).replace(blue_host, _HOST_MARK))
                if g.get("Sid"):
                    g["Sid"] = f"{g['Sid']}Green"
                greens.append(g)
            if mode == "add":
                doc["Statement"] = list(doc["Statement"]) + greens
            else:
                doc["Statement"] = [s for s in doc["Statement"] if s not in _irsa_statements(doc, blue_arn)] + greens
            text = json.dumps(doc, separators=(",", ":"))
            # kro string templates: the green ARN and issuer host come from the green provider at reconcile time
            t["spec"]["assumeRolePolicyDocument"] = (
                text.replace(_ARN_MARK, "${" + GREEN_OIDC_ID + ".status.ackResourceMetadata.arn}")
                .replace(_HOST_MARK, "${" + GREEN_OIDC_ID + '.spec.url.replace("https://", "")}'))
            roles.append(t["metadata"]["name"])
            changed = True
        if not changed:
            continue
        if not any(r["id"] == GREEN_OIDC_ID for r in rgd["spec"]["resources"]):
            rgd["spec"]["resources"].insert(0, {"id": GREEN_OIDC_ID, "externalRef": {
                "apiVersion": "iam.services.k8s.aws/v1alpha1", "kind": "OpenIDConnectProvider",
                "metadata": {"name": green_oidc_object, "namespace": namespace}}})
        rgd["metadata"]["annotations"][f"tf2kro.dev/irsa-{mode}"] = blue.name
        out[po.part or po.phase] = [rgd]
    roles += [f"?{n}" for n in unreadable]
    return out, roles


def argocd_registration_rgd(fleet: Fleet, blue: Cluster, env: str, namespace: str, green_name: str,
                            green_cluster_object: str, root: str = "root") -> tuple[dict[str, Any], dict[str, Any]]:
    """kro renders the green cluster's ArgoCD Secret from the live Cluster status (endpoint + CA), so no URL or
    CA is guessed before the cluster exists. The Secret is labelled `cluster-generation: green-staged`: the fleet's
    ApplicationSets (which select blue and green) do not pick it up; the upgrade's waves deploy to it app by app."""
    green = Naming(env, root)
    kind = green.kind("green-argocd")
    labels = argocd.cluster_labels(fleet, blue, generation=STAGED)
    cfg = ('{"awsAuthConfig":{"clusterName":"${schema.spec.clusterName}","roleARN":"' + fleet.role_arn(blue)
           + '"},"tlsClientConfig":{"insecure":false,"caData":"${greenCluster.status.certificateAuthority.data}"}}')
    rgd = {
        "apiVersion": "kro.run/v1alpha1",
        "kind": "ResourceGraphDefinition",
        "metadata": {"name": green.rgd_name("green-argocd", SCHEMA_GROUP),
                     "annotations": {"argocd.argoproj.io/sync-wave": "-1",
                                     "argocd.argoproj.io/sync-options": "ServerSideApply=true"}},
        "spec": {
            "schema": {
                "apiVersion": "v1alpha1", "kind": kind, "group": "migration.tf2kro.dev", "scope": "Namespaced",
                "spec": {"clusterName": "string | required=true", "clusterObject": "string | required=true"},
                "status": {"server": "${greenCluster.status.endpoint}"},
            },
            "resources": [
                {"id": "greenCluster",
                 "externalRef": {"apiVersion": "eks.services.k8s.aws/v1alpha1", "kind": "Cluster",
                                 "metadata": {"name": green_cluster_object, "namespace": namespace}}},
                {"id": "argocdSecret",
                 "readyWhen": ["${argocdSecret.metadata.name != \"\"}"],
                 "template": {
                     "apiVersion": "v1", "kind": "Secret",
                     "metadata": {"name": "cluster-${schema.spec.clusterName}", "namespace": fleet.argocd_namespace,
                                  "labels": labels,
                                  "annotations": {argocd.VPC_ANNOTATION: blue.vpc_id,
                                                  "tf2kro.dev/kubernetes-version": "${greenCluster.spec.version}"}},
                     "type": "Opaque",
                     "stringData": {"name": "${schema.spec.clusterName}",
                                    "server": "${greenCluster.status.endpoint}",
                                    "config": cfg},
                 }},
            ],
        },
    }
    inst = {"apiVersion": "migration.tf2kro.dev/v1alpha1", "kind": kind,
            "metadata": {"name": green.instance_name("green-argocd"), "namespace": namespace,
                         "labels": dict(CREATED_LABELS),
                         "annotations": {"argocd.argoproj.io/sync-wave": "0",
                                         "argocd.argoproj.io/sync-options":
                                             "SkipDryRunOnMissingResource=true,ServerSideApply=true"}},
            "spec": {"clusterName": green_name, "clusterObject": green_cluster_object}}
    return rgd, inst


def green_addons(estate: Any, blue: Cluster, green_name: str, namespace: str, chosen: dict[str, dict[str, Any]],
                 region: str, env: str = "main") -> list[dict[str, Any]]:
    """Blue's EKS add-ons (at the versions chosen for the target) and Pod Identity associations, for green."""
    blue_names = Naming(env, getattr(estate, "root", "root"))
    others = _other_cluster_addresses(estate, blue)
    out = []
    for mo in sorted(estate.result.objects.values(), key=lambda m: m.conversion.object_name or ""):
        if mo.mapping.kind not in ("Addon", "PodIdentityAssociation"):
            continue
        body = copy.deepcopy(mo.conversion.body or {})
        spec = body.get("spec") or {}
        if spec.get("clusterName") not in (blue.name, None) or mo.inst.address in others:
            continue
        spec["clusterName"] = green_name
        if mo.mapping.kind == "Addon":
            name = spec.get("name")
            if name in chosen:
                spec["addonVersion"] = chosen[name]["to"]
            spec["resolveConflicts"] = "OVERWRITE"
        retag(spec, green_name)
        ann = {k: v for k, v in (body["metadata"].get("annotations") or {}).items() if k not in ADOPTION_KEYS}
        ann.pop("tf2kro.dev/terraform-address", None)
        ann[DELETION] = "retain"
        ann["services.k8s.aws/region"] = region
        body["metadata"] = {"name": with_suffix(blue_names.object_name(body["metadata"]["name"]), "-green"), "namespace": namespace,
                            "labels": dict(CREATED_LABELS), "annotations": dict(sorted(ann.items()))}
        body["spec"] = spec
        out.append(body)
    return out


# --------------------------------------------------------------------------------------------- traffic + gates


def record_sets(fleet: Fleet, blue: Cluster, green_name: str, green_weight: int, namespace: str,
                region: str) -> list[dict[str, Any]]:
    tr = fleet.traffic
    zone = tr.get("hostedZoneID", "")
    out = []
    for rec in tr.get("records") or []:
        targets = rec.get("targets") or {}
        blue_target = targets.get(blue.name, f"ingress.{blue.name}.example.com")
        green_target = targets.get(green_name) or blue_target.replace(blue.name, green_name)
        base = re.sub(r"[^a-z0-9-]+", "-", rec["name"].lower()).strip("-")
        for gen, target, weight in (("blue", blue_target, 100 - green_weight), ("green", green_target, green_weight)):
            out.append({
                "apiVersion": "route53.services.k8s.aws/v1alpha1",
                "kind": "RecordSet",
                "metadata": {"name": f"{base}-{gen}", "namespace": namespace,
                             "labels": {LIFECYCLE: "created", argocd.GEN_LABEL: gen},
                             "annotations": {DELETION: "retain", "services.k8s.aws/region": region}},
                "spec": {"hostedZoneID": zone, "name": rec["name"], "recordType": rec.get("type", "CNAME"),
                         "setIdentifier": gen, "weight": weight, "ttl": int(rec.get("ttl", 60)),
                         "resourceRecords": [{"value": target}]},
            })
    return out


def smoke_job(step: str, fleet: Fleet, green_name: str, blue_name: str = "") -> dict[str, Any]:
    """Health of each public host and of green's own ingress target (the one its weighted record points to)."""
    hosts = [r["name"] for r in fleet.traffic.get("records") or []]
    targets = []
    for r in fleet.traffic.get("records") or []:
        t = (r.get("targets") or {})
        blue_t = t.get(blue_name) or next(iter(t.values()), "")
        targets.append(t.get(green_name) or (blue_t.replace(blue_name, green_name) if blue_name else blue_t))
    # record names and targets come from the fleet file: each URL is one quoted shell word, never code
    cmd = " && ".join([f"curl -fsS --max-time 10 -o /dev/null {shlex.quote(f'https://{h}/healthz')}" for h in hosts]
                      + [f"curl -fsSk --max-time 10 -o /dev/null {shlex.quote(f'https://{t}/healthz')}"
                         for t in targets if t]) or "true"
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": f"smoke-{step}", "namespace": gates.GATE_NS,
                     "annotations": {"argocd.argoproj.io/hook": "PostSync",
                                     "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation"}},
        "spec": {"backoffLimit": 2, "template": {"spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "smoke", "image": "curlimages/curl:8.10.1", "command": ["sh", "-c", cmd]}],
        }}},
    }


def waves(fleet: Fleet) -> list[list[str]]:
    """Application waves from `traffic.waves` (default: one application per wave, in fleet-file order)."""
    known = [a.name for a in fleet.applications]
    declared = fleet.traffic.get("waves")
    if not declared:
        return [[n] for n in known]
    seen: list[str] = []
    for w in declared:
        for n in w:
            if n not in known:
                raise ToolError(f"fleet file: traffic.waves names {n!r}, not an application (known: {', '.join(known)})")
            if n in seen:
                raise ToolError(f"fleet file: traffic.waves names {n!r} twice")
            seen.append(n)
    rest = [n for n in known if n not in seen]
    return [list(w) for w in declared] + ([rest] if rest else [])


def green_cluster(blue: Cluster, green_name: str, version: str) -> Cluster:
    return dataclasses.replace(blue, name=green_name, generation=STAGED, server="", version=version)


def green_applications(fleet: Fleet, blue: Cluster, green: Cluster, names: list[str], wave: str) -> list[dict[str, Any]]:
    """The Applications the fleet's ApplicationSets would render for green (same template, green's parameters),
    addressed by cluster name (green's endpoint exists only at run time) and with the resources finalizer, so that
    deleting one (a wave's rollback) removes its workloads from green."""
    out = []
    for app in fleet.applications:
        if app.name not in names or not argocd.selects(app, blue):
            continue
        tpl = argocd.application_set(fleet, app)["spec"]["template"]
        params = argocd.generator_params(fleet, green, app, blue.env)
        out.append(_as_green_app(fleet, argocd.render_go_template(tpl, params), green.name, wave))
    return out


def platform_applications(fleet: Fleet, blue: Cluster, green: Cluster) -> list[dict[str, Any]]:
    tpl = argocd.platform_base_set(fleet)["spec"]["template"]
    secret = argocd.cluster_secret(fleet, green)
    params = {"name": green.name, "server": "", "metadata": {"labels": secret["metadata"]["labels"],
                                                            "annotations": secret["metadata"]["annotations"]}}
    return [_as_green_app(fleet, argocd.render_go_template(tpl, params), green.name, "platform")]


def _as_green_app(fleet: Fleet, rendered: dict[str, Any], green_name: str, wave: str) -> dict[str, Any]:
    md = rendered["metadata"]
    md["namespace"] = fleet.argocd_namespace
    md.setdefault("labels", {})[WAVE_LABEL] = wave
    md["finalizers"] = ["resources-finalizer.argocd.argoproj.io"]
    dest = rendered["spec"]["destination"]
    rendered["spec"]["destination"] = {"name": green_name, "namespace": dest.get("namespace", "default")}
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": md, "spec": rendered["spec"]}


def scaled_to_zero(rgd: dict[str, Any]) -> dict[str, Any]:
    """The green RGD with every green node group at zero nodes: green stays registered but runs nothing."""
    out = copy.deepcopy(rgd)
    for r in out["spec"]["resources"]:
        t = r.get("template") or {}
        if t.get("kind") == "Nodegroup":
            sc = t["spec"].setdefault("scalingConfig", {})
            sc["minSize"] = 0
            sc["desiredSize"] = 0
            sc.setdefault("maxSize", 1)
    return out


def kustomization(resources: list[str]) -> str:
    return dump_yaml([{"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                       "resources": sorted(resources)}])


# --------------------------------------------------------------------------------------------- plan


def plan_upgrade(fleet: Fleet, estate: Any, cluster: str, to_version: str, describe: dict[str, Any],
                 env_name: str | None = None, namespace: str | None = None) -> tuple[dict[str, str], dict[str, Any]]:
    """Ordered step directories, each synced to the hub by its own Application with its gate as hook Jobs.

    `env_name` is the `--env` that `tf2kro convert` used (default: convert's default), so every blue name this
    plan refers to is the one convert emitted (converter/emit/naming.py); `namespace` is convert's `--namespace`
    (default: the fleet's hub namespace, where its policies expect ACK objects)."""
    check_fleet_names(fleet)
    blue = fleet.cluster(cluster)
    if blue is None:
        raise ToolError(f"cluster {cluster!r} is not in the fleet file (known: {', '.join(c.name for c in fleet.clusters)})")
    require_blue_in_state(estate, blue)
    if _vkey(to_version) <= _vkey(blue.version):
        raise ToolError(f"target version {to_version} is not newer than {blue.name}'s {blue.version}")
    env = env_name or CONVERT_DEFAULT_ENV
    root = getattr(estate, "root", "root")
    ns = namespace or fleet.hub_namespace
    settings = gates.GateSettings.from_fleet(fleet)
    green_name = f"{blue.name}-green"
    green = green_cluster(blue, green_name, to_version)
    prefix = fit(sanitize(f"upgrade-{green_name}", "upgrade"))
    installed = {}
    for inst in estate.state.instances:
        if inst.type == "aws_eks_addon" and inst.attributes.get("cluster_name") == blue.name:
            installed[inst.attributes["addon_name"]] = inst.attributes.get("addon_version", "")
    chosen = choose_addon_versions(describe, installed, to_version)
    rgd, inst, renamed = green_rgd(estate, blue, env, ns, green_name, to_version, fleet)
    cluster_obj = next(r["template"]["metadata"]["name"] for r in rgd["spec"]["resources"]
                       if r.get("template", {}).get("kind") == "Cluster")
    files: dict[str, str] = {}
    steps: list[dict[str, Any]] = []
    apps: list[dict[str, Any]] = []
    plumbing_files = {"gate-plumbing.yaml": gates.plumbing(fleet.argocd_namespace, ns)}

    def step(dirname: str, title: str, gate: str, docs: dict[str, list[dict[str, Any]]], body: str = "",
             replace: dict[str, list[dict[str, Any]]] | None = None,
             rollback: dict[str, list[dict[str, Any]]] | None = None, rollback_note: str = "") -> None:
        synced = dict(docs)
        if any(d.get("kind") == "Job" for objs in docs.values() for d in objs):
            synced.update(plumbing_files)
        for rel, objs in synced.items():
            files[f"{dirname}/{rel}"] = dump_yaml(objs)
        files[f"{dirname}/kustomization.yaml"] = kustomization(list(synced))
        for rel, objs in (replace or {}).items():
            files[f"{dirname}/replace/{rel}"] = dump_yaml(objs)
        name = gates.app_name(prefix, dirname[:2])
        apps.append(gates.step_application(fleet, name, prefix, f"{fleet.path}/upgrade/{dirname}".lstrip("/")))
        entry: dict[str, Any] = {"dir": dirname, "title": title, "gate": gate.splitlines()[0], "application": name}
        if rollback is not None:
            rb = f"{name}-rollback"
            for rel, objs in rollback.items():
                files[f"{dirname}/rollback/{rel}"] = dump_yaml(objs)
            files[f"{dirname}/rollback/kustomization.yaml"] = kustomization(list(rollback))
            apps.append(gates.step_application(fleet, rb, f"{prefix}-rollback",
                                               f"{fleet.path}/upgrade/{dirname}/rollback".lstrip("/")))
            entry["rollback"] = rb
        listing = "\n".join(f"- `{rel}`" for rel in sorted(synced))
        extra = "".join(f"\n- `replace/{rel}` (replaces `{rel}` in the `tf2kro convert --env {env}` output)"
                        for rel in sorted(replace or {}))
        back = (f"\n\n## Way back\n\n{rollback_note}" if rollback_note else "")
        files[f"{dirname}/README.md"] = (f"# {dirname}: {title}\n\n{body}\n\n## Files\n\n{listing}{extra}\n\n"
                                         f"## Gate (must pass before the next step is merged)\n\n{gate}{back}\n")
        steps.append(entry)

    from converter.fleet.render import fleet_policies

    allowed = [p for p in fleet_policies(fleet, extra_versions=[to_version]) if p.name == "eksallowedversions"]
    oidc_obj = renamed["<oidc-provider>"]
    access = renamed.get("<argocd-access-entry>")
    step("01-green-cluster", f"create {green_name} (Kubernetes {to_version}) next to {blue.name} ({blue.version})",
         f"`kubectl -n {ns} get {inst['kind'].lower()} {inst['metadata']['name']}` is `ACTIVE`; the ACK Cluster "
         f"`{cluster_obj}` has `status.status: ACTIVE`, every green Nodegroup is `ACTIVE` with "
         f"`spec.version: \"{to_version}\"`, the OpenIDConnectProvider `{oidc_obj}` is synced.\nNo blue object changed "
         f"(`kubectl -n {ns} get cluster,nodegroup -l {LIFECYCLE}!=created` shows no new generation).",
         {"rgd.yaml": [rgd], "instance.yaml": [inst],
          # the template with its constraint: the step validates on its own (the hub's copy is the same object)
          "gatekeeper-allowed-versions.yaml": [allowed[0].template, *allowed[0].constraints] if allowed else []},
         body=(f"A second instance of the cluster phase, as kind `{inst['kind']}`. It reuses blue's subnets, IAM "
               "roles, security groups, KMS key and launch templates through `externalRef` (never modified) and "
               f"creates the Cluster, Nodegroups and every access entry blue has (`{LIFECYCLE}: created`, no adoption "
               f"annotations, tags `Cluster: {green_name}`, `ManagedBy: {MANAGED_BY}`), green's IAM OIDC provider "
               "(`url` = the green Cluster's `status.identity.oidc.issuer`, read by kro)"
               + (f", and the access entry of the ArgoCD deployer role `{fleet.role_arn(blue)}` "
                  "(AmazonEKSClusterAdminPolicy, cluster scope) that registration needs" if access else "")
               + f". The Gatekeeper allowed-versions constraint is widened to {to_version} first."))
    trust_add, irsa_all = irsa_phases(estate, blue, env, ns, oidc_obj, "add")
    trust_remove, _ = irsa_phases(estate, blue, env, ns, oidc_obj, "remove")
    irsa_roles = [r for r in irsa_all if not r.startswith("?")]
    by_hand = [r[1:] for r in irsa_all if r.startswith("?")]
    # roles the fleet file names (External Secrets store) that the estate does not hold: their trust is not ours
    estate_role_names = {str((r.get("template") or {}).get("spec", {}).get("name", ""))
                         for objs in trust_add.values() for d in objs for r in d["spec"]["resources"]}
    for arn in [str((getattr(fleet, "store", None) or {}).get("roleARN") or "")]:
        if arn and arn.rsplit("/", 1)[-1] not in estate_role_names:
            by_hand.append(arn)
    hand_note = ("\n\nNot rewritten (not a literal trust policy in the estate, or a role the fleet file names that the "
                 "estate does not hold): add green's web-identity statement to these by hand before step 04: "
                 + ", ".join(f"`{r}`" for r in by_hand) + ".") if by_hand else ""
    step("02-irsa-trust", f"IRSA roles trust {green_name}'s OIDC issuer too",
         f"Each role ({', '.join(irsa_roles) or 'none found'}) shows two web-identity statements: "
         f"`kubectl -n {ns} get role.iam.services.k8s.aws NAME -o jsonpath={{.spec.assumeRolePolicyDocument}}` "
         "names blue's and green's provider; `ACK.ResourceSynced` is True.",
         {}, replace={f"{part}/rgd.yaml": objs for part, objs in sorted(trust_add.items())},
         body=("Replace each phase RGD listed below in the convert output (same file names): every IAM role "
               "whose trust policy accepts `sts:AssumeRoleWithWebIdentity` from blue's OIDC provider gets the same "
               "statement for green's provider (ARN and issuer host read by kro from the green OpenIDConnectProvider, "
               "so nothing is guessed). Blue keeps working; workloads on green can assume the same roles. "
               "This precedes the add-ons (EBS CSI uses IRSA) and the registration." + hand_note))
    def trust_gate(n: str) -> list[dict[str, Any]]:
        return [gates.trust_job(f"trust-{n}", ns, oidc_obj, irsa_roles)] if irsa_roles else []

    addons = green_addons(estate, blue, green_name, ns, chosen, blue.region, env)
    versions_doc = {"cluster": green_name, "kubernetesVersion": to_version, "addons": chosen}
    files["03-addons/addon-versions.json"] = json.dumps(versions_doc, indent=2) + "\n"
    table = "\n".join(f"| {n} | {c['from']} | {c['to']} | {c['reason']} |" for n, c in sorted(chosen.items()))
    pia = [a for a in addons if a["kind"] == "PodIdentityAssociation"]
    step("03-addons", f"EKS add-ons and Pod Identity associations on {green_name}",
         ("PreSync Job `trust-03`: every IRSA role trusts green's OIDC provider (step 02 synced). " if irsa_roles else "")
         + f"Every Addon of `{green_name}` reports `status.status: ACTIVE` (`kubectl -n {ns} get addons.eks.services.k8s.aws "
         f"-l {argocd.GEN_LABEL}=green`); {len(pia)} PodIdentityAssociation(s) synced; "
         f"`kubectl --context {green_name} -n kube-system get ds,deploy` all available.",
         {"addons.yaml": addons, "gates.yaml": trust_gate("03")},
         body=("Versions chosen from `eks:DescribeAddonVersions` for Kubernetes " + to_version
               + " (recorded in `addon-versions.json`):\n\n| add-on | blue | green | why |\n|---|---|---|---|\n" + table
               + "\n\nBlue's EKS Pod Identity associations are recreated for green (same role, namespace, service account)."))
    reg_rgd, reg_inst = argocd_registration_rgd(fleet, blue, env, ns, green_name, cluster_obj, root)
    blue_secret = argocd.cluster_secret(fleet, blue)
    blue_secret["metadata"]["labels"][argocd.GEN_LABEL] = "blue"
    platform = platform_applications(fleet, blue, green)
    platform_sel = f"cluster={green_name},{WAVE_LABEL}=platform"
    step("04-register-in-argocd", f"register {green_name} in ArgoCD; platform apps (External Secrets store) first",
         f"PreSync Job `trust-04`: the IRSA roles trust green. PostSync Job `platform-04`: every Application with `{platform_sel}` is Synced and Healthy "
         "(none = failure); the smoke Job `smoke-04` succeeded against the green ingress.",
         {"rgd.yaml": [reg_rgd], "instance.yaml": [reg_inst], "blue-cluster-secret.yaml": [blue_secret],
          "platform-applications.yaml": platform,
          "gates.yaml": [*trust_gate("04"),
                         gates.apps_job("platform-04", fleet.argocd_namespace, platform_sel, "PostSync"),
                         smoke_job("04", fleet, green_name, blue.name),
                         gates.rollback_job("rollback-04", fleet.argocd_namespace,
                                            delete_apps=[a["metadata"]["name"] for a in platform])]},
         body=(f"kro renders the green cluster Secret from the live Cluster status (endpoint, CA), labelled "
               f"`{argocd.GEN_LABEL}: {STAGED}`: the fleet's ApplicationSets select blue and green only, so nothing "
               "moves yet. The platform Applications (ClusterSecretStore of External Secrets) are rendered from the "
               "same ApplicationSet templates for green. Gatekeeper and its constraints run on the hub and already "
               f"guard green's ACK objects (allowed versions widened in step 01)."),
         rollback_note="The SyncFail hook `rollback-04` deletes the green platform Applications (their finalizer "
                       "removes what they deployed); blue is untouched.")
    n = 5
    for i, wave in enumerate(waves(fleet), start=1):
        d = f"{n:02d}-workloads-wave-{i}"
        wapps = green_applications(fleet, blue, green, wave, str(i))
        sel = f"cluster={green_name},{WAVE_LABEL}={i}"
        step(d, f"deploy wave {i} ({', '.join(wave)}) to {green_name}",
             f"PreSync Job `platform-{n:02d}` (order gate): the platform Applications on green are Synced and Healthy. "
             f"PostSync Job `wave-{n:02d}`: every Application with `{sel}` is Synced and Healthy (none = failure).",
             {"applications.yaml": wapps,
              "gates.yaml": [gates.apps_job(f"platform-{n:02d}", fleet.argocd_namespace, platform_sel, "PreSync"),
                             gates.apps_job(f"wave-{n:02d}", fleet.argocd_namespace, sel, "PostSync"),
                             gates.rollback_job(f"rollback-{n:02d}", fleet.argocd_namespace,
                                                delete_apps=[a["metadata"]["name"] for a in wapps])]},
             body=("The Applications the ApplicationSets render for green, for this wave's applications only "
                   "(`traffic.waves` of the fleet file; default one application per wave). Green receives no traffic yet."),
             rollback_note=f"The SyncFail hook `rollback-{n:02d}` deletes this wave's green Applications "
                           "(workloads removed from green by the resources finalizer); by hand: revert the PR.")
        n += 1
    weights = [int(w) for w in (fleet.traffic.get("steps") or [10, 50, 100])]
    bake_s = gates.seconds(settings.bake, "bake")
    window_s = gates.seconds(settings.window, "window")
    last_traffic = ""
    previous = 0
    for w in weights:
        d = f"{n:02d}-traffic-{w}"
        # at 100 % blue serves nothing: its side of the comparison is read from before the shift
        blue_offset = f"{bake_s + window_s}s" if w == 100 else ""
        cmp_job = gates.metrics_job(f"compare-{n:02d}", settings, green_name, blue.name, blue_offset=blue_offset)
        name = gates.app_name(prefix, f"{n:02d}")
        gate = (f"PostSync Jobs `smoke-{n:02d}` and `compare-{n:02d}` succeeded: for {settings.bake} green's 5xx rate "
                f"≤ blue × {settings.max_error_ratio} + {settings.max_error_delta} and green's p99 latency ≤ blue × "
                f"{settings.max_p99_ratio} ({settings.provider} metrics, {settings.prometheus_url}); an empty "
                "result fails the gate.")
        if w == 100:
            gate += (f" Blue's side is read {blue_offset} back (before the shift). The decommission step waits "
                     f"{settings.soak} after this step's sync.")
        step(d, f"shift {w} % of traffic to {green_name}", gate,
             {"recordsets.yaml": record_sets(fleet, blue, green_name, w, ns, blue.region),
              "gates.yaml": [smoke_job(f"{n:02d}", fleet, green_name, blue.name), cmp_job,
                             gates.rollback_job(f"rollback-{n:02d}", fleet.argocd_namespace,
                                                sync_app=f"{name}-rollback")]},
             body=("Weighted Route53 records (setIdentifier blue/green). If the current record is a simple "
                   "(non-weighted) record, the first weighted pair replaces it: adopt it first or delete it in the "
                   "same change window, Route53 does not allow simple and weighted records with the same name."
                   if previous == 0 else "Weighted Route53 records: only the weights change."),
             rollback={"recordsets.yaml": record_sets(fleet, blue, green_name, previous, ns, blue.region)},
             rollback_note=(f"`rollback/` puts the weights back to {100 - previous} % blue / {previous} % green. The "
                            f"SyncFail hook `rollback-{n:02d}` syncs it (Application `{name}-rollback`, project "
                            f"`{prefix}-rollback`: no sync window blocks it) when a gate fails."))
        last_traffic = name
        previous = w
        n += 1
    blue_phases = emit_phases(estate.result, estate.graph,
                              EmitOptions(env=env, namespace=ns, phases=("cluster",), root=root), estate.hcl)
    replace: dict[str, list[dict[str, Any]]] = {}
    deleted = []
    others = _other_cluster_addresses(estate, blue)
    for po in blue_phases:
        decom = copy.deepcopy(po.rgd)
        for r in decom["spec"]["resources"]:
            t = r.get("template")
            if t and t["kind"] in CLUSTER_BOUND and \
                    (t["metadata"].get("annotations") or {}).get("tf2kro.dev/terraform-address") not in others:
                t["metadata"]["annotations"][DELETION] = "delete"
                t["metadata"].setdefault("labels", {})[LIFECYCLE] = "decommission"
                deleted.append(f"{t['kind']} {t['metadata']['name']}")
        replace[f"{po.part or po.phase}/rgd.yaml"] = [decom]
    for part, objs in trust_remove.items():
        replace.setdefault(f"{part}/rgd.yaml", objs)
    final_blue_offset = f"{gates.seconds(settings.soak, 'soak') + window_s}s"
    step(f"{n:02d}-decommission-blue", f"decommission {blue.name} (last)",
         f"PreSync Jobs: `soak-{n:02d}` — Application `{last_traffic}` (100 %) synced successfully at least "
         f"{settings.soak} ago; `compare-{n:02d}` — the final comparison still holds. Only then merge `replace/`.\n"
         f"After: the EKS cluster {blue.name} is gone (`aws eks describe-cluster --name {blue.name}` → "
         "ResourceNotFoundException); shared network/IAM/KMS/launch templates untouched.",
         {"gates.yaml": [gates.soak_job(f"soak-{n:02d}", fleet.argocd_namespace, last_traffic, settings.soak),
                         gates.metrics_job(f"compare-{n:02d}", settings, green_name, blue.name, hook="PreSync",
                                           bake="0s", blue_offset=final_blue_offset)]},
         replace=replace,
         body=(f"1. Merge this directory: its gate (soak {settings.soak}, metrics) runs as PreSync hooks.\n"
               f"2. Replace the convert output's files (`tf2kro convert --env {env}`: RGD `{blue_phases[0].rgd['metadata']['name']}`, "
               f"instance `{blue_phases[0].instance['metadata']['name']}`) with `replace/`: the cluster-bound objects "
               "switch to `deletion-policy: delete` (" + ", ".join(deleted) + "); the IRSA roles keep only green's "
               "statement and blue's OIDC provider is deleted.\n"
               f"3. Remove the blue cluster Secret (`hub/argocd/clusters/{blue.name}.yaml`) and the blue RecordSet.\n"
               "4. Delete the blue cluster-phase instance from git; kro deletes the children, ACK deletes the AWS "
               "cluster and node groups. Launch templates, subnets, roles stay (retain / externalRef).\n"
               f"5. `terraform state rm` the blue cluster addresses; set `generation: green` for {green_name} in the "
               "fleet file and rerun `tf2kro fleet` (the ApplicationSets then own green's Applications)."))
    # the way back from anywhere before decommission: blue takes all traffic, green's workloads go, green's nodes
    # scale to zero; blue is never touched
    files["abort/recordsets.yaml"] = dump_yaml(record_sets(fleet, blue, green_name, 0, ns, blue.region))
    files["abort/green-rgd-scaled-to-zero.yaml"] = dump_yaml([scaled_to_zero(rgd)])
    files["abort/kustomization.yaml"] = kustomization(["recordsets.yaml", "green-rgd-scaled-to-zero.yaml"])
    apps.append(gates.step_application(fleet, f"{prefix}-abort", f"{prefix}-rollback",
                                       f"{fleet.path}/upgrade/abort".lstrip("/")))
    files["abort/README.md"] = (f"# abort: back to {blue.name}\n\nSync Application `{prefix}-abort` (project "
                                f"`{prefix}-rollback`, never blocked by a sync window): 100 % of traffic to blue, "
                                f"green's node groups scaled to zero. Blue is not changed by any step before "
                                "decommission, so this is always safe before it.\n")
    files["argocd/applications.yaml"] = dump_yaml(apps)
    files["argocd/projects.yaml"] = dump_yaml(gates.projects(fleet, blue.env, prefix, [gates.GATE_NS, ns,
                                                                                        fleet.argocd_namespace]))
    files["argocd/kustomization.yaml"] = kustomization(["applications.yaml", "projects.yaml"])
    summary = {"cluster": blue.name, "from": blue.version, "to": to_version, "green": green_name, "env": env,
               "addons": {k: v["to"] for k, v in chosen.items()}, "irsaRoles": irsa_roles, "irsaByHand": by_hand,
               "steps": steps}
    files["upgrade.json"] = json.dumps(summary, indent=2) + "\n"
    files["README.md"] = (f"# Blue/green upgrade of {blue.name}: {blue.version} → {to_version}\n\n"
                          f"Names follow `tf2kro convert --env {env} --root {root}`. Commit this directory as "
                          f"`{fleet.path}/upgrade/` of the fleet repository and apply `argocd/` once: one Application "
                          "per step (gates are its hook Jobs in namespace `fleet-gates`) and one per way back. "
                          "After a step's PR merged, sync its Application (`argocd app sync NAME`); none is "
                          "automated, so no later commit re-applies a step over its rollback.\n"
                          "One directory per pull request, merged in order; each README states the gate.\n\n"
                          + "\n".join(f"{i + 1}. `{s['dir']}` — {s['title']}" for i, s in enumerate(steps))
                          + "\n\n`abort/` — back to blue from any step before decommission.\n")
    return files, summary
