"""tf2kro fleet addons: add-on bumps proposed dev → staging → prod from captured EKS / Helm responses, refusals
(incompatible version, configurationValues the new schema rejects, kubeVersion), smoke Jobs, and outputs that
pass `tf2kro validate` and `kubectl kustomize`."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from converter.cli import main
from converter.fleet import addons as ad
from converter.fleet import argocd
from converter.fleet.config import from_dict
from converter.model import ToolError
from converter.pipeline import REPO_ROOT

FLEET = REPO_ROOT / "samples" / "fleet.yaml"
DATA = REPO_ROOT / "tests" / "data" / "addons"
VERSIONS = DATA / "describe-addon-versions.json"
CONFIGS = DATA / "config"
INDEX = DATA / "eks-charts-index.yaml"
GOLDEN_CONVERT = REPO_ROOT / "samples" / "expected" / "convert"

# what `aws eks describe-addon` reports per cluster (captured shape, trimmed to the fields tf2kro reads)
INSTALLED = {
    "platform-dev": [
        {"addon": {"addonName": "vpc-cni", "clusterName": "platform-dev", "addonVersion": "v1.18.5-eksbuild.1",
                   "status": "ACTIVE", "configurationValues": '{"env":{"ENABLE_PREFIX_DELEGATION":"true"}}'}},
        {"addon": {"addonName": "coredns", "clusterName": "platform-dev", "addonVersion": "v1.11.3-eksbuild.1"}},
        {"addon": {"addonName": "kube-proxy", "clusterName": "platform-dev", "addonVersion": "v1.30.3-eksbuild.5"}},
    ],
    "platform-staging": [
        {"addon": {"addonName": "vpc-cni", "clusterName": "platform-staging", "addonVersion": "v1.18.5-eksbuild.1",
                   "configurationValues": '{"env":{"ENABLE_PREFIX_DELEGATION":"true","WARM_PREFIX_TARGET":"1"}}'}},
        {"addon": {"addonName": "coredns", "clusterName": "platform-staging", "addonVersion": "v1.11.3-eksbuild.1"}},
        {"addon": {"addonName": "kube-proxy", "clusterName": "platform-staging", "addonVersion": "v1.30.3-eksbuild.5"}},
    ],
    "platform-prod": [
        {"addon": {"addonName": "vpc-cni", "clusterName": "platform-prod", "addonVersion": "v1.18.5-eksbuild.1"}},
        {"addon": {"addonName": "coredns", "clusterName": "platform-prod", "addonVersion": "v1.11.3-eksbuild.1"}},
        {"addon": {"addonName": "kube-proxy", "clusterName": "platform-prod", "addonVersion": "v1.29.10-eksbuild.3"}},
    ],
}


def _fleet_doc(soak="3d"):
    """The sample fleet's staging cluster with a dev (1.30) and a prod (1.29) cluster next to it, the ALB controller
    in all three environments (the sample's hand-added second-account cluster left out: INSTALLED has no data
    for it, which is `not checked`, tested on its own)."""
    doc = yaml.safe_load(FLEET.read_text())
    spec = doc["spec"]
    base = spec["clusters"][0]
    spec["clusters"] = [base]
    for name, env, ver in (("platform-dev", "dev", "1.30"), ("platform-prod", "prod", "1.29")):
        c = copy.deepcopy(base)
        c.update(name=name, env=env, version=ver, server=f"https://{name}.example.com")
        spec["clusters"].append(c)
    spec["applications"][0]["envs"] = ["dev", "staging", "prod"]
    spec["addons"] = {"soak": soak}
    del spec["source"]
    return doc


@pytest.fixture
def files(tmp_path):
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(yaml.safe_dump(_fleet_doc()))
    inst = tmp_path / "installed.json"
    inst.write_text(json.dumps({"clusters": INSTALLED}))
    return fleet, inst


def _run(fleet, inst, out, *extra):
    return CliRunner().invoke(main, ["fleet", "addons", "--config", str(fleet), "--installed", str(inst),
                                     "--addon-versions", str(VERSIONS), "--addon-config", str(CONFIGS),
                                     "--helm-index", f"aws-load-balancer-controller={INDEX}", "--offline",
                                     "--out", str(out), *extra], catch_exceptions=False)


def _docs(path):
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def test_dev_first_bumps_gated_on_the_previous_environment(files, tmp_path):
    out = tmp_path / "out"
    res = _run(*files, out)
    assert res.exit_code == 1, res.output  # bumps proposed (and kube-proxy refused on prod)
    summary = json.loads((out / "addons.json").read_text())
    cni = [b for b in summary["bumps"] if b["addon"] == "vpc-cni"]
    assert [b["env"] for b in cni] == ["dev", "staging", "prod"]
    assert [b["after"] for b in cni] == [None, "dev", "staging"]
    # one version promoted: the newest every cluster running it can take
    assert {b["to"] for b in cni} == {"v1.19.2-eksbuild.1"}
    dirs = sorted(p.name for p in out.iterdir() if p.is_dir() and not p.name.startswith("."))
    assert dirs[0].startswith("01-dev-")
    envs_in_order = [d.split("-")[1] for d in dirs]
    assert envs_in_order == sorted(envs_in_order, key=["dev", "staging", "prod"].index)
    staging = next(d for d in dirs if d.endswith("staging-eks-vpc-cni"))
    gate = json.loads((out / staging / "gate.json").read_text())
    assert gate["requires"]["env"] == "dev" and gate["requires"]["soak"] == "3d"
    assert gate["requires"]["soakSeconds"] == 3 * 86400
    readme = (out / staging / "README.md").read_text()
    assert "Do not merge before **dev** has run vpc-cni v1.19.2-eksbuild.1 for **3d**" in readme
    assert "smoke-vpc-cni" in readme
    addon = _docs(out / next(d for d in dirs if d.endswith("dev-eks-vpc-cni")) / "change" / "addons.yaml")[0]
    assert addon["kind"] == "Addon" and addon["spec"]["addonVersion"] == "v1.19.2-eksbuild.1"
    assert addon["spec"]["clusterName"] == "platform-dev"
    assert json.loads(addon["spec"]["configurationValues"]) == {"env": {"ENABLE_PREFIX_DELEGATION": "true"}}
    assert json.loads(addon["metadata"]["annotations"]["services.k8s.aws/adoption-fields"]) == {
        "clusterName": "platform-dev", "name": "vpc-cni"}


def test_incompatible_version_is_refused(files, tmp_path):
    """kube-proxy has no version for both 1.30 and 1.29: the dev/staging version is refused on the 1.29 prod
    cluster, and a pinned 1.31 build is refused on every 1.30 cluster (never proposed)."""
    out = tmp_path / "out"
    res = _run(*files, out)
    summary = json.loads((out / "addons.json").read_text())
    kp = [r for r in summary["refused"] if r["addon"] == "kube-proxy"]
    assert [(r["cluster"], r["version"]) for r in kp] == [("platform-prod", "v1.30.6-eksbuild.3")]
    assert "not compatible with Kubernetes 1.29" in kp[0]["reason"]
    assert "refused: platform-prod/kube-proxy v1.30.6-eksbuild.3" in res.output
    assert not any(b["addon"] == "kube-proxy" and b["env"] == "prod" for b in summary["bumps"])

    out2 = tmp_path / "out2"
    res = _run(*files, out2, "--pin", "kube-proxy=v1.31.2-eksbuild.3")
    assert res.exit_code == 1
    summary = json.loads((out2 / "addons.json").read_text())
    assert not any(b["addon"] == "kube-proxy" for b in summary["bumps"])
    refused = {r["cluster"]: r["reason"] for r in summary["refused"] if r["addon"] == "kube-proxy"}
    assert set(refused) == {"platform-dev", "platform-staging", "platform-prod"}
    assert "not compatible with Kubernetes 1.30" in refused["platform-dev"]
    assert not list(out2.glob("*kube-proxy*"))


def test_invalid_configuration_values_are_refused(files, tmp_path):
    fleet, _ = files
    bad = copy.deepcopy(INSTALLED)
    bad["platform-staging"][0]["addon"]["configurationValues"] = '{"env":{"WARM_PREFIX_TARGET":"one"},"bogus":1}'
    inst = tmp_path / "bad.json"
    inst.write_text(json.dumps({"clusters": bad}))
    out = tmp_path / "out"
    res = _run(fleet, inst, out)
    assert res.exit_code == 1
    summary = json.loads((out / "addons.json").read_text())
    (r,) = [r for r in summary["refused"] if r["addon"] == "vpc-cni" and r["env"] == "staging"]
    assert r["cluster"] == "platform-staging"
    assert "do not match the vpc-cni v1.19.2-eksbuild.1 schema" in r["reason"]
    assert "env/WARM_PREFIX_TARGET" in r["reason"] and "bogus" in r["reason"]
    # dev still moves; prod is held (it never skips the environment that could not take the version)
    assert [b["env"] for b in summary["bumps"] if b["addon"] == "vpc-cni"] == ["dev"]
    (held,) = [r for r in summary["refused"] if r["addon"] == "vpc-cni" and r["cluster"] == "platform-prod"]
    assert held["reason"].startswith("held: staging cannot take v1.19.2-eksbuild.1")

    # new values given on the command line are validated the same way, for every cluster
    vals = tmp_path / "cni.yaml"
    vals.write_text("env:\n  ENABLE_POD_ENI: maybe\n")
    res = _run(*files, tmp_path / "out2", "--configuration-values", f"vpc-cni={vals}")
    summary = json.loads((tmp_path / "out2" / "addons.json").read_text())
    assert not any(b["addon"] == "vpc-cni" for b in summary["bumps"])
    assert {r["cluster"] for r in summary["refused"] if r["addon"] == "vpc-cni"} == {
        "platform-dev", "platform-staging", "platform-prod"}


def test_missing_schema_is_not_checked_exit_2(files, tmp_path):
    fleet, inst = files
    res = CliRunner().invoke(main, ["fleet", "addons", "--config", str(fleet), "--installed", str(inst),
                                    "--addon-versions", str(VERSIONS), "--offline", "--out", str(tmp_path / "o")],
                             catch_exceptions=False)
    assert res.exit_code == 2
    summary = json.loads((tmp_path / "o" / "addons.json").read_text())
    assert any("no configuration schema" in n["reason"] for n in summary["notChecked"])
    assert any(n["what"].startswith("chart aws-load-balancer-controller") for n in summary["notChecked"])
    # coredns has no configurationValues: still proposed
    assert any(b["addon"] == "coredns" for b in summary["bumps"])


def test_everything_current_exits_0(tmp_path):
    doc = _fleet_doc()
    doc["spec"]["applications"] = []
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(yaml.safe_dump(doc))
    inst = tmp_path / "i.json"
    inst.write_text(json.dumps({"clusters": {c: [{"addonName": "coredns", "addonVersion": "v1.11.4-eksbuild.2"}]
                                             for c in ("platform-dev", "platform-staging", "platform-prod")}}))
    res = _run(fleet, inst, tmp_path / "o")
    assert res.exit_code == 0, res.output
    assert "No bumps" in (tmp_path / "o" / "README.md").read_text()


def test_helm_bump_respects_kube_version_and_is_env_by_env(files, tmp_path):
    out = tmp_path / "out"
    _run(*files, out)
    summary = json.loads((out / "addons.json").read_text())
    alb = [b for b in summary["bumps"] if b["addon"] == "aws-load-balancer-controller"]
    # 1.13.0 needs Kubernetes >= 1.32, 1.12.0-rc.1 is a pre-release: 1.11.0 is the newest that fits
    assert [(b["env"], b["to"], b["after"]) for b in alb] == [("dev", "1.11.0", None), ("staging", "1.11.0", "dev"),
                                                               ("prod", "1.11.0", "staging")]
    fl = from_dict(_fleet_doc())
    app = fl.applications[0]
    by_env = {}
    for b in alb:
        d = next(out.glob(f"*-{b['env']}-helm-aws-load-balancer-controller"))
        (aset,) = _docs(d / "change" / "applicationset.yaml")
        by_env[b["env"]] = aset
    # render the ApplicationSet the way ArgoCD does for each cluster: only environments whose PR merged move
    for pr_env, expect in (("dev", {"dev": "1.11.0", "staging": "1.9.2", "prod": "1.9.2"}),
                           ("staging", {"dev": "1.11.0", "staging": "1.11.0", "prod": "1.9.2"}),
                           ("prod", {"dev": "1.11.0", "staging": "1.11.0", "prod": "1.11.0"})):
        rev = by_env[pr_env]["spec"]["template"]["spec"]["sources"][0]["targetRevision"]
        for c in fl.clusters:
            params = argocd.generator_params(fl, c, app, c.env)
            assert _go_if(rev, params["path"]["basename"]) == expect[c.env], (pr_env, c.name)
        assert json.loads(by_env[pr_env]["metadata"]["annotations"]["tf2kro.dev/chart-versions"]) == expect

    res = _run(*files, tmp_path / "o2", "--pin", "aws-load-balancer-controller=1.13.0")
    summary = json.loads((tmp_path / "o2" / "addons.json").read_text())
    refused = [r for r in summary["refused"] if r["addon"] == "aws-load-balancer-controller"]
    assert len(refused) == 3 and all("requires kubeVersion '>= 1.32.0-0'" in r["reason"] for r in refused)
    assert res.exit_code == 1


def _go_if(rev: str, basename: str) -> str:
    """Evaluate the Go-template subset the pipeline emits (`{{if C}}A{{else}}B{{end}}`, C = `eq .path.basename "x"`
    or `or (eq …) (eq …)`) the way text/template does; a plain version is returned as is."""
    import re

    m = re.fullmatch(r"\{\{if (.+?)\}\}([^{}]+)\{\{else\}\}([^{}]+)\{\{end\}\}", rev)
    if not m:
        assert "{" not in rev
        return rev
    cond = m[1]
    envs = re.findall(r'eq \.path\.basename "([a-z0-9-]+)"', cond)
    assert cond in (f'eq .path.basename "{envs[0]}"', "or " + " ".join(f'(eq .path.basename "{e}")' for e in envs))
    return m[2] if basename in envs else m[3]


def test_smoke_jobs_cover_the_issue_checks():
    s = ad.Settings(storage_class="gp3")
    scripts = {}
    for addon in ("vpc-cni", "kube-proxy", "coredns", "aws-ebs-csi-driver"):
        objs = ad.smoke_objects(addon, s)
        kinds = [o["kind"] for o in objs]
        assert {"ServiceAccount", "Role", "RoleBinding", "ConfigMap", "Job", "Namespace"} <= set(kinds)
        job = next(o for o in objs if o["kind"] == "Job")
        cm = next(o for o in objs if o["kind"] == "ConfigMap")
        pod = job["spec"]["template"]["spec"]
        assert pod["serviceAccountName"] == next(o for o in objs if o["kind"] == "ServiceAccount")["metadata"]["name"]
        run = pod["containers"][0]["command"][2]
        assert all(f"/scripts/{name}" in run for name in cm["data"])
        scripts[addon] = cm["data"]
    assert "rollout status" in scripts["vpc-cni"]["daemonset-rollout.sh"]
    assert "podIP" in scripts["vpc-cni"]["pod-gets-ip.sh"]
    assert "nslookup" in scripts["coredns"]["dns-resolves.sh"]
    ebs = scripts["aws-ebs-csi-driver"]["ebs-volume.sh"]
    assert "PersistentVolumeClaim" in ebs and "--for=delete" in ebs
    env = {e["name"]: e["value"] for e in next(o for o in ad.smoke_objects("aws-ebs-csi-driver", s)
                                                if o["kind"] == "Job")["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["STORAGE_CLASS"] == "gp3" and env["WORKLOAD"] == "daemonset/ebs-csi-node"
    assert ad.smoke_objects("some-marketplace-addon", s) == []


@pytest.mark.skipif(not shutil.which("sh"), reason="no sh")
def test_smoke_scripts_parse():
    for f in ad.SMOKE_DIR.glob("*.sh"):
        assert subprocess.run(["sh", "-n", str(f)], capture_output=True).returncode == 0, f.name


def test_outputs_validate_and_kustomize(files, tmp_path):
    out = tmp_path / "out"
    _run(*files, out)
    res = CliRunner().invoke(main, ["validate", str(out)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "0 errors" in res.output
    if not shutil.which("kubectl"):
        pytest.skip("kubectl not installed: kustomize check skipped")
    kdirs = sorted(p.parent for p in out.rglob("kustomization.yaml"))
    assert kdirs
    for d in kdirs:
        r = subprocess.run(["kubectl", "kustomize", str(d)], capture_output=True, text=True)
        assert r.returncode == 0, (d, r.stderr)


def test_state_path_patches_the_convert_rgd(tmp_path):
    """From the sample state, a bump of an Addon that `tf2kro convert` put in its RGD is a kustomize Component with
    a JSON patch (test name + current version, replace version): applied to the convert golden it moves exactly
    that add-on."""
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["fleet", "addons", "--config", str(FLEET), "--addon-versions", str(VERSIONS),
                                    "--addon-config", str(CONFIGS), "--offline", "--root", "sample",
                                    "--helm-index", f"aws-load-balancer-controller={INDEX}", "--out", str(out)],
                             catch_exceptions=False)
    # the sample's hand-added second-account cluster is in no state: not checked (2), the bumps are still written
    assert res.exit_code == 2, res.output
    assert "not checked: cluster platform-prod-use1" in res.output
    (d,) = out.glob("*-staging-eks-vpc-cni")
    comp = _docs(d / "rgd-patch" / "kustomization.yaml")[0]
    assert comp["kind"] == "Component"
    rgd = yaml.safe_load((GOLDEN_CONVERT / "addons" / "rgd.yaml").read_text())
    assert comp["patches"][0]["target"]["name"] == rgd["metadata"]["name"]
    if not shutil.which("kubectl"):
        pytest.skip("kubectl not installed: kustomize check skipped")
    work = tmp_path / "k"
    shutil.copytree(GOLDEN_CONVERT / "addons", work / "addons")
    shutil.copytree(d / "rgd-patch", work / "patch")
    with open(work / "addons" / "kustomization.yaml", "a") as fh:
        fh.write("components:\n- ../patch\n")
    r = subprocess.run(["kubectl", "kustomize", str(work / "addons")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    built = next(x for x in yaml.safe_load_all(r.stdout) if x["kind"] == "ResourceGraphDefinition")
    versions = {t["spec"]["name"]: t["spec"]["addonVersion"] for t in
                (res_["template"] for res_ in built["spec"]["resources"] if "template" in res_)
                if t["kind"] == "Addon"}
    before = {t["spec"]["name"]: t["spec"]["addonVersion"] for t in
              (res_["template"] for res_ in rgd["spec"]["resources"] if "template" in res_) if t["kind"] == "Addon"}
    assert versions == {**before, "vpc-cni": "v1.19.2-eksbuild.1"}


# --------------------------------------------------------------------------------------------- semver / kubeVersion


@pytest.mark.parametrize(("constraint", "version", "ok"), [
    (">=1.23.0-0", "1.30.0-eks", True),
    (">= 1.22.0", "1.30.0-eks", False),  # Helm refuses EKS's pre-release-looking version without `-0`
    (">=1.23.0-0 <1.30.0-0", "1.30.0-eks", False),
    (">=1.23.0-0, <1.31.0-0", "1.30.0-eks", True),
    ("^1.2.3", "1.9.0", True), ("^1.2.3", "2.0.0", False), ("^0.2.3", "0.3.0", False),
    ("~1.2.3", "1.2.9", True), ("~1.2.3", "1.3.0", False), ("~1", "1.9.9", True),
    ("1.2.x", "1.2.7", True), ("1.2.x", "1.3.0", False), ("1.2", "1.2.5", True),
    ("1.2 - 1.4.5", "1.4.5", True), ("1.2 - 1.4.5", "1.4.6", False),
    ("<1.20 || >=1.28.0-0", "1.30.0-eks", True), ("<1.20 || >=1.31.0-0", "1.30.0-eks", False),
    ("!=1.25.0", "1.25.0", False), (">1.29", "1.29.5", False), (">1.29", "1.30.0", True),
    ("<=1.29", "1.29.9", True), ("<=1.29", "1.30.0", False),
])
def test_kube_version_constraints(constraint, version, ok):
    assert ad.constraint_matches(constraint, version) is ok


_rel = st.tuples(*(st.integers(0, 30),) * 3).map(lambda t: ".".join(map(str, t)))


@given(a=_rel, b=_rel)
def test_constraint_order_agrees_with_packaging(a, b):
    from packaging.version import Version

    assert ad.constraint_matches(f">={a}", b) is (Version(b) >= Version(a))
    assert ad.constraint_matches(f"<{a}", b) is (Version(b) < Version(a))
    assert ad.constraint_matches(f"={a}", b) is (Version(b) == Version(a))


def test_bad_constraint_raises():
    with pytest.raises(ValueError):
        ad.constraint_matches(">=banana", "1.30.0")


# --------------------------------------------------------------------------------------------- hostile inputs


@settings(max_examples=150, deadline=None)
@given(version=st.text(max_size=40))
def test_chart_versions_never_become_template_code(version):
    """A chart version (from an index or --pin) enters the ApplicationSet's Go template only when it is a version."""
    fl = from_dict(_fleet_doc())
    app = fl.applications[0]
    try:
        aset = ad.helm_application_set(fl, app, version, ["dev"])
    except ToolError:
        return
    rev = aset["spec"]["template"]["spec"]["sources"][0]["targetRevision"]
    assert rev.count("{{") == 3 and version in rev
    assert "{{" not in version and '"' not in version and "}" not in version


