"""The fleet file: a small YAML model of clusters, environments and applications.

The file is the single input of `tf2kro fleet`; `tf2kro fleet init` derives it from a state (clusters from
`aws_eks_cluster`, applications from `helm_release`, secrets the converted estate needs). Values never hold a
secret: sensitive Helm values and passwords are *references* (Secrets Manager key + property) resolved in the
cluster by External Secrets.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from converter.model import ToolError
from converter.names import dns1123_label, dns1123_subdomain, eks_cluster_name, path_segment
from converter.secrets import is_sensitive_path

API_VERSION = "tf2kro.dev/v1alpha1"
KIND = "Fleet"
DEFAULT_ENVS = ("dev", "staging", "prod")
GENERATIONS = ("blue", "green")
AWS_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d{1,2}")
# cluster attributes a Helm value can be bound to (rendered per cluster by the ApplicationSet)
CLUSTER_ATTRS = ("name", "region", "vpcId", "accountId", "env")
DEFAULT_METRICS = [  # Flagger built-ins (need Prometheus + a mesh/ingress provider)
    {"name": "request-success-rate", "thresholdRange": {"min": 99}, "interval": "1m"},
    {"name": "request-duration", "thresholdRange": {"max": 500}, "interval": "1m"},
]


def _dns(s: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", str(s).lower()).strip("-") or "x"


@dataclass
class Cluster:
    name: str
    env: str
    region: str
    account_id: str
    version: str
    server: str
    ca_data: str = ""
    role_arn: str = ""
    purpose: str = "workloads"
    generation: str = "blue"
    vpc_id: str = ""
    labels: dict[str, str] = field(default_factory=dict)

    def attr(self, name: str) -> str:
        return {"name": self.name, "region": self.region, "vpcId": self.vpc_id, "accountId": self.account_id,
                "env": self.env}[name]


@dataclass
class SecretValue:
    """A Helm value whose content lives in Secrets Manager (`set_sensitive` in Terraform)."""

    name: str  # the Helm value path (`auth.password`)
    remote_key: str
    property: str = ""
    values_ref: str = ""  # optional chart value that takes the name of an existing Secret (e.g. auth.existingSecret)


@dataclass
class Progressive:
    strategy: str  # canary | bluegreen
    target_kind: str = "Deployment"
    target_name: str = ""
    provider: str = "kubernetes"
    port: int = 80
    target_port: int | None = None
    interval: str = "1m"
    threshold: int = 5
    step_weight: int = 10
    max_weight: int = 50
    iterations: int = 10
    metrics: list[dict[str, Any]] = field(default_factory=list)
    metric_templates: list[dict[str, Any]] = field(default_factory=list)
    webhooks: list[dict[str, Any]] = field(default_factory=list)
    ingress_ref: str = ""  # nginx/skipper: the app's Ingress (Flagger clones it into <name>-canary)
    service_name: str = ""  # the apex Service Flagger owns (default: targetName); a chart Service here is taken over
    match: list[dict[str, Any]] = field(default_factory=list)  # A/B: header/cookie conditions (with iterations)
    mirror: bool = False  # blue/green with traffic mirroring (istio, gatewayapi)
    gateway_refs: list[dict[str, str]] = field(default_factory=list)  # gatewayapi: the Gateways of the HTTPRoute
    route_ref: str = ""  # apisix: the ApisixRoute
    autoscaler_ref: str = ""  # the chart's HPA of the target (Flagger copies it for the primary)


@dataclass
class Application:
    name: str
    chart: str
    repo_url: str
    version: str
    namespace: str
    release_name: str
    envs: list[str]
    selector: dict[str, list[str]] = field(default_factory=dict)  # label -> allowed values (purpose/region)
    values: dict[str, Any] = field(default_factory=dict)
    parameters: list[dict[str, str]] = field(default_factory=list)
    cluster_values: dict[str, str] = field(default_factory=dict)  # value path -> cluster attribute
    env_values: dict[str, dict[str, Any]] = field(default_factory=dict)  # env -> overrides
    secret_values: list[SecretValue] = field(default_factory=list)
    progressive: Progressive | None = None
    source: str = ""  # terraform address it came from


@dataclass
class ExternalSecretSpec:
    name: str
    namespace: str
    scope: str  # hub (ACK side) | workload (application clusters)
    remote_key: str
    data: dict[str, str]  # secretKey -> property ("" = whole secret string)
    source: str = ""
    used_by: dict[str, str] = field(default_factory=dict)  # {kind, name, namespace, field}
    note: str = ""
    # where the secret lives (from its ARN): only the clusters of that account and region can read it
    account_id: str = ""
    region: str = ""


@dataclass
class Environment:
    name: str
    sync_windows: list[dict[str, Any]] = field(default_factory=list)
    groups: dict[str, list[str]] = field(default_factory=dict)  # role -> SSO groups


@dataclass
class Fleet:
    name: str
    repo_url: str
    revision: str
    path: str
    argocd_namespace: str
    signature_keys: list[str]
    deployer_role: str  # role name (per account) or full ARN template with {account}
    hub_namespace: str
    environments: list[Environment]
    clusters: list[Cluster]
    applications: list[Application]
    external_secrets: list[ExternalSecretSpec]
    store: dict[str, Any]
    policies: dict[str, Any]
    traffic: dict[str, Any]
    addons: dict[str, Any] = field(default_factory=dict)  # spec.addons: add-on pipeline settings (fleet/addons.py)
    source: dict[str, str] = field(default_factory=dict)
    monitoring: dict[str, Any] = field(default_factory=dict)  # read by converter.fleet.monitoring
    base_dir: Path | None = None
    hub: dict[str, Any] = field(default_factory=dict)  # namespace, accountId, region (the hub's store)
    # spec.gitSigning.keys, checked (converter.ci.gpg): their ids are also in signature_keys
    signing_keys: list[Any] = field(default_factory=list)
    approval: dict[str, Any] = field(default_factory=dict)  # spec.approval (CODEOWNERS, branch protection)

    def env(self, name: str) -> Environment | None:
        return next((e for e in self.environments if e.name == name), None)

    def cluster(self, name: str) -> Cluster | None:
        return next((c for c in self.clusters if c.name == name), None)

    def role_arn(self, c: Cluster) -> str:
        if c.role_arn:
            return c.role_arn
        if self.deployer_role.startswith("arn:"):
            return self.deployer_role.replace("{account}", c.account_id)
        return f"arn:aws:iam::{c.account_id}:role/{self.deployer_role}"

    def state_path(self) -> Path | None:
        st = self.source.get("state")
        if not st:
            return None
        p = Path(st)
        if not p.is_absolute() and self.base_dir is not None:
            p = self.base_dir / p
        return p

    def hcl_path(self) -> Path | None:
        h = self.source.get("hcl")
        if not h:
            return None
        p = Path(h)
        if not p.is_absolute() and self.base_dir is not None:
            p = self.base_dir / p
        return p


# --------------------------------------------------------------------------------------------- load / dump


def _req(d: dict[str, Any], key: str, where: str) -> Any:
    if key not in d or d[key] in (None, ""):
        raise ToolError(f"fleet file: {where}.{key} is required")
    return d[key]


def _progressive(d: dict[str, Any] | None, app: str) -> Progressive | None:
    if not d:
        return None
    strategy = d.get("strategy", "canary")
    if strategy not in ("canary", "bluegreen"):
        raise ToolError(f"fleet file: applications[{app}].progressiveDelivery.strategy must be canary or bluegreen")
    return Progressive(
        strategy=strategy,
        target_kind=d.get("targetKind", "Deployment"),
        target_name=d.get("targetName", app),
        provider=d.get("provider", "kubernetes" if strategy == "bluegreen" else "nginx"),
        port=int(d.get("port", 80)),
        target_port=d.get("targetPort"),
        interval=str(d.get("interval", "1m")),
        threshold=int(d.get("threshold", 5)),
        step_weight=int(d.get("stepWeight", 10)),
        max_weight=int(d.get("maxWeight", 50)),
        iterations=int(d.get("iterations", 10)),
        # every rollout is gated by metrics (Flagger rolls back after `threshold` failed checks)
        metrics=list(d.get("metrics") or DEFAULT_METRICS),
        metric_templates=list(d.get("metricTemplates") or []),
        webhooks=list(d.get("webhooks") or []),
        ingress_ref=str(d.get("ingressRef", "")),
        service_name=str(d.get("serviceName", "")),
        match=list(d.get("match") or []),
        mirror=bool(d.get("mirror", False)),
        gateway_refs=[dict(g) for g in d.get("gatewayRefs") or []],
        route_ref=str(d.get("routeRef", "")),
        autoscaler_ref=str(d.get("autoscalerRef", "")),
    )


SCHEMA_PATH = Path(__file__).with_name("fleet.schema.json")


def fleet_schema() -> dict[str, Any]:
    """The JSON Schema of the fleet file (shipped with the package; `tf2kro fleet schema` prints it for editors)."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def _key_path(path: Any) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out


