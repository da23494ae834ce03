"""Add-on version pipeline (`tf2kro fleet addons`): keep EKS add-ons and Helm add-ons current across the fleet,
environment by environment, as PR-sized changes.

Inputs are read-only: `eks:DescribeAddonVersions` per Kubernetes version and `eks:DescribeAddonConfiguration` for
the JSON schema of a version's `configurationValues` (through the one guarded client factory, or captured JSON
files), the installed add-ons (the fleet's Terraform state, captured `aws eks describe-addon` output, or
`eks:ListAddons` + `eks:DescribeAddon`), and for Helm add-ons the chart repository's `index.yaml` (HTTP GET with a
timeout, or a given file) with each chart version's `kubeVersion` constraint.

WHY one target version per add-on for the whole fleet: the version that soaked in dev is the one promoted to
staging and prod, so the target is the newest version every cluster running the add-on can take (or a pinned one).
A cluster that cannot take it, a pin EKS does not offer, a downgrade, or `configurationValues` the new version's
schema rejects is *refused* (listed with its reason), never proposed.

Output: one directory per (environment, add-on), numbered in environment order (the fleet file's), each with the
change, a README that is the PR body and names the gate, a `gate.json`, and the smoke Job that gates promotion.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from converter.emit.naming import is_dns_label, sanitize
from converter.fleet import argocd
from converter.fleet.config import Application, Cluster, Fleet, check_fleet_names
from converter.fleet.upgrade import _addon_version_key, fetch_addon_versions
from converter.model import ToolError

SMOKE_DIR = Path(__file__).resolve().parent / "addon_smoke"
DEFAULT_SOAK = "7d"
DEFAULT_SMOKE_IMAGE = "docker.io/alpine/k8s:1.31.2"  # kubectl + busybox nslookup in one image
DEFAULT_PROBE_IMAGE = "public.ecr.aws/docker/library/busybox:1.36"
ADDON_API = "eks.services.k8s.aws/v1alpha1"
_SOAK = re.compile(r"^([0-9]+)(h|d|w)$")
_ADDON_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,99}$")
_VERSION = re.compile(r"^v?[0-9]+(\.[0-9]+){0,2}([-+][0-9A-Za-z.+-]*)?$")
MAX_INDEX_BYTES = 64 * 1024 * 1024


# --------------------------------------------------------------------------------------------- EKS add-on versions
# `fleet upgrade` already reads and fetches `describe-addon-versions` (fleet/upgrade.py): the same reader and the
# same guarded fetch serve both paths.


def _read_json(path: str | Path, what: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ToolError(f"cannot read {what}: {exc.strerror}", source=str(path)) from None
    except ValueError as exc:
        raise ToolError(f"{what} is not JSON: {exc}", source=str(path)) from None


def _aws_call(what: str, offline_hint: str, fn: Callable[[], Any]) -> Any:
    """Run one read through the guarded factory; any AWS error is one ToolError line (exit 2), never a traceback."""
    from converter.diff.aws import one_line_aws_errors

    return one_line_aws_errors(what, offline_hint, fn)


def fetch_for_versions(k8s_versions: list[str], names: list[str], clients: Any) -> dict[str, Any]:
    """`eks:DescribeAddonVersions` once per Kubernetes version the fleet runs (read-only), merged."""
    addons: list[dict[str, Any]] = []
    for v in sorted(set(k8s_versions)):
        addons.extend(fetch_addon_versions(v, names, clients)["addons"])
    return {"addons": addons}


def versions_by_name(describe: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    by_name: dict[str, list[dict[str, Any]]] = {}
    for a in describe.get("addons") or []:
        if isinstance(a, dict):
            by_name.setdefault(str(a.get("addonName", "")), []).extend(
                v for v in a.get("addonVersions") or [] if isinstance(v, dict))
    return by_name


def compatible_versions(describe: dict[str, Any], addon: str, k8s_version: str) -> set[str]:
    """Every version of `addon` EKS lists as compatible with `k8s_version` (the cluster's compatible set)."""
    out = set()
    for v in versions_by_name(describe).get(addon, []):
        if any(str(c.get("clusterVersion")) == k8s_version for c in v.get("compatibilities") or []):
            out.add(str(v.get("addonVersion", "")))
    return out


# --------------------------------------------------------------------------------------------- configuration schemas


def load_addon_configs(path: str | Path) -> dict[tuple[str, str], dict[str, Any]]:
    """Captured `aws eks describe-addon-configuration` outputs: one JSON file, or every `*.json` in a directory.
    Keyed by (addonName, addonVersion); the schema is the parsed `configurationSchema` string."""
    p = Path(path)
    files = sorted(p.glob("*.json")) if p.is_dir() else [p]
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for f in files:
        doc = _read_json(f, "add-on configuration file (expected `aws eks describe-addon-configuration` output)")
        docs = doc if isinstance(doc, list) else [doc]
        for d in docs:
            if not isinstance(d, dict) or not d.get("addonName") or not d.get("addonVersion"):
                raise ToolError("add-on configuration file: expected objects with addonName, addonVersion and "
                                "configurationSchema", source=str(f))
            out[(str(d["addonName"]), str(d["addonVersion"]))] = _parse_schema(d.get("configurationSchema"), str(f))
    return out


def _parse_schema(text: Any, source: str) -> dict[str, Any]:
    if isinstance(text, dict):
        return text
    if not text:
        return {}
    try:
        schema = json.loads(str(text))
    except ValueError as exc:
        raise ToolError(f"configurationSchema is not JSON: {exc}", source=source) from None
    if not isinstance(schema, dict):
        raise ToolError("configurationSchema is not a JSON object", source=source)
    return schema


def fetch_addon_config(addon: str, version: str, clients: Any) -> dict[str, Any]:
    def run() -> dict[str, Any]:
        resp = clients.client("eks").describe_addon_configuration(addonName=addon, addonVersion=version)
        return _parse_schema(resp.get("configurationSchema"), f"eks:DescribeAddonConfiguration {addon} {version}")

    return _aws_call("eks:DescribeAddonConfiguration", "pass --addon-config DIR (captured "
                     "`aws eks describe-addon-configuration` outputs) to plan offline", run)


def parse_configuration_values(text: str, where: str) -> Any:
    """EKS accepts `configurationValues` as JSON or YAML (a string)."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ToolError(f"{where}: configurationValues is neither JSON nor YAML: {str(exc).splitlines()[0]}") from None


def schema_errors(values: Any, schema: dict[str, Any]) -> list[str]:
    """jsonschema errors of `values` against an add-on version's configuration schema, one line each, by path."""
    import jsonschema

    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    out = []
    for err in sorted(cls(schema).iter_errors(values), key=lambda e: list(map(str, e.absolute_path))):
        path = "/".join(str(x) for x in err.absolute_path) or "(root)"
        out.append(f"{path}: {err.message}")
    return out


# --------------------------------------------------------------------------------------------- installed add-ons


@dataclass(frozen=True)
class InstalledAddon:
    """One EKS add-on on one cluster, as it runs today."""

    cluster: str
    addon: str
    version: str
    configuration_values: str = ""
    service_account_role_arn: str = ""
    address: str = ""  # terraform address when it came from the state (its Addon lives in convert's RGD)
    status: str = ""  # ACTIVE, DEGRADED, UPDATING… (describe-addon; empty from the state)
    modified_at: str = ""  # ISO 8601 of the add-on's last change (describe-addon modifiedAt)
    health_issues: tuple[str, ...] = ()  # describe-addon health.issues, "code: message"


def state_clusters(estate: Any) -> set[str]:
    """The EKS clusters the state manages: their add-on list in the state is complete (none = no EKS add-ons)."""
    return {str(i.attributes.get("name", "")) for i in estate.state.instances if i.type == "aws_eks_cluster"}


def installed_from_state(estate: Any) -> list[InstalledAddon]:
    out = []
    for inst in estate.state.instances:
        if inst.type != "aws_eks_addon":
            continue
        a = inst.attributes
        out.append(InstalledAddon(cluster=str(a.get("cluster_name", "")), addon=str(a.get("addon_name", "")),
                                  version=str(a.get("addon_version", "")),
                                  configuration_values=str(a.get("configuration_values") or ""),
                                  service_account_role_arn=str(a.get("service_account_role_arn") or ""),
                                  address=str(getattr(inst, "address", "") or "")))
    return out


def _installed_entry(cluster: str, d: Any, source: str) -> InstalledAddon:
    d = d.get("addon", d) if isinstance(d, dict) else d
    if not isinstance(d, dict) or not d.get("addonName") or not d.get("addonVersion"):
        raise ToolError(f"installed add-ons of {cluster}: expected `aws eks describe-addon` objects (addonName, "
                        "addonVersion)", source=source)
    modified = d.get("modifiedAt") or ""
    issues = ((d.get("health") or {}).get("issues") or []) if isinstance(d.get("health"), dict) else []
    return InstalledAddon(cluster=str(d.get("clusterName") or cluster), addon=str(d["addonName"]),
                          version=str(d["addonVersion"]), configuration_values=str(d.get("configurationValues") or ""),
                          service_account_role_arn=str(d.get("serviceAccountRoleArn") or ""),
                          status=str(d.get("status") or ""),
                          modified_at=modified.isoformat() if hasattr(modified, "isoformat") else str(modified),
                          health_issues=tuple(f"{i.get('code', '')}: {i.get('message', '')}" for i in issues
                                              if isinstance(i, dict)))


def load_installed(path: str | Path) -> list[InstalledAddon]:
    """`{"clusters": {"<name>": [<aws eks describe-addon output>, ...]}}` (the `addon` wrapper may stay)."""
    doc = _read_json(path, "installed add-ons file")
    clusters = doc.get("clusters") if isinstance(doc, dict) else None
    if not isinstance(clusters, dict):
        raise ToolError("installed add-ons file: expected {\"clusters\": {NAME: [describe-addon output, ...]}}",
                        source=str(path))
    return [_installed_entry(str(c), d, str(path)) for c, items in sorted(clusters.items()) for d in items or []]


def installed_file_clusters(path: str | Path) -> set[str]:
    """The clusters an installed-add-ons file describes (an empty list = that cluster runs no EKS add-on)."""
    doc = _read_json(path, "installed add-ons file")
    return {str(c) for c in (doc.get("clusters") or {})} if isinstance(doc, dict) else set()


def fetch_installed(cluster: Cluster, clients: Any) -> list[InstalledAddon]:
    """`eks:ListAddons` + `eks:DescribeAddon` for one cluster (read-only)."""

    def run() -> list[InstalledAddon]:
        eks = clients.client("eks")
        names: list[str] = []
        for page in eks.get_paginator("list_addons").paginate(clusterName=cluster.name):
            names.extend(page.get("addons") or [])
        return [_installed_entry(cluster.name, eks.describe_addon(clusterName=cluster.name, addonName=n),
                                 f"eks:DescribeAddon {cluster.name}") for n in sorted(names)]

    return _aws_call(f"eks:ListAddons/DescribeAddon for {cluster.name}", "pass --installed FILE or --installed state",
                     run)


# --------------------------------------------------------------------------------------------- Helm semver


@dataclass(frozen=True, order=True)
class SemVer:
    """A semantic version with SemVer 2 precedence (a pre-release sorts before its release)."""

    major: int
    minor: int
    patch: int
    release: int  # 1 = no pre-release (sorts after any pre-release of the same numbers)
    pre: tuple[tuple[int, int, str], ...] = ()

    @property
    def prerelease(self) -> bool:
        return not self.release


_SEMVER = re.compile(r"^v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")


def _pre_key(pre: str) -> tuple[tuple[int, int, str], ...]:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")) if pre else ()


def parse_semver(text: str) -> SemVer | None:
    m = _SEMVER.match(text.strip())
    if not m or any(x and not x.isdigit() for x in m.groups()[:3]):
        return None
    return SemVer(int(m[1]), int(m[2] or 0), int(m[3] or 0), 0 if m[4] else 1, _pre_key(m[4] or ""))


def _bound(parts: list[str | None], pre: str | None) -> tuple[SemVer, int]:
    """Lowest version of a partial constraint version, and how many leading parts are fixed (the rest wildcards)."""
    fixed = 0
    nums = []
    for p in parts:
        if p is None or p in ("x", "X", "*"):
            break
        nums.append(int(p))
        fixed += 1
    nums += [0] * (3 - len(nums))
    return SemVer(nums[0], nums[1], nums[2], 0 if pre else 1, _pre_key(pre or "")), fixed


def _bump(v: SemVer, idx: int) -> SemVer:
    """The first version above the fixed prefix of length `idx + 1` (e.g. 1.2.x → 1.3.0-0)."""
    nums = [v.major, v.minor, v.patch]
    nums[idx] += 1
    for i in range(idx + 1, 3):
        nums[i] = 0
    return SemVer(nums[0], nums[1], nums[2], 0, ((0, 0, ""),))  # x.y.z-0: below every pre-release of the next


_PRIM = re.compile(r"^(=|!=|>=|=>|<=|=<|>|<|~>|~|\^)?\s*v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?"
                   r"(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")


def _primitive(text: str) -> Callable[[SemVer], bool]:
    m = _PRIM.match(text)
    if not m:
        raise ValueError(f"bad constraint {text!r}")
    op, parts, pre = m[1] or "=", [m[2], m[3], m[4]], m[5]
    lo, fixed = _bound(parts, pre)
    if op == "=>":
        op = ">="
    if op == "=<":
        op = "<="
    if op in ("=", "!=") and fixed < 3:
        hi = _bump(lo, fixed - 1) if fixed else None
        def inrange(v: SemVer) -> bool:
            return v >= lo and (hi is None or v < hi)
        return inrange if op == "=" else (lambda v: not inrange(v))
    if op == "=":
        return lambda v: v == lo
    if op == "!=":
        return lambda v: v != lo
    if op == ">=":
        return lambda v: v >= lo
    if op == "<":
        return lambda v: v < lo
    if op == ">":
        if fixed < 3:
            hi = _bump(lo, fixed - 1) if fixed else None
            return lambda v: hi is not None and v >= hi
        return lambda v: v > lo
    if op == "<=":
        if fixed < 3:
            hi = _bump(lo, fixed - 1) if fixed else None
            return lambda v: hi is None or v < hi
        return lambda v: v <= lo
    if op in ("~", "~>"):
        hi = _bump(lo, 0 if fixed <= 1 else 1)
        return lambda v: lo <= v < hi
    # caret: the leftmost non-zero part is fixed
    if lo.major or fixed <= 1:
        idx = 0
    elif lo.minor or fixed == 2:
        idx = 1
    else:
        idx = 2
    hi = _bump(lo, idx)
    return lambda v: lo <= v < hi


def constraint_matches(constraint: str, version: str) -> bool:
    """Helm's `kubeVersion` check (Masterminds semver v3): `||` separates alternatives, commas or spaces separate
    conditions that must all hold, `a - b` is an inclusive range, `~`/`^`/`x` as in Helm. A pre-release version
    (EKS reports `v1.30.5-eks-…`) only satisfies a condition whose own version has a pre-release part — which is
    why charts write `>=1.23.0-0`. Raises ValueError on an unparsable constraint."""
    v = parse_semver(version)
    if v is None:
        raise ValueError(f"bad version {version!r}")
    for alt in constraint.split("||"):
        alt = re.sub(r"\s*-\s+|\s+-\s*", " - ", alt.strip())
        alt = re.sub(r"(=|!=|>=|=>|<=|=<|>|<|~>|~|\^)\s+", r"\1", alt)
        tokens = [t for t in re.split(r"[\s,]+", alt) if t]
        if not tokens:
            return True
        ok = True
        i = 0
        while i < len(tokens):
            if i + 2 < len(tokens) and tokens[i + 1] == "-":
                conds = [">=" + tokens[i], "<=" + tokens[i + 2]]
                i += 3
            else:
                conds = [tokens[i]]
                i += 1
            for c in conds:
                cm = _PRIM.match(c)
                if not cm:
                    raise ValueError(f"bad constraint {c!r}")
                if v.prerelease and not cm[5] or not _primitive(c)(v):
                    ok = False
        if ok:
            return True
    return False


def eks_kube_version(cluster_version: str) -> str:
    """The version Helm checks a chart's kubeVersion against on EKS: `v<minor>.0-eks` (EKS reports
    `v1.30.5-eks-<hash>`; the patch is unknown to the fleet file, so the lowest of the minor is checked)."""
    v = parse_semver(cluster_version)
    if v is None:
        raise ToolError(f"cluster version {cluster_version!r} is not a Kubernetes version")
    return f"{v.major}.{v.minor}.{v.patch}-eks"


def load_helm_index(path: str | Path) -> dict[str, Any]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ToolError(f"cannot read Helm repository index: {exc.strerror}", source=str(path)) from None
    return _parse_index(text, str(path))


def _parse_index(text: str, source: str) -> dict[str, Any]:
    try:
        doc = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - safe loader
    except yaml.YAMLError as exc:
        raise ToolError(f"Helm repository index is not YAML: {str(exc).splitlines()[0]}", source=source) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("entries"), dict):
        raise ToolError("Helm repository index: expected an object with `entries`", source=source)
    return doc


