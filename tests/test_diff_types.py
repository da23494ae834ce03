"""`describe:` blocks of the less common mapped types against a real moto server: each resource is created with
boto3, the state Terraform (hashicorp/aws 5.x) would hold for it is written, the fresh diff is clean (no
adoption-would-change, drift, deleted or unknown), and an out-of-band change made with boto3 is found on the right
field with the right class.

Types moto does not implement (EKS access entries, pod identity associations, identity provider configs) are in
test_diff_eks_stubbed.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner

from converter.cli import main
from tests.statefactory import resource, state

if TYPE_CHECKING:
    from tests.moto_server import MotoServer

pytest_plugins = ["tests.moto_server"]
pytestmark = pytest.mark.moto

REGION = "eu-west-1"
ACCOUNT = "123456789012"
COUNTED = ("adoption-would-change", "drift", "deleted", "unmanaged", "unknown")
TAGS = {"Project": "tf2kro-test"}  # provider default_tags


def _tf_tags(own: dict[str, str] | None = None) -> dict[str, Any]:
    return {"tags": dict(own or {}), "tags_all": {**TAGS, **(own or {})}}


def _aws_tags(own: dict[str, str] | None = None) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in {**TAGS, **(own or {})}.items()]


def _diff(moto: MotoServer, tmp_path: Path, resources: list[dict[str, Any]], *extra: str) -> dict[str, Any]:
    path = tmp_path / "terraform.tfstate"
    path.write_text(state(*resources))
    res = CliRunner().invoke(main, ["diff", "--state", str(path), "--region", REGION, "--endpoint-url", moto.url,
                                    "--format", "json", *extra])
    assert res.exit_code in (0, 1), res.output + str(res.exception)
    doc = json.loads(res.stdout)
    assert doc["exit_code"] == res.exit_code
    return doc


def _findings(doc: dict[str, Any], *classes: str) -> list[dict[str, Any]]:
    return [f for r in doc["resources"] for f in r["findings"] if not classes or f["class"] in classes]


def _found(doc: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(f["class"], f["address"], f["path"]) for f in _findings(doc)}


def _assert_clean(doc: dict[str, Any], addresses: set[str], unverified: set[tuple[str, str]] = frozenset()) -> None:
    """Every address was checked, nothing counted, and only the expected fields are unverified."""
    assert not doc["not_checked"], doc["not_checked"]
    assert addresses <= {r["address"] for r in doc["resources"]}
    assert _findings(doc, *COUNTED) == []
    assert {(f["address"], f["path"]) for f in _findings(doc, "unverified")} <= set(unverified), _findings(doc, "unverified")
    assert doc["exit_code"] == 0
    assert all(t["status"] == "ok" for t in doc["types"].values()), doc["types"]


def _has(doc: dict[str, Any], cls: str, address: str, path_prefix: str = "") -> bool:
    return any(c == cls and a == address and p.startswith(path_prefix) for c, a, p in _found(doc))


def _only(doc: dict[str, Any], expected: set[tuple[str, str, str]]) -> None:
    """The counted findings are exactly `expected` ((class, address, path prefix))."""
    got = {(f["class"], f["address"], f["path"]) for f in _findings(doc, *COUNTED)}
    for cls, addr, prefix in expected:
        assert any(c == cls and a == addr and p.startswith(prefix) for c, a, p in got), (cls, addr, prefix, got)
    for c, a, p in got:
        assert any(c == cls and a == addr and p.startswith(prefix) for cls, addr, prefix in expected), (c, a, p)


# ---------------------------------------------------------------------------------------------- builders
def _network(moto: MotoServer, cidr: str = "10.0.0.0/16") -> tuple[str, list[str]]:
    ec2 = moto.client("ec2")
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    base = cidr.split(".")
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"{base[0]}.{base[1]}.{i}.0/24",
                                 AvailabilityZone=f"{REGION}{az}")["Subnet"]["SubnetId"] for i, az in ((1, "a"), (2, "b"))]
    return vpc, subnets


def _role(moto: MotoServer, name: str, service: str = "eks-fargate-pods.amazonaws.com") -> str:
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": service},
                                                      "Action": "sts:AssumeRole"}]}
    return moto.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


# ---------------------------------------------------------------------------------------------- EKS Fargate
def _fargate_state(cluster: str, name: str, prof: dict[str, Any]) -> dict[str, Any]:
    return resource("aws_eks_fargate_profile", f"{cluster}_{name}", {
        "id": f"{cluster}:{name}", "arn": prof["fargateProfileArn"], "cluster_name": cluster, "fargate_profile_name": name,
        "pod_execution_role_arn": prof["podExecutionRoleArn"], "subnet_ids": sorted(prof["subnets"]),
        "selector": [{"namespace": s["namespace"], "labels": s.get("labels") or {}} for s in prof["selectors"]],
        "status": prof["status"], "timeouts": None, **_tf_tags({"Name": name})})


def test_eks_fargate_profile_same_name_in_two_clusters(moto: MotoServer, tmp_path: Path) -> None:
    """Profiles are read per cluster: `default` in two clusters are two resources (state id `cluster:name`)."""
    eks = moto.client("eks")
    _, subnets = _network(moto)
    cluster_role = _role(moto, "cluster", "eks.amazonaws.com")
    pod_role = _role(moto, "fargate-pods")
    resources = []
    for cluster, ns in (("blue", "apps"), ("green", "batch")):
        eks.create_cluster(name=cluster, roleArn=cluster_role, resourcesVpcConfig={"subnetIds": subnets})
        prof = eks.create_fargate_profile(clusterName=cluster, fargateProfileName="default", podExecutionRoleArn=pod_role,
                                          subnets=subnets, selectors=[{"namespace": ns, "labels": {"tier": "web"}},
                                                                      {"namespace": "kube-system"}],
                                          tags={**TAGS, "Name": "default"})["fargateProfile"]
        resources.append(_fargate_state(cluster, "default", prof))
    doc = _diff(moto, tmp_path, resources)
    _assert_clean(doc, {"aws_eks_fargate_profile.blue_default", "aws_eks_fargate_profile.green_default"})
    assert doc["api_calls"]["eks:DescribeFargateProfile"] == 2

    # out of band (profiles are immutable): blue's is recreated with another role and an extra tag, green's deleted
    eks.delete_fargate_profile(clusterName="blue", fargateProfileName="default")
    eks.create_fargate_profile(clusterName="blue", fargateProfileName="default", podExecutionRoleArn=_role(moto, "other"),
                               subnets=subnets, selectors=[{"namespace": "apps", "labels": {"tier": "web"}},
                                                           {"namespace": "kube-system"}],
                               tags={**TAGS, "Name": "default", "CostCenter": "42"})
    eks.delete_fargate_profile(clusterName="green", fargateProfileName="default")
    doc = _diff(moto, tmp_path, resources)
    _only(doc, {("adoption-would-change", "aws_eks_fargate_profile.blue_default", "spec.tags.CostCenter"),
                ("drift", "aws_eks_fargate_profile.blue_default", "tags_all.CostCenter"),
                ("adoption-would-change", "aws_eks_fargate_profile.blue_default", "spec.podExecutionRoleARN"),
                ("drift", "aws_eks_fargate_profile.blue_default", "pod_execution_role_arn"),
                ("deleted", "aws_eks_fargate_profile.green_default", "")})


def test_eks_fargate_profile_selector_difference(moto: MotoServer, tmp_path: Path) -> None:
    """A selector the state does not have (profiles are immutable: the state is older than the profile)."""
    eks = moto.client("eks")
    _, subnets = _network(moto)
    eks.create_cluster(name="blue", roleArn=_role(moto, "cluster", "eks.amazonaws.com"), resourcesVpcConfig={"subnetIds": subnets})
    prof = eks.create_fargate_profile(clusterName="blue", fargateProfileName="apps", podExecutionRoleArn=_role(moto, "pods"),
                                      subnets=subnets[:1], selectors=[{"namespace": "apps"}, {"namespace": "jobs"}],
                                      tags={**TAGS, "Name": "apps"})["fargateProfile"]
    st = _fargate_state("blue", "apps", prof)
    st["instances"][0]["attributes"]["selector"] = [{"namespace": "apps", "labels": {}}]
    doc = _diff(moto, tmp_path, [st])
    _only(doc, {("adoption-would-change", "aws_eks_fargate_profile.blue_apps", "spec.selectors"),
                ("drift", "aws_eks_fargate_profile.blue_apps", "selector")})
