"""`tf2kro fleet`: every output file, in memory (the command writes them atomically through write_tree)."""

from __future__ import annotations

import copy
from collections import Counter
from typing import Any

import yaml

from converter.ci.fleet import fleet_ci_files, fleet_ci_readme
from converter.emit.writer import dump_yaml
from converter.fleet import argocd, externalsecrets, flagger, monitoring
from converter.fleet.config import Fleet, check_fleet_names
from converter.gcpause import gc_paused
from converter.model import ToolError
from converter.validate.policy import Policy, gator_suite, load_cases, load_policies

SYNC_WAVE = "argocd.argoproj.io/sync-wave"
SYNC_OPTIONS = "argocd.argoproj.io/sync-options"


def policy_parameters(fleet: Fleet) -> dict[str, dict[str, Any]]:
    """Constraint parameters from the fleet file's `policies` block (by ConstraintTemplate name)."""
    p = fleet.policies
    out: dict[str, dict[str, Any]] = {
        "ackadoptionretain": {"requireAdoption": bool(p.get("requireAdoption", True))},
        "awsrequiredtags": {"tags": list(p.get("requiredTags") or []), "labels": list(p.get("requiredLabels") or [])},
        "awsnopublicsubnetsprod": {"environments": list(p.get("prodEnvironments") or ["prod"]),
                                   "namespaces": list(p.get("prodNamespaces") or [])},
        "eksversionskew": {"maxSkew": int(p.get("maxNodegroupSkew", 2)),
                           "clusterVersions": {c.name: c.version for c in fleet.clusters}},
    }
    if p.get("allowedInstanceTypes"):
        out["awsallowedinstancetypes"] = {"allowedTypes": list(p["allowedInstanceTypes"])}
    if p.get("allowedVersions"):
        out["eksallowedversions"] = {"versions": [str(v) for v in p["allowedVersions"]]}
    return out


def fleet_policies(fleet: Fleet, extra_versions: list[str] | None = None) -> list[Policy]:
    """The bundled policies with the fleet's parameters (and the ArgoCD sync options a Constraint needs)."""
    params = policy_parameters(fleet)
    if extra_versions:
        vers = params.setdefault("eksallowedversions", {"versions": []})["versions"]
        vers.extend(v for v in extra_versions if v not in vers)
    out = []
    for pol in load_policies():
        pol = copy.deepcopy(pol)
        for c in pol.constraints:
            if pol.name in params:
                c.setdefault("spec", {})["parameters"] = params[pol.name]
            md = c.setdefault("metadata", {})
            md["annotations"] = {SYNC_WAVE: "1", SYNC_OPTIONS: "SkipDryRunOnMissingResource=true"}
        pol.template.setdefault("metadata", {}).setdefault("annotations", {})[SYNC_WAVE] = "0"
        out.append(pol)
    return out


def gatekeeper_config(fleet: Fleet) -> dict[str, Any]:
    return {
        "apiVersion": "config.gatekeeper.sh/v1alpha1",
        "kind": "Config",
        "metadata": {"name": "config", "namespace": "gatekeeper-system"},
        "spec": {
            "sync": {"syncOnly": [
                {"group": "eks.services.k8s.aws", "version": "v1alpha1", "kind": "Cluster"},
                {"group": "", "version": "v1", "kind": "Namespace"},
            ]},
            "match": [{"excludedNamespaces": ["kube-*", "gatekeeper-system"], "processes": ["*"]}],
        },
    }


def _values_file(app, env: str) -> str:
    overrides = app.env_values.get(env) or {}
    head = (f"# {app.name} in {env}: per-environment overrides, layered over the ApplicationSet's valuesObject\n"
            "# (the helm_release values from Terraform). Never put a secret here: see secretValues in the fleet file.\n")
    return head + yaml.safe_dump(overrides, sort_keys=False, default_flow_style=False)


