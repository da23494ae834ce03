"""`argocd-cm` health checks for what a plan syncs: one `resource.customizations.health.<group>_<kind>` key per ACK
kind, per kro instance kind (group migration.tf2kro.dev), for the RGD and for Application (app-of-apps waves wait on phase health).

Why exact keys and not `<group>_*` globs: a ConfigMap key cannot contain `*` (keys match `[-._a-zA-Z0-9]+`), so
shared checks would need the older `resource.customizations` YAML blob; one key per kind works on every ArgoCD
version and the ACK kinds of a plan are a few dozen. The Lua lives in `health/*.lua` (data files,
shipped in the wheel) and is tested with a Lua runtime (lupa) against sample objects.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

HEALTH_DIR = Path(__file__).with_name("health")
KEY = "resource.customizations.health.{group}_{kind}"
KRO_GROUP = "kro.run"  # ResourceGraphDefinition
INSTANCE_GROUP = "migration.tf2kro.dev"  # the group of the kinds tf2kro's RGDs define (converter.emit.kro.SCHEMA_GROUP)
ACK_SUFFIX = ".services.k8s.aws"


@cache
def lua(name: str) -> str:
    """The Lua text of `health/<name>.lua` (ack, kro-instance, kro-rgd, application)."""
    return (HEALTH_DIR / f"{name}.lua").read_text(encoding="utf-8")


def script_for(group: str, kind: str) -> str | None:
    """Which check applies to (group, kind), or None (ArgoCD's built-in checks, e.g. ExternalSecret)."""
    if group.endswith(ACK_SUFFIX):
        return "ack"
    if group == KRO_GROUP and kind == "ResourceGraphDefinition":
        return "kro-rgd"
    if group == INSTANCE_GROUP:
        return "kro-instance"
    if group == "argoproj.io" and kind == "Application":
        return "application"
    return None


def health_data(kinds: set[tuple[str, str]]) -> dict[str, str]:
    """argocd-cm `data` keys for these (group, kind) pairs, sorted; Application and the RGD always included."""
    kinds = set(kinds) | {("argoproj.io", "Application"), (KRO_GROUP, "ResourceGraphDefinition")}
    out = {}
    for group, kind in sorted(kinds):
        name = script_for(group, kind)
        if name:
            out[KEY.format(group=group, kind=kind)] = lua(name)
    return out


def render_patch(kinds: set[tuple[str, str]], namespace: str = "argocd") -> str:
    """`argocd_cm_patch` as YAML with the Lua as literal blocks (`|`), so a reviewer reads the checks as code. Only
    tf2kro's own Lua and validated kind names go into it."""
    import yaml

    class _Dumper(yaml.SafeDumper):
        pass

    def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)

    _Dumper.add_representer(str, _str)
    return yaml.dump(argocd_cm_patch(kinds, namespace), Dumper=_Dumper, sort_keys=False, width=4096,
                     allow_unicode=True, default_flow_style=False)


def argocd_cm_patch(kinds: set[tuple[str, str]], namespace: str = "argocd") -> dict[str, Any]:
    """A ConfigMap with only the health keys: a strategic-merge patch for the ArgoCD installation's argocd-cm
    (kustomize `patches:` or `kubectl -n argocd patch configmap argocd-cm --patch-file`), never a replacement."""
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "argocd-cm", "namespace": namespace,
                         "labels": {"app.kubernetes.io/name": "argocd-cm", "app.kubernetes.io/part-of": "argocd"}},
            "data": health_data(kinds)}
