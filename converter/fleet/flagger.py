"""Flagger progressive delivery for applications marked in the fleet file: a Canary (canary: stepWeight /
maxWeight; blue/green: iterations; A/B: iterations + match) with metric checks and automatic rollback after
`threshold` failed checks, the MetricTemplates its metrics reference, the flagger-loadtester its webhooks call,
and the ArgoCD `ignoreDifferences` for the fields Flagger owns.

What Flagger accepts per provider is data (`data/flagger.yaml`, read from Flagger's router and observer
factories); `admission_problems` applies those rules to emitted objects so an output Flagger would reject
("ingress selector is empty", a missing MetricTemplate, a webhook to no Service) is an error here, not at 3 a.m.
"""

from __future__ import annotations

import functools
import re
import shlex
from pathlib import Path
from typing import Any

import yaml

from converter.fleet.config import Application
from converter.model import ToolError
from converter.names import dns1123_label, dns1123_subdomain

API = "flagger.app/v1beta1"
DATA = Path(__file__).with_name("data") / "flagger.yaml"
TLS_PORTS = (443, 8443, 9443)


@functools.cache
def rules() -> dict[str, Any]:
    return yaml.safe_load(DATA.read_text(encoding="utf-8"))


def loadtester_url() -> str:
    lt = rules()["loadtester"]
    return f"http://{lt['name']}.{lt['namespace']}/"


def _strategy(p: Any) -> str:
    if p.strategy == "bluegreen" and p.match:
        return "ab"
    return p.strategy


def check_progressive(app: Application) -> None:
    """Refuse (ToolError) a progressiveDelivery block Flagger would reject or silently rewrite."""
    p = app.progressive
    if p is None:
        return
    where = f"fleet file: applications[{app.name}].progressiveDelivery"
    # names that become object references and the hosts of the webhook commands (shell)
    for what, value, fn in (("targetName", p.target_name, dns1123_subdomain),
                            ("serviceName", p.service_name or p.target_name, dns1123_label),
                            ("ingressRef", p.ingress_ref, dns1123_subdomain),
                            ("routeRef", p.route_ref, dns1123_subdomain),
                            ("autoscalerRef", p.autoscaler_ref, dns1123_subdomain)):
        if value or what == "targetName":
            fn(value, f"{where}.{what}")
    for g in p.gateway_refs:
        dns1123_subdomain(g.get("name"), f"{where}.gatewayRefs name")
        if g.get("namespace"):
            dns1123_label(g["namespace"], f"{where}.gatewayRefs namespace")
    r = rules()
    prov = r["providers"].get(p.provider)
    if prov is None:
        hint = r["unsupported"].get(p.provider.lower(), "")
        if hint.startswith("same as "):
            hint = r["unsupported"][hint[len("same as "):]]
        raise ToolError(f"{where}.provider {p.provider!r} is not a Flagger provider"
                        + (f": {hint}" if hint else f" (one of {', '.join(sorted(r['providers']))})"))
    if p.target_kind not in r["targets"]:
        raise ToolError(f"{where}.targetKind {p.target_kind!r}: Flagger drives {', '.join(r['targets'])}")
    strategy = _strategy(p)
    if strategy not in prov["strategies"]:
        what = {"canary": "weighted canary (stepWeight/maxWeight)", "bluegreen": "blue/green (iterations)",
                "ab": "A/B testing (match)"}[strategy]
        raise ToolError(f"{where}: provider {p.provider} does not support {what}; "
                        f"it supports {', '.join(prov['strategies'])}")
    if p.match and p.strategy != "bluegreen":
        raise ToolError(f"{where}.match needs strategy bluegreen (Flagger runs A/B as iterations + match)")
    if p.mirror and not (prov.get("mirror") and p.strategy == "bluegreen" and not p.match):
        raise ToolError(f"{where}.mirror: traffic mirroring is a blue/green option of istio and gatewayapi only")
    if prov.get("ref") == "gatewayRefs" and not p.gateway_refs:
        raise ToolError(f"{where}.gatewayRefs is required for provider {p.provider} (the Gateways of the HTTPRoute)")
    if prov.get("ref") == "routeRef" and not p.route_ref:
        raise ToolError(f"{where}.routeRef is required for provider {p.provider} (the ApisixRoute)")
    templates = {t["name"] for t in p.metric_templates}
    for m in p.metrics:
        ref = m.get("templateRef")
        if not ref:
            if m["name"] not in r["builtinMetrics"]:
                raise ToolError(f"{where}.metrics {m['name']!r}: not a Flagger built-in "
                                f"({', '.join(r['builtinMetrics'])}): give it a templateRef")
            continue
        name, ns = (ref, "") if isinstance(ref, str) else (ref["name"], ref.get("namespace", ""))
        if (not ns or ns == app.namespace) and name not in templates:
            raise ToolError(f"{where}.metrics {m['name']!r}: templateRef {name!r} is not in metricTemplates")


