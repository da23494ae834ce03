"""tf2kro fleet upgrade: add-on versions for the target version, ordered PR-sized steps with gates, a green
cluster that is created (never adopted) next to blue, ArgoCD registration, weighted Route53 traffic steps."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

from converter.cli import main
from converter.fleet.upgrade import choose_addon_versions
from converter.model import ToolError
from converter.pipeline import REPO_ROOT, SAMPLE_DIR

FLEET = REPO_ROOT / "samples" / "fleet.yaml"


def _v(version, *compat):
    return {"addonVersion": version, "architecture": ["amd64", "arm64"],
            "compatibilities": [{"clusterVersion": cv, "platformVersions": ["*"], "defaultVersion": d} for cv, d in compat]}


# the shape of `aws eks describe-addon-versions --kubernetes-version 1.31` (captured, trimmed)
DESCRIBE = {"addons": [
    {"addonName": "vpc-cni", "type": "networking", "addonVersions": [
        _v("v1.18.5-eksbuild.1", ("1.30", True), ("1.31", False)),
        _v("v1.19.0-eksbuild.1", ("1.31", True)),
        _v("v1.19.2-eksbuild.1", ("1.31", False), ("1.32", True))]},
    {"addonName": "coredns", "type": "networking", "addonVersions": [
        _v("v1.11.3-eksbuild.1", ("1.30", True), ("1.31", False)),
        _v("v1.11.4-eksbuild.2", ("1.31", False))]},
    {"addonName": "kube-proxy", "type": "networking", "addonVersions": [
        _v("v1.30.3-eksbuild.5", ("1.30", True)),
        _v("v1.31.2-eksbuild.3", ("1.31", True))]},
    {"addonName": "aws-ebs-csi-driver", "type": "storage", "addonVersions": [
        _v("v1.37.0-eksbuild.1", ("1.30", True), ("1.31", True))]},
    {"addonName": "eks-pod-identity-agent", "type": "security", "addonVersions": [
        _v("v1.3.4-eksbuild.1", ("1.31", True)), _v("v1.3.2-eksbuild.2", ("1.30", True))]},
], "nextToken": None}


def test_choose_prefers_default_then_newest_compatible():
    chosen = choose_addon_versions(DESCRIBE, {"vpc-cni": "v1.18.5-eksbuild.1", "coredns": "v1.11.3-eksbuild.1",
                                              "kube-proxy": "v1.30.3-eksbuild.5"}, "1.31")
    assert chosen["vpc-cni"]["to"] == "v1.19.0-eksbuild.1"  # the 1.31 default, not the newest (1.32 default)
    assert chosen["coredns"]["to"] == "v1.11.4-eksbuild.2"  # no default for 1.31: newest compatible
    assert chosen["kube-proxy"]["to"] == "v1.31.2-eksbuild.3"
    assert "v1.30.3-eksbuild.5" not in chosen["kube-proxy"]["compatibleVersions"]


def test_choose_fails_when_an_addon_has_no_compatible_version():
    with pytest.raises(ToolError, match="kube-proxy"):
        choose_addon_versions(DESCRIBE, {"kube-proxy": "v1.30.3-eksbuild.5"}, "1.33")


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("upg")
    f = tmp / "addons.json"
    f.write_text(json.dumps(DESCRIBE))
    out = tmp / "out"
    res = CliRunner().invoke(main, ["fleet", "upgrade", "--config", str(FLEET), "--cluster", "platform-staging",
                                    "--to", "1.31", "--addon-versions", str(f), "--out", str(out), "--env", "staging"],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return out


def _docs(path):
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def test_steps_are_ordered_with_gates(plan):
    dirs = sorted(p.name for p in plan.iterdir() if p.is_dir() and p.name != ".tf2kro")
    assert dirs == ["01-green-cluster", "02-irsa-trust", "03-addons", "04-register-in-argocd", "05-workloads-wave-1",
                    "06-traffic-10", "07-traffic-50", "08-traffic-100", "09-decommission-blue", "abort", "argocd"]
    dirs = dirs[:-2]
    for d in dirs:
        readme = (plan / d / "README.md").read_text()
        assert "## Gate" in readme, d
    summary = json.loads((plan / "upgrade.json").read_text())
    assert [s["dir"] for s in summary["steps"]] == dirs
    assert summary["addons"] == {"aws-ebs-csi-driver": "v1.37.0-eksbuild.1", "coredns": "v1.11.4-eksbuild.2",
                                 "eks-pod-identity-agent": "v1.3.4-eksbuild.1", "kube-proxy": "v1.31.2-eksbuild.3",
                                 "vpc-cni": "v1.19.0-eksbuild.1"}


def test_green_cluster_is_created_not_adopted(plan):
    [rgd] = _docs(plan / "01-green-cluster" / "rgd.yaml")
    [inst] = _docs(plan / "01-green-cluster" / "instance.yaml")
    assert inst["kind"] == rgd["spec"]["schema"]["kind"] == "StagingEstateGreenCluster"
    assert inst["spec"]["clusterName"] == "platform-staging-green" and inst["spec"]["clusterVersion"] == "1.31"
    templates = [r["template"] for r in rgd["spec"]["resources"] if "template" in r]
    refs = [r["externalRef"] for r in rgd["spec"]["resources"] if "externalRef" in r]
    kinds = sorted(t["kind"] for t in templates)
    assert kinds == ["AccessEntry", "AccessEntry", "Cluster", "Nodegroup", "Nodegroup", "OpenIDConnectProvider"]
    assert {r["kind"] for r in refs} >= {"Subnet", "Role", "SecurityGroup", "Key", "LaunchTemplate"}
    for t in templates:
        ann = t["metadata"]["annotations"]
        assert "services.k8s.aws/adoption-policy" not in ann and "services.k8s.aws/adoption-fields" not in ann
        assert ann["services.k8s.aws/deletion-policy"] == "retain"
        assert t["metadata"]["labels"]["tf2kro.dev/lifecycle"] == "created"
        assert t["metadata"]["name"].endswith("-green")
        if t["kind"] == "Nodegroup":
            assert t["spec"]["version"] == "${schema.spec.clusterVersion}" and "releaseVersion" not in t["spec"]
    [cl] = [t for t in templates if t["kind"] == "Cluster"]
    assert cl["spec"]["name"] == "${schema.spec.clusterName}" and cl["spec"]["version"] == "${schema.spec.clusterVersion}"
    [c] = [d for d in _docs(plan / "01-green-cluster" / "gatekeeper-allowed-versions.yaml") if d["kind"] == "EksAllowedVersions"]
    assert "1.31" in c["spec"]["parameters"]["versions"]


def test_addons_use_chosen_versions(plan):
    addons = [d for d in _docs(plan / "03-addons" / "addons.yaml") if d["kind"] == "Addon"]
    assert {a["spec"]["name"]: a["spec"]["addonVersion"] for a in addons} == json.loads(
        (plan / "upgrade.json").read_text())["addons"]
    assert all(a["spec"]["clusterName"] == "platform-staging-green" for a in addons)
    rec = json.loads((plan / "03-addons" / "addon-versions.json").read_text())
    assert rec["kubernetesVersion"] == "1.31" and rec["addons"]["vpc-cni"]["from"] == "v1.18.5-eksbuild.1"


def test_argocd_registration_labels_green(plan):
    [rgd] = _docs(plan / "04-register-in-argocd" / "rgd.yaml")
    secret = next(r["template"] for r in rgd["spec"]["resources"] if "template" in r)
    # not selected by the fleet's ApplicationSets (blue, green): the waves move apps one by one
    assert secret["metadata"]["labels"]["cluster-generation"] == "green-staged"
    assert secret["metadata"]["labels"]["argocd.argoproj.io/secret-type"] == "cluster"
    assert secret["stringData"]["server"] == "${greenCluster.status.endpoint}"
    assert "awsAuthConfig" in secret["stringData"]["config"]
    [blue] = _docs(plan / "04-register-in-argocd" / "blue-cluster-secret.yaml")
    assert blue["metadata"]["labels"]["cluster-generation"] == "blue"


def test_traffic_steps_are_weighted_route53_records(plan):
    for d, w in (("06-traffic-10", 10), ("07-traffic-50", 50), ("08-traffic-100", 100)):
        recs = {r["spec"]["setIdentifier"]: r for r in _docs(plan / d / "recordsets.yaml")}
        assert recs["green"]["spec"]["weight"] == w and recs["blue"]["spec"]["weight"] == 100 - w
        assert recs["green"]["apiVersion"] == "route53.services.k8s.aws/v1alpha1"
        assert recs["green"]["spec"]["resourceRecords"] == [{"value": "ingress.platform-staging-green.example.com"}]
        gates = {g["metadata"]["name"] for g in _docs(plan / d / "gates.yaml")}
        assert gates == {f"smoke-{d[:2]}", f"compare-{d[:2]}", f"rollback-{d[:2]}"}


def test_decommission_is_last_and_only_deletes_cluster_bound_objects(plan):
    [rgd] = _docs(plan / "09-decommission-blue" / "replace" / "cluster" / "rgd.yaml")
    for r in rgd["spec"]["resources"]:
        t = r.get("template")
        if not t:
            continue
        pol = t["metadata"]["annotations"]["services.k8s.aws/deletion-policy"]
        if t["kind"] in ("Cluster", "Nodegroup", "AccessEntry"):
            assert pol == "delete" and t["metadata"]["labels"]["tf2kro.dev/lifecycle"] == "decommission"
        else:
            assert pol == "retain", t["kind"]


def test_upgrade_output_validates(plan):
    from converter.validate.runner import validate_tree

    rep = validate_tree(plan, [])
    errors = [f for f in rep.findings if f.severity == "error"]  # on its own: the constraint's template included
    assert not errors, "\n".join(map(str, errors))


def test_upgrade_output_passes_policies_and_has_no_secret(plan):
    from converter.fleet.config import load_fleet
    from converter.fleet.render import fleet_policies
    from converter.validate.policy import evaluate, format_report, subjects_from_tree

    rep = evaluate(fleet_policies(load_fleet(FLEET), extra_versions=["1.31"]), subjects_from_tree(plan))
    assert rep.denied == [], format_report(rep)
    blob = "".join(p.read_text() for p in plan.rglob("*") if p.is_file())
    for s in ("S3cr3t-sample-PW-do-not-leak-9f2c", "FAKE-SAMPLE-TOKEN-DO-NOT-LEAK",
              "U0FNUExFLUZMVVgtREVQTE9ZLUtFWS1ETy1OT1QtTEVBSy05ZjJj"):
        assert s not in blob


def test_upgrade_rejects_older_version(tmp_path):
    f = tmp_path / "a.json"
    f.write_text(json.dumps(DESCRIBE))
    res = CliRunner().invoke(main, ["fleet", "upgrade", "--config", str(FLEET), "--cluster", "platform-staging",
                                    "--to", "1.29", "--addon-versions", str(f), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "not newer" in res.output


def test_describe_addon_versions_api_is_read_only_and_paginated(monkeypatch):
    """Without --addon-versions the EKS API is called through the guarded factory (moto lacks the API: answered by
    a botocore before-send hook): paginated, counted, and only DescribeAddonVersions is sent."""
    from converter.diff.aws import AwsClients
    from converter.fleet import upgrade
    from tests.stubbed_aws import json_response

    for k, v in (("AWS_ACCESS_KEY_ID", "x"), ("AWS_SECRET_ACCESS_KEY", "y")):
        monkeypatch.setenv(k, v)
    pages = [{"addons": [DESCRIBE["addons"][0]], "nextToken": "t1"}, {"addons": []}]
    seen = []

    def answer(request, event_name="", **kw):
        seen.append((event_name, request.url))
        return json_response(request, pages[len(seen) - 1])

    clients = AwsClients(region="eu-west-1", max_attempts=1, extra_handlers=[("before-send.eks", answer)])
    got = upgrade.fetch_addon_versions("1.31", ["vpc-cni"], clients)
    assert [e for e, _ in seen] == ["before-send.eks.DescribeAddonVersions"] * 2
    assert "nextToken=t1" in seen[1][1] and "kubernetesVersion=1.31" in seen[0][1]
    assert clients.calls[("eks", "DescribeAddonVersions")] == 2
    assert [a["addonName"] for a in got["addons"]] == ["vpc-cni"]
    assert choose_addon_versions(got, {"vpc-cni": "v1"}, "1.31")["vpc-cni"]["to"] == "v1.19.0-eksbuild.1"


def test_green_reads_blue_objects_under_the_names_convert_emits(plan, tmp_path):
    """The green RGD's externalRefs name blue's objects exactly as `tf2kro convert --env staging` named them
    (one naming function: converter/emit/naming.py), in another RGD kind and instance than blue's phase."""
    [rgd] = _docs(plan / "01-green-cluster" / "rgd.yaml")
    refs = {(r["externalRef"]["kind"], r["externalRef"]["metadata"]["name"])
            for r in rgd["spec"]["resources"] if "externalRef" in r}
    out = tmp_path / "conv"
    res = CliRunner().invoke(main, ["convert", "--state", str(SAMPLE_DIR / "terraform.tfstate"), "--env", "staging",
                                    "--out", str(out)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    blue = {(r["template"]["kind"], r["template"]["metadata"]["name"]): f.parent.name
            for f in out.glob("*/rgd.yaml") for d in _docs(f) for r in d["spec"]["resources"] if "template" in r}
    assert refs and refs <= set(blue), sorted(refs - set(blue))
    blue_kinds = {d["spec"]["schema"]["kind"] for f in out.glob("*/rgd.yaml") for d in _docs(f)}
    assert rgd["spec"]["schema"]["kind"] not in blue_kinds


def test_upgrade_of_a_cluster_missing_from_the_state_is_refused(tmp_path):
    # platform-prod-use1 is in the fleet file but not in the sample state: never build green from another cluster
    f = tmp_path / "a.json"
    f.write_text(json.dumps(DESCRIBE))
    res = CliRunner().invoke(main, ["fleet", "upgrade", "--config", str(FLEET), "--cluster", "platform-prod-use1",
                                    "--to", "1.31", "--addon-versions", str(f), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1, res.output
    assert "platform-prod-use1" in lines[0] and "terraform.tfstate" in lines[0] and "aws_eks_cluster" in lines[0]
    assert not (tmp_path / "o").exists()


def _two_cluster_state(tmp_path):
    """The sample state plus a second cluster (`platform-other`) with its own node groups, access entries, add-ons."""
    doc = json.loads((SAMPLE_DIR / "terraform.tfstate").read_text())
    extra = []
    for r in doc["resources"]:
        if r["type"].startswith("aws_eks_") and r.get("mode") == "managed":
            r2 = json.loads(json.dumps(r).replace("platform-staging", "platform-other"))
            r2["name"] = "other"
            extra.append(r2)
    doc["resources"].extend(extra)
    p = tmp_path / "two.tfstate"
    p.write_text(json.dumps(doc))
    return p


def test_green_and_decommission_take_only_the_upgraded_clusters_objects(tmp_path):
    f = tmp_path / "a.json"
    f.write_text(json.dumps(DESCRIBE))
    out = tmp_path / "o"
    res = CliRunner().invoke(main, ["fleet", "upgrade", "--config", str(FLEET), "--cluster", "platform-staging",
                                    "--to", "1.31", "--addon-versions", str(f), "--out", str(out), "--env", "staging",
                                    "--state", str(_two_cluster_state(tmp_path)), "--hcl", str(SAMPLE_DIR)])
    assert res.exit_code == 0, res.output
    green = [d for p in out.rglob("*.yaml") if "decommission" not in str(p) for d in _docs(p)]
    assert "platform-other" not in yaml.safe_dump_all(green)
    decommission = [d for p in out.rglob("*.yaml") if "decommission" in str(p) for d in _docs(p)]
    assert decommission
    for d in decommission:
        for r in (d.get("spec") or {}).get("resources") or []:
            t = r.get("template") or {}
            if "platform-other" in json.dumps(t):
                assert (t["metadata"].get("annotations") or {}).get("services.k8s.aws/deletion-policy") != "delete", t


def test_tf2kro_validate_passes_on_the_upgrade_tree_alone(plan):
    # the widened EksAllowedVersions constraint ships with its ConstraintTemplate: no hub tree needed next to it
    res = CliRunner().invoke(main, ["validate", str(plan)])
    assert res.exit_code == 0, res.output
    docs = _docs(plan / "01-green-cluster" / "gatekeeper-allowed-versions.yaml")
    kinds = [d["kind"] for d in docs]
    assert kinds[0] == "ConstraintTemplate" and "EksAllowedVersions" in kinds
