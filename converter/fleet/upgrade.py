"""Blue/green EKS upgrade as an ordered set of PR-sized step directories.

The green cluster is a second kro instance of the cluster phase (its own RGD kind, built with `emit_phases`
under a `<env>-green` name): same VPC subnets, IAM roles, security groups, KMS key and launch templates as blue
(read through `externalRef`), new Cluster / Nodegroups / AccessEntries that are *created* (no adoption
annotations; label `tf2kro.dev/lifecycle: created`). Add-on versions are chosen for the target Kubernetes version
from `eks:DescribeAddonVersions` (read-only; or a captured JSON file). ArgoCD learns the green cluster through a
cluster Secret rendered by kro from the live Cluster status, labelled `cluster-generation: green`, so the
ApplicationSets (which select `cluster-generation In [blue, green]`) deploy the workloads there. Traffic moves
0 → 10 → 50 → 100 % through weighted Route53 records, each step gated by a smoke test and a blue/green metric
comparison; the blue cluster is decommissioned last.
"""

from __future__ import annotations

import copy
import json
import re
import shlex
from pathlib import Path
from typing import Any

from converter.emit.kro import SCHEMA_GROUP, EmitOptions, emit_phases
from converter.emit.naming import Naming, with_suffix
from converter.emit.writer import dump_yaml
from converter.fleet import argocd
from converter.fleet.config import Cluster, Fleet, _vkey, check_fleet_names
from converter.model import ToolError

ADOPTION_KEYS = ("services.k8s.aws/adoption-policy", "services.k8s.aws/adoption-fields", "services.k8s.aws/adopted")
LIFECYCLE = "tf2kro.dev/lifecycle"
CREATED_LABELS = {LIFECYCLE: "created", argocd.GEN_LABEL: "green"}
DELETION = "services.k8s.aws/deletion-policy"
CLUSTER_BOUND = ("Cluster", "Nodegroup", "AccessEntry", "FargateProfile", "IdentityProviderConfig")


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
    from converter.diff.aws import classify_error

    addons: list[dict[str, Any]] = []
    try:
        paginator = clients.client("eks").get_paginator("describe_addon_versions")
        for name in names:
            for page in paginator.paginate(kubernetesVersion=version, addonName=name):
                addons.extend(page.get("addons") or [])
    except ToolError:
        raise
    except Exception as exc:  # noqa: BLE001 - botocore errors become one line
        from botocore.exceptions import BotoCoreError, ClientError

        if not isinstance(exc, (BotoCoreError, ClientError)):
            raise
        category, msg = classify_error(exc)
        raise ToolError(f"eks:DescribeAddonVersions failed ({category}): {msg}; pass --addon-versions FILE "
                        "(`aws eks describe-addon-versions` output) to plan offline") from None
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


def green_rgd(estate: Any, blue: Cluster, env: str, namespace: str, green_name: str, version: str
              ) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """(rgd, instance, {blue object name -> green object name}) for the green cluster phase."""
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
    for r in rgd["spec"]["resources"]:
        t = r.get("template")
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
        if t["kind"] == "Cluster":
            spec["name"] = "${schema.spec.clusterName}"
            spec["version"] = "${schema.spec.clusterVersion}"
        if t["kind"] == "Nodegroup":
            spec["version"] = "${schema.spec.clusterVersion}"
            spec.pop("releaseVersion", None)  # an AMI release of the old version
        resources.append(r)
    rgd["spec"]["resources"] = resources
    rgd["metadata"]["annotations"]["tf2kro.dev/cluster-generation"] = "green"
    rgd["metadata"]["annotations"]["tf2kro.dev/upgrade-of"] = blue.name
    inst["metadata"]["name"] = green_name
    inst["metadata"]["labels"] = dict(CREATED_LABELS)
    inst["spec"]["clusterName"] = green_name
    inst["spec"]["clusterVersion"] = version
    return rgd, inst, renamed


def argocd_registration_rgd(fleet: Fleet, blue: Cluster, env: str, namespace: str, green_name: str,
                            green_cluster_object: str, root: str = "root") -> tuple[dict[str, Any], dict[str, Any]]:
    """kro renders the green cluster's ArgoCD Secret from the live Cluster status (endpoint + CA), so no URL or
    CA is guessed before the cluster exists."""
    green = Naming(env, root)
    kind = green.kind("green-argocd")
    labels = argocd.cluster_labels(fleet, blue, generation="green")
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
            "metadata": {"name": f"{green_name}-argocd", "namespace": namespace, "labels": dict(CREATED_LABELS),
                         "annotations": {"argocd.argoproj.io/sync-wave": "0",
                                         "argocd.argoproj.io/sync-options":
                                             "SkipDryRunOnMissingResource=true,ServerSideApply=true"}},
            "spec": {"clusterName": green_name, "clusterObject": green_cluster_object}}
    return rgd, inst


