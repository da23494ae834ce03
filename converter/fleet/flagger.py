"""Flagger progressive delivery for applications marked in the fleet file: a Canary (canary: stepWeight /
maxWeight; blue/green: iterations) with metric checks and automatic rollback after `threshold` failed checks,
plus the MetricTemplates its metrics reference."""

from __future__ import annotations

from typing import Any

from converter.fleet.config import Application

API = "flagger.app/v1beta1"


def canary(app: Application) -> dict[str, Any]:
    p = app.progressive
    assert p is not None
    analysis: dict[str, Any] = {"interval": p.interval, "threshold": p.threshold}
    if p.strategy == "canary":
        analysis.update(maxWeight=p.max_weight, stepWeight=p.step_weight)
    else:
        analysis["iterations"] = p.iterations
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
    hooks = [dict(h) for h in p.webhooks]
    if not hooks:
        svc = f"{p.target_name}-canary.{app.namespace}"
        hooks = [{"name": "smoke", "type": "pre-rollout", "url": "http://flagger-loadtester.test/",
                  "timeout": "30s", "metadata": {"type": "bash", "cmd": f"curl -sfk https://{svc}:{p.port}/ -o /dev/null || "
                                                                        f"curl -sf http://{svc}:{p.port}/ -o /dev/null"}}]
    analysis["webhooks"] = hooks
    service: dict[str, Any] = {"port": p.port}
    if p.target_port:
        service["targetPort"] = p.target_port
    return {
        "apiVersion": API,
        "kind": "Canary",
        "metadata": {"name": p.target_name, "namespace": app.namespace,
                     "labels": {"app.kubernetes.io/name": app.name, "tf2kro.dev/strategy": p.strategy}},
        "spec": {
            "provider": p.provider,
            "targetRef": {"apiVersion": "apps/v1", "kind": p.target_kind, "name": p.target_name},
            "progressDeadlineSeconds": 600,
            "service": service,
            "analysis": analysis,
        },
    }


def metric_templates(app: Application, region: str = "") -> list[dict[str, Any]]:
    p = app.progressive
    if p is None:
        return []
    out = []
    for t in p.metric_templates:
        provider: dict[str, Any] = {"type": t.get("provider", "prometheus")}
        if t.get("address"):
            provider["address"] = t["address"]
        if provider["type"] == "cloudwatch":
            provider["region"] = t.get("region") or region
        out.append({"apiVersion": API, "kind": "MetricTemplate",
                    "metadata": {"name": t["name"], "namespace": app.namespace},
                    "spec": {"provider": provider, "query": t["query"]}})
    return out
