"""fleet upgrade, issue 13 §1–2: green gets blue's identity and access (OIDC provider, IRSA trust, access entries,
Pod Identity), names agree with `convert`, gates fail safe (the Job's own script run against canned Prometheus and
Kubernetes answers), every traffic step has its way back, and a prod deny window never blocks a rollback."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from converter.cli import main
from converter.fleet import gates
from converter.fleet.config import load_fleet
from converter.fleet.upgrade import waves
from converter.pipeline import REPO_ROOT, SAMPLE_DIR
from tests.test_fleet_upgrade import DESCRIBE

FLEET = REPO_ROOT / "samples" / "fleet.yaml"
SCRIPT = Path(gates.__file__).with_name("gate_assets") / "gate.py"


def _docs(path):
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def _upgrade(tmp, *extra, config=FLEET):
    f = tmp / "addons.json"
    f.write_text(json.dumps(DESCRIBE))
    out = tmp / "out"
    res = CliRunner().invoke(main, ["fleet", "upgrade", "--config", str(config), "--cluster", "platform-staging",
                                    "--to", "1.31", "--addon-versions", str(f), "--out", str(out), *extra],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return out


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    return _upgrade(tmp_path_factory.mktemp("upg"), "--env", "staging")


def _steps(plan):
    return json.loads((plan / "upgrade.json").read_text())["steps"]


def _index(plan, prefix):
    return next(i for i, s in enumerate(_steps(plan)) if s["dir"].split("-", 1)[1].startswith(prefix))


# --------------------------------------------------------------------------------------------- naming


@pytest.mark.parametrize("env,namespace", [(None, None), ("staging", "staging-infrastructure")])
def test_upgrade_names_equal_convert_names_for_the_same_env(tmp_path, env, namespace):
    """Without --env both commands use convert's default (`main`, was `staging` vs `main` before); with --env both
    use it. The decommission replacement and the IRSA replacements name the same RGD/instance/objects, and green
    reads blue's objects in the namespace convert put them in."""
    extra = ["--env", env] if env else []
    out = _upgrade(tmp_path, *extra, *(["--namespace", namespace] if namespace else []))
    conv = tmp_path / "conv"
    res = CliRunner().invoke(main, ["convert", "--state", str(SAMPLE_DIR / "terraform.tfstate"), "--out", str(conv),
                                    *([] if namespace else ["--namespace", "infrastructure"]), *extra],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    [blue_inst] = _docs(conv / "cluster" / "instance.yaml")
    [green] = _docs(out / "01-green-cluster" / "rgd.yaml")
    assert {r["externalRef"]["metadata"]["namespace"] for r in green["spec"]["resources"] if "externalRef" in r} \
        == {blue_inst["metadata"]["namespace"]}
    for rel in ("cluster/rgd.yaml", "identity/rgd.yaml", "addons/rgd.yaml"):
        [mine] = _docs(out / "09-decommission-blue" / "replace" / rel)
        [theirs] = _docs(conv / rel)
        assert mine["metadata"]["name"] == theirs["metadata"]["name"]
        assert mine["spec"]["schema"]["kind"] == theirs["spec"]["schema"]["kind"]
        t_ids = {r["id"]: (r.get("template") or r.get("externalRef"))["metadata"]["name"]
                 for r in theirs["spec"]["resources"]}
        m_ids = {r["id"]: (r.get("template") or r.get("externalRef"))["metadata"]["name"]
                 for r in mine["spec"]["resources"] if r["id"] != "greenOidcProvider"}
        assert m_ids == t_ids
    [inst] = _docs(conv / "cluster" / "instance.yaml")
    readme = (out / "09-decommission-blue" / "README.md").read_text()
    assert f"instance `{inst['metadata']['name']}`" in readme
    assert json.loads((out / "upgrade.json").read_text())["env"] == (env or "main")


# --------------------------------------------------------------------------------------------- identity + access


def test_green_oidc_provider_from_green_issuer_and_deployer_access_entry(plan):
    [rgd] = _docs(plan / "01-green-cluster" / "rgd.yaml")
    res = {r["id"]: r for r in rgd["spec"]["resources"]}
    cluster_id = next(i for i, r in res.items() if (r.get("template") or {}).get("kind") == "Cluster")
    oidc = res["greenOidcProvider"]["template"]
    assert oidc["kind"] == "OpenIDConnectProvider" and oidc["apiVersion"] == "iam.services.k8s.aws/v1alpha1"
    assert oidc["spec"]["url"] == "${" + cluster_id + ".status.identity.oidc.issuer}"
    assert oidc["spec"]["clientIDs"] == ["sts.amazonaws.com"]
    fleet = load_fleet(FLEET)
    blue = fleet.cluster("platform-staging")
    entries = [r["template"] for r in res.values() if (r.get("template") or {}).get("kind") == "AccessEntry"]
    deployer = [e for e in entries if e["spec"]["principalARN"] == fleet.role_arn(blue)]
    assert len(deployer) == 1 and deployer[0]["spec"]["accessPolicies"][0]["accessScope"] == {"type": "cluster"}
    # blue's own access entry (platform-admin) is there too
    assert any(e["spec"]["principalARN"].endswith(":role/platform-admin") for e in entries)
    assert _index(plan, "green-cluster") < _index(plan, "register")


def test_irsa_roles_trust_green_before_registration_and_only_green_after_decommission(plan):
    assert _index(plan, "irsa-trust") < _index(plan, "addons") < _index(plan, "register")
    summary = json.loads((plan / "upgrade.json").read_text())
    assert sorted(summary["irsaRoles"]) == ["staging-estate-irsa-ebs-csi-iam-role-this",
                                            "staging-estate-irsa-external-dns-iam-role-this"]
    [green] = _docs(plan / "01-green-cluster" / "rgd.yaml")
    oidc_name = next(r["template"]["metadata"]["name"] for r in green["spec"]["resources"]
                     if r["id"] == "greenOidcProvider")

    def roles(step):
        out = {}
        for f in (plan / step / "replace").glob("*/rgd.yaml"):
            [rgd] = _docs(f)
            refs = {r["id"]: r["externalRef"]["metadata"]["name"] for r in rgd["spec"]["resources"] if "externalRef" in r}
            for r in rgd["spec"]["resources"]:
                t = r.get("template") or {}
                if t.get("metadata", {}).get("name") in summary["irsaRoles"]:
                    assert refs.get("greenOidcProvider") == oidc_name
                    out[t["metadata"]["name"]] = t["spec"]["assumeRolePolicyDocument"]
        return out

    added, after = roles("02-irsa-trust"), roles("09-decommission-blue")
    assert set(added) == set(after) == set(summary["irsaRoles"])
    blue_arn = "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/9F3A1C2B7D4E6F8091A2B3C4D5E6F708"
    green_arn = "${greenOidcProvider.status.ackResourceMetadata.arn}"
    for doc in added.values():
        assert doc.count('"sts:AssumeRoleWithWebIdentity"') == 2 and blue_arn in doc and green_arn in doc
        assert '${greenOidcProvider.spec.url.replace("https://", "")}:sub' in doc
    for doc in after.values():
        assert doc.count('"sts:AssumeRoleWithWebIdentity"') == 1 and blue_arn not in doc and green_arn in doc


def test_green_objects_are_tagged_for_green_not_terraform(plan):
    found = 0
    for f in list((plan / "01-green-cluster").glob("rgd.yaml")) + [plan / "03-addons" / "addons.yaml"]:
        for d in _docs(f):
            objs = [r["template"] for r in d["spec"]["resources"] if "template" in r] if d["kind"] == \
                "ResourceGraphDefinition" else [d]
            for o in objs:
                tags = o["spec"].get("tags")
                if not tags:
                    continue
                found += 1
                kv = tags if isinstance(tags, dict) else {t["key"]: t["value"] for t in tags}
                assert kv.get("ManagedBy") != "terraform", o["metadata"]["name"]
                assert kv["Cluster"] in ("platform-staging-green", "${schema.spec.clusterName}"), o["metadata"]["name"]
    assert found >= 8


def test_pod_identity_associations_recreated_for_green(plan):
    pia = [d for d in _docs(plan / "03-addons" / "addons.yaml") if d["kind"] == "PodIdentityAssociation"]
    assert len(pia) == 1 and pia[0]["spec"]["clusterName"] == "platform-staging-green"
    assert pia[0]["spec"]["serviceAccount"] == "aws-load-balancer-controller"


# --------------------------------------------------------------------------------------------- gate script


class _Canned(BaseHTTPRequestHandler):
    answers: dict = {}
    seen: list = []

    def log_message(self, *a):
        pass

    def _reply(self, body):
        raw = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self):
        u = urlparse(self.path)
        if u.path == "/api/v1/query":
            q = parse_qs(u.query)["query"][0]
            self.seen.append(q)
            self._reply(self.answers["prom"](q))
        else:
            self._reply(self.answers["kube"](self.command, self.path))

    def do_DELETE(self):
        if self.path.endswith("/missing"):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.do_GET()

    do_PATCH = do_GET