def green_addons(estate: Any, blue: Cluster, green_name: str, namespace: str, chosen: dict[str, dict[str, Any]],
                 region: str, env: str = "main") -> list[dict[str, Any]]:
    blue_names = Naming(env, getattr(estate, "root", "root"))
    out = []
    for mo in sorted(estate.result.objects.values(), key=lambda m: m.conversion.object_name or ""):
        if mo.mapping.kind not in ("Addon", "PodIdentityAssociation"):
            continue
        body = copy.deepcopy(mo.conversion.body or {})
        spec = body.get("spec") or {}
        if spec.get("clusterName") not in (blue.name, None):
            continue
        spec["clusterName"] = green_name
        if mo.mapping.kind == "Addon":
            name = spec.get("name")
            if name in chosen:
                spec["addonVersion"] = chosen[name]["to"]
            spec["resolveConflicts"] = "OVERWRITE"
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


def smoke_job(step: str, fleet: Fleet, green_name: str) -> dict[str, Any]:
    hosts = [r["name"] for r in fleet.traffic.get("records") or []]
    targets = []
    for r in fleet.traffic.get("records") or []:
        t = (r.get("targets") or {})
        blue_t = next(iter(t.values()), "")
        targets.append(t.get(green_name) or blue_t)
    # record names and targets come from the fleet file: each URL is one quoted shell word, never code
    cmd = " && ".join([f"curl -fsS --max-time 10 -o /dev/null {shlex.quote(f'https://{h}/healthz')}" for h in hosts]
                      + [f"curl -fsSk --max-time 10 -o /dev/null {shlex.quote(f'https://{t}/healthz')}"
                         for t in targets if t]) or "true"
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": f"smoke-{step}", "namespace": "fleet-gates",
                     "annotations": {"argocd.argoproj.io/hook": "PostSync",
                                     "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation"}},
        "spec": {"backoffLimit": 2, "template": {"spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "smoke", "image": "curlimages/curl:8.10.1", "command": ["sh", "-c", cmd]}],
        }}},
    }


def compare_job(step: str, green_name: str, blue_name: str, max_ratio: float = 1.5) -> dict[str, Any]:
    """Metric-comparison gate: green's 5xx ratio must not exceed blue's by more than `max_ratio` (Prometheus
    federating both clusters, `cluster` label = ArgoCD cluster name)."""
    q = ('sum(rate(nginx_ingress_controller_requests{{cluster="{c}",status=~"5.."}}[10m]))'
         '/sum(rate(nginx_ingress_controller_requests{{cluster="{c}"}}[10m]))')
    script = (
        "set -eu; P=http://prometheus-operated.monitoring:9090/api/v1/query; "
        f"g=$(curl -fsS --get --data-urlencode 'query={q.format(c=green_name)}' $P | jq -r '.data.result[0].value[1] // \"0\"'); "
        f"b=$(curl -fsS --get --data-urlencode 'query={q.format(c=blue_name)}' $P | jq -r '.data.result[0].value[1] // \"0\"'); "
        f"echo \"5xx ratio green=$g blue=$b\"; "
        f"awk -v g=$g -v b=$b 'BEGIN {{ exit !(g <= b * {max_ratio} + 0.001) }}'"
    )
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": f"compare-{step}", "namespace": "fleet-gates",
                     "annotations": {"argocd.argoproj.io/hook": "PostSync",
                                     "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation"}},
        "spec": {"backoffLimit": 0, "template": {"spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "compare", "image": "ghcr.io/jqlang/jq:1.7.1-curl",
                            "command": ["sh", "-c", script]}],
        }}},
    }


# --------------------------------------------------------------------------------------------- plan


