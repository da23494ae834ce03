"""ArgoCD objects that sync a `tf2kro plan` environment: per environment `environments/<env>/argocd/` holds

    root-app.yaml     AppProject `tf2kro-<env>` + Application `tf2kro-<env>` (app of apps over this directory)
    namespace.yaml    the Namespace of the kro instances and ACK objects (never pruned, never deleted)
    <NN-phase>.yaml   per phase: AppProject (whitelist: the phase's kro RGD/instance kinds, its ACK kinds,
                      ExternalSecret when it has secrets) + Application (sync wave = phase number)
    kustomization.yaml

Why one Application and one AppProject per phase: the project's whitelists are the phase's blast radius (a PR that
slips an IAM Role into the network phase fails to sync), and moving a phase from read-only to adopt is one reviewed
change of one line, `spec.source.path: …/read-only` → `…/adopt`, in one file the phase's CODEOWNERS own. The
Applications have no `resources-finalizer`, `automated.prune: false` and the objects carry
`Prune=false,Delete=false`: deleting or re-pointing an Application never deletes a kro instance, so kro never deletes
ACK objects (which would only drop finalizers anyway, deletion-policy retain). ACK objects are kro's children, not
ArgoCD-tracked resources: ArgoCD shows them (ownerReferences) and assesses their health, it never prunes them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from converter.emit.naming import fit
from converter.model import ToolError

API = "argoproj.io/v1alpha1"
IN_CLUSTER = "https://kubernetes.default.svc"
WAVE = "argocd.argoproj.io/sync-wave"
SYNC_OPTIONS = "argocd.argoproj.io/sync-options"
KEEP = "Prune=false,Delete=false"  # never pruned by a sync, kept when the Application is deleted
APP_SYNC_OPTIONS = ["ServerSideApply=true", "SkipDryRunOnMissingResource=true", "CreateNamespace=false"]
PROJECT_WAVE = "-2"  # AppProjects before the Applications that use them (the Namespace at -5)
STEP_LABEL = "tf2kro.dev/step"
ENV_LABEL = "tf2kro.dev/environment"
PHASE_LABEL = "tf2kro.dev/phase"
PART_OF = {"app.kubernetes.io/part-of": "tf2kro-plan"}

# repository URLs ArgoCD accepts: https://, ssh://, or scp-like git@host:path; no whitespace, quotes or control chars
_REPO_URL = re.compile(r"\A(?:https://|ssh://|git@)[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%-]+\Z")
_SERVER = re.compile(r"\Ahttps://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?\Z")
_REVISION = re.compile(r"\A[A-Za-z0-9._/-]{1,200}\Z")
_CRON_FIELD = re.compile(r"\A[0-9*,/-]+\Z")
_DURATION = re.compile(r"\A[0-9]{1,4}[hm]\Z")


@dataclass(frozen=True)
class SyncWindow:
    """An `allow` window of the prod AppProjects: automated and manual syncs only run inside it."""

    schedule: str = "0 9 * * 1-4"  # Mon–Thu 09:00
    duration: str = "4h"
    time_zone: str = "UTC"

    @classmethod
    def parse(cls, value: str) -> SyncWindow:
        """`"MIN HOUR DOM MON DOW|DURATION"` (cron, 5 fields; duration like 4h or 90m)."""
        sched, _, dur = value.partition("|")
        fields = sched.split()
        if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields) or not _DURATION.match(dur.strip()):
            raise ToolError(f"--sync-window {value[:80]!r}: expected 'MIN HOUR DOM MON DOW|DURATION', e.g. "
                            "'0 9 * * 1-4|4h' (cron fields of digits , - / *; duration like 4h or 90m)")
        return cls(" ".join(fields), dur.strip())

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "allow", "schedule": self.schedule, "duration": self.duration, "applications": ["*"],
                "timeZone": self.time_zone, "manualSync": False}


@dataclass(frozen=True)
class GitOpsOptions:
    """Where the plan lives in Git and where ArgoCD runs."""

    repo_url: str
    revision: str = "HEAD"
    path_prefix: str = ""  # the plan directory inside the repository ("" = its root)
    argocd_namespace: str = "argocd"
    destination: str = IN_CLUSTER  # the cluster where kro and the ACK controllers run

    def __post_init__(self) -> None:
        if not _REPO_URL.match(self.repo_url or ""):
            raise ToolError(f"--repo-url {str(self.repo_url)[:80]!r}: expected https://…, ssh://… or git@host:path "
                            "(no spaces or quotes)")
        if not _REVISION.match(self.revision) or ".." in self.revision:
            raise ToolError(f"--revision {self.revision[:80]!r}: expected a branch, tag or commit")
        p = self.path_prefix.strip("/")
        if p and (not re.fullmatch(r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*", p) or any(s in (".", "..") for s in p.split("/"))):
            raise ToolError(f"--repo-path {self.path_prefix[:80]!r}: expected a relative directory (letters, digits, . _ -)")
        object.__setattr__(self, "path_prefix", p)
        if not _SERVER.match(self.destination):
            raise ToolError(f"--destination {self.destination[:80]!r}: expected the API server URL ArgoCD knows the "
                            f"cluster by (https://host[:port][/path]; {IN_CLUSTER} = ArgoCD's own cluster)")

    def path(self, rel: str) -> str:
        return f"{self.path_prefix}/{rel}" if self.path_prefix else rel


def app_name(env: str, dirname: str = "") -> str:
    """`tf2kro-<env>[-<NN-phase>]`, at most 63 characters (ArgoCD writes it into a label value)."""
    full = f"tf2kro-{env}" + (f"-{dirname}" if dirname else "")
    return fit(full)


def _group(api_version: str) -> str:
    return api_version.split("/")[0] if "/" in api_version else ""


@dataclass(frozen=True)
class PhaseKinds:
    """What a phase's Application may create (the AppProject whitelists)."""

    dirname: str
    phase: str
    number: int  # sync wave
    namespaced: tuple[tuple[str, str], ...]  # (group, kind)
    cluster: tuple[tuple[str, str], ...]