@settings(max_examples=150, deadline=None)
@given(name=st.text(max_size=60))
def test_installed_addon_names_are_checked_before_paths_and_names(name, tmp_path_factory):
    """An add-on name from a captured/live describe-addon flows into directory names, object names and labels:
    anything that is not an EKS add-on name is one error."""
    fl = from_dict(_fleet_doc())
    src = ad.Sources(addon_versions=json.loads(VERSIONS.read_text()),
                     installed=[ad.InstalledAddon("platform-dev", name, "v1")])
    try:
        plan = ad.plan_addons(fl, src, ad.Settings())
    except ToolError as exc:
        assert "is not an EKS add-on name" in str(exc)
        return
    files = ad.render_plan(fl, plan, ad.Settings())
    for rel in files:
        assert ".." not in rel.split("/") and not rel.startswith("/")


def test_soak_and_settings_are_validated():
    assert ad.soak_seconds("36h") == 36 * 3600 and ad.soak_seconds("2w") == 14 * 86400
    with pytest.raises(ToolError):
        ad.soak_seconds("7 days")
    doc = _fleet_doc()
    doc["spec"]["addons"]["storageClass"] = "gp3; rm -rf /"
    with pytest.raises(ToolError):
        ad.Settings.from_fleet(from_dict(doc))