def plan_upgrade(fleet: Fleet, estate: Any, cluster: str, to_version: str, describe: dict[str, Any],
                 env_name: str | None = None) -> tuple[dict[str, str], dict[str, Any]]:
    check_fleet_names(fleet)
    blue = fleet.cluster(cluster)
    if blue is None:
        raise ToolError(f"cluster {cluster!r} is not in the fleet file (known: {', '.join(c.name for c in fleet.clusters)})")
    if _vkey(to_version) <= _vkey(blue.version):
        raise ToolError(f"target version {to_version} is not newer than {blue.name}'s {blue.version}")
    env = env_name or blue.env
    ns = fleet.hub_namespace
    green_name = f"{blue.name}-green"
    installed = {}
    for inst in estate.state.instances:
        if inst.type == "aws_eks_addon" and inst.attributes.get("cluster_name") == blue.name:
            installed[inst.attributes["addon_name"]] = inst.attributes.get("addon_version", "")
    chosen = choose_addon_versions(describe, installed, to_version)
    rgd, inst, renamed = green_rgd(estate, blue, env, ns, green_name, to_version)
    cluster_obj = next(r["template"]["metadata"]["name"] for r in rgd["spec"]["resources"]
                       if r.get("template", {}).get("kind") == "Cluster")
    files: dict[str, str] = {}
    steps: list[dict[str, str]] = []

    def step(dirname: str, title: str, gate: str, docs: dict[str, list[dict[str, Any]]], body: str = "") -> None:
        for rel, objs in docs.items():
            files[f"{dirname}/{rel}"] = dump_yaml(objs)
        listing = "\n".join(f"- `{rel}`" for rel in sorted(docs))
        files[f"{dirname}/README.md"] = (f"# {dirname}: {title}\n\n{body}\n\n## Files\n\n{listing}\n\n"
                                         f"## Gate (must pass before the next step is merged)\n\n{gate}\n")
        steps.append({"dir": dirname, "title": title, "gate": gate.splitlines()[0]})

    from converter.fleet.render import fleet_policies

    allowed = [p for p in fleet_policies(fleet, extra_versions=[to_version]) if p.name == "eksallowedversions"]
    step("01-green-cluster", f"create {green_name} (Kubernetes {to_version}) next to {blue.name} ({blue.version})",
         f"`kubectl -n {ns} get {inst['kind'].lower()} {green_name}` is `ACTIVE`; the ACK Cluster "
         f"`{cluster_obj}` has `status.status: ACTIVE` and every green Nodegroup is `ACTIVE` with "
         f"`spec.version: \"{to_version}\"`.\nNo blue object changed (`kubectl -n {ns} get cluster,nodegroup "
         f"-l {LIFECYCLE}!=created` shows no new generation).",
         {"rgd.yaml": [rgd], "instance.yaml": [inst],
          "gatekeeper-allowed-versions.yaml": allowed[0].constraints if allowed else []},
         body=(f"A second instance of the cluster phase, as kind `{inst['kind']}`. It reuses blue's subnets, IAM "
               "roles, security groups, KMS key and launch templates through `externalRef` (never modified) and "
               f"creates the Cluster, Nodegroups and access entries (`{LIFECYCLE}: created`, no adoption "
               f"annotations). The Gatekeeper allowed-versions constraint is widened to {to_version} first."))
    addons = green_addons(estate, blue, green_name, ns, chosen, blue.region, env)
    versions_doc = {"cluster": green_name, "kubernetesVersion": to_version, "addons": chosen}
    files["02-addons/addon-versions.json"] = json.dumps(versions_doc, indent=2) + "\n"
    table = "\n".join(f"| {n} | {c['from']} | {c['to']} | {c['reason']} |" for n, c in sorted(chosen.items()))
    step("02-addons", f"EKS add-ons on {green_name} at versions compatible with {to_version}",
         f"Every Addon `{green_name}` reports `status.status: ACTIVE` (`kubectl -n {ns} get addons.eks.services.k8s.aws "
         f"-l {argocd.GEN_LABEL}=green`); `kubectl --context {green_name} -n kube-system get ds,deploy` all available.",
         {"addons.yaml": addons},
         body=("Versions chosen from `eks:DescribeAddonVersions` for Kubernetes " + to_version
               + " (recorded in `addon-versions.json`):\n\n| add-on | blue | green | why |\n|---|---|---|---|\n" + table))
    reg_rgd, reg_inst = argocd_registration_rgd(fleet, blue, env, ns, green_name, cluster_obj,
                                                getattr(estate, "root", "root"))
    blue_secret = argocd.cluster_secret(fleet, blue)
    blue_secret["metadata"]["labels"][argocd.GEN_LABEL] = "blue"
    step("03-register-in-argocd", f"register {green_name} in ArgoCD (cluster-generation: green)",
         f"`argocd cluster list` shows {green_name} `Successful`; every Application generated for it "
         f"(`argocd app list -l cluster={green_name}`) is `Synced` and `Healthy`; the smoke Job "
         "`smoke-03` (PostSync hook) succeeded against the green ingress.",
         {"rgd.yaml": [reg_rgd], "instance.yaml": [reg_inst], "blue-cluster-secret.yaml": [blue_secret],
          "smoke-test.yaml": [smoke_job("03", fleet, green_name)]},
         body=("kro renders the green cluster Secret from the live Cluster status (endpoint, CA). The ApplicationSets "
               "select `cluster-generation In [blue, green]`, so workloads deploy to green now, with no traffic yet."))
    weights = [int(w) for w in (fleet.traffic.get("steps") or [10, 50, 100])]
    n = 4
    for w in weights:
        d = f"{n:02d}-traffic-{w}"
        gate = (f"`smoke-{n:02d}` and `compare-{n:02d}` Jobs succeeded (green 5xx ratio ≤ 1.5 × blue over 10 min); "
                "Flagger canaries on green not failed; p99 latency within SLO for 30 minutes before merging the next step.")
        if w == 100:
            gate = ("Green serves 100 % for at least 24 h (one business day in prod) with the comparison Job green; "
                    "blue receives no requests (ALB RequestCount on blue = 0).")
        step(d, f"shift {w} % of traffic to {green_name}", gate,
             {"recordsets.yaml": record_sets(fleet, blue, green_name, w, ns, blue.region),
              "gates.yaml": [smoke_job(f"{n:02d}", fleet, green_name), compare_job(f"{n:02d}", green_name, blue.name)]},
             body=("Weighted Route53 records (setIdentifier blue/green). If the current record is a simple "
                   "(non-weighted) record, the first weighted pair replaces it: adopt it first or delete it in the "
                   "same change window, Route53 does not allow simple and weighted records with the same name."
                   if n == 4 else "Weighted Route53 records: only the weights change."))
        n += 1
    blue_phases = emit_phases(estate.result, estate.graph,
                              EmitOptions(env=env, namespace=ns, phases=("cluster",), root=estate.root, size_budget=None),
                              estate.hcl)
    decom = copy.deepcopy(blue_phases[0].rgd)
    deleted = []
    for r in decom["spec"]["resources"]:
        t = r.get("template")
        if t and t["kind"] in CLUSTER_BOUND:
            t["metadata"]["annotations"][DELETION] = "delete"
            t["metadata"].setdefault("labels", {})[LIFECYCLE] = "decommission"
            deleted.append(f"{t['kind']} {t['metadata']['name']}")
    step(f"{n:02d}-decommission-blue", f"decommission {blue.name} (last)",
         f"Before merging: step {n - 1:02d}'s gate held; `kubectl -n {ns} get {blue_phases[0].instance['kind'].lower()}` "
         f"still shows blue, `argocd app list -l cluster={blue.name}` lists only apps you intend to delete.\n"
         f"After: the EKS cluster {blue.name} is gone (`aws eks describe-cluster --name {blue.name}` → "
         "ResourceNotFoundException); shared network/IAM/KMS/launch templates untouched.",
         {"cluster-rgd-decommission.yaml": [decom]},
         body=("1. Replace the blue `cluster/rgd.yaml` of the `tf2kro convert` output with "
               "`cluster-rgd-decommission.yaml`: only the cluster-bound objects switch to "
               "`deletion-policy: delete` (" + ", ".join(deleted) + ").\n"
               f"2. Remove the blue cluster Secret (`hub/argocd/clusters/{blue.name}.yaml`) and the blue RecordSet.\n"
               "3. Delete the blue cluster-phase instance from git; kro deletes the children, ACK deletes the AWS "
               "cluster and node groups. Launch templates, subnets, roles stay (retain / externalRef).\n"
               f"4. `terraform state rm` the blue cluster addresses; set `generation: green` for {green_name} in the "
               "fleet file and rerun `tf2kro fleet`."))
    summary = {"cluster": blue.name, "from": blue.version, "to": to_version, "green": green_name,
               "addons": {k: v["to"] for k, v in chosen.items()}, "steps": steps}
    files["upgrade.json"] = json.dumps(summary, indent=2) + "\n"
    files["README.md"] = (f"# Blue/green upgrade of {blue.name}: {blue.version} → {to_version}\n\n"
                          "One directory per pull request, merged in order; each README states the gate.\n\n"
                          + "\n".join(f"{i + 1}. `{s['dir']}` — {s['title']}" for i, s in enumerate(steps)) + "\n")
    return files, summary
