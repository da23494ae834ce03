"""What runs the gates of a blue/green upgrade, and how it turns back.

Each step directory of `tf2kro fleet upgrade` is synced to the hub by its own ArgoCD Application (project
`<prefix>`, destination namespace `fleet-gates`, created by `CreateNamespace=true`). The gate runs as hook Jobs of
that Application: PreSync Jobs check the step's preconditions (the previous step's gate held, the platform apps
are healthy on green), PostSync Jobs check the result (apps healthy, metrics green vs blue for a bake time). A
failed hook fails the sync, and the SyncFail hook starts the step's reverse: it syncs the step's `rollback/`
Application (project `<prefix>-rollback`, which carries no deny sync window, so a prod freeze never blocks a
rollback) and deletes the green Applications of a workload wave.

The gate logic is one stdlib Python script (`gate_assets/gate.py`, shipped in a ConfigMap) so tests run exactly
the code the Job runs, against canned Prometheus / Kubernetes API answers. Metric queries are data
(`gate_assets/metrics.yaml`), chosen by the fleet file's ingress metrics provider.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml

from converter.emit.naming import fit, sanitize
from converter.fleet.config import Fleet
from converter.model import ToolError

ASSETS = Path(__file__).with_name("gate_assets")
GATE_NS = "fleet-gates"
GATE_SA = "upgrade-gates"
SCRIPT_CM = "upgrade-gate-script"
IMAGE = "python:3.12-alpine"
HUB = "https://kubernetes.default.svc"
# cluster-scoped kinds the steps apply: the gate namespace, the green RGDs, the widened Gatekeeper constraint (and its
# template, so a step validates on its own)
CLUSTER_KINDS = (("", "Namespace"), ("kro.run", "ResourceGraphDefinition"), ("constraints.gatekeeper.sh", "*"),
                 ("templates.gatekeeper.sh", "ConstraintTemplate"))
_DURATION = re.compile(r"^([0-9]+)([smhd])$")


def seconds(value: str, what: str) -> int:
    m = _DURATION.match(str(value))
    if not m:
        raise ToolError(f"fleet file: traffic.gates.{what} {value!r} is not a duration like 10m, 24h")
    return int(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


@dataclass(frozen=True)
class GateSettings:
    """`spec.traffic.gates` of the fleet file, with defaults."""

    provider: str
    prometheus_url: str
    window: str
    bake: str
    max_error_ratio: float
    max_error_delta: float
    max_p99_ratio: float
    soak: str

    @classmethod
    def from_fleet(cls, fleet: Fleet) -> GateSettings:
        g = dict(fleet.traffic.get("gates") or {})
        provider = g.get("provider") or ("alb" if any(a.chart == "aws-load-balancer-controller"
                                                        for a in fleet.applications) else "nginx")
        s = cls(provider=provider,
                prometheus_url=str(g.get("prometheusURL") or "http://prometheus-operated.monitoring:9090"),
                window=str(g.get("window") or "10m"), bake=str(g.get("bake") or "15m"),
                max_error_ratio=float(g.get("maxErrorRateRatio", 1.5)),
                max_error_delta=float(g.get("maxErrorRateDelta", 0.001)),
                max_p99_ratio=float(g.get("maxP99LatencyRatio", 1.2)), soak=str(g.get("soak") or "24h"))
        for what in ("window", "bake", "soak"):
            seconds(getattr(s, what), what)
        if not re.match(r"^https?://[A-Za-z0-9.:\-_/]+$", s.prometheus_url):
            raise ToolError(f"fleet file: traffic.gates.prometheusURL {s.prometheus_url!r} is not an http(s) URL")
        if provider not in providers():
            raise ToolError(f"fleet file: traffic.gates.provider {provider!r} unknown (known: {', '.join(providers())})")
        return s


def providers() -> dict[str, dict[str, str]]:
    return dict(yaml.safe_load((ASSETS / "metrics.yaml").read_text(encoding="utf-8"))["providers"])


def promql_string(value: str) -> str:
    """Escape a value for a double-quoted PromQL string (label matcher value)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def queries(settings: GateSettings, cluster: str, offset: str = "") -> dict[str, str]:
    """{errorRate, p99Latency} for one cluster, from the provider's templates; `offset` (a duration) reads the
    values from that long ago (blue's side once blue serves no traffic)."""
    tpl = providers()[settings.provider]
    rng = "[" + settings.window + "]" + (f" offset {seconds(offset, 'offset')}s" if offset else "")
    return {k: tpl[k].replace("{cluster}", promql_string(cluster)).replace("[{window}]", rng)
            for k in ("errorRate", "p99Latency")}


