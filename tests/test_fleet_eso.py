"""External Secrets per cluster account and region: one ClusterSecretStore per (account, region) with a role of
that account, the platform-base Application of each cluster picking its own, namespaced SecretStores, and a
store/role pair across accounts refused."""

from __future__ import annotations

import re

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import example, given, settings
from hypothesis import strategies as st

from converter.cli import main
from converter.fleet import externalsecrets
from converter.fleet.argocd import cluster_secret, platform_base_set, render_go_template
from converter.fleet.config import check_fleet_names, from_dict
from converter.fleet.render import render_fleet
from converter.model import ToolError
from converter.pipeline import REPO_ROOT
from converter.validate.crds import CrdIndex, is_builtin_api, validate_object

SAMPLES = REPO_ROOT / "samples"
FLEET = SAMPLES / "fleet.yaml"


def _doc() -> dict:
    return yaml.safe_load(FLEET.read_text())


def _fleet(doc=None):
    return from_dict(doc or _doc(), base_dir=SAMPLES)


def _docs(files: dict[str, str], prefix: str) -> list[tuple[str, dict]]:
    return [(rel, d) for rel, text in sorted(files.items()) if rel.startswith(prefix) and rel.endswith(".yaml")
            for d in yaml.safe_load_all(text) if isinstance(d, dict)]


def _arn_account(arn: str) -> str:
    return arn.split(":")[4]


@pytest.fixture(scope="module")
def files():
    return render_fleet(_fleet())


def test_sample_has_two_accounts_and_regions():
    fl = _fleet()
    assert {(c.account_id, c.region) for c in fl.clusters} == {("111122223333", "eu-west-1"),
                                                               ("444455556666", "us-east-1")}


def test_one_cluster_secret_store_per_account_region_with_its_region_and_role(files):
    fl = _fleet()
    stores = [(rel, d) for rel, d in _docs(files, "platform/") if d["kind"] == "ClusterSecretStore"]
    got = {(d["metadata"]["labels"]["tf2kro.dev/account-id"], d["spec"]["provider"]["aws"]["region"]): rel
           for rel, d in stores}
    assert len(got) == len(stores)  # one per account-region, no more
    assert set(got) == {(c.account_id, c.region) for c in fl.clusters}
    for (account, region), rel in got.items():
        assert rel == f"platform/stores/{account}-{region}/external-secrets.yaml"
        sas = [d for _r, d in _docs(files, rel) if d["kind"] == "ServiceAccount"]
        store = next(d for _r, d in _docs(files, rel) if d["kind"] == "ClusterSecretStore")
        ref = store["spec"]["provider"]["aws"]["auth"]["jwt"]["serviceAccountRef"]
        [sa] = [s for s in sas if (s["metadata"]["name"], s["metadata"]["namespace"]) == (ref["name"], ref["namespace"])]
        role = sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
        assert _arn_account(role) == account, (rel, role)
    # the old single store in the shared base is gone: the base has no store a wrong-account cluster could get
    assert not [d for _r, d in _docs(files, "platform/base/") if d["kind"] in ("ClusterSecretStore", "SecretStore")]


def test_each_cluster_syncs_the_store_of_its_own_account_and_region(files):
    fl = _fleet()
    aset = platform_base_set(fl)
    for c in fl.clusters:
        secret = cluster_secret(fl, c)
        params = {"name": c.name, "server": c.server,
                  "metadata": {"labels": secret["metadata"]["labels"], "annotations": secret["metadata"]["annotations"]}}
        spec = render_go_template(aset["spec"]["template"], params)["spec"]
        paths = [s["path"].removeprefix(f"{fl.path}/") for s in spec["sources"]]
        assert paths[0] == "platform/base"
        store_file = f"{paths[1]}/external-secrets.yaml"
        assert store_file in files, (c.name, store_file)
        store = next(d for _r, d in _docs(files, store_file) if d["kind"] == "ClusterSecretStore")
        assert store["spec"]["provider"]["aws"]["region"] == c.region
        assert store["metadata"]["labels"]["tf2kro.dev/account-id"] == c.account_id


