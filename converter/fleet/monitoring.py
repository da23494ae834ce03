"""Compliance and migration, visible: the monitoring manifests `tf2kro fleet` emits under `hub/monitoring/`.

What and why (docs/monitoring.md has the whole picture):
- Gatekeeper's chart has no Service for the audit pod's metrics port (8888, container port `metrics`), so a
  PodMonitor scrapes the Gatekeeper pods directly and stamps the hub's `cluster` label on them.
- ACK controllers export only AWS API-call counters (aws-controllers-k8s/runtime pkg/metrics:
  ack_outbound_api_requests_total / _error_total), Gatekeeper's own `gatekeeper_violations` is per enforcement
  action, not per constraint, and kro has no per-instance metric. Object state (ACK conditions, constraint
  `status.totalViolations`, kro instance readiness, the RGDs' environment/phase annotations) therefore comes from
  kube-state-metrics' custom-resource-state config, which this module emits too (one explicit entry per ACK kind
  tf2kro maps, so no wildcard CRD watch is needed).
- Rules (PromQL) live in observability/rules.yaml, the dashboard in observability/dashboard.json, the ArgoCD
  notification triggers/templates in observability/notifications.yaml: data, not code. This module only fills in
  thresholds from the fleet file's optional `monitoring:` block and the fleet's own facts (clusters, versions,
  CA expiry), and writes the documents.

Every fleet value that reaches PromQL goes through `promql_string` / `promql_regex_alternation` (escaped and
round-trip tested); values reaching YAML are placed in the parsed structure, never spliced into text.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from converter.emit.writer import dump_yaml
from converter.fleet.config import Fleet
from converter.model import ToolError
from converter.names import dns1123_label, eks_cluster_name, label_value

DATA_DIR = Path(__file__).with_name("observability")
MON_API = "monitoring.coreos.com/v1"
PART_OF = {"app.kubernetes.io/part-of": "tf2kro-fleet"}
GATEKEEPER_NAMESPACE = "gatekeeper-system"
KRO_INSTANCE_GROUP = "migration.tf2kro.dev"  # converter.emit.kro.SCHEMA_GROUP
KRO_INSTANCE_STATES = ["ACTIVE", "IN_PROGRESS", "FAILED", "DELETING", "ERROR"]
NO_ENV = "none"  # `env` label of the ArgoCD alerts for Applications in no environment's project

DEFAULT_THRESHOLDS: dict[str, int] = {
    "outOfSyncMinutes": 30,
    "degradedMinutes": 15,
    "violationsMinutes": 10,
    "maxViolations": 0,
    "auditStaleMinutes": 30,
    "ackTerminalMinutes": 5,
    "ackNotSyncedMinutes": 30,
    "kroNotReadyMinutes": 20,
    "externalSecretErrorMinutes": 15,
    "certificateExpiryDays": 30,
    "driftScanStaleHours": 26,
}


@dataclass
class Monitoring:
    """The fleet file's `monitoring:` block with defaults applied and every name validated."""

    namespace: str = "monitoring"
    hub_cluster: str = "hub"
    selector_labels: dict[str, str] = field(default_factory=lambda: {"release": "kube-prometheus-stack"})
    grafana_folder: str = "tf2kro"
    ksm_namespace: str = "monitoring"
    thresholds: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    env_thresholds: dict[str, dict[str, int]] = field(default_factory=dict)
    argocd_url: str = ""
    slack_channel: str = ""
    github: dict[str, Any] = field(default_factory=dict)

    def env_threshold(self, env: str, key: str) -> int:
        return int(self.env_thresholds.get(env, {}).get(key, self.thresholds[key]))


def _checked(fn: Any, value: Any, what: str) -> Any:
    try:
        return fn(value, what)
    except ToolError as exc:
        raise ToolError(str(exc), source="fleet file") from None