@gc_paused()
def render_fleet(fleet: Fleet, estate: Any = None) -> dict[str, str]:
    check_fleet_names(fleet)
    files: dict[str, str] = {}
    # --- ArgoCD (hub, synced by the bootstrap app-of-apps)
    files["bootstrap/root-app.yaml"] = dump_yaml([argocd.bootstrap(fleet)])
    for e in fleet.environments:
        files[f"hub/argocd/projects/{e.name}.yaml"] = dump_yaml([argocd.app_project(fleet, e.name)])
    for c in fleet.clusters:
        files[f"hub/argocd/clusters/{c.name}.yaml"] = dump_yaml([argocd.cluster_secret(fleet, c)])
    files["hub/argocd/applicationsets/platform-base.yaml"] = dump_yaml([argocd.platform_base_set(fleet)])
    loadtester = flagger.loadtester() if any(a.progressive for a in fleet.applications) else []
    for app in fleet.applications:
        files[f"hub/argocd/applicationsets/{app.name}.yaml"] = dump_yaml([argocd.application_set(fleet, app)])
        for env in app.envs:
            base = f"apps/{app.name}/envs/{env}"
            files[f"{base}/values.yaml"] = _values_file(app, env)
            manifests = []
            if app.progressive:
                # the env's manifests serve every selected cluster: a CloudWatch template needs their one region
                regions = sorted({c.region for c in fleet.clusters if c.env == env and argocd.selects(app, c)})
                manifests.extend(flagger.metric_templates(app, regions))
                manifests.append(flagger.canary(app))
                problems = flagger.admission_problems(manifests + loadtester)
                if problems:
                    raise ToolError(f"fleet file: application {app.name} ({env}): {problems[0]}")
            es = externalsecrets.app_external_secret(fleet, app)
            if es:
                manifests.append(es)
            if manifests:
                files[f"{base}/manifests/{app.name}.yaml"] = dump_yaml(manifests)
        previews = argocd.preview_applications(fleet, app)
        for prev in previews:
            files[f"review/applications/{prev['metadata']['name']}.yaml"] = dump_yaml([prev])
    # --- External Secrets
    hub_specs = [s for s in fleet.external_secrets if s.scope == "hub"]
    wl_specs = [s for s in fleet.external_secrets if s.scope == "workload"]
    hub_scope = externalsecrets.hub_scope(fleet)
    patches = []
    if hub_specs:
        files["hub/external-secrets/store.yaml"] = dump_yaml(externalsecrets.store_docs(fleet, hub_scope, namespaced=False))
        for s in hub_specs:
            files[f"hub/external-secrets/{s.name}.yaml"] = dump_yaml([externalsecrets.external_secret(fleet, s, hub=True)])
            patch = externalsecrets.password_patch(fleet, s, estate)
            if patch:
                patches.append({"target": {"group": "rds.services.k8s.aws", "version": "v1alpha1",
                                           "kind": patch["kind"], "name": patch["metadata"]["name"]},
                                "patch": dump_yaml([patch])})
    if patches:
        # a kustomize Component for the `tf2kro convert` output (`components: [<path to>/patches]`): the patches
        # are partial objects, so they live inside it rather than as manifests of their own
        files["patches/kustomization.yaml"] = dump_yaml([{
            "apiVersion": "kustomize.config.k8s.io/v1alpha1", "kind": "Component",
            "metadata": {"name": "tf2kro-fleet-patches"}, "patches": patches}])
    # one store per (account, region): the platform-base Application of a cluster syncs the directory of
    # its own account and region next to platform/base, with the ExternalSecrets only that store can read
    located = externalsecrets.locate(fleet, wl_specs)
    for scope in externalsecrets.scopes(fleet):
        docs = externalsecrets.store_docs(fleet, scope)
        docs.extend(externalsecrets.external_secret(fleet, s) for s in located.get(scope.key, []))
        files[f"platform/stores/{scope.key}/external-secrets.yaml"] = dump_yaml(docs)
    base_docs = []
    scoped = {n["namespace"] for n in fleet.store.get("namespaces") or []}
    for ns in sorted({s.namespace for s in wl_specs} | scoped):
        base_docs.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    base_docs.extend(externalsecrets.external_secret(fleet, s) for s in located.get("", []))
    files["platform/base/external-secrets.yaml"] = dump_yaml(base_docs)
    if loadtester:
        files["platform/base/flagger-loadtester.yaml"] = dump_yaml(loadtester)
    # --- Gatekeeper
    pols = fleet_policies(fleet)
    files["hub/gatekeeper/config.yaml"] = dump_yaml([gatekeeper_config(fleet)])
    for pol in pols:
        files[f"hub/gatekeeper/templates/{pol.name}.yaml"] = dump_yaml([pol.template])
        files[f"hub/gatekeeper/constraints/{pol.name}.yaml"] = dump_yaml(pol.constraints)
    # the Suite uses the bundled constraints (default parameters): its cases are written against those
    for rel, text in gator_suite(load_policies(), load_cases(), dump_yaml).items():
        files[f"policies/gator/{rel}"] = text
    files.update(monitoring.render(fleet))
    files.update(fleet_ci_files(fleet, files))  # converter.ci, last: the platform project allows what hub/ holds
    files["README.md"] = readme(fleet, files) + fleet_ci_readme(fleet, files)
    return files