def fetch_helm_index(repo_url: str, timeout: float = 15.0) -> dict[str, Any]:
    """GET `<repo>/index.yaml` (read-only, with a timeout and a size cap). OCI registries have no index."""
    import urllib.error
    import urllib.request

    if not re.match(r"^https?://", repo_url):
        raise ToolError(f"chart repository {repo_url!r} has no index.yaml (OCI or not HTTP); pass --helm-index "
                        "NAME=FILE")
    url = repo_url.rstrip("/") + "/index.yaml"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers={"User-Agent": "tf2kro"}),  # noqa: S310
                                    timeout=timeout) as resp:
            body = resp.read(MAX_INDEX_BYTES + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ToolError(f"cannot fetch {url}: {getattr(exc, 'reason', exc)}; pass --helm-index NAME=FILE") from None
    if len(body) > MAX_INDEX_BYTES:
        raise ToolError(f"{url} is larger than {MAX_INDEX_BYTES} bytes")
    return _parse_index(body.decode("utf-8", "replace"), url)


# --------------------------------------------------------------------------------------------- settings + results


def soak_seconds(text: str) -> int:
    m = _SOAK.match(str(text))
    if not m:
        raise ToolError(f"fleet file: addons.soak {text!r} must be a duration like 36h, 7d or 2w")
    return int(m[1]) * {"h": 3600, "d": 86400, "w": 604800}[m[2]]


@dataclass(frozen=True)
class Settings:
    """`spec.addons` of the fleet file: soak time between environments, pinned versions, smoke-test images."""

    soak: str = DEFAULT_SOAK
    pins: dict[str, str] = field(default_factory=dict)
    smoke_image: str = DEFAULT_SMOKE_IMAGE
    probe_image: str = DEFAULT_PROBE_IMAGE
    storage_class: str = ""

    @staticmethod
    def from_fleet(fleet: Fleet, pins: dict[str, str] | None = None) -> Settings:
        d = dict(getattr(fleet, "addons", None) or {})
        s = Settings(soak=str(d.get("soak", DEFAULT_SOAK)), pins={**dict(d.get("pins") or {}), **(pins or {})},
                     smoke_image=str(d.get("smokeImage", DEFAULT_SMOKE_IMAGE)),
                     probe_image=str(d.get("probeImage", DEFAULT_PROBE_IMAGE)),
                     storage_class=str(d.get("storageClass", "")))
        soak_seconds(s.soak)
        if s.storage_class and not is_dns_label(s.storage_class):
            raise ToolError(f"fleet file: addons.storageClass {s.storage_class!r} is not a DNS-1123 label")
        for img in (s.smoke_image, s.probe_image):
            if not re.match(r"^[A-Za-z0-9][A-Za-z0-9./_:@-]*$", img):
                raise ToolError(f"fleet file: addons image {img!r} is not an image reference")
        for name, ver in s.pins.items():
            if not _VERSION.match(str(ver)):
                raise ToolError(f"pinned version {name}={ver!r} is not a version")
        return s


@dataclass(frozen=True)
class Refusal:
    kind: str  # eks | helm
    addon: str
    cluster: str
    env: str
    version: str
    reason: str


@dataclass(frozen=True)
class NotChecked:
    what: str
    reason: str


@dataclass
class Bump:
    """One PR: move `addon` to `to` on every cluster of `env` that runs an older version."""

    kind: str  # eks | helm
    addon: str
    env: str
    to: str
    clusters: dict[str, str]  # cluster -> current version
    after: str | None = None  # the environment that must have soaked first
    objects: list[dict[str, Any]] = field(default_factory=list)
    extra_files: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class AddonsPlan:
    bumps: list[Bump] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    not_checked: list[NotChecked] = field(default_factory=list)
    current: list[str] = field(default_factory=list)  # "<cluster>/<addon> <version>" already at the target
    running: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # (kind, addon) -> envs running it

    @property
    def exit_code(self) -> int:
        """2 could not check something, 1 bumps proposed or refused, 0 everything current."""
        if self.not_checked:
            return 2
        return 1 if self.bumps or self.refusals else 0

    def summary(self) -> dict[str, Any]:
        return {
            "bumps": [{"kind": b.kind, "env": b.env, "addon": b.addon, "to": b.to, "clusters": b.clusters,
                       "after": b.after} for b in self.bumps],
            "refused": [r.__dict__ for r in self.refusals],
            "notChecked": [n.__dict__ for n in self.not_checked],
            "current": sorted(self.current),
        }


# --------------------------------------------------------------------------------------------- planning


@dataclass
class Sources:
    """Where each input comes from: captured data, or a callable that reads it (AWS / HTTP)."""

    addon_versions: dict[str, Any] | None = None  # describe-addon-versions (all versions)
    fetch_versions: Callable[[list[str], list[str]], dict[str, Any]] | None = None  # (k8s versions, names)
    configs: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    fetch_config: Callable[[str, str], dict[str, Any]] | None = None
    installed: list[InstalledAddon] = field(default_factory=list)
    installed_clusters: set[str] | None = None  # clusters whose add-on list is known (None: those in `installed`)
    helm_indexes: dict[str, dict[str, Any]] = field(default_factory=dict)  # app or chart name -> index
    fetch_index: Callable[[str], dict[str, Any]] | None = None
    configuration_values: dict[str, str] = field(default_factory=dict)  # addon -> new configurationValues


def _env_order(fleet: Fleet) -> list[str]:
    return [e.name for e in fleet.environments]


def plan_addons(fleet: Fleet, src: Sources, settings: Settings, estate: Any = None,
                env_for_names: str | None = None) -> AddonsPlan:
    check_fleet_names(fleet)
    plan = AddonsPlan()
    _plan_eks(fleet, src, settings, plan, estate, env_for_names)
    _plan_helm(fleet, src, settings, plan)
    order = {e: i for i, e in enumerate(_env_order(fleet))}
    plan.bumps.sort(key=lambda b: (order.get(b.env, 99), b.kind, b.addon))
    # each environment's bump waits for the previous environment that runs the same add-on (bumped now or already
    # on the target); when that environment cannot take the version, the later ones are held, never skip ahead
    env_list = _env_order(fleet)
    refused = {(r.kind, r.addon, r.env): r for r in plan.refusals}
    held: list[Bump] = []
    for b in plan.bumps:
        running = plan.running.get((b.kind, b.addon), set())
        earlier = [e for e in env_list[: env_list.index(b.env)] if e in running]
        b.after = earlier[-1] if earlier else None
        blocker = next((refused[(b.kind, b.addon, e)] for e in earlier if (b.kind, b.addon, e) in refused), None)
        if blocker is not None:
            held.append(b)
            for c in sorted(b.clusters):
                plan.refusals.append(Refusal(b.kind, b.addon, c, b.env, b.to, f"held: {blocker.env} cannot take "
                                             f"{b.to} ({blocker.cluster}: {blocker.reason})"))
    plan.bumps = [b for b in plan.bumps if b not in held]
    return plan


def _plan_eks(fleet: Fleet, src: Sources, settings: Settings, plan: AddonsPlan, estate: Any,
              env_for_names: str | None) -> None:
    clusters = {c.name: c for c in fleet.clusters}
    by_addon: dict[str, list[InstalledAddon]] = {}
    for ia in src.installed:
        if ia.cluster not in clusters:
            continue  # an add-on of a cluster outside the fleet file: not ours to move
        if not _ADDON_NAME.match(ia.addon):
            raise ToolError(f"add-on name {ia.addon!r} on {ia.cluster} is not an EKS add-on name")
        by_addon.setdefault(ia.addon, []).append(ia)
    known = src.installed_clusters if src.installed_clusters is not None else {ia.cluster for ia in src.installed}
    for c in fleet.clusters:
        if c.name not in known:
            plan.not_checked.append(NotChecked(f"cluster {c.name}", "no installed add-on data (state, --installed "
                                                                    "FILE or --installed aws)"))
    if not by_addon:
        return
    describe = src.addon_versions
    if describe is None:
        if src.fetch_versions is None:
            plan.not_checked.append(NotChecked("EKS add-on versions", "no --addon-versions file and AWS reads are off"))
            return
        describe = src.fetch_versions(sorted({clusters[ia.cluster].version for ia in src.installed
                                              if ia.cluster in clusters}), sorted(by_addon))
    for addon, items in sorted(by_addon.items()):
        plan.running[("eks", addon)] = {clusters[ia.cluster].env for ia in items}
        compat = {ia.cluster: compatible_versions(describe, addon, clusters[ia.cluster].version) for ia in items}
        pin = settings.pins.get(addon)
        offered = {str(v.get("addonVersion")) for v in versions_by_name(describe).get(addon, [])}
        if pin:
            target = pin
        else:
            common = set.intersection(*compat.values()) if compat else set()
            if common:
                target = max(common, key=_addon_version_key)
            else:  # no version fits every cluster: the newest the first environment can take, refused elsewhere
                first = min(items, key=lambda ia: _env_order(fleet).index(clusters[ia.cluster].env))
                cand = compat[first.cluster]
                if not cand:
                    for ia in items:
                        plan.refusals.append(Refusal("eks", addon, ia.cluster, clusters[ia.cluster].env, "",
                                                     f"EKS lists no {addon} version compatible with Kubernetes "
                                                     f"{clusters[ia.cluster].version}"))
                    continue
                target = max(cand, key=_addon_version_key)
        if not _VERSION.match(target):
            raise ToolError(f"add-on version {target!r} of {addon} is not a version")
        per_env: dict[str, list[InstalledAddon]] = {}
        for ia in items:
            c = clusters[ia.cluster]
            if ia.version == target:
                plan.current.append(f"{ia.cluster}/{addon} {ia.version}")
                continue
            if target not in offered:
                plan.refusals.append(Refusal("eks", addon, ia.cluster, c.env, target,
                                             f"EKS does not offer {addon} {target}"))
                continue
            if target not in compat[ia.cluster]:
                plan.refusals.append(Refusal(
                    "eks", addon, ia.cluster, c.env, target,
                    f"{addon} {target} is not compatible with Kubernetes {c.version} (compatible: "
                    f"{', '.join(sorted(compat[ia.cluster], key=_addon_version_key)[-3:]) or 'none'}"
                    f"{', …' if len(compat[ia.cluster]) > 3 else ''})"))
                continue
            if _addon_version_key(target) < _addon_version_key(ia.version):
                plan.refusals.append(Refusal("eks", addon, ia.cluster, c.env, target,
                                             f"{target} is older than the installed {ia.version} (no downgrades)"))
                continue
            per_env.setdefault(c.env, []).append(ia)
        for env, env_items in per_env.items():
            ok: list[tuple[InstalledAddon, str]] = []
            for ia in env_items:
                values = src.configuration_values.get(addon, ia.configuration_values)
                problem = _check_values(addon, target, values, ia.cluster, src, plan)
                if problem is None:
                    continue
                if problem:
                    plan.refusals.append(Refusal("eks", addon, ia.cluster, env, target, problem))
                    continue
                ok.append((ia, values))
            if ok:
                plan.bumps.append(_eks_bump(fleet, addon, env, target, ok, estate, env_for_names))


def _check_values(addon: str, version: str, values: str, cluster: str, src: Sources, plan: AddonsPlan) -> str | None:
    """"" when the configurationValues fit the new version's schema, a refusal reason when not, None when the
    schema could not be read (recorded as not checked)."""
    if not values.strip():
        return ""
    try:
        doc = parse_configuration_values(values, f"{cluster}/{addon}")
    except ToolError as exc:
        return str(exc)
    schema = src.configs.get((addon, version))
    if schema is None and src.fetch_config is not None:
        schema = src.configs[(addon, version)] = src.fetch_config(addon, version)
    if schema is None:
        plan.not_checked.append(NotChecked(f"{cluster}/{addon} {version}", "configurationValues set but no "
                                           "configuration schema for the new version (--addon-config)"))
        return None
    if not schema:
        return f"{addon} {version} has no configuration schema: it accepts no configurationValues"
    errors = schema_errors(doc, schema)
    if errors:
        return (f"configurationValues do not match the {addon} {version} schema: " + "; ".join(errors[:3])
                + (f" (+{len(errors) - 3} more)" if len(errors) > 3 else ""))
    return ""


def _rgd_locations(estate: Any, env: str) -> dict[tuple[str, str], tuple[str, int, str]]:
    """(cluster, addon) → (RGD name, index in spec.resources, current addonVersion) of the Addon template
    `tf2kro convert --env ENV` emits for this estate (same emitter, same naming, so the patch hits)."""
    from converter.emit.kro import EmitOptions, emit_phases

    out: dict[tuple[str, str], tuple[str, int, str]] = {}
    for ph in emit_phases(estate.result, estate.graph, EmitOptions(env=env, root=estate.root), estate.hcl):
        for i, r in enumerate(ph.rgd["spec"]["resources"]):
            t = r.get("template") or {}
            if t.get("kind") != "Addon":
                continue
            fields = json.loads((t["metadata"].get("annotations") or {}).get("services.k8s.aws/adoption-fields")
                                or "{}")
            out[(str(fields.get("clusterName", "")), str(t["spec"].get("name", "")))] = (
                ph.rgd["metadata"]["name"], i, str(t["spec"].get("addonVersion", "")))
    return out


def _eks_bump(fleet: Fleet, addon: str, env: str, target: str, items: list[tuple[InstalledAddon, str]],
              estate: Any, env_for_names: str | None) -> Bump:
    b = Bump("eks", addon, env, target, {ia.cluster: ia.version for ia, _v in items})
    locs = _rgd_locations(estate, env_for_names or env) if estate is not None and any(ia.address for ia, _ in items) else {}
    patches = []
    for ia, values in sorted(items, key=lambda x: x[0].cluster):
        loc = locs.get((ia.cluster, addon))
        if loc:
            rgd, idx, cur = loc
            base = f"/spec/resources/{idx}/template/spec"
            ops = [{"op": "test", "path": f"{base}/name", "value": addon},
                   {"op": "test", "path": f"{base}/addonVersion", "value": cur},
                   {"op": "replace", "path": f"{base}/addonVersion", "value": target}]
            if values != ia.configuration_values:
                ops.append({"op": "add", "path": f"{base}/configurationValues", "value": values})
            patches.append({"target": {"group": "kro.run", "version": "v1alpha1", "kind": "ResourceGraphDefinition",
                                       "name": rgd}, "patch": yaml.safe_dump(ops, sort_keys=False)})
            continue
        spec: dict[str, Any] = {"clusterName": ia.cluster, "name": addon, "addonVersion": target,
                                "resolveConflicts": "PRESERVE"}
        if values.strip():
            spec["configurationValues"] = values
        if ia.service_account_role_arn:
            spec["serviceAccountRoleARN"] = ia.service_account_role_arn
        c = fleet.cluster(ia.cluster)
        b.objects.append({
            "apiVersion": ADDON_API, "kind": "Addon",
            "metadata": {"name": _object_name(ia.cluster, addon), "namespace": fleet.hub_namespace,
                         "labels": {"tf2kro.dev/addon": addon, "tf2kro.dev/cluster": ia.cluster, "env": env},
                         "annotations": {
                             "services.k8s.aws/adoption-policy": "adopt",
                             "services.k8s.aws/adoption-fields": json.dumps({"clusterName": ia.cluster, "name": addon},
                                                                            separators=(",", ":")),
                             "services.k8s.aws/deletion-policy": "retain",
                             "services.k8s.aws/region": c.region if c else ""}},
            "spec": spec})
    if patches:
        b.extra_files["rgd-patch/kustomization.yaml"] = _dump({
            "apiVersion": "kustomize.config.k8s.io/v1alpha1", "kind": "Component",
            "metadata": {"name": f"addon-{addon}-{env}"}, "patches": patches})
        b.notes.append("The Addon lives in the `tf2kro convert` RGD: add `rgd-patch` to the `components:` of the "
                       "convert output's kustomization (the JSON patch tests the add-on name and current version "
                       "first, so it fails loudly instead of patching the wrong resource).")
    return b


def _object_name(cluster: str, addon: str) -> str:
    return sanitize(f"{cluster}-{addon}", "addon")


def _dump(obj: Any) -> str:
    from converter.emit.writer import dump_yaml

    return dump_yaml([obj])


# --------------------------------------------------------------------------------------------- Helm add-ons


def _app_clusters(fleet: Fleet, app: Application) -> list[Cluster]:
    return [c for c in fleet.clusters if c.env in app.envs and argocd.selects(app, c)]


def _plan_helm(fleet: Fleet, src: Sources, settings: Settings, plan: AddonsPlan) -> None:
    fetched: dict[str, dict[str, Any] | ToolError] = {}  # one GET per repository, however many charts it serves
    for app in fleet.applications:
        clusters = _app_clusters(fleet, app)
        if not clusters:
            continue
        plan.running[("helm", app.name)] = {c.env for c in clusters}
        index = src.helm_indexes.get(app.name) or src.helm_indexes.get(app.chart)
        if index is None:
            if src.fetch_index is None:
                plan.not_checked.append(NotChecked(f"chart {app.chart} ({app.name})", "no --helm-index and HTTP off"))
                continue
            if app.repo_url not in fetched:
                try:
                    fetched[app.repo_url] = src.fetch_index(app.repo_url)
                except ToolError as exc:
                    fetched[app.repo_url] = exc
            got = fetched[app.repo_url]
            if isinstance(got, ToolError):
                plan.not_checked.append(NotChecked(f"chart {app.chart} ({app.name})", str(got)))
                continue
            index = got
        entries = [e for e in (index.get("entries") or {}).get(app.chart) or [] if isinstance(e, dict)]
        if not entries:
            plan.not_checked.append(NotChecked(f"chart {app.chart} ({app.name})", "the repository index has no such chart"))
            continue
        current = parse_semver(app.version)
        if current is None:
            plan.not_checked.append(NotChecked(f"chart {app.chart} ({app.name})", f"version {app.version!r} is not semver"))
            continue

        def fits(e: dict[str, Any], c: Cluster) -> bool:
            kv = str(e.get("kubeVersion") or "").strip()
            try:
                return not kv or constraint_matches(kv, eks_kube_version(c.version))
            except ValueError:
                return False

        versions = []
        for e in entries:
            v = parse_semver(str(e.get("version", "")))
            if v is not None and _VERSION.match(str(e.get("version"))):
                versions.append((v, e))
        pin = settings.pins.get(app.name)
        if pin:
            match = [(v, e) for v, e in versions if str(e.get("version")) == pin]
            if not match:
                for c in clusters:
                    plan.refusals.append(Refusal("helm", app.name, c.name, c.env, pin,
                                                 f"chart {app.chart} {pin} is not in the repository index"))
                continue
            target_v, target_e = match[0]
        else:
            cands = [(v, e) for v, e in versions if v > current and not e.get("deprecated")
                     and (v.release or current.prerelease) and all(fits(e, c) for c in clusters)]
            if not cands:
                plan.current.extend(f"{c.name}/{app.name} {app.version}" for c in clusters)
                continue
            target_v, target_e = max(cands, key=lambda x: x[0])
        target = str(target_e["version"])
        if target_v == current:
            plan.current.extend(f"{c.name}/{app.name} {app.version}" for c in clusters)
            continue
        per_env: dict[str, list[Cluster]] = {}
        for c in clusters:
            if target_v < current:
                plan.refusals.append(Refusal("helm", app.name, c.name, c.env, target,
                                             f"{target} is older than {app.version} (no downgrades)"))
            elif not fits(target_e, c):
                plan.refusals.append(Refusal(
                    "helm", app.name, c.name, c.env, target,
                    f"chart {app.chart} {target} requires kubeVersion {target_e.get('kubeVersion')!r}, which Helm "
                    f"refuses for EKS {c.version} ({eks_kube_version(c.version)})"))
            else:
                per_env.setdefault(c.env, []).append(c)
        for env in _env_order(fleet):
            if env in per_env:
                plan.bumps.append(Bump("helm", app.name, env, target, {c.name: app.version for c in per_env[env]}))
    order = _env_order(fleet)
    # the ApplicationSet renders one targetRevision for all environments: each env's PR extends the set of
    # environments on the new version (dev; dev+staging; …) so no environment skips ahead of the one before it
    for b in plan.bumps:
        if b.kind != "helm":
            continue
        app = next(a for a in fleet.applications if a.name == b.addon)
        done = [e for e in order[: order.index(b.env) + 1] if any(
            x.kind == "helm" and x.addon == b.addon and x.env == e for x in plan.bumps)]
        b.objects.append(helm_application_set(fleet, app, b.to, done))


def helm_application_set(fleet: Fleet, app: Application, to: str, envs: list[str]) -> dict[str, Any]:
    """The app's ApplicationSet (as `tf2kro fleet` renders it) with the chart version chosen per environment: the
    environments in `envs` get `to`, the others keep the fleet file's version. Versions and environment names are
    validated (semver, DNS labels) before they enter the Go template."""
    for v in (to, app.version):
        if not _VERSION.match(v):
            raise ToolError(f"chart version {v!r} of {app.name} is not a version")
    for e in envs:
        if not is_dns_label(e):
            raise ToolError(f"environment {e!r} is not a DNS-1123 label")
    aset = argocd.application_set(fleet, app)
    all_envs = {c.env for c in _app_clusters(fleet, app)} | set(app.envs)
    if set(envs) >= all_envs:
        rev = to
    else:
        cond = " ".join(f'(eq .path.basename "{e}")' for e in envs)
        cond = f"or {cond}" if len(envs) > 1 else cond[1:-1]
        rev = f"{{{{if {cond}}}}}{to}{{{{else}}}}{app.version}{{{{end}}}}"
    aset["spec"]["template"]["spec"]["sources"][0]["targetRevision"] = rev
    aset["metadata"].setdefault("annotations", {})["tf2kro.dev/chart-versions"] = json.dumps(
        {e: (to if e in envs else app.version) for e in sorted(all_envs)}, separators=(",", ":"))
    return aset


# --------------------------------------------------------------------------------------------- smoke Jobs


def smoke_checks() -> dict[str, dict[str, Any]]:
    doc = yaml.safe_load((SMOKE_DIR / "checks.yaml").read_text(encoding="utf-8"))
    return {str(k): dict(v) for k, v in (doc or {}).items()}


def smoke_objects(addon: str, settings: Settings) -> list[dict[str, Any]]:
    """Namespace, ServiceAccount, RBAC, scripts ConfigMap and the Job that runs `addon`'s smoke checks on a
    cluster (an ArgoCD PostSync hook, so it runs after every sync of the bump). Empty when the add-on has none."""
    check = smoke_checks().get(addon)
    if not check:
        return []
    name = _object_name("smoke", addon)
    ns = name  # one namespace per add-on: two bump directories never own the same object
    scripts = {s: (SMOKE_DIR / s).read_text(encoding="utf-8") for s in check["scripts"]}
    env: dict[str, str] = {"SMOKE_NAMESPACE": ns, "PROBE_IMAGE": settings.probe_image, "TIMEOUT": "300s", "HOME": "/tmp",
           **{str(k): str(v) for k, v in (check.get("env") or {}).items()}}
    if settings.storage_class:
        env["STORAGE_CLASS"] = settings.storage_class
    labels = {"app.kubernetes.io/name": "addon-smoke", "tf2kro.dev/addon": addon}
    run = " && ".join(f"sh /scripts/{shlex.quote(s)}" for s in check["scripts"])
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": {
            "pod-security.kubernetes.io/enforce": "restricted"}}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": ns, "labels": labels}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
         "metadata": {"name": name, "namespace": "kube-system", "labels": labels},
         "rules": [{"apiGroups": ["apps"], "resources": ["daemonsets", "deployments", "replicasets"],
                    "verbs": ["get", "list", "watch"]},
                   {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": {"name": name, "namespace": "kube-system", "labels": labels},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
         "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": ns}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
         "metadata": {"name": name, "namespace": ns, "labels": labels},
         "rules": [{"apiGroups": [""], "resources": ["pods", "persistentvolumeclaims"],
                    "verbs": ["get", "list", "watch", "create", "delete", "patch"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": {"name": name, "namespace": ns, "labels": labels},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
         "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": ns}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
         "metadata": {"name": name, "labels": labels},
         "rules": [{"apiGroups": [""], "resources": ["persistentvolumes"], "verbs": ["get", "list", "watch"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": {"name": name, "labels": labels},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
         "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": ns}]},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns, "labels": labels},
         "data": scripts},
        {"apiVersion": "batch/v1", "kind": "Job",
         "metadata": {"name": name, "namespace": ns, "labels": labels,
                      "annotations": {"argocd.argoproj.io/hook": "PostSync",
                                      "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation"}},
         "spec": {"backoffLimit": 1, "activeDeadlineSeconds": 1800, "template": {
             "metadata": {"labels": labels},
             "spec": {
                 "serviceAccountName": name, "restartPolicy": "Never",
                 "securityContext": {"runAsNonRoot": True, "runAsUser": 65534, "seccompProfile": {"type": "RuntimeDefault"}},
                 "containers": [{
                     "name": "smoke", "image": settings.smoke_image, "command": ["sh", "-c", run],
                     "env": [{"name": k, "value": v} for k, v in sorted(env.items())],
                     "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
                     "volumeMounts": [{"name": "scripts", "mountPath": "/scripts", "readOnly": True},
                                      {"name": "tmp", "mountPath": "/tmp"}]}],  # kubectl's cache under HOME
                 "volumes": [{"name": "scripts", "configMap": {"name": name}}, {"name": "tmp", "emptyDir": {}}]}}}},
    ]