def check_schema(doc: Any, source: str | None = None) -> None:
    """Validate against the schema before reading: an unknown key (`enviroments:`) would otherwise be dropped
    silently (and with it, e.g., the prod sync windows). One error, naming the key path, is raised."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    if not isinstance(doc, dict) or doc.get("kind") != KIND:
        raise ToolError(f"fleet file: expected kind: {KIND} (apiVersion {API_VERSION})", source=source)
    errors = list(Draft202012Validator(fleet_schema()).iter_errors(doc))
    if not errors:
        return
    err = best_match(errors)
    where = _key_path(err.absolute_path) or "(top level)"
    if err.validator == "additionalProperties":
        extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
        allowed = ", ".join(sorted(err.schema.get("properties", {})))
        msg = f"unknown key {'.'.join(filter(None, [_key_path(err.absolute_path), extra[0]]))!r} (allowed here: {allowed})"
    elif err.validator == "required":
        missing = next(iter(re.findall(r"'([^']+)' is a required property", err.message)), "?")
        msg = f"{'.'.join(filter(None, [_key_path(err.absolute_path), missing]))} is required"
    else:
        desc = err.schema.get("description", "")
        msg = f"{where}: {err.message}" + (f" ({desc})" if desc and err.validator in ("pattern", "type") else "")
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    raise ToolError(f"fleet file: {msg}{more}", source=source)


# ArgoCD sync-window durations (Go time.ParseDuration units ArgoCD documents): 8h, 90m, 1h30m
_WINDOW_DURATION = re.compile(r"\A(?=[0-9])(?:[0-9]{1,5}h)?(?:[0-9]{1,5}m)?(?:[0-9]{1,5}s)?\Z")


def _unique(names: list[str], what: str) -> None:
    """A second entry with the same name would silently replace the first in every output keyed by name."""
    seen: set[str] = set()
    for n in names:
        if n in seen:
            raise ToolError(f"fleet file: {what} {n!r} is defined twice (names must be unique)")
        seen.add(n)


def _check_sync_windows(env: str, windows: list[Any]) -> None:
    """Each window's schedule is a 5-field cron (the grammar `plan --sync-window` accepts) and its duration one
    ArgoCD parses; a bad one would be rendered into the AppProject and fail (or never open) only in the cluster."""
    from converter.gitops.argocd import _CRON_FIELD

    for i, w in enumerate(windows):
        where = f"environments[{env}].syncWindows[{i}]"
        fields = str(w.get("schedule", "")).split()
        if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
            raise ToolError(f"fleet file: {where}.schedule {str(w.get('schedule', ''))[:80]!r} is not a cron schedule "
                            "(5 fields MIN HOUR DOM MON DOW of digits , - / *, e.g. '0 8 * * 1-4')")
        if not _WINDOW_DURATION.match(str(w.get("duration", ""))):
            raise ToolError(f"fleet file: {where}.duration {str(w.get('duration', ''))[:80]!r} is not a duration "
                            "(e.g. 8h, 90m, 1h30m)")


def from_dict(doc: dict[str, Any], base_dir: Path | None = None, source: str | None = None) -> Fleet:
    check_schema(doc, source)
    spec = doc.get("spec") or {}
    gitops = spec.get("gitops") or {}
    envs = [Environment(name=e["name"], sync_windows=list(e.get("syncWindows") or []), groups=dict(e.get("groups") or {}))
            for e in (spec.get("environments") or [{"name": n} for n in DEFAULT_ENVS])]
    _unique([e.name for e in envs], "environment")
    for e in envs:
        _check_sync_windows(e.name, e.sync_windows)
    from converter.gitops.argocd import _REPO_URL

    if "repoURL" in gitops and not _REPO_URL.match(str(gitops.get("repoURL") or "")):
        raise ToolError(f"fleet file: gitops.repoURL {str(gitops.get('repoURL'))[:80]!r} is not a git URL "
                        "(https://…, ssh://… or git@host:path; no spaces or quotes)")
    env_names = {e.name for e in envs}
    clusters = []
    for i, c in enumerate(spec.get("clusters") or []):
        where = f"clusters[{i}]"
        cl = Cluster(
            name=_req(c, "name", where), env=_req(c, "env", where), region=_req(c, "region", where),
            account_id=str(_req(c, "accountId", where)), version=str(_req(c, "version", where)),
            server=_req(c, "server", where), ca_data=c.get("caData", ""), role_arn=c.get("roleARN", ""),
            purpose=c.get("purpose", "workloads"), generation=c.get("generation", "blue"), vpc_id=c.get("vpcId", ""),
            labels={str(k): str(v) for k, v in (c.get("labels") or {}).items()},
        )
        if cl.env not in env_names:
            raise ToolError(f"fleet file: {where}.env {cl.env!r} is not one of the environments {sorted(env_names)}")
        if cl.generation not in GENERATIONS:
            raise ToolError(f"fleet file: {where}.generation must be blue or green")
        clusters.append(cl)
    _unique([c.name for c in clusters], "cluster")
    apps = []
    for i, a in enumerate(spec.get("applications") or []):
        where = f"applications[{i}]"
        name = _req(a, "name", where)
        for path, attr in (a.get("clusterValues") or {}).items():
            if attr not in CLUSTER_ATTRS:
                raise ToolError(f"fleet file: {where}.clusterValues.{path}: unknown cluster attribute {attr!r} "
                                f"(one of {', '.join(CLUSTER_ATTRS)})")
        apps.append(Application(
            name=name, chart=_req(a, "chart", where), repo_url=_req(a, "repoURL", where),
            version=str(_req(a, "version", where)), namespace=a.get("namespace", "default"),
            release_name=a.get("releaseName", name), envs=list(a.get("envs") or sorted(env_names)),
            selector={k: [str(x) for x in v] for k, v in (a.get("selector") or {}).items()},
            values=copy.deepcopy(a.get("values") or {}),
            parameters=[{"name": str(p["name"]), "value": str(p["value"])} for p in a.get("parameters") or []],
            cluster_values=dict(a.get("clusterValues") or {}),
            env_values={k: dict(v or {}) for k, v in (a.get("envValues") or {}).items()},
            secret_values=[SecretValue(name=s["name"], remote_key=s["remoteKey"], property=s.get("property", ""),
                                       values_ref=s.get("valuesRef", "")) for s in a.get("secretValues") or []],
            progressive=_progressive(a.get("progressiveDelivery"), name),
            source=a.get("source", ""),
        ))
    _unique([a.name for a in apps], "application")
    ess = []
    for i, s in enumerate((spec.get("externalSecrets") or {}).get("secrets") or []):
        where = f"externalSecrets.secrets[{i}]"
        scope = s.get("scope", "workload")
        if scope not in ("hub", "workload"):
            raise ToolError(f"fleet file: {where}.scope must be hub or workload")
        ess.append(ExternalSecretSpec(
            name=_req(s, "name", where), namespace=_req(s, "namespace", where), scope=scope,
            remote_key=_req(s, "remoteKey", where), data=dict(s.get("data") or {}), source=s.get("source", ""),
            used_by=dict(s.get("usedBy") or {}), note=s.get("note", ""),
            account_id=str(s.get("accountId", "")), region=str(s.get("region", "")),
        ))
    store = dict((spec.get("externalSecrets") or {}).get("store") or {})
    from converter.ci.gpg import long_id, normalise_key_id, parse_public_key

    signing = [parse_public_key(k.get("id"), k.get("publicKey"), f"fleet file: gitSigning.keys[{i}]")
               for i, k in enumerate((spec.get("gitSigning") or {}).get("keys") or [])]
    key_ids = list(dict.fromkeys([k.key_id for k in signing] + [
        long_id(normalise_key_id(k, f"fleet file: gitops.signatureKeys[{i}]")) for i, k in enumerate(gitops.get("signatureKeys") or [])]))
    return Fleet(
        name=(doc.get("metadata") or {}).get("name", "fleet"),
        repo_url=gitops.get("repoURL", "https://git.example.com/platform/fleet.git"),
        revision=gitops.get("revision", "main"),
        path=str(gitops.get("path", "fleet")).strip("/"),
        argocd_namespace=gitops.get("argocdNamespace", "argocd"),
        signature_keys=key_ids,
        deployer_role=gitops.get("deployerRole", "argocd-deployer"),
        hub_namespace=(spec.get("hub") or {}).get("namespace", "infrastructure"),
        environments=envs, clusters=clusters, applications=apps, external_secrets=ess, store=store,
        policies=dict(spec.get("policies") or {}), traffic=dict(spec.get("traffic") or {}),
        addons=dict(spec.get("addons") or {}),
        source=dict(spec.get("source") or {}), base_dir=base_dir, hub=dict(spec.get("hub") or {}),
        monitoring=copy.deepcopy(spec.get("monitoring") or {}),
        signing_keys=signing, approval=dict(spec.get("approval") or {}),
    )


def about_fleet_file(exc: ToolError, path: str | Path) -> ToolError:
    """`exc` naming the fleet file as its source when it is about the fleet file but names no file: the checks raise
    `fleet file: <key> …` (or source "fleet file") without knowing the path; the boundary that does adds it, so
    every such error line starts with the file. Other errors are returned unchanged."""
    msg = str(exc.args[0]) if exc.args else ""
    if exc.source == "fleet file" or (exc.source is None and msg.startswith("fleet file")):
        tagged = ToolError(msg, source=str(path))
        tagged.exit_code = exc.exit_code
        return tagged
    return exc


def load_fleet(path: str | Path) -> Fleet:
    """Read and check a fleet file: its schema, cross-references and every name that reaches an output
    (check_fleet_names); an error names the file."""
    p = Path(path)
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ToolError(f"cannot read fleet file: {exc.strerror}", source=str(p)) from None
    except yaml.YAMLError as exc:
        raise ToolError(f"fleet file is not valid YAML: {exc}", source=str(p)) from None
    try:
        fl = from_dict(doc, base_dir=p.resolve().parent, source=str(p))
        check_fleet_names(fl, source=str(p))
    except ToolError as exc:
        raise about_fleet_file(exc, p) from None
    return fl


# --------------------------------------------------------------------------------------------- init


def _tag(attrs: dict[str, Any], *keys: str) -> str:
    tags = attrs.get("tags_all") or attrs.get("tags") or {}
    for k in keys:
        for tk, tv in tags.items():
            if tk.lower() == k.lower() and tv:
                return str(tv)
    return ""


def _first(v: Any) -> dict[str, Any]:
    if isinstance(v, list) and v and isinstance(v[0], dict):
        return v[0]
    return v if isinstance(v, dict) else {}


def _deep_merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(a)
    for k, v in b.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def check_fleet_names(fleet: Fleet, source: str = "fleet file") -> None:
    """Every fleet name that becomes a path segment of the output, a Kubernetes name or a script word fits its
    grammar (converter.names); a cluster named `../../..` would otherwise write outside --out and into scripts."""
    def check(fn: Any, value: Any, what: str) -> None:
        try:
            path_segment(fn(value, what), what)
        except ToolError as exc:
            raise ToolError(str(exc), source=source) from None

    check(dns1123_label, fleet.hub_namespace, "hub namespace")
    check(dns1123_label, fleet.argocd_namespace, "gitops.argocdNamespace")
    for e in fleet.environments:
        check(dns1123_label, e.name, "environment name")
    for c in fleet.clusters:
        check(eks_cluster_name, c.name, "cluster name")
        # account and region name the per-(account, region) store directory and the IRSA role ARN
        if not re.fullmatch(r"\d{12}", c.account_id):
            raise ToolError(f"cluster {c.name}: accountId {c.account_id!r} is not a 12-digit AWS account id",
                            source=source)
        if not AWS_REGION.fullmatch(c.region):
            raise ToolError(f"cluster {c.name}: region {c.region!r} is not an AWS region name", source=source)
    for a in fleet.applications:
        check(dns1123_subdomain, a.name, "application name")
        check(dns1123_subdomain, a.release_name, f"application {a.name} releaseName")
        check(dns1123_label, a.namespace, f"application {a.name} namespace")
        for env in a.envs:
            check(dns1123_label, env, f"application {a.name} env")
    for what, region in (("hub.region", fleet.hub.get("region")), ("externalSecrets.store.region", fleet.store.get("region"))):
        if region and not AWS_REGION.fullmatch(str(region)):
            raise ToolError(f"{what} {region!r} is not an AWS region name", source=source)
    for ns in fleet.store.get("namespaces") or []:
        check(dns1123_label, ns.get("namespace"), "externalSecrets.store.namespaces namespace")
        check(dns1123_subdomain, ns.get("serviceAccount", "external-secrets"), "externalSecrets.store.namespaces serviceAccount")
    for s in fleet.external_secrets:
        check(dns1123_subdomain, s.name, "external secret name")
        check(dns1123_label, s.namespace, f"external secret {s.name} namespace")


def helm_values(attrs: dict[str, Any]) -> dict[str, Any]:
    """The `values` YAML strings of a helm_release, merged in order (Helm's own semantics)."""
    merged: dict[str, Any] = {}
    for text in attrs.get("values") or []:
        if not isinstance(text, str) or not text.strip():
            continue
        doc = yaml.safe_load(text)
        if isinstance(doc, dict):
            merged = _deep_merge(merged, doc)
    return merged


def _walk_strings(node: Any, path: tuple[str, ...] = ()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _walk_strings(v, path + (str(k),))
    elif isinstance(node, str):
        yield ".".join(path), node


def _state_name(fn: Any, value: Any, inst: Any, what: str) -> None:
    """A name from state that the fleet turns into paths and Kubernetes names, checked where it is read so
    `fleet init` refuses it with the resource address instead of writing a fleet file that escapes --out."""
    try:
        path_segment(fn(value, what), what)
    except ToolError as exc:
        raise ToolError(str(exc), source=f"{inst.source_file}: {inst.address}" if inst.source_file else inst.address) from None


def _infer_env(name: str, tag_env: str, env_names: list[str]) -> str:
    if tag_env:
        t = tag_env.lower()
        for e in env_names:
            if t == e or t.startswith(e[:4]):
                return e
    for e in env_names:
        if name.endswith("-" + e) or f"-{e}-" in name or name.startswith(e + "-"):
            return e
    return "dev"


def derive_fleet(estate: Any, *, state_ref: str = "", hcl_ref: str = "", repo_url: str = "",
                 progressive: dict[str, str] | None = None, signing_keys: list[Any] | None = None) -> dict[str, Any]:
    """A fleet file (as a dict, ready to dump) derived from a loaded estate. Never contains a sensitive value."""
    progressive = progressive or {}
    insts = [i for i in estate.state.instances if i.mode == "managed"]
    env_names = list(DEFAULT_ENVS)
    clusters: list[dict[str, Any]] = []
    for inst in insts:
        if inst.type != "aws_eks_cluster":
            continue
        a = inst.attributes
        arn = str(a.get("arn", ""))
        parts = arn.split(":")
        region = parts[3] if len(parts) > 4 else (estate.result.region or "")
        account = parts[4] if len(parts) > 4 else (estate.result.account_id or "")
        vpc = _first(a.get("vpc_config"))
        name = a.get("name") or inst.name
        _state_name(eks_cluster_name, name, inst, "aws_eks_cluster name")
        labels = {}
        team = _tag(a, "Team", "Owner")
        if team:
            labels["team"] = _dns(team)
        clusters.append({
            "name": name,
            "env": _infer_env(name, _tag(a, "Environment", "Env"), env_names),
            "region": region,
            "accountId": account,
            "version": str(a.get("version", "")),
            "purpose": _dns(_tag(a, "Purpose", "Project") or "workloads"),
            "generation": "blue",
            "server": a.get("endpoint", ""),
            "caData": _first(a.get("certificate_authority")).get("data", ""),  # public CA bundle, not a secret
            "vpcId": vpc.get("vpc_id", ""),
            "labels": labels,
            "terraformAddress": inst.address,
        })
    by_name = {c["name"]: c for c in clusters}
    apps: list[dict[str, Any]] = []
    secrets: list[dict[str, Any]] = []
    for inst in insts:
        if inst.type != "helm_release":
            continue
        a = inst.attributes
        name = a.get("name") or inst.name
        _state_name(dns1123_subdomain, name, inst, "helm_release name")
        _state_name(dns1123_label, a.get("namespace") or "default", inst, "helm_release namespace")
        # a values document Terraform marks sensitive (a `sensitive = true` variable in `values`) never reaches the
        # fleet file: it becomes a Secrets Manager reference, like set_sensitive, and the reviewer is told
        sensitive_doc = is_sensitive_path(inst, ("values",))
        values = {} if sensitive_doc else helm_values(a)
        # the cluster it runs on: a cluster whose name appears in the values, else the only cluster
        target = None
        for _p, s in _walk_strings(values):
            if s in by_name:
                target = by_name[s]
                break
        if target is None and len(clusters) == 1:
            target = clusters[0]
        cluster_values = {}
        if target is not None:
            for p, s in _walk_strings(values):
                for attr, key in (("name", "name"), ("region", "region"), ("vpcId", "vpcId"), ("accountId", "accountId")):
                    if s and s == target.get(key):
                        cluster_values[p] = attr
                        break
        app: dict[str, Any] = {
            "name": name,
            "source": inst.address,
            "chart": a.get("chart", ""),
            "repoURL": a.get("repository", ""),
            "version": str(a.get("version", "")),
            "namespace": a.get("namespace") or "default",
            "releaseName": name,
            "envs": [target["env"]] if target else ["dev"],
            "selector": ({"purpose": [target["purpose"]], "region": [target["region"]]} if target else {}),
            "values": values,
            "parameters": [{"name": s["name"], "value": str(s.get("value", ""))} for s in a.get("set") or []],
            "clusterValues": cluster_values,
        }
        sens = []
        for s in a.get("set_sensitive") or []:  # names only: the value stays in AWS
            key = f"{target['env'] if target else 'dev'}/{name}/helm-values"
            sens.append({"name": s["name"], "remoteKey": key, "property": s["name"].split(".")[-1]})
        if sensitive_doc and a.get("values"):
            key = f"{target['env'] if target else 'dev'}/{name}/helm-values-document"
            secrets.append({
                "name": f"{name}-helm-values", "namespace": app["namespace"], "scope": "workload",
                "remoteKey": key, "data": {"values.yaml": "values.yaml"}, "source": inst.address,
                "note": ("values marked sensitive in Terraform were omitted from this file: store the values document "
                         "under this Secrets Manager key (property values.yaml) and reference the Secret from the chart"),
            })
        if sens:
            app["secretValues"] = sens
            secrets.append({
                "name": f"{name}-helm-secret-values", "namespace": app["namespace"], "scope": "workload",
                "remoteKey": sens[0]["remoteKey"], "data": {s["property"]: s["property"] for s in sens},
                "source": inst.address,
                "note": "values of set_sensitive: store them under this Secrets Manager key before syncing",
            })
        mode = progressive.get(name)
        if mode:
            app["progressiveDelivery"] = _default_progressive(mode, name, app["namespace"], app["chart"])
        apps.append(app)
    secrets.extend(_estate_secrets(estate, insts, clusters))
    region = clusters[0]["region"] if clusters else (estate.result.region or "us-east-1")
    types: set[str] = set()
    for inst in insts:
        if inst.type == "aws_eks_node_group":
            types.update(inst.attributes.get("instance_types") or [])
    versions = sorted({c["version"] for c in clusters if c["version"]}, key=_vkey)
    if versions:
        nxt = _next_minor(versions[-1])
        versions.append(nxt)
    tag_sets = [set((i.attributes.get("tags_all") or {}).keys()) for i in insts
                if isinstance(i.attributes.get("tags_all"), dict) and i.attributes.get("tags_all")]
    required_tags = sorted(set.intersection(*tag_sets)) if tag_sets else []
    doc = {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": _dns(clusters[0]["purpose"]) if clusters else "fleet"},
        "spec": {
            "source": {k: v for k, v in (("state", state_ref), ("hcl", hcl_ref)) if v},
            "gitops": {
                "repoURL": repo_url or "https://git.example.com/platform/fleet.git",
                "revision": "main",
                "path": "fleet",
                "argocdNamespace": "argocd",
                "deployerRole": "argocd-deployer",
            },
            # the keys come from `fleet init --signing-key FILE` only: a key id in code would be trusted by every fleet
            **({"gitSigning": {"keys": [{"id": k.key_id, "publicKey": k.armored} for k in signing_keys]}}
               if signing_keys else {}),
            "approval": {"owners": ["@example-org/platform-admins"],
                         "environmentOwners": {"prod": ["@example-org/release-managers"]}, "requiredApprovals": 1},
            "hub": {"namespace": "infrastructure"},
            "environments": [
                {"name": "dev", "groups": {"admin": ["platform-admins"], "deployer": ["dev-team"]}},
                {"name": "staging", "groups": {"admin": ["platform-admins"], "deployer": ["platform-team"]}},
                {"name": "prod", "groups": {"admin": ["platform-admins"], "deployer": ["release-managers"]},
                 "syncWindows": [
                     {"kind": "allow", "schedule": "0 8 * * 1-4", "duration": "8h", "applications": ["*"],
                      "clusters": ["*"], "namespaces": ["*"], "timeZone": "Europe/Dublin", "manualSync": True},
                     {"kind": "deny", "schedule": "0 0 * * 5", "duration": "72h", "applications": ["*"],
                      "clusters": ["*"], "namespaces": ["*"], "timeZone": "Europe/Dublin", "manualSync": False},
                 ]},
            ],
            "clusters": [{k: v for k, v in c.items() if k != "terraformAddress"} for c in clusters],
            "applications": apps,
            "externalSecrets": {
                "store": {
                    "name": "aws-secrets-manager",
                    "region": region,
                    "serviceAccount": "external-secrets",
                    "serviceAccountNamespace": "external-secrets",
                    # one role per account ({account} is each store's account): a store never assumes a
                    # role of another account (tf2kro fleet refuses that pair)
                    "roleARN": "arn:aws:iam::{account}:role/external-secrets",
                },
                "secrets": secrets,
            },
            "policies": {
                "allowedInstanceTypes": sorted(types),
                "allowedVersions": versions,
                "maxNodegroupSkew": 2,
                "requiredTags": required_tags,
                "prodEnvironments": ["prod"],
                "ackNamespaces": ["infrastructure"],
            },
            "traffic": {
                "hostedZoneID": "Z0123456789EXAMPLE",
                "records": [{
                    "name": f"apps.{clusters[0]['env'] if clusters else 'dev'}.example.com",
                    "type": "CNAME",
                    "ttl": 60,
                    "targets": {c["name"]: f"ingress.{c['name']}.example.com" for c in clusters},
                }],
                "steps": [10, 50, 100],
            },
            # alert thresholds (minutes) for hub/monitoring/ (docs/monitoring.md); prod reacts sooner
            "monitoring": {
                "namespace": "monitoring",
                "hubCluster": "hub",
                "thresholds": {"outOfSyncMinutes": 30, "degradedMinutes": 15, "ackNotSyncedMinutes": 30},
                "environments": {"prod": {"outOfSyncMinutes": 15, "degradedMinutes": 5}},
            },
        },
    }
    if not doc["spec"]["source"]:
        del doc["spec"]["source"]
    return doc


def _default_progressive(mode: str, name: str, namespace: str, chart: str = "") -> dict[str, Any]:
    from converter.fleet.flagger import rules  # flagger imports this module

    known = (rules().get("charts") or {}).get(chart) or {}
    if mode == "bluegreen":
        return {
            "strategy": "bluegreen", "targetName": name, "provider": "kubernetes",
            **({"serviceName": known["serviceName"]} if known.get("serviceName") else {}),
            "port": 443, "targetPort": 9443,
            "interval": "1m", "threshold": 3, "iterations": 5,
            "metrics": [{"name": "reconcile-errors", "templateRef": "controller-reconcile-errors",
                         "thresholdRange": {"max": 1}, "interval": "2m"}],
            "metricTemplates": [{
                "name": "controller-reconcile-errors", "provider": "prometheus",
                "address": "http://prometheus-operated.monitoring:9090",
                "query": ('sum(rate(controller_runtime_reconcile_errors_total{namespace="{{ namespace }}",'
                          'pod=~"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"}[{{ interval }}]))'),
            }],
        }
    return {
        # nginx routes through a clone of the app's Ingress: Flagger rejects a Canary without ingressRef
        "strategy": "canary", "targetName": name, "provider": "nginx", "ingressRef": name, "port": 80, "interval": "1m",
        "threshold": 5, "stepWeight": 10, "maxWeight": 50,
        "metrics": [{"name": "request-success-rate", "thresholdRange": {"min": 99}, "interval": "1m"},
                    {"name": "request-duration", "thresholdRange": {"max": 500}, "interval": "1m"}],
    }


def _vkey(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", v)[:2]) or (0,)


def _next_minor(v: str) -> str:
    major, minor = (list(_vkey(v)) + [0, 0])[:2]
    return f"{major}.{minor + 1}"


def _json_keys(text: Any) -> dict[str, Any]:
    """Parse a JSON secret string in memory to learn its *keys* (never returned with values)."""
    if not isinstance(text, str):
        return {}
    try:
        doc = json.loads(text)
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def _estate_secrets(estate: Any, insts: list[Any], clusters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """ExternalSecrets the converted estate needs: the RDS master password (for DBInstance.spec.masterUserPassword)
    and every aws_secretsmanager_secret (its consumers read it from Kubernetes)."""
    out: list[dict[str, Any]] = []
    sm_secrets = {i.attributes.get("arn"): i for i in insts if i.type == "aws_secretsmanager_secret"}
    versions = [i for i in insts if i.type == "aws_secretsmanager_secret_version"]
    hub_ns = "infrastructure"
    env = clusters[0]["env"] if clusters else "dev"
    objects = getattr(estate.result, "objects", {}) or {}
    for inst in insts:
        if inst.type not in ("aws_db_instance", "aws_rds_cluster"):
            continue
        a = inst.attributes
        ident = a.get("identifier") or a.get("cluster_identifier") or inst.name
        host = a.get("address") or a.get("endpoint") or ""
        remote, prop, note = "", "", ""
        for v in versions:  # a Secrets Manager secret holding this database's connection JSON
            j = _json_keys(v.attributes.get("secret_string"))
            if "password" in j and (j.get("host") == host or j.get("dbInstanceIdentifier") == ident
                                    or j.get("dbClusterIdentifier") == ident):
                sec = sm_secrets.get(v.attributes.get("secret_id")) or next(
                    (s for s in sm_secrets.values() if s.attributes.get("arn") == v.attributes.get("secret_id")), None)
                remote = sec.attributes.get("name") if sec is not None else str(v.attributes.get("secret_id"))
                prop = "password"
                break
        if not remote:
            remote = f"{env}/rds/{ident}/master-password"
            note = "no Secrets Manager secret in the state holds this password: store it under this key first"
        mo = objects.get(inst.address)
        obj_name = mo.conversion.object_name if mo is not None else _dns(f"db-instance-{inst.name}")
        kind = "DBCluster" if inst.type == "aws_rds_cluster" else "DBInstance"
        out.append({
            "name": f"{obj_name}-master-password", "namespace": hub_ns, "scope": "hub", "remoteKey": remote,
            "data": {"password": prop}, "source": inst.address,
            "usedBy": {"kind": kind, "name": obj_name, "namespace": hub_ns, "field": "spec.masterUserPassword"},
            **({"note": note} if note else {}),
        })
    for _arn, inst in sorted(sm_secrets.items(), key=lambda kv: str(kv[0])):
        name = inst.attributes.get("name") or inst.name
        mo = objects.get(inst.address)
        obj_name = mo.conversion.object_name if mo is not None else _dns(name)
        arn_parts = str(inst.attributes.get("arn") or "").split(":")
        where = ({"accountId": arn_parts[4], "region": arn_parts[3]}
                 if len(arn_parts) > 4 and re.fullmatch(r"\d{12}", arn_parts[4]) else {})
        out.append({
            "name": _dns(name.split("/")[-1] if "/" in name else name) + "-" + _dns(inst.name),
            "namespace": "apps", "scope": "workload", "remoteKey": name, "data": {}, "source": inst.address,
            **where,  # a store of another account/region cannot read it: only those clusters get it
            "note": f"whole secret (all JSON keys) for consumers of {obj_name}",
        })
    return out


def dump_fleet(doc: dict[str, Any]) -> str:
    header = ("# Fleet file for `tf2kro fleet` (derived by `tf2kro fleet init`; edit freely).\n"
              "# No secret values: sensitive settings are Secrets Manager references resolved by External Secrets.\n"
              "# Schema (editor completion): `tf2kro fleet schema > fleet.schema.json`, then add the line\n"
              "#   # yaml-language-server: $schema=fleet.schema.json\n")
    return header + yaml.dump(doc, Dumper=_FleetDumper, sort_keys=False, default_flow_style=False, width=4096,
                              allow_unicode=True)


class _FleetDumper(yaml.SafeDumper):
    """safe_dump, with multi-line strings (armored public keys) as literal blocks so they stay pasteable."""


def _str_presenter(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    if "\n" in data and all(ln == ln.rstrip() for ln in data.splitlines()):
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_FleetDumper.add_representer(str, _str_presenter)