def phase_kinds(dirname: str, phase: str, number: int, docs: list[dict[str, Any]]) -> PhaseKinds:
    """The kinds of the objects the phase's directory holds, plus the ACK kinds its RGD templates (kro creates them,
    but a raw ACK object of the phase in the same directory must sync too). RGDs and ClusterSecretStores are
    cluster-scoped; every other kind here is namespaced."""
    ns: set[tuple[str, str]] = set()
    cl: set[tuple[str, str]] = set()
    for d in docs:
        key = (_group(str(d.get("apiVersion", ""))), str(d.get("kind")))
        (cl if key[1] in ("ResourceGraphDefinition", "ClusterSecretStore", "Namespace") else ns).add(key)
        if key[1] == "ResourceGraphDefinition":
            for r in (d.get("spec") or {}).get("resources") or []:
                t = r.get("template") if isinstance(r, dict) else None
                if isinstance(t, dict) and t.get("kind"):
                    ns.add((_group(str(t.get("apiVersion", ""))), str(t["kind"])))
    return PhaseKinds(dirname, phase, number, tuple(sorted(ns)), tuple(sorted(cl)))


def _whitelist(kinds: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
    return [{"group": g, "kind": k} for g, k in kinds]


def app_project(name: str, description: str, opts: GitOpsOptions, namespaces: list[str],
                namespaced: list[dict[str, str]], cluster: list[dict[str, str]],
                window: SyncWindow | None, labels: dict[str, str]) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "description": description,
        "sourceRepos": [opts.repo_url],
        "destinations": [{"server": opts.destination, "namespace": n} for n in namespaces],
        "clusterResourceWhitelist": cluster,
        "namespaceResourceWhitelist": namespaced,
        "orphanedResources": {"warn": True},
    }
    if window is not None:
        spec["syncWindows"] = [window.to_dict()]
    return {"apiVersion": API, "kind": "AppProject",
            "metadata": {"name": name, "namespace": opts.argocd_namespace, "labels": {**PART_OF, **labels},
                         "annotations": {WAVE: PROJECT_WAVE}},
            "spec": spec}