def test_live_reads_are_read_only(monkeypatch):
    """--installed aws / schema reads go through the guarded factory: ListAddons, DescribeAddon and
    DescribeAddonConfiguration are on the allow-list; nothing else is sent (moto lacks them: answered by a hook)."""
    from converter.diff.aws import AwsClients
    from tests.stubbed_aws import json_response

    for k, v in (("AWS_ACCESS_KEY_ID", "x"), ("AWS_SECRET_ACCESS_KEY", "y")):
        monkeypatch.setenv(k, v)
    cfg = json.loads((CONFIGS / "vpc-cni-v1.19.2-eksbuild.1.json").read_text())
    answers = {"ListAddons": {"addons": ["vpc-cni"]},
               "DescribeAddon": {"addon": {"addonName": "vpc-cni", "clusterName": "platform-dev",
                                           "addonVersion": "v1.18.5-eksbuild.1", "configurationValues": "{}"}},
               "DescribeAddonConfiguration": cfg}
    seen = []

    def answer(request, event_name="", **kw):
        op = event_name.rsplit(".", 1)[-1]
        seen.append(op)
        return json_response(request, answers[op])

    clients = AwsClients(region="eu-west-1", max_attempts=1, extra_handlers=[("before-send.eks", answer)])
    fl = from_dict(_fleet_doc())
    got = ad.fetch_installed(fl.cluster("platform-dev"), clients)
    assert got == [ad.InstalledAddon("platform-dev", "vpc-cni", "v1.18.5-eksbuild.1", "{}")]
    schema = ad.fetch_addon_config("vpc-cni", "v1.19.2-eksbuild.1", clients)
    assert schema["$ref"] == "#/definitions/VpcCni"
    assert seen == ["ListAddons", "DescribeAddon", "DescribeAddonConfiguration"]
    with pytest.raises(ToolError):
        clients.client("eks").delete_addon(clusterName="platform-dev", addonName="vpc-cni")


