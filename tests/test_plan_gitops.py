"""tf2kro plan, GitOps path: ArgoCD AppProject/Application per (env, phase) that validate and `kustomize build`,
the argocd-cm health Lua run against sample objects, several environments in rollout order (dev → staging → prod)
with gates, prod CODEOWNERS and sync windows, and `plan --status` reading Applications."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from converter.cli import main
from converter.emit.kro import SCHEMA_GROUP
from converter.gitops import argocd as ga
from converter.gitops.health import INSTANCE_GROUP, argocd_cm_patch, health_data, lua, script_for
from converter.model import ToolError
from converter.pipeline import SAMPLE_DIR
from converter.validate.runner import validate_tree
from tests import statefactory as sf

SAMPLE_STATE = SAMPLE_DIR / "terraform.tfstate"
KUBECTL = shutil.which("kubectl")
REPO = "https://github.com/acme/infra.git"
ENVS = ("dev", "staging", "prod")


def _run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


# ---------------------------------------------------------------------------------------------- states
def _retarget(node, env: str):
    """The sample's strings with its environment (`staging`) replaced: another environment of the same estate."""
    if isinstance(node, dict):
        return {k: _retarget(v, env) for k, v in node.items()}
    if isinstance(node, list):
        return [_retarget(v, env) for v in node]
    return node.replace("staging", env) if isinstance(node, str) else node


def env_states(tmp_path: Path) -> dict[str, Path]:
    """dev, staging and prod states built from the sample (distinct lineage and serial per environment)."""
    if not SAMPLE_STATE.exists():
        pytest.skip("sample estate absent")
    doc = json.loads(SAMPLE_STATE.read_text(encoding="utf-8"))
    out = {}
    for i, env in enumerate(ENVS):
        d = _retarget(doc, env)
        d["lineage"], d["serial"] = f"{doc['lineage'][:-4]}{i:04d}", doc["serial"] + i
        p = tmp_path / "states" / env / "terraform.tfstate"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(d), encoding="utf-8")
        out[env] = p
    return out


@pytest.fixture(scope="module")
def three_envs(tmp_path_factory):
    """One plan of dev + staging + prod with ArgoCD output (module-scoped: rendered once)."""
    tmp = tmp_path_factory.mktemp("gitops")
    states = env_states(tmp)
    out = tmp / "plan"
    args = ["plan", "--hcl", SAMPLE_DIR, "--root", "platform", "--out", out, "--repo-url", REPO, "--repo-path", "migration",
            "--owners", "network=@acme/net", "--adopt", "dev/network"]
    for env in ENVS:
        args += ["--env", f"{env}={states[env]}"]
    res = _run(*args)
    assert res.exit_code == 0, res.output
    return out, res.output


def _docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