@pytest.fixture
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Canned)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    _Canned.seen = []
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


def _vector(v):
    return {"status": "success", "data": {"resultType": "vector",
                                          "result": [] if v is None else [{"metric": {}, "value": [1, str(v)]}]}}


def _job_args(plan, step, name):
    job = next(d for d in _docs(plan / step / "gates.yaml") if d["metadata"]["name"] == name)
    cmd = job["spec"]["template"]["spec"]["containers"][0]["command"]
    assert cmd[:2] == ["python", "/gate/gate.py"]
    return cmd[2:]


def _run(args, url):
    args = [url if a == gates.GateSettings.from_fleet(load_fleet(FLEET)).prometheus_url else a for a in args]
    args = [("0" if prev == "--bake" else a) for prev, a in zip([""] + args, args, strict=False)]
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("case,green,blue,expect", [
    ("healthy", (0.001, 0.20), (0.001, 0.20), 0),
    ("green empty", (None, 0.20), (0.001, 0.20), 1),
    ("blue empty", (0.001, 0.20), (0.001, None), 1),
    ("green errors", (0.05, 0.20), (0.001, 0.20), 1),
    ("green slow", (0.001, 0.90), (0.001, 0.20), 1),
    ("no traffic NaN", ("NaN", 0.20), (0.001, 0.20), 1),
])
def test_metric_gate_script_fails_on_no_data_and_regressions(plan, server, case, green, blue, expect):
    args = _job_args(plan, "06-traffic-10", "compare-06")
    q = {args[i]: args[i + 1] for i in range(1, len(args) - 1, 2) if args[i].startswith("--")}
    table = {q["--green-errors"]: green[0], q["--green-p99"]: green[1], q["--blue-errors"]: blue[0],
             q["--blue-p99"]: blue[1]}
    _Canned.answers = {"prom": lambda query: _vector(table[query])}
    res = _run(args, server)
    assert res.returncode == expect, (case, res.stdout, res.stderr)
    assert len(_Canned.seen) >= (4 if expect == 0 else 1)