def test_helm_index_is_fetched_read_only_with_a_timeout(tmp_path):
    """Without --helm-index the chart repository's index.yaml is fetched (GET, timeout); an unreachable repository
    is 'not checked', never a traceback."""
    import http.server
    import threading

    hits = []

    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hits.append((self.command, self.path))
            body = INDEX.read_bytes()
            self.send_response(200 if self.path == "/charts/index.yaml" else 404)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{srv.server_address[1]}/charts"
        idx = ad.fetch_helm_index(url + "/", timeout=5)
        assert "aws-load-balancer-controller" in idx["entries"]
        assert hits == [("GET", "/charts/index.yaml")]
        with pytest.raises(ToolError, match="cannot fetch"):
            ad.fetch_helm_index(url + "/missing", timeout=5)
        doc = _fleet_doc()
        doc["spec"]["applications"][0]["repoURL"] = url
        fl = from_dict(doc)
        src = ad.Sources(fetch_index=lambda u: ad.fetch_helm_index(u, timeout=5))
        plan = ad.plan_addons(fl, src, ad.Settings())
        assert [(b.env, b.to) for b in plan.bumps] == [("dev", "1.11.0"), ("staging", "1.11.0"), ("prod", "1.11.0")]
    finally:
        srv.shutdown()
    with pytest.raises(ToolError, match="OCI or not HTTP"):
        ad.fetch_helm_index("oci://registry.example.com/charts")