def application(name: str, project: str, path: str, namespace: str, wave: int, opts: GitOpsOptions,
                labels: dict[str, str]) -> dict[str, Any]:
    """No `resources-finalizer.argocd.argoproj.io`: deleting the Application leaves everything it synced."""
    return {
        "apiVersion": API, "kind": "Application",
        "metadata": {"name": name, "namespace": opts.argocd_namespace, "labels": {**PART_OF, **labels},
                     "annotations": {WAVE: str(wave)}},
        "spec": {
            "project": project,
            "source": {"repoURL": opts.repo_url, "targetRevision": opts.revision, "path": path},
            "destination": {"server": opts.destination, "namespace": namespace},
            "syncPolicy": {
                "automated": {"prune": False, "selfHeal": True},
                "syncOptions": list(APP_SYNC_OPTIONS),
                "retry": {"limit": 5, "backoff": {"duration": "30s", "factor": 2, "maxDuration": "10m"}},
            },
        },
    }


def phase_objects(env: str, namespace: str, pk: PhaseKinds, step: str, opts: GitOpsOptions,
                  window: SyncWindow | None) -> list[dict[str, Any]]:
    """AppProject + Application of one phase; `step` is the subdirectory synced (read-only | adopt | "" for the
    prerequisites directory, which has no steps)."""
    name = app_name(env, pk.dirname)
    labels = {ENV_LABEL: env, PHASE_LABEL: pk.phase}
    rel = f"environments/{env}/{pk.dirname}" + (f"/{step}" if step else "")
    proj = app_project(name, f"tf2kro plan: {env} {pk.dirname} may create only the kinds of this phase", opts,
                       [namespace], _whitelist(pk.namespaced), _whitelist(pk.cluster), window, labels)
    app = application(name, name, opts.path(rel), namespace, pk.number, opts,
                      {**labels, **({STEP_LABEL: step} if step else {})})
    return [proj, app]


def root_objects(env: str, namespace: str, opts: GitOpsOptions, window: SyncWindow | None) -> list[dict[str, Any]]:
    """The app of apps of one environment and its project (may create only AppProjects and Applications in the
    ArgoCD namespace, and the Namespace)."""
    name = app_name(env)
    labels = {ENV_LABEL: env}
    proj = app_project(name, f"tf2kro plan: the app of apps of environment {env}", opts,
                       [opts.argocd_namespace, namespace],
                       [{"group": "argoproj.io", "kind": "AppProject"}, {"group": "argoproj.io", "kind": "Application"}],
                       [{"group": "", "kind": "Namespace"}], window, labels)
    app = application(name, name, opts.path(f"environments/{env}/argocd"), opts.argocd_namespace, -10, opts, labels)
    return [proj, app]


def namespace_object(env: str, namespace: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": namespace, "labels": {**PART_OF, ENV_LABEL: env},
                         "annotations": {WAVE: "-5", SYNC_OPTIONS: KEEP}}}


def keep_annotations(doc: dict[str, Any]) -> None:
    """ServerSideApply plus Prune=false,Delete=false on an object ArgoCD syncs (RGD, kro instance): a sync never
    prunes it and deleting the Application keeps it (deleting a kro instance makes kro delete its ACK children)."""
    ann = doc.setdefault("metadata", {}).setdefault("annotations", {})
    have = [o.strip() for o in str(ann.get(SYNC_OPTIONS, "")).split(",") if o.strip()]
    for o in ("ServerSideApply=true", "Prune=false", "Delete=false"):
        if o not in have:
            have.append(o)
    ann[SYNC_OPTIONS] = ",".join(have)