def _scheme(p: Any) -> str:
    return "https" if p.port in TLS_PORTS or p.target_port in TLS_PORTS else "http"


def default_webhooks(app: Application) -> list[dict[str, Any]]:
    """An acceptance test before any traffic moves (the canary answers HTTP below 500) and a load test during
    the analysis, so the metrics have requests to measure on the canary pods. Both run in the loadtester."""
    p = app.progressive
    assert p is not None
    # Flagger's canary Service is <apex>-canary, the apex being service.name or the target's name
    url = shlex.quote(f"{_scheme(p)}://{p.service_name or p.target_name}-canary.{app.namespace}:{p.port}/")
    acceptance = (f"code=$(curl -sk -o /dev/null -w '%{{http_code}}' --max-time 10 {url}); "
                  f'test "$code" -gt 0 && test "$code" -lt 500')
    load = f"hey -z {shlex.quote(p.interval)} -q 10 -c 2 {url}"
    headers = {}
    for cond in p.match:  # the load test must carry the A/B header, or the canary sees no requests
        for h, spec in sorted((cond.get("headers") or {}).items()):
            if isinstance(spec, dict) and "exact" in spec:
                headers[h] = spec["exact"]
    for h, v in sorted(headers.items()):
        load += f" -H {shlex.quote(f'{h}: {v}')}"
    return [
        {"name": "acceptance-test", "type": "pre-rollout", "url": loadtester_url(), "timeout": "30s",
         "metadata": {"type": "bash", "cmd": acceptance}},
        {"name": "load-test", "type": "rollout", "url": loadtester_url(), "timeout": "15s",
         "metadata": {"type": "cmd", "cmd": load}},
    ]


def canary(app: Application) -> dict[str, Any]:
    p = app.progressive
    assert p is not None
    check_progressive(app)
    analysis: dict[str, Any] = {"interval": p.interval, "threshold": p.threshold}
    if p.strategy == "canary":
        analysis.update(maxWeight=p.max_weight, stepWeight=p.step_weight)
    else:
        analysis["iterations"] = p.iterations
        if p.match:
            analysis["match"] = [dict(m) for m in p.match]
        if p.mirror:
            analysis["mirror"] = True
    metrics = []
    for m in p.metrics:
        entry: dict[str, Any] = {"name": m["name"]}
        if m.get("templateRef"):
            ref = m["templateRef"]
            entry["templateRef"] = ref if isinstance(ref, dict) else {"name": ref, "namespace": app.namespace}
        if m.get("thresholdRange"):
            entry["thresholdRange"] = dict(m["thresholdRange"])
        entry["interval"] = str(m.get("interval", p.interval))
        metrics.append(entry)
    if metrics:
        analysis["metrics"] = metrics
    analysis["webhooks"] = [dict(h) for h in p.webhooks] or default_webhooks(app)
    service: dict[str, Any] = {"port": p.port}
    if p.service_name:
        service["name"] = p.service_name
    if p.target_port:
        service["targetPort"] = p.target_port
    if p.gateway_refs:
        service["gatewayRefs"] = [dict(g) for g in p.gateway_refs]
    if p.autoscaler_ref:  # Flagger then creates <name>-primary's HPA from it
        spec_extra = {"autoscalerRef": {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                                        "name": p.autoscaler_ref}}
    else:
        spec_extra = {}
    spec: dict[str, Any] = {
        "provider": p.provider,
        "targetRef": {"apiVersion": "apps/v1", "kind": p.target_kind, "name": p.target_name},
    }
    ref = rules()["providers"][p.provider].get("ref")
    if ref == "ingressRef":
        spec["ingressRef"] = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                              "name": p.ingress_ref or p.target_name}
    elif ref == "routeRef":
        spec["routeRef"] = {"apiVersion": "apisix.apache.org/v2", "kind": "ApisixRoute", "name": p.route_ref}
    spec.update(spec_extra, progressDeadlineSeconds=600, service=service, analysis=analysis)
    return {
        "apiVersion": API,
        "kind": "Canary",
        "metadata": {"name": p.target_name, "namespace": app.namespace,
                     "labels": {"app.kubernetes.io/name": app.name, "tf2kro.dev/strategy": _strategy(p)}},
        "spec": spec,
    }