def kind_counts(files: dict[str, str], prefix_skip: tuple[str, ...] = ("policies/gator/cases/",)) -> Counter:
    c: Counter = Counter()
    for rel, text in files.items():
        if not rel.endswith(".yaml") or rel.startswith(prefix_skip):
            continue
        for d in yaml.safe_load_all(text):
            if isinstance(d, dict) and d.get("kind"):
                c[d["kind"]] += 1
    return c


def readme(fleet: Fleet, files: dict[str, str]) -> str:
    counts = kind_counts(files)
    rows = "\n".join(f"| {k} | {n} |" for k, n in sorted(counts.items()))
    clusters = "\n".join(f"| {c.name} | {c.env} | {c.region} | {c.version} | {c.purpose} | {c.generation} |"
                         for c in fleet.clusters)
    apps = "\n".join(f"| {a.name} | {a.chart} {a.version} | {', '.join(a.envs)} | "
                     f"{a.progressive.strategy if a.progressive else '-'} |" for a in fleet.applications)
    return f"""# Fleet `{fleet.name}` (generated by `tf2kro fleet`; do not edit by hand)

Commit this directory to `{fleet.repo_url}` at `{fleet.path}/` (revision `{fleet.revision}`).

| path | synced by | content |
|---|---|---|
| `bootstrap/root-app.yaml` | applied once, with the keyring and its project (see *Signed commits and bootstrap*) | app-of-apps over `hub/`, in AppProject `platform` |
| `hub/argocd/` | bootstrap | AppProjects per environment, cluster Secrets, ApplicationSets |
| `hub/gatekeeper/` | bootstrap | ConstraintTemplates (wave 0), Constraints (wave 1), Config (sync of eks Clusters for the skew check) |
| `hub/monitoring/` | bootstrap | PrometheusRule, Gatekeeper PodMonitor, kube-state-metrics custom-resource config, Grafana dashboard, argocd-notifications-cm (docs/monitoring.md) |
| `hub/external-secrets/` | bootstrap | ClusterSecretStore (IRSA) + ExternalSecrets the ACK objects need on the hub |
| `platform/base/` | ApplicationSet `platform-base` (every cluster) | ExternalSecrets for workloads, flagger-loadtester |
| `platform/stores/<account>-<region>/` | ApplicationSet `platform-base` (clusters of that account and region) | ClusterSecretStore + IRSA ServiceAccount of the account, namespaced SecretStores |
| `apps/<app>/envs/<env>/` | ApplicationSet `<app>` (matrix: these directories × clusters with `env=<env>`) | `values.yaml` overrides, `manifests/` (Canary, ExternalSecret) |
| `patches/` | not synced | kustomize Component for the `tf2kro convert` output: `spec.masterUserPassword` → the ExternalSecret's Secret |
| `policies/gator/` | not synced | `gator verify policies/gator/suite.yaml` in CI |
| `examples/` | not synced | Alertmanager route for the tf2kro alerts, kube-state-metrics chart values (mount + RBAC for the custom-resource config) |
| `review/applications/` | not synced | the Applications the ApplicationSets render for today's clusters |

Cluster Secrets hold no token: ArgoCD authenticates with `awsAuthConfig` (IAM role, `aws eks get-token`); the CA
bundle is public. No secret value is in this tree: ExternalSecrets name Secrets Manager keys only.

## Clusters

| cluster | env | region | version | purpose | generation |
|---|---|---|---|---|---|
{clusters}

## Applications (from Terraform helm_release)

| application | chart | environments | progressive delivery |
|---|---|---|---|
{apps}

## Objects

| kind | count |
|---|---|
{rows}
"""