def test_cross_account_role_is_refused():
    doc = _doc()
    # the pre-fix shape: one literal role of the first account for every store
    doc["spec"]["externalSecrets"]["store"]["roleARN"] = "arn:aws:iam::111122223333:role/external-secrets"
    with pytest.raises(ToolError, match="444455556666-us-east-1.*belongs to account 111122223333, not 444455556666"):
        render_fleet(_fleet(doc))
    # a per-account role of the right account fixes it
    doc["spec"]["externalSecrets"]["store"]["roleARNs"] = {
        "444455556666": "arn:aws:iam::444455556666:role/eso-{region}"}
    files = render_fleet(_fleet(doc))
    sa = next(d for _r, d in _docs(files, "platform/stores/444455556666-us-east-1/") if d["kind"] == "ServiceAccount")
    assert sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == "arn:aws:iam::444455556666:role/eso-us-east-1"
    # ... and a per-account entry naming another account is refused too
    doc["spec"]["externalSecrets"]["store"]["roleARNs"]["444455556666"] = "arn:aws:iam::111122223333:role/eso"
    with pytest.raises(ToolError, match="belongs to account 111122223333"):
        render_fleet(_fleet(doc))


def test_namespaced_store_role_of_another_account_is_refused():
    doc = _doc()
    doc["spec"]["externalSecrets"]["store"]["namespaces"][0]["roleARN"] = "arn:aws:iam::111122223333:role/apps"
    with pytest.raises(ToolError, match="namespace apps.*belongs to account 111122223333"):
        render_fleet(_fleet(doc))


def test_cli_refuses_cross_account_pair_with_exit_2(tmp_path):
    doc = _doc()
    doc["spec"]["externalSecrets"]["store"]["roleARN"] = "arn:aws:iam::111122223333:role/external-secrets"
    cfg = tmp_path / "fleet.yaml"
    cfg.write_text(yaml.safe_dump(doc))
    (tmp_path / "estate").symlink_to(SAMPLES / "estate")
    res = CliRunner().invoke(main, ["fleet", "--config", str(cfg), "--out", str(tmp_path / "out")])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1 and "444455556666" in res.output


def test_namespaced_secret_stores(files):
    fl = _fleet()
    scoped = {n["namespace"] for n in fl.store["namespaces"]}
    for scope in externalsecrets.scopes(fl):
        docs = [d for _r, d in _docs(files, f"platform/stores/{scope.key}/")]
        for ns in scoped:
            [store] = [d for d in docs if d["kind"] == "SecretStore" and d["metadata"]["namespace"] == ns]
            assert store["spec"]["provider"]["aws"]["region"] == scope.region
            sa_name = store["spec"]["provider"]["aws"]["auth"]["jwt"]["serviceAccountRef"]["name"]
            [sa] = [d for d in docs if d["kind"] == "ServiceAccount" and d["metadata"]["namespace"] == ns
                    and d["metadata"]["name"] == sa_name]
            role = sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
            assert role == f"arn:aws:iam::{scope.account}:role/external-secrets-{ns}"
    for _rel, d in _docs(files, "platform/base/"):
        if d["kind"] == "ExternalSecret":
            want = "SecretStore" if d["metadata"]["namespace"] in scoped else "ClusterSecretStore"
            assert d["spec"]["secretStoreRef"]["kind"] == want
    assert {d["metadata"]["name"] for _r, d in _docs(files, "platform/base/") if d["kind"] == "Namespace"} >= scoped


def test_hub_store_and_its_secrets(files):
    fl = _fleet()
    docs = [d for _r, d in _docs(files, "hub/external-secrets/")]
    [store] = [d for d in docs if d["kind"] == "ClusterSecretStore"]
    assert not [d for d in docs if d["kind"] == "SecretStore"]
    hub = externalsecrets.hub_scope(fl)
    assert store["spec"]["provider"]["aws"]["region"] == hub.region == "eu-west-1"
    sa = next(d for d in docs if d["kind"] == "ServiceAccount")
    assert _arn_account(sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]) == hub.account
    for d in docs:
        if d["kind"] == "ExternalSecret":
            assert d["spec"]["secretStoreRef"]["kind"] == "ClusterSecretStore"
    doc = _doc()
    doc["spec"]["hub"].update(accountId="444455556666", region="us-east-1")
    hub_files = render_fleet(_fleet(doc))
    store = next(d for _r, d in _docs(hub_files, "hub/external-secrets/") if d["kind"] == "ClusterSecretStore")
    assert store["spec"]["provider"]["aws"]["region"] == "us-east-1"