def test_smoke_stage_is_synced_to_the_environment_clusters(files, tmp_path):
    """Something runs the smoke Job: a hub ApplicationSet per bump syncs its `smoke/` directory (at --repo-path in
    the fleet repo) to each cluster of the environment, in the environment's AppProject."""
    out = tmp_path / "out"
    _run(*files, out, "--repo-path", "fleet/bumps")
    (d,) = out.glob("*-dev-eks-coredns")
    (aset,) = _docs(d / "hub" / "smoke-applicationset.yaml")
    tpl = aset["spec"]["template"]["spec"]
    assert tpl["source"]["path"] == f"fleet/bumps/{d.name}/smoke"
    assert (out / d.name / "smoke" / "kustomization.yaml").is_file()
    assert tpl["project"] == "dev"
    assert aset["spec"]["generators"][0]["list"]["elements"] == [{"cluster": "platform-dev"}]
    job = next(x for x in _docs(d / "smoke" / "smoke.yaml") if x["kind"] == "Job")
    assert tpl["destination"]["namespace"] == job["metadata"]["namespace"]
    assert job["metadata"]["annotations"]["argocd.argoproj.io/hook"] == "PostSync"
    res = _run(*files, tmp_path / "o2", "--repo-path", "../outside")
    assert res.exit_code == 2 and "not a relative path" in res.output


