"""State sources: s3:// (versioned bucket, workspaces, errors) against a moto server, `-`, and URL parsing."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from converter.cli import main
from converter.load.source import parse_s3_url
from converter.load.state import load_state
from converter.model import ToolError
from tests import statefactory as sf

BUCKET = "tf-state-platform"
KEY = "network/terraform.tfstate"


def _state(cidr: str) -> str:
    return sf.state(sf.resource("aws_vpc", "main", sf.vpc(cidr_block=cidr)))


@pytest.fixture
def s3(moto, monkeypatch):
    """A versioned state bucket holding two versions of the network state and a `prod` workspace state."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto.url)
    client = moto.client("s3")
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    old = client.put_object(Bucket=BUCKET, Key=KEY, Body=_state("10.0.0.0/16").encode())["VersionId"]
    new = client.put_object(Bucket=BUCKET, Key=KEY, Body=_state("10.1.0.0/16").encode())["VersionId"]
    client.put_object(Bucket=BUCKET, Key=f"env:/prod/{KEY}", Body=_state("10.9.0.0/16").encode())
    assert old != new
    return {"client": client, "old": old, "new": new}


def _cidr(out_dir) -> list[str]:
    import yaml

    docs = yaml.safe_load((out_dir / "network" / "review" / "ack-objects.yaml").read_text())
    docs = docs if isinstance(docs, list) else [docs]
    return [d["spec"]["cidrBlocks"][0] for d in docs if d["kind"] == "VPC"]


def test_s3_latest_and_version_id_convert(s3, tmp_path):
    runner = CliRunner()
    res = runner.invoke(main, ["convert", "--state", f"s3://{BUCKET}/{KEY}", "--out", str(tmp_path / "new")])
    assert res.exit_code == 0, res.output
    assert _cidr(tmp_path / "new") == ["10.1.0.0/16"]
    res = runner.invoke(main, ["convert", "--state", f"s3://{BUCKET}/{KEY}?versionId={s3['old']}", "--out", str(tmp_path / "old")])
    assert res.exit_code == 0, res.output
    assert _cidr(tmp_path / "old") == ["10.0.0.0/16"]


def test_s3_workspace_key_prefix(s3):
    st_ws = load_state(f"s3://{BUCKET}/{KEY}", workspace="prod")
    assert st_ws.instances[0].attributes["cidr_block"] == "10.9.0.0/16"
    assert st_ws.path == f"s3://{BUCKET}/env:/prod/{KEY}"
    assert load_state(f"s3://{BUCKET}/{KEY}?workspace=prod").instances[0].attributes["cidr_block"] == "10.9.0.0/16"
    assert load_state(f"s3://{BUCKET}/{KEY}?workspace=default").instances[0].attributes["cidr_block"] == "10.1.0.0/16"