def test_metric_gate_fails_on_prometheus_error_and_unreachable(plan, server):
    args = _job_args(plan, "07-traffic-50", "compare-07")
    _Canned.answers = {"prom": lambda q: {"status": "error", "error": "bad_data"}}
    assert _run(args, server).returncode == 1
    assert _run(args, "http://127.0.0.1:9").returncode == 1


def test_final_gate_reads_blue_before_the_shift(plan):
    args = _job_args(plan, "08-traffic-100", "compare-08")
    q = dict(zip(args[1::2], args[2::2], strict=False))
    assert " offset " in q["--blue-errors"] and " offset " not in q["--green-errors"]


def test_app_and_soak_gates(plan, server):
    items = {"items": []}
    _Canned.answers = {"kube": lambda m, p: items}
    args = _job_args(plan, "05-workloads-wave-1", "wave-05")
    assert _run(["--api", server, *args], server).returncode == 1  # nothing deployed = failure
    items["items"] = [{"metadata": {"name": "a"}, "status": {"sync": {"status": "Synced"}, "health": {"status": "Healthy"}}}]
    assert _run(["--api", server, *args], server).returncode == 0
    items["items"].append({"metadata": {"name": "b"}, "status": {"sync": {"status": "Synced"}, "health": {"status": "Degraded"}}})
    assert _run(["--api", server, *args], server).returncode == 1
    soak = _job_args(plan, "09-decommission-blue", "soak-09")
    app = {"status": {"operationState": {"phase": "Succeeded", "finishedAt": "2026-01-01T00:00:00Z"}}}
    _Canned.answers = {"kube": lambda m, p: app}
    assert _run(["--api", server, *soak, "--now", "2026-01-01T23:00:00+00:00"], server).returncode == 1
    assert _run(["--api", server, *soak, "--now", "2026-01-02T00:00:01+00:00"], server).returncode == 0
    app["status"]["operationState"]["phase"] = "Failed"
    assert _run(["--api", server, *soak, "--now", "2026-01-03T00:00:00+00:00"], server).returncode == 1


