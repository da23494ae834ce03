"""`tf2kro diff` against a real moto server: a fresh estate diffs clean; out-of-band changes are each found with
the right class and field path; a capture diffs the same without AWS; API calls stay batched."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from converter.cli import main
from tests.estate_builder import CLUSTER, PROJECT_TAGS, build

if TYPE_CHECKING:
    from tests.moto_server import MotoServer

pytest_plugins = ["tests.moto_server"]  # the moto_server / moto fixtures

pytestmark = pytest.mark.moto

SCOPE = [f"--scope-tag=Project={PROJECT_TAGS['Project']}"]
# moto leaves out fields real AWS always returns: these are reported unverified, never as differences
MOTO_GAPS = {("aws_eip.nat", "spec.networkBorderGroup"), ("aws_eip.nat", "spec.publicIPv4Pool"),
             ("aws_eks_node_group.default", "spec.updateConfig.maxUnavailable"), ("aws_kms_key.platform", "spec.keyUsage"),
             ("aws_kms_key.platform", "spec.multiRegion"), ("aws_nat_gateway.main", "spec.connectivityType")}


def _estate(moto: MotoServer, tmp_path: Path):
    est = build(moto.client)
    path = tmp_path / "terraform.tfstate"
    path.write_text(est.state_json())
    return est, path


def _diff(moto: MotoServer, state: Path, *extra: str) -> tuple[int, dict]:
    res = CliRunner().invoke(main, ["diff", "--state", str(state), "--region", "eu-west-1", "--endpoint-url", moto.url,
                                    "--format", "json", *extra])
    assert res.exit_code in (0, 1), res.output + str(res.exception)
    out = res.stdout if hasattr(res, "stdout") else res.output
    return res.exit_code, json.loads(out)


def _findings(doc: dict, cls: str | None = None) -> list[dict]:
    return [f for r in doc["resources"] for f in r["findings"] if cls is None or f["class"] == cls]


def test_fresh_estate_diffs_clean_with_batched_calls(moto: MotoServer, tmp_path: Path) -> None:
    _, state = _estate(moto, tmp_path)
    code, doc = _diff(moto, state, *SCOPE)
    counts = doc["summary"]["counts"]
    assert {k: counts[k] for k in ("adoption-would-change", "drift", "deleted", "unmanaged", "unknown")} == dict.fromkeys(
        ("adoption-would-change", "drift", "deleted", "unmanaged", "unknown"), 0), _findings(doc)
    assert {(f["address"], f["path"]) for f in _findings(doc, "unverified")} <= MOTO_GAPS
    assert code == 0
    assert doc["exit_code"] == 0
    checked = {r["address"] for r in doc["resources"]}
    assert {"aws_vpc.main", "aws_subnet.private_a", "aws_security_group.nodes", "aws_route_table.private",
            "aws_iam_role.platform_nodes", "aws_eks_cluster.main", "aws_eks_node_group.default", "aws_kms_key.platform",
            "aws_s3_bucket.artifacts", "aws_iam_openid_connect_provider.cluster", "aws_nat_gateway.main"} <= checked

    # API calls: at most one batch (list/describe) call per operation per type; per-id APIs one call per resource
    per_id_ops = {"ec2:DescribeVpcAttribute", "eks:DescribeCluster", "eks:DescribeNodegroup", "iam:GetOpenIDConnectProvider",
                  "kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"}
    per_id_ops |= {op for op in doc["api_calls"] if op.startswith("s3:GetBucket") or op == "s3:GetPublicAccessBlock"}
    print(f"\nAPI calls for the moto estate: {doc['summary']['api_calls']} "
          f"({doc['summary']['http_attempts']} HTTP attempts)")
    for t, info in doc["types"].items():
        print(f"  {t}: {info['calls']} calls {info.get('unmanaged_scan') or ''}")
        assert info["status"] == "ok"
    for op, n in sorted(doc["api_calls"].items()):
        if op not in per_id_ops:
            # ec2:DescribeRouteTables serves aws_route_table and the subnet→route table join: one call each
            assert n <= (2 if op == "ec2:DescribeRouteTables" else 1), (op, n)
    assert doc["api_calls"]["ec2:DescribeSubnets"] == 1  # three subnets, one call
    assert doc["api_calls"]["iam:GetAccountAuthorizationDetails"] == 1  # both roles, one call
    assert doc["summary"]["api_calls"] <= 35


def test_out_of_band_changes_are_found(moto: MotoServer, tmp_path: Path) -> None:
    est, state = _estate(moto, tmp_path)
    ec2, iam = moto.client("ec2"), moto.client("iam")
    ids = est.ids
    # 1. a tag on a subnet
    ec2.create_tags(Resources=[ids["subnet_private_a"]], Tags=[{"Key": "CostCenter", "Value": "42"}])
    # 2. an extra SG rule
    ec2.authorize_security_group_ingress(GroupId=ids["sg_nodes"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    # 3. a subnet deleted out of band
    rts = ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id", "Values": [ids["subnet_private_b"]]}])["RouteTables"]
    for a in rts[0]["Associations"]:
        if a.get("SubnetId") == ids["subnet_private_b"]:
            ec2.disassociate_route_table(AssociationId=a["RouteTableAssociationId"])
    ec2.delete_subnet(SubnetId=ids["subnet_private_b"])
    # 4. an unmanaged VPC inside the scope (carries the estate's tag), and one outside it (must not be reported)
    stray = ec2.create_vpc(CidrBlock="10.9.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": [
        {"Key": "Project", "Value": PROJECT_TAGS["Project"]}, {"Key": "Name", "Value": "stray"}]}])["Vpc"]["VpcId"]
    ec2.create_vpc(CidrBlock="10.8.0.0/16")
    # ... and an unmanaged subnet inside the estate's VPC
    stray_subnet = ec2.create_subnet(VpcId=ids["vpc"], CidrBlock="10.0.50.0/24", TagSpecifications=[
        {"ResourceType": "subnet", "Tags": [{"Key": "Project", "Value": PROJECT_TAGS["Project"]}]}])["Subnet"]["SubnetId"]
    # 5. a managed policy detached from a role
    iam.detach_role_policy(RoleName="platform-nodes", PolicyArn="arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy")

    code, doc = _diff(moto, state, *SCOPE)
    assert code == 1 and doc["exit_code"] == 1
    found = {(f["class"], f["address"], f["path"]) for f in _findings(doc)}

    def has(cls: str, address: str, path_prefix: str) -> bool:
        return any(c == cls and a == address and p.startswith(path_prefix) for c, a, p in found)

    # tag: ACK would delete it (tags are an exact set) and Terraform sees drift
    assert has("adoption-would-change", "aws_subnet.private_a", 'spec.tags.CostCenter')
    assert has("drift", "aws_subnet.private_a", "tags_all.CostCenter")
    # SG rule: ACK would revoke it; Terraform drift on `ingress`
    assert has("adoption-would-change", "aws_security_group.nodes", "spec.ingressRules")
    assert has("drift", "aws_security_group.nodes", "ingress")
    # deleted subnet
    assert has("deleted", "aws_subnet.private_b", "")
    # unmanaged: the tagged VPC and the subnet in the estate's VPC; not the untagged VPC
    unmanaged = {r["live_id"] for r in doc["resources"] if r["status"] == "unmanaged"}
    assert stray in unmanaged and stray_subnet in unmanaged
    assert len([u for u in unmanaged if u.startswith("vpc-")]) == 1
    # detached policy: ACK would re-attach it; Terraform drift on managed_policy_arns
    assert has("adoption-would-change", "aws_iam_role.platform_nodes", "spec.policies")
    assert has("drift", "aws_iam_role.platform_nodes", "managed_policy_arns")
    # nothing else moved
    touched = {"aws_subnet.private_a", "aws_subnet.private_b", "aws_security_group.nodes", "aws_iam_role.platform_nodes"}
    others = [f for f in _findings(doc) if f["class"] in ("adoption-would-change", "drift", "deleted")
              and f["address"] not in touched]
    assert others == []
    # adoption-would-change is listed first
    first = next(r for r in doc["resources"] if r["findings"])
    assert first["findings"][0]["class"] == "adoption-would-change"


def test_capture_then_diff_offline_and_formats(moto: MotoServer, tmp_path: Path) -> None:
    est, state = _estate(moto, tmp_path)
    moto.client("ec2").create_tags(Resources=[est.ids["vpc"]], Tags=[{"Key": "Owner", "Value": "someone"}])
    cap = tmp_path / "live.json"
    res = CliRunner().invoke(main, ["inventory", "capture", "--state", str(state), "--region", "eu-west-1",
                                    "--endpoint-url", moto.url, "--out", str(cap)])
    assert res.exit_code == 0, res.output
    doc = json.loads(cap.read_text())
    assert doc["format"] == "tf2kro-live-capture/v1" and "aws_vpc" in doc["types"]
    moto.reset()  # AWS is gone: the capture alone must reproduce the diff
    res = CliRunner().invoke(main, ["diff", "--state", str(state), "--live", str(cap), "--format", "json"])
    assert res.exit_code == 1, res.output
    live_doc = json.loads(res.stdout)
    assert live_doc["source"] == str(cap)
    paths = {(f["address"], f["path"]) for f in _findings(live_doc) if f["class"] == "adoption-would-change"}
    assert ("aws_vpc.main", "spec.tags.Owner") in paths

    # Markdown: summary table first, <details> per resource
    res = CliRunner().invoke(main, ["diff", "--state", str(state), "--live", str(cap), "--format", "md"])
    assert res.exit_code == 1
    md = res.stdout
    assert md.index("| adoption-would-change |") < md.index("<details>")
    assert "<code>aws_vpc.main</code>" in md
    # JUnit: one testcase per resource, failure for the changed one
    res = CliRunner().invoke(main, ["diff", "--state", str(state), "--live", str(cap), "--format", "junit"])
    import xml.etree.ElementTree as ET

    root = ET.fromstring(res.stdout)
    cases = root.findall(".//testcase")
    assert len(cases) >= 19
    failed = [c.get("name") for c in cases if c.find("failure") is not None]
    assert failed == ["aws_vpc.main"]
    # ignore baseline: accepted difference → exit 0
    ign = tmp_path / "ignore.yaml"
    ign.write_text("- address: aws_vpc.*\n  path: 'spec.tags.Owner'\n- address: aws_vpc.main\n  path: 'tags_all.*'\n")
    res = CliRunner().invoke(main, ["diff", "--state", str(state), "--live", str(cap), "--ignore", str(ign)])
    assert res.exit_code == 0, res.output
    assert "ignored" in res.stdout


def test_eks_cluster_version_drift(moto: MotoServer, tmp_path: Path) -> None:
    """An upgrade done outside Terraform: state and rendered spec both say 1.31, AWS says otherwise."""
    _, state = _estate(moto, tmp_path)
    doc = json.loads(state.read_text())
    for r in doc["resources"]:
        if r["type"] == "aws_eks_cluster":
            r["instances"][0]["attributes"]["version"] = "1.30"
    state.write_text(json.dumps(doc))
    code, out = _diff(moto, state)
    assert code == 1
    assert ("adoption-would-change", "spec.version") in {(f["class"], f["path"]) for f in _findings(out)
                                                         if f["address"] == "aws_eks_cluster.main"}
    assert CLUSTER


def test_log_groups_are_read_50_names_per_call(moto: MotoServer, tmp_path: Path) -> None:
    """CloudWatch log groups are batched through logGroupIdentifiers (50 per call, the API limit): 60 groups in
    state, 2 calls (not 60); one deleted out of band is reported deleted, a retention changed out of band is found."""
    from tests import statefactory as sf

    logs = moto.client("logs")
    names = [f"/aws/eks/c{i:02d}/cluster" for i in range(60)]
    for n in names[:-1]:  # the last one is "deleted out of band"
        logs.create_log_group(logGroupName=n)
        logs.put_retention_policy(logGroupName=n, retentionInDays=30)
    logs.put_retention_policy(logGroupName=names[0], retentionInDays=7)  # changed out of band
    arn = "arn:aws:logs:eu-west-1:123456789012:log-group:{}"
    state = tmp_path / "terraform.tfstate"
    state.write_text(sf.state(*(sf.resource("aws_cloudwatch_log_group", f"g{i}", {
        "id": n, "arn": arn.format(n), "name": n, "retention_in_days": 30, "kms_key_id": "", "skip_destroy": False,
        "log_group_class": "STANDARD", "tags": {}, "tags_all": {}}) for i, n in enumerate(names))))
    _, doc = _diff(moto, state)
    # 2 chunks of <= 50 names; moto ignores logGroupIdentifiers and pages through every group (2 pages per chunk),
    # real AWS answers a chunk in one page. Per-id reads (the former logGroupNamePrefix calls) would take 60.
    assert doc["api_calls"]["logs:DescribeLogGroups"] <= 4
    deleted = {f["address"] for f in _findings(doc, "deleted")}
    assert deleted == {"aws_cloudwatch_log_group.g59"}
    changed = {(f["address"], f["path"]) for f in _findings(doc) if f["class"] in ("adoption-would-change", "drift")}
    assert ("aws_cloudwatch_log_group.g0", "spec.retentionDays") in changed
    assert {a for a, _ in changed} == {"aws_cloudwatch_log_group.g0"}
