"""Compare the way ACK compares (issue 11 §2): inline role policies are compared byte-exactly, as iam-controller's
delta does (`MapStringStringPEqual`), so a text that differs from AWS's only in key order is an
adoption-would-change; `convert --live` renders AWS's text from a capture. Against a moto server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml
from click.testing import CliRunner

from converter.cli import main
from converter.diff.normalize import NORMALISERS, NormContext
from tests.statefactory import resource, state

if TYPE_CHECKING:
    from tests.moto_server import MotoServer

pytest_plugins = ["tests.moto_server"]

REGION = "eu-west-1"
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                 "Action": "sts:AssumeRole"}]}
# what Terraform's jsonencode sent (keys sorted) vs the provider's normalised text in state (Version first)
SENT = '{"Statement":[{"Action":"s3:GetObject","Effect":"Allow","Resource":"*"}],"Version":"2012-10-17"}'
NORMALISED = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}'


def test_policy_map_exact_sees_key_order_and_policy_map_does_not():
    ctx = NormContext()
    live = [{"PolicyName": "read", "PolicyDocument": json.loads(SENT)}]  # boto3 decodes IAM documents, order kept
    assert NORMALISERS["policy_map"](live, ctx) == NORMALISERS["policy_map"]({"read": NORMALISED}, ctx)
    assert NORMALISERS["policy_map_exact"](live, ctx) == {"read": SENT}
    assert NORMALISERS["policy_map_exact"]({"read": NORMALISED}, ctx) != {"read": SENT}
    # IAM's wire form (URL-encoded) is decoded, as iam-controller's decodeDocument does
    assert NORMALISERS["policy_map_exact"]([{"PolicyName": "read", "PolicyDocument": "%7B%22a%22%3A1%7D"}], ctx) == {"read": '{"a":1}'}


def _role_state(arn: str, role_id: str) -> str:
    return state(resource("aws_iam_role", "app", {
        "id": "app", "arn": arn, "name": "app", "name_prefix": "", "path": "/", "description": "",
        "assume_role_policy": json.dumps(TRUST), "max_session_duration": 3600, "permissions_boundary": "",
        "force_detach_policies": False, "managed_policy_arns": [], "unique_id": role_id,
        "inline_policy": [{"name": "read", "policy": NORMALISED}], "tags": {}, "tags_all": {}}))


@pytest.mark.moto
def test_inline_policy_key_order_is_an_adoption_change_and_convert_live_renders_aws_text(moto: MotoServer, tmp_path: Path):
    iam = moto.client("iam")
    role = iam.create_role(RoleName="app", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]
    iam.put_role_policy(RoleName="app", PolicyName="read", PolicyDocument=SENT)
    st = tmp_path / "terraform.tfstate"
    st.write_text(_role_state(role["Arn"], role["RoleId"]))

    res = CliRunner().invoke(main, ["diff", "--state", str(st), "--region", REGION, "--endpoint-url", moto.url, "--format", "json"])
    assert res.exit_code == 1, res.output
    doc = json.loads(res.stdout)
    found = [f for r in doc["resources"] for f in r["findings"]]
    adoption = [f for f in found if f["class"] == "adoption-would-change"]
    assert [f["path"] for f in adoption] == ["spec.inlinePolicies.read"]
    assert "MapStringStringPEqual" in adoption[0]["detail"]
    assert not [f for f in found if f["class"] == "drift"], "Terraform sees no change: drift stays semantic"

    cap = tmp_path / "live.json"
    res = CliRunner().invoke(main, ["inventory", "capture", "--state", str(st), "--region", REGION,
                                    "--endpoint-url", moto.url, "--out", str(cap)])
    assert res.exit_code == 0, res.output
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["convert", "--state", str(st), "--live", str(cap), "--out", str(out)])
    assert res.exit_code == 0, res.output
    docs = [d for f in out.rglob("review/ack-objects.yaml") for d in yaml.safe_load_all(f.read_text()) if d]
    roles = [d for d in docs if d["kind"] == "Role"]
    assert roles and roles[0]["spec"]["inlinePolicies"] == {"read": SENT}
    rep = json.loads((out / "report.json").read_text())
    assert any(d["rule"] == "exact.inlinePolicies" and "rendered from the live capture" in d["reason"]
               for d in rep["ownership"]["decisions"])

    # without a capture: rendered from state and flagged in the report
    out2 = tmp_path / "out2"
    assert CliRunner().invoke(main, ["convert", "--state", str(st), "--out", str(out2)]).exit_code == 0
    rep = json.loads((out2 / "report.json").read_text())
    flag = [d for d in rep["ownership"]["decisions"] if d["rule"] == "exact.inlinePolicies"]
    assert flag and "--live" in flag[0]["reason"]


@pytest.mark.moto
def test_capture_with_different_content_is_not_rendered_over_state(moto: MotoServer, tmp_path: Path):
    """A policy whose content differs is drift, not a formatting difference: the state's value stays rendered."""
    iam = moto.client("iam")
    role = iam.create_role(RoleName="app", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]
    iam.put_role_policy(RoleName="app", PolicyName="read", PolicyDocument=SENT.replace("s3:GetObject", "s3:*"))
    st = tmp_path / "terraform.tfstate"
    st.write_text(_role_state(role["Arn"], role["RoleId"]))
    cap = tmp_path / "live.json"
    assert CliRunner().invoke(main, ["inventory", "capture", "--state", str(st), "--region", REGION,
                                     "--endpoint-url", moto.url, "--out", str(cap)]).exit_code == 0
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["convert", "--state", str(st), "--live", str(cap), "--out", str(out)]).exit_code == 0
    docs = [d for f in out.rglob("review/ack-objects.yaml") for d in yaml.safe_load_all(f.read_text()) if d]
    assert next(d for d in docs if d["kind"] == "Role")["spec"]["inlinePolicies"] == {"read": NORMALISED}