def smoke_application_set(fleet: Fleet, addon: str, env: str, clusters: list[str], path: str) -> dict[str, Any]:
    """What runs the smoke stage: an ApplicationSet on the hub that syncs the bump's `smoke/` directory to each
    cluster of the environment (AppProject `<env>`), so the PostSync Job runs after every sync."""
    name = sanitize(f"smoke-{env}-{addon}", "smoke")
    return {
        "apiVersion": argocd.API, "kind": "ApplicationSet",
        "metadata": {"name": name, "namespace": fleet.argocd_namespace,
                     "labels": {**argocd.PART_OF, "tf2kro.dev/addon": addon, "env": env}},
        "spec": {
            "goTemplate": True, "goTemplateOptions": ["missingkey=error"],
            "generators": [{"list": {"elements": [{"cluster": c} for c in sorted(clusters)]}}],
            "template": {
                "metadata": {"name": f"{name}-{{{{.cluster}}}}",
                             "labels": {"tf2kro.dev/addon": addon, "env": env, "cluster": "{{.cluster}}"}},
                "spec": {
                    "project": env,
                    "source": {"repoURL": fleet.repo_url, "targetRevision": fleet.revision, "path": path},
                    "destination": {"name": "{{.cluster}}", "namespace": sanitize(f"smoke-{addon}", "smoke")},
                    "syncPolicy": {"automated": {"prune": True, "selfHeal": True},
                                   "syncOptions": ["ServerSideApply=true"]},
                },
            },
        },
    }