def metric_templates(app: Application, regions: list[str] | str = "") -> list[dict[str, Any]]:
    """The app's MetricTemplates. `regions`: of the clusters these manifests reach (one env directory serves
    all of them); a CloudWatch template without its own `region` takes theirs, and is refused when they
    span several (it would read one region's metrics for every cluster)."""
    p = app.progressive
    if p is None:
        return []
    regions = [regions] if isinstance(regions, str) else list(regions)
    out = []
    for t in p.metric_templates:
        provider: dict[str, Any] = {"type": t.get("provider", "prometheus")}
        if t.get("address"):
            provider["address"] = t["address"]
        if provider["type"] == "cloudwatch":
            if not t.get("region") and len(set(regions)) > 1:
                raise ToolError(f"fleet file: applications[{app.name}].progressiveDelivery.metricTemplates "
                                f"{t['name']!r}: CloudWatch template without region for clusters in "
                                f"{', '.join(sorted(set(regions)))}; give it a region or split the environment")
            provider["region"] = t.get("region") or (regions[0] if regions else "")
        out.append({"apiVersion": API, "kind": "MetricTemplate",
                    "metadata": {"name": t["name"], "namespace": app.namespace},
                    "spec": {"provider": provider, "query": t["query"]}})
    return out


def ignore_differences(app: Application) -> list[dict[str, Any]]:
    """The fields Flagger writes on objects that are also in git, for the Application's `ignoreDifferences`
    (with `RespectIgnoreDifferences=true`, so a sync keeps the live value instead of reverting it):

    - the target Deployment's `spec.replicas` (a DaemonSet's scale-to-zero nodeSelector): Flagger scales it
      to zero after promoting (and up again for the next analysis); selfHeal reverting it would run the old
      and new version side by side for ever;
    - the apex Service's `spec.selector` and `spec.ports` when the chart ships a Service of that name (Flagger
      points it at `<target>-primary` pods). Objects Flagger creates (`-primary`, `-canary`, the canary
      Ingress) carry its ownerReference and no tracking annotation of their own, so ArgoCD neither diffs
      nor prunes them."""
    p = app.progressive
    if p is None:
        return []
    check_progressive(app)
    target = rules()["targets"][p.target_kind]
    return [
        {"group": target["group"], "kind": p.target_kind, "name": p.target_name, "namespace": app.namespace,
         "jsonPointers": [target["scaledField"]]},
        {"group": "", "kind": "Service", "name": p.service_name or p.target_name, "namespace": app.namespace,
         "jsonPointers": ["/spec/selector", "/spec/ports"]},
    ]


def loadtester() -> list[dict[str, Any]]:
    """flagger-loadtester (charts/loadtester defaults as plain manifests): runs the webhooks' bash and `hey`."""
    lt = rules()["loadtester"]
    name, ns = lt["name"], lt["namespace"]
    labels = {"app": name, "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "tf2kro-fleet"}
    probe = {"exec": {"command": ["wget", "--quiet", "--tries=1", "--timeout=4", "--spider",
                                  "http://localhost:8080/healthz"]}, "timeoutSeconds": 5}
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns, "labels": labels},
         "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                  "template": {"metadata": {"labels": labels,
                                            "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "8080"}},
                               "spec": {"containers": [{
                                   "name": "loadtester", "image": lt["image"], "imagePullPolicy": "IfNotPresent",
                                   "ports": [{"name": "http", "containerPort": 8080}],
                                   "command": ["./loadtester", "-port=8080", "-log-level=info", f"-timeout={lt['timeout']}"],
                                   "livenessProbe": probe, "readinessProbe": probe,
                                   "resources": {"requests": {"cpu": "10m", "memory": "64Mi"}},
                                   # the image runs as its non-root user `app` (named, not numeric: runAsNonRoot
                                   # would make the kubelet refuse to start it)
                                   "securityContext": {"allowPrivilegeEscalation": False,
                                                       "capabilities": {"drop": ["ALL"]},
                                                       "seccompProfile": {"type": "RuntimeDefault"}}}],
                                   # it runs the webhooks' commands: no Kubernetes API credentials in the pod
                                   "automountServiceAccountToken": False}}}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns, "labels": labels},
         "spec": {"type": "ClusterIP", "selector": {"app": name},
                  "ports": [{"name": "http", "port": lt["port"], "targetPort": "http", "protocol": "TCP"}]}},
    ]


