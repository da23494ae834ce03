"""tf2kro fleet / fleet init: derived fleet file, golden output, CRD validity, Helm values fidelity, secrets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from converter.cli import main
from converter.fleet.argocd import preview_applications, render_go_template
from converter.fleet.config import from_dict, helm_values, load_fleet
from converter.fleet.render import kind_counts, render_fleet
from converter.pipeline import REPO_ROOT, load_estate
from tests import statefactory as sf

SAMPLES = REPO_ROOT / "samples"
STATE = SAMPLES / "estate" / "terraform.tfstate"
FLEET = SAMPLES / "fleet.yaml"
GOLDEN = SAMPLES / "expected" / "fleet"
# samples/estate/README.md, "Sensitive values planted"
PLANTED = [
    "S3cr3t-sample-PW-do-not-leak-9f2c",
    "$2a$10$Sample.Bcrypt.Hash.DoNotLeak.9f2cQ0yZk1mXQeT4rS8vW2uO6pL",
    "U0FNUExFLUZMVVgtREVQTE9ZLUtFWS1ETy1OT1QtTEVBSy05ZjJj",
    "SAMPLE-FLUX-DEPLOY-KEY-DO-NOT-LEAK-9f2c",
    "FAKE-SAMPLE-TOKEN-DO-NOT-LEAK",
    "k8s-aws-v1.",
]
INIT_ARGS = ["fleet", "init", "--state", "samples/estate/terraform.tfstate", "--hcl", "samples/estate",
             "--progressive", "aws-load-balancer-controller=bluegreen",
             "--signing-key", "samples/fleet-signing-key.asc", "--out", "samples/fleet.yaml"]


def _run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def estate():
    return load_estate(STATE, SAMPLES / "estate")


@pytest.fixture(scope="module")
def fleet():
    return load_fleet(FLEET)


@pytest.fixture(scope="module")
def files(fleet, estate):
    return render_fleet(fleet, estate)


def _docs(files, skip=("policies/gator/cases/",)):
    for rel, text in sorted(files.items()):
        if rel.endswith(".yaml") and not rel.startswith(skip):
            for d in yaml.safe_load_all(text):
                if isinstance(d, dict) and d.get("kind"):
                    yield rel, d


def test_init_finds_cluster_and_helm_app(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    out = tmp_path / "fleet.yaml"
    args = INIT_ARGS[:-1] + [str(out)]
    res = _run(*args)
    assert res.exit_code == 0, res.output
    assert "1 clusters, 1 applications" in res.output
    doc = yaml.safe_load(out.read_text())
    [c] = doc["spec"]["clusters"]
    assert (c["name"], c["env"], c["region"], c["accountId"], c["version"]) == (
        "platform-staging", "staging", "eu-west-1", "111122223333", "1.30")
    assert c["server"].startswith("https://") and c["caData"] and c["purpose"] == "platform"
    [app] = doc["spec"]["applications"]
    assert (app["chart"], app["repoURL"], app["version"], app["namespace"]) == (
        "aws-load-balancer-controller", "https://aws.github.io/eks-charts", "1.9.2", "kube-system")
    assert app["envs"] == ["staging"] and app["progressiveDelivery"]["strategy"] == "bluegreen"
    assert app["clusterValues"] == {"clusterName": "name", "region": "region", "vpcId": "vpcId"}
    names = {s["source"] for s in doc["spec"]["externalSecrets"]["secrets"]}
    assert names == {"aws_db_instance.postgres", "aws_secretsmanager_secret.db"}
    text = out.read_text()
    assert not any(p in text for p in PLANTED)


def test_sample_fleet_file_is_regenerated_by_documented_command(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    out = tmp_path / "samples" / "fleet.yaml"
    out.parent.mkdir()
    # same relative layout as the committed file, so source paths compare equal
    args = INIT_ARGS[:-1] + [str(out)]
    (tmp_path / "samples" / "estate").symlink_to(SAMPLES / "estate")
    args[3] = str(tmp_path / "samples" / "estate" / "terraform.tfstate")
    args[5] = str(tmp_path / "samples" / "estate")
    assert _run(*args).exit_code == 0
    got, want = yaml.safe_load(out.read_text()), yaml.safe_load(FLEET.read_text())
    # the parts added by hand (docs/fleet.md, "The sample fleet"): a cluster of a second account and region, which
    # the sample state does not hold, and the namespaced SecretStores; everything else is the command's output
    derived = {c["name"] for c in got["spec"]["clusters"]}
    hand = [c["name"] for c in want["spec"]["clusters"] if c["name"] not in derived]
    assert hand == ["platform-prod-use1"]
    want["spec"]["clusters"] = [c for c in want["spec"]["clusters"] if c["name"] in derived]
    assert want["spec"]["externalSecrets"]["store"].pop("namespaces")
    assert got == want, "samples/fleet.yaml is stale: rerun the command in docs/fleet.md"


def test_golden_output(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    out = tmp_path / "fleet"
    res = _run("fleet", "--config", str(FLEET), "--out", str(out))
    assert res.exit_code == 0, res.output
    got = {str(p.relative_to(out)): p.read_text() for p in out.rglob("*")
           if p.is_file() and p.relative_to(out).parts[0] != ".tf2kro"}  # the manifest: bookkeeping, not output
    want = {str(p.relative_to(GOLDEN)): p.read_text() for p in GOLDEN.rglob("*") if p.is_file()}
    assert sorted(got) == sorted(want), "regenerate: see docs/fleet.md"
    for rel in want:
        assert got[rel] == want[rel], f"{rel} differs from samples/expected/fleet (regenerate: see docs/fleet.md)"


def test_kinds_emitted(files):
    c = kind_counts(files)
    for kind in ("ApplicationSet", "AppProject", "Application", "Secret", "Canary", "MetricTemplate",
                 "ClusterSecretStore", "ExternalSecret", "ConstraintTemplate", "Config"):
        assert c[kind] >= 1, kind


def test_every_manifest_passes_crd_validation(files):
    from converter.validate.crds import CrdIndex, is_builtin_api, validate_object
    from converter.validate.policy import constraint_crd, load_policies

    idx = CrdIndex.bundled()
    example = idx.raw_schema("constraints.gatekeeper.sh/v1beta1", "K8sRequiredLabels")
    match = example["properties"]["spec"]["properties"]["match"]
    for pol in load_policies():
        idx.add_crd(constraint_crd(pol, match))
    checked = 0
    for rel, d in _docs(files):
        if d["kind"] == "Suite":  # gator's test file, not an API object
            continue
        # built-in kinds without a bundled schema (the loadtester's Deployment/Service): `tf2kro validate` grades
        # them as the runner does, not as errors
        problems = [p for p in validate_object(d, idx) if p.severity == "error"
                    and not (p.code == "no-crd" and is_builtin_api(d["apiVersion"]))]
        if d["kind"] == "Component":  # kustomize: shape check only; its patches are checked as objects
            assert problems == []
            for entry in d["patches"]:
                patch = yaml.safe_load(entry["patch"])
                assert not validate_object(patch, idx), f"{rel} patch {patch['kind']}"
                checked += 1
            continue
        assert not problems, f"{rel} {d['kind']}: {problems}"
        checked += 1
    assert checked >= 40


def test_cluster_secret_uses_iam_auth_and_no_token(files, fleet):
    [secret] = [d for _r, d in _docs(files) if d["kind"] == "Secret" and d["stringData"]["name"] == "platform-staging"]
    md = secret["metadata"]
    assert md["labels"]["argocd.argoproj.io/secret-type"] == "cluster"
    assert md["labels"]["env"] == "staging" and md["labels"]["region"] == "eu-west-1"
    assert md["labels"]["cluster-generation"] == "blue" and md["labels"]["purpose"] == "platform"
    cfg = json.loads(secret["stringData"]["config"])
    assert cfg["awsAuthConfig"] == {"clusterName": "platform-staging",
                                    "roleARN": "arn:aws:iam::111122223333:role/argocd-deployer"}
    assert cfg["tlsClientConfig"]["caData"] == fleet.clusters[0].ca_data
    assert secret["stringData"]["server"] == fleet.clusters[0].server
    assert "bearerToken" not in secret["stringData"]["config"] and "password" not in secret["stringData"]["config"]


def test_projects_rbac_windows_signatures(files):
    projects = {d["metadata"]["name"]: d for _r, d in _docs(files) if d["kind"] == "AppProject"}
    assert set(projects) == {"dev", "staging", "prod", "platform"}
    for p in projects.values():
        assert p["spec"]["signatureKeys"] == [{"keyID": "470D4DCDFF9796CC"}]  # samples/fleet-signing-key.asc
        assert {r["name"] for r in p["spec"]["roles"]} >= ({"admin"} if p["metadata"]["name"] == "platform"
                                                          else {"admin", "deployer"})
    assert {w["kind"] for w in projects["prod"]["spec"]["syncWindows"]} == {"allow", "deny"}
    assert "syncWindows" not in projects["staging"]["spec"]


def test_applicationset_matrix_and_gotemplate(files):
    aset = yaml.safe_load(files["hub/argocd/applicationsets/aws-load-balancer-controller.yaml"])
    spec = aset["spec"]
    assert spec["goTemplate"] is True and spec["goTemplateOptions"] == ["missingkey=error"]
    git, clusters = spec["generators"][0]["matrix"]["generators"]
    assert git["git"]["directories"] == [{"path": "fleet/apps/aws-load-balancer-controller/envs/*"}]
    sel = clusters["clusters"]["selector"]
    assert sel["matchLabels"]["env"] == "{{.path.basename}}"
    keys = {e["key"]: e["values"] for e in sel["matchExpressions"]}
    assert keys == {"purpose": ["platform"], "region": ["eu-west-1"], "cluster-generation": ["blue", "green"]}
    assert "apps/aws-load-balancer-controller/envs/staging/values.yaml" in files
    boot = yaml.safe_load(files["bootstrap/root-app.yaml"])
    assert boot["kind"] == "Application" and boot["spec"]["source"]["path"] == "fleet/hub"


def test_helm_release_becomes_application_with_same_chart_and_values(fleet, estate, files):
    inst = next(i for i in estate.state.instances if i.type == "helm_release")
    a = inst.attributes
    [app] = preview_applications(fleet, fleet.applications[0])
    chart = app["spec"]["sources"][0]
    assert (chart["repoURL"], chart["chart"], chart["targetRevision"]) == (a["repository"], a["chart"], a["version"])
    assert chart["helm"]["valuesObject"] == helm_values(a)
    assert chart["helm"]["parameters"] == [{"name": s["name"], "value": s["value"]} for s in a["set"]]
    # what Helm ends up with (values + set) equals what Terraform deployed (metadata.values)
    merged = json.loads(json.dumps(chart["helm"]["valuesObject"]))
    for p in chart["helm"]["parameters"]:
        node = merged
        *head, last = p["name"].split(".")
        for h in head:
            node = node.setdefault(h, {})
        node[last] = int(p["value"]) if p["value"].isdigit() else p["value"]
    assert merged == json.loads(a["metadata"][0]["values"])
    assert app["spec"]["destination"] == {"server": fleet.clusters[0].server, "namespace": "kube-system"}
    assert app["metadata"]["name"] == "aws-load-balancer-controller-platform-staging"
    assert files["review/applications/aws-load-balancer-controller-platform-staging.yaml"]


def test_go_template_missing_key_is_an_error():
    with pytest.raises(KeyError):
        render_go_template("{{index .metadata.labels \"nope\"}}", {"metadata": {"labels": {}}})
    assert render_go_template("{{.name}}-{{index .path.segments 1}}", {"name": "c", "path": {"segments": ["a", "b"]}}) == "c-b"


def test_flagger_bluegreen_with_metric_template(files):
    docs = yaml.safe_load_all(files["apps/aws-load-balancer-controller/envs/staging/manifests/aws-load-balancer-controller.yaml"])
    by_kind = {d["kind"]: d for d in docs}
    can = by_kind["Canary"]
    an = can["spec"]["analysis"]
    assert an["iterations"] == 5 and an["threshold"] == 3 and "stepWeight" not in an
    assert can["spec"]["provider"] == "kubernetes"
    [m] = an["metrics"]
    assert m["templateRef"]["name"] == by_kind["MetricTemplate"]["metadata"]["name"]
    assert m["thresholdRange"] == {"max": 1}


def test_canary_strategy_weights():
    doc = yaml.safe_load(FLEET.read_text())
    doc["spec"]["applications"][0]["progressiveDelivery"] = {"strategy": "canary", "stepWeight": 20, "maxWeight": 60}
    fl = from_dict(doc, base_dir=SAMPLES)
    files = render_fleet(fl)
    can = next(d for _r, d in _docs(files) if d["kind"] == "Canary")
    an = can["spec"]["analysis"]
    assert (an["stepWeight"], an["maxWeight"]) == (20, 60) and "iterations" not in an
    assert {m["name"] for m in an["metrics"]} == {"request-success-rate", "request-duration"}


def test_external_secrets_for_rds_password_and_secrets_manager(files):
    es = {d["metadata"]["name"]: d for _r, d in _docs(files) if d["kind"] == "ExternalSecret"}
    db = es["db-instance-postgres-master-password"]
    assert db["metadata"]["namespace"] == "infrastructure"
    assert db["spec"]["data"] == [{"secretKey": "password", "remoteRef": {
        "key": "staging/platform-staging/postgres/app", "property": "password"}}]
    store = next(d for _r, d in _docs(files) if d["kind"] == "ClusterSecretStore")
    assert store["spec"]["provider"]["aws"]["auth"]["jwt"]["serviceAccountRef"]["namespace"] == "external-secrets"
    assert db["spec"]["secretStoreRef"] == {"name": store["metadata"]["name"], "kind": "ClusterSecretStore"}
    comp = yaml.safe_load(files["patches/kustomization.yaml"])
    assert comp["kind"] == "Component"
    [entry] = comp["patches"]
    assert entry["target"] == {"group": "rds.services.k8s.aws", "version": "v1alpha1", "kind": "DBInstance",
                               "name": "db-instance-postgres"}
    patch = yaml.safe_load(entry["patch"])
    assert patch["kind"] == "DBInstance" and patch["spec"]["dbInstanceIdentifier"] == "platform-staging-app"
    assert patch["spec"]["masterUserPassword"] == {"name": "db-instance-postgres-master-password", "key": "password",
                                                   "namespace": "infrastructure"}
    sm = es["app-db"]
    assert sm["spec"]["dataFrom"] == [{"extract": {"key": "staging/platform-staging/postgres/app"}}]


def test_no_planted_secret_in_any_output(files, estate):
    secrets = [s for s in estate.secrets() if len(s) >= 6] + PLANTED
    for rel, text in files.items():
        for s in secrets:
            assert s not in text, f"{rel} leaks a sensitive value"
    fleet_text = FLEET.read_text()
    assert not any(s in fleet_text for s in secrets)


def _helm_estate(tmp_path: Path) -> Path:
    cluster = {
        "name": "apps-prod", "arn": "arn:aws:eks:us-east-1:444455556666:cluster/apps-prod",
        "endpoint": "https://ABC.gr7.us-east-1.eks.amazonaws.com", "version": "1.31",
        "certificate_authority": [{"data": "Q0EtREFUQQ=="}],
        "vpc_config": [{"vpc_id": "vpc-0123", "subnet_ids": ["subnet-1"]}],
        "tags_all": {"Environment": "production", "Team": "apps"}, "tags": {},
    }
    release = {
        "name": "grafana", "chart": "grafana", "repository": "https://grafana.github.io/helm-charts",
        "version": "8.5.1", "namespace": "monitoring",
        "values": ["adminUser: admin\nclusterLabel: apps-prod\n"],
        "set": [{"name": "replicas", "value": "2", "type": ""}],
        "set_sensitive": [{"name": "adminPassword", "value": "Gr4fana-Helm-Secret-do-not-leak", "type": ""}],
        "metadata": [], "id": "grafana",
    }
    helm = sf.resource("helm_release", "grafana", release, provider='provider["registry.terraform.io/hashicorp/helm"]')
    # as the helm provider writes it: only set_sensitive[*].value is sensitive
    helm["instances"][0]["sensitive_attributes"] = [[
        {"type": "get_attr", "value": "set_sensitive"}, {"type": "index", "value": {"value": 0, "type": "number"}},
        {"type": "get_attr", "value": "value"}]]
    st = tmp_path / "s.tfstate"
    st.write_text(sf.state(
        sf.resource("aws_eks_cluster", "this", cluster),
        helm,
    ))
    return st


def test_set_sensitive_becomes_external_secret_never_the_value(tmp_path):
    st = _helm_estate(tmp_path)
    fleet_file = tmp_path / "fleet.yaml"
    res = _run("fleet", "init", "--state", str(st), "--out", str(fleet_file), "--progressive", "grafana=canary")
    assert res.exit_code == 0, res.output
    text = fleet_file.read_text()
    assert "Gr4fana-Helm-Secret-do-not-leak" not in text
    doc = yaml.safe_load(text)
    assert doc["spec"]["clusters"][0]["env"] == "prod"
    [app] = doc["spec"]["applications"]
    assert app["secretValues"] == [{"name": "adminPassword", "remoteKey": "prod/grafana/helm-values",
                                    "property": "adminPassword"}]
    assert app["clusterValues"] == {"clusterLabel": "name"}
    out = tmp_path / "out"
    res = _run("fleet", "--config", str(fleet_file), "--out", str(out))
    assert res.exit_code == 0, res.output
    blob = "".join(p.read_text() for p in out.rglob("*") if p.is_file())
    assert "Gr4fana-Helm-Secret-do-not-leak" not in blob
    docs = list(yaml.safe_load_all((out / "apps/grafana/envs/prod/manifests/grafana.yaml").read_text()))
    es = next(d for d in docs if d["kind"] == "ExternalSecret")
    assert es["metadata"]["namespace"] == "monitoring"
    assert es["spec"]["data"] == [{"secretKey": "adminPassword",
                                   "remoteRef": {"key": "prod/grafana/helm-values", "property": "adminPassword"}}]
    aset = yaml.safe_load((out / "hub/argocd/applicationsets/grafana.yaml").read_text())
    ann = json.loads(aset["spec"]["template"]["metadata"]["annotations"]["tf2kro.dev/secret-values"])
    assert ann == [{"value": "adminPassword", "secret": "grafana-helm-secret-values", "key": "adminPassword"}]
    assert aset["spec"]["template"]["spec"]["sources"][2]["path"] == "{{.path.path}}/manifests"
    assert aset["spec"]["template"]["spec"]["sources"][0]["helm"]["valuesObject"]["clusterLabel"] == "{{.name}}"


def test_fleet_file_errors_are_tool_errors(tmp_path):
    bad = tmp_path / "f.yaml"
    bad.write_text("kind: Fleet\nspec:\n  clusters:\n  - name: x\n")
    res = CliRunner().invoke(main, ["fleet", "--config", str(bad), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "clusters[0].env is required" in res.output
    res = CliRunner().invoke(main, ["fleet"])
    assert res.exit_code == 2


def test_leak_needles_keep_the_value_and_drop_only_the_helm_value_name(tmp_path):
    from converter.commands.fleet import leak_needles

    needles = leak_needles(load_estate(_helm_estate(tmp_path)))
    assert "Gr4fana-Helm-Secret-do-not-leak" in needles and "adminPassword" not in needles


def _mutated_fleet(tmp_path: Path, mutate) -> Path:
    doc = yaml.safe_load(FLEET.read_text())
    mutate(doc["spec"])
    p = tmp_path / "bad-fleet.yaml"
    p.write_text(yaml.safe_dump(doc, sort_keys=False))
    return p


def _dup_first(key):
    def mutate(spec):
        spec[key].append(json.loads(json.dumps(spec[key][0])))
    return mutate


def _window(**kw):
    def mutate(spec):
        env = next(e for e in spec["environments"] if e.get("syncWindows"))
        env["syncWindows"][0].update(kw)
    return mutate


@pytest.mark.parametrize("mutate, needles", [
    (_dup_first("clusters"), ("cluster 'platform-staging'", "twice")),
    (_dup_first("applications"), ("application 'aws-load-balancer-controller'", "twice")),
    (_dup_first("environments"), ("environment 'dev'", "twice")),
    (_window(schedule="not a cron"), ("syncWindows[0].schedule", "not a cron")),
    (_window(schedule="0 8 * * 1-4 *"), ("syncWindows[0].schedule",)),
    (_window(duration="eight hours"), ("syncWindows[0].duration",)),
    (lambda spec: spec["gitops"].update(repoURL="not a url"), ("gitops.repoURL", "not a url")),
    (lambda spec: spec["gitops"].update(repoURL="file:///etc/passwd"), ("gitops.repoURL",)),
])
def test_invalid_fleet_file_is_refused_naming_the_key(tmp_path, mutate, needles):
    bad = _mutated_fleet(tmp_path, mutate)
    res = CliRunner().invoke(main, ["fleet", "--config", str(bad), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1, res.output
    for n in needles:
        assert n in lines[0], lines[0]
    assert not (tmp_path / "o").exists()


def test_valid_sync_window_durations_and_repo_urls_are_accepted():
    doc = yaml.safe_load(FLEET.read_text())
    for dur in ("1h30m", "90m", "72h"):
        for url in ("git@github.com:org/fleet.git", "ssh://git@example.com/fleet.git", "https://example.com/f.git"):
            doc["spec"]["environments"][0]["syncWindows"] = [
                {"kind": "allow", "schedule": "*/15 8-17 * 1,6 1-5", "duration": dur, "applications": ["*"]}]
            doc["spec"]["gitops"]["repoURL"] = url
            assert from_dict(doc, base_dir=SAMPLES).repo_url == url


@pytest.mark.parametrize("mutate, needle", [
    (lambda spec: spec["clusters"][0].update(env="nowhere"), "clusters[0].env"),
    (lambda spec: spec["clusters"][0].update(name="Bad_Name!"), "cluster name"),
    (lambda spec: spec["clusters"][0].update(accountId="12345"), "accountId"),
    (lambda spec: spec["gitSigning"]["keys"][0].update(id="0000000000000000"), "gitSigning.keys[0]"),
    (lambda spec: spec["traffic"].setdefault("gates", {}).update(provider="haproxy-x"), "traffic.gates.provider"),
])
def test_fleet_file_errors_start_with_the_file(tmp_path, mutate, needle):
    bad = _mutated_fleet(tmp_path, mutate)
    versions = tmp_path / "addons.json"
    from tests.test_fleet_upgrade import DESCRIBE

    versions.write_text(json.dumps(DESCRIBE))
    res = CliRunner().invoke(main, ["fleet", "upgrade", "--config", str(bad), "--cluster", "platform-staging",
                                    "--to", "1.31", "--out", str(tmp_path / "o"), "--state", str(STATE),
                                    "--addon-versions", str(versions)])
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert res.exit_code == 2 and len(lines) == 1, res.output
    assert lines[0].startswith(f"error: {bad}: ") and needle in lines[0], lines[0]