# --------------------------------------------------------------------------------------------- output files


def _kustomization(resources: list[str]) -> str:
    return _dump({"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": resources})


def render_plan(fleet: Fleet, plan: AddonsPlan, settings: Settings, repo_path: str | None = None) -> dict[str, str]:
    """One directory per (environment, add-on) in promotion order, plus a top README and `addons.json`.
    `repo_path`: where this output lives in the fleet's git repository (the smoke ApplicationSets point there)."""
    from converter.emit.writer import dump_yaml

    base = (repo_path if repo_path is not None else argocd.repo_path(fleet, "addon-bumps")).strip("/")
    if base and not re.fullmatch(r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*", base) or ".." in base.split("/"):
        raise ToolError(f"repository path {base!r} is not a relative path of plain segments")

    files: dict[str, str] = {}
    lines = []
    for n, b in enumerate(plan.bumps, start=1):
        d = f"{n:02d}-{b.env}-{b.kind}-{b.addon}"
        change = []
        if b.objects:
            fname = "addons.yaml" if b.kind == "eks" else "applicationset.yaml"
            files[f"{d}/change/{fname}"] = dump_yaml(b.objects)
            files[f"{d}/change/kustomization.yaml"] = _kustomization([fname])
            change.append(f"`change/{fname}`")
        for rel, text in b.extra_files.items():
            files[f"{d}/{rel}"] = text
            change.append(f"`{rel}`")
        smoke = smoke_objects(b.addon, settings) if b.kind == "eks" else []
        if smoke:
            files[f"{d}/smoke/smoke.yaml"] = dump_yaml(smoke)
            files[f"{d}/smoke/kustomization.yaml"] = _kustomization(["smoke.yaml"])
            files[f"{d}/hub/smoke-applicationset.yaml"] = dump_yaml([smoke_application_set(
                fleet, b.addon, b.env, sorted(b.clusters), f"{base}/{d}/smoke" if base else f"{d}/smoke")])
            files[f"{d}/hub/kustomization.yaml"] = _kustomization(["smoke-applicationset.yaml"])
            change.append("`hub/smoke-applicationset.yaml` (ArgoCD on the hub: syncs `smoke/` to the clusters)")
        job = f"{_object_name('smoke', b.addon)}/{_object_name('smoke', b.addon)}"
        gate = {"env": b.env, "addon": b.addon, "kind": b.kind, "version": b.to, "clusters": sorted(b.clusters),
                "requires": None if b.after is None else {
                    "env": b.after, "version": b.to, "soak": settings.soak, "soakSeconds": soak_seconds(settings.soak),
                    "healthChecks": [f"Job {job} succeeded on every {b.after} cluster" if smoke else
                                     f"every {b.after} Application of {b.addon} Synced and Healthy",
                                     f"no {b.addon} alert firing on {b.after} during the soak"]}}
        files[f"{d}/gate.json"] = json.dumps(gate, indent=2) + "\n"
        if b.after is None:
            gate_text = (f"First environment: merge when ready. After the sync, the smoke Job `{job}` must succeed on "
                         f"every {b.env} cluster; it gates the next environment." if smoke else
                         f"First environment: merge when ready; every {b.addon} Application on {b.env} must become "
                         "Synced and Healthy.")
        else:
            gate_text = (f"Do not merge before **{b.after}** has run {b.addon} {b.to} for **{settings.soak}** with its "
                         "health checks green: " + "; ".join(gate["requires"]["healthChecks"]) + ".")
        table = "\n".join(f"| {c} | {v} | {b.to} |" for c, v in sorted(b.clusters.items()))
        what = ("EKS add-on (ACK `Addon`)" if b.kind == "eks" else
                f"Helm add-on: `change/applicationset.yaml` replaces `hub/argocd/applicationsets/{b.addon}.yaml` of "
                "the `tf2kro fleet` output (chart version chosen per environment). `tf2kro fleet` renders the fleet "
                f"file's single version, so do not re-render over it until every environment runs {b.to}; then set "
                f"`version: {b.to}` for the application in the fleet file")
        files[f"{d}/README.md"] = (
            f"# {b.env}: {b.addon} → {b.to}\n\n{what}.\n\n| cluster | from | to |\n|---|---|---|\n{table}\n\n"
            f"## Gate\n\n{gate_text}\n\n## Change\n\n" + "\n".join(f"- {c}" for c in change) + "\n"
            + ("".join(f"\n{note}\n" for note in b.notes))
            + (f"\n## Smoke test\n\n`smoke/` (sync to the {b.env} clusters): a PostSync Job running "
               f"{', '.join(smoke_checks()[b.addon]['scripts'])}. Result for this PR (CI posts it as a comment or "
               "status):\n\n```\n" + "\n".join(
                   f"kubectl --context {shlex.quote(c)} -n {job.split('/')[0]} wait --for=condition=complete "
                   f"job/{job.split('/')[1]} --timeout=30m && kubectl --context {shlex.quote(c)} -n "
                   f"{job.split('/')[0]} logs job/{job.split('/')[1]}" for c in sorted(b.clusters)) + "\n```\n"
               if smoke else ""))
        lines.append(f"{n}. `{d}` — {b.addon} {b.to} on {b.env}" + (f" (after {b.after} soaked {settings.soak})"
                                                                      if b.after else ""))
    refused = "\n".join(f"- {r.cluster}/{r.addon} {r.version}: {r.reason}" for r in plan.refusals) or "- none"
    nc = "\n".join(f"- {x.what}: {x.reason}" for x in plan.not_checked) or "- none"
    files["README.md"] = (f"# Add-on bumps for fleet {fleet.name}\n\nOne directory per pull request, merged in order "
                          "(environments as the fleet file orders them); each README states its gate.\n\n"
                          + ("\n".join(lines) or "No bumps: every add-on is current.") + "\n\n## Refused\n\n"
                          + refused + "\n\n## Not checked\n\n" + nc + "\n")
    files["addons.json"] = json.dumps(plan.summary(), indent=2) + "\n"
    return files


# --------------------------------------------------------------------------------------------- gate check


@dataclass
class GateResult:
    """Whether a bump's gate holds: `code` 0 holds, 1 not yet / failing, 2 could not check; one line per fact."""

    code: int = 0
    lines: list[str] = field(default_factory=list)

    def fail(self, line: str) -> None:
        self.code = max(self.code, 1)
        self.lines.append("FAIL " + line)

    def unknown(self, line: str) -> None:
        self.code = 2
        self.lines.append("UNKNOWN " + line)

    def ok(self, line: str) -> None:
        self.lines.append("ok " + line)


def parse_time(text: str) -> Any:
    from datetime import UTC, datetime

    try:
        t = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def load_gate(path: str | Path) -> dict[str, Any]:
    g = _read_json(path, "gate file (gate.json written by `tf2kro fleet addons`)")
    if not isinstance(g, dict) or g.get("kind") not in ("eks", "helm") or "requires" not in g:
        raise ToolError("gate file: expected the gate.json of a `tf2kro fleet addons` directory", source=str(path))
    return g


def check_gate(gate: dict[str, Any], fleet: Fleet, now: Any, installed: list[InstalledAddon] | None = None,
               applications: list[dict[str, Any]] | None = None) -> GateResult:
    """The promotion gate of one bump, evaluated against what the previous environment runs: every one of its
    clusters on the new version, healthy, and changed at least the soak time ago. EKS add-ons from
    `describe-addon` (status, health.issues, modifiedAt); Helm add-ons from the ArgoCD Applications (health, sync,
    the history entry that deployed the version). Missing data is "could not check", never a pass."""
    res = GateResult()
    req = gate.get("requires")
    if not req:
        res.ok(f"{gate.get('env')} is the first environment for {gate.get('addon')}: no soak gate")
        return res
    env, version, soak = str(req["env"]), str(req["version"]), int(req["soakSeconds"])
    addon = str(gate["addon"])
    clusters = [c.name for c in fleet.clusters if c.env == env]
    if gate["kind"] == "eks":
        got = {ia.cluster: ia for ia in installed or [] if ia.addon == addon and ia.cluster in clusters}
        if not got:
            res.unknown(f"no describe-addon data for {addon} on any {env} cluster ({', '.join(clusters)})")
            return res
        for name in clusters:
            ia = got.get(name)
            if ia is None:
                res.unknown(f"{name}: no describe-addon data for {addon}")
                continue
            _check_one(res, f"{name}/{addon}", ia.version, version, ia.status == "ACTIVE" and not ia.health_issues,
                       f"status {ia.status or '?'}" + (f", issues: {'; '.join(ia.health_issues)}" if ia.health_issues
                                                       else ""), ia.modified_at, now, soak)
        return res
    apps = [a for a in applications or [] if (a.get("metadata", {}).get("labels") or {}).get(
        "app.kubernetes.io/name") == addon and (a["metadata"].get("labels") or {}).get("env") == env]
    if not apps:
        res.unknown(f"no ArgoCD Application of {addon} for {env} in the given list")
        return res
    for a in apps:
        st = a.get("status") or {}
        health = (st.get("health") or {}).get("status", "")
        sync = (st.get("sync") or {}).get("status", "")
        since = ""
        for h in st.get("history") or []:  # oldest first: the start of the current run of `version`
            srcs = h.get("sources") or ([h["source"]] if h.get("source") else [])
            rev = str((srcs[0] if srcs else {}).get("targetRevision", ""))
            since = (since or str(h.get("deployedAt", ""))) if rev == version else ""
        cur = version if since else "(not deployed)"
        _check_one(res, f"{a['metadata'].get('name')}", cur, version, health == "Healthy" and sync == "Synced",
                   f"health {health or '?'}, sync {sync or '?'}", since, now, soak)
    return res


def _check_one(res: GateResult, what: str, have: str, want: str, healthy: bool, health_text: str, since: str,
               now: Any, soak: int) -> None:
    if have != want:
        res.fail(f"{what}: runs {have}, not {want}")
        return
    if not healthy:
        res.fail(f"{what}: unhealthy ({health_text})")
        return
    t = parse_time(since) if since else None
    if t is None:
        res.unknown(f"{what}: on {want} and healthy, but when it changed is unknown")
        return
    age = int((now - t).total_seconds())
    if age < soak:
        res.fail(f"{what}: on {want} for {age // 3600}h, soak needs {soak // 3600}h")
    else:
        res.ok(f"{what}: on {want} for {age // 3600}h (soak {soak // 3600}h), {health_text}")
