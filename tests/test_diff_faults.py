"""Faults for `tf2kro diff` against a real moto server: the read-only guard, injected throttling (retried),
AccessDenied through moto's IAM enforcement and a missing API (→ `unknown`, exit code unaffected)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from converter.diff.aws import AwsClients, ReadOnlyViolation
from converter.diff.run import run_diff
from converter.pipeline import load_estate
from tests.estate_builder import CLUSTER, build
from tests.stubbed_aws import RawBody

if TYPE_CHECKING:
    from tests.moto_server import MotoServer

pytest_plugins = ["tests.moto_server"]
pytestmark = pytest.mark.moto

EC2_THROTTLE = (b'<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>RequestLimitExceeded</Code>'
                b"<Message>Request limit exceeded.</Message></Error></Errors><RequestID>t</RequestID></Response>")


def _counted(report) -> dict[str, int]:
    c = report.counts()
    return {k: c[k] for k in ("adoption-would-change", "drift", "deleted", "unmanaged")}


def _estate_file(moto: MotoServer, tmp_path: Path):
    est = build(moto.client)
    path = tmp_path / "terraform.tfstate"
    path.write_text(est.state_json())
    return est, path


def test_read_only_guard_refuses_writes_before_sending(moto: MotoServer) -> None:
    plain = moto.client("ec2")
    vpcs_before = len(plain.describe_vpcs()["Vpcs"])
    moto.client("iam").create_role(RoleName="keep-me", AssumeRolePolicyDocument="{}")
    clients = AwsClients(region="eu-west-1", endpoint_url=moto.url)
    with pytest.raises(ReadOnlyViolation, match="CreateVpc"):
        clients.client("ec2").create_vpc(CidrBlock="10.1.0.0/16")
    with pytest.raises(ReadOnlyViolation, match="DeleteRole"):
        clients.client("iam").delete_role(RoleName="keep-me")
    with pytest.raises(ReadOnlyViolation):
        clients.client("s3").put_bucket_versioning(Bucket="x", VersioningConfiguration={"Status": "Enabled"})
    assert clients.total_attempts == 0 and clients.total_calls == 0  # nothing was sent
    assert len(plain.describe_vpcs()["Vpcs"]) == vpcs_before
    assert moto.client("iam").get_role(RoleName="keep-me")["Role"]["RoleName"] == "keep-me"
    # reads go through
    clients.client("ec2").describe_vpcs()
    assert clients.total_calls == 1


def test_throttling_is_retried(moto: MotoServer, tmp_path: Path) -> None:
    from botocore.awsrequest import AWSResponse

    _, path = _estate_file(moto, tmp_path)
    injected = {"ec2": 0, "eks": 0}

    def throttle(request: Any, event_name: str = "", **kw: Any):
        if event_name == "before-send.ec2.DescribeSubnets" and injected["ec2"] < 2:
            injected["ec2"] += 1
            return AWSResponse(request.url, 503, {}, RawBody(EC2_THROTTLE))
        if event_name == "before-send.eks.DescribeCluster" and injected["eks"] < 2:
            injected["eks"] += 1
            return AWSResponse(request.url, 429, {"x-amzn-ErrorType": "ThrottlingException"},
                               RawBody(b'{"message": "Rate exceeded"}'))
        return None

    clients = AwsClients(region="eu-west-1", endpoint_url=moto.url, max_attempts=5,
                         extra_handlers=[("before-send", throttle)])
    report = run_diff(load_estate(path, region="eu-west-1"), clients=clients)
    assert injected == {"ec2": 2, "eks": 2}
    assert _counted(report) == dict.fromkeys(_counted(report), 0)
    assert all(t["status"] == "ok" for t in report.types.values()), report.types
    assert clients.calls[("ec2", "DescribeSubnets")] == 1 and clients.attempts[("ec2", "DescribeSubnets")] == 3
    assert clients.attempts[("eks", "DescribeCluster")] == 3
    assert report.exit_code == 0


def test_throttling_beyond_retries_makes_the_type_unknown(moto: MotoServer, tmp_path: Path) -> None:
    from botocore.awsrequest import AWSResponse

    _, path = _estate_file(moto, tmp_path)

    def always(request: Any, event_name: str = "", **kw: Any):
        if event_name == "before-send.ec2.DescribeSubnets":
            return AWSResponse(request.url, 503, {}, RawBody(EC2_THROTTLE))
        return None

    clients = AwsClients(region="eu-west-1", endpoint_url=moto.url, max_attempts=2, extra_handlers=[("before-send", always)])
    report = run_diff(load_estate(path, region="eu-west-1"), clients=clients)
    assert report.types["aws_subnet"]["status"] == "unknown"
    assert "RequestLimitExceeded" in report.types["aws_subnet"]["reason"]
    assert {r.status for r in report.resources if r.tf_type == "aws_subnet"} == {"unknown"}
    assert report.exit_code == 0  # unknown is never drift


def test_access_denied_makes_the_type_unknown(moto: MotoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, path = _estate_file(moto, tmp_path)
    iam = moto.client("iam")
    iam.create_user(UserName="auditor")
    iam.put_user_policy(UserName="auditor", PolicyName="no-iam", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["ec2:*", "eks:*", "kms:*", "s3:*", "sts:*"],
                                                "Resource": "*"}]}))
    key = iam.create_access_key(UserName="auditor")["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    moto.set_auth(0)  # enforce IAM from the next request on
    clients = AwsClients(region="eu-west-1", endpoint_url=moto.url, max_attempts=2)
    report = run_diff(load_estate(path, region="eu-west-1"), clients=clients)
    moto.set_auth(None)
    for t in ("aws_iam_role", "aws_iam_openid_connect_provider"):
        assert report.types[t]["status"] == "unknown", report.types[t]
        assert report.types[t]["reason"].startswith("denied"), report.types[t]
    assert {r.status for r in report.resources if r.tf_type == "aws_iam_role"} == {"unknown"}
    # the other services are still read (moto's EKS denies even with eks:* allowed: its enforcement has no EKS
    # action map, so EKS may be `unknown` here too — that is moto's gap, the point is the scan went on)
    assert all(report.types[t]["status"] == "ok" for t in ("aws_vpc", "aws_subnet", "aws_security_group", "aws_kms_key"))
    assert _counted(report) == dict.fromkeys(_counted(report), 0)
    assert report.exit_code == 0


def test_missing_api_makes_the_type_unknown(moto: MotoServer, tmp_path: Path) -> None:
    """moto has no EKS addons API (HTTP 404): the addon is `unknown`, the rest is checked, exit 0."""
    est, path = _estate_file(moto, tmp_path)
    from tests.statefactory import resource

    est.add("aws_eks_addon", "vpc_cni", {"id": f"{CLUSTER}:vpc-cni", "cluster_name": CLUSTER, "addon_name": "vpc-cni",
                                         "addon_version": "v1.19.0-eksbuild.1", "arn": "", "tags": {}, "tags_all": {}})
    assert resource  # statefactory is what Estate.add uses
    path.write_text(est.state_json())
    report = run_diff(load_estate(path, region="eu-west-1"), clients=AwsClients(region="eu-west-1", endpoint_url=moto.url))
    assert report.types["aws_eks_addon"]["status"] == "unknown", report.types["aws_eks_addon"]
    addon = next(r for r in report.resources if r.address == "aws_eks_addon.vpc_cni")
    assert addon.status == "unknown"
    assert report.exit_code == 0
