"""Blue/green upgrade gate, run by the hook Jobs of `tf2kro fleet upgrade` (python:3.12-alpine, stdlib only).

Fail safe: every check that cannot prove health fails (exit 1): an empty Prometheus result, a NaN, a query error,
an unreachable API, an Application that is missing. Subcommands:

  metrics   green vs blue 5xx rate and p99 latency, observed for --bake seconds every --interval seconds
  apps      every ArgoCD Application matching a label selector is Synced and Healthy (none found = fail)
  soak      an Application's last sync succeeded at least --min-age seconds ago
  trust     every named ACK IAM Role trusts the green OIDC provider (its ARN is in the synced trust policy)
  rollback  start the sync of a rollback Application (sets `.operation`, as `argocd app sync` does) and delete
            the green Applications of a workload wave (their resources finalizer removes the workloads)

Arguments arrive as an argv list from the Job spec (no shell): queries and names are never interpreted as code.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

SA = "/var/run/secrets/kubernetes.io/serviceaccount"


def log(msg: str) -> None:
    print(msg, flush=True)


def prom_value(base: str, query: str) -> float:
    """The single value of an instant query; raises ValueError when there is no usable data."""
    url = base.rstrip("/") + "/api/v1/query?" + urllib.parse.urlencode({"query": query})
    with urllib.request.urlopen(url, timeout=20) as resp:  # noqa: S310 - URL from the fleet file
        doc = json.load(resp)
    if doc.get("status") != "success":
        raise ValueError(f"query failed: {doc.get('error', doc.get('status'))}")
    data = doc.get("data") or {}
    result = data.get("result")
    if data.get("resultType") == "scalar" and isinstance(result, list) and len(result) == 2:
        samples = [result[1]]
    elif isinstance(result, list):
        samples = [r.get("value", [None, None])[1] for r in result if isinstance(r, dict)]
    else:
        samples = []
    if len(samples) != 1:
        raise ValueError(f"expected exactly one series, got {len(samples)} (no data counts as failure)")
    value = float(samples[0])
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"value is {samples[0]} (no traffic counts as failure)")
    return value


def check_metrics(a: argparse.Namespace) -> bool:
    try:
        ge, be = prom_value(a.prometheus, a.green_errors), prom_value(a.prometheus, a.blue_errors)
        gl, bl = prom_value(a.prometheus, a.green_p99), prom_value(a.prometheus, a.blue_p99)
    except (OSError, ValueError) as exc:
        log(f"FAIL: {exc}")
        return False
    ok_err = ge <= be * a.max_error_ratio + a.max_error_delta
    ok_lat = gl <= bl * a.max_p99_ratio
    log(f"{'ok' if ok_err else 'FAIL'}: 5xx rate green={ge:.6f} blue={be:.6f} (max ratio {a.max_error_ratio}, "
        f"delta {a.max_error_delta})")
    log(f"{'ok' if ok_lat else 'FAIL'}: p99 latency green={gl:.4f} blue={bl:.4f} (max ratio {a.max_p99_ratio})")
    return ok_err and ok_lat


def cmd_metrics(a: argparse.Namespace) -> int:
    deadline = time.monotonic() + a.bake
    while True:
        if not check_metrics(a):
            return 1
        if time.monotonic() + a.interval > deadline:
            return 0
        time.sleep(a.interval)


def kube(a: argparse.Namespace, method: str, path: str, body: dict | None = None) -> dict:
    api = a.api or f"https://{os.environ.get('KUBERNETES_SERVICE_HOST', 'kubernetes.default.svc')}:" \
                    f"{os.environ.get('KUBERNETES_SERVICE_PORT', '443')}"
    headers = {"Accept": "application/json"}
    ctx = None
    if os.path.exists(f"{SA}/token"):
        with open(f"{SA}/token", encoding="utf-8") as fh:
            headers["Authorization"] = "Bearer " + fh.read().strip()
        ctx = ssl.create_default_context(cafile=f"{SA}/ca.crt")
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/merge-patch+json"
    req = urllib.request.Request(api + path, data=data, method=method, headers=headers)
    with urllib.request.urlopen(req, timeout=20, context=ctx) as resp:  # noqa: S310
        raw = resp.read()
    return json.loads(raw) if raw else {}


def apps_path(ns: str, name: str = "") -> str:
    base = f"/apis/argoproj.io/v1alpha1/namespaces/{urllib.parse.quote(ns)}/applications"
    return base + (f"/{urllib.parse.quote(name)}" if name else "")


def cmd_apps(a: argparse.Namespace) -> int:
    try:
        doc = kube(a, "GET", apps_path(a.namespace) + "?" + urllib.parse.urlencode({"labelSelector": a.selector}))
    except (OSError, ValueError) as exc:
        log(f"FAIL: cannot list Applications: {exc}")
        return 1
    items = doc.get("items") or []
    if not items:
        log(f"FAIL: no Application matches {a.selector!r} (nothing deployed counts as failure)")
        return 1
    bad = 0
    for app in items:
        st = app.get("status") or {}
        sync, health = (st.get("sync") or {}).get("status"), (st.get("health") or {}).get("status")
        ok = sync == "Synced" and health == "Healthy"
        bad += not ok
        log(f"{'ok' if ok else 'FAIL'}: {app['metadata']['name']} sync={sync} health={health}")
    return 1 if bad else 0


def cmd_soak(a: argparse.Namespace) -> int:
    try:
        app = kube(a, "GET", apps_path(a.namespace, a.app))
    except (OSError, ValueError) as exc:
        log(f"FAIL: cannot read Application {a.app}: {exc}")
        return 1
    op = (app.get("status") or {}).get("operationState") or {}
    if op.get("phase") != "Succeeded" or not op.get("finishedAt"):
        log(f"FAIL: {a.app}: last sync {op.get('phase') or 'missing'} (its gate has not held)")
        return 1
    finished = dt.datetime.fromisoformat(op["finishedAt"].replace("Z", "+00:00"))
    now = dt.datetime.fromisoformat(a.now) if a.now else dt.datetime.now(dt.UTC)
    age = (now - finished).total_seconds()
    if age < a.min_age:
        log(f"FAIL: {a.app} held {age:.0f}s, soak needs {a.min_age}s")
        return 1
    log(f"ok: {a.app} held {age:.0f}s (soak {a.min_age}s)")
    return 0


def _synced(obj: dict) -> bool:
    return any(c.get("type") == "ACK.ResourceSynced" and c.get("status") == "True"
               for c in (obj.get("status") or {}).get("conditions") or [])


def cmd_trust(a: argparse.Namespace) -> int:
    base = f"/apis/iam.services.k8s.aws/v1alpha1/namespaces/{urllib.parse.quote(a.namespace)}"
    try:
        provider = kube(a, "GET", f"{base}/openidconnectproviders/{urllib.parse.quote(a.provider)}")
    except (OSError, ValueError) as exc:
        log(f"FAIL: cannot read OpenIDConnectProvider {a.provider}: {exc}")
        return 1
    arn = ((provider.get("status") or {}).get("ackResourceMetadata") or {}).get("arn")
    if not arn or not _synced(provider):
        log(f"FAIL: OpenIDConnectProvider {a.provider} not synced (no ARN yet)")
        return 1
    bad = 0
    for name in a.role:
        try:
            role = kube(a, "GET", f"{base}/roles/{urllib.parse.quote(name)}")
        except (OSError, ValueError) as exc:
            log(f"FAIL: cannot read Role {name}: {exc}")
            bad += 1
            continue
        doc = str((role.get("spec") or {}).get("assumeRolePolicyDocument") or "")
        ok = arn in doc and _synced(role)
        bad += not ok
        log(f"{'ok' if ok else 'FAIL'}: Role {name} {'trusts' if arn in doc else 'does not trust'} {arn}"
            f"{'' if _synced(role) else ' (not synced)'}")
    return 1 if bad else 0


def cmd_rollback(a: argparse.Namespace) -> int:
    rc = 0
    for name in a.delete_application:
        try:
            kube(a, "DELETE", apps_path(a.namespace, name))
            log(f"deleted green Application {name}")
        except urllib.error.HTTPError as exc:
            if exc.code == 404:  # the step failed before creating it: nothing to take back
                log(f"green Application {name} absent")
            else:
                log(f"FAIL: delete {name}: {exc}")
                rc = 1
        except (OSError, ValueError) as exc:
            log(f"FAIL: delete {name}: {exc}")
            rc = 1
    if a.sync_application:
        op = {"operation": {"initiatedBy": {"username": "tf2kro-upgrade-gate"},
                            "sync": {"prune": True, "syncStrategy": {"apply": {}}}}}
        try:
            kube(a, "PATCH", apps_path(a.namespace, a.sync_application), op)
            log(f"rollback started: sync of {a.sync_application}")
        except (OSError, ValueError) as exc:
            log(f"FAIL: sync {a.sync_application}: {exc}")
            rc = 1
    return rc


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="gate")
    p.add_argument("--api", default="", help="Kubernetes API URL (default: in-cluster)")
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("metrics")
    m.add_argument("--prometheus", required=True)
    for q in ("green-errors", "blue-errors", "green-p99", "blue-p99"):
        m.add_argument(f"--{q}", required=True)
    m.add_argument("--max-error-ratio", type=float, required=True)
    m.add_argument("--max-error-delta", type=float, default=0.0)
    m.add_argument("--max-p99-ratio", type=float, required=True)
    m.add_argument("--bake", type=float, default=0)
    m.add_argument("--interval", type=float, default=60)
    ap = sub.add_parser("apps")
    ap.add_argument("--namespace", required=True)
    ap.add_argument("--selector", required=True)
    s = sub.add_parser("soak")
    s.add_argument("--namespace", required=True)
    s.add_argument("--app", required=True)
    s.add_argument("--min-age", type=float, required=True)
    s.add_argument("--now", default="", help=argparse.SUPPRESS)
    t = sub.add_parser("trust")
    t.add_argument("--namespace", required=True)
    t.add_argument("--provider", required=True)
    t.add_argument("--role", action="append", default=[])
    r = sub.add_parser("rollback")
    r.add_argument("--namespace", required=True)
    r.add_argument("--sync-application", default="")
    r.add_argument("--delete-application", action="append", default=[])
    a = p.parse_args(argv)
    return {"metrics": cmd_metrics, "apps": cmd_apps, "soak": cmd_soak, "trust": cmd_trust,
            "rollback": cmd_rollback}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