_HOST = re.compile(r"^https?://([^/:?#]+)")


def _in_cluster(host: str) -> tuple[str, str] | None:
    """(service, namespace) for a cluster-local host (`svc.ns`, `svc.ns.svc`, `svc.ns.svc.cluster.local`)."""
    parts = host.split(".")
    if host.endswith(".svc.cluster.local"):
        parts = parts[:-3]
    elif host.endswith(".svc"):
        parts = parts[:-1]
    if len(parts) == 2:
        return parts[0], parts[1]
    return None


def admission_problems(docs: list[dict[str, Any]]) -> list[str]:
    """What Flagger (or the cluster) would reject in these objects, one line each: provider unknown, router
    reference missing (nginx without ingressRef: "ingress selector is empty"), a metric that is neither a
    built-in nor a MetricTemplate of the Canary's namespace among `docs`, a webhook URL to a cluster-local host that is no Service in
    `docs`, weights on the L4-only kubernetes provider."""
    r = rules()
    templates = {(d["metadata"].get("namespace", ""), d["metadata"]["name"]) for d in docs
                 if d.get("kind") == "MetricTemplate"}
    services = {(d["metadata"]["name"], d["metadata"].get("namespace", "")) for d in docs if d.get("kind") == "Service"}
    out = []
    for d in docs:
        if d.get("kind") != "Canary":
            continue
        name = f"Canary {d['metadata'].get('namespace', '')}/{d['metadata']['name']}"
        spec, ns = d.get("spec") or {}, d["metadata"].get("namespace", "")
        an = spec.get("analysis") or {}
        prov = r["providers"].get(spec.get("provider", ""))
        if prov is None:
            out.append(f"{name}: provider {spec.get('provider')!r} is not a Flagger provider")
            continue
        ref = prov.get("ref")
        if ref == "ingressRef" and not (spec.get("ingressRef") or {}).get("name"):
            out.append(f"{name}: provider {spec['provider']} needs spec.ingressRef (ingress selector is empty)")
        if ref == "routeRef" and not (spec.get("routeRef") or {}).get("name"):
            out.append(f"{name}: provider {spec['provider']} needs spec.routeRef")
        if ref == "gatewayRefs" and not (spec.get("service") or {}).get("gatewayRefs"):
            out.append(f"{name}: provider {spec['provider']} needs spec.service.gatewayRefs")
        if spec["provider"] == "kubernetes" and (not an.get("iterations") or an.get("match") or an.get("stepWeight")):
            out.append(f"{name}: provider kubernetes is blue/green only (iterations, no stepWeight, no match)")
        for m in an.get("metrics") or []:
            tr = m.get("templateRef")
            if tr is None:
                if m["name"] not in r["builtinMetrics"]:
                    out.append(f"{name}: metric {m['name']!r} is no built-in and has no templateRef")
            elif (tr.get("namespace") or ns) == ns and (ns, tr["name"]) not in templates:
                # a template of another namespace (a shared library) is the fleet file's word
                out.append(f"{name}: metric {m['name']!r} references MetricTemplate "
                           f"{tr.get('namespace') or ns}/{tr['name']}, which is not emitted")
        for h in an.get("webhooks") or []:
            mt = _HOST.match(str(h.get("url", "")))
            svc = _in_cluster(mt.group(1)) if mt else None
            if mt is None:
                out.append(f"{name}: webhook {h.get('name')!r} url {h.get('url')!r} is not an http(s) URL")
            elif svc is not None and svc not in services:
                out.append(f"{name}: webhook {h.get('name')!r} url {h['url']} resolves to Service "
                           f"{svc[1]}/{svc[0]}, which is not emitted")
    return out