def test_gate_names_the_previous_environment_even_when_it_is_already_current(tmp_path):
    """staging already runs the target: prod's bump is gated on staging (the environment before it), not dev."""
    doc = _fleet_doc()
    doc["spec"]["applications"] = []
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(yaml.safe_dump(doc))
    inst = tmp_path / "i.json"
    inst.write_text(json.dumps({"clusters": {
        "platform-dev": [{"addonName": "coredns", "addonVersion": "v1.11.3-eksbuild.1"}],
        "platform-staging": [{"addonName": "coredns", "addonVersion": "v1.11.4-eksbuild.2"}],
        "platform-prod": [{"addonName": "coredns", "addonVersion": "v1.11.3-eksbuild.1"}]}}))
    _run(fleet, inst, tmp_path / "o")
    summary = json.loads((tmp_path / "o" / "addons.json").read_text())
    assert [(b["env"], b["after"]) for b in summary["bumps"]] == [("dev", None), ("prod", "staging")]
    assert summary["current"] == ["platform-staging/coredns v1.11.4-eksbuild.2"]


def test_values_a_version_cannot_take_are_refused_not_crashed():
    fl = from_dict(_fleet_doc())
    describe = json.loads(VERSIONS.read_text())
    for values, configs, expect in (
        ("{not: [valid", {}, "neither JSON nor YAML"),
        ('{"replicaCount": 2}', {("coredns", "v1.11.4-eksbuild.2"): {}}, "accepts no configurationValues"),
    ):
        src = ad.Sources(addon_versions=describe, configs=configs, installed=[
            ad.InstalledAddon("platform-dev", "coredns", "v1.11.3-eksbuild.1", values)])
        plan = ad.plan_addons(fl, src, ad.Settings())
        assert not plan.bumps
        (r,) = [r for r in plan.refusals if r.cluster == "platform-dev"]
        assert expect in r.reason