def test_app_secret_values_use_the_namespaced_store():
    doc = _doc()
    app = doc["spec"]["applications"][0]
    app["namespace"] = "apps"
    app["secretValues"] = [{"name": "auth.password", "remoteKey": "staging/lbc/helm-values", "property": "password"}]
    files = render_fleet(_fleet(doc))
    es = next(d for _r, d in _docs(files, "apps/") if d["kind"] == "ExternalSecret")
    assert es["spec"]["secretStoreRef"] == {"name": "aws-secrets-manager", "kind": "SecretStore"}


def test_store_objects_pass_the_eso_crds(files):
    idx = CrdIndex.bundled()
    checked = 0
    for rel, d in _docs(files, "platform/") + _docs(files, "hub/external-secrets/"):
        errs = [p for p in validate_object(d, idx) if p.severity == "error"
                and not (p.code == "no-crd" and is_builtin_api(d["apiVersion"]))]
        assert not errs, (rel, d["kind"], errs)
        checked += d["kind"] in ("ClusterSecretStore", "SecretStore", "ExternalSecret")
    assert checked >= 6


# ------------------------------------------------------------------------------------------ user strings


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=30))
def test_region_reaches_a_path_only_when_it_is_a_region(region):
    doc = _doc()
    doc["spec"]["clusters"][1]["region"] = region
    try:
        fl = _fleet(doc)
        check_fleet_names(fl)
    except ToolError:
        return
    for scope in externalsecrets.scopes(fl):
        assert re.fullmatch(r"\d{12}-[a-z]{2}(-[a-z]+)+-\d{1,2}", scope.key)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=60))
@example("arn:aws:iam::{account}:role/x\n")
@example("arn:aws:iam::{account}:role/ünïcode")
@example("arn:aws:iam::{account}:role/x\nkind: Secret")
def test_role_pattern_yields_a_role_of_the_store_account_or_is_refused(pattern):
    fl = _fleet()
    for scope in externalsecrets.scopes(fl):
        try:
            arn = externalsecrets.role_arn(fl, scope, pattern)
        except ToolError:
            continue
        assert arn == "" or (externalsecrets.ROLE_ARN.match(arn) and _arn_account(arn) == scope.account)
        assert "\n" not in arn


def test_hub_and_store_regions_must_be_region_names():
    for key in ("hub", "store"):
        doc = _doc()
        target = doc["spec"]["hub"] if key == "hub" else doc["spec"]["externalSecrets"]["store"]
        target["region"] = "eu-west-1\nkind: Secret"
        with pytest.raises(ToolError, match="not an AWS region name"):
            render_fleet(_fleet(doc))


def test_a_secret_goes_only_to_the_clusters_whose_store_can_read_it(files):
    fl = _fleet()
    [db] = [s for s in fl.external_secrets if s.name == "app-db"]
    assert (db.account_id, db.region) == ("111122223333", "eu-west-1")  # from the secret's ARN (fleet init)
    home = [d for _r, d in _docs(files, "platform/stores/111122223333-eu-west-1/") if d["kind"] == "ExternalSecret"]
    other = [d for _r, d in _docs(files, "platform/stores/444455556666-us-east-1/") if d["kind"] == "ExternalSecret"]
    base = [d for _r, d in _docs(files, "platform/base/") if d["kind"] == "ExternalSecret"]
    assert [d["metadata"]["name"] for d in home] == ["app-db"] and other == [] and base == []
    # a secret without a location still goes to every cluster
    doc = _doc()
    for s in doc["spec"]["externalSecrets"]["secrets"]:
        s.pop("accountId", None), s.pop("region", None)
    unlocated = render_fleet(_fleet(doc))
    assert [d["metadata"]["name"] for _r, d in _docs(unlocated, "platform/base/") if d["kind"] == "ExternalSecret"] == ["app-db"]
    # a secret in an account/region no cluster runs in is refused, not synced where it can only fail
    doc = _doc()
    next(s for s in doc["spec"]["externalSecrets"]["secrets"] if s["name"] == "app-db")["region"] = "ap-south-1"
    with pytest.raises(ToolError, match="app-db.*ap-south-1.*no cluster"):
        render_fleet(_fleet(doc))


def test_secret_location_needs_account_and_region():
    doc = _doc()
    next(s for s in doc["spec"]["externalSecrets"]["secrets"] if s["name"] == "app-db").pop("region")
    with pytest.raises(ToolError, match="region"):
        _fleet(doc)