def script() -> str:
    return (ASSETS / "gate.py").read_text(encoding="utf-8")


def _hook(kind: str, wave: int) -> dict[str, str]:
    return {"argocd.argoproj.io/hook": kind, "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation",
            "argocd.argoproj.io/sync-wave": str(wave)}


def plumbing(argocd_namespace: str, hub_namespace: str) -> list[dict[str, Any]]:
    """PreSync hooks (wave -2, before the gate Jobs): the script ConfigMap, the Jobs' ServiceAccount, its Role in
    the ArgoCD namespace (read Applications; patch = start a rollback sync; delete = remove a wave's green apps)
    and a read-only Role on the ACK IAM objects in the hub namespace (the trust gate)."""
    ann = _hook("PreSync", -2)
    reader = f"{GATE_SA}-iam-read"
    return [
        {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": {"name": SCRIPT_CM, "namespace": GATE_NS, "annotations": dict(ann)},
         "data": {"gate.py": script()}},
        {"apiVersion": "v1", "kind": "ServiceAccount",
         "metadata": {"name": GATE_SA, "namespace": GATE_NS, "annotations": dict(ann)}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
         "metadata": {"name": GATE_SA, "namespace": argocd_namespace, "annotations": dict(ann)},
         "rules": [{"apiGroups": ["argoproj.io"], "resources": ["applications"],
                    "verbs": ["get", "list", "patch", "delete"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": {"name": GATE_SA, "namespace": argocd_namespace, "annotations": dict(ann)},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": GATE_SA},
         "subjects": [{"kind": "ServiceAccount", "name": GATE_SA, "namespace": GATE_NS}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
         "metadata": {"name": reader, "namespace": hub_namespace, "annotations": dict(ann)},
         "rules": [{"apiGroups": ["iam.services.k8s.aws"], "resources": ["roles", "openidconnectproviders"],
                    "verbs": ["get"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": {"name": reader, "namespace": hub_namespace, "annotations": dict(ann)},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": reader},
         "subjects": [{"kind": "ServiceAccount", "name": GATE_SA, "namespace": GATE_NS}]},
    ]


def job(name: str, hook: str, args: list[str], wave: int = 0, deadline: int = 3600) -> dict[str, Any]:
    """A gate Job: `python gate.py ARGS` (an argv list, no shell), no retries (a flaky pass is not a pass)."""
    return {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": fit(name), "namespace": GATE_NS, "annotations": _hook(hook, wave)},
        "spec": {"backoffLimit": 0, "activeDeadlineSeconds": deadline, "template": {"spec": {
            "serviceAccountName": GATE_SA, "restartPolicy": "Never",
            "containers": [{"name": "gate", "image": IMAGE, "command": ["python", "/gate/gate.py", *args],
                            "volumeMounts": [{"name": "gate", "mountPath": "/gate", "readOnly": True}],
                            "securityContext": {"runAsNonRoot": True, "runAsUser": 65534,
                                                "allowPrivilegeEscalation": False,
                                                "readOnlyRootFilesystem": True}}],
            "volumes": [{"name": "gate", "configMap": {"name": SCRIPT_CM}}],
        }}},
    }


def metrics_job(name: str, settings: GateSettings, green: str, blue: str, hook: str = "PostSync",
                bake: str | None = None, blue_offset: str = "") -> dict[str, Any]:
    g, b = queries(settings, green), queries(settings, blue, blue_offset)
    bake_s = seconds(bake or settings.bake, "bake")
    return job(name, hook, ["metrics", "--prometheus", settings.prometheus_url,
                            "--green-errors", g["errorRate"], "--blue-errors", b["errorRate"],
                            "--green-p99", g["p99Latency"], "--blue-p99", b["p99Latency"],
                            "--max-error-ratio", str(settings.max_error_ratio),
                            "--max-error-delta", str(settings.max_error_delta),
                            "--max-p99-ratio", str(settings.max_p99_ratio),
                            "--bake", str(bake_s), "--interval", "60"], deadline=bake_s + 900)


def apps_job(name: str, argocd_namespace: str, selector: str, hook: str, wave: int = 0) -> dict[str, Any]:
    return job(name, hook, ["apps", "--namespace", argocd_namespace, "--selector", selector], wave=wave)


def soak_job(name: str, argocd_namespace: str, app: str, soak: str) -> dict[str, Any]:
    return job(name, "PreSync", ["soak", "--namespace", argocd_namespace, "--app", app,
                                 "--min-age", str(seconds(soak, "soak"))])


def trust_job(name: str, hub_namespace: str, provider: str, roles: list[str]) -> dict[str, Any]:
    """PreSync: every IRSA role already trusts green's provider (step 02 merged and synced) before anything that
    runs workloads on green (add-ons with IRSA, registration)."""
    args = ["trust", "--namespace", hub_namespace, "--provider", provider]
    for r in roles:
        args += ["--role", r]
    return job(name, "PreSync", args)


def rollback_job(name: str, argocd_namespace: str, sync_app: str = "", delete_apps: list[str] | None = None
                 ) -> dict[str, Any]:
    args = ["rollback", "--namespace", argocd_namespace]
    if sync_app:
        args += ["--sync-application", sync_app]
    for a in delete_apps or []:
        args += ["--delete-application", a]
    return job(name, "SyncFail", args)


# --------------------------------------------------------------------------------------------- Applications


def app_name(prefix: str, step: str) -> str:
    return fit(sanitize(f"{prefix}-{step}", "upgrade"))


def step_application(fleet: Fleet, name: str, project: str, path: str) -> dict[str, Any]:
    """Syncs one step directory to the hub. Never automated: a forward step is synced on purpose after its PR
    merged (`argocd app sync NAME`), so a later commit cannot re-apply forward weights over a rollback; a rollback
    Application is synced by its step's SyncFail hook (or by hand)."""
    sync: dict[str, Any] = {"syncOptions": ["CreateNamespace=true", "ServerSideApply=true"]}
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": name, "namespace": fleet.argocd_namespace,
                         "labels": {"app.kubernetes.io/part-of": "tf2kro-upgrade", "tf2kro.dev/upgrade": project}},
            "spec": {"project": project,
                     "source": {"repoURL": fleet.repo_url, "targetRevision": fleet.revision, "path": path},
                     "destination": {"server": HUB, "namespace": GATE_NS},
                     "syncPolicy": sync}}


def projects(fleet: Fleet, env: str, prefix: str, namespaces: list[str]) -> list[dict[str, Any]]:
    """The forward project keeps the environment's sync windows (a prod freeze holds the upgrade); the rollback
    project has none, so a rollback is never blocked by a deny window."""
    e = fleet.env(env)
    dests = [{"server": HUB, "namespace": ns} for ns in sorted(set(namespaces))]
    base = {"sourceRepos": [fleet.repo_url], "destinations": dests,
            "clusterResourceWhitelist": [{"group": g, "kind": k} for g, k in CLUSTER_KINDS]}
    fwd = {"description": f"blue/green upgrade steps ({env})", **base}
    if e and e.sync_windows:
        fwd["syncWindows"] = [dict(w) for w in e.sync_windows]
    back = {"description": f"blue/green upgrade rollbacks ({env}): no sync window may block them", **base}
    return [{"apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject",
             "metadata": {"name": name, "namespace": fleet.argocd_namespace,
                          "labels": {"app.kubernetes.io/part-of": "tf2kro-upgrade"}}, "spec": spec}
            for name, spec in ((prefix, fwd), (fit(f"{prefix}-rollback"), back))]


def deny_blocks(project: dict[str, Any], app: dict[str, Any], manual: bool) -> bool:
    """Whether a deny window of `project` can block a sync of `app` (worst case: any deny window whose
    applications/namespaces/clusters globs match is assumed active). A manual sync passes a window with
    `manualSync: true`. ArgoCD's matching: a window applies when any of its globs matches the app."""
    dest = app["spec"]["destination"]
    for w in project["spec"].get("syncWindows") or []:
        if w.get("kind") != "deny":
            continue
        hit = (any(fnmatchcase(app["metadata"]["name"], g) for g in w.get("applications") or [])
               or any(fnmatchcase(dest.get("namespace", ""), g) for g in w.get("namespaces") or [])
               or any(fnmatchcase(dest.get("name") or dest.get("server", ""), g) for g in w.get("clusters") or []))
        if hit and not (manual and w.get("manualSync")):
            return True
    return False