def settings(fleet: Fleet) -> Monitoring:
    """Parse `fleet.monitoring` (already schema-checked: types and keys) and validate the names it holds."""
    raw = fleet.monitoring or {}
    m = Monitoring()
    m.namespace = _checked(dns1123_label, raw.get("namespace", m.namespace), "monitoring.namespace")
    # the hub cluster name becomes a relabeling `replacement` (where `$1` would expand) and a label value
    m.hub_cluster = _checked(eks_cluster_name, raw.get("hubCluster", m.hub_cluster), "monitoring.hubCluster")
    if "selectorLabels" in raw:
        m.selector_labels = {}
        for k, v in raw["selectorLabels"].items():
            _checked(label_key, k, "monitoring.selectorLabels key")
            m.selector_labels[k] = _checked(label_value, str(v), f"monitoring.selectorLabels.{k}")
    m.grafana_folder = _checked(label_value, raw.get("grafanaFolder", m.grafana_folder), "monitoring.grafanaFolder")
    ksm = raw.get("kubeStateMetrics") or {}
    m.ksm_namespace = _checked(dns1123_label, ksm.get("namespace", m.namespace), "monitoring.kubeStateMetrics.namespace")
    m.thresholds.update({k: int(v) for k, v in (raw.get("thresholds") or {}).items()})
    env_names = {e.name for e in fleet.environments}
    for env, over in (raw.get("environments") or {}).items():
        if env not in env_names:
            raise ToolError(f"fleet file: monitoring.environments.{env}: not one of the environments {sorted(env_names)}")
        m.env_thresholds[env] = {k: int(v) for k, v in (over or {}).items()}
    notif = raw.get("notifications") or {}
    m.argocd_url = str(notif.get("argocdURL", ""))
    m.slack_channel = str(notif.get("slackChannel", ""))
    m.github = dict(notif.get("github") or {})
    return m


_LABEL_KEY = re.compile(r"(?:[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*/)?"
                        r"[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?\Z")


def label_key(value: Any, what: str) -> str:
    if not isinstance(value, str) or len(value) > 316 or not _LABEL_KEY.match(value):
        raise ToolError(f"{what} {str(value)[:80]!r} is not allowed: it must be a Kubernetes label key")
    return value


# --------------------------------------------------------------------------------------------- YAML with text blocks


class _BlockDumper(yaml.SafeDumper):
    """Multi-line strings as literal blocks (`|`), no anchors: the ConfigMaps holding a config file, a dashboard or
    notification templates stay readable in review and in a PR diff (dump_yaml would write one quoted line)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str_block(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|" if "\n" in data else None)


_BlockDumper.add_representer(str, _str_block)


def dump_blocks(docs: list[dict[str, Any]]) -> str:
    return yaml.dump_all(docs, Dumper=_BlockDumper, sort_keys=False, default_flow_style=False, width=4096,
                         allow_unicode=True)


def _text(value: Any) -> str:
    """A config file embedded in a ConfigMap: YAML, no anchors, multi-line strings as blocks."""
    return yaml.dump(value, Dumper=_BlockDumper, sort_keys=False, default_flow_style=False, width=4096,
                     allow_unicode=True)


# --------------------------------------------------------------------------------------------- PromQL quoting

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_RE2_META = re.compile(r"([\\.+*?()|\[\]{}^$])")


def promql_string(value: str, what: str = "label value") -> str:
    """A PromQL double-quoted string literal holding exactly `value`. Control characters are refused rather
    than escaped: no fleet name legitimately holds one, and escape dialects differ between PromQL parsers."""
    if not isinstance(value, str) or _CONTROL.search(value):
        raise ToolError(f"{what} {str(value)[:80]!r} is not allowed in a PromQL matcher: control characters")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def promql_regex_alternation(values: list[str], what: str = "label value") -> str:
    """A PromQL string literal holding an RE2 regex that matches exactly the given values (fully anchored, as
    PromQL anchors `=~`/`!~`), each value's metacharacters escaped."""
    if not values:
        raise ToolError(f"{what}: an empty alternation would match nothing")
    return promql_string("|".join(_RE2_META.sub(r"\\\1", v) for v in values), what)


# --------------------------------------------------------------------------------------------- data files


@cache
def _data(name: str) -> str:
    return (DATA_DIR / name).read_text(encoding="utf-8")


def known_metrics() -> dict[str, list[str]]:
    """Exporter -> metric names this project relies on but does not define (observability/known-metrics.yaml)."""
    return yaml.safe_load(_data("known-metrics.yaml"))["exporters"]