def _plan(out: Path, env: str) -> dict:
    return json.loads((out / "environments" / env / "plan.json").read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------------- Lua health checks
def _health(script: str, obj: dict) -> tuple[str, str]:
    lupa = pytest.importorskip("lupa")
    rt = lupa.LuaRuntime(unpack_returned_tuples=True, register_eval=False, register_builtins=False)
    rt.globals().obj = rt.table_from(obj, recursive=True)
    res = rt.execute(lua(script))
    return res["status"], res["message"]


def _ack_obj(conditions: list[dict] | None, **ann: str) -> dict:
    obj: dict = {"apiVersion": "ec2.services.k8s.aws/v1alpha1", "kind": "VPC",
                 "metadata": {"name": "v", "annotations": {"services.k8s.aws/adoption-policy": "adopt", **ann}}}
    if conditions is not None:
        obj["status"] = {"conditions": conditions}
    return obj


SYNCED = {"type": "ACK.ResourceSynced", "status": "True", "message": "Resource synced successfully"}


@pytest.mark.parametrize("obj,status,message", [
    (_ack_obj([SYNCED], **{"services.k8s.aws/adopted": "true"}), "Healthy", "ResourceSynced=True"),
    (_ack_obj([SYNCED, {"type": "ACK.Terminal", "status": "True", "message": "InvalidParameter: cidr"}],
              **{"services.k8s.aws/adopted": "true"}), "Degraded", "InvalidParameter: cidr"),
    (_ack_obj([{"type": "ACK.Terminal", "status": "False"}, SYNCED], **{"services.k8s.aws/adopted": "true"}),
     "Healthy", "ResourceSynced=True"),
    # adopting: synced already, not annotated adopted yet
    (_ack_obj([SYNCED]), "Progressing", "adopting"),
    (_ack_obj([{"type": "ACK.ResourceSynced", "status": "False", "message": "requeue"}],
              **{"services.k8s.aws/adopted": "true"}), "Progressing", "ResourceSynced=False: requeue"),
    (_ack_obj([{"type": "ACK.Recoverable", "status": "True", "message": "throttled"}],
              **{"services.k8s.aws/adopted": "true"}), "Progressing", "Recoverable: throttled"),
    (_ack_obj(None), "Progressing", "no status"),
    (_ack_obj([]), "Progressing", ""),
    ({"kind": "VPC", "status": {"conditions": [SYNCED]}}, "Healthy", "ResourceSynced=True"),  # no metadata at all
])
def test_ack_health_lua(obj, status, message):
    got = _health("ack", obj)
    assert got[0] == status and message in got[1], got


@pytest.mark.parametrize("status_,health", [
    ({"state": "ACTIVE", "conditions": [{"type": "Ready", "status": "True"}]}, "Healthy"),
    ({"state": "ACTIVE", "conditions": [{"type": "Ready", "status": "False", "reason": "ResourcesNotReady"}]}, "Progressing"),
    ({"state": "ACTIVE"}, "Progressing"),
    ({"state": "IN_PROGRESS", "conditions": [{"type": "Ready", "status": "False"}]}, "Progressing"),
    ({"state": "FAILED", "conditions": [{"type": "Ready", "status": "False", "message": "boom"}]}, "Degraded"),
    ({"state": "ERROR"}, "Degraded"),
    (None, "Progressing"),
])
def test_kro_instance_health_lua(status_, health):
    obj = {"apiVersion": f"{INSTANCE_GROUP}/v1alpha1", "kind": "DevPlatformNetwork", "metadata": {"name": "x"}}
    if status_ is not None:
        obj["status"] = status_
    assert _health("kro-instance", obj)[0] == health


@pytest.mark.parametrize("status_,health", [
    ({"state": "Active", "conditions": [{"type": "Ready", "status": "True"}]}, "Healthy"),
    ({"state": "Inactive", "conditions": [{"type": "GraphAccepted", "status": "False", "message": "cycle"}]}, "Degraded"),
    (None, "Progressing"),
])
def test_rgd_health_lua(status_, health):
    obj = {"apiVersion": "kro.run/v1alpha1", "kind": "ResourceGraphDefinition", "metadata": {"name": "x"}}
    if status_ is not None:
        obj["status"] = status_
    assert _health("kro-rgd", obj)[0] == health


@pytest.mark.parametrize("status_,health", [({"health": {"status": "Healthy"}}, "Healthy"),
                                             ({"health": {"status": "Degraded", "message": "x"}}, "Degraded"),
                                             ({}, "Progressing"), (None, "Progressing")])
def test_application_health_lua(status_, health):
    obj = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": "a"}}
    if status_ is not None:
        obj["status"] = status_
    assert _health("application", obj)[0] == health


def test_health_keys_pick_the_right_script():
    assert INSTANCE_GROUP == SCHEMA_GROUP  # instance kinds are in the group tf2kro's RGDs define
    data = health_data({("ec2.services.k8s.aws", "VPC"), (INSTANCE_GROUP, "DevPlatformNetwork"),
                        ("external-secrets.io", "ExternalSecret")})
    assert data["resource.customizations.health.ec2.services.k8s.aws_VPC"] == lua("ack")
    assert data[f"resource.customizations.health.{INSTANCE_GROUP}_DevPlatformNetwork"] == lua("kro-instance")
    assert data["resource.customizations.health.kro.run_ResourceGraphDefinition"] == lua("kro-rgd")
    assert data["resource.customizations.health.argoproj.io_Application"] == lua("application")
    assert not any("external-secrets" in k for k in data)  # ArgoCD's built-in check stays
    assert script_for("kro.run", "SomethingElse") is None
    cm = argocd_cm_patch({("ec2.services.k8s.aws", "VPC")}, "gitops")
    assert cm["metadata"] == {"name": "argocd-cm", "namespace": "gitops", "labels": cm["metadata"]["labels"]}


# ---------------------------------------------------------------------------------------------- three environments
def test_three_environments_one_tree(three_envs):
    out, output = three_envs
    for env in ENVS:
        plan = _plan(out, env)
        assert plan["environments"] == list(ENVS) and plan["order"] == ENVS.index(env)
        assert plan["predecessor"] == (ENVS[ENVS.index(env) - 1] if env != "dev" else None)
        assert plan["prod"] == (env == "prod")
        for ph in plan["phases"]:
            for sub in ("read-only", "adopt"):
                assert (out / "environments" / env / ph["dir"] / sub / "kustomization.yaml").is_file()
            assert (out / "terraform" / env / ph["dir"] / "removed.tf").is_file()
            assert (out / "prs" / env / f"{ph['dir']}.md").is_file()
            assert (out / "environments" / env / "argocd" / f"{ph['dir']}.yaml").is_file()
    # printed in rollout order
    assert output.index("wrote dev:") < output.index("wrote staging:") < output.index("wrote prod:")
    index = (out / "README.md").read_text()
    assert index.index("`dev`") < index.index("`staging`") < index.index("`prod` (prod)")


def test_gates_name_the_previous_environment(three_envs):
    out, _ = three_envs
    for env in ENVS:
        plan = _plan(out, env)
        for ph in plan["phases"]:
            pr = (out / "prs" / env / f"{ph['dir']}.md").read_text()
            gate = ph["gate"]
            if env == "dev":
                assert gate is None and "is the pilot" in pr
                continue
            pred = ENVS[ENVS.index(env) - 1]
            assert gate["env"] == pred and gate["phase"] == ph["phase"] and gate["dir"] == ph["dir"]
            assert f"## Gate: `{pred}/{ph['dir']}` first" in pr
            assert f"--env {pred} --phase {ph['phase']}" in pr and "terraform plan -detailed-exitcode" in pr
            assert f"adoption-would-change not checked for {pred}" in pr and "ACK.ResourceSynced=True" in pr
            # the gate sits above the steps (two-minute read)
            assert pr.index("## Gate") < pr.index("## Steps")


def test_gate_falls_back_to_an_earlier_phase():
    from converter.plan.environments import gate
    from converter.plan.model import PhasePlan, Plan

    def phase(name, n):
        return PhasePlan(name, n, "@o", [], [], [], [], [], [], [], None)

    pred = Plan("dev", "dev-infrastructure", {}, None, None, [phase("network", 1), phase("identity", 2)], [], {}, False)
    g = gate(pred, phase("cluster", 3))
    assert (g["env"], g["phase"], g["dir"]) == ("dev", "identity", "02-identity")
    g = gate(Plan("dev", "ns", {}, None, None, [phase("cluster", 1)], [], {}, False), phase("network", 1))
    assert g["dir"] is None and "nothing to wait for" in g["summary"]


def test_prod_codeowners_and_sync_window(three_envs):
    out, _ = three_envs
    co = (out / "CODEOWNERS").read_text().splitlines()
    rules = [ln for ln in co if ln and not ln.startswith("#")]
    P = "/migration/"  # --repo-path migration: the rules name the tree where it lives in the repository
    for env in ENVS:
        for ph in _plan(out, env)["phases"]:
            d = ph["dir"]
            for path in (f"{P}environments/{env}/{d}/", f"{P}terraform/{env}/{d}/", f"{P}environments/{env}/argocd/{d}.yaml"):
                owners = next(ln.split()[1:] for ln in rules if ln.split()[0] == path)
                # GitHub: any one owner of a rule approves, so prod rules name the prod approvers alone
                assert owners == (["@platform-prod-approvers"] if env == "prod" else ph["owners"].split()), (path, owners)
    # the CI that gates every environment: with prod in the tree, only the prod approvers own it
    trust = ("*", "/.github/", f"{P}ci/", f"{P}argocd/", "/CODEOWNERS", f"{P}environments/prod/00-prerequisites/",
             f"{P}prs/prod/")
    assert {ln.split()[0]: ln.split()[1:] for ln in rules if ln.split()[0] in trust} == {
        p: ["@platform-prod-approvers"] for p in trust}
    assert rules[0].startswith("* ")  # GitHub: the last matching rule wins, the default goes first
    dev_owners = sorted({o for ph in _plan(out, "dev")["phases"] for o in ph["owners"].split()})
    for path in (f"{P}environments/dev/00-prerequisites/", f"{P}prs/dev/"):
        assert sorted(next(ln.split()[1:] for ln in rules if ln.split()[0] == path)) == dev_owners
    assert any(ln.startswith("# prod: production — only @platform-prod-approvers approve") for ln in co)
    assert next(ln for ln in rules if ln.startswith(f"{P}environments/dev/01-network/")).split()[1:] == ["@acme/net"]
    for env in ENVS:
        for f in (out / "environments" / env / "argocd").glob("*.yaml"):
            for d in _docs(f):
                if d.get("kind") == "AppProject":
                    windows = d["spec"].get("syncWindows")
                    if env == "prod":
                        assert windows == [{"kind": "allow", "schedule": "0 9 * * 1-4", "duration": "4h",
                                            "applications": ["*"], "timeZone": "UTC", "manualSync": False}]
                    else:
                        assert windows is None
    pr = (out / "prs/prod/01-network.md").read_text()
    assert "**Production**" in pr and "@platform-prod-approvers" in pr and "0 9 * * 1-4" in pr


def _phase_kinds(out: Path, env: str, d: str) -> tuple[set, set]:
    """(namespaced, cluster) kinds the phase directory holds, ACK templates of its RGDs included."""
    ns, cl = set(), set()
    for f in (out / "environments" / env / d).rglob("*.yaml"):
        if f.name == "kustomization.yaml":
            continue
        for doc in _docs(f):
            g = doc["apiVersion"].split("/")[0]
            (cl if doc["kind"] in ("ResourceGraphDefinition",) else ns).add((g, doc["kind"]))
            for r in (doc.get("spec") or {}).get("resources") or []:
                if "externalRef" in r:  # another phase's object kro reads: not created here
                    continue
                t = r["template"]
                ns.add((t["apiVersion"].split("/")[0], t["kind"]))
                # ACK objects are never deleted with AWS: retain on every template
                assert t["metadata"]["annotations"]["services.k8s.aws/deletion-policy"] == "retain"
    return ns, cl


def test_applications_and_projects(three_envs):
    out, _ = three_envs
    for env in ENVS:
        plan = _plan(out, env)
        ns_name = plan["namespace"]
        kust = _docs(out / "environments" / env / "argocd" / "kustomization.yaml")[0]
        root = _docs(out / "environments" / env / "argocd" / "root-app.yaml")
        assert {d["kind"] for d in root} == {"AppProject", "Application"}
        assert root[1]["spec"]["source"]["path"] == f"migration/environments/{env}/argocd"
        assert {"group": "argoproj.io", "kind": "Application"} in root[0]["spec"]["namespaceResourceWhitelist"]
        nsdoc = _docs(out / "environments" / env / "argocd" / "namespace.yaml")[0]
        assert nsdoc["kind"] == "Namespace" and nsdoc["metadata"]["name"] == ns_name
        assert nsdoc["metadata"]["annotations"]["argocd.argoproj.io/sync-options"] == "Prune=false,Delete=false"
        waves = []
        for ph in plan["phases"]:
            assert f"{ph['dir']}.yaml" in kust["resources"]
            proj, app = _docs(out / "environments" / env / "argocd" / f"{ph['dir']}.yaml")
            assert proj["kind"] == "AppProject" and app["kind"] == "Application"
            # the project exists before the Application that uses it (waves of the app of apps)
            assert int(proj["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]) < 0 < ph["number"]
            assert app["spec"]["project"] == proj["metadata"]["name"] == ph["argocd"]["project"]
            assert app["metadata"]["name"] == ph["argocd"]["application"]
            step = "adopt" if (env, ph["phase"]) == ("dev", "network") else "read-only"
            assert app["spec"]["source"] == {"repoURL": REPO, "targetRevision": "HEAD",
                                             "path": f"migration/environments/{env}/{ph['dir']}/{step}"}
            assert app["metadata"]["labels"]["tf2kro.dev/step"] == step
            sp = app["spec"]["syncPolicy"]
            assert sp["automated"]["prune"] is False
            assert {"ServerSideApply=true", "SkipDryRunOnMissingResource=true"} <= set(sp["syncOptions"])
            assert "finalizers" not in app["metadata"]  # deleting the Application deletes nothing
            assert app["spec"]["destination"]["namespace"] == ns_name
            waves.append(int(app["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]))
            # the project may create exactly the kinds of this phase
            ns_kinds, cl_kinds = _phase_kinds(out, env, ph["dir"])
            assert {(w["group"], w["kind"]) for w in proj["spec"]["namespaceResourceWhitelist"]} == ns_kinds
            assert {(w["group"], w["kind"]) for w in proj["spec"]["clusterResourceWhitelist"]} == cl_kinds
            acks = {k for g, k in ns_kinds if g.endswith(".services.k8s.aws")}
            mapped = {it["kind"] for it in ph["items"] if it["status"] == "mapped"}
            assert acks == mapped
            assert proj["spec"]["destinations"] == [{"server": ga.IN_CLUSTER, "namespace": ns_name}]
            assert proj["spec"]["sourceRepos"] == [REPO]
            # RGD and instance: never pruned, kept when the Application goes
            for sub in ("read-only", "adopt"):
                for f in ("rgd.yaml", "instance.yaml"):
                    for d in _docs(out / "environments" / env / ph["dir"] / sub / f):
                        opts = d["metadata"]["annotations"]["argocd.argoproj.io/sync-options"].split(",")
                        assert {"ServerSideApply=true", "Prune=false", "Delete=false"} <= set(opts)
        assert waves == sorted(waves) and waves == [ph["number"] for ph in plan["phases"]]
        # the prerequisites (ClusterSecretStore) go first, in their own project
        if (out / "environments" / env / "00-prerequisites").exists():
            proj, app = _docs(out / "environments" / env / "argocd" / "00-prerequisites.yaml")
            assert app["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] == "0"
            assert {"group": "external-secrets.io", "kind": "ClusterSecretStore"} in proj["spec"]["clusterResourceWhitelist"]


def test_read_only_to_adopt_is_one_reviewed_change(three_envs):
    out, _ = three_envs
    plan = _plan(out, "staging")
    ph = plan["phases"][0]
    pr = (out / "prs/staging" / f"{ph['dir']}.md").read_text()
    assert ph["argocd"]["step"] == "read-only"
    assert f"-    path: migration/environments/staging/{ph['dir']}/read-only" in pr
    assert f"+    path: migration/environments/staging/{ph['dir']}/adopt" in pr
    assert ph["argocd"]["file"] in pr and "--adopt staging/network" in pr
    # the status check in the PR also reads the Application
    assert "kubectl -n argocd get applications -o json > applications.json" in pr
    assert f"--env staging --phase {ph['phase']} --kubectl-json {ph['dir']}.json --applications-json applications.json" in pr
    # the change is exactly that one line: the adopt/ Application differs only in path and step label
    dev_app = _docs(out / "environments/dev/argocd" / f"{ph['dir']}.yaml")[1]
    stg_app = _docs(out / "environments/staging/argocd" / f"{ph['dir']}.yaml")[1]
    assert dev_app["spec"]["source"]["path"].endswith("/adopt") and stg_app["spec"]["source"]["path"].endswith("/read-only")


def test_health_patch_covers_every_synced_kind(three_envs):
    out, _ = three_envs
    text = (out / "argocd" / "argocd-cm-health.yaml").read_text()
    cm = _docs(out / "argocd" / "argocd-cm-health.yaml")[0]
    assert "_VPC: |\n    -- tf2kro: health of an ACK resource" in text  # Lua as literal blocks, readable in review
    assert all(re.fullmatch(r"[-._a-zA-Z0-9]+", k) for k in cm["data"])  # valid ConfigMap keys
    assert cm["kind"] == "ConfigMap" and cm["metadata"]["name"] == "argocd-cm"
    for env in ENVS:
        for ph in _plan(out, env)["phases"]:
            ns_kinds, _ = _phase_kinds(out, env, ph["dir"])
            for g, k in ns_kinds:
                key = f"resource.customizations.health.{g}_{k}"
                if g.endswith(".services.k8s.aws"):
                    assert cm["data"][key] == lua("ack")
                elif g == INSTANCE_GROUP:
                    assert cm["data"][key] == lua("kro-instance")


def test_three_environments_validate(three_envs):
    out, _ = three_envs
    rep = validate_tree(out, [])
    assert rep.ok, rep.errors[:5]
    assert rep.objects == sum(1 for _ in _all_docs(out))
    kinds = {(o.get("kind")) for o in _all_docs(out)}
    assert {"Application", "AppProject", "ResourceGraphDefinition"} <= kinds
    # the ArgoCD objects were checked against the bundled CRDs (an unknown field would be an error)
    assert not [f for f in rep.warnings if "Application" in str(f) and "no CRD" in str(f)]


def _all_docs(out: Path):
    for f in out.rglob("*.yaml"):
        if ".tf2kro" not in f.parts:
            yield from _docs(f)


@pytest.mark.skipif(KUBECTL is None, reason="kubectl not on PATH")
def test_three_environments_kustomize_build(three_envs):
    out, _ = three_envs
    dirs = sorted({p.parent for p in out.rglob("kustomization.yaml")})
    assert any(d.name == "argocd" for d in dirs)
    for d in dirs:
        proc = subprocess.run([KUBECTL, "kustomize", str(d)], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, (d, proc.stderr)
        built = [x for x in yaml.safe_load_all(proc.stdout) if x]
        assert built, d
        if d.name == "argocd":
            apps = [x for x in built if x["kind"] == "Application"]
            env = d.parent.name
            assert len(apps) == 1 + len(_plan(out, env)["phases"]) + (1 if (d.parent / "00-prerequisites").exists() else 0)


# ---------------------------------------------------------------------------------------------- options, merges, errors
def _small_state(tmp_path: Path, name: str) -> Path:
    p = tmp_path / f"{name}.tfstate"
    p.write_text(sf.state(sf.resource("aws_vpc", "this", sf.vpc()),
                          sf.resource("aws_subnet", "a", [sf.subnet(0)], index_keys=[0])))
    return p


def test_single_env_without_repo_url_is_unchanged(tmp_path):
    st = _small_state(tmp_path, "s")
    out = tmp_path / "plan"
    res = _run("plan", "--state", st, "--out", out, "--env", "dev")
    assert res.exit_code == 0, res.output
    assert not (out / "environments/dev/argocd").exists() and not (out / "argocd").exists()
    assert "no --repo-url" in res.output
    plan = _plan(out, "dev")
    assert plan["predecessor"] is None and plan["phases"][0]["argocd"] is None and plan["phases"][0]["gate"] is None


def test_separate_runs_merge_index_and_health(tmp_path):
    dev, prod = _small_state(tmp_path, "dev"), _small_state(tmp_path, "prod")
    out = tmp_path / "plan"
    assert _run("plan", "--state", dev, "--root", "net", "--env", "dev", "--out", out, "--repo-url", REPO).exit_code == 0
    assert _run("plan", "--state", prod, "--root", "net", "--env", "prod", "--out", out, "--repo-url", REPO).exit_code == 0
    cm = _docs(out / "argocd/argocd-cm-health.yaml")[0]["data"]
    assert f"resource.customizations.health.{INSTANCE_GROUP}_DevNetNetwork" in cm
    assert f"resource.customizations.health.{INSTANCE_GROUP}_ProdNetNetwork" in cm
    co = (out / "CODEOWNERS").read_text()
    assert "/environments/dev/01-network/ @platform-network\n" in co
    assert "/environments/prod/01-network/ @platform-prod-approvers\n" in co
    assert (out / "environments/dev/argocd/01-network.yaml").exists()


def test_estate_file_roots_are_environments(tmp_path):
    dev, stg = _small_state(tmp_path, "dev"), _small_state(tmp_path, "stg")
    est = tmp_path / "tf2kro.yaml"
    est.write_text(yaml.safe_dump({"version": 1, "roots": [
        {"name": "net-dev", "state": dev.name, "env": "dev"}, {"name": "net-staging", "state": stg.name, "env": "staging"}]}))
    out = tmp_path / "plan"
    res = _run("plan", "--estate", est, "--out", out, "--repo-url", REPO)
    assert res.exit_code == 0, res.output
    assert _plan(out, "staging")["predecessor"] == "dev" and _plan(out, "dev")["environments"] == ["dev", "staging"]
    est.write_text(yaml.safe_dump({"version": 1, "roots": [
        {"name": "a", "state": dev.name, "env": "dev"}, {"name": "b", "state": stg.name}]}))
    res = CliRunner().invoke(main, ["plan", "--estate", str(est), "--out", str(tmp_path / "p2")])
    assert res.exit_code == 2 and "env:" in res.output


def test_destination_per_environment(tmp_path):
    dev, prod = _small_state(tmp_path, "dev"), _small_state(tmp_path, "prod")
    out = tmp_path / "plan"
    res = _run("plan", "--env", f"dev={dev}", "--env", f"prod={prod}", "--out", out, "--repo-url", REPO,
               "--destination", "prod=https://prod.eks.example:443", "--sync-window", "30 6 * * 2|90m",
               "--prod-owners", "@acme/cab")
    assert res.exit_code == 0, res.output
    dev_proj, dev_app = _docs(out / "environments/dev/argocd/01-network.yaml")
    prod_proj, prod_app = _docs(out / "environments/prod/argocd/01-network.yaml")
    assert dev_app["spec"]["destination"]["server"] == ga.IN_CLUSTER
    assert prod_app["spec"]["destination"]["server"] == "https://prod.eks.example:443"
    assert prod_proj["spec"]["syncWindows"][0]["schedule"] == "30 6 * * 2"
    assert prod_proj["spec"]["syncWindows"][0]["duration"] == "90m"
    assert "@acme/cab" in (out / "CODEOWNERS").read_text()


@pytest.mark.parametrize("extra,message", [
    (["--repo-url", "https://x/y.git\nkind: Secret"], "--repo-url"),
    (["--repo-url", "file:///etc"], "--repo-url"),
    (["--repo-url", REPO, "--sync-window", "every day|4h"], "--sync-window"),
    (["--repo-url", REPO, "--sync-window", "0 9 * * 1|forever"], "--sync-window"),
    (["--repo-url", REPO, "--repo-path", "../up"], "--repo-path"),
    (["--repo-url", REPO, "--destination", "http://plain"], "--destination"),
    (["--repo-url", REPO, "--destination", "nope=https://x"], "not planned"),
    (["--repo-url", REPO, "--adopt", "nosuch"], "unknown phase"),
    (["--adopt", "network"], "--repo-url"),
    (["--repo-url", REPO, "--revision", "a b"], "--revision"),
])
def test_bad_gitops_options_are_one_line_errors(tmp_path, extra, message):
    st = _small_state(tmp_path, "s")
    res = CliRunner().invoke(main, ["plan", "--state", str(st), "--out", str(tmp_path / "p"), *extra])
    assert res.exit_code == 2 and message in res.output, res.output
    assert len(res.output.strip().splitlines()) == 1
    assert not (tmp_path / "p").exists()


@pytest.mark.parametrize("envs,message", [
    (["dev=a", "dev=b"], "given twice"),
    (["dev", "prod=b"], "NAME=STATE"),
    (["Dev=a"], "DNS-1123"),
    (["dev="], "NAME=STATE"),
])
def test_bad_env_lists(tmp_path, envs, message):
    args = ["plan", "--out", str(tmp_path / "p")]
    for e in envs:
        args += ["--env", e]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2 and message in res.output, res.output


def test_live_capture_per_environment(tmp_path):
    dev, prod = _small_state(tmp_path, "dev"), _small_state(tmp_path, "prod")
    vpc = sf.vpc()
    cap = tmp_path / "live.json"
    cap.write_text(json.dumps({"format": "tf2kro-live-capture/v1", "region": "eu-west-1", "captured_at": "2026-01-01T00:00:00Z",
                               "scope": {}, "types": {"aws_vpc": {"tf_type": "aws_vpc", "requested": [vpc["id"]], "items": {}}}}))
    out = tmp_path / "plan"
    base = ["plan", "--env", f"dev={dev}", "--env", f"prod={prod}", "--out", str(out)]
    res = CliRunner().invoke(main, [*base, "--live", str(cap)])
    assert res.exit_code == 2 and "ENV=CAPTURE" in res.output
    res = CliRunner().invoke(main, [*base, "--live", f"dev={cap}", "--live", f"dev={cap}"])
    assert res.exit_code == 2 and "two captures" in res.output
    res = _run(*base, "--live", f"dev={cap}")
    assert res.exit_code == 0, res.output
    # dev checked against its capture (the VPC is missing there: blocking), prod not checked
    assert _plan(out, "dev")["phases"][0]["adoption_would_change"] is not None
    assert _plan(out, "prod")["phases"][0]["adoption_would_change"] is None
    # prod's gate reflects what the dev capture found: blocking (the VPC is gone in the capture) or 0
    pr = (out / "prs/prod/01-network.md").read_text()
    blocking = [f for f in _plan(out, "dev")["phases"][0]["findings"] if f["severity"] == "blocking"]
    assert blocking and f"dev/01-network has {len(blocking)} blocking finding(s)" in pr
    assert "not checked for dev" not in pr


def test_env_states_exclude_state_option(tmp_path):
    st = _small_state(tmp_path, "s")
    res = CliRunner().invoke(main, ["plan", "--state", str(st), "--env", f"dev={st}", "--env", f"prod={st}",
                                    "--out", str(tmp_path / "p")])
    assert res.exit_code == 2 and "--state" in res.output


# ---------------------------------------------------------------------------------------------- status
def test_status_reads_applications(tmp_path):
    st = _small_state(tmp_path, "s")
    out = tmp_path / "plan"
    assert _run("plan", "--state", st, "--env", "dev", "--out", out, "--repo-url", REPO).exit_code == 0
    plan = _plan(out, "dev")
    ph = plan["phases"][0]
    objs = [{"apiVersion": it["api_version"], "kind": it["kind"],
             "metadata": {"name": it["name"], "namespace": plan["namespace"],
                          "annotations": {"services.k8s.aws/adopted": "true"}},
             "status": {"conditions": [SYNCED]}} for it in ph["items"] if it["status"] == "mapped"]
    kj = tmp_path / "ack.json"
    kj.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objs}))

    def apps(path: str, sync: str, health: str) -> Path:
        p = tmp_path / "apps.json"
        p.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": [
            {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
             "metadata": {"name": ph["argocd"]["application"], "namespace": "argocd"},
             "spec": {"source": {"path": path}},
             "status": {"sync": {"status": sync}, "health": {"status": health}}}]}))
        return p

    base = f"environments/dev/{ph['dir']}"
    res = _run("plan", "--status", "--out", out, "--env", "dev", "--kubectl-json", kj)
    assert res.exit_code == 0 and "argocd" not in res.output  # without Applications: not checked
    res = _run("plan", "--status", "--out", out, "--env", "dev", "--kubectl-json", kj,
               "--applications-json", apps(f"{base}/read-only", "Synced", "Healthy"))
    # ArgoCD still syncs read-only/: the adopt step cannot be done
    assert res.exit_code == 1 and "adopt: pending" in res.output and "Synced/Healthy, syncs read-only/" in res.output
    res = _run("plan", "--status", "--out", out, "--env", "dev", "--kubectl-json", kj,
               "--applications-json", apps(f"{base}/adopt", "OutOfSync", "Degraded"), "--format", "json")
    doc = json.loads(res.output)
    assert res.exit_code == 1 and doc[0]["steps"]["argocd"] == "pending" and doc[0]["argocd"]["health"] == "Degraded"
    res = _run("plan", "--status", "--out", out, "--env", "dev", "--kubectl-json", kj,
               "--applications-json", apps(f"{base}/adopt", "Synced", "Healthy"))
    assert res.exit_code == 0, res.output
    empty = tmp_path / "none.json"
    empty.write_text('{"apiVersion": "v1", "kind": "List", "items": []}')
    res = _run("plan", "--status", "--out", out, "--env", "dev", "--kubectl-json", kj, "--applications-json", empty)
    assert res.exit_code == 1 and "Application not found" in res.output


# ---------------------------------------------------------------------------------------------- property: sinks
_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(repo=st.one_of(_text, _text.map(lambda s: "https://" + s)), rev=_text, prefix=_text, dest=_text.map(lambda s: "https://" + s))
def test_user_strings_reach_yaml_verbatim_or_are_refused(repo, rev, prefix, dest):
    """--repo-url/--revision/--repo-path/--destination flow into Application YAML: refused with ToolError, or
    written so that parsing the YAML gives back exactly the value (no injected keys or documents)."""
    from converter.emit.writer import dump_yaml

    try:
        opts = ga.GitOpsOptions(repo, rev or "HEAD", prefix, "argocd", dest)
    except ToolError:
        return
    assert "\n" not in opts.repo_url and " " not in opts.repo_url
    pk = ga.PhaseKinds("01-network", "network", 1, (("ec2.services.k8s.aws", "VPC"),), (("kro.run", "ResourceGraphDefinition"),))
    docs = ga.phase_objects("dev", "dev-infrastructure", pk, "read-only", opts, ga.SyncWindow())
    back = list(yaml.safe_load_all(dump_yaml(docs)))
    assert back == docs
    assert back[1]["spec"]["source"]["repoURL"] == repo and back[1]["spec"]["destination"]["server"] == dest
    assert ".." not in back[1]["spec"]["source"]["path"].split("/")


@settings(max_examples=200, deadline=None)
@given(owners=_text)
def test_codeowners_rules_stay_one_rule_per_line(owners):
    """--prod-owners flows into CODEOWNERS: refused, or one line per rule whose owners are exactly the tokens."""
    from converter.plan.environments import codeowners_value
    from converter.plan.render import codeowners

    try:
        value = codeowners_value(owners, "--prod-owners")
    except ToolError:
        return
    doc = {"env": "prod", "prod": True, "prod_owners": value, "phases": [{"dir": "01-network", "owners": "@net", "argocd": None}]}
    lines = [ln for ln in codeowners([doc]).splitlines() if not ln.startswith("#")]
    assert [ln.split()[0] for ln in lines] == ["*", "/environments/prod/", "/prs/prod/",
                                               "/environments/prod/00-prerequisites/", "/environments/prod/01-network/",
                                               "/terraform/prod/01-network/", "/argocd/", "/ci/", "/.github/",
                                               "/CODEOWNERS"]
    for ln in lines:
        assert ln.split()[1:] == list(dict.fromkeys(value.split())) and "#" not in ln and "\r" not in ln


@settings(max_examples=150, deadline=None)
@given(value=_text)
def test_sync_window_is_refused_or_well_formed(value):
    try:
        w = ga.SyncWindow.parse(value)
    except ToolError:
        return
    assert len(w.schedule.split()) == 5 and w.duration[-1] in "hm" and "\n" not in w.schedule


@settings(max_examples=100, deadline=None)
@given(env=st.from_regex(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", fullmatch=True),
       dirname=st.sampled_from(["00-prerequisites", "01-network", "05-other"]))
def test_application_names_fit_a_label(env, dirname):
    name = ga.app_name(env, dirname)
    assert len(name) <= 63 and name[0].isalnum() and name[-1].isalnum()
    assert ga.app_name(env, dirname) != ga.app_name(env, "02-identity")


def test_phase_without_objects_has_no_application(tmp_path):
    st = tmp_path / "s.tfstate"
    st.write_text(sf.state(sf.resource("aws_vpc", "this", sf.vpc()),
                           sf.resource("aws_lambda_function", "f", {"id": "fn", "function_name": "fn"})))
    out = tmp_path / "plan"
    assert _run("plan", "--state", st, "--env", "dev", "--out", out, "--repo-url", REPO).exit_code == 0
    plan = _plan(out, "dev")
    empty = [ph for ph in plan["phases"] if not any(it["status"] == "mapped" for it in ph["items"])]
    if not empty:
        pytest.skip("aws_lambda_function is mapped now")
    for ph in empty:
        assert ph["argocd"] is None
        assert not (out / "environments/dev/argocd" / f"{ph['dir']}.yaml").exists()
        assert f"argocd/{ph['dir']}.yaml" not in (out / "CODEOWNERS").read_text()
        assert "## ArgoCD" not in (out / "prs/dev" / f"{ph['dir']}.md").read_text()
    kust = _docs(out / "environments/dev/argocd/kustomization.yaml")[0]["resources"]
    assert all((out / "environments/dev/argocd" / r).exists() for r in kust)


def test_hand_edited_step_survives_a_re_run(tmp_path):
    """The reviewed read-only → adopt edit is the user's: a re-run keeps it (and says so); --adopt writes it."""
    st = _small_state(tmp_path, "s")
    out = tmp_path / "plan"
    base = ["plan", "--state", st, "--env", "dev", "--out", out, "--repo-url", REPO]
    assert _run(*base).exit_code == 0
    app_file = out / "environments/dev/argocd/01-network.yaml"
    app_file.write_text(app_file.read_text().replace("01-network/read-only", "01-network/adopt"))
    res = _run(*base)
    assert res.exit_code == 0 and "kept environments/dev/argocd/01-network.yaml" in res.output
    assert _docs(app_file)[1]["spec"]["source"]["path"] == "environments/dev/01-network/adopt"
    res = _run(*base, "--adopt", "network", "--force")
    assert res.exit_code == 0
    assert _docs(app_file)[1]["spec"]["source"]["path"] == "environments/dev/01-network/adopt"
    assert _plan(out, "dev")["phases"][0]["argocd"]["step"] == "adopt"


def test_repo_path_moves_the_ci_into_the_tree(three_envs):
    """--repo-path: the jobs that read the tree run in it, the drift steps call its scripts from the repository
    root (the state paths are repository paths), the CronWorkflow runs the tree's ci/drift.sh."""
    out, _ = three_envs
    for wf in ("tf2kro-pr.yml", "tf2kro-drift.yml"):
        doc = yaml.safe_load((out / ".github/workflows" / wf).read_text())
        assert doc["jobs"]["targets"]["defaults"]["run"]["working-directory"] == "migration"
        runs = [st.get("run", "") for job in doc["jobs"].values() for st in job["steps"]]
        assert any(r.startswith('sh "migration"/ci/drift.sh') for r in runs), runs
        assert not any(r.startswith("sh ci/drift.sh") for r in runs)
    pr = yaml.safe_load((out / ".github/workflows/tf2kro-pr.yml").read_text())
    assert pr["jobs"]["validate"]["defaults"]["run"]["working-directory"] == "migration"
    assert "move `.github/` to the root" in (out / ".github/workflows/tf2kro-pr.yml").read_text()
    from converter.ci.argo import drift_cronworkflow
    from converter.ci.targets import Target

    cron = [d for d in drift_cronworkflow([Target("a", "a", "a", "111122223333", "eu-west-1", "s.tfstate")],
                                          tree="migration") if d["kind"] == "CronWorkflow"]
    cmds = [t["container"]["command"] for t in cron[0]["spec"]["workflowSpec"]["templates"] if "container" in t]
    assert cmds and all(c == ["/bin/sh", "/work/src/migration/ci/drift.sh"] for c in cmds)
    assert "This tree lives in /migration/" in (out / "CODEOWNERS").read_text()
