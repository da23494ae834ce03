"""hub/monitoring/ of `tf2kro fleet`: CRD validity, PromQL parsing, rule behaviour under `promtool test rules`,
dashboard metric coverage, Alertmanager routing, ArgoCD notifications wiring, escaping of fleet names in PromQL."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
import re
import shutil
import subprocess

import promql_parser
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from converter.cli import main
from converter.fleet import monitoring as mon
from converter.fleet.config import from_dict
from converter.fleet.render import render_fleet
from converter.model import ToolError
from converter.pipeline import REPO_ROOT
from converter.validate.runner import validate_tree

FLEET_FILE = REPO_ROOT / "samples" / "fleet.yaml"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed (Debian package prometheus)")


def fleet_doc(monitoring: dict | None = None) -> dict:
    doc = yaml.safe_load(FLEET_FILE.read_text())
    if monitoring is not None:
        doc["spec"]["monitoring"] = monitoring
    return doc


def make_fleet(monitoring: dict | None = None, ca_data: str | None = None):
    doc = fleet_doc(monitoring)
    if ca_data is not None:
        doc["spec"]["clusters"][0]["caData"] = ca_data
    return from_dict(copy.deepcopy(doc))


# test thresholds: short, and different per environment, so `for:` and the per-env split are observable
TEST_MON = {
    "hubCluster": "hub",
    "thresholds": {"outOfSyncMinutes": 30, "degradedMinutes": 15, "violationsMinutes": 10, "auditStaleMinutes": 20,
                   "ackTerminalMinutes": 5, "ackNotSyncedMinutes": 12, "kroNotReadyMinutes": 8,
                   "externalSecretErrorMinutes": 6, "certificateExpiryDays": 10, "driftScanStaleHours": 2},
    "environments": {"prod": {"outOfSyncMinutes": 15, "degradedMinutes": 5}},
    "notifications": {"argocdURL": "https://argocd.example.com", "slackChannel": "deploys",
                      "github": {"appID": 1, "installationID": 2}},
}


@pytest.fixture(scope="module")
def files() -> dict[str, str]:
    # a readable CA, so the CA-expiry record and alert are part of the output under test
    return render_fleet(make_fleet(TEST_MON, ca_data=_ca(dt.datetime(2031, 5, 17, tzinfo=dt.UTC))))


def _docs(files, rel):
    return [d for d in yaml.safe_load_all(files[rel]) if d]


def _rule(files):
    return _docs(files, "hub/monitoring/prometheusrule.yaml")[0]


def _all_rules(files):
    return [r for g in _rule(files)["spec"]["groups"] for r in g["rules"]]


def _metric_names(expr: str) -> set[str]:
    names: set[str] = set()

    def visit(node, *_):
        if isinstance(node, promql_parser.VectorSelector):
            if node.name:
                names.add(node.name)
            for m in node.matchers.matchers:
                if m.name == "__name__":
                    names.add(m.value)
        return True

    promql_parser.walk(promql_parser.parse(expr), visit)
    return names


# --------------------------------------------------------------------------------------------- CRDs, layout


def test_fleet_cli_output_validates_against_bundled_crds(tmp_path):
    out = tmp_path / "fleet"
    res = CliRunner().invoke(main, ["fleet", "--config", str(FLEET_FILE), "--out", str(out)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    for rel in ("prometheusrule.yaml", "podmonitor-gatekeeper.yaml", "kube-state-metrics-crs.yaml",
                "grafana-dashboard.yaml", "argocd-notifications.yaml"):
        assert (out / "hub" / "monitoring" / rel).is_file()
    report = validate_tree(out, [])
    errors = [f for f in report.findings if f.severity == "error"]
    assert not errors, "\n".join(map(str, errors))
    checked = {(f.file) for f in report.findings}
    assert "hub/monitoring/prometheusrule.yaml" not in checked  # no finding at all on the rule/monitor files
    assert "hub/monitoring/podmonitor-gatekeeper.yaml" not in checked


def test_crd_validation_actually_checks_prometheusrule_and_podmonitor(tmp_path, files):
    """The CRD check is live: an unknown field in a rule and a wrong type in the PodMonitor are both errors."""
    rule = _rule(files)
    rule["spec"]["groups"][1]["rules"][0]["severity"] = "high"  # not a Rule field
    pm = _docs(files, "hub/monitoring/podmonitor-gatekeeper.yaml")[0]
    pm["spec"]["podMetricsEndpoints"][0]["relabelings"] = "cluster"
    (tmp_path / "r.yaml").write_text(yaml.safe_dump_all([rule, pm]))
    errors = [f for f in validate_tree(tmp_path, []).findings if f.severity == "error"]
    assert {f.object.split("/")[0] for f in errors} == {"PrometheusRule", "PodMonitor"}


def test_podmonitor_scrapes_gatekeeper_metrics_port_and_labels_the_hub(files):
    pm = _docs(files, "hub/monitoring/podmonitor-gatekeeper.yaml")[0]
    assert pm["spec"]["namespaceSelector"] == {"matchNames": ["gatekeeper-system"]}
    ep = pm["spec"]["podMetricsEndpoints"][0]
    assert ep["port"] == "metrics"  # the chart's container port name for 8888 (audit and controller)
    assert {"action": "replace", "targetLabel": "cluster", "replacement": "hub"} in ep["relabelings"]
    assert pm["metadata"]["labels"]["release"] == "kube-prometheus-stack"


def test_configmaps_embed_their_files_as_readable_blocks(files):
    """Config files inside ConfigMaps are literal blocks without YAML anchors (reviewable in a PR diff)."""
    for rel, key in (("hub/monitoring/kube-state-metrics-crs.yaml", "config.yaml"),
                     ("hub/monitoring/grafana-dashboard.yaml", "tf2kro-fleet.json"),
                     ("hub/monitoring/argocd-notifications.yaml", "template.app-deployed")):
        text = files[rel]
        assert f"  {key}: |\n" in text and "&id0" not in text and "*id0" not in text
        assert _docs(files, rel)[0]["data"][key].count("\n") > 3


def test_readme_lists_the_monitoring_paths(files):
    assert "`hub/monitoring/`" in files["README.md"] and "`examples/`" in files["README.md"]


# --------------------------------------------------------------------------------------------- PromQL


def test_every_rule_and_dashboard_expression_parses(files):
    exprs = [r["expr"] for r in _all_rules(files)]
    dash = json.loads(_docs(files, "hub/monitoring/grafana-dashboard.yaml")[0]["data"]["tf2kro-fleet.json"])
    exprs += mon.dashboard_exprs(dash)
    assert len(exprs) > 40
    for e in exprs:
        promql_parser.parse(e)  # raises on a syntax error


def test_metrics_used_are_recorded_generated_or_declared(files):
    """Every metric a rule or a panel reads is recorded by a rule, produced by the kube-state-metrics config, or
    declared in known-metrics.yaml; and every declared metric is used (the list cannot go stale)."""
    recorded = {r["record"] for r in _all_rules(files) if "record" in r}
    ksm_cm = _docs(files, "hub/monitoring/kube-state-metrics-crs.yaml")[0]
    ksm = mon.ksm_metric_names(yaml.safe_load(ksm_cm["data"]["config.yaml"]))
    known = {n for names in mon.known_metrics().values() for n in names}
    dash = json.loads(_docs(files, "hub/monitoring/grafana-dashboard.yaml")[0]["data"]["tf2kro-fleet.json"])
    used_rules = set().union(*(_metric_names(r["expr"]) for r in _all_rules(files)))
    used_dash = set().union(*(_metric_names(e) for e in mon.dashboard_exprs(dash)))
    unknown = (used_rules | used_dash) - recorded - ksm - known
    assert not unknown, f"metrics from nowhere: {sorted(unknown)}"
    assert not known - (used_rules | used_dash), "known-metrics.yaml lists unused metrics"
    assert {"tf2kro_ack_condition", "tf2kro_ack_resource_info", "tf2kro_ack_eks_cluster_info",
            "tf2kro_gatekeeper_constraint_violations", "tf2kro_kro_instance_condition",
            "tf2kro_kro_rgd_info"} <= ksm
    # the dashboard covers the five views
    for metric in ("tf2kro:ack_objects_adopted:count", "tf2kro_terraform_state_instances",
                   "tf2kro_gatekeeper_constraint_violations", "argocd_app_info", "tf2kro_drift_findings",
                   "tf2kro:fleet_cluster_info"):
        assert metric in used_dash


@needs_promtool
def test_promtool_check_rules_accepts_the_rule_file(tmp_path, files):
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(_rule(files)["spec"]))
    res = subprocess.run([PROMTOOL, "check", "rules", str(tmp_path / "rules.yml")], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


# --------------------------------------------------------------------------------------------- kube-state-metrics


def test_ksm_config_covers_every_mapped_ack_kind_and_the_policies(files):
    (cm,) = _docs(files, "hub/monitoring/kube-state-metrics-crs.yaml")
    values = yaml.safe_load(files["examples/kube-state-metrics-values.yaml"])
    cfg = yaml.safe_load(cm["data"]["config.yaml"])
    assert cfg["kind"] == "CustomResourceStateMetrics"
    gvks = {(r["groupVersionKind"]["group"], r["groupVersionKind"]["kind"]) for r in cfg["spec"]["resources"]}
    assert {(g, k) for g, _v, k in mon.ack_kinds()} <= gvks
    assert ("eks.services.k8s.aws", "Cluster") in gvks and ("kro.run", "ResourceGraphDefinition") in gvks
    constraint_kinds = {yaml.safe_load(t)["kind"] for rel, t in files.items()
                        if rel.startswith("hub/gatekeeper/constraints/") for t in [t.split("\n---\n")[0]]}
    assert {("constraints.gatekeeper.sh", k) for k in constraint_kinds} <= gvks
    assert len(gvks) == len(cfg["spec"]["resources"])  # kube-state-metrics exits on a duplicate entry
    # the shape of kube-state-metrics' customresourcestate Go types: a misspelt key would only show on the hub, at
    # start-up or as a missing metric, so the keys are checked here
    each_keys = {"Gauge": {"path", "valueFrom", "labelsFromPath", "nilIsZero", "labelFromKey"},
                 "Info": {"path", "labelsFromPath", "labelFromKey"},
                 "StateSet": {"path", "labelName", "list", "valueFrom", "labelsFromPath"}}
    for r in cfg["spec"]["resources"]:
        assert set(r) <= {"groupVersionKind", "metricNamePrefix", "commonLabels", "labelsFromPath", "metrics"}
        assert set(r["groupVersionKind"]) == {"group", "version", "kind"}
        for metric in r["metrics"]:
            assert set(metric) <= {"name", "help", "each", "commonLabels", "labelsFromPath"}
            kind = metric["each"]["type"]
            (body_key,) = set(metric["each"]) - {"type"}
            assert body_key == kind[0].lower() + kind[1:] and set(metric["each"][body_key]) <= each_keys[kind]
            for path in [*metric["each"][body_key].get("labelsFromPath", {}).values(), *r["labelsFromPath"].values()]:
                assert isinstance(path, list) and all(isinstance(p, str) and p for p in path)
    for r in cfg["spec"]["resources"]:
        assert r["commonLabels"] == {"cluster": "hub"}
    assert {g for g, _ in gvks} == set(values["rbac"]["extraRules"][1]["apiGroups"])
    # the chart mounts exactly this ConfigMap and passes the file to kube-state-metrics
    (vol,) = values["volumes"]
    assert vol["configMap"]["name"] == cm["metadata"]["name"]
    (mount,) = values["volumeMounts"]
    assert values["extraArgs"] == [f"--custom-resource-state-config-file={mount['mountPath']}/config.yaml"]
    assert set(cm["data"]) == {"config.yaml"}


# --------------------------------------------------------------------------------------------- promtool test rules


def _series(metric: str, labels: dict, values: str) -> dict:
    inner = ",".join(f'{k}="{v}"' for k, v in labels.items())
    return {"series": f"{metric}{{{inner}}}", "values": values}


def _run_promtool(tmp_path, rules: dict, tests: list[dict]) -> None:
    for g in rules["groups"]:
        for r in g["rules"]:
            r.pop("annotations", None)  # promtool compares annotations too; they are checked by `check rules`
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(rules))
    (tmp_path / "test.yml").write_text(yaml.safe_dump({"rule_files": ["rules.yml"], "evaluation_interval": "1m",
                                                        "tests": tests}))
    res = subprocess.run([PROMTOOL, "test", "rules", "test.yml"], cwd=tmp_path, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def _alert(name: str, labels: dict, rules: dict) -> dict:
    static = next(r["labels"] for g in rules["groups"] for r in g["rules"] if r.get("alert") == name
                  and all(r["labels"].get(k, v) == v for k, v in labels.items() if k == "env"))
    return {"exp_labels": {**static, **labels}}


def _fires(name, at_min, rules, *label_sets):
    return {"eval_time": f"{at_min}m", "alertname": name, "exp_alerts": [_alert(name, ls, rules) for ls in label_sets]}


@pytest.fixture
def rules_and_thresholds():
    fleet = make_fleet(TEST_MON)
    m = mon.settings(fleet)
    return {"groups": mon.rule_groups(fleet, m)}, m


@needs_promtool
def test_rules_fire_and_stay_silent_on_the_right_series(tmp_path, rules_and_thresholds):
    rules, m = rules_and_thresholds
    t = m.thresholds
    obj = {"cluster": "hub", "customresource_group": "s3.services.k8s.aws", "customresource_kind": "Bucket",
           "customresource_version": "v1alpha1", "namespace": "staging-infrastructure"}
    con = {"cluster": "hub", "customresource_kind": "AwsRequiredTags", "enforcement_action": "deny"}
    kro = {"cluster": "hub", "customresource_group": "migration.tf2kro.dev", "customresource_kind": "StagingNetwork",
           "customresource_version": "v1alpha1", "namespace": "staging-infrastructure"}
    n = 200
    series = [
        # Gatekeeper: one constraint with violations from minute 3, one clean
        _series("tf2kro_gatekeeper_constraint_violations", {**con, "constraint": "tags"}, f"0 0 0 2+0x{n}"),
        _series("tf2kro_gatekeeper_constraint_violations", {**con, "constraint": "clean"}, f"0+0x{n}"),
        # audit: one cluster's last run stuck at t=0, one always current
        _series("gatekeeper_audit_last_run_end_time", {"cluster": "stuck"}, f"0+0x{n}"),
        _series("gatekeeper_audit_last_run_end_time", {"cluster": "fresh"}, f"0+60x{n}"),
        _series("gatekeeper_violations", {"cluster": "hub", "enforcement_action": "deny"}, f"0+0x{n}"),
        # ACK: terminal / not terminal; synced=False, synced=True, no ResourceSynced condition at all
        _series("tf2kro_ack_condition", {**obj, "name": "broken", "type": "ACK.Terminal"}, f"1+0x{n}"),
        _series("tf2kro_ack_condition", {**obj, "name": "fine", "type": "ACK.Terminal"}, f"0+0x{n}"),
        _series("tf2kro_ack_condition", {**obj, "name": "broken", "type": "ACK.ResourceSynced"}, f"0+0x{n}"),
        _series("tf2kro_ack_condition", {**obj, "name": "fine", "type": "ACK.ResourceSynced"}, f"1+0x{n}"),
        _series("tf2kro_ack_resource_info", {**obj, "name": "broken"}, f"1+0x{n}"),
        _series("tf2kro_ack_resource_info", {**obj, "name": "fine"}, f"1+0x{n}"),
        _series("tf2kro_ack_resource_info", {**obj, "name": "new"}, f"1+0x{n}"),
        # kro: not ready; ready and ACTIVE; ready but FAILED
        _series("tf2kro_kro_instance_condition", {**kro, "name": "a", "type": "Ready"}, f"0+0x{n}"),
        _series("tf2kro_kro_instance_condition", {**kro, "name": "b", "type": "Ready"}, f"1+0x{n}"),
        _series("tf2kro_kro_instance_state", {**kro, "name": "b", "state": "ACTIVE"}, f"1+0x{n}"),
        _series("tf2kro_kro_instance_condition", {**kro, "name": "c", "type": "Ready"}, f"1+0x{n}"),
        _series("tf2kro_kro_instance_state", {**kro, "name": "c", "state": "FAILED"}, f"1+0x{n}"),
        # External Secrets: Ready=False active / inactive; error counter rising / flat
        _series("externalsecret_status_condition", {"cluster": "w", "namespace": "apps", "name": "db",
                                                    "condition": "Ready", "status": "False"}, f"1+0x{n}"),
        _series("externalsecret_status_condition", {"cluster": "w", "namespace": "apps", "name": "ok",
                                                    "condition": "Ready", "status": "False"}, f"0+0x{n}"),
        _series("externalsecret_sync_calls_error", {"cluster": "w", "namespace": "apps", "name": "db"}, f"0+1x{n}"),
        _series("externalsecret_sync_calls_error", {"cluster": "w", "namespace": "apps", "name": "ok"}, f"4+0x{n}"),
        # blackbox: expires in 3 days / in ~300 years
        _series("probe_ssl_earliest_cert_expiry", {"cluster": "w", "instance": "https://soon"}, f"{3 * 86400}+0x{n}"),
        _series("probe_ssl_earliest_cert_expiry", {"cluster": "w", "instance": "https://later"}, f"1e10+0x{n}"),
        # drift: findings in staging, none in prod; staging scan stuck at t=0, prod scan current
        _series("tf2kro_drift_findings", {"env": "staging", "root": "platform", "class": "drift"}, f"3+0x{n}"),
        _series("tf2kro_drift_findings", {"env": "prod", "root": "platform", "class": "drift"}, f"0+0x{n}"),
        _series("tf2kro_drift_last_run_timestamp_seconds", {"env": "staging", "root": "platform"}, f"0+0x{n}"),
        _series("tf2kro_drift_last_run_timestamp_seconds", {"env": "prod", "root": "platform"}, f"0+60x{n}"),
    ]
    app = {"namespace": "argocd", "dest_server": "https://kubernetes.default.svc", "health_status": "Healthy",
           "sync_status": "OutOfSync"}
    series += [
        _series("argocd_app_info", {**app, "name": "infra-prod", "project": "prod"}, f"1+0x{n}"),
        _series("argocd_app_info", {**app, "name": "infra-staging", "project": "staging"}, f"1+0x{n}"),
        _series("argocd_app_info", {**app, "name": "root", "project": "default"}, f"1+0x{n}"),
        _series("argocd_app_info", {**app, "name": "synced-prod", "project": "prod", "sync_status": "Synced"},
                f"1+0x{n}"),
        _series("argocd_app_info", {**app, "name": "bad-prod", "project": "prod", "sync_status": "Synced",
                                    "health_status": "Degraded"}, f"1+0x{n}"),
        _series("argocd_app_info", {**app, "name": "bad-dev", "project": "dev", "sync_status": "Synced",
                                    "health_status": "Degraded"}, f"1+0x{n}"),
    ]
    ack_key = {k: obj[k] for k in ("cluster", "customresource_group", "customresource_kind", "namespace")}
    kro_key = {k: kro[k] for k in ("cluster", "customresource_kind", "namespace")}
    app_key = {"namespace": "argocd", "dest_server": "https://kubernetes.default.svc"}
    v = t["violationsMinutes"]
    alerts = [
        _fires("Tf2kroConstraintViolations", 3 + v - 1, rules),  # pending, not yet firing
        _fires("Tf2kroConstraintViolations", 3 + v + 1, rules, {**con, "constraint": "tags"}),
        _fires("Tf2kroGatekeeperAuditStale", t["auditStaleMinutes"] - 1, rules),
        _fires("Tf2kroGatekeeperAuditStale", t["auditStaleMinutes"] + 1, rules, {"cluster": "stuck"}),
        _fires("Tf2kroGatekeeperMetricsMissing", 30, rules),  # gatekeeper_violations present
        _fires("Tf2kroAckResourceTerminal", t["ackTerminalMinutes"] - 1, rules),
        _fires("Tf2kroAckResourceTerminal", t["ackTerminalMinutes"] + 1, rules, {**ack_key, "name": "broken"}),
        _fires("Tf2kroAckResourceNotSynced", t["ackNotSyncedMinutes"] - 1, rules),
        _fires("Tf2kroAckResourceNotSynced", t["ackNotSyncedMinutes"] + 1, rules,
               {**ack_key, "name": "broken"}, {**ack_key, "name": "new"}),
        _fires("Tf2kroKroInstanceNotReady", t["kroNotReadyMinutes"] - 1, rules),
        _fires("Tf2kroKroInstanceNotReady", t["kroNotReadyMinutes"] + 1, rules,
               {**kro_key, "name": "a"}, {**kro_key, "name": "c"}),
        _fires("Tf2kroExternalSecretNotReady", t["externalSecretErrorMinutes"] + 1, rules,
               {"cluster": "w", "namespace": "apps", "name": "db"}),
        _fires("Tf2kroExternalSecretSyncErrors", 5 + t["externalSecretErrorMinutes"] + 1, rules,
               {"cluster": "w", "namespace": "apps", "name": "db"}),
        _fires("Tf2kroEndpointCertificateExpiring", 1, rules, {"cluster": "w", "instance": "https://soon"}),
        _fires("Tf2kroDriftFindings", 1, rules, {"env": "staging", "root": "platform"}),
        _fires("Tf2kroDriftScanStale", t["driftScanStaleHours"] * 60 - 1, rules),
        _fires("Tf2kroDriftScanStale", t["driftScanStaleHours"] * 60 + 1, rules, {"env": "staging", "root": "platform"}),
    ]
    prod_oos, stag_oos = m.env_threshold("prod", "outOfSyncMinutes"), m.env_threshold("staging", "outOfSyncMinutes")
    assert prod_oos < stag_oos
    oos = lambda name, project, env: {**app_key, "name": name, "project": project, "env": env}  # noqa: E731
    alerts += [
        _fires("Tf2kroArgoCDAppOutOfSync", prod_oos - 1, rules),
        _fires("Tf2kroArgoCDAppOutOfSync", prod_oos + 1, rules, oos("infra-prod", "prod", "prod")),
        _fires("Tf2kroArgoCDAppOutOfSync", stag_oos + 1, rules, oos("infra-prod", "prod", "prod"),
               oos("infra-staging", "staging", "staging"), oos("root", "default", mon.NO_ENV)),
        _fires("Tf2kroArgoCDAppDegraded", m.env_threshold("prod", "degradedMinutes") + 1, rules,
               oos("bad-prod", "prod", "prod")),
        _fires("Tf2kroArgoCDAppDegraded", m.env_threshold("dev", "degradedMinutes") + 1, rules,
               oos("bad-prod", "prod", "prod"), oos("bad-dev", "dev", "dev")),
    ]
    absent_test = {"interval": "1m", "input_series": [], "alert_rule_test": [
        _fires("Tf2kroGatekeeperMetricsMissing", 14, rules),
        _fires("Tf2kroGatekeeperMetricsMissing", 16, rules, {})]}
    _run_promtool(tmp_path, rules, [{"interval": "1m", "input_series": series, "alert_rule_test": alerts}, absent_test])


@needs_promtool
def test_recording_rules_compute_migration_progress_and_upgrade_status(tmp_path, rules_and_thresholds):
    rules, _m = rules_and_thresholds
    hub = {"cluster": "hub"}
    ack = {**hub, "customresource_group": "ec2.services.k8s.aws", "customresource_kind": "VPC",
           "customresource_version": "v1alpha1", "namespace": "staging-infrastructure"}
    objects = {"vpc-a": ("StagingSampleNetwork", 1), "vpc-b": ("StagingSampleNetwork", 1),
               "vpc-c": ("StagingSampleNetwork", 0), "stray": ("", 0)}
    series = [_series("tf2kro_kro_rgd_info", {**hub, "rgd": "staging-sample-network",
                                              "instance_kind": "StagingSampleNetwork", "env": "staging",
                                              "phase": "network", "root": "sample"}, "1+0x30")]
    for name, (kind, adopted) in objects.items():
        series.append(_series("tf2kro_ack_resource_info", {**ack, "name": name, "instance_kind": kind}, "1+0x30"))
        series.append(_series("tf2kro_ack_condition", {**ack, "name": name, "instance_kind": kind,
                                                       "type": "ACK.Adopted"}, f"{adopted}+0x30"))
    # the fleet says platform-staging runs 1.30; the ACK Cluster object says 1.29 (upgrade not done)
    series.append(_series("tf2kro_ack_eks_cluster_info", {**hub, "eks_name": "platform-staging", "version": "1.29",
                                                          "status": "ACTIVE"}, "1+0x30"))
    owned = [k for k, (kind, _) in objects.items() if kind]
    adopted = [k for k in owned if objects[k][1]]
    expr_tests = [
        {"expr": "tf2kro:ack_objects:count", "eval_time": "10m", "exp_samples": [
            {"labels": 'tf2kro:ack_objects:count{cluster="hub",env="staging",phase="network"}', "value": len(owned)},
            {"labels": 'tf2kro:ack_objects:count{cluster="hub",env="unassigned",phase="unassigned"}', "value": 1}]},
        {"expr": "tf2kro:ack_objects_adopted:ratio", "eval_time": "10m", "exp_samples": [
            {"labels": 'tf2kro:ack_objects_adopted:ratio{cluster="hub",env="staging",phase="network"}',
             "value": len(adopted) / len(owned)},
            {"labels": 'tf2kro:ack_objects_adopted:ratio{cluster="hub",env="unassigned",phase="unassigned"}',
             "value": 0}]},
        {"expr": "tf2kro:cluster_upgrade_pending", "eval_time": "10m", "exp_samples": [
            {"labels": 'tf2kro:cluster_upgrade_pending{cluster="platform-staging",version="1.29"}', "value": 1}]},
    ]
    current = [_series("tf2kro_ack_eks_cluster_info", {**hub, "eks_name": "platform-staging", "version": "1.30",
                                                       "status": "ACTIVE"}, "1+0x30")]
    _run_promtool(tmp_path, rules, [
        {"interval": "1m", "input_series": series, "promql_expr_test": expr_tests},
        {"interval": "1m", "input_series": current,
         "promql_expr_test": [{"expr": "tf2kro:cluster_upgrade_pending", "eval_time": "10m", "exp_samples": []}]},
    ])


def _ca(not_after: dt.datetime) -> str:
    # cryptography comes with the test extra (moto); the product reads certificates without it
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(dt.datetime(1970, 1, 1, tzinfo=dt.UTC))
            .not_valid_after(not_after).sign(key, hashes.SHA256()))
    return base64.b64encode(cert.public_bytes(serialization.Encoding.PEM)).decode()


def test_cluster_ca_expiry_is_read_from_ca_data():
    not_after = dt.datetime(2031, 5, 17, 12, 0, tzinfo=dt.UTC)
    fleet = make_fleet(TEST_MON, ca_data=_ca(not_after))
    recs = [r for r in mon.fleet_records(fleet) if r["record"] == "tf2kro:cluster_ca_not_after_timestamp_seconds"]
    assert recs == [{"record": "tf2kro:cluster_ca_not_after_timestamp_seconds",
                     "expr": f"vector({int(not_after.timestamp())})",
                     "labels": {"cluster": fleet.clusters[0].name, "env": fleet.clusters[0].env}}]
    assert mon.ca_not_after(base64.b64encode(b"not a certificate").decode()) is None
    # a bundle: the earliest expiry counts; UTCTime before 2050 and GeneralizedTime after it both parse
    early, late = dt.datetime(2049, 12, 31, tzinfo=dt.UTC), dt.datetime(2061, 2, 3, 4, 5, 6, tzinfo=dt.UTC)
    bundle = base64.b64decode(_ca(late)) + base64.b64decode(_ca(early))
    assert mon.ca_not_after(base64.b64encode(bundle).decode()) == int(early.timestamp())
    assert mon.ca_not_after(_ca(late)) == int(late.timestamp())
    truncated = base64.b64decode(_ca(late))[:200] + b"\n-----END CERTIFICATE-----\n"
    assert mon.ca_not_after(base64.b64encode(truncated).decode()) is None
    unknown = make_fleet(TEST_MON, ca_data="")
    assert not [r for r in mon.fleet_records(unknown) if r["record"].startswith("tf2kro:cluster_ca")]
    # and then no alert over a series nothing records
    assert "Tf2kroClusterCAExpiring" not in {r.get("alert") for g in mon.rule_groups(unknown, mon.settings(unknown))
                                             for r in g["rules"]}


@needs_promtool
def test_cluster_ca_expiry_alert_fires_within_the_configured_days(tmp_path):
    # promtool's clock starts at Unix time 0: a CA valid until 1970-01-20 is 19 days away at t=0
    not_after = dt.datetime(1970, 1, 20, tzinfo=dt.UTC)
    fleet = make_fleet(TEST_MON, ca_data=_ca(not_after))
    m = mon.settings(fleet)
    rules = {"groups": mon.rule_groups(fleet, m)}
    days_left_at_0 = not_after.timestamp() / 86400
    fires_after_days = days_left_at_0 - m.thresholds["certificateExpiryDays"]
    assert fires_after_days > 1
    c = fleet.clusters[0]
    early = int(fires_after_days * 24 * 60) - 60
    late = int(fires_after_days * 24 * 60) + 60
    _run_promtool(tmp_path, rules, [{"interval": "1h", "input_series": [], "alert_rule_test": [
        _fires("Tf2kroClusterCAExpiring", early, rules),
        _fires("Tf2kroClusterCAExpiring", late, rules, {"cluster": c.name, "env": c.env}),
    ]}])


# --------------------------------------------------------------------------------------------- escaping


_TEXT = st.text(st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\u2028\u2029"), max_size=40)


@given(_TEXT)
@hsettings(max_examples=300, deadline=None)
def test_promql_string_round_trips_any_value(value):
    sel = promql_parser.parse(f"m{{l={mon.promql_string(value)}}}")
    (matcher,) = sel.matchers.matchers
    assert matcher.value == value


@given(st.lists(_TEXT.filter(bool), min_size=1, max_size=5, unique=True), _TEXT)
@hsettings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
def test_promql_regex_alternation_matches_exactly_the_values(values, other):
    sel = promql_parser.parse(f"m{{l=~{mon.promql_regex_alternation(values)}}}")
    (matcher,) = sel.matchers.matchers
    pattern = re.compile(f"(?:{matcher.value})", re.DOTALL)  # PromQL anchors the regex
    for v in values:
        assert pattern.fullmatch(v)
    assert bool(pattern.fullmatch(other)) == (other in values)


@given(st.text(max_size=20).filter(lambda s: any(ord(c) < 32 or 0x7f <= ord(c) <= 0x9f for c in s)))
def test_promql_string_refuses_control_characters(value):
    with pytest.raises(ToolError):
        mon.promql_string(value)


@given(st.one_of(st.text(max_size=30), st.from_regex(r"[a-z0-9](?:[-a-z0-9]{0,20}[a-z0-9])?", fullmatch=True)))
@hsettings(max_examples=200, deadline=None)
def test_environment_names_reach_promql_only_as_valid_matchers(name):
    """An environment name is either refused up front (fleet file checks) or lands in the rules as a matcher
    that parses and selects exactly that project."""
    doc = fleet_doc(TEST_MON)
    doc["spec"]["environments"].append({"name": name})
    try:
        fleet = from_dict(copy.deepcopy(doc))
        from converter.fleet.config import check_fleet_names

        check_fleet_names(fleet)
    except ToolError:
        return
    groups = mon.rule_groups(fleet, mon.settings(fleet))
    group = next(g for g in groups if g["name"] == f"tf2kro.argocd.{name}")
    for r in group["rules"]:
        matchers: dict[str, str] = {}

        def visit(node, *_, seen=matchers):
            if isinstance(node, promql_parser.VectorSelector):
                seen.update({m.name: m.value for m in node.matchers.matchers})
            return True

        promql_parser.walk(promql_parser.parse(r["expr"]), visit)
        assert matchers["project"] == name
    other = next(g for g in groups if g["name"] == "tf2kro.argocd.no-env")
    (sel,) = [m for m in re.findall(r'project!~("(?:[^"\\]|\\.)*")', other["rules"][0]["expr"])]
    regex = promql_parser.parse(f"m{{p=~{sel}}}").matchers.matchers[0].value
    assert re.fullmatch(regex, name) and not re.fullmatch(regex, name + "x")


def test_fleet_without_clusters_still_renders_valid_rules(tmp_path):
    doc = fleet_doc(TEST_MON)
    doc["spec"]["clusters"] = []
    doc["spec"]["applications"] = []
    doc["spec"]["traffic"]["records"] = []
    fleet = from_dict(doc)
    groups = mon.rule_groups(fleet, mon.settings(fleet))
    assert all(g["rules"] for g in groups) and "tf2kro.fleet" not in {g["name"] for g in groups}
    if PROMTOOL:
        (tmp_path / "rules.yml").write_text(yaml.safe_dump({"groups": groups}))
        res = subprocess.run([PROMTOOL, "check", "rules", str(tmp_path / "rules.yml")], capture_output=True, text=True)
        assert res.returncode == 0, res.stdout + res.stderr


def test_monitoring_block_is_validated():
    with pytest.raises(ToolError, match="monitoring"):
        from_dict(fleet_doc({"thresholds": {"outOfSyncMinute": 3}}))
    with pytest.raises(ToolError, match="monitoring.environments.qa"):
        mon.settings(make_fleet({"environments": {"qa": {"outOfSyncMinutes": 3}}}))
    with pytest.raises(ToolError, match="monitoring.hubCluster"):  # `$1` would expand in the relabeling
        mon.settings(make_fleet({"hubCluster": "hub$1"}))
    with pytest.raises(ToolError):
        from_dict(fleet_doc({"notifications": {"argocdURL": "https://x\ny"}}))
    defaults = mon.settings(make_fleet({}))
    assert defaults.thresholds == mon.DEFAULT_THRESHOLDS and defaults.hub_cluster == "hub"


# --------------------------------------------------------------------------------------------- dashboard


def test_dashboard_configmap_is_provisioned_by_the_sidecar(files):
    cm = _docs(files, "hub/monitoring/grafana-dashboard.yaml")[0]
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    (name, text), = cm["data"].items()
    assert name.endswith(".json")
    d = json.loads(text)
    ids = [p["id"] for p in d["panels"]]
    assert len(ids) == len(set(ids))
    # no two panels overlap on the grid
    cells = set()
    for p in d["panels"]:
        g = p["gridPos"]
        new = {(x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])}
        assert not cells & new, p["title"]
        assert g["x"] + g["w"] <= 24
        cells |= new
    variables = {v["name"] for v in d["templating"]["list"]}
    bad = copy.deepcopy(d)
    bad["templating"]["list"].append({"name": "x", "type": "query", "query": "query_result(up)"})
    with pytest.raises(ToolError, match="label_values"):
        mon.dashboard_exprs(bad)
    for e in mon.dashboard_exprs(d):
        for var in re.findall(r"\$(\w+)", e):
            assert var in variables, (var, e)


# --------------------------------------------------------------------------------------------- routing


def _matches(matcher: str, labels: dict) -> bool:
    m = re.fullmatch(r'(\w+)\s*(=~|!~|!=|=)\s*"(.*)"', matcher)
    assert m, matcher
    name, op, value = m.groups()
    have = labels.get(name, "")
    return {"=": have == value, "!=": have != value, "=~": bool(re.fullmatch(value, have)),
            "!~": not re.fullmatch(value, have)}[op]


def _receiver(route: dict, labels: dict) -> str:
    for child in route.get("routes", []):
        if all(_matches(x, labels) for x in child.get("matchers", [])):
            return _receiver(child, labels) if child.get("routes") else child["receiver"]
    return route["receiver"]


def test_alertmanager_example_routes_every_alert_to_a_team(files):
    cfg = yaml.safe_load(files["examples/alertmanager-route.yaml"])
    receivers = {r["name"] for r in cfg["receivers"]}
    seen = set()
    for r in _all_rules(files):
        if "alert" not in r:
            continue
        labels = {"alertname": r["alert"], **r["labels"]}
        rec = _receiver(cfg["route"], labels)
        assert rec in receivers and rec != cfg["route"]["receiver"], labels
        seen.add((r["alert"], labels.get("env"), rec))
    assert ("Tf2kroArgoCDAppDegraded", "prod", "platform-pager") in seen
    assert ("Tf2kroArgoCDAppDegraded", "staging", "platform-chat") in seen
    assert ("Tf2kroConstraintViolations", None, "compliance") in seen


# --------------------------------------------------------------------------------------------- notifications


def test_argocd_notifications_triggers_templates_and_subscriptions_are_wired(files):
    cm = _docs(files, "hub/monitoring/argocd-notifications.yaml")[0]
    assert cm["metadata"]["name"] == "argocd-notifications-cm" and cm["metadata"]["namespace"] == "argocd"
    data = {k: yaml.safe_load(v) for k, v in cm["data"].items()}
    triggers = {k.split(".", 1)[1]: v for k, v in data.items() if k.startswith("trigger.")}
    templates = {k.split(".", 1)[1]: v for k, v in data.items() if k.startswith("template.")}
    assert {"on-sync-failed", "on-health-degraded", "on-deployed"} <= set(triggers)
    for conds in triggers.values():
        for c in conds:
            assert c["when"] and set(c["send"]) <= set(templates)
    assert "pullRequestComment" in templates["app-deployed"]["github"]

    def strings(node):
        if isinstance(node, dict):
            for v in node.values():
                yield from strings(v)
        elif isinstance(node, str):
            yield node

    for tmpl in templates.values():  # Go templates are not executed offline: at least their blocks balance
        for text in strings(tmpl):
            opened = len(re.findall(r"\{\{-?\s*(?:if|range|with)\b", text))
            assert opened == len(re.findall(r"\{\{-?\s*end\s*-?\}\}", text)), text
            assert text.count("{{") == text.count("}}"), text
    for tmpl in templates.values():  # the Git source of single- and multi-source Applications
        assert "{{range $i, $s := .app.spec.sources}}" in tmpl["github"]["revisionPath"]
    assert data["service.github"]["privateKey"] == "$github-privateKey"  # a reference into the Secret
    assert data["service.slack"]["token"] == "$slack-token"
    (sub,) = data["subscriptions"]
    assert sub["recipients"] == ["slack:deploys", "github"] and set(sub["triggers"]) == set(triggers)
    assert data["context"] == {"argocdUrl": "https://argocd.example.com"}


def test_notifications_without_services_subscribe_nobody():
    cm = mon.notifications_configmap(make_fleet({}), mon.settings(make_fleet({})))
    assert "subscriptions" not in cm["data"] and "service.github" not in cm["data"]
    assert "trigger.on-deployed" in cm["data"]


# --------------------------------------------------------------------------------------------- drift metrics


_SCAN_AT = "2023-11-14T22:13:20+00:00"  # 1_700_000_000


def _drift_report(**over):
    doc = {"verdict": "findings", "generated_at": _SCAN_AT, "region": "eu-west-1",
           "summary": {"counts": {"drift": 2, "deleted": 1, "ignored": 4}, "resources": 17, "unknown": 0}}
    doc.update(over)
    return doc


def test_drift_metrics_exposition_from_a_diff_report(tmp_path):
    report = _drift_report()
    text = mon.drift_metrics(report, "staging", "platform")
    samples = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        sel, value = line.rsplit(" ", 1)
        promql_parser.parse(sel)  # the same label syntax
        samples[sel] = float(value)
    base = 'env="staging",root="platform"'
    assert samples[f'tf2kro_drift_findings{{{base},region="eu-west-1",class="drift"}}'] == 2
    assert samples[f'tf2kro_drift_findings{{{base},region="eu-west-1",class="unmanaged"}}'] == 0
    assert samples[f"tf2kro_terraform_state_instances{{{base}}}"] == 17
    assert samples[f"tf2kro_drift_last_run_timestamp_seconds{{{base}}}"] == 1_700_000_000  # the report's time
    assert not any("ignored" in k for k in samples)
    with pytest.raises(ToolError):
        mon.drift_metrics(report, "staging/../x", "platform")  # also a Pushgateway URL path segment
    with pytest.raises(ToolError):
        mon.drift_metrics({"findings": []}, "staging", "platform")
    (tmp_path / "r.json").write_text(json.dumps(report))
    res = CliRunner().invoke(main, ["inventory", "metrics", str(tmp_path / "r.json"), "--env", "staging", "--root", "platform"])
    assert res.exit_code == 0 and 'tf2kro_terraform_state_instances{env="staging",root="platform"} 17' in res.stdout
    res = CliRunner().invoke(main, ["inventory", "metrics", str(tmp_path / "missing.json"), "--env", "staging", "--root", "p"])
    assert res.exit_code == 2 and len(res.output.strip().splitlines()) == 1 and "missing.json" in res.output


@pytest.mark.parametrize("over", [
    {"verdict": "not-checked", "summary": {"counts": {}, "resources": 53, "unknown": 53}},
    {"verdict": "partially-checked", "summary": {"counts": {}, "resources": 53, "unknown": 3}},
    {"verdict": None},
    {"generated_at": None},
    {"generated_at": "yesterday"},
    {"generated_at": "2023-11-14T22:13:20"},  # no time zone: not UTC
    {"summary": None},
], ids=["not-checked", "partially-checked", "no-verdict", "no-timestamp", "bad-timestamp", "naive-timestamp",
        "no-summary"])
def test_drift_metrics_refuse_an_incomplete_or_undated_report(tmp_path, over):
    """A report that did not check everything (or cannot say when it ran) is exit 2, one line naming the report
    file, nothing on stdout: printed or pushed, it would be a false clean that resets the stale-scan alert."""
    report = {k: v for k, v in _drift_report(**over).items() if v is not None}
    path = tmp_path / "dj.out"
    path.write_text(json.dumps(report))
    res = CliRunner().invoke(main, ["inventory", "metrics", str(path), "--env", "dev", "--root", "dev",
                                    "--push", "http://127.0.0.1:9/"])
    assert res.exit_code == 2, res.output
    assert res.stdout == "" and len(res.stderr.strip().splitlines()) == 1 and str(path) in res.stderr, res.output
    assert "tf2kro_drift" not in res.output


def test_drift_metrics_of_a_real_diff_json_report(tmp_path):
    """`diff --format json` writes generated_at (the JUnit timestamp's source) and the metrics carry that time."""
    from converter.diff.report import render_json
    from tests.test_diff_failclosed import _report_with_live

    doc = json.loads(render_json(_report_with_live("x"), [], generated_at=_SCAN_AT))
    assert doc["generated_at"] == _SCAN_AT and doc["verdict"] == "findings"
    assert json.loads(render_json(_report_with_live("x"), []))["generated_at"].endswith("+00:00")
    text = mon.drift_metrics(doc, "dev", "dev", source="r.json")
    assert 'tf2kro_drift_last_run_timestamp_seconds{env="dev",root="dev"} 1700000000' in text


def test_drift_metrics_pushed_to_a_pushgateway(tmp_path):
    """`inventory metrics --push`: one PUT of the exposition to the group job/tf2kro-drift/env/E/root/R of a real
    HTTP server on 127.0.0.1; an unreachable or failing Pushgateway is one line, exit 2."""
    import http.server
    import socket
    import threading

    got: list[tuple[str, str, str, bytes]] = []

    class Gateway(http.server.BaseHTTPRequestHandler):
        def do_PUT(self):  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.append((self.command, self.path, self.headers["Content-Type"], body))
            self.send_response(500 if "fail" in self.path else 200)
            self.end_headers()

        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    report = tmp_path / "r.json"
    report.write_text(json.dumps(_drift_report(summary={"counts": {"drift": 3}, "resources": 9})))
    url = f"http://127.0.0.1:{srv.server_address[1]}/"
    try:
        res = CliRunner().invoke(main, ["inventory", "metrics", str(report), "--env", "prod", "--root", "network",
                                        "--push", url])
        assert res.exit_code == 0, res.output
        [(method, path, ctype, body)] = got
        assert (method, path) == ("PUT", "/metrics/job/tf2kro-drift/env/prod/root/network")
        assert ctype.startswith("text/plain") and b'class="drift"} 3' in body
        res = CliRunner().invoke(main, ["inventory", "metrics", str(report), "--env", "prod", "--root", "fail",
                                        "--push", url])
        assert res.exit_code == 2 and "HTTP 500" in res.output and len(res.output.strip().splitlines()) == 1
    finally:
        srv.shutdown()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    for bad in (f"http://127.0.0.1:{closed}", "file:///etc/passwd", "http://h/?q=1"):
        res = CliRunner().invoke(main, ["inventory", "metrics", str(report), "--env", "prod", "--root", "n", "--push", bad])
        assert res.exit_code == 2 and len(res.output.strip().splitlines()) == 1, (bad, res.output)


# --------------------------------------------------------------------------------------------- sync windows → mutes


def _muted(intervals, weekday: str, hhmm: str) -> bool:
    """Alertmanager semantics: a time interval matches on one of its weekdays, start inclusive, end exclusive."""
    return any(weekday in ti["weekdays"] and any(t["start_time"] <= hhmm < t["end_time"] for t in ti["times"])
               for ti in intervals)


def _window(kind, schedule, duration, tz="Europe/Dublin"):
    return {"kind": kind, "schedule": schedule, "duration": duration, "applications": ["*"], "timeZone": tz}


def test_sync_windows_become_alertmanager_mute_intervals():
    # the sample's prod: allow Mon-Thu 08:00 for 8h, deny from Friday 00:00 for 72h
    prod = [_window("allow", "0 8 * * 1-4", "8h"), _window("deny", "0 0 * * 5", "72h")]
    iv = mon.sync_blocked_intervals(prod)
    assert {ti["location"] for ti in iv} == {"Europe/Dublin"}
    for day in ("monday", "tuesday", "wednesday", "thursday"):
        assert not _muted(iv, day, "08:00") and not _muted(iv, day, "15:59")
        assert _muted(iv, day, "07:59") and _muted(iv, day, "16:00") and _muted(iv, day, "23:59")
    for day in ("friday", "saturday", "sunday"):
        assert _muted(iv, day, "00:00") and _muted(iv, day, "12:00") and _muted(iv, day, "23:59")
    # a deny window alone, across the end of the week (Saturday 22:00 + 4h)
    iv = mon.sync_blocked_intervals([_window("deny", "30 22 * * 6", "3h30m", tz="UTC")])
    assert _muted(iv, "saturday", "22:30") and _muted(iv, "sunday", "01:59")
    assert not _muted(iv, "saturday", "22:29") and not _muted(iv, "sunday", "02:00")
    assert not _muted(iv, "monday", "12:00")
    # not translated: other cron forms, several time zones; nothing to mute without windows
    assert mon.sync_blocked_intervals([_window("deny", "0 8 1 * *", "8h")]) is None
    assert mon.sync_blocked_intervals([_window("deny", "*/5 8 * * *", "8h")]) is None
    assert mon.sync_blocked_intervals([_window("deny", "0 0 * * 5", "72h", "UTC"), _window("deny", "0 0 * * 1", "1h")]) is None
    assert mon.sync_blocked_intervals([]) is None


def test_alertmanager_example_mutes_out_of_sync_only_inside_blocked_windows(files):
    cfg = yaml.safe_load(files["examples/alertmanager-route.yaml"])
    (prod,) = cfg["time_intervals"]
    assert prod["name"] == "prod-sync-blocked"
    first = cfg["route"]["routes"][0]
    assert first["mute_time_intervals"] == ["prod-sync-blocked"]
    assert _receiver(cfg["route"], {"alertname": "Tf2kroArgoCDAppOutOfSync", "env": "prod",
                                    "component": "gitops", "severity": "warning"}) == first["receiver"]
    # staging has no windows: its OutOfSync alerts are never muted; prod's Degraded still pages
    assert not any('env="staging"' in m for r in cfg["route"]["routes"] for m in r.get("matchers", [])
                   if r.get("mute_time_intervals"))
    assert _receiver(cfg["route"], {"alertname": "Tf2kroArgoCDAppDegraded", "env": "prod",
                                    "component": "gitops", "severity": "critical"}) == "platform-pager"
    doc = fleet_doc(TEST_MON)
    doc["spec"]["environments"][0]["syncWindows"] = [_window("deny", "0 8 1 * *", "8h")]
    text = mon.alertmanager_example(from_dict(doc))
    assert "Sync windows of dev not translated" in text