def _fill(node: Any, values: dict[str, Any]) -> Any:
    """Substitute `$name` placeholders in every string of a parsed structure (string.Template: an unknown
    placeholder raises, `$$` is a literal `$`). Values were validated/escaped by the caller."""
    if isinstance(node, dict):
        return {_fill(k, values): _fill(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [_fill(v, values) for v in node]
    if isinstance(node, str):
        return string.Template(node).substitute(values)
    return node


# --------------------------------------------------------------------------------------------- cluster facts


def _der(buf: bytes, pos: int) -> tuple[int, int, int]:
    """One DER TLV at `pos`: (tag, start of value, end of value)."""
    tag, length = buf[pos], buf[pos + 1]
    pos += 2
    if length & 0x80:
        n = length & 0x7F
        if not 0 < n <= 4:
            raise ValueError("unsupported DER length")
        length = int.from_bytes(buf[pos:pos + n], "big")
        pos += n
    if pos + length > len(buf):
        raise ValueError("truncated DER")
    return tag, pos, pos + length


def _cert_not_after(der: bytes) -> int:
    """notAfter of an X.509 certificate (RFC 5280: Certificate > tbsCertificate > validity > notAfter). A small
    DER walk instead of a dependency: only this one field is read, and only for the alert threshold."""
    _t, cert, _e = _der(der, 0)
    _t, tbs, _e = _der(der, cert)
    pos = tbs
    tag, _s, end = _der(der, pos)
    if tag == 0xA0:  # explicit [0] version
        pos = end
    for _ in range(3):  # serialNumber, signature, issuer
        _t, _s, pos = _der(der, pos)
    tag, validity, _e = _der(der, pos)
    _t, _s, pos = _der(der, validity)  # notBefore
    tag, start, end = _der(der, pos)
    text = der[start:end].decode("ascii").rstrip("Z")
    if tag == 0x17:  # UTCTime YYMMDDHHMMSS: 50-99 = 19xx (RFC 5280 4.1.2.5.1)
        year = int(text[:2])
        text = f"{1900 + year if year >= 50 else 2000 + year}{text[2:]}"
    elif tag != 0x18:  # GeneralizedTime YYYYMMDDHHMMSS
        raise ValueError("notAfter is not a time")
    return int(datetime.strptime(text[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC).timestamp())


_PEM = re.compile(rb"-----BEGIN CERTIFICATE-----(.+?)-----END CERTIFICATE-----", re.DOTALL)


def ca_not_after(ca_data: str) -> int | None:
    """Earliest notAfter (Unix seconds) of the certificates in a cluster's caData (base64 PEM bundle), or None
    when it is absent or holds no readable certificate (the CA-expiry alert is then not emitted)."""
    if not ca_data:
        return None
    try:
        pem = base64.b64decode(ca_data, validate=False)
        times = [_cert_not_after(base64.b64decode(b"".join(m.group(1).split()))) for m in _PEM.finditer(pem)]
    except (ValueError, IndexError, UnicodeDecodeError):
        return None
    return min(times) if times else None


def fleet_records(fleet: Fleet) -> list[dict[str, Any]]:
    """Static recording rules carrying the fleet file's facts into Prometheus (`vector(1)` with labels): what
    the dashboard's upgrade table and the upgrade-pending record compare the live clusters with."""
    out: list[dict[str, Any]] = []
    for c in fleet.clusters:
        out.append({"record": "tf2kro:fleet_cluster_info", "expr": "vector(1)", "labels": {
            "cluster": c.name, "env": c.env, "region": c.region, "version": c.version,
            "generation": c.generation, "purpose": c.purpose}})
    for c in fleet.clusters:
        not_after = ca_not_after(c.ca_data)
        if not_after is not None:
            out.append({"record": "tf2kro:cluster_ca_not_after_timestamp_seconds", "expr": f"vector({not_after})",
                        "labels": {"cluster": c.name, "env": c.env}})
    return out


# --------------------------------------------------------------------------------------------- PrometheusRule


def _one_line(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Multi-line expressions (readable in rules.yaml) as one line each (readable in the emitted YAML, where a
    multi-line string would be a quoted blob). Only line-edge whitespace goes: no string literal in rules.yaml
    spans lines, so no label value changes."""
    for g in groups:
        for r in g["rules"]:
            r["expr"] = " ".join(line.strip() for line in str(r["expr"]).strip().splitlines() if line.strip())
    return groups


def rule_groups(fleet: Fleet, m: Monitoring) -> list[dict[str, Any]]:
    t = m.thresholds
    common = {
        "max_violations": str(t["maxViolations"]),
        "violations_minutes": str(t["violationsMinutes"]),
        "audit_stale_minutes": str(t["auditStaleMinutes"]),
        "audit_stale_seconds": str(t["auditStaleMinutes"] * 60),
        "ack_terminal_minutes": str(t["ackTerminalMinutes"]),
        "ack_not_synced_minutes": str(t["ackNotSyncedMinutes"]),
        "kro_not_ready_minutes": str(t["kroNotReadyMinutes"]),
        "eso_minutes": str(t["externalSecretErrorMinutes"]),
        "cert_days": str(t["certificateExpiryDays"]),
        "cert_seconds": str(t["certificateExpiryDays"] * 86400),
        "drift_stale_hours": str(t["driftScanStaleHours"]),
        "drift_stale_seconds": str(t["driftScanStaleHours"] * 3600),
    }
    doc = yaml.safe_load(_data("rules.yaml"))
    records = fleet_records(fleet)
    # a fleet without clusters has no facts to record (and an empty group is noise)
    groups: list[dict[str, Any]] = [{"name": "tf2kro.fleet", "interval": "5m", "rules": records}] if records else []
    if not any(r["record"] == "tf2kro:cluster_ca_not_after_timestamp_seconds" for r in records):
        # no cluster's caData holds a readable certificate: an alert over a series nothing records would be dead
        for g in doc["groups"]:
            g["rules"] = [r for r in g["rules"] if r.get("alert") != "Tf2kroClusterCAExpiring"]
    env_names = [e.name for e in fleet.environments]
    for g in doc["groups"]:
        if not g.pop("per_environment", False):
            groups.append(_fill(g, common))
            continue
        # one group per environment (its AppProject is named after it) + one for every other project
        variants = [(e, f"project={promql_string(e, 'environment name')}", e) for e in env_names]
        variants.append((NO_ENV, f"project!~{promql_regex_alternation(env_names, 'environment name')}", "no-env"))
        for env, matcher, suffix in variants:
            values = dict(common, env=env, project_matcher=matcher,
                          out_of_sync_minutes=str(m.env_threshold(env, "outOfSyncMinutes")),
                          degraded_minutes=str(m.env_threshold(env, "degradedMinutes")))
            filled = _fill(copy.deepcopy(g), values)
            filled["name"] = f"tf2kro.argocd.{suffix}"
            groups.append(filled)
    return _one_line(groups)


def prometheus_rule(fleet: Fleet, m: Monitoring) -> dict[str, Any]:
    return {
        "apiVersion": MON_API, "kind": "PrometheusRule",
        "metadata": {"name": "tf2kro-fleet", "namespace": m.namespace, "labels": {**PART_OF, **m.selector_labels}},
        "spec": {"groups": rule_groups(fleet, m)},
    }


def pod_monitor(m: Monitoring) -> dict[str, Any]:
    """Gatekeeper pods (audit: gatekeeper_violations, gatekeeper_audit_*; controller: admission counters) on their
    `metrics` container port (8888): the chart exposes no Service for it, a PodMonitor needs none."""
    return {
        "apiVersion": MON_API, "kind": "PodMonitor",
        "metadata": {"name": "gatekeeper", "namespace": m.namespace, "labels": {**PART_OF, **m.selector_labels}},
        "spec": {
            "namespaceSelector": {"matchNames": [GATEKEEPER_NAMESPACE]},
            "selector": {"matchLabels": {"gatekeeper.sh/system": "yes"}},
            "podMetricsEndpoints": [{
                "port": "metrics", "path": "/metrics", "interval": "30s",
                "relabelings": [{"action": "replace", "targetLabel": "cluster", "replacement": m.hub_cluster}],
            }],
        },
    }


# --------------------------------------------------------------------------------------------- kube-state-metrics


def ack_kinds() -> list[tuple[str, str, str]]:
    """(group, version, kind) of every ACK kind tf2kro's mappings produce."""
    from converter.mapping.spec import load_mappings

    kinds = {(t.group, t.version, t.kind) for t in load_mappings().types.values()
             if t.group and t.group.endswith(".services.k8s.aws") and t.kind}
    return sorted(kinds)


def constraint_kinds(fleet: Fleet) -> list[str]:
    from converter.fleet.render import fleet_policies

    return sorted({p.kind for p in fleet_policies(fleet)})


def ksm_custom_resource_state(fleet: Fleet, m: Monitoring) -> dict[str, Any]:
    """The kube-state-metrics `CustomResourceStateMetrics` config (metric names: `<metricNamePrefix>_<name>`)."""
    common = {"cluster": m.hub_cluster}
    obj_labels = {"namespace": ["metadata", "namespace"], "name": ["metadata", "name"]}
    cond = {"type": "Gauge", "gauge": {"path": ["status", "conditions"], "labelsFromPath": {"type": ["type"]},
                                       "valueFrom": ["status"]}}
    resources: list[dict[str, Any]] = []
    for group, version, kind in ack_kinds():
        metrics: list[dict[str, Any]] = [
            {"name": "resource_info", "help": "ACK object (1), with its kro instance and Terraform address",
             "each": {"type": "Info", "info": {"labelsFromPath": {
                 "terraform_address": ["metadata", "annotations", "tf2kro.dev/terraform-address"],
                 "adoption_policy": ["metadata", "annotations", "services.k8s.aws/adoption-policy"]}}}},
            {"name": "condition", "help": "ACK status condition (1 = True, 0 = False) by type", "each": cond},
        ]
        if (group, kind) == ("eks.services.k8s.aws", "Cluster"):
            metrics.append({"name": "eks_cluster_info", "help": "EKS cluster version and status (upgrade tracking)",
                            "each": {"type": "Info", "info": {"labelsFromPath": {
                                "eks_name": ["spec", "name"], "version": ["spec", "version"],
                                "status": ["status", "status"], "platform_version": ["status", "platformVersion"]}}}})
        resources.append({
            "groupVersionKind": {"group": group, "version": version, "kind": kind},
            "metricNamePrefix": "tf2kro_ack", "commonLabels": common,
            "labelsFromPath": {**obj_labels,
                               "instance_kind": ["metadata", "labels", "kro.run/instance-kind"],
                               "instance_name": ["metadata", "labels", "kro.run/instance-name"]},
            "metrics": metrics,
        })
    for kind in constraint_kinds(fleet):
        resources.append({
            "groupVersionKind": {"group": "constraints.gatekeeper.sh", "version": "v1beta1", "kind": kind},
            "metricNamePrefix": "tf2kro_gatekeeper", "commonLabels": common,
            "labelsFromPath": {"constraint": ["metadata", "name"],
                               "enforcement_action": ["spec", "enforcementAction"]},
            "metrics": [{"name": "constraint_violations", "help": "status.totalViolations of the last audit",
                         "each": {"type": "Gauge", "gauge": {"path": ["status", "totalViolations"],
                                                             "nilIsZero": True}}}],
        })
    resources.append({
        "groupVersionKind": {"group": KRO_INSTANCE_GROUP, "version": "*", "kind": "*"},
        "metricNamePrefix": "tf2kro_kro", "commonLabels": common, "labelsFromPath": obj_labels,
        "metrics": [
            {"name": "instance_condition", "help": "kro instance condition (1 = True) by type", "each": cond},
            {"name": "instance_state", "help": "kro instance status.state",
             "each": {"type": "StateSet", "stateSet": {"labelName": "state", "path": ["status", "state"],
                                                        "list": KRO_INSTANCE_STATES}}},
        ],
    })
    resources.append({
        "groupVersionKind": {"group": "kro.run", "version": "v1alpha1", "kind": "ResourceGraphDefinition"},
        "metricNamePrefix": "tf2kro_kro", "commonLabels": common, "labelsFromPath": {"rgd": ["metadata", "name"]},
        "metrics": [{"name": "rgd_info", "help": "RGD with the instance kind it defines and tf2kro's env/phase/root",
                     "each": {"type": "Info", "info": {"labelsFromPath": {
                         "instance_kind": ["spec", "schema", "kind"],
                         "env": ["metadata", "annotations", "tf2kro.dev/environment"],
                         "phase": ["metadata", "annotations", "tf2kro.dev/phase"],
                         "root": ["metadata", "annotations", "tf2kro.dev/root"]}}}}],
    })
    return {"kind": "CustomResourceStateMetrics", "spec": {"resources": resources}}


def ksm_metric_names(config: dict[str, Any]) -> set[str]:
    """The metric names a CustomResourceStateMetrics config produces (prefix `kube_customresource` by default)."""
    names = set()
    for r in config["spec"]["resources"]:
        prefix = r.get("metricNamePrefix", "kube_customresource")
        for metric in r["metrics"]:
            names.add(f"{prefix}_{metric['name']}" if prefix else metric["name"])
    return names


KSM_CONFIGMAP = "tf2kro-ksm-custom-resource-state"
KSM_MOUNT = "/etc/tf2kro-ksm"


def ksm_documents(fleet: Fleet, m: Monitoring) -> list[dict[str, Any]]:
    config = ksm_custom_resource_state(fleet, m)
    return [{"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": {"name": KSM_CONFIGMAP, "namespace": m.ksm_namespace, "labels": dict(PART_OF)},
             "data": {"config.yaml": _text(config)}}]


def ksm_chart_values(fleet: Fleet, m: Monitoring) -> str:
    """Values for the prometheus-community kube-state-metrics chart (under `kube-state-metrics:` in
    kube-prometheus-stack): mount the ConfigMap, pass it with --custom-resource-state-config-file, and grant
    list/watch on the groups it reads (RBAC belongs to the chart's ClusterRole, so it is not a separate object)."""
    config = ksm_custom_resource_state(fleet, m)
    groups = sorted({r["groupVersionKind"]["group"] for r in config["spec"]["resources"]})
    values = {
        "extraArgs": [f"--custom-resource-state-config-file={KSM_MOUNT}/config.yaml"],
        "volumes": [{"name": "tf2kro-crs", "configMap": {"name": KSM_CONFIGMAP}}],
        "volumeMounts": [{"name": "tf2kro-crs", "mountPath": KSM_MOUNT, "readOnly": True}],
        "rbac": {"extraRules": [
            {"apiGroups": ["apiextensions.k8s.io"], "resources": ["customresourcedefinitions"],
             "verbs": ["get", "list", "watch"]},
            {"apiGroups": groups, "resources": ["*"], "verbs": ["list", "watch"]}]},
    }
    head = ("# kube-state-metrics chart values (kube-prometheus-stack: nest under `kube-state-metrics:`), generated by\n"
            f"# `tf2kro fleet`: reads the ConfigMap {m.ksm_namespace}/{KSM_CONFIGMAP} (hub/monitoring/kube-state-metrics-crs.yaml).\n"
            "# Not synced by ArgoCD: merge it into the values of your kube-state-metrics release on the hub.\n")
    return head + yaml.safe_dump(values, sort_keys=False, default_flow_style=False, width=4096)


# --------------------------------------------------------------------------------------------- Grafana


def dashboard(fleet: Fleet) -> dict[str, Any]:
    d = json.loads(_data("dashboard.json"))
    d["title"] = f"tf2kro fleet {fleet.name}: migration and compliance"
    return d


def dashboard_exprs(d: dict[str, Any]) -> list[str]:
    """Every PromQL expression of a dashboard: panel targets and the series selector of each `label_values(...)`
    query variable. Any other kind of query variable is refused, so no metric reaches the dashboard unchecked."""
    exprs = [t["expr"] for p in d.get("panels", []) for t in p.get("targets", []) if t.get("expr")]
    for v in d.get("templating", {}).get("list", []):
        if v.get("type") != "query":
            continue
        q = v.get("query")
        q = q.get("query") if isinstance(q, dict) else q
        m = re.fullmatch(r"label_values\((.+),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)", str(q).strip())
        if not m:
            raise ToolError(f"dashboard variable {v.get('name')!r}: only label_values(<selector>, <label>) is supported")
        exprs.append(m.group(1).strip())
    return exprs


def dashboard_configmap(fleet: Fleet, m: Monitoring) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "tf2kro-fleet-dashboard", "namespace": m.namespace,
                     "labels": {**PART_OF, "grafana_dashboard": "1"},
                     "annotations": {"grafana_folder": m.grafana_folder}},
        "data": {"tf2kro-fleet.json": json.dumps(dashboard(fleet), indent=1, sort_keys=False) + "\n"},
    }


# --------------------------------------------------------------------------------------------- ArgoCD notifications


def notifications_configmap(fleet: Fleet, m: Monitoring) -> dict[str, Any]:
    """argocd-notifications-cm: triggers and templates from observability/notifications.yaml, the services the
    fleet file configures (credentials stay in argocd-notifications-secret: `$slack-token`,
    `$github-privateKey`), and default subscriptions so every Application is covered without annotations."""
    spec = yaml.safe_load(_data("notifications.yaml"))
    dump = _text
    data: dict[str, str] = {}
    if m.argocd_url:
        data["context"] = dump({"argocdUrl": m.argocd_url})
    recipients = []
    if m.slack_channel:
        data["service.slack"] = dump({"token": "$slack-token"})
        recipients.append(f"slack:{m.slack_channel}")
    if m.github:
        gh = {"appID": int(m.github["appID"]), "installationID": int(m.github["installationID"]),
              "privateKey": "$github-privateKey"}
        if m.github.get("enterpriseBaseURL"):
            gh["enterpriseBaseURL"] = str(m.github["enterpriseBaseURL"])
        data["service.github"] = dump(gh)
        recipients.append("github")
    for name, trig in spec["triggers"].items():
        data[f"trigger.{name}"] = dump(trig)
    for name, tmpl in spec["templates"].items():
        data[f"template.{name}"] = dump(tmpl)
    if recipients:
        data["subscriptions"] = dump([{"recipients": recipients, "triggers": list(spec["triggers"])}])
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "argocd-notifications-cm", "namespace": fleet.argocd_namespace,
                         "labels": {**PART_OF, "app.kubernetes.io/name": "argocd-notifications-cm"}},
            "data": data}


WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
WEEK = 7 * 1440
_CRON = re.compile(r"(\d{1,2}) (\d{1,2}) \* \* (\*|[0-7](?:-[0-7])?(?:,[0-7](?:-[0-7])?)*)\Z")
_DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?\Z")


def _window_minutes(window: dict[str, Any]) -> set[int] | None:
    """Minutes of the week (0 = Sunday 00:00) an ArgoCD sync window covers, or None for a schedule this does
    not translate (only `M H * * DOW` crons with an `XhYm` duration: what fleet files use)."""
    cron = _CRON.match(str(window.get("schedule", "")).strip())
    dur = _DURATION.match(str(window.get("duration", "")).strip())
    if not cron or not dur or not any(dur.groups()):
        return None
    minute, hour, dows = int(cron.group(1)), int(cron.group(2)), cron.group(3)
    length = int(dur.group(1) or 0) * 60 + int(dur.group(2) or 0)
    if minute > 59 or hour > 23 or length <= 0:
        return None
    days: set[int] = set()
    for part in (["0-6"] if dows == "*" else dows.split(",")):
        lo, _, hi = part.partition("-")
        days.update(d % 7 for d in range(int(lo), int(hi or lo) + 1))
    out: set[int] = set()
    for d in days:
        start = d * 1440 + hour * 60 + minute
        out.update((start + i) % WEEK for i in range(min(length, WEEK)))
    return out