def test_every_atomically_synced_field_records_the_controller_comparison():
    """mappings/_ownership.yaml lists the fields ACK syncs as a whole; each one's describe entry names the controller
    code its comparison follows (`ack:`), so a reviewer can check the two agree."""
    from converter.mapping.spec import load_mappings
    from converter.ownership import load_rules

    mappings, rules = load_mappings(), load_rules()
    missing = []
    for tf_type, fields in rules.atomic_fields.items():
        spec = ((mappings.get(tf_type).describe or {}).get("spec") or {})
        for fld in fields:
            entry = spec.get(fld)
            if entry is not None and not (isinstance(entry, dict) and "-controller pkg/" in str(entry.get("ack"))):
                missing.append(f"{tf_type}.{fld}")
    assert missing == []


@pytest.mark.moto
def test_not_adopted_group_is_not_reported_unmanaged(moto: MotoServer, tmp_path: Path):
    """A group left in Terraform because the load-balancer controller co-manages it is managed — by Terraform."""
    ec2 = moto.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]
    sg = ec2.create_security_group(GroupName="nodes", Description="nodes", VpcId=vpc["VpcId"],
                                   TagSpecifications=[{"ResourceType": "security-group",
                                                       "Tags": [{"Key": "kubernetes.io/cluster/prod", "Value": "owned"}]}])
    st = tmp_path / "terraform.tfstate"
    st.write_text(state(
        resource("aws_vpc", "this", {"id": vpc["VpcId"], "arn": f"arn:aws:ec2:{REGION}:123456789012:vpc/{vpc['VpcId']}",
                                     "cidr_block": "10.9.0.0/16", "tags": {}, "tags_all": {}}),
        resource("aws_security_group", "nodes", {
            "id": sg["GroupId"], "arn": f"arn:aws:ec2:{REGION}:123456789012:security-group/{sg['GroupId']}", "name": "nodes",
            "description": "nodes", "vpc_id": vpc["VpcId"], "ingress": [], "egress": [], "revoke_rules_on_delete": False,
            "tags": {"kubernetes.io/cluster/prod": "owned"}, "tags_all": {"kubernetes.io/cluster/prod": "owned"}})))
    res = CliRunner().invoke(main, ["diff", "--state", str(st), "--region", REGION, "--endpoint-url", moto.url, "--format", "json"])
    assert res.exit_code in (0, 1), res.output
    doc = json.loads(res.stdout)
    assert sg["GroupId"] not in {r["live_id"] for r in doc["resources"] if r["status"] == "unmanaged"}
    assert "aws_security_group.nodes" not in {r["address"] for r in doc["resources"]}