def test_rollback_hook_syncs_the_rollback_application(plan, server):
    calls = []
    _Canned.answers = {"kube": lambda m, p: calls.append((m, p)) or {}}
    args = _job_args(plan, "07-traffic-50", "rollback-07")
    assert _run(["--api", server, *args], server).returncode == 0
    [(method, path)] = calls
    assert method == "PATCH" and path.endswith("/applications/upgrade-platform-staging-green-07-rollback")


# --------------------------------------------------------------------------------------------- queries


def test_queries_follow_the_provider_and_parse():
    promql_parser = pytest.importorskip("promql_parser")
    fleet = load_fleet(FLEET)
    s = gates.GateSettings.from_fleet(fleet)
    assert s.provider == "alb"  # the sample deploys the AWS Load Balancer Controller
    q = gates.queries(s, "platform-staging-green")
    assert "aws_applicationelb" in q["errorRate"] and "nginx" not in q["errorRate"]
    n = gates.queries(dataclasses.replace(s, provider="nginx"), "c1", offset="1h")
    assert "nginx_ingress_controller_requests" in n["errorRate"] and "offset 3600s" in n["p99Latency"]
    for text in (*q.values(), *n.values()):
        promql_parser.parse(text)


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_promql_label_value_escaping_is_a_single_string(value):
    promql_parser = pytest.importorskip("promql_parser")
    expr = promql_parser.parse(f'up{{cluster="{gates.promql_string(value)}"}}')
    assert "cluster" in str(expr)


# --------------------------------------------------------------------------------------------- way back


def test_every_traffic_step_has_a_reverse_step(plan):
    apps = {a["metadata"]["name"]: a for a in _docs(plan / "argocd" / "applications.yaml")}
    previous = 0
    traffic = [s for s in _steps(plan) if "-traffic-" in s["dir"]]
    assert len(traffic) == 3
    for s in traffic:
        w = int(s["dir"].rsplit("-", 1)[1])
        back = {r["spec"]["setIdentifier"]: r["spec"]["weight"] for r in _docs(plan / s["dir"] / "rollback" / "recordsets.yaml")}
        assert back == {"green": previous, "blue": 100 - previous}
        rb = apps[s["rollback"]]
        assert rb["spec"]["source"]["path"].endswith(f"upgrade/{s['dir']}/rollback")
        assert "automated" not in rb["spec"]["syncPolicy"] and rb["spec"]["project"].endswith("-rollback")
        hook = next(d for d in _docs(plan / s["dir"] / "gates.yaml") if d["metadata"]["name"].startswith("rollback-"))
        assert hook["metadata"]["annotations"]["argocd.argoproj.io/hook"] == "SyncFail"
        assert s["rollback"] in hook["spec"]["template"]["spec"]["containers"][0]["command"]
        previous = w
    abort = {r["spec"]["setIdentifier"]: r["spec"]["weight"] for r in _docs(plan / "abort" / "recordsets.yaml")}
    assert abort == {"green": 0, "blue": 100}
    [zero] = _docs(plan / "abort" / "green-rgd-scaled-to-zero.yaml")
    ngs = [r["template"] for r in zero["spec"]["resources"] if (r.get("template") or {}).get("kind") == "Nodegroup"]
    assert ngs and all(n["spec"]["scalingConfig"]["desiredSize"] == 0 for n in ngs)
    assert all(t["metadata"]["name"].endswith("-green") for r in zero["spec"]["resources"]
               if (t := r.get("template")))  # blue is not touched


def test_decommission_waits_for_the_soak_of_the_final_gate(plan):
    steps = _steps(plan)
    assert steps[-1]["dir"].endswith("decommission-blue")
    args = _job_args(plan, steps[-1]["dir"], f"soak-{steps[-1]['dir'][:2]}")
    assert args[args.index("--app") + 1] == steps[-2]["application"]
    assert args[args.index("--min-age") + 1] == str(gates.seconds("24h", "soak"))