# --------------------------------------------------------------------------------------------- gate check


def _gate_setup(files, tmp_path):
    out = tmp_path / "out"
    _run(*files, out)
    return out, next(out.glob("*-staging-eks-vpc-cni")) / "gate.json", next(
        out.glob("*-staging-helm-aws-load-balancer-controller")) / "gate.json"


def _gate(fleet, gate, *extra):
    return CliRunner().invoke(main, ["fleet", "addon-gate", str(gate), "--config", str(fleet), *extra],
                              catch_exceptions=False)


def test_eks_gate_holds_only_after_the_soak_with_green_health(files, tmp_path):
    fleet, _ = files
    _, gate, _ = _gate_setup(files, tmp_path)
    dev = {"addonName": "vpc-cni", "clusterName": "platform-dev", "addonVersion": "v1.19.2-eksbuild.1",
           "status": "ACTIVE", "modifiedAt": "2026-11-01T10:00:00+00:00", "health": {"issues": []}}

    def run(entry, now):
        f = tmp_path / "dev.json"
        f.write_text(json.dumps({"clusters": {"platform-dev": [{"addon": entry}]}}))
        return _gate(fleet, gate, "--installed", str(f), "--now", now)

    res = run(dev, "2026-11-04T11:00:00Z")  # 3d 1h later, soak 3d
    assert res.exit_code == 0, res.output
    assert "ok platform-dev/vpc-cni: on v1.19.2-eksbuild.1 for 73h (soak 72h)" in res.output
    res = run(dev, "2026-11-03T10:00:00Z")  # 2 days only
    assert res.exit_code == 1 and "for 48h, soak needs 72h" in res.output
    res = run({**dev, "status": "DEGRADED", "health": {"issues": [{"code": "InsufficientNumberOfReplicas",
                                                                   "message": "1 of 3"}]}}, "2026-12-01T00:00:00Z")
    assert res.exit_code == 1 and "unhealthy (status DEGRADED, issues: InsufficientNumberOfReplicas: 1 of 3)" in res.output
    res = run({**dev, "addonVersion": "v1.18.5-eksbuild.1"}, "2026-12-01T00:00:00Z")
    assert res.exit_code == 1 and "runs v1.18.5-eksbuild.1, not v1.19.2-eksbuild.1" in res.output
    res = run({k: v for k, v in dev.items() if k != "modifiedAt"}, "2026-12-01T00:00:00Z")
    assert res.exit_code == 2 and "when it changed is unknown" in res.output
    res = _gate(fleet, gate)  # no data at all: never a pass
    assert res.exit_code == 2 and "could not be checked" in res.output