def sync_blocked_intervals(windows: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """Alertmanager `time_intervals` entries for the times an environment's sync windows block automated syncs:
    outside every `allow` window (if there is one) and inside every `deny` window. An Application that is
    OutOfSync then is expected, so its OutOfSync alert is muted. None when there are no windows, nothing is
    blocked, or a window cannot be translated (different time zones, an unsupported schedule)."""
    if not windows:
        return None
    zones = {str(w.get("timeZone") or "UTC") for w in windows}
    spans = [(w.get("kind"), _window_minutes(w)) for w in windows]
    if len(zones) != 1 or any(m is None for _k, m in spans):
        return None
    allow = [m for k, m in spans if k == "allow" and m is not None]
    open_minutes = set().union(*allow) if allow else set(range(WEEK))
    for k, m in spans:
        if k == "deny" and m is not None:
            open_minutes -= m
    blocked = set(range(WEEK)) - open_minutes
    if not blocked:
        return None
    by_times: dict[tuple[tuple[str, str], ...], list[str]] = {}
    for day in range(7):
        runs: list[tuple[str, str]] = []
        start = None
        for i in range(1441):
            inside = i < 1440 and day * 1440 + i in blocked
            if inside and start is None:
                start = i
            elif not inside and start is not None:
                runs.append((f"{start // 60:02d}:{start % 60:02d}", f"{i // 60:02d}:{i % 60:02d}"))
                start = None
        if runs:
            by_times.setdefault(tuple(runs), []).append(WEEKDAYS[day])
    zone = zones.pop()
    return [{"weekdays": days, "times": [{"start_time": a, "end_time": b} for a, b in times], "location": zone}
            for times, days in by_times.items()]


def alertmanager_example(fleet: Fleet) -> str:
    """The route example, plus a muted OutOfSync route per environment whose sync windows block syncs (an
    Application merged on a Friday in prod stays OutOfSync through the weekend deny window: no page for that)."""
    doc = yaml.safe_load(_data("alertmanager-route.yaml"))
    header = "".join(line + "\n" for line in _data("alertmanager-route.yaml").splitlines() if line.startswith("#"))
    intervals, routes, skipped = [], [], []
    for e in fleet.environments:
        blocked = sync_blocked_intervals(e.sync_windows)
        if blocked is None:
            if e.sync_windows:
                skipped.append(e.name)
            continue
        name = f"{e.name}-sync-blocked"
        intervals.append({"name": name, "time_intervals": blocked})
        routes.append({"matchers": ['alertname="Tf2kroArgoCDAppOutOfSync"', f"env={promql_string(e.name)}"],
                       "receiver": "platform-chat", "mute_time_intervals": [name]})
    doc["route"]["routes"] = routes + doc["route"]["routes"]
    if intervals:
        doc["time_intervals"] = intervals
    note = ""
    if skipped:
        note = (f"# Sync windows of {', '.join(skipped)} not translated (schedule other than `M H * * DOW` or several "
                "time zones): mute their OutOfSync alerts by hand.\n")
    return header + note + yaml.safe_dump(doc, sort_keys=False, default_flow_style=False, width=4096)


# --------------------------------------------------------------------------------------------- drift metrics

DRIFT_CLASSES = ("adoption-would-change", "deleted", "drift", "pending-terraform-change", "unmanaged")


def _exposition_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def drift_metrics(report: dict[str, Any], env: str, root: str, source: str = "drift report") -> str:
    """The scheduled drift scan's result as Prometheus text exposition, for a Pushgateway (grouping key
    job=tf2kro-drift/env/<env>/root/<root>): findings per class, Terraform-managed instances still in the state
    (the migration's "instances left"), and when the scan ran. `report` is `tf2kro diff --format json`.
    env/root must be Kubernetes label values: they are also path segments of the Pushgateway URL.

    Only a complete scan (verdict clean or findings) becomes metrics: a not-checked or partially-checked one
    would show fewer findings than there are and, pushed, would reset the stale-scan alert. The time is the
    report's `generated_at` (when the scan ran), never now: an old report must look old. Errors name `source`."""
    import datetime as _dt

    label_value(env, "drift metrics env")
    label_value(root, "drift metrics root")
    if not isinstance(report, dict) or not isinstance(report.get("summary"), dict):
        raise ToolError("not a `tf2kro diff --format json` report (no summary)", source=source)
    status = report.get("verdict")
    if status not in ("clean", "findings"):
        unknown = report["summary"].get("unknown")
        raise ToolError(f"the diff verdict is {status or 'missing'!r}"
                        + (f" ({unknown} resource(s) unknown)" if unknown else "")
                        + ": only a complete scan (clean or findings) becomes drift metrics; nothing printed or pushed",
                        source=source)
    stamp = report.get("generated_at")
    try:
        when = _dt.datetime.fromisoformat(str(stamp))
        if when.tzinfo is None:
            raise ValueError("no time zone")
    except ValueError:
        raise ToolError(f"no valid generated_at (ISO-8601 UTC) in the report ({stamp!r}): cannot tell when the scan "
                        "ran; re-run `tf2kro diff --format json`", source=source) from None
    timestamp = when.timestamp()
    counts = report["summary"].get("counts") or {}
    region = str(report.get("region") or "")
    base = f'env="{_exposition_value(env)}",root="{_exposition_value(root)}"'
    lines = ["# HELP tf2kro_drift_findings Findings of the last scheduled tf2kro diff, by finding class.",
             "# TYPE tf2kro_drift_findings gauge"]
    for cls in DRIFT_CLASSES:
        lines.append(f'tf2kro_drift_findings{{{base},region="{_exposition_value(region)}",class="{cls}"}} '
                     f"{int(counts.get(cls, 0))}")
    lines += ["# HELP tf2kro_terraform_state_instances Terraform-managed instances the scan compared (left to migrate).",
              "# TYPE tf2kro_terraform_state_instances gauge",
              f"tf2kro_terraform_state_instances{{{base}}} {int(report['summary'].get('resources', 0))}",
              "# HELP tf2kro_drift_last_run_timestamp_seconds When the scan ran (Unix time).",
              "# TYPE tf2kro_drift_last_run_timestamp_seconds gauge",
              f"tf2kro_drift_last_run_timestamp_seconds{{{base}}} {int(timestamp)}"]
    return "\n".join(lines) + "\n"


def render(fleet: Fleet) -> dict[str, str]:
    """Files for `render_fleet`: hub/monitoring/ is synced by the bootstrap app; examples/ is not."""
    m = settings(fleet)
    return {
        "hub/monitoring/prometheusrule.yaml": dump_yaml([prometheus_rule(fleet, m)]),
        "hub/monitoring/podmonitor-gatekeeper.yaml": dump_yaml([pod_monitor(m)]),
        "hub/monitoring/kube-state-metrics-crs.yaml": dump_blocks(ksm_documents(fleet, m)),
        "hub/monitoring/grafana-dashboard.yaml": dump_blocks([dashboard_configmap(fleet, m)]),
        "hub/monitoring/argocd-notifications.yaml": dump_blocks([notifications_configmap(fleet, m)]),
        "examples/alertmanager-route.yaml": alertmanager_example(fleet),
        "examples/kube-state-metrics-values.yaml": ksm_chart_values(fleet, m),
    }