def test_workload_waves_follow_the_fleet_file():
    fleet = load_fleet(FLEET)
    a = fleet.applications[0]
    more = [a] + [dataclasses.replace(a, name=n) for n in ("web", "api", "jobs")]
    assert waves(dataclasses.replace(fleet, applications=more)) == [[a.name], ["web"], ["api"], ["jobs"]]
    t = {**fleet.traffic, "waves": [["api", "web"]]}
    assert waves(dataclasses.replace(fleet, applications=more, traffic=t)) == [["api", "web"], [a.name, "jobs"]]
    from converter.model import ToolError

    with pytest.raises(ToolError, match="nope"):
        waves(dataclasses.replace(fleet, applications=more, traffic={**fleet.traffic, "waves": [["nope"]]}))


def test_platform_is_a_gate_before_each_wave(plan):
    wave = next(s for s in _steps(plan) if "workloads-wave" in s["dir"])
    pre = next(d for d in _docs(plan / wave["dir"] / "gates.yaml") if d["metadata"]["name"].startswith("platform-"))
    assert pre["metadata"]["annotations"]["argocd.argoproj.io/hook"] == "PreSync"
    sel = pre["spec"]["template"]["spec"]["containers"][0]["command"]
    assert "cluster=platform-staging-green,tf2kro.dev/upgrade-wave=platform" in sel
    [plat] = _docs(plan / "04-register-in-argocd" / "platform-applications.yaml")
    assert plat["metadata"]["labels"]["tf2kro.dev/upgrade-wave"] == "platform"
    assert plat["spec"]["destination"]["name"] == "platform-staging-green"
    apps = _docs(plan / wave["dir"] / "applications.yaml")
    assert [a["spec"]["destination"]["name"] for a in apps] == ["platform-staging-green"]


# --------------------------------------------------------------------------------------------- sync windows


def test_prod_deny_window_blocks_forward_steps_but_never_rollbacks(tmp_path):
    doc = yaml.safe_load(FLEET.read_text())
    doc["spec"]["clusters"][0]["env"] = "prod"
    doc["spec"]["source"] = {"state": str(SAMPLE_DIR / "terraform.tfstate"), "hcl": str(SAMPLE_DIR)}
    for app in doc["spec"]["applications"]:
        app["envs"] = ["prod"]
    cfg = tmp_path / "fleet.yaml"
    cfg.write_text(yaml.safe_dump(doc))
    out = _upgrade(tmp_path, config=cfg)
    projects = {p["metadata"]["name"]: p for p in _docs(out / "argocd" / "projects.yaml")}
    apps = _docs(out / "argocd" / "applications.yaml")
    fwd = [a for a in apps if not a["spec"]["project"].endswith("-rollback")]
    back = [a for a in apps if a["spec"]["project"].endswith("-rollback")]
    assert fwd and back and len(back) >= 4  # 3 traffic rollbacks + abort
    # the sample's prod deny window has manualSync: false: forward steps wait, even synced by hand
    assert all(gates.deny_blocks(projects[a["spec"]["project"]], a, manual=m) for a in fwd for m in (False, True))
    for a in back:
        assert not gates.deny_blocks(projects[a["spec"]["project"]], a, manual=False), a["metadata"]["name"]
        assert not gates.deny_blocks(projects[a["spec"]["project"]], a, manual=True)


# --------------------------------------------------------------------------------------------- validity


def test_every_step_validates_and_builds_with_kustomize(plan):
    from converter.validate.runner import validate_tree

    rep = validate_tree(plan, [])
    errors = [f for f in rep.findings if f.severity == "error"]  # on its own: the constraint's template included
    assert not errors, "\n".join(map(str, errors))
    if not shutil.which("kubectl"):
        pytest.skip("kubectl not installed: kustomize build not checked")
    for k in sorted(plan.rglob("kustomization.yaml")):
        res = subprocess.run(["kubectl", "kustomize", str(k.parent)], capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, (k, res.stderr)


def test_fleet_file_roles_outside_the_estate_are_flagged_for_manual_trust(plan):
    summary = json.loads((plan / "upgrade.json").read_text())
    role = load_fleet(FLEET).store["roleARN"]
    assert role in summary["irsaByHand"]
    assert f"`{role}`" in (plan / "02-irsa-trust" / "README.md").read_text()


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=80))
def test_step_application_names_are_dns_labels(text):
    from converter.emit.naming import is_dns_label

    assert is_dns_label(gates.app_name(text, "06"))


