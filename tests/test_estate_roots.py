"""Estates of several roots: the estate file (tf2kro.yaml), repeatable --state, and cross-root externalRefs.

The two roots are the usual split: a network root (VPC + subnets) and a cluster root whose EKS cluster runs in the
network root's subnets, read through `terraform_remote_state` (as the state records it) or pasted as literals.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from converter.cli import main
from converter.estate.config import default_root_name, roots_from_states
from tests import statefactory as sf

ACCOUNT = "111122223333"
SUBNETS = [sf.subnet(i) for i in (1, 2, 3)]
SUBNET_IDS = [s["id"] for s in SUBNETS]
CLUSTER_SG = "sg-0c0ffee0c0ffee000"


def network_state() -> str:
    return sf.state(
        sf.resource("aws_vpc", "this", sf.vpc(), module="module.vpc"),
        sf.resource("aws_subnet", "private", SUBNETS, module="module.vpc", index_keys=[0, 1, 2],
                    deps=["module.vpc.aws_vpc.this"]),
        outputs={"private_subnets": {"value": SUBNET_IDS, "type": ["list", "string"]}},
    )


def cluster_state(*, remote: bool = True) -> str:
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/platform-cluster"
    resources = [
        sf.resource("aws_iam_role", "cluster", {
            "id": "platform-cluster", "name": "platform-cluster", "arn": role_arn, "path": "/", "description": "",
            "assume_role_policy": json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                                                     "Principal": {"Service": "eks.amazonaws.com"}}]}),
            "max_session_duration": 3600, "managed_policy_arns": [], "inline_policy": [], "tags": {}, "tags_all": {}}),
        sf.resource("aws_eks_cluster", "this", {
            "id": "platform", "name": "platform", "arn": f"arn:aws:eks:eu-west-1:{ACCOUNT}:cluster/platform",
            "version": "1.30", "role_arn": role_arn,
            "vpc_config": [{"subnet_ids": list(SUBNET_IDS), "security_group_ids": [], "endpoint_private_access": True,
                            "endpoint_public_access": False, "public_access_cidrs": [], "vpc_id": "vpc-0a1b2c3d4e5f60718",
                            "cluster_security_group_id": CLUSTER_SG}],
            "enabled_cluster_log_types": ["api"], "encryption_config": [], "kubernetes_network_config": [],
            "identity": [{"oidc": [{"issuer": "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC"}]}], "status": "ACTIVE",
            "tags": {}, "tags_all": {}}, deps=["aws_iam_role.cluster", "data.terraform_remote_state.network"]),
    ]
    if remote:
        resources.append(sf.resource("terraform_remote_state", "network", {
            "backend": "s3", "config": {"value": {"bucket": "tf-state", "key": "network/terraform.tfstate"}, "type": ["object", {}]},
            "outputs": {"value": {"private_subnets": SUBNET_IDS}, "type": ["object", {"private_subnets": ["list", "string"]}]},
            "workspace": None, "defaults": None}, mode="data", provider='provider["terraform.io/builtin/terraform"]'))
    return sf.state(*resources)


@pytest.fixture
def two_roots(tmp_path: Path) -> Path:
    (tmp_path / "network").mkdir()
    (tmp_path / "cluster").mkdir()
    (tmp_path / "network" / "terraform.tfstate").write_text(network_state())
    (tmp_path / "cluster" / "terraform.tfstate").write_text(cluster_state())
    (tmp_path / "tf2kro.yaml").write_text(yaml.safe_dump({"version": 1, "roots": [
        {"name": "network", "state": "network/terraform.tfstate", "env": "prod", "account": ACCOUNT, "region": "eu-west-1"},
        {"name": "cluster", "state": "cluster/terraform.tfstate", "env": "prod", "account": ACCOUNT},
    ]}))
    return tmp_path


def _docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def _flatten(docs):
    return [x for d in docs for x in (d if isinstance(d, list) else [d])]


def _cluster_rgd(out: Path) -> dict:
    return _flatten(_docs(out / "cluster" / "cluster" / "rgd.yaml"))[0]


def _check_subnet_refs(out: Path) -> None:
    rgd = _cluster_rgd(out)
    resources = rgd["spec"]["resources"]
    externals = {r["id"]: r["externalRef"] for r in resources if "externalRef" in r}
    network_names = {o["metadata"]["name"] for o in _flatten(_docs(out / "network" / "network" / "review" / "ack-objects.yaml"))
                     if o["kind"] == "Subnet"}
    subnet_refs = {i: x for i, x in externals.items() if x["kind"] == "Subnet"}
    assert {x["metadata"]["name"] for x in subnet_refs.values()} == network_names and len(network_names) == 3
    assert all(x["apiVersion"] == "ec2.services.k8s.aws/v1alpha1" for x in subnet_refs.values())
    cluster = next(r["template"] for r in resources if "template" in r and r["template"]["kind"] == "Cluster")
    ids = cluster["spec"]["resourcesVPCConfig"]["subnetIDs"]
    assert sorted(ids) == sorted(f"${{{i}.status.subnetID}}" for i in subnet_refs)
    # no subnet object is duplicated into the cluster root
    cluster_kinds = {o["kind"] for f in (out / "cluster").rglob("ack-objects.yaml") for o in _flatten(_docs(f))}
    assert "Subnet" not in cluster_kinds and "VPC" not in cluster_kinds
    # the literal ids are gone from the cluster root's RGDs
    text = "".join(f.read_text() for f in (out / "cluster").rglob("rgd.yaml"))
    assert not any(s in text for s in SUBNET_IDS)


def test_estate_file_two_roots_subnets_become_external_refs(two_roots: Path):
    out = two_roots / "out"
    res = CliRunner().invoke(main, ["convert", "--estate", str(two_roots / "tf2kro.yaml"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir() if p.name != ".tf2kro") == ["cluster", "estate.json", "kustomization.yaml", "network"]
    _check_subnet_refs(out)
    estate = json.loads((out / "estate.json").read_text())
    refs = estate["cross_root_refs"]
    assert len(refs) == 3 and {r["to"].split(": ")[0] for r in refs} == {"network"}
    assert all(r["via"] == "terraform_remote_state.network output private_subnets" for r in refs)
    assert [r["name"] for r in estate["roots"]] == ["network", "cluster"]
    assert estate["findings"] == []
    assert json.loads((out / "network" / "report.json").read_text())["counts"]["mapped"] == 4
    rgd = _cluster_rgd(out)
    assert rgd["metadata"]["annotations"]["tf2kro.dev/environment"] == "prod"


def test_repeatable_state_links_literal_ids(tmp_path: Path):
    """No remote state and no estate file: the ids are literals in the cluster state, and still link (ids are unique)."""
    (tmp_path / "network").mkdir()
    (tmp_path / "cluster").mkdir()
    (tmp_path / "network" / "terraform.tfstate").write_text(network_state())
    (tmp_path / "cluster" / "terraform.tfstate").write_text(cluster_state(remote=False))
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["convert", "--state", str(tmp_path / "network" / "terraform.tfstate"),
                                    "--state", str(tmp_path / "cluster" / "terraform.tfstate"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    _check_subnet_refs(out)
    assert {r["via"] for r in json.loads((out / "estate.json").read_text())["cross_root_refs"]} == {"identifier"}


def test_named_states_and_inspect(tmp_path: Path):
    (tmp_path / "a.tfstate").write_text(network_state())
    (tmp_path / "b.tfstate").write_text(cluster_state())
    res = CliRunner().invoke(main, ["inspect", "--state", f"net={tmp_path / 'a.tfstate'}", "--state", f"eks={tmp_path / 'b.tfstate'}",
                                    "--format", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert sorted(doc["reports"]) == ["eks", "net"]
    assert {r["to"].split(": ")[0] for r in doc["cross_root_refs"]} == {"net"}


def test_single_state_output_unchanged(tmp_path: Path):
    """One --state: the layout is the single-root one (no root directory, no estate.json)."""
    (tmp_path / "s.tfstate").write_text(network_state())
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["convert", "--state", str(tmp_path / "s.tfstate"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert (out / "network" / "rgd.yaml").exists() and not (out / "estate.json").exists()


def test_cluster_root_alone_keeps_literals(tmp_path: Path):
    (tmp_path / "c.tfstate").write_text(cluster_state())
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["convert", "--state", str(tmp_path / "c.tfstate"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    text = (out / "cluster" / "rgd.yaml").read_text()
    assert all(s in text for s in SUBNET_IDS) and "kind: Subnet" not in text  # (the role: an earlier phase's externalRef)


def test_same_resource_in_two_roots_is_reported(tmp_path: Path):
    (tmp_path / "a.tfstate").write_text(network_state())
    (tmp_path / "b.tfstate").write_text(network_state())
    res = CliRunner().invoke(main, ["inspect", "--state", f"one={tmp_path / 'a.tfstate'}", "--state", f"two={tmp_path / 'b.tfstate'}",
                                    "--format", "json"])
    assert res.exit_code == 0, res.output
    dup = [f for f in json.loads(res.output)["findings"] if f["kind"] == "duplicate-owner"]
    assert len(dup) == 4 and all("one: " in f["message"] and "two: " in f["message"] for f in dup)
    # the two roots' objects cannot collide: every emitted name carries the root (converter/emit/naming.py)
    assert not [f for f in json.loads(res.output)["findings"] if f["kind"] == "name-collision"]


# ------------------------------------------------------------------ the estate file itself

def _write(tmp_path: Path, doc) -> Path:
    p = tmp_path / "tf2kro.yaml"
    p.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc))
    return p


@pytest.mark.parametrize("doc, msg", [
    ({"version": 1, "roots": [{"name": "net", "stat": "x.tfstate"}]}, "estate.roots[0]: unknown key 'stat'"),
    ({"version": 1, "roots": [{"name": "net", "state": "x", "hcl_dir": "."}]}, "estate.roots[0]: unknown key 'hcl_dir'"),
    ({"version": 1, "roots": [{"name": "net", "state": "x"}], "extra": 1}, "estate: unknown key 'extra'"),
    ({"version": 1, "roots": [{"state": "x"}]}, "estate.roots[0]: 'name' is required"),
    ({"version": 2, "roots": [{"name": "n", "state": "x"}]}, "estate.version: 1 was expected"),
    ({"version": 1, "roots": [{"name": "Net_1", "state": "x"}]}, "estate.roots[0].name: 'Net_1' does not match"),
    ({"version": 1, "roots": [{"name": "n", "state": "x", "account": "12"}]}, "estate.roots[0].account: '12' does not match"),
    ({"version": 1, "roots": [{"name": "n", "state": "x"}, {"name": "n", "state": "y"}]}, "root name 'n' is used twice"),
    ("roots: [\n  - {name: a\n", "not valid YAML at line"),
])
def test_invalid_estate_file_names_key_and_file(tmp_path: Path, doc, msg):
    p = _write(tmp_path, doc)
    res = CliRunner().invoke(main, ["inspect", "--estate", str(p)])
    assert res.exit_code == 2, res.output
    line = res.output.strip()
    assert line.count("\n") == 0 and line.startswith(f"error: {p}: ") and msg in line, line


def test_estate_with_state_option_is_refused(two_roots: Path):
    res = CliRunner().invoke(main, ["inspect", "--estate", str(two_roots / "tf2kro.yaml"), "--state", "x.tfstate"])
    assert res.exit_code == 2 and "--estate lists the roots" in res.output


def test_wrong_account_is_refused(two_roots: Path):
    p = two_roots / "tf2kro.yaml"
    doc = yaml.safe_load(p.read_text())
    doc["roots"][0]["account"] = "999999999999"
    p.write_text(yaml.safe_dump(doc))
    res = CliRunner().invoke(main, ["convert", "--estate", str(p), "--out", str(two_roots / "o")])
    assert res.exit_code == 2 and "account 111122223333" in res.output and "999999999999" in res.output
    assert not (two_roots / "o").exists()


def test_single_root_commands_refuse_several_roots(two_roots: Path):
    res = CliRunner().invoke(main, ["plan", "--estate", str(two_roots / "tf2kro.yaml"), "--out", str(two_roots / "p")])
    assert res.exit_code == 2 and "2 roots given" in res.output


def test_schema_is_shipped_and_valid():
    from jsonschema import Draft202012Validator

    from converter.estate.config import schema

    Draft202012Validator.check_schema(schema())
    assert schema()["additionalProperties"] is False and schema()["$defs"]["root"]["additionalProperties"] is False


# ------------------------------------------------------------------ root names become directories

_LABEL = re.compile(r"^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$")


@given(st.text(min_size=1, max_size=120))
def test_default_root_name_is_always_a_dns_label(source):
    """Whatever the state path or URL, the derived root name is a safe single path segment (it names <out>/<root>/)."""
    name = default_root_name(source)
    assert _LABEL.match(name), name


@given(st.lists(st.text(min_size=1, max_size=60).filter(lambda s: s != "-"), min_size=2, max_size=5))
def test_repeated_states_get_unique_safe_names(sources):
    try:
        roots = roots_from_states(tuple(sources), None, (), None, None)
    except Exception as exc:  # only the documented refusal (two names given explicitly the same)
        assert "used twice" in str(exc)
        return
    names = [r.name for r in roots]
    assert len(set(names)) == len(names) and all(_LABEL.match(n) for n in names)
    assert all("/" not in n and ".." not in n for n in names)


def test_default_root_names():
    assert default_root_name("envs/prod/network/terraform.tfstate") == "network"
    assert default_root_name("s3://b/cluster/terraform.tfstate?versionId=1") == "cluster"
    assert default_root_name("addons.tfstate") == "addons"
    assert default_root_name("./terraform.tfstate") == "terraform"
    assert default_root_name("-") == "stdin"


def test_graph_of_two_roots_shows_cross_root_edges(two_roots: Path):
    res = CliRunner().invoke(main, ["graph", "--estate", str(two_roots / "tf2kro.yaml"), "--format", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    cross = sorted((e["from"], e["to"]) for e in doc["edges"] if e["via"] == "cross-root")
    assert cross == [(f"network: module.vpc.aws_subnet.private[{i}]", "cluster: aws_eks_cluster.this") for i in range(3)]
    assert {n["address"].split(": ")[0] for n in doc["nodes"]} == {"network", "cluster"}