def test_s3_workspace_option_on_cli(s3):
    res = CliRunner().invoke(main, ["inspect", "--state", f"s3://{BUCKET}/{KEY}", "--workspace", "prod", "--format", "json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["resources"][0]["address"] == "aws_vpc.main"


MISSING = [
    (f"s3://{BUCKET}/nope/terraform.tfstate", "no such object"),
    ("s3://no-such-bucket-here/x.tfstate", "no such bucket"),
    (f"s3://{BUCKET}/{KEY}?workspace=staging", "no such object"),
    (f"s3://{BUCKET}/{KEY}?versionId=nosuchversion", "no such object version"),
]


def test_s3_missing_is_one_line_exit_2(s3, tmp_path):
    """(One moto reset for all cases: each reset reloads the managed IAM policies, ~6 s on a loaded machine.)"""
    for url, why in MISSING:
        res = CliRunner().invoke(main, ["convert", "--state", url, "--out", str(tmp_path / "o")])
        assert res.exit_code == 2, (url, res.output)
        lines = res.output.strip().splitlines()
        assert len(lines) == 1 and why in lines[0] and lines[0].startswith("error: s3://"), (url, res.output)
        assert "Traceback" not in res.output
        assert not (tmp_path / "o").exists()


def test_s3_access_denied_names_url(s3, tmp_path, moto):
    iam = moto.client("iam")
    iam.create_user(UserName="reader")
    key = iam.create_access_key(UserName="reader")["AccessKey"]
    moto.set_auth(0)  # enforce IAM from now on: the user has no policy
    import os

    os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"] = key["AccessKeyId"], key["SecretAccessKey"]
    res = CliRunner().invoke(main, ["convert", "--state", f"s3://{BUCKET}/{KEY}", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2, res.output
    assert res.output.strip() == f"error: s3://{BUCKET}/{KEY}: cannot read state from S3: access denied " \
                                 "(the credentials need s3:GetObject, and s3:GetObjectVersion for a versionId)"


def test_s3_no_credentials(monkeypatch, tmp_path):
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    res = CliRunner().invoke(main, ["inspect", "--state", f"s3://{BUCKET}/{KEY}"])
    assert res.exit_code == 2
    assert res.output.strip() == f"error: s3://{BUCKET}/{KEY}: no AWS credentials found (standard chain: env, profile, SSO, instance role)"


def test_s3_client_is_read_only(s3):
    """The client comes from the guarded factory: a write through it is refused before any request."""
    from converter.diff.aws import AwsClients, ReadOnlyViolation

    client = AwsClients(region="eu-west-1").client("s3")
    with pytest.raises(ReadOnlyViolation):
        client.put_object(Bucket=BUCKET, Key=KEY, Body=b"{}")


@pytest.mark.parametrize("url, msg", [
    ("s3://", "not an s3:// URL"),
    ("s3://Bad_Bucket/k", "invalid S3 bucket name"),
    ("s3://bucket/", "names no object key"),
    ("s3://bucket/k?versionid=1", "unknown S3 URL parameter 'versionid'"),
    ("s3://bucket/k?versionId=", "must be given once, with a value"),
    ("s3://bucket/k?workspace=a/b", "invalid workspace name"),
    ("s3://bucket/k?workspace=a&workspace=b", "must be given once"),
    ("s3://bucket/k\nerror: injected", "control characters"),
])
def test_s3_url_errors(url, msg):
    with pytest.raises(ToolError, match=msg):
        parse_s3_url(url)


def test_workspace_conflict():
    with pytest.raises(ToolError, match="URL names workspace 'a'"):
        parse_s3_url("s3://bucket/k?workspace=a", workspace="b")


@given(st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=0x2FF), min_size=1, max_size=40))
def test_workspace_never_escapes_its_prefix(ws):
    """Whatever the workspace name, the object key is `env:/<ws>/<key>` with one segment for the workspace, or an error."""
    try:
        loc = parse_s3_url("s3://bucket/path/terraform.tfstate", workspace=ws)
    except ToolError:
        return
    if ws == "default":
        assert loc.object_key == "path/terraform.tfstate"
        return
    assert loc.object_key == f"env:/{ws}/path/terraform.tfstate"
    assert "/" not in ws and "?" not in ws and ws[0].isalnum()


def test_stdin_source(tmp_path):
    res = CliRunner().invoke(main, ["inspect", "--state", "-", "--format", "json"], input=_state("10.3.0.0/16"))
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["resources"][0]["address"] == "aws_vpc.main"


def _cluster_root(region: str) -> str:
    return sf.state(sf.resource("aws_eks_cluster", "this", {
        "id": "platform", "name": "platform", "arn": f"arn:aws:eks:{region}:111122223333:cluster/platform", "version": "1.30",
        "role_arn": "arn:aws:iam::111122223333:role/platform-cluster", "vpc_config": [], "status": "ACTIVE",
        "tags": {}, "tags_all": {}}))


def _addons_root() -> str:
    """Reads the eu cluster root's outputs (prod workspace) through terraform_remote_state; a node group names the
    cluster by its name — a plain name, not an id, which two regional roots share."""
    return sf.state(
        sf.resource("terraform_remote_state", "cluster", {
            "backend": "s3", "workspace": "prod",
            "config": {"value": {"bucket": BUCKET, "key": "eu/cluster.tfstate"}, "type": ["object", {}]},
            "outputs": {"value": {"cluster_name": "platform"}, "type": ["object", {}]}},
            mode="data", provider='provider["terraform.io/builtin/terraform"]'),
        sf.resource("aws_eks_node_group", "extra", {
            "id": "platform:extra", "arn": "arn:aws:eks:eu-west-1:111122223333:nodegroup/platform/extra/x",
            "cluster_name": "platform", "node_group_name": "extra", "node_role_arn": "arn:aws:iam::111122223333:role/nodes",
            "subnet_ids": [], "scaling_config": [{"desired_size": 1, "min_size": 1, "max_size": 2}], "status": "ACTIVE",
            "tags": {}, "tags_all": {}}))


def test_estate_of_s3_roots_remote_state_picks_its_root(s3, tmp_path):
    """Three roots from S3 (one in a workspace): the addons root's node group gets an externalRef to the cluster of the
    root its terraform_remote_state read (eu), not to the same-named cluster of the us root."""
    import yaml

    client = s3["client"]
    client.put_object(Bucket=BUCKET, Key="env:/prod/eu/cluster.tfstate", Body=_cluster_root("eu-west-1").encode())
    client.put_object(Bucket=BUCKET, Key="us/cluster.tfstate", Body=_cluster_root("us-east-1").encode())
    client.put_object(Bucket=BUCKET, Key="eu/addons.tfstate", Body=_addons_root().encode())
    (tmp_path / "tf2kro.yaml").write_text(yaml.safe_dump({"version": 1, "roots": [
        {"name": "cluster-us", "state": f"s3://{BUCKET}/us/cluster.tfstate", "env": "prod-us"},
        {"name": "cluster-eu", "state": f"s3://{BUCKET}/eu/cluster.tfstate", "workspace": "prod", "env": "prod-eu"},
        {"name": "addons", "state": f"s3://{BUCKET}/eu/addons.tfstate", "env": "prod-eu"},
    ]}))
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["convert", "--estate", str(tmp_path / "tf2kro.yaml"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    refs = json.loads((out / "estate.json").read_text())["cross_root_refs"]
    assert refs == [{"from": "addons: aws_eks_node_group.extra", "path": "spec.clusterName", "to": "cluster-eu: aws_eks_cluster.this",
                     "ack_path": "spec.name", "via": "terraform_remote_state.cluster output cluster_name"}]
    rgd = yaml.safe_load((out / "addons" / "cluster" / "rgd.yaml").read_text())
    rgd = rgd[0] if isinstance(rgd, list) else rgd
    ext = [r for r in rgd["spec"]["resources"] if "externalRef" in r]
    assert [e["externalRef"]["kind"] for e in ext] == ["Cluster"] and ext[0]["id"].startswith("clusterEu")
    roots = json.loads((out / "estate.json").read_text())["roots"]
    assert [r["state"] for r in roots] == [f"s3://{BUCKET}/us/cluster.tfstate", f"s3://{BUCKET}/env:/prod/eu/cluster.tfstate",
                                           f"s3://{BUCKET}/eu/addons.tfstate"]


@given(st.text(max_size=80))
def test_any_s3_url_parses_or_is_one_line_error(tail):
    """Crafted URLs: either a location (bucket/key as given) or one ToolError line, never another exception."""
    try:
        loc = parse_s3_url("s3://" + tail)
    except ToolError as exc:
        assert "\n" not in str(exc) and "\r" not in str(exc)
        return
    assert "\n" not in loc.url and loc.url.startswith(f"s3://{loc.bucket}/")