def test_helm_gate_reads_the_argocd_history(files, tmp_path):
    fleet, _ = files
    _, _, gate = _gate_setup(files, tmp_path)

    def app(health, history):
        return {"metadata": {"name": "aws-load-balancer-controller-platform-dev", "labels": {
                    "app.kubernetes.io/name": "aws-load-balancer-controller", "env": "dev"}},
                "status": {"health": {"status": health}, "sync": {"status": "Synced"}, "history": [
                    {"deployedAt": t, "sources": [{"targetRevision": v}, {"ref": "values"}]} for t, v in history]}}

    def run(a, now):
        f = tmp_path / "apps.json"
        f.write_text(json.dumps({"items": [a]}))
        return _gate(fleet, gate, "--argocd-apps", str(f), "--now", now)

    hist = [("2026-10-01T00:00:00Z", "1.9.2"), ("2026-11-01T00:00:00Z", "1.11.0"), ("2026-11-02T00:00:00Z", "1.11.0")]
    res = run(app("Healthy", hist), "2026-11-05T00:00:00Z")
    assert res.exit_code == 0, res.output  # soak counts from the first deploy of 1.11.0 (96h ≥ 72h)
    assert "for 96h" in res.output
    res = run(app("Healthy", [*hist, ("2026-11-03T00:00:00Z", "1.9.2")]), "2026-11-20T00:00:00Z")
    assert res.exit_code == 1 and "runs (not deployed)" in res.output  # rolled back: not on the version
    res = run(app("Degraded", hist), "2026-11-20T00:00:00Z")
    assert res.exit_code == 1 and "unhealthy" in res.output
    res = _gate(fleet, gate)
    assert res.exit_code == 2


def test_first_environment_has_no_soak_gate(files, tmp_path):
    fleet, _ = files
    out = tmp_path / "out"
    _run(*files, out)
    res = _gate(fleet, next(out.glob("01-dev-*")) / "gate.json")
    assert res.exit_code == 0 and "first environment" in res.output


def test_live_mode_without_aws_is_one_line_exit_2(files, tmp_path, monkeypatch):
    fleet, _ = files
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    res = CliRunner().invoke(main, ["fleet", "addons", "--config", str(fleet), "--installed", "aws",
                                    "--endpoint-url", "http://127.0.0.1:9", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "Traceback" not in res.output and "preflight" in res.output
    assert not (tmp_path / "o").exists()


def test_cluster_without_addon_data_is_not_checked_but_an_empty_list_is_known(files, tmp_path):
    fleet, _ = files
    part = {"platform-dev": INSTALLED["platform-dev"], "platform-staging": []}
    inst = tmp_path / "p.json"
    inst.write_text(json.dumps({"clusters": part}))
    res = _run(fleet, inst, tmp_path / "o")
    assert res.exit_code == 2
    summary = json.loads((tmp_path / "o" / "addons.json").read_text())
    assert [n["what"] for n in summary["notChecked"]] == ["cluster platform-prod"]