def test_step_objects_are_allowed_by_the_upgrade_project(plan):
    """Every object a step Application syncs is permitted by its AppProject: namespaced objects in a destination
    namespace, cluster-scoped ones in the whitelist (else ArgoCD refuses the sync and no gate ever runs)."""
    projects = {p["metadata"]["name"]: p for p in _docs(plan / "argocd" / "projects.yaml")}
    checked = 0
    for app in _docs(plan / "argocd" / "applications.yaml"):
        proj = projects[app["spec"]["project"]]["spec"]
        assert "automated" not in app["spec"]["syncPolicy"]
        d = plan / app["spec"]["source"]["path"].split("upgrade/", 1)[1]
        namespaces = {x["namespace"] for x in proj["destinations"]}
        assert app["spec"]["destination"]["namespace"] in namespaces
        for rel in yaml.safe_load((d / "kustomization.yaml").read_text())["resources"]:
            for o in _docs(d / rel):
                checked += 1
                ns = o["metadata"].get("namespace")
                if ns:
                    assert ns in namespaces, (rel, o["kind"], ns)
                else:
                    group = o["apiVersion"].rsplit("/", 1)[0] if "/" in o["apiVersion"] else ""
                    assert any(w["group"] == group and w["kind"] in (o["kind"], "*")
                               for w in proj["clusterResourceWhitelist"]), (rel, o["kind"])
    assert checked > 30


def test_wave_rollback_deletes_the_wave_apps_and_tolerates_absent_ones(plan, server):
    calls = []
    _Canned.answers = {"kube": lambda m, p: calls.append((m, p)) or {}}
    args = _job_args(plan, "05-workloads-wave-1", "rollback-05")
    assert args.count("--delete-application") == 1 and "aws-load-balancer-controller-platform-staging-green" in args
    assert _run(["--api", server, *args], server).returncode == 0
    assert calls == [("DELETE", "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/"
                                "aws-load-balancer-controller-platform-staging-green")]
    assert _run(["--api", server, "rollback", "--namespace", "argocd", "--delete-application", "missing"],
                server).returncode == 0


def test_smoke_tests_hit_the_target_green_records_point_to(plan):
    recs = {r["spec"]["setIdentifier"]: r for r in _docs(plan / "06-traffic-10" / "recordsets.yaml")}
    green_target = recs["green"]["spec"]["resourceRecords"][0]["value"]
    smoke = next(d for d in _docs(plan / "06-traffic-10" / "gates.yaml") if d["metadata"]["name"] == "smoke-06")
    cmd = smoke["spec"]["template"]["spec"]["containers"][0]["command"][-1]
    assert f"https://{green_target}/healthz" in cmd


def test_trust_gate_holds_addons_and_registration_until_roles_trust_green(plan, server):
    summary = json.loads((plan / "upgrade.json").read_text())
    arn = "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/GREEN"
    synced = [{"type": "ACK.ResourceSynced", "status": "True"}]
    provider = {"status": {"ackResourceMetadata": {"arn": arn}, "conditions": synced}}
    docs = {r: '{"Statement":[]}' for r in summary["irsaRoles"]}

    def kube(method, path):
        assert method == "GET"
        name = path.rsplit("/", 1)[1]
        if "/openidconnectproviders/" in path:
            return provider
        return {"spec": {"assumeRolePolicyDocument": docs[name]}, "status": {"conditions": synced}}

    _Canned.answers = {"kube": kube}
    for step, job in (("03-addons", "trust-03"), ("04-register-in-argocd", "trust-04")):
        args = _job_args(plan, step, job)
        assert sorted(args[i + 1] for i, a in enumerate(args) if a == "--role") == sorted(summary["irsaRoles"])
        hook = next(d for d in _docs(plan / step / "gates.yaml") if d["metadata"]["name"] == job)
        assert hook["metadata"]["annotations"]["argocd.argoproj.io/hook"] == "PreSync"
    args = _job_args(plan, "03-addons", "trust-03")
    assert _run(["--api", server, *args], server).returncode == 1  # step 02 not synced yet
    for r in docs:
        docs[r] = json.dumps({"Statement": [{"Principal": {"Federated": arn}}]})
    assert _run(["--api", server, *args], server).returncode == 0
    provider["status"]["conditions"] = []
    assert _run(["--api", server, *args], server).returncode == 1  # provider not synced: no ARN to trust
